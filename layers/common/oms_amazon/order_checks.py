"""An Amazon order judged for the OMS — pure (SPEC §6.3 to §6.6): the shipping term and its courier
service, the SKU check of every line, the delivery address, and the resulting status with its hold
reasons. An order is never dropped: whatever is wrong is a hold reason naming it, and an order the
warehouse does not ship (FBA, Easy Ship, in-store pickup, shipped before it was seen) is stored
`not_for_us` with the reason."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime

from oms_amazon.domain.accounts import Account
from oms_amazon.domain.orders import (
    CANCELLED_STATES,
    PENDING_STATES,
    SHIPPABLE_STATES,
    SHIPPED_STATES,
    AmazonOrder,
    HoldReason,
    NotForUsReason,
    Order,
    OrderLine,
    OrderStatus,
)
from oms_amazon.shipping import CourierMapping, resolve
from oms_amazon.shipping_terms import derive_term
from oms_amazon.sku import SkuIndex, line_sku


def evaluate(
    amazon: AmazonOrder,
    account: Account,
    skus: SkuIndex,
    mappings: Iterable[CourierMapping],
    *,
    now: datetime,
    previous: Order | None = None,
    despatched: bool = False,
    aliases: Mapping[str, str] | None = None,
) -> Order:
    """`despatched`: the connector has confirmed every unit of the order with Amazon; `aliases`: the SKU
    aliases that apply to the account (Amazon SKU -> OMS SKU)."""
    term = derive_term(
        account.marketplace,
        ship_service_level=amazon.ship_service_level,
        service_level_category=amazon.service_level_category,
        is_prime=amazon.is_prime,
        ship_to_country=amazon.ship_to_country,
    )
    resolution = resolve(term, mappings, account_id=account.id, default_courier_service=account.default_courier_service)
    holds: list[HoldReason] = []
    lines = []
    for line in amazon.lines:
        oms_sku, problem = line_sku(line.seller_sku, skus, aliases or {})
        if problem is not None:
            body = problem.to_dict()
            holds.append(
                HoldReason(
                    problem.code, problem.message, {k: v for k, v in body.items() if k not in ("code", "message")}
                )
            )
        lines.append(
            OrderLine(
                line.order_item_id,
                line.seller_sku,
                oms_sku,
                line.quantity,
                line.unit_price,
                asin=line.asin,
                title=line.title,
                condition=line.condition,
                item_tax=line.item_tax,
                promotion_discount=line.promotion_discount,
                is_gift=line.is_gift,
            )
        )
    if resolution.zone_unknown:
        candidates = [
            {"mapping_id": m.mapping_id, "amazon_term": m.amazon_term, "courier_service": m.courier_service}
            for m in resolution.zone_candidates
        ]
        named = ", ".join(f"{m.amazon_term} -> {m.courier_service}" for m in resolution.zone_candidates)
        holds.insert(
            0,
            HoldReason(
                "shipping_zone_unknown",
                f"Amazon gave no shipping zone for this order, and the zone mappings of {resolution.term!r} name "
                f"different courier services ({named}). Add a mapping for {resolution.term!r} itself (without a "
                "zone) to say which service such orders take.",
                {"term": resolution.term, "candidates": candidates},
            ),
        )
    elif resolution.status == "unmapped":
        holds.insert(
            0,
            HoldReason(
                "unmapped_shipping_term",
                f"No courier service is mapped for the Amazon shipping term {resolution.term!r}"
                + (" (Prime orders need a -PRIME mapping)." if term.is_prime else ".")
                + (
                    " Next-day, second-day and expedited orders never fall to the account's default courier service."
                    if account.default_courier_service and (term.is_premium or term.speed == "EXP" or term.is_prime)
                    else ""
                ),
                {"term": resolution.term},
            ),
        )
    if amazon.amazon_status in PENDING_STATES:
        holds.append(HoldReason("amazon_pending", "Amazon has not confirmed payment yet; do not ship until it does."))
    elif amazon.amazon_status in SHIPPABLE_STATES and not amazon.address_available:
        holds.append(address_unavailable(amazon))
    not_for_us = _not_for_us(amazon, previous)
    status: OrderStatus
    if amazon.amazon_status in CANCELLED_STATES:
        status = "cancelled"
    elif not_for_us is not None:
        status = "not_for_us"
    elif (
        despatched or amazon.amazon_status in SHIPPED_STATES or (previous is not None and previous.status == "shipped")
    ):
        status = "shipped"
    elif holds and previous is not None and previous.release is not None:
        status = "ready"  # an operator released it: their override stands
    elif holds:
        status = "on_hold"
    else:
        status = "ready"
    if status != "on_hold":
        holds = []
    released = previous.release if previous is not None else None
    courier = released.courier_service if released is not None and status == "ready" else resolution.courier_service
    changed = previous is not None and previous.status != status
    return Order(
        amazon_order_id=amazon.amazon_order_id,
        account_id=account.id,
        client_id=account.client_id,
        marketplace=account.marketplace,
        purchase_date=amazon.purchase_date,
        last_update_date=amazon.last_update_date,
        amazon_status=amazon.amazon_status,
        fulfillment_channel=amazon.fulfillment_channel,
        is_prime=term.is_prime,
        is_premium=amazon.is_premium or term.is_premium,
        ship_service_level=amazon.ship_service_level,
        service_level_category=amazon.service_level_category,
        ship_to_country=amazon.ship_to_country,
        shipping_term=resolution.term,
        term_recognized=resolution.recognized,
        courier_service=courier,
        matched_mapping=resolution.matched_mapping,
        status=status,
        hold_reasons=tuple(holds),
        lines=tuple(lines),
        ship_by=amazon.ship_by,
        imported_at=previous.imported_at if previous else now,
        updated_at=now,
        state_version=(previous.state_version + (1 if changed else 0)) if previous else 1,
        is_business_order=amazon.is_business_order,
        is_replacement=amazon.is_replacement,
        programs=amazon.programs,
        order_total=amazon.order_total,
        shipping_price=amazon.shipping_price,
        earliest_ship_date=amazon.earliest_ship_date,
        deliver_by=amazon.deliver_by,
        sales_channel=amazon.sales_channel,
        amazon_handles_delivery=amazon.amazon_handles_delivery,
        in_store_pickup=amazon.in_store_pickup,
        not_for_us_reason=not_for_us if status == "not_for_us" else None,
        address_available=amazon.address_available or bool(previous and previous.address_available),
        pii=amazon.pii,
        has_pii=bool(previous and previous.has_pii),
        pii_expires_at=previous.pii_expires_at if previous else None,
        pii_purged_at=previous.pii_purged_at if previous else None,
        release=released,
        history=previous.history if previous else (),
    )


def address_unavailable(amazon: AmazonOrder) -> HoldReason:
    """An order Amazon says can be shipped, without the address to ship it to (§6.6)."""
    cause = amazon.pii_note or "Amazon did not include the buyer's name and street in its answer."
    return HoldReason(
        "address_unavailable",
        f"Amazon returned no delivery address for this order. {cause} The order is completed on the next import "
        "once Amazon includes the address.",
    )


def _not_for_us(amazon: AmazonOrder, previous: Order | None) -> NotForUsReason | None:
    """Why the warehouse does not ship this order, if it does not."""
    if previous is not None and previous.status == "not_for_us":
        return previous.not_for_us_reason
    if amazon.fulfillment_channel == "AFN":
        return "fulfilled_by_amazon"
    if amazon.amazon_handles_delivery:
        return "amazon_handles_delivery"
    if amazon.in_store_pickup:
        return "in_store_pickup"
    if previous is None and amazon.amazon_status in SHIPPED_STATES:
        return "shipped_before_import"
    return None
