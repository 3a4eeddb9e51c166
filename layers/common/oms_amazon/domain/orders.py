"""Imported Amazon orders (SPEC §6): what Amazon sent, normalised across its two order APIs, and
the order as the OMS sees it — status, courier service, hold reasons."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime
from decimal import Decimal
from typing import Any, Literal

OrderStatus = Literal["ready", "on_hold", "cancelled"]
EventType = Literal["Amazon Order Imported", "Amazon Order Updated", "Amazon Order Cancelled"]

# Amazon's order states (v0 spelling); 2026-01-01 fulfillment states are mapped onto these.
CANCELLED_STATES = frozenset({"Canceled"})
PENDING_STATES = frozenset({"Pending", "PendingAvailability"})


@dataclass(frozen=True, slots=True)
class Money:
    amount: Decimal
    currency: str

    def to_dict(self) -> dict[str, str]:
        return {"amount": str(self.amount), "currency": self.currency}


@dataclass(frozen=True, slots=True)
class AmazonLine:
    order_item_id: str
    seller_sku: str
    quantity: int
    unit_price: Money | None


@dataclass(frozen=True, slots=True)
class AmazonOrder:
    """One order as Amazon reports it, whichever Orders API it came from."""

    amazon_order_id: str
    marketplace_id: str
    purchase_date: datetime
    last_update_date: datetime
    amazon_status: str  # v0 spelling: Pending, Unshipped, PartiallyShipped, Shipped, Canceled, …
    fulfillment_channel: Literal["MFN", "AFN"]
    ship_service_level: str | None
    service_level_category: str | None
    is_prime: bool
    is_premium: bool
    ship_to_country: str | None
    ship_by: datetime | None
    lines: tuple[AmazonLine, ...]


@dataclass(frozen=True, slots=True)
class HoldReason:
    code: str
    message: str
    extra: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {"code": self.code, "message": self.message, **self.extra}


@dataclass(frozen=True, slots=True)
class OrderLine:
    order_item_id: str
    seller_sku: str
    oms_sku: str | None
    quantity: int
    unit_price: Money | None

    def to_dict(self) -> dict[str, Any]:
        return {
            "order_item_id": self.order_item_id,
            "seller_sku": self.seller_sku,
            "oms_sku": self.oms_sku,
            "quantity": self.quantity,
            "unit_price": self.unit_price.to_dict() if self.unit_price else None,
        }


@dataclass(frozen=True, slots=True)
class Order:
    amazon_order_id: str
    account_id: str
    client_id: str
    marketplace: str
    purchase_date: datetime
    last_update_date: datetime
    amazon_status: str
    fulfillment_channel: str
    is_prime: bool
    is_premium: bool
    ship_service_level: str | None
    service_level_category: str | None
    ship_to_country: str | None
    shipping_term: str
    term_recognized: bool
    courier_service: str | None
    matched_mapping: str | None
    status: OrderStatus
    hold_reasons: tuple[HoldReason, ...]
    lines: tuple[OrderLine, ...]
    ship_by: datetime | None
    imported_at: datetime
    updated_at: datetime
    state_version: int = 1  # +1 per status change; names each event

    def with_changes(self, **changes: Any) -> Order:
        return replace(self, **changes)

    @property
    def unmapped_term(self) -> str | None:
        return self.shipping_term if any(h.code == "unmapped_shipping_term" for h in self.hold_reasons) else None

    def same_outcome(self, other: Order) -> bool:
        """True when re-evaluating changed nothing the OMS acts on."""
        return (self.status, self.courier_service, self.hold_reasons, self.lines, self.shipping_term) == (
            other.status,
            other.courier_service,
            other.hold_reasons,
            other.lines,
            other.shipping_term,
        )


def event_type(previous: Order | None, current: Order) -> EventType | None:
    """The one event a write emits: a new order, or a change of status (SPEC §6.6)."""
    if previous is None:
        return "Amazon Order Imported"
    if previous.status == current.status:
        return None
    return "Amazon Order Cancelled" if current.status == "cancelled" else "Amazon Order Updated"
