"""Tenant isolation over every route of the OpenAPI document (SPEC §3): another client asking for
client A's resources gets 404 (never 403, never A's data) and changes nothing; list routes give the
other client its own view, even with A's account id or A's page token; a non-admin cannot act for A
with `?client_id=` (403 `admin_only`); an admin can, and sees exactly what A sees.

The routes come from the document the API generates, so a new route fails here until it has a case."""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal

import httpx
import pytest

from local.stack import LocalStack
from tests.security.conftest import is_write_bucket, reset, table_items
from tests.security.world import World, build_world

pytestmark = [pytest.mark.e2e, pytest.mark.security]

CLIENT_A = "acme-outdoor"
CLIENT_B = "bluebird-gifts"
SELLER_A = "A2TENANTSELLER1"
TOKEN_A = "Atzr|IwEBI-tenancy-seller-refresh-token-0001"

Kind = Literal["not_found", "own_view", "own_resource", "refused", "public"]


@dataclass(frozen=True)
class Case:
    """What client B must get when it aims this route at client A's world."""

    kind: Kind
    body: Callable[[World], dict[str, Any]] | None = None


def _shipment(_: World) -> dict[str, Any]:
    return {
        "carrier_code": "Royal Mail",
        "shipping_method": "Tracked 48",
        "tracking_number": "RM123456785GB",
        "ship_date": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
    }


NOT_FOUND = Case("not_found")
OWN_VIEW = Case("own_view")
CASES: dict[str, Case] = {
    "GET /marketplaces": OWN_VIEW,
    "GET /accounts": OWN_VIEW,
    # B may connect the same seller; it gets an account of its own that A's authorisation does not reach.
    "POST /accounts": Case("own_resource", lambda a: {"merchant_id": a.seller_id, "marketplace": "UK"}),
    "GET /accounts/{account_id}": NOT_FOUND,
    "PATCH /accounts/{account_id}": Case("not_found", lambda a: {"name": "taken over", "active": False}),
    "DELETE /accounts/{account_id}": NOT_FOUND,
    "GET /accounts/{account_id}/authorise": NOT_FOUND,
    "POST /accounts/{account_id}/verify": NOT_FOUND,
    "GET /oauth/callback": Case("public"),
    "POST /accounts/{account_id}/authorisation-links": NOT_FOUND,
    # The e-mailed link and the Appstore log-in URI carry no identity: a made-up link or no Amazon parameters is 400.
    "GET /oauth/authorise": Case("public"),
    "GET /oauth/login": Case("public"),
    # B completing an Appstore log-in with A's connection for A's seller: A's account is not B's to pick.
    "POST /oauth/login": Case(
        "not_found",
        lambda a: {
            "amazon_callback_uri": f"{os.environ['SELLER_CENTRAL_URL']}/apps/authorize/confirm/amzn1.sp.solution.local",
            "amazon_state": "amazon-state-of-a-tenancy-test",
            "selling_partner_id": a.seller_id,
            "version": "beta",
            "account_id": a.account_id,
        },
    ),
    "POST /accounts/{account_id}/stock-sync": NOT_FOUND,
    "GET /accounts/{account_id}/stock-sync-runs": NOT_FOUND,
    "GET /accounts/{account_id}/stock-sync-runs/{run_id}": NOT_FOUND,
    "GET /accounts/{account_id}/stock-sync-runs/{run_id}/errors": NOT_FOUND,
    "POST /accounts/{account_id}/listings/refresh": NOT_FOUND,
    "GET /accounts/{account_id}/sku-report": NOT_FOUND,
    "POST /accounts/{account_id}/order-import": NOT_FOUND,
    "POST /accounts/{account_id}/orders/{order_id}/import": NOT_FOUND,
    "GET /products": OWN_VIEW,
    "GET /products/{sku}": NOT_FOUND,
    # SKUs are per client: B's PUT of A's SKU creates B's own product and leaves A's alone.
    "PUT /products/{sku}": Case("own_resource", lambda a: {"quantity_available": 99}),
    "DELETE /products/{sku}": NOT_FOUND,
    # (A's second SKU: B's PUT above gave B a product of its own under A's first SKU.)
    "POST /products/batch": Case(
        "refused", lambda a: {"products": [{"sku": "B-KIT", "components": [{"sku": a.second_sku, "quantity": 1}]}]}
    ),
    "GET /shipping-terms": NOT_FOUND,
    "POST /shipping-terms/resolve": Case(
        "not_found", lambda a: {"marketplace": "UK", "ship_service_level": "Std UK Dom_1", "account_id": a.account_id}
    ),
    "GET /courier-mappings": OWN_VIEW,
    "POST /courier-mappings": Case(
        "not_found", lambda a: {"amazon_term": "EXP UK INT", "courier_service": "Hijack", "account_id": a.account_id}
    ),
    "GET /courier-mappings/unmapped": OWN_VIEW,
    "GET /courier-mappings/{mapping_id}": NOT_FOUND,
    "PUT /courier-mappings/{mapping_id}": Case(
        "not_found", lambda a: {"amazon_term": "STD UK DOM", "courier_service": "Hijack"}
    ),
    "DELETE /courier-mappings/{mapping_id}": NOT_FOUND,
    # B has no product of A's second SKU and no account of A's: nothing to link.
    "PUT /sku-aliases/{amazon_sku}": Case("refused", lambda a: {"oms_sku": a.second_sku, "account_id": a.account_id}),
    "GET /sku-aliases/{amazon_sku}": NOT_FOUND,
    "DELETE /sku-aliases/{amazon_sku}": NOT_FOUND,
    "GET /sku-aliases": OWN_VIEW,
    "POST /sku-aliases/batch": Case(
        "refused", lambda a: {"aliases": [{"amazon_sku": "B-OLD", "oms_sku": a.second_sku}]}
    ),
    "GET /orders": OWN_VIEW,
    "GET /orders/{order_id}": NOT_FOUND,
    "POST /orders/{order_id}/reevaluate": NOT_FOUND,
    "POST /orders/{order_id}/release": Case("not_found", lambda a: {"reason": "released by another client"}),
    "GET /orders/{order_id}/shipments": NOT_FOUND,
    "POST /orders/{order_id}/shipments": Case("not_found", _shipment),
}


