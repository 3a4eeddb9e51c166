"""One stored order, two wire shapes: Orders v0 and Orders 2026-01-01, each under Amazon's buyer-data rules.

The field mapping follows Amazon's migration table (README §5): `FulfillmentChannel` MFN/AFN ->
`fulfillment.fulfilledBy` MERCHANT/AMAZON, `ShipmentServiceLevelCategory` NextDay ->
`fulfillment.fulfillmentServiceLevel` NEXT_DAY, `IsPrime`/`IsPremiumOrder`/`IsBusinessOrder` ->
`programs`, v0's line-total `ItemPrice` -> the per-unit `product.price.unitPrice`, and no
order-level equivalent of the free-text `ShipServiceLevel`. In 2026-01-01 only the basic order and
its items come back unless `includedData` asks for more (FULFILLMENT, RECIPIENT, PROCEEDS, PACKAGES, …).

Buyer data (PII) is shown only as far as a `Disclosure` allows: in v0 the data elements of the caller's
Restricted Data Token, in 2026 the app's Direct-to-Consumer Delivery role. Which fields are PII:
- v0 `ShippingAddress`: "Name, AddressLine1, AddressLine2, AddressLine3, Phone, AddressType, and
  ExtendedFields" (the model's note); `BuyerInfo` and each item's `BuyerInfo` whole.
- 2026: "recipient.deliveryAddress.name, addressLine1-3, postalCode, phone, extendedFields", buyer name and
  email, `giftOption.giftMessage` ("Access Orders PII", developer-docs.amazon.com/sp-api/docs/access-orders-pii).
Neither list names the recipient's company; the simulator withholds it with the name (it identifies the
recipient). Amazon's conditions on the order: merchant-fulfilled, and Unshipped/PartiallyShipped/Shipped.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from .state import ADDRESS_FIELDS, Order, OrderItem
from .times import iso

V0_TO_2026_STATUS = {
    "PendingAvailability": "PENDING_AVAILABILITY",
    "Pending": "PENDING",
    "Unshipped": "UNSHIPPED",
    "PartiallyShipped": "PARTIALLY_SHIPPED",
    "Shipped": "SHIPPED",
    # 2026-01-01 has no InvoiceUnconfirmed: the goods have left, so it reads as shipped.
    "InvoiceUnconfirmed": "SHIPPED",
    "Canceled": "CANCELLED",
    "Unfulfillable": "UNFULFILLABLE",
}
FULFILLED_BY = {"MFN": "MERCHANT", "AFN": "AMAZON"}
_PENDING = ("Pending", "PendingAvailability")
_SHIPPED = ("Shipped", "InvoiceUnconfirmed")
# What v0 shows of an address without a Restricted Data Token.
V0_OPEN_ADDRESS_FIELDS = ("City", "County", "District", "StateOrRegion", "Municipality", "PostalCode", "CountryCode")
# v0 BuyerInfo fields (the model's BuyerInfo has no company name: getOrderAddress carries it).
V0_BUYER_FIELDS = ("BuyerEmail", "BuyerName", "PurchaseOrderNumber")
# 2026 CustomerAddress, in the model's order: (v0 field, 2026 field, is PII per "Access Orders PII").
_ADDRESS_2026: tuple[tuple[str, str, bool], ...] = (
    ("Name", "name", True),
    ("CompanyName", "companyName", True),
    ("AddressLine1", "addressLine1", True),
    ("AddressLine2", "addressLine2", True),
    ("AddressLine3", "addressLine3", True),
    ("City", "city", False),
    ("County", "districtOrCounty", False),
    ("District", "districtOrCounty", False),
    ("StateOrRegion", "stateOrRegion", False),
    ("Municipality", "municipality", False),
    ("PostalCode", "postalCode", True),
    ("CountryCode", "countryCode", False),
    ("Phone", "phone", True),
    ("AddressType", "addressType", False),
)
_BUYER_2026 = (
    ("BuyerName", "buyerName"),
    ("BuyerEmail", "buyerEmail"),
    ("BuyerCompanyName", "buyerCompanyName"),
    ("PurchaseOrderNumber", "buyerPurchaseOrderNumber"),
)


@dataclass(frozen=True)
class Disclosure:
    """Which buyer data the caller may see. The order must also qualify (`Order.may_show_pii`) unless
    `unconditional`, which is the control API's view of everything Amazon holds."""

    address: bool = False
    buyer: bool = False
    as_of: datetime | None = None  # now, for Amazon's phone rule
    unconditional: bool = False

    def shows_address(self, order: Order) -> bool:
        return self.address and (self.unconditional or order.may_show_pii())

    def shows_buyer(self, order: Order) -> bool:
        return self.buyer and (self.unconditional or order.may_show_pii())

    def shows_prices(self, order: Order) -> bool:
        # While an order is Pending, Amazon withholds prices, taxes and gift status.
        return self.unconditional or order.status not in _PENDING

    def suppresses_phone(self, order: Order) -> bool:
        """Both models' phone note: suppressed for every AFN order, and for a shipped MFN order once the
        current date is past the latest delivery date."""
        if self.unconditional:
            return False
        if order.fulfillment_channel == "AFN":
            return True
        deadline = order.latest_delivery
        past_delivery = self.as_of is not None and deadline is not None and self.as_of > deadline
        return order.status in _SHIPPED and past_delivery


