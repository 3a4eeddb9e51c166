"""The API's one place for fairness: every request that may write (POST, PUT, PATCH, DELETE — the manual
actions too: run now, listings refresh, order import, verify, authorisation links…) is charged to the client it
acts for before its route runs, and refused with 429 `rate_limited` and `Retry-After` when that client's bucket
is spent (services.write_limits). Reads are not charged. One client's bucket is its own item, so a client's flood
refuses that client's requests and no other's.

What a request costs: one token; a batch one per 100 items begun (a batch of 1,000 products or aliases costs 10),
as its items cost about a single write each. A request refused before its route (its identity, its shape, its
body) is not charged; the route's own refusals (404, 409…) are, as they cost the table a read or more.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response
from aws_lambda_powertools.event_handler.middlewares import NextMiddleware

from oms_amazon.api.identity import acting_client
from oms_amazon.domain.errors import DomainError
from oms_amazon.wiring import container

LIMITED_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
BATCH_ITEMS_PER_TOKEN = 100
# The batch routes and the body field that holds their items.
BATCHES = {"/products/batch": "products", "/sku-aliases/batch": "aliases"}


def request_cost(path: str, body: Callable[[], Any]) -> int:
    """Tokens a request takes: one, or one per `BATCH_ITEMS_PER_TOKEN` items of a batch (whose body has passed
    the route's validation by now; `body` is only read for a batch route)."""
    field = BATCHES.get(path.rstrip("/"))
    if field is None:
        return 1
    try:
        parsed = body()
    except DomainError:
        return 1
    items = parsed.get(field) if isinstance(parsed, dict) else None
    if not isinstance(items, list) or not items:
        return 1
    return math.ceil(len(items) / BATCH_ITEMS_PER_TOKEN)


def limit_writes_per_client(app: APIGatewayRestResolver, next_middleware: NextMiddleware) -> Response[Any]:
    event = app.current_event
    if event.http_method.upper() not in LIMITED_METHODS:
        return next_middleware(app)
    try:
        client_id = acting_client(event.raw_event)
    except DomainError:
        # No client to charge (no identity, a non-admin naming another client…): the route refuses it itself.
        return next_middleware(app)
    container().write_limiter.charge(
        client_id, request_cost(event.path, lambda: event.json_body if event.body else None)
    )
    return next_middleware(app)
