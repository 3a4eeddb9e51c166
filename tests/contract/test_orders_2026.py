"""Orders 2026-01-01: searchOrders and getOrder serve the same stored orders in the new shape."""

from __future__ import annotations

from typing import Any

import pytest

from tests.contract.conftest import DE, UK, Amazon, v0_order

pytestmark = pytest.mark.integration

V2026 = "orders_2026-01-01"
ORDER_ID = "202-0000001-0000001"


def search(amazon: Amazon, expect: int = 200, **params: Any) -> dict[str, Any]:
    return amazon.sp(V2026, "searchOrders", "GET", "/orders/2026-01-01/orders", expect=expect, params=params).json()


def test_search_orders_maps_a_prime_next_day_order(seller: Amazon) -> None:
    seller.add_orders(
        v0_order(
            IsPrime=True,
            IsPremiumOrder=True,
            ShipmentServiceLevelCategory="NextDay",
            ShippingAddress={"CountryCode": "GB", "City": "LEEDS", "PostalCode": "LS1 1AA"},
            SellerOrderId="OMS-1",
        )
    )
    body = search(seller, lastUpdatedAfter="2025-03-01T00:00:00Z", includedData="FULFILLMENT,RECIPIENT,PROCEEDS")
    order = body["orders"][0]
    assert order["orderId"] == ORDER_ID
    assert (order["createdTime"], order["lastUpdatedTime"]) == ("2025-03-01T09:00:00Z", "2025-03-01T09:30:00Z")
    assert order["programs"] == ["PRIME", "PREMIUM"]
    assert order["salesChannel"] == {"channelName": "AMAZON", "marketplaceId": UK, "marketplaceName": "Amazon.co.uk"}
    assert order["orderAliases"] == [{"aliasId": "OMS-1", "aliasType": "SELLER_ORDER_ID"}]
    assert order["fulfillment"]["fulfillmentServiceLevel"] == "NEXT_DAY"
    assert (order["fulfillment"]["fulfilledBy"], order["fulfillment"]["fulfillmentStatus"]) == ("MERCHANT", "UNSHIPPED")
    assert order["recipient"]["deliveryAddress"]["countryCode"] == "GB"
    assert order["recipient"]["deliveryAddress"]["postalCode"] == "LS1 1AA"
    assert order["proceeds"]["grandTotal"] == {"amount": "19.98", "currencyCode": "GBP"}
    item = order["orderItems"][0]
    assert (item["product"]["sellerSku"], item["quantityOrdered"]) == ("SKU-A", 2)
    assert item["product"]["price"]["unitPrice"] == {"amount": "9.99", "currencyCode": "GBP"}, "per unit, not the line"
    assert item["fulfillment"] == {"quantityFulfilled": 0, "quantityUnfulfilled": 2}
    assert body["lastUpdatedBefore"]
    assert "ShipServiceLevel" not in str(order), "2026-01-01 has no free-text ship service level"


def test_without_included_data_only_the_basic_order_and_items_come_back(seller: Amazon) -> None:
    seller.add_orders(v0_order(IsPrime=True))
    order = search(seller, createdAfter="2025-03-01T00:00:00Z")["orders"][0]
    assert set(order) == {"orderId", "createdTime", "lastUpdatedTime", "salesChannel", "orderItems", "programs"}
    assert "fulfillment" not in order["orderItems"][0]
    assert order["orderItems"][0]["product"]["price"]["unitPrice"]["amount"] == "9.99"


def test_recipient_is_withheld_until_an_order_can_be_shipped(seller: Amazon) -> None:
    seller.add_orders(v0_order(OrderStatus="Pending"))
    order = search(seller, createdAfter="2025-03-01T00:00:00Z", includedData="RECIPIENT,FULFILLMENT")["orders"][0]
    assert "recipient" not in order
    assert order["fulfillment"]["fulfillmentStatus"] == "PENDING"
    assert "price" not in order["orderItems"][0]["product"]


@pytest.mark.parametrize(
    ("v0_status", "status_2026"),
    [("Unshipped", "UNSHIPPED"), ("Canceled", "CANCELLED"), ("Shipped", "SHIPPED"), ("InvoiceUnconfirmed", "SHIPPED")],
)
def test_order_statuses_map_to_fulfillment_statuses(seller: Amazon, v0_status: str, status_2026: str) -> None:
    seller.add_orders(v0_order(OrderStatus=v0_status))
    order = search(seller, createdAfter="2025-03-01T00:00:00Z", includedData="FULFILLMENT")["orders"][0]
    assert order["fulfillment"]["fulfillmentStatus"] == status_2026


def test_search_orders_filters_by_fulfilled_by_status_and_marketplace(seller: Amazon) -> None:
    de_item = {
        "OrderItemId": "40000000000001",
        "SellerSKU": "SKU-A",
        "QuantityOrdered": 1,
        "ItemPrice": {"CurrencyCode": "EUR", "Amount": "5.00"},
    }
    seller.add_orders(
        v0_order(),
        v0_order("202-0000002-0000002", FulfillmentChannel="AFN"),
        v0_order("202-0000003-0000003", OrderStatus="Canceled"),
        v0_order(
            "302-0000004-0000004", MarketplaceId="DE", ShippingAddress={"CountryCode": "DE"}, OrderItems=[de_item]
        ),
    )
    after = "2025-03-01T00:00:00Z"

    def ids(**params: Any) -> list[str]:
        return sorted(o["orderId"] for o in search(seller, lastUpdatedAfter=after, **params)["orders"])

    assert ids(fulfilledBy="MERCHANT", fulfillmentStatuses="UNSHIPPED", marketplaceIds=UK) == [ORDER_ID]
    assert ids(fulfilledBy="AMAZON") == ["202-0000002-0000002"]
    assert ids(marketplaceIds=DE) == ["302-0000004-0000004"]
    assert len(ids()) == 4, "without marketplaceIds, every marketplace of the seller"