def _document() -> dict[str, Any]:
    from oms_amazon.api.app import build_app, openapi_json

    document: dict[str, Any] = json.loads(openapi_json(build_app()))
    return document


DOCUMENT = _document()
REPLAYED_TOKENS: set[str] = set()
OPERATIONS = [
    f"{method.upper()} {path}" for path, operations in DOCUMENT["paths"].items() for method in sorted(operations)
]


def test_the_document_lists_the_routes_the_api_serves(stack: LocalStack) -> None:
    served = httpx.get(f"{stack.api_url}/openapi.json", timeout=30).json()
    assert served["paths"] == DOCUMENT["paths"]
    assert len(OPERATIONS) >= 31


@pytest.fixture(scope="module")
def world_a(stack: LocalStack) -> Iterator[World]:
    reset(stack)
    with (
        httpx.Client(base_url=stack.api_url, timeout=60) as api,
        httpx.Client(base_url=stack.simulator_url, timeout=30) as simulator,
    ):
        yield build_world(stack, api, simulator, client_id=CLIENT_A, seller_id=SELLER_A, refresh_token=TOKEN_A)


def _parameters(operation: str) -> list[dict[str, Any]]:
    method, path = operation.split(" ", 1)
    parameters: list[dict[str, Any]] = DOCUMENT["paths"][path][method.lower()].get("parameters", [])
    return parameters


def _path_of(operation: str, world: World) -> str:
    path = operation.split(" ", 1)[1]
    values = {
        "account_id": world.account_id,
        "sku": world.sku,
        "mapping_id": world.mapping.get("id", ""),
        "order_id": world.order_id,
        "run_id": world.run_id,
        "amazon_sku": world.alias_sku,
        "shipment_id": (world.shipment or {}).get("id", ""),
    }
    for parameter in _parameters(operation):
        if parameter["in"] == "path":
            assert values.get(parameter["name"]), f"no resource of client A for path parameter {parameter['name']}"
            path = path.replace("{" + parameter["name"] + "}", values[parameter["name"]])
    return path


def _query_of(operation: str, world: World) -> dict[str, str]:
    query = {}
    for parameter in _parameters(operation):
        if parameter["in"] != "query":
            continue
        if parameter["name"] == "account_id":
            query["account_id"] = world.account_id
        elif parameter["name"] == "marketplace" and parameter.get("required"):
            query["marketplace"] = "UK"
    if operation == "GET /oauth/callback":
        # A state B made up for A's account: no identity is asked for, the state must be the proof.
        query = {
            "state": f"{world.account_id}.forged",
            "spapi_oauth_code": "ANdNforged",
            "selling_partner_id": SELLER_A,
        }
    if operation == "GET /oauth/authorise":
        query = {"link": f"l1.{world.account_id}.forged"}  # a link B made up for A's account
    return query


def _next_token_of_a(api: httpx.Client, operation: str, path: str, query: dict[str, str], world: World) -> str | None:
    """A's own next-page token of a list route, for B to replay."""
    if not operation.startswith("GET ") or "next_token" not in {p["name"] for p in _parameters(operation)}:
        return None
    response = api.get(path, params={**query, "limit": "1"}, headers=world.headers)
    token = response.json().get("next_token") if response.status_code == 200 else None
    return str(token) if token else None


