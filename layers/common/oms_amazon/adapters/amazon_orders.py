"""Amazon's orders, from either Orders API (v0 or 2026-01-01), as the connector's `AmazonOrder`s: what
`SellerAmazon` returns for an import."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from oms_amazon.adapters.sp_api.models import (
    AddressV0,
    CustomerAddress,
    Money2026,
    MoneyV0,
    Order2026,
    OrderItemV0,
    OrderV0,
)
from oms_amazon.domain.orders import AmazonLine, AmazonOrder, Buyer, Gift, Money, OrderPii, ShipTo

# What searchOrders is asked for: the order's fulfilment, money, and — for an app with the
# Direct-to-Consumer Delivery role, with no Restricted Data Token — the recipient and buyer.
ORDER_DATA_2026 = ("FULFILLMENT", "PROCEEDS")
PII_DATA_2026 = ("RECIPIENT", "BUYER")
ROLE_NOTE_2026 = (
    "Orders 2026-01-01 shows the address only to an app with the Direct-to-Consumer Delivery (Restricted) role; "
    "check the app's roles in Developer Central."
)
# Programs under which Amazon's own courier collects and delivers the parcel.
AMAZON_DELIVERS_2026 = frozenset({"AMAZON_EASY_SHIP", "DELIVERY_BY_AMAZON"})

_STATUS_2026_TO_V0 = {
    "PENDING_AVAILABILITY": "PendingAvailability",
    "PENDING": "Pending",
    "UNSHIPPED": "Unshipped",
    "PARTIALLY_SHIPPED": "PartiallyShipped",
    "SHIPPED": "Shipped",
    "CANCELLED": "Canceled",
    "UNFULFILLABLE": "Unfulfillable",
}


def parse_bound(text: str | None) -> datetime | None:
    if not text:
        return None
    try:
        return datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None


def _money_v0(money: MoneyV0 | None) -> Money | None:
    if money is None or money.amount is None or not money.currency_code:
        return None
    return Money(money.amount, money.currency_code)


def _money_2026(money: Money2026 | None, *, absolute: bool = False) -> Money | None:
    if money is None:
        return None
    return Money(abs(money.amount) if absolute else money.amount, money.currency_code)


def _total(amounts: list[Money | None]) -> Money | None:
    present = [m for m in amounts if m is not None]
    if not present:
        return None
    return Money(sum((m.amount for m in present), Decimal(0)), present[0].currency)


def _condition(text: str | None) -> str | None:
    """One spelling for both APIs: v0's `New`, `Used`, … (2026-01-01 says `NEW`, `USED`, …)."""
    return text.replace("_", " ").title() if text else None


def v0_pii_note(refusal: str | None) -> str:
    if refusal:
        return f"Orders v0 shows the address only with a Restricted Data Token; {refusal}"
    return (
        "Orders v0 shows the address only with a Restricted Data Token, and only to an app with the "
        "Direct-to-Consumer Delivery (Restricted) role."
    )


def _ship_to(
    address: AddressV0 | CustomerAddress, *, district: str | None, delivery_instructions: str | None = None
) -> ShipTo:
    """The label's address from either API's address: they name their fields alike but for the district."""
    return ShipTo(
        name=address.name,
        company=address.company_name,
        address_line_1=address.address_line1,
        address_line_2=address.address_line2,
        address_line_3=address.address_line3,
        city=address.city,
        district=district,
        state_or_region=address.state_or_region,
        postal_code=address.postal_code,
        country_code=address.country_code,
        phone=address.phone,
        address_type=address.address_type,
        delivery_instructions=delivery_instructions,
    )


def ship_to_v0(address: AddressV0 | None) -> ShipTo | None:
    if address is None:
        return None
    return _ship_to(address, district=address.district or address.county)


def order_from_v0(order: OrderV0, items: list[OrderItemV0], *, pii_note: str | None = None) -> AmazonOrder:
    lines = []
    gifts: list[tuple[str, Gift]] = []
    for item in items:
        price = item.item_price
        unit = None
        if price is not None and price.amount is not None and price.currency_code and item.quantity_ordered:
            # v0's ItemPrice is the line total.
            unit = Money((price.amount / item.quantity_ordered).quantize(Decimal("0.01")), price.currency_code)
        lines.append(
            AmazonLine(
                item.order_item_id,
                item.seller_sku or "",
                item.quantity_ordered,
                unit,
                asin=item.asin,
                title=item.title,
                condition=_condition(item.condition_id),
                item_tax=_money_v0(item.item_tax),
                promotion_discount=_money_v0(item.promotion_discount),
                is_gift=(item.is_gift or "").lower() == "true",
            )
        )
        info = item.buyer_info
        if info is not None and (info.gift_message_text or info.gift_wrap_level):
            gifts.append((item.order_item_id, Gift(info.gift_message_text, info.gift_wrap_level)))
    buyer = order.buyer_info
    pii = OrderPii(
        ship_to=ship_to_v0(order.shipping_address),
        buyer=Buyer(
            name=buyer.buyer_name,
            email=buyer.buyer_email,
            company=buyer.buyer_tax_info.company_legal_name if buyer.buyer_tax_info else None,
            purchase_order_number=buyer.purchase_order_number,
        )
        if buyer is not None and (buyer.buyer_name or buyer.buyer_email or buyer.purchase_order_number)
        else None,
        gifts=tuple(gifts),
    )
    programs = tuple(
        name
        for name, flag in (
            ("PRIME", order.is_prime),
            ("PREMIUM", order.is_premium_order),
            ("AMAZON_BUSINESS", order.is_business_order),
            ("AMAZON_EASY_SHIP", order.easy_ship_shipment_status is not None),
            ("IN_STORE_PICK_UP", order.is_ispu),
        )
        if flag
    )
    return AmazonOrder(
        amazon_order_id=order.amazon_order_id,
        marketplace_id=order.marketplace_id or "",
        purchase_date=order.purchase_date,
        last_update_date=order.last_update_date,
        amazon_status=order.order_status,
        fulfillment_channel="AFN" if order.fulfillment_channel == "AFN" else "MFN",
        ship_service_level=order.ship_service_level,
        service_level_category=order.shipment_service_level_category,
        is_prime=order.is_prime,
        is_premium=order.is_premium_order,
        ship_to_country=order.shipping_address.country_code if order.shipping_address else None,
        ship_by=order.latest_ship_date,
        lines=tuple(lines),
        is_business_order=order.is_business_order,
        is_replacement=order.is_replacement_order,
        programs=programs,
        order_total=_money_v0(order.order_total),
        shipping_price=_total([_money_v0(item.shipping_price) for item in items]),
        earliest_ship_date=order.earliest_ship_date,
        deliver_by=order.latest_delivery_date,
        sales_channel=order.sales_channel,
        amazon_handles_delivery=order.easy_ship_shipment_status is not None,
        in_store_pickup=order.is_ispu,
        pii=None if pii.is_empty else pii,
        pii_note=pii_note,
    )