WITHHELD = Disclosure()
EVERYTHING = Disclosure(address=True, buyer=True, unconditional=True)


def service_level_2026(category: str) -> str:
    """`NextDay` -> `NEXT_DAY`, `FreeEconomy` -> `FREE_ECONOMY`."""
    return re.sub(r"(?<=[a-z])(?=[A-Z])", "_", category).upper()


def _quantized(amount: Decimal, exponent: int) -> str:
    return str(amount.quantize(Decimal(1).scaleb(-exponent)))


def _money_v0(amount: Decimal | None, currency: str, exponent: int) -> dict[str, str] | None:
    if amount is None:
        return None
    return {"CurrencyCode": currency, "Amount": _quantized(amount, exponent)}


def _money_2026(amount: Decimal | None, currency: str, exponent: int) -> dict[str, str] | None:
    if amount is None:
        return None
    return {"amount": _quantized(amount, exponent), "currencyCode": currency}


# --- Orders v0 -------------------------------------------------------------------------------------------


def address_v0(order: Order, disclosure: Disclosure) -> dict[str, str]:
    shows = disclosure.shows_address(order)
    fields = ADDRESS_FIELDS if shows else V0_OPEN_ADDRESS_FIELDS
    address = {k: v for k, v in order.address.items() if k in fields}
    if shows and disclosure.suppresses_phone(order):
        address.pop("Phone", None)
    return address


def order_v0(order: Order, disclosure: Disclosure = WITHHELD) -> dict[str, Any]:
    mp = order.marketplace
    body: dict[str, Any] = {
        "AmazonOrderId": order.amazon_order_id,
        "PurchaseDate": iso(order.purchase_date),
        "LastUpdateDate": iso(order.last_update_date),
        "OrderStatus": order.status,
        "FulfillmentChannel": order.fulfillment_channel,
        "SalesChannel": mp.name,
        "NumberOfItemsShipped": order.units_shipped(),
        "NumberOfItemsUnshipped": order.units_unshipped(),
        "PaymentMethod": "Other",
        "PaymentMethodDetails": ["Standard"],
        "MarketplaceId": mp.marketplace_id,
        "OrderType": order.order_type,
        "EarliestShipDate": iso(order.earliest_ship),
        "LatestShipDate": iso(order.latest_ship),
        "IsBusinessOrder": order.is_business,
        "IsPrime": order.is_prime,
        "IsPremiumOrder": order.is_premium,
        "IsGlobalExpressEnabled": False,
        "IsReplacementOrder": order.is_replacement,
        "IsSoldByAB": False,
        "IsISPU": order.is_ispu,
        "IsAccessPointOrder": False,
        "HasRegulatedItems": False,
    }
    if order.replaced_order_id:
        body["ReplacedOrderId"] = order.replaced_order_id
    if order.easy_ship_status:
        body["EasyShipShipmentStatus"] = order.easy_ship_status
    if order.seller_order_id:
        body["SellerOrderId"] = order.seller_order_id
    if order.ship_service_level is not None:
        body["ShipServiceLevel"] = order.ship_service_level
    if order.service_level_category is not None:
        body["ShipmentServiceLevelCategory"] = order.service_level_category
    if order.earliest_delivery and order.latest_delivery:
        body["EarliestDeliveryDate"] = iso(order.earliest_delivery)
        body["LatestDeliveryDate"] = iso(order.latest_delivery)
    if disclosure.shows_prices(order):
        total = _money_v0(order.total(), mp.currency, mp.currency_exponent)
        if total:
            body["OrderTotal"] = total
    if disclosure.unconditional or order.address_visible():
        body["ShippingAddress"] = address_v0(order, disclosure)
    buyer = {k: v for k, v in order.buyer.items() if k in V0_BUYER_FIELDS}
    if buyer and disclosure.shows_buyer(order):
        body["BuyerInfo"] = buyer
    return body


