"""One order, two Orders APIs, one stored order (SPEC §6.2, §6.6): the address a warehouse ships to,
the buyer, titles, gift messages, money and programs read the same from v0 (with a Restricted Data
Token) and from 2026-01-01 (RECIPIENT, BUYER, FULFILLMENT, PROCEEDS)."""

from __future__ import annotations

from decimal import Decimal

import pytest
from oms_amazon.adapters.amazon_orders import order_from_2026, order_from_v0
from oms_amazon.adapters.sp_api.models import Order2026, OrderItemV0, OrderV0
from oms_amazon.domain.orders import Buyer, Gift, Money

from tests.contract.model_contract import contract

pytestmark = pytest.mark.unit

UK = "A1F83G8C2ARO7P"
V0_ORDER = {
    "AmazonOrderId": "202-1234567-1234567",
    "PurchaseDate": "2026-06-01T09:00:00Z",
    "LastUpdateDate": "2026-06-01T10:00:00Z",
    "OrderStatus": "Unshipped",
    "FulfillmentChannel": "MFN",
    "SalesChannel": "Amazon.co.uk",
    "MarketplaceId": UK,
    "ShipServiceLevel": "Std UK Dom_1",
    "ShipmentServiceLevelCategory": "Standard",
    "OrderTotal": {"CurrencyCode": "GBP", "Amount": "45.98"},
    "IsBusinessOrder": True,
    "IsPrime": True,
    "IsPremiumOrder": False,
    "IsReplacementOrder": True,
    "ReplacedOrderId": "202-7654321-7654321",
    "EarliestShipDate": "2026-06-01T23:00:00Z",
    "LatestShipDate": "2026-06-03T23:00:00Z",
    "LatestDeliveryDate": "2026-06-06T23:00:00Z",
    "ShippingAddress": {
        "Name": "Jane Smith",
        "CompanyName": "Smith & Co",
        "AddressLine1": "1 High Street",
        "AddressLine2": "Flat 2",
        "City": "London",
        "County": "Greater London",
        "PostalCode": "SW1A 1AA",
        "CountryCode": "GB",
        "Phone": "+44 20 7946 0000",
        "AddressType": "Commercial",
    },
    "BuyerInfo": {
        "BuyerEmail": "x7k2@marketplace.amazon.co.uk",
        "BuyerName": "Jane Smith",
        "PurchaseOrderNumber": "PO-77",
        "BuyerTaxInfo": {"CompanyLegalName": "Smith & Co Ltd"},
    },
}
V0_ITEMS = [
    {
        "ASIN": "B0TENT0001",
        "OrderItemId": "11111111111111",
        "SellerSKU": "TENT-2P",
        "Title": "Two-person tent",
        "QuantityOrdered": 2,
        "ConditionId": "New",
        "ItemPrice": {"CurrencyCode": "GBP", "Amount": "39.98"},
        "ItemTax": {"CurrencyCode": "GBP", "Amount": "6.66"},
        "PromotionDiscount": {"CurrencyCode": "GBP", "Amount": "2.00"},
        "ShippingPrice": {"CurrencyCode": "GBP", "Amount": "4.00"},
        "IsGift": "true",
        "BuyerInfo": {"GiftMessageText": "Happy camping!", "GiftWrapLevel": "Classic"},
    },
    {
        "ASIN": "B0MAT00001",
        "OrderItemId": "22222222222222",
        "SellerSKU": "MAT-BLUE",
        "Title": "Sleeping mat",
        "QuantityOrdered": 1,
        "ConditionId": "Used",
        "ItemPrice": {"CurrencyCode": "GBP", "Amount": "6.00"},
        "ShippingPrice": {"CurrencyCode": "GBP", "Amount": "0.00"},
        "IsGift": "false",
    },
]


def money(amount: str) -> dict[str, str]:
    return {"amount": amount, "currencyCode": "GBP"}


