"""SKU aliases (SPEC §7 `/sku-aliases`) through the API function with moto: an Amazon SKU linked to an
OMS SKU, client-wide or per account, checked before anything is written; a new link judges the orders
held on that Amazon SKU again at once (§6.5)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from oms_amazon.domain.orders import OrderPii, ShipTo
from oms_amazon.order_checks import evaluate
from oms_amazon.shipping import CourierMapping
from oms_amazon.sku import SkuIndex

from tests.builders import amazon_order
from tests.conftest import ApiCaller, all_items

pytestmark = pytest.mark.integration

CLIENT = "acme-outdoor"
OTHER = "bluebird-gifts"


@pytest.fixture
def catalogue(api: ApiCaller) -> None:
    status, body = api(
        "POST",
        "/products/batch",
        {"products": [{"sku": "TENT-2P", "quantity_available": 4}, {"sku": "KIT/2", "quantity_available": 1}]},
    )
    assert status == 200, body


def account(api: ApiCaller, client_id: str = CLIENT) -> str:
    status, body = api("POST", "/accounts", {"merchant_id": "A2SELLERUK01", "marketplace": "UK"}, client_id=client_id)
    assert status == 201, body
    return str(body["id"])


def aliases_in_table(dynamodb: Any, table_name: str) -> list[dict[str, Any]]:
    return [item for item in all_items(dynamodb, table_name) if item["SK"]["S"].startswith("SKUALIAS#")]


def test_an_alias_is_created_read_replaced_listed_and_deleted_with_its_exact_case(api, catalogue):
    status, created = api("PUT", "/sku-aliases/tent-2p", {"oms_sku": "TENT-2P"})
    assert status == 201, created
    assert (created["amazon_sku"], created["oms_sku"], created["account_id"], created["version"]) == (
        "tent-2p",
        "TENT-2P",
        None,
        1,
    )

    assert api("GET", "/sku-aliases/tent-2p")[1]["oms_sku"] == "TENT-2P"
    assert api("GET", "/sku-aliases/TENT-2P")[0] == 404, "an alias matches its Amazon SKU exactly"

    status, replaced = api("PUT", "/sku-aliases/tent-2p", {"oms_sku": "KIT/2"})
    assert (status, replaced["oms_sku"], replaced["version"]) == (200, "KIT/2", 2)
    assert api("PUT", "/sku-aliases/tent-2p", {"oms_sku": "KIT/2"})[1]["version"] == 2, "no change, no write"

    assert [a["amazon_sku"] for a in api("GET", "/sku-aliases")[1]["items"]] == ["tent-2p"]
    assert api("DELETE", "/sku-aliases/tent-2p")[0] == 204
    assert api("GET", "/sku-aliases/tent-2p")[0] == 404
    assert api("DELETE", "/sku-aliases/tent-2p")[0] == 404


def test_an_amazon_sku_with_reserved_characters_is_taken_exactly_from_the_path(api, catalogue):
    status, created = api("PUT", "/sku-aliases/OLD/KIT 2", {"oms_sku": "KIT/2"})

    assert status == 201, created
    assert created["amazon_sku"] == "OLD/KIT 2"
    assert api("GET", "/sku-aliases/OLD/KIT 2")[1]["oms_sku"] == "KIT/2"


def test_a_client_wide_alias_and_an_accounts_own_live_side_by_side(api, catalogue):
    uk = account(api)

    assert api("PUT", "/sku-aliases/tent-2p", {"oms_sku": "TENT-2P"})[0] == 201
    assert api("PUT", "/sku-aliases/tent-2p", {"oms_sku": "KIT/2", "account_id": uk})[0] == 201

    assert api("GET", "/sku-aliases/tent-2p")[1]["oms_sku"] == "TENT-2P"
    assert api("GET", "/sku-aliases/tent-2p", query={"account_id": uk})[1]["oms_sku"] == "KIT/2"
    assert len(api("GET", "/sku-aliases")[1]["items"]) == 2
    only_uk = api("GET", "/sku-aliases", query={"account_id": uk})[1]["items"]
    assert [(a["amazon_sku"], a["account_id"]) for a in only_uk] == [("tent-2p", uk)]


@pytest.mark.parametrize(
    ("path", "body", "code"),
    [
        ("/sku-aliases/tent-2p", {"oms_sku": "NO-SUCH"}, "unknown_oms_sku"),
        ("/sku-aliases/" + "A" * 41, {"oms_sku": "TENT-2P"}, "invalid_sku"),
        ("/sku-aliases/tent-2p", {"oms_sku": "TENT-2P", "extra": 1}, None),
        ("/sku-aliases/tent-2p", {"oms_sku": 7}, None),
        ("/sku-aliases/tent%0A2p", {"oms_sku": "TENT-2P"}, None),
    ],
)
def test_a_bad_alias_is_refused_and_nothing_is_written(api, catalogue, dynamodb, table_name, path, body, code):
    path = path.replace("%0A", "\n")
    status, error = api("PUT", path, body)

    assert status == 400, error
    if code is not None:
        assert error["error"]["code"] == code
    assert aliases_in_table(dynamodb, table_name) == []


def test_another_clients_account_or_product_is_not_found_and_changes_nothing(api, catalogue, dynamodb, table_name):
    theirs = account(api, OTHER)

    status, error = api("PUT", "/sku-aliases/tent-2p", {"oms_sku": "TENT-2P", "account_id": theirs})
    assert (status, error["error"]["code"]) == (404, "account_not_found")
    status, error = api("PUT", "/sku-aliases/tent-2p", {"oms_sku": "TENT-2P"}, client_id=OTHER)
    assert (status, error["error"]["code"]) == (400, "unknown_oms_sku")
    assert aliases_in_table(dynamodb, table_name) == []


def test_a_batch_is_all_or_nothing(api, catalogue, dynamodb, table_name):
    good = {"amazon_sku": "tent-2p", "oms_sku": "TENT-2P"}

    status, error = api("POST", "/sku-aliases/batch", {"aliases": [good, {"amazon_sku": "x", "oms_sku": "NO-SUCH"}]})
    assert (status, error["error"]["code"]) == (400, "unknown_oms_sku")
    status, error = api("POST", "/sku-aliases/batch", {"aliases": [good, good]})
    assert (status, error["error"]["code"]) == (400, "duplicate_alias")
    assert api("POST", "/sku-aliases/batch", {"aliases": [good] * 1001})[0] == 400
    assert aliases_in_table(dynamodb, table_name) == []

    status, body = api("POST", "/sku-aliases/batch", {"aliases": [good, {"amazon_sku": "old-kit", "oms_sku": "KIT/2"}]})
    assert status == 200, body
    assert sorted(a["amazon_sku"] for a in body["aliases"]) == ["old-kit", "tent-2p"]
    assert len(aliases_in_table(dynamodb, table_name)) == 2


def test_a_new_alias_releases_the_orders_held_on_its_amazon_sku_at_once(api, catalogue):
    from oms_amazon import wiring

    account_id = account(api)
    mapping = {"amazon_term": "STD UK DOM_1", "courier_service": "Royal Mail 48", "marketplace": "UK"}
    assert api("POST", "/courier-mappings", mapping)[0] == 201
    uk = wiring.container().accounts.get(CLIENT, account_id)
    assert uk is not None
    now = datetime.now(UTC)
    amazon = amazon_order(
        "202-0000000-0000009",
        "tent-2p",
        at=now,
        last_update_date=now - timedelta(minutes=5),
        pii=OrderPii(ship_to=ShipTo(name="A Buyer", address_line_1="1 High St", city="Leeds", country_code="GB")),
    )
    held = evaluate(amazon, uk, SkuIndex(["TENT-2P"]), [CourierMapping("m", "STD UK DOM_1", "Royal Mail 48")], now=now)
    assert held.status == "on_hold"
    assert wiring.container().order_writer.write(held, None)[0]

    assert api("PUT", "/sku-aliases/tent-2p", {"oms_sku": "TENT-2P"})[0] == 201

    status, order = api("GET", "/orders/202-0000000-0000009")
    assert status == 200, order
    assert (order["status"], order["hold_reasons"]) == ("ready", [])
    assert (order["lines"][0]["seller_sku"], order["lines"][0]["oms_sku"]) == ("tent-2p", "TENT-2P")
    assert order["courier_service"] == "Royal Mail 48"