def order_item_v0(order: Order, item: OrderItem, disclosure: Disclosure = WITHHELD) -> dict[str, Any]:
    mp = order.marketplace
    body: dict[str, Any] = {
        "ASIN": item.asin,
        "SellerSKU": item.seller_sku,
        "OrderItemId": item.order_item_id,
        "Title": item.title,
        "QuantityOrdered": item.quantity_ordered,
        "QuantityShipped": order.shipped(item.order_item_id),
        "ProductInfo": {"NumberOfItems": "1"},
        "ConditionId": item.condition_id,
        "IsTransparency": False,
        "SerialNumberRequired": False,
    }
    if item.condition_subtype_id:
        body["ConditionSubtypeId"] = item.condition_subtype_id
    if item.promotion_ids:
        body["PromotionIds"] = list(item.promotion_ids)
    if disclosure.shows_prices(order):
        body.update(_item_prices_v0(item, mp.currency, mp.currency_exponent))
        body["IsGift"] = "true" if item.is_gift else "false"
    if item.gift and disclosure.shows_buyer(order):
        body["BuyerInfo"] = dict(item.gift)
    return body


def _item_prices_v0(item: OrderItem, currency: str, exponent: int) -> dict[str, Any]:
    if item.item_price is None:
        return {}
    zero = Decimal(0)
    prices = {
        "ItemPrice": _money_v0(item.item_price, currency, exponent),
        "ItemTax": _money_v0(item.item_tax or zero, currency, exponent),
        "PromotionDiscount": _money_v0(item.promotion_discount or zero, currency, exponent),
    }
    if item.shipping_price is not None:
        prices["ShippingPrice"] = _money_v0(item.shipping_price, currency, exponent)
    return prices


def order_address_v0(order: Order, disclosure: Disclosure = WITHHELD) -> dict[str, Any]:
    """getOrderAddress's `OrderAddress`: the address, the buyer's company and the delivery preferences."""
    body: dict[str, Any] = {"AmazonOrderId": order.amazon_order_id}
    shows = disclosure.shows_address(order)
    if shows and order.buyer.get("BuyerCompanyName"):
        body["BuyerCompanyName"] = order.buyer["BuyerCompanyName"]
    if order.address_visible():
        body["ShippingAddress"] = address_v0(order, disclosure)
    if shows and order.delivery_preferences:
        body["DeliveryPreferences"] = dict(order.delivery_preferences)
    return body


# --- Orders 2026-01-01 -------------------------------------------------------------------------------------


def _programs(order: Order) -> list[str]:
    flags = (
        ("PRIME", order.is_prime),
        ("PREMIUM", order.is_premium),
        ("AMAZON_BUSINESS", order.is_business),
        ("AMAZON_EASY_SHIP", order.easy_ship_status is not None),
        ("IN_STORE_PICK_UP", order.is_ispu),
    )
    return [name for name, flag in flags if flag]