def order_from_2026(order: Order2026, marketplace_id: str, *, pii_note: str | None = None) -> AmazonOrder:
    fulfillment = order.fulfillment
    recipient = order.recipient
    address = recipient.delivery_address if recipient else None
    lines = []
    gifts: list[tuple[str, Gift]] = []
    for item in order.order_items:
        price = item.product.price.unit_price if item.product.price else None
        proceeds = item.proceeds
        gift = item.fulfillment.packing.gift_option if item.fulfillment and item.fulfillment.packing else None
        condition = item.product.condition.condition_type if item.product.condition else None
        lines.append(
            AmazonLine(
                item.order_item_id,
                item.product.seller_sku or "",
                item.quantity_ordered,
                _money_2026(price),
                asin=item.product.asin,
                title=item.product.title,
                condition=_condition(condition),
                item_tax=_money_2026(proceeds.subtotal("TAX")) if proceeds else None,
                promotion_discount=_money_2026(proceeds.subtotal("DISCOUNT"), absolute=True) if proceeds else None,
                is_gift=gift is not None,
            )
        )
        if gift is not None and (gift.gift_message or gift.gift_wrap_level):
            gifts.append((item.order_item_id, Gift(gift.gift_message, gift.gift_wrap_level)))
    ship_to = None
    if address is not None:
        preference = recipient.delivery_preference if recipient else None
        ship_to = _ship_to(
            address,
            district=address.district_or_county,
            delivery_instructions=preference.address_instruction if preference else None,
        )
    buyer = order.buyer
    pii = OrderPii(
        ship_to=ship_to,
        buyer=Buyer(
            name=buyer.buyer_name,
            email=buyer.buyer_email,
            company=buyer.buyer_company_name,
            purchase_order_number=buyer.buyer_purchase_order_number,
        )
        if buyer is not None
        else None,
        gifts=tuple(gifts),
    )
    programs = tuple(order.programs)
    return AmazonOrder(
        amazon_order_id=order.order_id,
        marketplace_id=order.sales_channel.marketplace_id or marketplace_id,
        purchase_date=order.created_time,
        last_update_date=order.last_updated_time,
        amazon_status=_STATUS_2026_TO_V0.get(fulfillment.fulfillment_status, fulfillment.fulfillment_status)
        if fulfillment
        else "Unshipped",
        fulfillment_channel="AFN" if fulfillment and fulfillment.fulfilled_by == "AMAZON" else "MFN",
        ship_service_level=None,  # 2026-01-01 has no free-text level: the term comes from the category
        service_level_category=fulfillment.fulfillment_service_level if fulfillment else None,
        is_prime="PRIME" in programs,
        is_premium="PREMIUM" in programs,
        ship_to_country=address.country_code if address else None,
        ship_by=fulfillment.ship_by_window.latest if fulfillment and fulfillment.ship_by_window else None,
        lines=tuple(lines),
        is_business_order="AMAZON_BUSINESS" in programs,
        is_replacement=any(a.association_type == "REPLACEMENT_ORIGINAL_ID" for a in order.associated_orders),
        programs=programs,
        order_total=_money_2026(order.proceeds.grand_total) if order.proceeds else None,
        shipping_price=_money_2026(order.proceeds.subtotal("SHIPPING")) if order.proceeds else None,
        earliest_ship_date=fulfillment.ship_by_window.earliest if fulfillment and fulfillment.ship_by_window else None,
        deliver_by=fulfillment.deliver_by_window.latest if fulfillment and fulfillment.deliver_by_window else None,
        sales_channel=order.sales_channel.marketplace_name,
        amazon_handles_delivery=bool(AMAZON_DELIVERS_2026 & set(programs)),
        in_store_pickup="IN_STORE_PICK_UP" in programs,
        pii=None if pii.is_empty else pii,
        pii_note=pii_note,
    )
