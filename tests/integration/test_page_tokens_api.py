"""Every list's `next_token` through the API function (SPEC §7): opaque and signed, good for the list that
issued it, for the same client and the same filters. Anything else is 400 `invalid_next_token` in the API's
error shape, never a 5xx and never another page of data.

DynamoDB here is as strict as AWS about start keys: moto accepts an `ExclusiveStartKey` with attributes the
query does not key on, DynamoDB refuses it (`ValidationException`, a 500 from the API). `strict_start_keys`
refuses it as DynamoDB does, so a key the connector did not return itself cannot slip through on moto's
leniency."""

from __future__ import annotations

import base64
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.conftest import ApiCaller
from tests.integration.test_shipments_api import lines, shipment, store_order

pytestmark = pytest.mark.integration

CLIENT, OTHER = "acme-outdoor", "bluebird-gifts"
ORDER_IDS = ("202-0000000-0000001", "202-0000000-0000002")


@pytest.fixture
def strict_start_keys(aws: None) -> Iterator[list[dict[str, Any]]]:
    """The adapters' DynamoDB client refuses a Query whose start key is not exactly the table's (and the
    index's) key attributes, as DynamoDB does; yields every start key that reached a query."""
    from oms_amazon import wiring

    client = wiring.container().client("dynamodb")
    schemas: dict[tuple[str, str | None], set[str]] = {}
    seen: list[dict[str, Any]] = []

    def key_of(table: str, index: str | None) -> set[str]:
        if (table, index) not in schemas:
            described = client.describe_table(TableName=table)["Table"]
            names = {k["AttributeName"] for k in described["KeySchema"]}
            for gsi in described.get("GlobalSecondaryIndexes", []):
                schemas[(table, gsi["IndexName"])] = names | {k["AttributeName"] for k in gsi["KeySchema"]}
            schemas[(table, None)] = names
        return schemas[(table, index)]

    def check(params: dict[str, Any], **_: Any) -> None:
        start = params.get("ExclusiveStartKey")
        if start is None:
            return
        seen.append(start)
        if set(start) != key_of(params["TableName"], params.get("IndexName")):
            raise ClientError(
                {"Error": {"Code": "ValidationException", "Message": "The provided starting key is invalid"}}, "Query"
            )

    client.meta.events.register("provide-client-params.dynamodb.Query", check)
    yield seen
    client.meta.events.unregister("provide-client-params.dynamodb.Query", check)


@dataclass
class ListCase:
    """A list route with two items of client A's in it; `filters` shape the list, `other_filters` another one."""

    name: str
    path: str
    seed: Callable[[ApiCaller], dict[str, str]]
    filters: dict[str, str] = field(default_factory=dict)
    other_filters: dict[str, str] | None = None
    path_of_another: str | None = None


def _ok(result: tuple[int, Any]) -> Any:
    status, body = result
    assert status in (200, 201, 202), body
    return body


def _account(api: ApiCaller, merchant_id: str = "A2SELLERUK01", client_id: str = CLIENT) -> str:
    body = _ok(api("POST", "/accounts", {"merchant_id": merchant_id, "marketplace": "UK"}, client_id=client_id))
    return str(body["id"])


def _accounts(api: ApiCaller) -> dict[str, str]:
    _account(api, "A2SELLERUK01")
    _account(api, "A2SELLERUK02")
    return {}


def _products(api: ApiCaller) -> dict[str, str]:
    for sku in ("TENT-2P", "MAT-BLUE"):
        _ok(api("PUT", f"/products/{sku}", {"quantity_available": 3}))
    return {}


def _mappings(api: ApiCaller) -> dict[str, str]:
    for term in ("STD UK DOM", "EXP UK DOM"):
        _ok(api("POST", "/courier-mappings", {"amazon_term": term, "courier_service": "Royal Mail 48"}))
    return {}


def _unmapped(api: ApiCaller) -> dict[str, str]:
    from oms_amazon import wiring

    terms = wiring.container().unmapped_terms
    for n, term in enumerate(("FREE SHIPPING", "SAVER")):
        terms.record_unmapped(CLIENT, "UK", term, ORDER_IDS[n], datetime.now(UTC))
    return {}


def _orders(api: ApiCaller) -> dict[str, str]:
    account = {"id": _account(api)}
    for order_id in ORDER_IDS:
        store_order(account, order_id)
    return {"account_id": account["id"]}


def _runs(api: ApiCaller) -> dict[str, str]:
    from oms_amazon import wiring
    from oms_amazon.domain.stock_sync import StockRun

    account_id = _account(api)
    queued = datetime.now(UTC) - timedelta(hours=1)
    for n in range(2):
        wiring.container().stock_store.save_run(
            StockRun(f"run-{n}", CLIENT, account_id, "done", "manual", queued + timedelta(minutes=n))
        )
    return {"account_id": account_id}


def _shipments(api: ApiCaller) -> dict[str, str]:
    account = {"id": _account(api)}
    for order_id in ORDER_IDS:
        store_order(account, order_id)
    for n in (1, 2):
        _ok(
            api(
                "POST",
                f"/orders/{ORDER_IDS[0]}/shipments",
                shipment(lines=lines(("00000000000001", 1)), tracking_number=f"JD{n}"),
            )
        )
    return {"order_id": ORDER_IDS[0]}