def order_2026(order: Order, included: set[str], disclosure: Disclosure = WITHHELD) -> dict[str, Any]:
    body: dict[str, Any] = {
        "orderId": order.amazon_order_id,
        "createdTime": iso(order.purchase_date),
        "lastUpdatedTime": iso(order.last_update_date),
        "salesChannel": {
            "channelName": "AMAZON",
            "marketplaceId": order.marketplace.marketplace_id,
            "marketplaceName": order.marketplace.name,
        },
        "orderItems": [_item_2026(order, item, included, disclosure) for item in order.items],
    }
    if order.seller_order_id:
        body["orderAliases"] = [{"aliasId": order.seller_order_id, "aliasType": "SELLER_ORDER_ID"}]
    programs = _programs(order)
    if programs:
        body["programs"] = programs
    if order.replaced_order_id:
        body["associatedOrders"] = [{"orderId": order.replaced_order_id, "associationType": "REPLACEMENT_ORIGINAL_ID"}]
    if "FULFILLMENT" in included:
        body["fulfillment"] = _fulfillment_2026(order)
    if "RECIPIENT" in included and order.address_visible():
        body["recipient"] = _recipient_2026(order, disclosure)
    buyer = {name: order.buyer[key] for key, name in _BUYER_2026 if key in order.buyer}
    if "BUYER" in included and buyer and disclosure.shows_buyer(order):
        body["buyer"] = buyer
    if "PROCEEDS" in included and disclosure.shows_prices(order):
        proceeds = _order_proceeds_2026(order)
        if proceeds:
            body["proceeds"] = proceeds
    if "PACKAGES" in included and order.fulfillment_channel == "MFN" and order.shipments:
        body["packages"] = _packages_2026(order)
    return body


def _fulfillment_2026(order: Order) -> dict[str, Any]:
    fulfillment: dict[str, Any] = {
        "fulfillmentStatus": V0_TO_2026_STATUS[order.status],
        "fulfilledBy": FULFILLED_BY[order.fulfillment_channel],
        "shipByWindow": {"earliestDateTime": iso(order.earliest_ship), "latestDateTime": iso(order.latest_ship)},
    }
    if order.service_level_category:
        fulfillment["fulfillmentServiceLevel"] = service_level_2026(order.service_level_category)
    if order.earliest_delivery and order.latest_delivery:
        fulfillment["deliverByWindow"] = {
            "earliestDateTime": iso(order.earliest_delivery),
            "latestDateTime": iso(order.latest_delivery),
        }
    return fulfillment


def _recipient_2026(order: Order, disclosure: Disclosure) -> dict[str, Any]:
    recipient: dict[str, Any] = {"deliveryAddress": address_2026(order, disclosure)}
    preference = {
        name: order.delivery_preferences[key]
        for key, name in (("AddressInstructions", "addressInstruction"), ("DropOffLocation", "dropOffLocation"))
        if key in order.delivery_preferences
    }
    # v0 serves delivery preferences only through the restricted getOrderAddress, so they go with the PII.
    if preference and disclosure.shows_address(order):
        recipient["deliveryPreference"] = preference
    return recipient


def address_2026(order: Order, disclosure: Disclosure) -> dict[str, str]:
    shows = disclosure.shows_address(order)
    address: dict[str, str] = {}
    for key, name, pii in _ADDRESS_2026:
        if key in order.address and (shows or not pii) and name not in address:
            address[name] = order.address[key].upper() if key == "AddressType" else order.address[key]
    if shows and disclosure.suppresses_phone(order):
        address.pop("phone", None)
    return address


def _order_proceeds_2026(order: Order) -> dict[str, Any] | None:
    mp = order.marketplace
    total = _money_2026(order.total(), mp.currency, mp.currency_exponent)
    if total is None:
        return None
    sums: dict[str, Decimal] = {}
    for item in order.items:
        for kind, amount in _item_breakdown(item):
            sums[kind] = sums.get(kind, Decimal(0)) + amount
    return {"grandTotal": total, "breakdowns": _breakdowns(sums, mp.currency, mp.currency_exponent)}


