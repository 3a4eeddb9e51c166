"""The control API of SPEC §8.1 (and its documented extras): set up Amazon's side, read it back."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

import httpx
import pytest

from local.simulator.roles import ALL_ROLES
from tests.contract.conftest import REFRESH_TOKEN, SELLER_ID, UK, Amazon, v0_order

pytestmark = pytest.mark.integration

REPO = Path(__file__).resolve().parents[2]


def test_reset_empties_everything(seller: Amazon) -> None:
    seller.put_listings("UK", [{"sku": "SKU-A", "product_type": "SHIRT", "quantity": 1}])
    seller.control("POST", "/_sim/reset")
    assert seller.calls()["counts"] == {}
    assert seller.control("GET", "/_sim/sellers")["sellers"] == []
    assert seller.lwa(grant_type="refresh_token", refresh_token=REFRESH_TOKEN).status_code == 400


def test_a_seller_is_registered_with_its_marketplaces(amazon: Amazon) -> None:
    body = amazon.add_seller(marketplaces=("UK", "A1PA6795UKMFR9"))
    assert body == {
        "seller_id": SELLER_ID,
        "marketplaces": ["UK", "DE"],
        "marketplace_ids": [UK, "A1PA6795UKMFR9"],
        "store_name": f"Store {SELLER_ID}",
        "revoked": False,
        "roles": sorted(ALL_ROLES),
    }
    assert amazon.control("GET", f"/_sim/sellers/{SELLER_ID}")["marketplaces"] == ["UK", "DE"]


@pytest.mark.parametrize(
    ("body", "fragment"),
    [
        ({"seller_id": "lower", "refresh_token": REFRESH_TOKEN, "marketplaces": ["UK"]}, "seller_id"),
        ({"seller_id": SELLER_ID, "refresh_token": "amzn.mws.1234", "marketplaces": ["UK"]}, "refresh_token"),
        ({"seller_id": SELLER_ID, "refresh_token": REFRESH_TOKEN, "marketplaces": []}, "marketplaces"),
        ({"seller_id": SELLER_ID, "refresh_token": REFRESH_TOKEN, "marketplaces": ["XX"]}, "unknown marketplace"),
        ({"seller_id": SELLER_ID, "refresh_token": REFRESH_TOKEN}, "marketplaces"),
        ([], "JSON object"),
    ],
)
def test_a_malformed_seller_is_refused(amazon: Amazon, body: Any, fragment: str) -> None:
    assert fragment in amazon.control("POST", "/_sim/sellers", body, expect=400)["error"]["message"]


def test_a_seller_gets_every_role_unless_told_which(amazon: Amazon) -> None:
    assert amazon.add_seller()["roles"] == sorted(ALL_ROLES)
    body = amazon.add_seller(roles=["PRODUCT_LISTING", "DIRECT_TO_CONSUMER_DELIVERY"], expect=200)
    assert body["roles"] == ["DIRECT_TO_CONSUMER_DELIVERY", "PRODUCT_LISTING"]
    assert amazon.add_seller(roles=[], expect=200)["roles"] == []
    assert amazon.control("GET", f"/_sim/sellers/{SELLER_ID}")["roles"] == []


@pytest.mark.parametrize(
    ("roles", "fragment"),
    [(["DIRECT_TO_CONSUMER_SHIPPING"], "unknown role"), ("PRODUCT_LISTING", "list of role names"), ([1], "list")],
)
def test_unknown_roles_are_refused_naming_the_known_ones(amazon: Amazon, roles: Any, fragment: str) -> None:
    body = {"seller_id": SELLER_ID, "refresh_token": REFRESH_TOKEN, "marketplaces": ["UK"], "roles": roles}
    message = amazon.control("POST", "/_sim/sellers", body, expect=400)["error"]["message"]
    assert fragment in message
    assert "DIRECT_TO_CONSUMER_DELIVERY" in message


def test_a_refresh_token_cannot_belong_to_two_sellers(amazon: Amazon) -> None:
    amazon.add_seller()
    body = {"seller_id": "A2OTHERSELLER9", "refresh_token": REFRESH_TOKEN, "marketplaces": ["UK"]}
    assert "already belongs" in amazon.control("POST", "/_sim/sellers", body, expect=400)["error"]["message"]


def test_a_body_that_is_not_json_is_refused(amazon: Amazon) -> None:
    response = amazon.client.post("/_sim/sellers", content=b"{nope", headers={"Content-Type": "application/json"})
    assert response.status_code == 400
    assert "not valid JSON" in response.json()["error"]["message"]


def test_listings_are_put_per_marketplace_and_read_back_with_amazons_quantity(seller: Amazon) -> None:
    seller.put_listings(
        "UK",
        [
            {"sku": "SKU-A", "product_type": "SHIRT", "quantity": 4},
            {"sku": "sku-a", "product_type": "SHIRT", "quantity": 2},
        ],
    )
    items = seller.control("GET", f"/_sim/sellers/{SELLER_ID}/listings", params={"marketplace": "UK"})["items"]
    assert [(i["sku"], i["quantity"], i["product_type"]) for i in items] == [
        ("SKU-A", 4, "SHIRT"),
        ("sku-a", 2, "SHIRT"),
    ]
    seller.put_listings("UK", [{"sku": "NEW", "product_type": "SHIRT", "quantity": 1}])
    assert seller.listings("UK") == {"NEW": 1}, "PUT replaces the marketplace's listings"
    seller.control(
        "PUT",
        f"/_sim/sellers/{SELLER_ID}/listings",
        {"marketplace": "UK", "items": [{"sku": "MORE", "quantity": 1}], "replace": False},
    )
    assert seller.listings("UK") == {"NEW": 1, "MORE": 1}


def test_listing_items_take_a_fulfilment_channel_a_handling_time_and_a_restock_date(seller: Amazon) -> None:
    seller.put_listings(
        "UK",
        [
            {"sku": "MFN-1", "quantity": 4, "lead_time_to_ship_max_days": 5, "restock_date": "2026-03-01"},
            {"sku": "FBA-1", "fulfillment_channel": "AMAZON_EU", "quantity": 30},
            {"sku": "MFN-2", "quantity": 1},
        ],
    )
    items = seller.control("GET", f"/_sim/sellers/{SELLER_ID}/listings", params={"marketplace": "UK"})["items"]
    shown = [
        (i["sku"], i["fulfillment_channel"], i["quantity"], i["lead_time_to_ship_max_days"], i["restock_date"])
        for i in items
    ]
    assert shown == [
        ("MFN-1", "DEFAULT", 4, 5, "2026-03-01"),
        ("FBA-1", "AMAZON_EU", 30, None, None),
        ("MFN-2", "DEFAULT", 1, None, None),
    ]
    assert items[0]["fulfillment_availability"] == [
        {
            "fulfillment_channel_code": "DEFAULT",
            "quantity": 4,
            "lead_time_to_ship_max_days": 5,
            "restock_date": "2026-03-01",
        }
    ]


@pytest.mark.parametrize(
    ("body", "fragment"),
    [
        ({"marketplace": "FR", "items": []}, "does not participate"),
        ({"marketplace": "UK", "items": [{"sku": "A", "fulfillment_channel": "FBA"}]}, "fulfillment_channel"),
        ({"marketplace": "UK", "items": [{"sku": "A", "lead_time_to_ship_max_days": -1}]}, "lead_time"),
        ({"marketplace": "UK", "items": [{"sku": "A", "lead_time_to_ship_max_days": "2"}]}, "lead_time"),
        ({"marketplace": "UK", "items": [{"sku": "A", "restock_date": "March"}]}, "restock_date"),
        (
            {
                "marketplace": "UK",
                "items": [{"sku": "A", "fulfillment_channel": "AMAZON_EU", "restock_date": "2026-03-01"}],
            },
            "merchant-fulfilled",
        ),
        ({"marketplace": "UK", "items": [{"sku": "", "quantity": 1}]}, "sku"),
        ({"marketplace": "UK", "items": [{"sku": " padded ", "quantity": 1}]}, "sku"),
        ({"marketplace": "UK", "items": [{"sku": "X" * 41, "quantity": 1}]}, "40 characters"),
        ({"marketplace": "UK", "items": [{"sku": "A", "quantity": -1}]}, "quantity"),
        ({"marketplace": "UK", "items": [{"sku": "A", "quantity": "5"}]}, "quantity"),
        ({"marketplace": "UK", "items": [{"sku": "A", "quantity": 1}, {"sku": "A", "quantity": 2}]}, "twice"),
        ({"marketplace": "UK", "items": ["A"]}, "object"),
        ({"marketplace": "UK"}, "items"),
    ],
)
def test_malformed_listings_are_refused(seller: Amazon, body: dict[str, Any], fragment: str) -> None:
    message = seller.control("PUT", f"/_sim/sellers/{SELLER_ID}/listings", body, expect=400)["error"]["message"]
    assert fragment in message


def test_an_unknown_seller_is_not_found(amazon: Amazon) -> None:
    amazon.control("GET", "/_sim/sellers/A9NOBODY00000/listings", expect=404)
    amazon.control("POST", "/_sim/sellers/A9NOBODY00000/orders", {"orders": [v0_order()]}, expect=404)


def test_orders_are_upserted_and_read_back_with_defaults_amazon_always_sends(seller: Amazon) -> None:
    minimal = {
        "AmazonOrderId": "202-0000001-0000001",
        "MarketplaceId": "UK",
        "OrderItems": [{"SellerSKU": "SKU-A", "QuantityOrdered": 1, "ItemPrice": "5.00"}],
    }
    assert seller.add_orders(minimal) == {"upserted": 1, "order_ids": ["202-0000001-0000001"]}
    order = seller.order("202-0000001-0000001")
    assert (order["OrderStatus"], order["FulfillmentChannel"], order["SalesChannel"]) == (
        "Unshipped",
        "MFN",
        "Amazon.co.uk",
    )
    assert order["ShipmentServiceLevelCategory"] == "Standard"
    assert order["ShippingAddress"] == {"CountryCode": "GB"}
    assert order["OrderItems"][0]["OrderItemId"]
    assert order["OrderItems"][0]["ItemPrice"] == {"CurrencyCode": "GBP", "Amount": "5.00"}
    assert order["Shipments"] == []
    purchased = order["PurchaseDate"]
    seller.add_orders({**minimal, "OrderStatus": "Canceled"})
    updated = seller.order("202-0000001-0000001")
    assert (updated["OrderStatus"], updated["PurchaseDate"]) == ("Canceled", purchased), (
        "an upsert keeps the purchase date it does not give"
    )
    assert len(seller.control("GET", f"/_sim/sellers/{SELLER_ID}/orders")["orders"]) == 1


@pytest.mark.parametrize(
    ("change", "fragment"),
    [
        ({"AmazonOrderId": "ORDER-1"}, "3-7-7"),
        ({"MarketplaceId": "FR"}, "does not participate"),
        ({"OrderStatus": "Lost"}, "OrderStatus"),
        ({"FulfillmentChannel": "FBA"}, "FulfillmentChannel"),
        ({"ShipmentServiceLevelCategory": "Fast"}, "ShipmentServiceLevelCategory"),
        ({"PurchaseDate": "yesterday"}, "ISO 8601"),
        ({"LastUpdateDate": "2025-01-01T00:00:00Z"}, "before PurchaseDate"),
        ({"IsPrime": "yes"}, "IsPrime"),
        ({"ShippingAddress": {"CountryCode": "UK"}}, "GB, not UK"),
        ({"OrderItems": []}, "OrderItems"),
        (
            {
                "OrderItems": [
                    {"SellerSKU": "A", "QuantityOrdered": 1, "ItemPrice": {"CurrencyCode": "EUR", "Amount": "1"}}
                ]
            },
            "currency",
        ),
        ({"OrderItems": [{"QuantityOrdered": 1}]}, "SellerSKU"),
        ({"OrderItems": [{"SellerSKU": "A", "QuantityOrdered": 1, "QuantityShipped": 2}]}, "QuantityShipped"),
        (
            {"OrderItems": [{"OrderItemId": "1", "SellerSKU": "A"}, {"OrderItemId": "1", "SellerSKU": "B"}]},
            "unique",
        ),
        ({"ShippingAddress": {"CountryCode": "GB", "Street": "1 High St"}}, "ShippingAddress has no field Street"),
        ({"ShippingAddress": {"CountryCode": "GB", "Name": 7}}, "ShippingAddress.Name must be a string"),
        ({"ShippingAddress": {"CountryCode": "GB", "AddressType": "Home"}}, "Residential, Commercial"),
        ({"ShippingAddress": "1 High Street"}, "ShippingAddress must be an object"),
        ({"BuyerInfo": {"BuyerEmail": "nobody"}}, "BuyerEmail must be an email address"),
        ({"BuyerInfo": {"GiftMessageText": "hi"}}, "BuyerInfo has no field GiftMessageText"),
        ({"DeliveryPreferences": {"Instructions": "x"}}, "DeliveryPreferences has no field Instructions"),
        ({"OrderTotal": {"CurrencyCode": "EUR", "Amount": "1.00"}}, "OrderTotal.CurrencyCode"),
        ({"IsReplacementOrder": True}, "needs ReplacedOrderId"),
        ({"IsReplacementOrder": True, "ReplacedOrderId": "202-0000001-0000001"}, "needs ReplacedOrderId"),
        ({"ReplacedOrderId": "202-0000000-0000009"}, "only for a replacement"),
        ({"IsISPU": "yes"}, "IsISPU must be true or false"),
        ({"EasyShipShipmentStatus": "Teleported"}, "'Teleported' is not one of"),
        ({"EasyShipShipmentStatus": "PickedUp", "FulfillmentChannel": "AFN"}, "merchant-fulfilled"),
        ({"OrderItems": [{"SellerSKU": "A", "ConditionId": "Mint"}]}, "ConditionId must be one of"),
        ({"OrderItems": [{"SellerSKU": "A", "BuyerInfo": {"GiftMessageText": "hi"}}]}, "needs IsGift true"),
        ({"OrderItems": [{"SellerSKU": "A", "IsGift": True, "BuyerInfo": {"Gift": "hi"}}]}, "has no field Gift"),
        ({"OrderItems": [{"SellerSKU": "A", "ItemTax": "-1"}]}, "ItemTax must be a non-negative amount"),
        ({"OrderItems": [{"SellerSKU": "A", "PromotionIds": "P1"}]}, "PromotionIds must be a list"),
    ],
)
def test_malformed_orders_are_refused_and_none_is_stored(seller: Amazon, change: dict[str, Any], fragment: str) -> None:
    body = {"orders": [v0_order("202-0000009-0000009"), v0_order(**change)]}
    message = seller.control("POST", f"/_sim/sellers/{SELLER_ID}/orders", body, expect=400)["error"]["message"]
    assert fragment in message
    assert seller.control("GET", f"/_sim/sellers/{SELLER_ID}/orders")["orders"] == []


def test_an_unknown_order_is_not_found(seller: Amazon) -> None:
    seller.control("GET", f"/_sim/sellers/{SELLER_ID}/orders/202-9999999-9999999", expect=404)


def test_config_can_be_read_and_changed_and_refuses_unknown_fields(amazon: Amazon) -> None:
    assert amazon.control("GET", "/_sim/config")["access_token_ttl_seconds"] == 3600
    assert amazon.config(feed_polls_before_done=3)["feed_polls_before_done"] == 3
    assert "unknown config field" in amazon.control("POST", "/_sim/config", {"nope": 1}, expect=400)["error"]["message"]
    amazon.control("POST", "/_sim/config", {"feed_polls_before_done": -1}, expect=400)
    assert amazon.control("GET", "/_sim/config")["report_polls_in_queue"] == 1
    assert amazon.config(report_polls_in_queue=3)["report_polls_in_queue"] == 3
    amazon.control("POST", "/_sim/config", {"feed_polls_in_queue": 1.5}, expect=400)
    amazon.control("POST", "/_sim/config", {"report_compression": "ZIP"}, expect=400)


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"enforce": "yes"},
        {"enforce": True, "speedup": 0},
        {"enforce": True, "overrides": {"nope": {"rate": 1, "burst": 1}}},
    ],
)
def test_malformed_rate_limit_settings_are_refused(amazon: Amazon, body: dict[str, Any]) -> None:
    amazon.control("POST", "/_sim/rate-limits", body, expect=400)


def test_the_call_log_names_operations_by_operation_id_and_can_be_cleared(seller: Amazon) -> None:
    seller.add_orders(v0_order())
    seller.sp("ordersV0", "getOrder", "GET", "/orders/v0/orders/202-0000001-0000001", expect=200)
    seller.sp("orders_2026-01-01", "getOrder", "GET", "/orders/2026-01-01/orders/202-0000001-0000001", expect=200)
    calls = seller.calls()
    assert calls["counts"]["getOrder"] == 2
    assert calls["counts_by_api"]["ordersV0"]["getOrder"] == 1
    assert calls["counts_by_api"]["orders_2026-01-01"]["getOrder"] == 1
    assert {"operation": "getOrder", "status": 200}.items() <= calls["calls"][-1].items()
    assert calls["simulated_seconds"] >= 0
    cleared = seller.control("DELETE", "/_sim/calls")
    assert (cleared["counts"], cleared["calls"]) == ({}, [])


def test_an_unknown_route_is_a_404_with_an_amazon_error_body(amazon: Amazon) -> None:
    response = amazon.client.get("/orders/v9/everything")
    assert response.status_code == 404
    assert response.json()["errors"][0]["code"] == "NotFound"
    assert response.headers["x-amzn-RequestId"]


def test_concurrent_calls_from_many_threads_are_all_answered_and_counted(seller: Amazon) -> None:
    seller.put_listings("UK", [{"sku": f"SKU-{n}", "product_type": "SHIRT", "quantity": 0} for n in range(40)])
    url, token = seller.server.url, seller.access_token
    failures: list[str] = []

    def worker(n: int) -> None:
        body = {
            "productType": "PRODUCT",
            "patches": [
                {
                    "op": "replace",
                    "path": "/attributes/fulfillment_availability",
                    "value": [{"fulfillment_channel_code": "DEFAULT", "quantity": n}],
                }
            ],
        }
        with httpx.Client(base_url=url, timeout=10) as client:
            response = client.patch(
                f"/listings/2021-08-01/items/{SELLER_ID}/SKU-{n}",
                params={"marketplaceIds": UK},
                json=body,
                headers={"x-amz-access-token": token or ""},
            )
            if response.status_code != 200 or response.json()["status"] != "ACCEPTED":
                failures.append(response.text)

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(40)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert failures == []
    assert seller.listings("UK") == {f"SKU-{n}": n for n in range(40)}
    assert seller.calls()["counts"]["patchListingsItem"] == 40


def test_the_cli_serves_the_simulator_until_interrupted() -> None:
    process = subprocess.Popen(
        [sys.executable, "-m", "local.simulator", "--port", "0"],
        cwd=REPO,
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONPATH": str(REPO)},
    )
    try:
        assert process.stdout is not None
        line = process.stdout.readline()
        assert "listening on http://127.0.0.1:" in line
        url = line.strip().rsplit(" ", 1)[-1]
        assert httpx.get(f"{url}/_sim/health", timeout=5).json() == {"ok": True}
    finally:
        process.send_signal(signal.SIGINT)
        assert process.wait(timeout=10) == 0