def _aliases(api: ApiCaller) -> dict[str, str]:
    _products(api)
    account_id = _account(api)
    for amazon_sku in ("tent-2p", "TENT-2P-UK"):
        _ok(api("PUT", f"/sku-aliases/{amazon_sku}", {"oms_sku": "TENT-2P", "account_id": account_id}))
    return {"account_id": account_id}


CASES = [
    ListCase("accounts", "/accounts", _accounts, {"marketplace": "UK"}, {"marketplace": "DE"}),
    ListCase("products", "/products", _products),
    ListCase("courier-mappings", "/courier-mappings", _mappings, {"marketplace": "UK"}, {"marketplace": "DE"}),
    ListCase("unmapped terms", "/courier-mappings/unmapped", _unmapped, {"marketplace": "UK"}, {}),
    ListCase("orders", "/orders", _orders, {"status": "ready"}, {"status": "on_hold"}),
    ListCase("stock-sync runs", "/accounts/{account_id}/stock-sync-runs", _runs),
    ListCase(
        "shipments", "/orders/{order_id}/shipments", _shipments, path_of_another=f"/orders/{ORDER_IDS[1]}/shipments"
    ),
    ListCase("SKU aliases", "/sku-aliases", _aliases, {"account_id": "{account_id}"}, {}),
]


def _invalid(result: tuple[int, Any]) -> None:
    status, body = result
    assert status == 400, body
    assert set(body) == {"error"} and set(body["error"]) == {"code", "message", "details"}, body
    assert body["error"]["code"] == "invalid_next_token", body


def _cursor(token: str) -> dict[str, Any]:
    _, cursor, _ = token.split(".")
    decoded: dict[str, Any] = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
    return decoded


def _encoded(key: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(key).encode()).decode().rstrip("=")


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_a_lists_next_token_is_good_for_that_list_client_and_filters_only(
    api: ApiCaller, strict_start_keys: list[dict[str, Any]], case: ListCase
) -> None:
    from oms_amazon import wiring
    from oms_amazon.domain.page_tokens import seal

    ids = case.seed(api)
    path = case.path.format(**ids)
    filters = {name: value.format(**ids) for name, value in case.filters.items()}

    def page(token: str | None = None, *, query: dict[str, str] | None = None, **kwargs: Any) -> tuple[int, Any]:
        asked = {**(filters if query is None else query), "limit": "1"}
        return api("GET", kwargs.pop("at", path), query={**asked, **({"next_token": token} if token else {})}, **kwargs)

    first = _ok(page())
    token = first["next_token"]
    assert len(first["items"]) == 1 and token and token.startswith("n1.")

    # The token reads the next page, and the list ends
    second = _ok(page(token))
    assert len(second["items"]) == 1 and second["items"] != first["items"]
    if second["next_token"]:
        assert _ok(page(second["next_token"])) == {"items": [], "next_token": None}

    # A tampered token: any character of it changed, or cut short, or another version
    for forged in (
        token[:-1] + ("A" if token[-1] != "A" else "B"),
        token[:12] + "x" + token[13:],
        token[:-2],
        "v" + token[1:],
    ):
        _invalid(page(forged))
    # What the list used to hand out (the bare cursor), and a cursor moved to another client, unsigned
    cursor = _cursor(token)
    _invalid(page(_encoded(cursor)))
    _invalid(page(_encoded({**cursor, "PK": f"CLIENT#{OTHER}"})))

    # Another client replaying it: refused (404 where the path names A's resource first), never A's data
    status, body = page(token, client_id=OTHER)
    assert status in (400, 404), body
    assert "items" not in body
    if status == 400:
        _invalid((status, body))

    # Another list's token, or this list's with other filters
    other_list = "/accounts" if case.name != "accounts" else "/products"
    _invalid(api("GET", other_list, query={"next_token": token}))
    if case.other_filters is not None:
        _invalid(page(token, query=case.other_filters))
    if case.path_of_another:
        _invalid(page(token, at=case.path_of_another))

    # Signed with the real key but carrying a key attribute DynamoDB does not expect: stopped before DynamoDB
    def signed(key: dict[str, Any]) -> str:
        bound = _bound(case, ids)
        return str(
            seal(
                _encoded(key),
                key=wiring.container().page_token_key,
                list_name=token_list(case),
                client_id=CLIENT,
                filters=bound,
            )
        )

    assert _ok(page(signed(cursor)))["items"] == second["items"]  # the test signs as the route does
    reached = len(strict_start_keys)
    _invalid(page(signed({**cursor, "extra": "x"})))
    _invalid(page(signed({**cursor, "PK": f"CLIENT#{OTHER}"})))
    assert len(strict_start_keys) == reached, "a start key the connector did not return reached DynamoDB"


def token_list(case: ListCase) -> str:
    return {
        "accounts": "accounts",
        "products": "products",
        "courier-mappings": "courier-mappings",
        "unmapped terms": "courier-mappings/unmapped",
        "orders": "orders",
        "stock-sync runs": "stock-sync-runs",
        "shipments": "shipments",
        "SKU aliases": "sku-aliases",
    }[case.name]


def _bound(case: ListCase, ids: dict[str, str]) -> dict[str, Any]:
    """The filters the route binds a token to (path parameters included), as the route normalises them."""
    bound: dict[str, Any] = {name: value.format(**ids) for name, value in case.filters.items()}
    if "{account_id}" in case.path:
        bound["account_id"] = ids["account_id"]
    if "{order_id}" in case.path:
        bound["order_id"] = ids["order_id"]
    return bound
