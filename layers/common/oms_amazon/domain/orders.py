"""Imported Amazon orders (SPEC §6): what Amazon sent, normalised across its two order APIs, and
the order as the OMS sees it — status, courier service, hold reasons, and the buyer's data a
warehouse needs to ship it.

The buyer's data (`OrderPii`: delivery address, buyer, gift messages) is kept apart from the rest of
the order everywhere: Amazon's Data Protection Policy wants it encrypted, out of logs, events and
lists, and deleted a while after the order ships or is cancelled (§6.8). An `Order` carries it only
when it was just read from Amazon or deliberately opened for one caller (`GET /orders/{id}`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from datetime import datetime
from decimal import Decimal
from typing import Any, Literal

OrderStatus = Literal["ready", "on_hold", "cancelled", "shipped", "not_for_us"]
ORDER_STATUSES: tuple[OrderStatus, ...] = ("ready", "on_hold", "cancelled", "shipped", "not_for_us")
EventType = Literal["Amazon Order Imported", "Amazon Order Updated", "Amazon Order Cancelled"]

# Amazon's order states (v0 spelling); 2026-01-01 fulfillment states are mapped onto these.
CANCELLED_STATES = frozenset({"Canceled"})
PENDING_STATES = frozenset({"Pending", "PendingAvailability"})
SHIPPED_STATES = frozenset({"Shipped", "InvoiceUnconfirmed"})
# The states in which Amazon gives a merchant the delivery address: the order can be shipped now.
SHIPPABLE_STATES = frozenset({"Unshipped", "PartiallyShipped"})

NotForUsReason = Literal["fulfilled_by_amazon", "amazon_handles_delivery", "in_store_pickup", "shipped_before_import"]
NOT_FOR_US_MESSAGES: dict[str, str] = {
    "fulfilled_by_amazon": "Amazon fulfils this order (FBA); the warehouse has nothing to ship.",
    "amazon_handles_delivery": "Amazon collects and delivers this order (Easy Ship); the warehouse does not book a "
    "courier for it.",
    "in_store_pickup": "The buyer collects this order in a store; there is no delivery to ship.",
    "shipped_before_import": "The order was already shipped when the connector first saw it.",
}


@dataclass(frozen=True, slots=True)
class Money:
    amount: Decimal
    currency: str

    def to_dict(self) -> dict[str, str]:
        return {"amount": str(self.amount), "currency": self.currency}

    @classmethod
    def from_dict(cls, raw: Mapping[str, Any] | None) -> Money | None:
        return cls(Decimal(str(raw["amount"])), str(raw["currency"])) if raw else None


def _text_fields(obj: Any) -> dict[str, str | None]:
    return {f.name: getattr(obj, f.name) for f in fields(obj)}


class _Sealed:
    """Buyer data never shows itself in a repr (an exception message, a debug line): only which
    fields it has."""

    __slots__ = ()

    def __repr__(self) -> str:
        names = getattr(self, "__dataclass_fields__", {})
        present = ", ".join(name for name in names if getattr(self, name))
        return f"{type(self).__name__}(<buyer data: {present or 'empty'}>)"


@dataclass(frozen=True, slots=True, repr=False)
class ShipTo(_Sealed):
    """Where the parcel goes: the label's address (PII)."""

    name: str | None = None
    company: str | None = None
    address_line_1: str | None = None
    address_line_2: str | None = None
    address_line_3: str | None = None
    city: str | None = None
    district: str | None = None
    state_or_region: str | None = None
    postal_code: str | None = None
    country_code: str | None = None
    phone: str | None = None
    address_type: str | None = None
    delivery_instructions: str | None = None

    @property
    def label_ready(self) -> bool:
        """Enough to print a label: a recipient, a street and a town or postcode."""
        return bool(self.name and self.address_line_1 and (self.postal_code or self.city))

    def to_dict(self) -> dict[str, str | None]:
        return _text_fields(self)

    @classmethod
    def from_dict(cls, raw: Mapping[str, Any]) -> ShipTo:
        return cls(**{f.name: raw.get(f.name) for f in fields(cls)})


@dataclass(frozen=True, slots=True, repr=False)
class Buyer(_Sealed):
    """Who bought (PII): the email is Amazon's anonymised relay address."""

    name: str | None = None
    email: str | None = None
    company: str | None = None
    purchase_order_number: str | None = None

    def to_dict(self) -> dict[str, str | None]:
        return _text_fields(self)

    @classmethod
    def from_dict(cls, raw: Mapping[str, Any]) -> Buyer:
        return cls(**{f.name: raw.get(f.name) for f in fields(cls)})


@dataclass(frozen=True, slots=True, repr=False)
class Gift(_Sealed):
    message: str | None = None
    wrap_level: str | None = None