ORDER_2026 = {
    "orderId": "202-1234567-1234567",
    "createdTime": "2026-06-01T09:00:00Z",
    "lastUpdatedTime": "2026-06-01T10:00:00Z",
    "salesChannel": {"channelName": "AMAZON", "marketplaceId": UK, "marketplaceName": "Amazon.co.uk"},
    "programs": ["PRIME", "AMAZON_BUSINESS"],
    "associatedOrders": [{"orderId": "202-7654321-7654321", "associationType": "REPLACEMENT_ORIGINAL_ID"}],
    "fulfillment": {
        "fulfillmentStatus": "UNSHIPPED",
        "fulfilledBy": "MERCHANT",
        "fulfillmentServiceLevel": "STANDARD",
        "shipByWindow": {"earliestDateTime": "2026-06-01T23:00:00Z", "latestDateTime": "2026-06-03T23:00:00Z"},
        "deliverByWindow": {"earliestDateTime": "2026-06-04T23:00:00Z", "latestDateTime": "2026-06-06T23:00:00Z"},
    },
    "recipient": {
        "deliveryAddress": {
            "name": "Jane Smith",
            "companyName": "Smith & Co",
            "addressLine1": "1 High Street",
            "addressLine2": "Flat 2",
            "city": "London",
            "districtOrCounty": "Greater London",
            "postalCode": "SW1A 1AA",
            "countryCode": "GB",
            "phone": "+44 20 7946 0000",
            "addressType": "COMMERCIAL",
        },
        "deliveryPreference": {"addressInstruction": "Leave with the concierge"},
    },
    "buyer": {
        "buyerName": "Jane Smith",
        "buyerEmail": "x7k2@marketplace.amazon.co.uk",
        "buyerCompanyName": "Smith & Co Ltd",
        "buyerPurchaseOrderNumber": "PO-77",
    },
    "proceeds": {
        "grandTotal": money("45.98"),
        "breakdowns": [{"type": "ITEM", "subtotal": money("45.98")}, {"type": "SHIPPING", "subtotal": money("4.00")}],
    },
    "orderItems": [
        {
            "orderItemId": "11111111111111",
            "quantityOrdered": 2,
            "product": {
                "asin": "B0TENT0001",
                "title": "Two-person tent",
                "sellerSku": "TENT-2P",
                "condition": {"conditionType": "NEW", "conditionSubtype": "NEW"},
                "price": {"unitPrice": money("19.99")},
            },
            "proceeds": {
                "proceedsTotal": money("39.98"),
                "breakdowns": [
                    {"type": "ITEM", "subtotal": money("39.98")},
                    {"type": "TAX", "subtotal": money("6.66")},
                    {"type": "DISCOUNT", "subtotal": money("-2.00")},
                ],
            },
            "fulfillment": {
                "quantityFulfilled": 0,
                "quantityUnfulfilled": 2,
                "packing": {"giftOption": {"giftMessage": "Happy camping!", "giftWrapLevel": "Classic"}},
            },
        },
        {
            "orderItemId": "22222222222222",
            "quantityOrdered": 1,
            "product": {
                "asin": "B0MAT00001",
                "title": "Sleeping mat",
                "sellerSku": "MAT-BLUE",
                "condition": {"conditionType": "USED", "conditionSubtype": "GOOD"},
                "price": {"unitPrice": money("6.00")},
            },
        },
    ],
}


@pytest.fixture
def from_v0():
    return order_from_v0(OrderV0.model_validate(V0_ORDER), [OrderItemV0.model_validate(i) for i in V0_ITEMS])


@pytest.fixture
def from_2026():
    return order_from_2026(Order2026.model_validate(ORDER_2026), UK)


