"""Orders v0: getOrders, getOrder, getOrderItems and confirmShipment, answered as Amazon does."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from tests.contract.conftest import DE, FR, UK, Amazon, v0_order

pytestmark = pytest.mark.integration

V0 = "ordersV0"
ORDER_ID = "202-0000001-0000001"


def get_orders(amazon: Amazon, expect: int = 200, **params: Any) -> dict[str, Any]:
    params.setdefault("MarketplaceIds", UK)
    return amazon.sp(V0, "getOrders", "GET", "/orders/v0/orders", expect=expect, params=params).json()


def confirm(amazon: Amazon, order_id: str = ORDER_ID, *, expect: int = 204, **detail: Any) -> dict[str, Any] | None:
    package = {
        "packageReferenceId": "1",
        "carrierCode": "Royal Mail",
        "shippingMethod": "Tracked 48",
        "trackingNumber": "RM123456789GB",
        "shipDate": "2025-03-02T10:00:00Z",
        "orderItems": [{"orderItemId": "10000000000001", "quantity": 2}],
    }
    package.update(detail)
    body = {"marketplaceId": UK, "packageDetail": package}
    response = amazon.sp(
        V0, "confirmShipment", "POST", f"/orders/v0/orders/{order_id}/shipmentConfirmation", expect=expect, json=body
    )
    return response.json() if response.content else None


def error_message(body: dict[str, Any]) -> str:
    return " ".join(f"{e['message']} {e.get('details', '')}" for e in body["errors"])


# --- getOrders --------------------------------------------------------------------------------------------


def test_get_orders_returns_the_orders_updated_in_the_window_with_the_bound_it_used(seller: Amazon) -> None:
    seller.add_orders(v0_order(), v0_order("202-0000002-0000002", LastUpdateDate="2025-03-05T00:00:00Z"))
    payload = get_orders(seller, LastUpdatedAfter="2025-03-01T00:00:00Z", LastUpdatedBefore="2025-03-02T00:00:00Z")[
        "payload"
    ]
    assert [o["AmazonOrderId"] for o in payload["Orders"]] == [ORDER_ID]
    assert payload["LastUpdatedBefore"] == "2025-03-02T00:00:00Z"
    order = payload["Orders"][0]
    assert order["ShipServiceLevel"] == "Std UK Dom_1"
    assert order["ShippingAddress"] == {"CountryCode": "GB"}
    assert order["OrderTotal"] == {"CurrencyCode": "GBP", "Amount": "19.98"}
    assert (order["NumberOfItemsShipped"], order["NumberOfItemsUnshipped"]) == (0, 2)


def test_get_orders_by_creation_date_echoes_created_before(seller: Amazon) -> None:
    seller.add_orders(v0_order())
    payload = get_orders(seller, CreatedAfter="2025-03-01T08:00:00Z")["payload"]
    assert [o["AmazonOrderId"] for o in payload["Orders"]] == [ORDER_ID]
    assert "CreatedBefore" in payload
    assert "LastUpdatedBefore" not in payload


def test_get_orders_pages_with_next_token_in_last_update_order(seller: Amazon) -> None:
    orders = [v0_order(f"202-0000000-{n:07d}", LastUpdateDate=f"2025-03-01T10:{n:02d}:00Z") for n in range(5, 0, -1)]
    seller.add_orders(*orders)
    seen, token, pages = [], None, 0
    while True:
        params = {"NextToken": token} if token else {"LastUpdatedAfter": "2025-03-01T00:00:00Z"}
        payload = get_orders(seller, MaxResultsPerPage=2, **params)["payload"]
        seen += [o["AmazonOrderId"] for o in payload["Orders"]]
        pages += 1
        token = payload.get("NextToken")
        if not token:
            break
    assert pages == 3
    assert seen == [f"202-0000000-{n:07d}" for n in range(1, 6)]


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({}, "Either CreatedAfter or LastUpdatedAfter"),
        ({"CreatedAfter": "2025-01-01T00:00:00Z", "LastUpdatedAfter": "2025-01-01T00:00:00Z"}, "cannot be set"),
        ({"CreatedAfter": "2025-01-01T00:00:00Z", "LastUpdatedBefore": "2025-01-02T00:00:00Z"}, "cannot be set"),
        ({"LastUpdatedAfter": "2025-01-01T00:00:00Z", "CreatedBefore": "2025-01-02T00:00:00Z"}, "cannot be set"),
        (
            {"LastUpdatedAfter": "2025-01-02T00:00:00Z", "LastUpdatedBefore": "2025-01-01T00:00:00Z"},
            "equal to or after",
        ),
        ({"CreatedAfter": "not-a-date"}, "ISO 8601"),
        ({"MaxResultsPerPage": "101", "CreatedAfter": "2025-01-01T00:00:00Z"}, "between 1 and 100"),
        ({"MaxResultsPerPage": "0", "CreatedAfter": "2025-01-01T00:00:00Z"}, "between 1 and 100"),
        ({"MaxResultsPerPage": "ten", "CreatedAfter": "2025-01-01T00:00:00Z"}, "integer"),
        ({"NextToken": "forged"}, "NextToken"),
        ({"MarketplaceIds": "NOTAMARKET", "CreatedAfter": "2025-01-01T00:00:00Z"}, "MarketplaceIds"),
        ({"MarketplaceIds": FR, "CreatedAfter": "2025-01-01T00:00:00Z"}, "not registered"),
        ({"MarketplaceIds": ",".join([UK] * 51), "CreatedAfter": "2025-01-01T00:00:00Z"}, "at most 50"),
        ({"OrderStatuses": "Lost", "CreatedAfter": "2025-01-01T00:00:00Z"}, "OrderStatuses"),
    ],
)
def test_get_orders_refuses_what_amazon_refuses(seller: Amazon, params: dict[str, str], message: str) -> None:
    body = get_orders(seller, expect=400, **params)
    assert body["errors"][0]["code"] == "InvalidInput"
    assert message in error_message(body)


def test_get_orders_requires_marketplace_ids(seller: Amazon) -> None:
    body = seller.sp(
        V0, "getOrders", "GET", "/orders/v0/orders", expect=400, params={"CreatedAfter": "2025-01-01T00:00:00Z"}
    ).json()
    assert "MarketplaceIds" in error_message(body)


def test_a_before_bound_closer_than_two_minutes_to_now_is_refused(seller: Amazon) -> None:
    now = datetime.now(UTC)
    body = get_orders(
        seller,
        expect=400,
        LastUpdatedAfter=(now - timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%SZ"),
        LastUpdatedBefore=(now - timedelta(seconds=30)).strftime("%Y-%m-%dT%H:%M:%SZ"),
    )
    assert "two minutes" in error_message(body)


def test_get_orders_filters_by_status_channel_and_marketplace(seller: Amazon) -> None:
    seller.add_orders(
        v0_order(),
        v0_order("202-0000002-0000002", OrderStatus="Canceled"),
        v0_order("202-0000003-0000003", FulfillmentChannel="AFN"),
        v0_order(
            "302-0000004-0000004",
            MarketplaceId="DE",
            ShippingAddress={"CountryCode": "DE"},
            OrderItems=[
                {
                    "OrderItemId": "40000000000001",
                    "SellerSKU": "SKU-A",
                    "QuantityOrdered": 1,
                    "ItemPrice": {"CurrencyCode": "EUR", "Amount": "5.00"},
                }
            ],
        ),
    )
    after = "2025-03-01T00:00:00Z"
    ids = lambda payload: sorted(o["AmazonOrderId"] for o in payload["payload"]["Orders"])  # noqa: E731
    assert ids(
        get_orders(
            seller, LastUpdatedAfter=after, FulfillmentChannels="MFN", OrderStatuses="Unshipped,PartiallyShipped"
        )
    ) == [ORDER_ID]
    assert ids(get_orders(seller, LastUpdatedAfter=after, OrderStatuses="Canceled")) == ["202-0000002-0000002"]
    assert ids(get_orders(seller, LastUpdatedAfter=after, MarketplaceIds=DE)) == ["302-0000004-0000004"]
    assert len(ids(get_orders(seller, LastUpdatedAfter=after, MarketplaceIds=f"{UK},{DE}"))) == 4


def test_a_pending_order_shows_no_prices_and_no_address(seller: Amazon) -> None:
    seller.add_orders(v0_order(OrderStatus="Pending"))
    order = get_orders(seller, CreatedAfter="2025-03-01T00:00:00Z")["payload"]["Orders"][0]
    assert "OrderTotal" not in order
    assert "ShippingAddress" not in order
    items = seller.sp(V0, "getOrderItems", "GET", f"/orders/v0/orders/{ORDER_ID}/orderItems", expect=200).json()
    assert "ItemPrice" not in items["payload"]["OrderItems"][0]


def test_an_order_without_a_ship_service_level_has_only_its_category(seller: Amazon) -> None:
    order = v0_order(ShipmentServiceLevelCategory="NextDay")
    del order["ShipServiceLevel"]
    seller.add_orders(order)
    got = get_orders(seller, CreatedAfter="2025-03-01T00:00:00Z")["payload"]["Orders"][0]
    assert "ShipServiceLevel" not in got
    assert got["ShipmentServiceLevelCategory"] == "NextDay"


# --- getOrder / getOrderItems ---------------------------------------------------------------------------------


def test_get_order_returns_one_order(seller: Amazon) -> None:
    seller.add_orders(v0_order(IsPrime=True))
    payload = seller.sp(V0, "getOrder", "GET", f"/orders/v0/orders/{ORDER_ID}", expect=200).json()["payload"]
    assert (payload["AmazonOrderId"], payload["IsPrime"]) == (ORDER_ID, True)


def test_get_order_of_an_unknown_order_is_not_found(seller: Amazon) -> None:
    seller.sp(V0, "getOrder", "GET", "/orders/v0/orders/202-9999999-9999999", expect=404)


def test_get_order_items_carries_sku_quantity_and_line_price(seller: Amazon) -> None:
    seller.add_orders(v0_order())
    payload = seller.sp(V0, "getOrderItems", "GET", f"/orders/v0/orders/{ORDER_ID}/orderItems", expect=200).json()[
        "payload"
    ]
    item = payload["OrderItems"][0]
    assert payload["AmazonOrderId"] == ORDER_ID
    assert (item["SellerSKU"], item["QuantityOrdered"], item["QuantityShipped"]) == ("SKU-A", 2, 0)
    assert item["ItemPrice"] == {"CurrencyCode": "GBP", "Amount": "19.98"}
    assert item["ASIN"]


def test_get_order_items_pages_with_next_token(seller: Amazon) -> None:
    items = [{"OrderItemId": f"1000000000{n:04d}", "SellerSKU": f"SKU-{n}", "QuantityOrdered": 1} for n in range(5)]
    seller.add_orders(v0_order(OrderItems=items))
    seller.config(order_items_page_size=2)
    seen, token = [], None
    while True:
        params = {"NextToken": token} if token else {}
        payload = seller.sp(
            V0, "getOrderItems", "GET", f"/orders/v0/orders/{ORDER_ID}/orderItems", expect=200, params=params
        ).json()["payload"]
        seen += [i["SellerSKU"] for i in payload["OrderItems"]]
        token = payload.get("NextToken")
        if not token:
            break
    assert seen == [f"SKU-{n}" for n in range(5)]


def test_get_order_items_of_an_unknown_order_is_not_found(seller: Amazon) -> None:
    seller.sp(V0, "getOrderItems", "GET", "/orders/v0/orders/202-9999999-9999999/orderItems", expect=404)


# --- confirmShipment ------------------------------------------------------------------------------------------------


def test_confirming_a_shipment_records_it_and_ships_the_order(seller: Amazon) -> None:
    seller.add_orders(v0_order())
    confirm(seller)
    held = seller.order(ORDER_ID)
    assert held["OrderStatus"] == "Shipped"
    assert held["OrderItems"][0]["QuantityShipped"] == 2
    assert [s["trackingNumber"] for s in held["Shipments"]] == ["RM123456789GB"]
    updated = get_orders(seller, LastUpdatedAfter="2025-03-02T00:00:00Z")["payload"]["Orders"]
    assert [o["AmazonOrderId"] for o in updated] == [ORDER_ID], "a shipment is an update of the order"


def test_partial_and_multi_package_shipments_add_up(seller: Amazon) -> None:
    seller.add_orders(v0_order())
    confirm(seller, orderItems=[{"orderItemId": "10000000000001", "quantity": 1}])
    assert seller.order(ORDER_ID)["OrderStatus"] == "PartiallyShipped"
    confirm(
        seller,
        packageReferenceId="2",
        trackingNumber="RM2",
        orderItems=[{"orderItemId": "10000000000001", "quantity": 1}],
    )
    held = seller.order(ORDER_ID)
    assert held["OrderStatus"] == "Shipped"
    assert [s["packageReferenceId"] for s in held["Shipments"]] == ["1", "2"]


def test_shipping_more_than_was_ordered_is_refused(seller: Amazon) -> None:
    seller.add_orders(v0_order())
    body = confirm(seller, expect=400, orderItems=[{"orderItemId": "10000000000001", "quantity": 3}])
    assert "exceeds" in error_message(body)
    confirm(seller, orderItems=[{"orderItemId": "10000000000001", "quantity": 2}])
    body = confirm(
        seller, expect=400, packageReferenceId="2", orderItems=[{"orderItemId": "10000000000001", "quantity": 1}]
    )
    assert "exceeds" in error_message(body)
    assert len(seller.order(ORDER_ID)["Shipments"]) == 1


def test_an_unknown_order_item_is_refused_with_amazons_message(seller: Amazon) -> None:
    seller.add_orders(v0_order())
    body = confirm(seller, expect=400, orderItems=[{"orderItemId": "99999999999999", "quantity": 1}])
    assert (
        "OrderItemId 99999999999999 is invalid, please obtain the value through the getOrderItems API"
        in error_message(body)
    )


def test_repeating_the_same_package_is_harmless_and_recorded_once(seller: Amazon) -> None:
    seller.add_orders(v0_order())
    confirm(seller, orderItems=[{"orderItemId": "10000000000001", "quantity": 1}])
    confirm(seller, orderItems=[{"orderItemId": "10000000000001", "quantity": 1}])
    held = seller.order(ORDER_ID)
    assert len(held["Shipments"]) == 1
    assert held["Shipments"][0]["repeatedConfirmations"] == 1
    assert held["OrderItems"][0]["QuantityShipped"] == 1


def test_reusing_a_package_reference_for_other_contents_is_refused(seller: Amazon) -> None:
    seller.add_orders(v0_order())
    confirm(seller, orderItems=[{"orderItemId": "10000000000001", "quantity": 1}])
    body = confirm(
        seller, expect=400, trackingNumber="OTHER", orderItems=[{"orderItemId": "10000000000001", "quantity": 1}]
    )
    assert "already confirmed" in error_message(body)


@pytest.mark.parametrize(
    ("detail", "message"),
    [
        ({"packageReferenceId": "PKG-1"}, "positive numeric"),
        ({"packageReferenceId": "0"}, "positive numeric"),
        ({"packageReferenceId": 1}, "not valid"),
        ({"shipDate": "02/21/2022"}, "not valid"),
        ({"carrierCode": "Other"}, "carrierName is required"),
        ({"orderItems": []}, "at least one order item"),
        ({"orderItems": [{"orderItemId": "10000000000001", "quantity": 0}]}, "at least 1"),
        ({"trackingNumber": None}, "not valid"),
    ],
)
def test_a_malformed_confirmation_is_refused(seller: Amazon, detail: dict[str, Any], message: str) -> None:
    seller.add_orders(v0_order())
    body = confirm(seller, expect=400, **detail)
    assert message in error_message(body)
    assert seller.order(ORDER_ID)["Shipments"] == []


def test_a_confirmation_for_another_marketplace_is_refused(seller: Amazon) -> None:
    seller.add_orders(v0_order())
    body = {
        "marketplaceId": DE,
        "packageDetail": {
            "packageReferenceId": "1",
            "carrierCode": "DHL",
            "trackingNumber": "1",
            "shipDate": "2025-03-02T10:00:00Z",
            "orderItems": [{"orderItemId": "10000000000001", "quantity": 1}],
        },
    }
    seller.sp(
        V0, "confirmShipment", "POST", f"/orders/v0/orders/{ORDER_ID}/shipmentConfirmation", expect=400, json=body
    )


def test_a_cancelled_order_cannot_be_shipped(seller: Amazon) -> None:
    seller.add_orders(v0_order(OrderStatus="Canceled"))
    assert "cancelled" in error_message(confirm(seller, expect=400))


def test_an_amazon_fulfilled_order_cannot_be_confirmed_by_the_seller(seller: Amazon) -> None:
    seller.add_orders(v0_order(FulfillmentChannel="AFN"))
    assert "AFN" in error_message(confirm(seller, expect=400))


def test_confirming_an_unknown_order_is_not_found(seller: Amazon) -> None:
    confirm(seller, "202-9999999-9999999", expect=404)


def test_a_confirmation_that_is_not_json_is_refused(seller: Amazon) -> None:
    seller.add_orders(v0_order())
    seller.sp(
        V0,
        "confirmShipment",
        "POST",
        f"/orders/v0/orders/{ORDER_ID}/shipmentConfirmation",
        expect=400,
        content=b"<xml/>",
        headers={"Content-Type": "application/xml"},
    )