@dataclass(frozen=True, slots=True, repr=False)
class OrderPii(_Sealed):
    """The buyer's data of one order, as Amazon gave it."""

    ship_to: ShipTo | None = None
    buyer: Buyer | None = None
    gifts: tuple[tuple[str, Gift], ...] = ()  # (order item id, gift) for the lines that carry a gift message

    def gift(self, order_item_id: str) -> Gift | None:
        return next((gift for item_id, gift in self.gifts if item_id == order_item_id), None)

    @property
    def is_empty(self) -> bool:
        return self.ship_to is None and self.buyer is None and not self.gifts

    def to_dict(self) -> dict[str, Any]:
        return {
            "ship_to": self.ship_to.to_dict() if self.ship_to else None,
            "buyer": self.buyer.to_dict() if self.buyer else None,
            "gifts": {item_id: {"message": g.message, "wrap_level": g.wrap_level} for item_id, g in self.gifts},
        }

    @classmethod
    def from_dict(cls, raw: Mapping[str, Any]) -> OrderPii:
        return cls(
            ship_to=ShipTo.from_dict(raw["ship_to"]) if raw.get("ship_to") else None,
            buyer=Buyer.from_dict(raw["buyer"]) if raw.get("buyer") else None,
            gifts=tuple(
                (item_id, Gift(g.get("message"), g.get("wrap_level")))
                for item_id, g in (raw.get("gifts") or {}).items()
            ),
        )


@dataclass(frozen=True, slots=True)
class AmazonLine:
    order_item_id: str
    seller_sku: str
    quantity: int
    unit_price: Money | None
    asin: str | None = None
    title: str | None = None
    condition: str | None = None
    item_tax: Money | None = None
    promotion_discount: Money | None = None
    is_gift: bool = False


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
    is_business_order: bool = False
    is_replacement: bool = False
    programs: tuple[str, ...] = ()
    order_total: Money | None = None
    shipping_price: Money | None = None
    earliest_ship_date: datetime | None = None
    deliver_by: datetime | None = None
    sales_channel: str | None = None
    amazon_handles_delivery: bool = False  # Easy Ship: Amazon's courier collects the parcel
    in_store_pickup: bool = False
    pii: OrderPii | None = None
    # Why Amazon may have left the address out (the app's role, a refused Restricted Data Token): told
    # to the operator when an order that should carry an address does not.
    pii_note: str | None = None
    # A stored order judged again: the connector already holds its address (not loaded to judge it).
    address_on_file: bool = False

    @property
    def address_available(self) -> bool:
        return self.address_on_file or bool(self.pii and self.pii.ship_to and self.pii.ship_to.label_ready)


@dataclass(frozen=True, slots=True)
class OrderPage:
    """One page of an order search, as the import stores it before asking for the next."""

    orders: list[AmazonOrder]
    bound: datetime | None  # Amazon's upper bound of the search window, when it says
    next_token: str | None  # Amazon's token for the page after this one; None on the last page


@dataclass(frozen=True, slots=True)
class ImportCheckpoint:
    """Where an unfinished order search of one client's seller and region stands (SPEC §6.1), saved after
    every stored page: the search's window start, marketplaces and Orders API, Amazon's token for the next
    page and the window's upper bound Amazon named. A later job goes on from it instead of reading again
    what is stored; the watermarks move once the series ends."""

    since: datetime
    marketplace_ids: tuple[str, ...]
    api_version: str
    next_token: str
    bound: datetime | None
    pages: int
    saved_at: datetime

    def continues(self, marketplace_ids: list[str], api_version: str) -> bool:
        """The same search: the same marketplaces on the same API (a marketplace enabled since starts anew)."""
        return self.marketplace_ids == tuple(sorted(marketplace_ids)) and self.api_version == api_version


@dataclass(frozen=True, slots=True)
class HoldReason:
    code: str
    message: str
    extra: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {"code": self.code, "message": self.message, **self.extra}


@dataclass(frozen=True, slots=True)
class Release:
    """An operator's override of an order's holds (`POST /orders/{id}/release`): who, when, why, and
    the courier service it ships with. It stands until the order ships or is cancelled."""

    by: str
    at: datetime
    reason: str
    courier_service: str
    holds: tuple[str, ...]  # the hold codes it overrode

    def to_dict(self) -> dict[str, Any]:
        return {
            "action": "released",
            "by": self.by,
            "at": self.at.isoformat(),
            "reason": self.reason,
            "courier_service": self.courier_service,
            "holds": list(self.holds),
        }

    @classmethod
    def from_dict(cls, raw: Mapping[str, Any]) -> Release:
        return cls(
            str(raw["by"]),
            datetime.fromisoformat(str(raw["at"])),
            str(raw["reason"]),
            str(raw["courier_service"]),
            tuple(raw.get("holds") or ()),
        )