def _items_of(client_id: str, items: list[dict[str, Any]]) -> list[str]:
    return sorted(json.dumps(i, sort_keys=True, default=repr) for i in items if i["PK"]["S"] == f"CLIENT#{client_id}")


def _no_data_of(world: World, response: httpx.Response) -> None:
    """No id of A's data in the response, other than the ones B itself put in its request."""
    sent = str(response.request.url) + response.request.content.decode()
    leaked = [i for i in world.identifiers() if i in response.text and i not in sent]
    assert not leaked, f"client B saw client A's {leaked}: {response.text[:500]}"


def _error_shape(response: httpx.Response) -> dict[str, Any]:
    body = response.json()
    assert set(body) == {"error"} and {"code", "message", "details"} <= set(body["error"]), body
    error: dict[str, Any] = body["error"]
    return error


@pytest.mark.parametrize("operation", OPERATIONS)
def test_another_client_never_reaches_client_as_resources_and_only_an_admin_may_act_for_a(
    stack: LocalStack, api: httpx.Client, world_a: World, operation: str
) -> None:
    assert operation in CASES, f"{operation} is in the OpenAPI document but has no tenancy case here"
    case = CASES[operation]
    method = operation.split(" ", 1)[0]
    path, query = _path_of(operation, world_a), _query_of(operation, world_a)
    body = case.body(world_a) if case.body else None
    b_query = dict(query)
    token = _next_token_of_a(api, operation, path, query, world_a)
    if token:
        b_query["next_token"] = token
        REPLAYED_TOKENS.add(operation)
    before = table_items(stack)

    # Given client A's world, when client B aims the route at it
    as_b = api.request(method, path, params=b_query, json=body, headers={"X-Client-Id": CLIENT_B})
    assert stack.runner.wait_idle(60)
    after = table_items(stack)

    # Then B never sees A's data and A's items are untouched
    _no_data_of(world_a, as_b)
    assert _items_of(CLIENT_A, after) == _items_of(CLIENT_A, before), f"{operation} by B changed client A's data"
    if case.kind == "not_found" and token and as_b.status_code == 400:
        # A's page token is signed for A: refused before any lookup, which names nothing of A's either.
        assert _error_shape(as_b)["code"] == "invalid_next_token", as_b.text
    elif case.kind == "not_found":
        assert as_b.status_code == 404, as_b.text
        _error_shape(as_b)
    elif case.kind == "own_view":
        assert as_b.status_code in (200, 400, 404), as_b.text
        if as_b.status_code != 200:
            _error_shape(as_b)
    elif case.kind == "own_resource":
        assert as_b.status_code == 201, f"B must get a new resource of its own, not A's: {as_b.text}"
        assert as_b.json().get("client_id", CLIENT_B) == CLIENT_B
        if operation == "POST /accounts":
            assert as_b.json()["authorisation"]["status"] == "authorisation_required", "A's token reached B"
    elif case.kind == "refused":
        assert 400 <= as_b.status_code < 500, as_b.text
        _error_shape(as_b)
    else:
        assert as_b.status_code == 400, as_b.text
    if case.kind != "own_resource":
        # B's write requests draw on B's own write bucket, and on nothing else.
        unless_bs_bucket = [[str(i) for i in items if not is_write_bucket(i, CLIENT_B)] for items in (before, after)]
        assert sorted(unless_bs_bucket[1]) == sorted(unless_bs_bucket[0]), f"{operation} by B wrote something"

    if case.kind == "public":
        return  # no identity on these routes: `?client_id` means nothing to them

    # When B tries to act for A with ?client_id, then it is refused before anything happens
    as_b_for_a = api.request(
        method, path, params={**query, "client_id": CLIENT_A}, json=body, headers={"X-Client-Id": CLIENT_B}
    )
    assert as_b_for_a.status_code == 403, as_b_for_a.text
    assert _error_shape(as_b_for_a)["code"] == "admin_only"
    _no_data_of(world_a, as_b_for_a)
    assert sorted(map(str, table_items(stack))) == sorted(map(str, after))

    # And an admin acting for A with ?client_id sees exactly what A sees
    if method == "GET":
        own = api.get(path, params=query, headers=world_a.headers)
        as_admin = api.get(path, params={**query, "client_id": CLIENT_A}, headers={"X-Admin": "true"})
        assert as_admin.status_code == own.status_code, as_admin.text
        if operation == "GET /accounts/{account_id}/authorise":
            assert set(as_admin.json()) == set(own.json())  # a fresh signed state each time
        else:
            assert as_admin.json() == own.json()


def test_client_as_page_tokens_were_replayed_by_b_on_the_list_routes() -> None:
    """Client A has two of everything listable, so each list above had a next page for B to try."""
    assert {"GET /accounts", "GET /products", "GET /courier-mappings", "GET /orders"} <= REPLAYED_TOKENS