def test_the_label_address_buyer_and_gift_messages_come_through(from_v0, from_2026):
    for order in (from_v0, from_2026):
        assert order.pii is not None
        assert order.pii.ship_to is not None and order.pii.ship_to.label_ready
        assert (order.pii.ship_to.name, order.pii.ship_to.address_line_1, order.pii.ship_to.postal_code) == (
            "Jane Smith",
            "1 High Street",
            "SW1A 1AA",
        )
        assert (order.pii.ship_to.district, order.pii.ship_to.phone) == ("Greater London", "+44 20 7946 0000")
        assert order.pii.buyer == Buyer("Jane Smith", "x7k2@marketplace.amazon.co.uk", "Smith & Co Ltd", "PO-77")
        assert order.pii.gift("11111111111111") == Gift("Happy camping!", "Classic")
        assert order.pii.gift("22222222222222") is None
    assert from_2026.pii.ship_to.delivery_instructions == "Leave with the concierge"


def test_both_apis_give_the_same_lines_money_dates_and_programs(from_v0, from_2026):
    assert from_v0.lines == from_2026.lines
    tent = from_v0.lines[0]
    assert (tent.asin, tent.title, tent.condition, tent.is_gift) == ("B0TENT0001", "Two-person tent", "New", True)
    assert (tent.unit_price, tent.item_tax, tent.promotion_discount) == (
        Money(Decimal("19.99"), "GBP"),
        Money(Decimal("6.66"), "GBP"),
        Money(Decimal("2.00"), "GBP"),
    )
    for name in (
        "order_total",
        "shipping_price",
        "is_business_order",
        "is_replacement",
        "is_prime",
        "earliest_ship_date",
        "ship_by",
        "deliver_by",
        "sales_channel",
        "amazon_handles_delivery",
        "in_store_pickup",
    ):
        assert getattr(from_v0, name) == getattr(from_2026, name), name
    assert set(from_v0.programs) == set(from_2026.programs) == {"PRIME", "AMAZON_BUSINESS"}
    assert from_v0.order_total == Money(Decimal("45.98"), "GBP")
    assert from_v0.shipping_price == Money(Decimal("4.00"), "GBP")


def test_without_a_restricted_data_token_v0_gives_no_label_address():
    withheld = {k: v for k, v in V0_ORDER.items() if k != "BuyerInfo"}
    withheld["ShippingAddress"] = {"City": "London", "PostalCode": "SW1A 1AA", "CountryCode": "GB"}
    items = [{k: v for k, v in item.items() if k != "BuyerInfo"} for item in V0_ITEMS]

    order = order_from_v0(OrderV0.model_validate(withheld), [OrderItemV0.model_validate(i) for i in items])

    assert not order.address_available
    assert order.pii is not None and order.pii.buyer is None and order.pii.gifts == ()


def test_without_the_role_2026_gives_no_recipient_or_buyer():
    bare = {k: v for k, v in ORDER_2026.items() if k not in ("recipient", "buyer")}

    order = order_from_2026(Order2026.model_validate(bare), UK, pii_note="the app lacks the role")

    assert not order.address_available
    assert order.pii_note == "the app lacks the role"


@pytest.mark.parametrize(
    ("v0_changes", "programs", "flag"),
    [
        ({"EasyShipShipmentStatus": "PendingPickUp"}, ["AMAZON_EASY_SHIP"], "amazon_handles_delivery"),
        ({"IsISPU": True}, ["IN_STORE_PICK_UP"], "in_store_pickup"),
    ],
)
def test_easy_ship_and_in_store_pickup_read_the_same_from_both_apis(v0_changes, programs, flag):
    v0 = order_from_v0(OrderV0.model_validate({**V0_ORDER, **v0_changes}), [])
    new = order_from_2026(Order2026.model_validate({**ORDER_2026, "programs": programs}), UK)

    assert getattr(v0, flag) and getattr(new, flag)


def test_these_answers_are_ones_amazons_models_allow():
    contract("ordersV0").assert_valid("getOrders", 200, {"payload": {"Orders": [V0_ORDER]}})
    contract("ordersV0").assert_valid(
        "getOrderItems", 200, {"payload": {"AmazonOrderId": V0_ORDER["AmazonOrderId"], "OrderItems": V0_ITEMS}}
    )
    contract("orders_2026-01-01").assert_valid("searchOrders", 200, {"orders": [ORDER_2026]})