def _item_breakdown(item: OrderItem) -> list[tuple[str, Decimal]]:
    """Proceeds categories of one line. EU prices include VAT, so TAX is the VAT inside ITEM (and the
    total is ITEM + SHIPPING + DISCOUNT); a promotion reduces the proceeds, so DISCOUNT is negative."""
    if item.item_price is None:
        return []
    parts = [("ITEM", item.item_price)]
    if item.shipping_price:
        parts.append(("SHIPPING", item.shipping_price))
    if item.item_tax:
        parts.append(("TAX", item.item_tax))
    if item.promotion_discount:
        parts.append(("DISCOUNT", -item.promotion_discount))
    return parts


def _breakdowns(parts: dict[str, Decimal], currency: str, exponent: int) -> list[dict[str, Any]]:
    return [{"type": kind, "subtotal": _money_2026(amount, currency, exponent)} for kind, amount in parts.items()]


def _packages_2026(order: Order) -> list[dict[str, Any]]:
    return [
        {
            "packageReferenceId": s.package_reference_id,
            "createdTime": iso(s.confirmed_at),
            "packageStatus": {"status": "SHIPPED"},
            "carrier": s.carrier_name if s.carrier_code == "Other" and s.carrier_name else s.carrier_code,
            "shipTime": s.ship_date,
            **({"shippingService": s.shipping_method} if s.shipping_method else {}),
            "trackingNumber": s.tracking_number,
            "packageItems": [{"orderItemId": i, "quantity": q} for i, q in s.items],
        }
        for s in order.shipments
    ]


def _condition_2026(item: OrderItem) -> dict[str, str]:
    """v0 `Used`/`Very Good` -> 2026 `USED`/`VERY_GOOD`."""
    condition = {"conditionType": item.condition_id.upper()}
    if item.condition_subtype_id:
        condition["conditionSubtype"] = item.condition_subtype_id.upper().replace(" ", "_")
    return condition


def _item_2026(order: Order, item: OrderItem, included: set[str], disclosure: Disclosure) -> dict[str, Any]:
    mp = order.marketplace
    product: dict[str, Any] = {
        "asin": item.asin,
        "title": item.title,
        "sellerSku": item.seller_sku,
        "condition": _condition_2026(item),
    }
    priced = disclosure.shows_prices(order)
    if priced:
        unit = _money_2026(item.unit_price(mp.currency_exponent), mp.currency, mp.currency_exponent)
        if unit:
            product["price"] = {"unitPrice": unit}
    body: dict[str, Any] = {
        "orderItemId": item.order_item_id,
        "quantityOrdered": item.quantity_ordered,
        "product": product,
    }
    if "FULFILLMENT" in included:
        body["fulfillment"] = _item_fulfillment_2026(order, item, disclosure)
    if "PROCEEDS" in included and priced:
        parts = _item_breakdown(item)
        if parts:
            total = sum((amount for kind, amount in parts if kind != "TAX"), Decimal(0))
            body["proceeds"] = {
                "proceedsTotal": _money_2026(total, mp.currency, mp.currency_exponent),
                "breakdowns": _breakdowns(dict(parts), mp.currency, mp.currency_exponent),
            }
    if "PROMOTION" in included and item.promotion_ids:
        body["promotion"] = {"breakdowns": [{"promotionId": p} for p in item.promotion_ids]}
    return body


def _item_fulfillment_2026(order: Order, item: OrderItem, disclosure: Disclosure) -> dict[str, Any]:
    shipped = order.shipped(item.order_item_id)
    fulfillment: dict[str, Any] = {
        "quantityFulfilled": shipped,
        "quantityUnfulfilled": item.quantity_ordered - shipped,
    }
    gift: dict[str, str] = {}
    # The wrap level is not PII; the message is ("Access Orders PII").
    if "GiftWrapLevel" in item.gift:
        gift["giftWrapLevel"] = item.gift["GiftWrapLevel"]
    if "GiftMessageText" in item.gift and disclosure.shows_buyer(order):
        gift["giftMessage"] = item.gift["GiftMessageText"]
    if gift:
        fulfillment["packing"] = {"giftOption": gift}
    return fulfillment