@dataclass(frozen=True, slots=True)
class OrderLine:
    order_item_id: str
    seller_sku: str
    oms_sku: str | None
    quantity: int
    unit_price: Money | None
    asin: str | None = None
    title: str | None = None
    condition: str | None = None
    item_tax: Money | None = None
    promotion_discount: Money | None = None
    is_gift: bool = False

    def to_dict(self) -> dict[str, Any]:
        return {
            "order_item_id": self.order_item_id,
            "seller_sku": self.seller_sku,
            "oms_sku": self.oms_sku,
            "asin": self.asin,
            "title": self.title,
            "condition": self.condition,
            "quantity": self.quantity,
            "unit_price": self.unit_price.to_dict() if self.unit_price else None,
            "item_tax": self.item_tax.to_dict() if self.item_tax else None,
            "promotion_discount": self.promotion_discount.to_dict() if self.promotion_discount else None,
            "is_gift": self.is_gift,
        }

    @classmethod
    def from_dict(cls, raw: Mapping[str, Any]) -> OrderLine:
        return cls(
            order_item_id=raw["order_item_id"],
            seller_sku=raw["seller_sku"],
            oms_sku=raw.get("oms_sku"),
            quantity=int(raw["quantity"]),
            unit_price=Money.from_dict(raw.get("unit_price")),
            asin=raw.get("asin"),
            title=raw.get("title"),
            condition=raw.get("condition"),
            item_tax=Money.from_dict(raw.get("item_tax")),
            promotion_discount=Money.from_dict(raw.get("promotion_discount")),
            is_gift=bool(raw.get("is_gift", False)),
        )


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
    is_business_order: bool = False
    is_replacement: bool = False
    programs: tuple[str, ...] = ()
    order_total: Money | None = None
    shipping_price: Money | None = None
    earliest_ship_date: datetime | None = None
    deliver_by: datetime | None = None
    sales_channel: str | None = None
    amazon_handles_delivery: bool = False
    in_store_pickup: bool = False
    not_for_us_reason: NotForUsReason | None = None
    address_available: bool = False
    # The buyer's data: `pii` only when just read from Amazon or opened for one caller; `has_pii` says
    # whether the connector holds some; it is deleted at `pii_expires_at` (set when the order ships or
    # is cancelled) and `pii_purged_at` records when.
    pii: OrderPii | None = None
    has_pii: bool = False
    pii_expires_at: datetime | None = None
    pii_purged_at: datetime | None = None
    release: Release | None = None
    history: tuple[dict[str, Any], ...] = ()  # what operators did to the order, oldest first

    def with_changes(self, **changes: Any) -> Order:
        return replace(self, **changes)

    @property
    def unmapped_term(self) -> str | None:
        """The term a new mapping would release this order by (unmapped, or its zone unknown)."""
        held = {"unmapped_shipping_term", "shipping_zone_unknown"}
        return self.shipping_term if any(h.code in held for h in self.hold_reasons) else None

    @property
    def is_finished(self) -> bool:
        """Shipped or cancelled: the buyer's data is kept only for the retention period from here."""
        return self.status in ("shipped", "cancelled")

    def same_outcome(self, other: Order) -> bool:
        """True when re-evaluating changed nothing the OMS acts on."""
        return (self.status, self.courier_service, self.hold_reasons, self.lines, self.shipping_term) == (
            other.status,
            other.courier_service,
            other.hold_reasons,
            other.lines,
            other.shipping_term,
        )

    def not_ready_reason(self) -> str | None:
        """Why a despatch of this order is refused now (§6.6), or None when it may be shipped."""
        if self.status == "on_hold":
            codes = ", ".join(h.code for h in self.hold_reasons)
            return f"Order {self.amazon_order_id} is on hold ({codes}); resolve or release the hold before despatch."
        if self.status == "cancelled":
            return f"Order {self.amazon_order_id} was cancelled on Amazon; it cannot be shipped."
        if self.status == "not_for_us":
            return NOT_FOR_US_MESSAGES.get(self.not_for_us_reason or "", "The warehouse does not ship this order.")
        return None


def event_type(previous: Order | None, current: Order) -> EventType | None:
    """The one event a write emits: a new order, or a change of status (SPEC §6.6)."""
    if previous is None:
        return "Amazon Order Imported"
    if previous.status == current.status:
        return None
    return "Amazon Order Cancelled" if current.status == "cancelled" else "Amazon Order Updated"


def event_detail(order: Order, event: EventType, previous: Order | None) -> dict[str, Any]:
    """The detail of the order's event on the bus (events/bus/ has a sample of each); never the buyer's data."""
    return {
        "event_id": f"{order.amazon_order_id}:{order.state_version}",
        "amazon_order_id": order.amazon_order_id,
        "client_id": order.client_id,
        "account_id": order.account_id,
        "marketplace": order.marketplace,
        "status": order.status,
        "previous_status": previous.status if previous else None,
        "courier_service": order.courier_service,
        "hold_reasons": [h.code for h in order.hold_reasons],
        "not_for_us_reason": order.not_for_us_reason,
        "detail_type": event,
    }
