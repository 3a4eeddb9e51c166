"""One stored order, two wire shapes: Orders v0 and Orders 2026-01-01.

The field mapping follows Amazon's migration table (README §5): `FulfillmentChannel` MFN/AFN ->
`fulfillment.fulfilledBy` MERCHANT/AMAZON, `ShipmentServiceLevelCategory` NextDay ->
`fulfillment.fulfillmentServiceLevel` NEXT_DAY, `IsPrime`/`IsPremiumOrder`/`IsBusinessOrder` ->
`programs`, v0's line-total `ItemPrice` -> the per-unit `product.price.unitPrice`, and no
order-level equivalent of the free-text `ShipServiceLevel`. In 2026-01-01 only the basic order and
its items come back unless `includedData` asks for more (FULFILLMENT, RECIPIENT, PROCEEDS, PACKAGES, …).
"""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Any

from .state import ADDRESS_VISIBLE_STATUSES, Order, OrderItem
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


def service_level_2026(category: str) -> str:
    """`NextDay` -> `NEXT_DAY`, `FreeEconomy` -> `FREE_ECONOMY`."""
    return re.sub(r"(?<=[a-z])(?=[A-Z])", "_", category).upper()


def _money_v0(amount: Decimal | None, currency: str, exponent: int) -> dict[str, str] | None:
    if amount is None:
        return None
    return {"CurrencyCode": currency, "Amount": str(amount.quantize(Decimal(1).scaleb(-exponent)))}


def _money_2026(amount: Decimal | None, currency: str, exponent: int) -> dict[str, str] | None:
    if amount is None:
        return None
    return {"amount": str(amount.quantize(Decimal(1).scaleb(-exponent))), "currencyCode": currency}


def order_v0(order: Order) -> dict[str, Any]:
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
        "IsReplacementOrder": False,
        "IsSoldByAB": False,
        "IsISPU": False,
        "IsAccessPointOrder": False,
        "HasRegulatedItems": False,
    }
    if order.seller_order_id:
        body["SellerOrderId"] = order.seller_order_id
    if order.ship_service_level is not None:
        body["ShipServiceLevel"] = order.ship_service_level
    if order.service_level_category is not None:
        body["ShipmentServiceLevelCategory"] = order.service_level_category
    if order.earliest_delivery and order.latest_delivery:
        body["EarliestDeliveryDate"] = iso(order.earliest_delivery)
        body["LatestDeliveryDate"] = iso(order.latest_delivery)
    if order.status not in _PENDING:
        total = _money_v0(order.total(), mp.currency, mp.currency_exponent)
        if total:
            body["OrderTotal"] = total
    if order.status in ADDRESS_VISIBLE_STATUSES:
        # Without a Restricted Data Token Amazon leaves out name, street and phone.
        body["ShippingAddress"] = dict(order.address)
    return body


def order_item_v0(order: Order, item: OrderItem) -> dict[str, Any]:
    mp = order.marketplace
    body: dict[str, Any] = {
        "ASIN": item.asin,
        "SellerSKU": item.seller_sku,
        "OrderItemId": item.order_item_id,
        "Title": item.title,
        "QuantityOrdered": item.quantity_ordered,
        "QuantityShipped": order.shipped(item.order_item_id),
        "ProductInfo": {"NumberOfItems": "1"},
        "ConditionId": "New",
        "ConditionSubtypeId": "New",
        "IsTransparency": False,
        "SerialNumberRequired": False,
    }
    # While an order is Pending, Amazon withholds prices, taxes and gift status.
    if order.status not in _PENDING:
        price = _money_v0(item.item_price, mp.currency, mp.currency_exponent)
        if price:
            body["ItemPrice"] = price
            body["ItemTax"] = {
                "CurrencyCode": mp.currency,
                "Amount": str(Decimal(0).quantize(Decimal(1).scaleb(-mp.currency_exponent))),
            }
        body["IsGift"] = "false"
    return body


def order_2026(order: Order, included: set[str]) -> dict[str, Any]:
    mp = order.marketplace
    body: dict[str, Any] = {
        "orderId": order.amazon_order_id,
        "createdTime": iso(order.purchase_date),
        "lastUpdatedTime": iso(order.last_update_date),
        "salesChannel": {"channelName": "AMAZON", "marketplaceId": mp.marketplace_id, "marketplaceName": mp.name},
        "orderItems": [_item_2026(order, item, included) for item in order.items],
    }
    if order.seller_order_id:
        body["orderAliases"] = [{"aliasId": order.seller_order_id, "aliasType": "SELLER_ORDER_ID"}]
    programs = [
        name
        for name, flag in (
            ("PRIME", order.is_prime),
            ("PREMIUM", order.is_premium),
            ("AMAZON_BUSINESS", order.is_business),
        )
        if flag
    ]
    if programs:
        body["programs"] = programs
    if "FULFILLMENT" in included:
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
        body["fulfillment"] = fulfillment
    if "RECIPIENT" in included and order.status in ADDRESS_VISIBLE_STATUSES:
        body["recipient"] = {"deliveryAddress": _address_2026(order.address)}
    if "PROCEEDS" in included and order.status not in _PENDING:
        total = _money_2026(order.total(), mp.currency, mp.currency_exponent)
        if total:
            body["proceeds"] = {"grandTotal": total}
    if "PACKAGES" in included and order.fulfillment_channel == "MFN" and order.shipments:
        body["packages"] = [
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
    return body


def _item_2026(order: Order, item: OrderItem, included: set[str]) -> dict[str, Any]:
    mp = order.marketplace
    product: dict[str, Any] = {
        "asin": item.asin,
        "title": item.title,
        "sellerSku": item.seller_sku,
        "condition": {"conditionType": "NEW", "conditionSubtype": "NEW"},
    }
    if order.status not in _PENDING:
        unit = _money_2026(item.unit_price(mp.currency_exponent), mp.currency, mp.currency_exponent)
        if unit:
            product["price"] = {"unitPrice": unit}
    body: dict[str, Any] = {
        "orderItemId": item.order_item_id,
        "quantityOrdered": item.quantity_ordered,
        "product": product,
    }
    if "FULFILLMENT" in included:
        shipped = order.shipped(item.order_item_id)
        body["fulfillment"] = {"quantityFulfilled": shipped, "quantityUnfulfilled": item.quantity_ordered - shipped}
    if "PROCEEDS" in included and order.status not in _PENDING:
        total = _money_2026(item.item_price, mp.currency, mp.currency_exponent)
        if total:
            body["proceeds"] = {"proceedsTotal": total, "breakdowns": [{"type": "ITEM", "subtotal": total}]}
    return body


def _address_2026(address: dict[str, str]) -> dict[str, str]:
    renamed = {
        "City": "city",
        "County": "districtOrCounty",
        "District": "districtOrCounty",
        "StateOrRegion": "stateOrRegion",
        "Municipality": "municipality",
        "PostalCode": "postalCode",
        "CountryCode": "countryCode",
    }
    body = {renamed[k]: v for k, v in address.items() if k in renamed}
    body["addressType"] = "RESIDENTIAL"
    return body
