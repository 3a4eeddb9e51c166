"""The API resolver: routes, error mapping, body guards and the generated OpenAPI document."""

from __future__ import annotations

import json
from itertools import chain
from typing import Any

from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response
from aws_lambda_powertools.event_handler.middlewares import NextMiddleware

from oms_amazon.api.errors import NOT_JSON, register_error_handlers, sends_non_json_body
from oms_amazon.api.fairness import LIMITED_METHODS, limit_writes_per_client
from oms_amazon.api.routes import (
    accounts,
    appstore,
    authorisation,
    authorisation_links,
    console,
    marketplaces,
    orders,
    products,
    shipments,
    shipping,
    sku_aliases,
    stock_sync,
)
from oms_amazon.domain.errors import InvalidInput, PayloadTooLarge, UnsupportedMediaType

API_TITLE = "Amazon channel connector API"
API_VERSION = "1.0.0"
MAX_BODY_BYTES = 1_048_576
MAX_JSON_DEPTH = 32
_CONTAINERS = frozenset({dict, list})  # what json.loads (with the hook below) builds


def parse_json_body(text: str) -> Any:
    """Deserialise a body: one over the size limit is refused unread, one nested deeper than
    MAX_JSON_DEPTH once parsed (no scan before the parse). (Powertools calls this before any route
    sees the body.)"""
    if len(text) > MAX_BODY_BYTES:
        raise PayloadTooLarge(f"The request body exceeds {MAX_BODY_BYTES} bytes.")
    try:
        body = json.loads(text, object_pairs_hook=_object_without_repeated_keys, parse_constant=_no_constant)
    except RecursionError as error:
        # The parser's own guard: nesting thousands of levels deep stops it before the stack would.
        raise _too_deep() from error
    except ValueError as error:
        raise InvalidInput("The request body is not valid JSON.", code="invalid_json") from error
    if nested_deeper_than(body, MAX_JSON_DEPTH):
        raise _too_deep()
    # Every body of this API is an object. (Powertools would otherwise validate an array's first element.)
    if not isinstance(body, dict):
        raise InvalidInput("The request body must be a JSON object.", code="validation_error")
    return body


def _too_deep() -> InvalidInput:
    return InvalidInput(f"The JSON body is nested more than {MAX_JSON_DEPTH} levels deep.", code="invalid_json")


def nested_deeper_than(value: Any, limit: int) -> bool:
    """Whether a parsed JSON value nests arrays and objects more than `limit` deep (DynamoDB refuses
    documents deeper than 32). Level by level, at most `limit` of them and without recursion; each value
    is looked at once, by its exact type (json.loads builds only dicts and lists)."""
    level = [value] if type(value) in _CONTAINERS else []
    for _ in range(limit):
        objects = [c for c in level if type(c) is dict]
        arrays = [c for c in level if type(c) is list]
        members = chain(chain.from_iterable(map(dict.values, objects)), chain.from_iterable(arrays))
        level = [m for m in members if type(m) in _CONTAINERS]
        if not level:
            return False
    return bool(level)


def _object_without_repeated_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    # Parsers disagree on which of two equal keys wins (a proxy may check the first, Python keeps the last),
    # so a body that names a field twice is refused rather than guessed at.
    body = dict(pairs)
    if len(body) != len(pairs):
        raise InvalidInput("The JSON body names a field more than once.", code="invalid_json")
    return body


def _no_constant(name: str) -> Any:
    raise InvalidInput(f"The JSON body holds {name}, which is not JSON.", code="invalid_json")


def refuse_bodies_no_route_may_read(app: APIGatewayRestResolver, next_middleware: NextMiddleware) -> Response[Any]:
    """Every route, body parameter or not: API Gateway passes up to 10 MiB of anything, so a body over the
    limit or not sent as JSON is refused before the route acts (a DELETE with 5 MiB attached is no DELETE)."""
    event = app.current_event
    if len(event.body or "") > MAX_BODY_BYTES:
        raise PayloadTooLarge(f"The request body exceeds {MAX_BODY_BYTES} bytes.")
    if sends_non_json_body(event.headers, event.body):
        raise UnsupportedMediaType(NOT_JSON)
    return next_middleware(app)


def build_app() -> APIGatewayRestResolver:
    app = APIGatewayRestResolver(enable_validation=True, json_body_deserializer=parse_json_body)
    register_error_handlers(app)
    # In this order, after the request's validation: a request refused for its body costs the client nothing.
    app.use([refuse_bodies_no_route_may_read, limit_writes_per_client])
    app.include_router(marketplaces.router)
    app.include_router(accounts.router)
    app.include_router(authorisation.router)
    app.include_router(authorisation_links.router)
    app.include_router(appstore.router)
    app.include_router(console.router)
    app.include_router(products.router)
    app.include_router(shipping.router)
    app.include_router(sku_aliases.router)
    app.include_router(stock_sync.router)
    app.include_router(orders.router)
    app.include_router(shipments.router)

    @app.get("/openapi.json", include_in_schema=False)
    def openapi_document() -> Response[str]:
        return Response(status_code=200, content_type="application/json", body=openapi_json(app))

    return app


RATE_LIMITED: dict[str, Any] = {
    "description": "rate_limited: this client's writes are over its limit; nothing was done. Retry after the "
    "seconds in Retry-After.",
    "headers": {
        "Retry-After": {"description": "Seconds to wait before retrying", "schema": {"type": "integer", "minimum": 1}}
    },
    "content": {"application/json": {"schema": {"$ref": "#/components/schemas/ErrorResponse"}}},
}


def openapi_json(app: APIGatewayRestResolver) -> str:
    document = json.loads(
        app.get_openapi_json_schema(
            title=API_TITLE,
            version=API_VERSION,
            description="Connect a 3PL's clients' Amazon seller accounts, sync stock, import orders and map shipping "
            "terms. Identity comes from the Cognito authorizer (`custom:client_id`; the `admins` group may pass "
            '`?client_id=`). Errors are `{"error": {code, message, details}}`. Every POST, PUT, PATCH and DELETE '
            "draws on the client's write allowance (a token bucket per client; a batch costs one token per 100 "
            "items): over it, 429 `rate_limited` with `Retry-After`.",
        )
    )
    # The write limit is one middleware for every route (api.fairness), so its answer is declared here, once.
    for operations in document.get("paths", {}).values():
        for method, operation in operations.items():
            if method.upper() in LIMITED_METHODS:
                operation.setdefault("responses", {})["429"] = RATE_LIMITED
    return json.dumps(document, separators=(",", ":"))
