"""Buyer data (PII) in both order APIs, under Amazon's rules (SPEC §1.1, §6.8, §8.1).

Orders v0 shows the recipient's name, street, phone and the buyer only to a Restricted Data Token naming
them; Orders 2026-01-01 shows them without an RDT to an app with the Direct-to-Consumer Delivery role. In
both, only for merchant-fulfilled orders in Unshipped, PartiallyShipped or Shipped.
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.contract.conftest import FULL_ADDRESS, GIFT, UK, Amazon, pii_order

pytestmark = pytest.mark.integration

V0 = "ordersV0"
V2026 = "orders_2026-01-01"
ORDER_ID = "202-0000001-0000001"
BULK = {"method": "GET", "path": "/orders/v0/orders", "dataElements": ["buyerInfo", "shippingAddress"]}
ITEMS = {"method": "GET", "path": "/orders/v0/orders/{orderId}/orderItems", "dataElements": ["buyerInfo"]}
NO_PII_ROLES = ["INVENTORY_AND_ORDER_TRACKING", "PRODUCT_LISTING"]
OPEN_V0_ADDRESS = {"City": "LEEDS", "County": "West Yorkshire", "StateOrRegion": "England", "Municipality": "Leeds"}
OPEN_V0_ADDRESS |= {"PostalCode": "LS1 1AA", "CountryCode": "GB"}
V0_BUYER = {"BuyerEmail": "abc123@marketplace.amazon.co.uk", "BuyerName": "John Doe", "PurchaseOrderNumber": "PO-77"}


def v0_orders(amazon: Amazon, token: str | None = None, **params: Any) -> list[dict[str, Any]]:
    params = {"MarketplaceIds": UK, "CreatedAfter": "2025-03-01T00:00:00Z", **params}
    response = amazon.sp(V0, "getOrders", "GET", "/orders/v0/orders", expect=200, token=token, params=params)
    return list(response.json()["payload"]["Orders"])


def v0_items(amazon: Amazon, order_id: str = ORDER_ID, token: str | None = None) -> list[dict[str, Any]]:
    path = f"/orders/v0/orders/{order_id}/orderItems"
    return list(amazon.sp(V0, "getOrderItems", "GET", path, expect=200, token=token).json()["payload"]["OrderItems"])


def order_2026(amazon: Amazon, included: str, order_id: str = ORDER_ID) -> dict[str, Any]:
    path = f"/orders/2026-01-01/orders/{order_id}"
    response = amazon.sp(V2026, "getOrder", "GET", path, expect=200, params={"includedData": included})
    return dict(response.json()["order"])


def no_pii_seller(amazon: Amazon) -> Amazon:
    amazon.add_seller(roles=NO_PII_ROLES)
    amazon.access_token = amazon.token_for()
    return amazon


# --- Orders v0: without an RDT ----------------------------------------------------------------------------------


def test_v0_without_an_rdt_withholds_name_street_phone_and_buyer(seller: Amazon) -> None:
    seller.add_orders(pii_order())
    order = v0_orders(seller)[0]
    assert order["ShippingAddress"] == OPEN_V0_ADDRESS
    assert "BuyerInfo" not in order
    item = v0_items(seller)[0]
    assert "BuyerInfo" not in item, "no gift message or wrap level without an RDT"
    assert item["IsGift"] == "true"
    single = seller.sp(V0, "getOrder", "GET", f"/orders/v0/orders/{ORDER_ID}", expect=200).json()["payload"]
    assert single["ShippingAddress"] == OPEN_V0_ADDRESS
    assert "BuyerInfo" not in single


def test_v0_with_an_rdt_shows_the_address_and_buyer_on_every_page(seller: Amazon) -> None:
    seller.add_orders(pii_order(), pii_order("202-0000002-0000002", LastUpdateDate="2025-03-01T10:00:00Z"))
    rdt = seller.rdt(BULK)
    first = seller.sp(
        V0,
        "getOrders",
        "GET",
        "/orders/v0/orders",
        expect=200,
        token=rdt,
        params={"MarketplaceIds": UK, "LastUpdatedAfter": "2025-03-01T00:00:00Z", "MaxResultsPerPage": 1},
    ).json()["payload"]
    second = v0_orders(seller, rdt, NextToken=first["NextToken"])
    for order in (first["Orders"][0], second[0]):
        assert order["ShippingAddress"] == FULL_ADDRESS
        assert order["BuyerInfo"] == V0_BUYER, "v0 BuyerInfo has no company name (getOrderAddress carries it)"


@pytest.mark.parametrize(
    ("elements", "has_address", "has_buyer"),
    [(["shippingAddress"], True, False), (["buyerInfo"], False, True), ([], False, False)],
)
def test_v0_shows_only_the_data_elements_the_rdt_names(
    seller: Amazon, elements: list[str], has_address: bool, has_buyer: bool
) -> None:
    seller.add_orders(pii_order())
    order = v0_orders(seller, seller.rdt({"method": "GET", "path": "/orders/v0/orders", "dataElements": elements}))[0]
    assert ("Name" in order["ShippingAddress"], "BuyerInfo" in order) == (has_address, has_buyer)


def test_v0_order_items_show_the_gift_message_with_an_rdt_for_their_path(seller: Amazon) -> None:
    seller.add_orders(pii_order())
    assert v0_items(seller, token=seller.rdt(ITEMS))[0]["BuyerInfo"] == GIFT
    specific = {**ITEMS, "path": f"/orders/v0/orders/{ORDER_ID}/orderItems"}
    assert v0_items(seller, token=seller.rdt(specific))[0]["BuyerInfo"] == GIFT


def test_v0_get_order_shows_the_address_with_an_rdt_for_its_path(seller: Amazon) -> None:
    seller.add_orders(pii_order())
    rdt = seller.rdt({"method": "GET", "path": "/orders/v0/orders/{orderId}", "dataElements": ["shippingAddress"]})
    payload = seller.sp(V0, "getOrder", "GET", f"/orders/v0/orders/{ORDER_ID}", expect=200, token=rdt).json()
    assert payload["payload"]["ShippingAddress"] == FULL_ADDRESS


@pytest.mark.parametrize(
    ("change", "address", "buyer"),
    [
        ({"OrderStatus": "Unshipped"}, "full", True),
        ({"OrderStatus": "PartiallyShipped"}, "full", True),
        ({"OrderStatus": "Shipped"}, "full", True),
        ({"OrderStatus": "Pending"}, None, False),
        ({"OrderStatus": "Canceled"}, None, False),
        ({"FulfillmentChannel": "AFN"}, "open", False),
    ],
    ids=["unshipped", "partially-shipped", "shipped", "pending", "canceled", "afn"],
)
def test_v0_pii_only_for_merchant_orders_in_the_shipping_statuses(
    seller: Amazon, change: dict[str, Any], address: str | None, buyer: bool
) -> None:
    seller.add_orders(pii_order(**change))
    order = v0_orders(seller, seller.rdt(BULK))[0]
    expected = {"full": FULL_ADDRESS, "open": OPEN_V0_ADDRESS, None: None}[address]
    assert order.get("ShippingAddress") == expected
    assert ("BuyerInfo" in order) is buyer


def test_v0_phone_is_suppressed_once_a_shipped_order_is_past_its_latest_delivery(seller: Amazon) -> None:
    seller.add_orders(pii_order(OrderStatus="Shipped", LatestDeliveryDate="2025-03-05T00:00:00Z"))
    address = v0_orders(seller, seller.rdt(BULK))[0]["ShippingAddress"]
    assert "Phone" not in address
    assert address["AddressLine1"] == "1 High Street"


def test_v0_an_app_that_lost_the_role_sees_no_pii_even_with_an_rdt_it_still_holds(seller: Amazon) -> None:
    seller.add_orders(pii_order())
    rdt = seller.rdt(BULK, ITEMS)
    seller.add_seller(roles=NO_PII_ROLES, expect=200)  # the seller re-authorises an app without the role
    assert v0_orders(seller, rdt)[0]["ShippingAddress"] == OPEN_V0_ADDRESS
    assert "BuyerInfo" not in v0_items(seller, token=rdt)[0]


def test_v0_a_seller_without_the_role_gets_no_pii_at_all(amazon: Amazon) -> None:
    seller = no_pii_seller(amazon)
    seller.add_orders(pii_order())
    seller.request_rdt(BULK, expect=400)
    order = v0_orders(seller)[0]
    assert order["ShippingAddress"] == OPEN_V0_ADDRESS
    assert "BuyerInfo" not in order


# --- Orders v0: getOrderAddress ------------------------------------------------------------------------------------


def test_get_order_address_carries_the_delivery_instruction_and_company_only_with_an_rdt(seller: Amazon) -> None:
    seller.add_orders(pii_order())
    path = f"/orders/v0/orders/{ORDER_ID}/address"
    plain = seller.sp(V0, "getOrderAddress", "GET", path, expect=200).json()["payload"]
    assert plain == {"AmazonOrderId": ORDER_ID, "ShippingAddress": OPEN_V0_ADDRESS}
    rdt = seller.rdt({"method": "GET", "path": "/orders/v0/orders/{orderId}/address"})
    full = seller.sp(V0, "getOrderAddress", "GET", path, expect=200, token=rdt).json()["payload"]
    assert full == {
        "AmazonOrderId": ORDER_ID,
        "BuyerCompanyName": "Doe Holdings",
        "ShippingAddress": FULL_ADDRESS,
        "DeliveryPreferences": {"AddressInstructions": "Leave with the neighbour at no. 3"},
    }


# --- Orders v0: the rest of the order ------------------------------------------------------------------------------


def test_v0_serves_the_full_order_shape(seller: Amazon) -> None:
    seller.add_orders(
        pii_order(
            IsBusinessOrder=True,
            IsReplacementOrder=True,
            ReplacedOrderId="202-0000000-0000009",
            IsISPU=True,
            LatestShipDate="2025-03-03T23:59:59Z",
            OrderTotal={"CurrencyCode": "GBP", "Amount": "25.97"},
            OrderItems=[
                {
                    "OrderItemId": "10000000000001",
                    "SellerSKU": "SKU-A",
                    "ASIN": "B0TESTASIN",
                    "Title": "A tent",
                    "ConditionId": "Used",
                    "ConditionSubtypeId": "Very Good",
                    "QuantityOrdered": 2,
                    "ItemPrice": {"CurrencyCode": "GBP", "Amount": "19.98"},
                    "ItemTax": {"CurrencyCode": "GBP", "Amount": "3.33"},
                    "ShippingPrice": {"CurrencyCode": "GBP", "Amount": "6.99"},
                    "PromotionDiscount": {"CurrencyCode": "GBP", "Amount": "1.00"},
                    "PromotionIds": ["PROMO-1"],
                }
            ],
        )
    )
    order = v0_orders(seller)[0]
    assert (order["IsBusinessOrder"], order["IsReplacementOrder"], order["ReplacedOrderId"], order["IsISPU"]) == (
        True,
        True,
        "202-0000000-0000009",
        True,
    )
    assert (order["LatestShipDate"], order["OrderTotal"]["Amount"]) == ("2025-03-03T23:59:59Z", "25.97")
    assert order["LatestDeliveryDate"]
    item = v0_items(seller)[0]
    assert (item["ASIN"], item["Title"], item["ConditionId"], item["ConditionSubtypeId"]) == (
        "B0TESTASIN",
        "A tent",
        "Used",
        "Very Good",
    )
    money = {name: item[name]["Amount"] for name in ("ItemPrice", "ItemTax", "ShippingPrice", "PromotionDiscount")}
    assert money == {"ItemPrice": "19.98", "ItemTax": "3.33", "ShippingPrice": "6.99", "PromotionDiscount": "1.00"}
    assert (item["IsGift"], item["PromotionIds"]) == ("false", ["PROMO-1"])


def test_v0_an_easy_ship_order_carries_its_status(seller: Amazon) -> None:
    seller.add_orders(pii_order(EasyShipShipmentStatus="PendingPickUp"))
    assert v0_orders(seller)[0]["EasyShipShipmentStatus"] == "PendingPickUp"


def test_v0_get_orders_filters_in_store_pickup_and_easy_ship_orders(seller: Amazon) -> None:
    seller.add_orders(
        pii_order(),
        pii_order("202-0000002-0000002", IsISPU=True),
        pii_order("202-0000003-0000003", EasyShipShipmentStatus="PendingPickUp"),
    )
    assert [o["AmazonOrderId"] for o in v0_orders(seller, IsISPU="true")] == ["202-0000002-0000002"]
    easy_ship = v0_orders(seller, EasyShipShipmentStatuses="PendingPickUp,PickedUp")
    assert [o["AmazonOrderId"] for o in easy_ship] == ["202-0000003-0000003"]
    assert len(v0_orders(seller, IsISPU="false")) == 2


def test_v0_the_order_total_defaults_to_items_plus_shipping_less_promotions(seller: Amazon) -> None:
    item = {"SellerSKU": "A", "QuantityOrdered": 1, "ItemPrice": "10.00", "ShippingPrice": "2.50"}
    seller.add_orders(pii_order(OrderItems=[{**item, "PromotionDiscount": "1.50"}]))
    assert v0_orders(seller)[0]["OrderTotal"] == {"CurrencyCode": "GBP", "Amount": "11.00"}


# --- Orders 2026-01-01 ----------------------------------------------------------------------------------------------


def test_2026_with_the_role_shows_recipient_and_buyer_without_any_rdt(seller: Amazon) -> None:
    seller.add_orders(pii_order())
    order = order_2026(seller, "RECIPIENT,BUYER")
    assert order["recipient"] == {
        "deliveryAddress": {
            "name": "Jane Doe",
            "companyName": "Doe Ltd",
            "addressLine1": "1 High Street",
            "addressLine2": "Flat 2",
            "addressLine3": "Old Town",
            "city": "LEEDS",
            "districtOrCounty": "West Yorkshire",
            "stateOrRegion": "England",
            "municipality": "Leeds",
            "postalCode": "LS1 1AA",
            "countryCode": "GB",
            "phone": "+44 113 496 0000",
            "addressType": "RESIDENTIAL",
        },
        "deliveryPreference": {"addressInstruction": "Leave with the neighbour at no. 3"},
    }
    assert order["buyer"] == {
        "buyerName": "John Doe",
        "buyerEmail": "abc123@marketplace.amazon.co.uk",
        "buyerCompanyName": "Doe Holdings",
        "buyerPurchaseOrderNumber": "PO-77",
    }


def test_2026_search_orders_shows_the_same_buyer_data(seller: Amazon) -> None:
    seller.add_orders(pii_order())
    body = seller.sp(
        V2026,
        "searchOrders",
        "GET",
        "/orders/2026-01-01/orders",
        expect=200,
        params={"createdAfter": "2025-03-01T00:00:00Z", "includedData": "RECIPIENT,BUYER,FULFILLMENT"},
    ).json()
    order = body["orders"][0]
    assert order["recipient"]["deliveryAddress"]["addressLine1"] == "1 High Street"
    assert order["buyer"]["buyerEmail"] == "abc123@marketplace.amazon.co.uk"
    assert order["orderItems"][0]["fulfillment"]["packing"]["giftOption"]["giftMessage"] == "Happy birthday!"


def test_2026_without_the_role_shows_no_pii_and_no_buyer(amazon: Amazon) -> None:
    seller = no_pii_seller(amazon)
    seller.add_orders(pii_order())
    order = order_2026(seller, "RECIPIENT,BUYER,FULFILLMENT")
    assert order["recipient"] == {
        "deliveryAddress": {
            "city": "LEEDS",
            "districtOrCounty": "West Yorkshire",
            "stateOrRegion": "England",
            "municipality": "Leeds",
            "countryCode": "GB",
            "addressType": "RESIDENTIAL",
        }
    }, "Access Orders PII: the postal code is PII in 2026-01-01"
    assert "buyer" not in order
    assert order["orderItems"][0]["fulfillment"]["packing"] == {"giftOption": {"giftWrapLevel": "Classic"}}


def test_2026_buyer_and_recipient_need_their_included_data(seller: Amazon) -> None:
    seller.add_orders(pii_order())
    order = order_2026(seller, "PROCEEDS")
    assert "recipient" not in order and "buyer" not in order and "fulfillment" not in order["orderItems"][0]


@pytest.mark.parametrize(
    ("change", "recipient", "pii"),
    [
        ({"OrderStatus": "Unshipped"}, True, True),
        ({"OrderStatus": "PartiallyShipped"}, True, True),
        ({"OrderStatus": "Shipped"}, True, True),
        ({"OrderStatus": "InvoiceUnconfirmed"}, True, True),
        ({"OrderStatus": "Pending"}, False, False),
        ({"OrderStatus": "Canceled"}, False, False),
        ({"FulfillmentChannel": "AFN"}, True, False),
    ],
    ids=["unshipped", "partially-shipped", "shipped", "invoice-unconfirmed", "pending", "canceled", "afn"],
)
def test_2026_pii_only_for_merchant_orders_in_the_shipping_statuses(
    seller: Amazon, change: dict[str, Any], recipient: bool, pii: bool
) -> None:
    seller.add_orders(pii_order(**change))
    order = order_2026(seller, "RECIPIENT,BUYER,FULFILLMENT")
    assert ("recipient" in order) is recipient
    assert ("name" in order.get("recipient", {}).get("deliveryAddress", {})) is pii
    assert ("buyer" in order) is pii
    gift = order["orderItems"][0]["fulfillment"].get("packing", {}).get("giftOption", {})
    assert ("giftMessage" in gift) is pii


def test_2026_phone_is_suppressed_once_a_shipped_order_is_past_its_latest_delivery(seller: Amazon) -> None:
    seller.add_orders(pii_order(OrderStatus="Shipped", LatestDeliveryDate="2025-03-05T00:00:00Z"))
    address = order_2026(seller, "RECIPIENT")["recipient"]["deliveryAddress"]
    assert "phone" not in address and address["name"] == "Jane Doe"


def test_2026_fills_the_non_pii_fields_the_connector_maps(seller: Amazon) -> None:
    seller.add_orders(
        pii_order(
            IsPrime=True,
            IsPremiumOrder=True,
            IsBusinessOrder=True,
            IsISPU=True,
            EasyShipShipmentStatus="PendingPickUp",
            IsReplacementOrder=True,
            ReplacedOrderId="202-0000000-0000009",
            OrderItems=[
                {
                    "OrderItemId": "10000000000001",
                    "SellerSKU": "SKU-A",
                    "ASIN": "B0TESTASIN",
                    "Title": "A tent",
                    "ConditionId": "Used",
                    "ConditionSubtypeId": "Very Good",
                    "QuantityOrdered": 2,
                    "ItemPrice": "20.00",
                    "ItemTax": "3.33",
                    "ShippingPrice": "5.00",
                    "PromotionDiscount": "2.00",
                    "PromotionIds": ["PROMO-1"],
                }
            ],
        )
    )
    order = order_2026(seller, "PROCEEDS,PROMOTION,FULFILLMENT")
    assert order["programs"] == ["PRIME", "PREMIUM", "AMAZON_BUSINESS", "AMAZON_EASY_SHIP", "IN_STORE_PICK_UP"]
    assert order["associatedOrders"] == [
        {"orderId": "202-0000000-0000009", "associationType": "REPLACEMENT_ORIGINAL_ID"}
    ]
    assert set(order["fulfillment"]) >= {"shipByWindow", "deliverByWindow"}
    item = order["orderItems"][0]
    assert item["product"]["asin"] == "B0TESTASIN" and item["product"]["title"] == "A tent"
    assert item["product"]["condition"] == {"conditionType": "USED", "conditionSubtype": "VERY_GOOD"}
    assert item["product"]["price"]["unitPrice"] == {"amount": "10.00", "currencyCode": "GBP"}
    assert item["proceeds"] == {
        "proceedsTotal": {"amount": "23.00", "currencyCode": "GBP"},
        "breakdowns": [
            {"type": "ITEM", "subtotal": {"amount": "20.00", "currencyCode": "GBP"}},
            {"type": "SHIPPING", "subtotal": {"amount": "5.00", "currencyCode": "GBP"}},
            {"type": "TAX", "subtotal": {"amount": "3.33", "currencyCode": "GBP"}},
            {"type": "DISCOUNT", "subtotal": {"amount": "-2.00", "currencyCode": "GBP"}},
        ],
    }
    assert item["promotion"] == {"breakdowns": [{"promotionId": "PROMO-1"}]}
    assert order["proceeds"]["grandTotal"] == {"amount": "23.00", "currencyCode": "GBP"}


# --- the control API's view of Amazon ------------------------------------------------------------------------------


def test_the_control_api_shows_the_order_as_amazon_holds_it_pii_included(amazon: Amazon) -> None:
    seller = no_pii_seller(amazon)
    seller.add_orders(pii_order(OrderStatus="Pending"))
    held = seller.order(ORDER_ID)
    assert held["ShippingAddress"] == FULL_ADDRESS
    assert held["BuyerInfo"]["BuyerCompanyName"] == "Doe Holdings"
    assert held["DeliveryPreferences"] == {"AddressInstructions": "Leave with the neighbour at no. 3"}
    assert held["OrderItems"][0]["BuyerInfo"] == GIFT
    assert held["OrderItems"][0]["ItemPrice"]["Amount"] == "19.98"
