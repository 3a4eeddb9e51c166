"""One stored order, two wire shapes: the Orders v0 -> 2026-01-01 field mapping of the simulator."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest

from local.simulator.errors import ControlError
from local.simulator.marketplaces import by_code_or_id
from local.simulator.orders import Disclosure, order_2026, order_item_v0, order_v0, service_level_2026
from local.simulator.state import Order, Seller, order_from_input

pytestmark = pytest.mark.unit

NOW = datetime(2025, 6, 1, 12, 0, tzinfo=UTC)
SELLER = Seller("A1SIMSELLER01", "Atzr|x", [m for m in (by_code_or_id("UK"), by_code_or_id("JP")) if m], "Store")
ALL_DATA = {"FULFILLMENT", "RECIPIENT", "PROCEEDS", "PACKAGES"}
ROLE = Disclosure(address=True, buyer=True, as_of=NOW)  # an app with the Direct-to-Consumer Delivery role


def stored(**overrides: Any) -> Order:
    raw: dict[str, Any] = {
        "AmazonOrderId": "202-0000001-0000001",
        "PurchaseDate": "2025-05-01T10:00:00Z",
        "LastUpdateDate": "2025-05-01T11:00:00+01:00",
        "MarketplaceId": "A1F83G8C2ARO7P",
        "ShipServiceLevel": "Std UK Dom_2",
        "ShipmentServiceLevelCategory": "SecondDay",
        "IsPrime": True,
        "OrderItems": [
            {
                "OrderItemId": "1",
                "SellerSKU": "SKU-A",
                "QuantityOrdered": 3,
                "ItemPrice": {"CurrencyCode": "GBP", "Amount": "10.00"},
            }
        ],
    }
    raw.update(overrides)
    return order_from_input(raw, SELLER, NOW, None)


@pytest.mark.parametrize(
    ("category", "level"),
    [
        ("Standard", "STANDARD"),
        ("NextDay", "NEXT_DAY"),
        ("SecondDay", "SECOND_DAY"),
        ("FreeEconomy", "FREE_ECONOMY"),
        ("SameDay", "SAME_DAY"),
        ("Expedited", "EXPEDITED"),
    ],
)
def test_service_level_categories_take_their_2026_spelling(category: str, level: str) -> None:
    assert service_level_2026(category) == level


def test_the_line_total_becomes_a_per_unit_price_rounded_to_the_currency() -> None:
    item = order_2026(stored(), set())["orderItems"][0]
    assert item["product"]["price"]["unitPrice"] == {"amount": "3.33", "currencyCode": "GBP"}


def test_yen_prices_have_no_decimals() -> None:
    order = stored(
        MarketplaceId="JP",
        ShippingAddress={"CountryCode": "JP"},
        OrderItems=[
            {
                "OrderItemId": "1",
                "SellerSKU": "A",
                "QuantityOrdered": 2,
                "ItemPrice": {"CurrencyCode": "JPY", "Amount": "1000"},
            }
        ],
    )
    assert order_2026(order, set())["orderItems"][0]["product"]["price"]["unitPrice"]["amount"] == "500"
    assert order_v0(order)["OrderTotal"] == {"CurrencyCode": "JPY", "Amount": "1000"}


def test_prime_premium_and_business_become_programs() -> None:
    assert order_2026(stored(IsPremiumOrder=True, IsBusinessOrder=True), set())["programs"] == [
        "PRIME",
        "PREMIUM",
        "AMAZON_BUSINESS",
    ]
    assert "programs" not in order_2026(stored(IsPrime=False), set())


def test_fulfillment_data_comes_only_when_asked_for() -> None:
    assert "fulfillment" not in order_2026(stored(), set())
    fulfillment = order_2026(stored(), {"FULFILLMENT"})["fulfillment"]
    assert fulfillment == {
        "fulfillmentStatus": "UNSHIPPED",
        "fulfilledBy": "MERCHANT",
        "fulfillmentServiceLevel": "SECOND_DAY",
        "shipByWindow": {"earliestDateTime": "2025-05-01T10:00:00Z", "latestDateTime": "2025-05-03T10:00:00Z"},
        "deliverByWindow": {"earliestDateTime": "2025-05-03T10:00:00Z", "latestDateTime": "2025-05-06T10:00:00Z"},
    }


def test_the_recipient_country_comes_with_recipient_data_and_the_postal_code_only_with_the_role() -> None:
    order = stored(ShippingAddress={"CountryCode": "IE", "PostalCode": "D02", "AddressType": "Commercial"})
    # "Access Orders PII" lists recipient.deliveryAddress.postalCode as PII; the address type is not.
    assert order_2026(order, {"RECIPIENT"})["recipient"]["deliveryAddress"] == {
        "countryCode": "IE",
        "addressType": "COMMERCIAL",
    }
    assert order_2026(order, {"RECIPIENT"}, ROLE)["recipient"]["deliveryAddress"] == {
        "postalCode": "D02",
        "countryCode": "IE",
        "addressType": "COMMERCIAL",
    }
    assert "recipient" not in order_2026(order, {"FULFILLMENT"})


def test_times_are_written_in_utc_with_a_z() -> None:
    order = order_2026(stored(), set())
    assert (order["createdTime"], order["lastUpdatedTime"]) == ("2025-05-01T10:00:00Z", "2025-05-01T10:00:00Z")


def test_v0_keeps_the_free_text_ship_service_level_that_2026_does_not_have() -> None:
    assert order_v0(stored())["ShipServiceLevel"] == "Std UK Dom_2"
    assert "Std UK Dom_2" not in str(order_2026(stored(), ALL_DATA))


def test_an_afn_order_is_fulfilled_by_amazon() -> None:
    assert order_2026(stored(FulfillmentChannel="AFN"), {"FULFILLMENT"})["fulfillment"]["fulfilledBy"] == "AMAZON"


def test_shipped_quantities_follow_the_order_status_when_not_given() -> None:
    order = stored(OrderStatus="Shipped")
    assert order_item_v0(order, order.items[0])["QuantityShipped"] == 3
    assert order_2026(order, {"FULFILLMENT"})["orderItems"][0]["fulfillment"] == {
        "quantityFulfilled": 3,
        "quantityUnfulfilled": 0,
    }


def test_a_pending_order_has_no_prices_in_either_shape() -> None:
    order = stored(OrderStatus="Pending")
    assert "ItemPrice" not in order_item_v0(order, order.items[0])
    assert "price" not in order_2026(order, ALL_DATA)["orderItems"][0]["product"]
    assert "proceeds" not in order_2026(order, ALL_DATA)


def test_an_item_price_may_be_given_as_a_bare_amount() -> None:
    order = stored(OrderItems=[{"SellerSKU": "A", "QuantityOrdered": 1, "ItemPrice": 4.5}])
    assert order.items[0].item_price == Decimal("4.5")
    assert order.items[0].order_item_id.isdigit()


def test_a_marketplace_the_seller_is_not_in_is_refused() -> None:
    with pytest.raises(ControlError, match="does not participate"):
        stored(MarketplaceId="US")


def test_phone_is_withheld_for_afn_orders_and_for_shipped_orders_past_their_latest_delivery() -> None:
    address = {"CountryCode": "GB", "Name": "Jane", "Phone": "0113"}
    unshipped = stored(ShippingAddress=address)
    assert order_v0(unshipped, ROLE)["ShippingAddress"]["Phone"] == "0113"
    late = stored(ShippingAddress=address, OrderStatus="Shipped", LatestDeliveryDate="2025-05-31T00:00:00Z")
    assert "Phone" not in order_v0(late, ROLE)["ShippingAddress"]
    assert "phone" not in order_2026(late, {"RECIPIENT"}, ROLE)["recipient"]["deliveryAddress"]
    on_time = stored(ShippingAddress=address, OrderStatus="Shipped", LatestDeliveryDate="2025-06-02T00:00:00Z")
    assert order_v0(on_time, ROLE)["ShippingAddress"]["Phone"] == "0113"


def test_an_address_without_disclosure_keeps_only_the_non_pii_fields() -> None:
    address = {
        "CountryCode": "GB",
        "Name": "Jane",
        "AddressLine1": "1 St",
        "District": "Soho",
        "AddressType": "Residential",
    }
    order = stored(ShippingAddress=address)
    assert order_v0(order)["ShippingAddress"] == {"CountryCode": "GB", "District": "Soho"}
    assert order_2026(order, {"RECIPIENT"})["recipient"]["deliveryAddress"] == {
        "districtOrCounty": "Soho",
        "countryCode": "GB",
        "addressType": "RESIDENTIAL",
    }


def test_gift_data_in_both_shapes() -> None:
    gift = {"GiftMessageText": "Hi", "GiftWrapLevel": "Deluxe"}
    order = stored(OrderItems=[{"OrderItemId": "1", "SellerSKU": "A", "IsGift": True, "BuyerInfo": gift}])
    assert order_item_v0(order, order.items[0], ROLE)["BuyerInfo"] == gift
    assert "BuyerInfo" not in order_item_v0(order, order.items[0])
    packing = order_2026(order, {"FULFILLMENT"}, ROLE)["orderItems"][0]["fulfillment"]["packing"]
    assert packing == {"giftOption": {"giftWrapLevel": "Deluxe", "giftMessage": "Hi"}}
