"""An Amazon order judged for the OMS — pure (SPEC §6.3 to §6.5): the shipping term and its courier
service, the SKU check of every line, and the resulting status with its hold reasons. An order is
never dropped: whatever is wrong is a hold reason naming it."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from oms_amazon.domain.accounts import Account
from oms_amazon.domain.orders import (
    CANCELLED_STATES,
    PENDING_STATES,
    AmazonOrder,
    HoldReason,
    Order,
    OrderLine,
)
from oms_amazon.shipping import CourierMapping, derive_term, resolve
from oms_amazon.sku import SkuIndex, line_check


def evaluate(
    amazon: AmazonOrder,
    account: Account,
    skus: SkuIndex,
    mappings: Iterable[CourierMapping],
    *,
    now: datetime,
    previous: Order | None = None,
) -> Order:
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
        problem = line_check(line.seller_sku, skus)
        oms_sku = line.seller_sku if problem is None else None
        if problem is not None:
            body = problem.to_dict()
            holds.append(
                HoldReason(
                    problem.code, problem.message, {k: v for k, v in body.items() if k not in ("code", "message")}
                )
            )
        lines.append(OrderLine(line.order_item_id, line.seller_sku, oms_sku, line.quantity, line.unit_price))
    if resolution.status == "unmapped":
        holds.insert(
            0,
            HoldReason(
                "unmapped_shipping_term",
                f"No courier service is mapped for the Amazon shipping term {resolution.term!r}"
                + (" (Prime orders need a -PRIME mapping)." if term.is_prime else "."),
                {"term": resolution.term},
            ),
        )
    if amazon.amazon_status in PENDING_STATES:
        holds.append(HoldReason("amazon_pending", "Amazon has not confirmed payment yet; do not ship until it does."))
    if amazon.amazon_status in CANCELLED_STATES:
        status = "cancelled"
    elif holds:
        status = "on_hold"
    else:
        status = "ready"
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
        courier_service=resolution.courier_service,
        matched_mapping=resolution.matched_mapping,
        status=status,  # type: ignore[arg-type]
        hold_reasons=tuple(holds),
        lines=tuple(lines),
        ship_by=amazon.ship_by,
        imported_at=previous.imported_at if previous else now,
        updated_at=now,
        state_version=(previous.state_version + (1 if changed else 0)) if previous else 1,
    )