def test_search_orders_pages_with_a_pagination_token(seller: Amazon) -> None:
    seller.add_orders(
        *[v0_order(f"202-0000000-{n:07d}", LastUpdateDate=f"2025-03-01T10:{n:02d}:00Z") for n in range(1, 6)]
    )
    seen, token = [], None
    while True:
        params: dict[str, Any] = {"lastUpdatedAfter": "2025-03-01T00:00:00Z", "maxResultsPerPage": 2}
        if token:
            params["paginationToken"] = token
        body = search(seller, **params)
        seen += [o["orderId"] for o in body["orders"]]
        token = body.get("pagination", {}).get("nextToken")
        if not token:
            break
    assert seen == [f"202-0000000-{n:07d}" for n in range(1, 6)]


def test_a_pagination_token_with_changed_filters_is_refused(seller: Amazon) -> None:
    seller.add_orders(*[v0_order(f"202-0000000-{n:07d}") for n in range(1, 4)])
    first = search(seller, lastUpdatedAfter="2025-03-01T00:00:00Z", maxResultsPerPage=1)
    token = first["pagination"]["nextToken"]
    body = search(seller, expect=400, lastUpdatedAfter="2025-02-01T00:00:00Z", paginationToken=token)
    assert "paginationToken" in body["errors"][0]["message"]
    # the page size and the data sets may change between pages
    assert search(
        seller,
        lastUpdatedAfter="2025-03-01T00:00:00Z",
        paginationToken=token,
        maxResultsPerPage=5,
        includedData="FULFILLMENT",
    )["orders"]


@pytest.mark.parametrize(
    "params",
    [
        {},
        {"createdAfter": "2025-01-01T00:00:00Z", "lastUpdatedAfter": "2025-01-01T00:00:00Z"},
        {"createdAfter": "2025-01-01T00:00:00Z", "lastUpdatedBefore": "2025-01-02T00:00:00Z"},
        {"createdAfter": "2025-01-02T00:00:00Z", "createdBefore": "2025-01-01T00:00:00Z"},
        {"createdAfter": "2025-01-01T00:00:00Z", "includedData": "EVERYTHING"},
        {"createdAfter": "2025-01-01T00:00:00Z", "fulfillmentStatuses": "LOST"},
        {"createdAfter": "2025-01-01T00:00:00Z", "fulfilledBy": "MFN"},
        {"createdAfter": "2025-01-01T00:00:00Z", "maxResultsPerPage": "500"},
        {"createdAfter": "2025-01-01T00:00:00Z", "paginationToken": "forged"},
    ],
)
def test_search_orders_refuses_what_amazon_refuses(seller: Amazon, params: dict[str, str]) -> None:
    body = search(seller, expect=400, **params)
    assert body["errors"][0]["code"] == "InvalidInput"


def test_get_order_returns_the_order_with_its_items(seller: Amazon) -> None:
    seller.add_orders(v0_order())
    response = seller.sp(
        V2026,
        "getOrder",
        "GET",
        f"/orders/2026-01-01/orders/{ORDER_ID}",
        expect=200,
        params={"includedData": "FULFILLMENT"},
    )
    order = response.json()["order"]
    assert order["orderId"] == ORDER_ID
    assert order["orderItems"][0]["orderItemId"] == "10000000000001"
    assert order["fulfillment"]["fulfillmentServiceLevel"] == "STANDARD"


def test_get_order_of_an_unknown_order_is_not_found(seller: Amazon) -> None:
    seller.sp(V2026, "getOrder", "GET", "/orders/2026-01-01/orders/202-9999999-9999999", expect=404)


def test_confirmed_packages_show_up_under_packages(seller: Amazon) -> None:
    seller.add_orders(v0_order())
    body = {
        "marketplaceId": UK,
        "packageDetail": {
            "packageReferenceId": "7",
            "carrierCode": "Other",
            "carrierName": "Parcel Co",
            "shippingMethod": "Next Day",
            "trackingNumber": "PC1",
            "shipDate": "2025-03-02T10:00:00Z",
            "orderItems": [{"orderItemId": "10000000000001", "quantity": 2}],
        },
    }
    seller.sp(
        "ordersV0",
        "confirmShipment",
        "POST",
        f"/orders/v0/orders/{ORDER_ID}/shipmentConfirmation",
        expect=204,
        json=body,
    )
    order = seller.sp(
        V2026,
        "getOrder",
        "GET",
        f"/orders/2026-01-01/orders/{ORDER_ID}",
        expect=200,
        params={"includedData": "PACKAGES,FULFILLMENT"},
    ).json()["order"]
    package = order["packages"][0]
    assert (package["packageReferenceId"], package["carrier"], package["trackingNumber"]) == ("7", "Parcel Co", "PC1")
    assert package["packageItems"] == [{"orderItemId": "10000000000001", "quantity": 2}]
    assert order["fulfillment"]["fulfillmentStatus"] == "SHIPPED"
    assert order["orderItems"][0]["fulfillment"] == {"quantityFulfilled": 2, "quantityUnfulfilled": 0}
