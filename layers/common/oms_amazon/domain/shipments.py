"""Shipments of imported orders confirmed back to Amazon (SPEC §6.7): what the OMS despatched, the
package reference Amazon deduplicates on, the units still to ship, and the retry schedule.

Life of a shipment: `submitted` (stored and queued) -> `confirmed` (Amazon answered 204), or
`rejected` (Amazon refused it with a 400: retrying the same package cannot help), or `failed`
(Amazon stayed throttled or unavailable, or the seller's authorisation stayed rejected, for 24 h).
Failed and rejected shipments give their units back: a new shipment may ship them.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any, Literal

from oms_amazon.domain.errors import Conflict, InvalidInput
from oms_amazon.domain.orders import Order

ShipmentStatus = Literal["submitted", "confirmed", "failed", "rejected"]
EventType = Literal["Amazon Shipment Confirmed", "Amazon Shipment Failed", "Amazon Shipment Rejected"]

FINAL_STATUSES: frozenset[str] = frozenset({"confirmed", "failed", "rejected"})
# Their units were never shipped as far as Amazon knows, so they count as left to ship.
RELEASED_STATUSES: frozenset[str] = frozenset({"failed", "rejected"})
EVENT_TYPES: dict[str, EventType] = {
    "confirmed": "Amazon Shipment Confirmed",
    "failed": "Amazon Shipment Failed",
    "rejected": "Amazon Shipment Rejected",
}

MAX_TEXT = 100
# A ship date may be a little ahead of the clock (time zones, a label printed for tomorrow's
# collection), never days ahead; and never long before the buyer ordered.
SHIP_DATE_MAX_AHEAD = timedelta(days=2)
SHIP_DATE_MAX_BEFORE_PURCHASE = timedelta(days=1)
# Amazon accepts any positive number; twelve digits keep references readable and far from collisions
# among the few packages of one order.
PACKAGE_REFERENCE_MODULUS = 10**12


@dataclass(frozen=True, slots=True)
class ShipmentLine:
    order_item_id: str
    quantity: int

    def to_dict(self) -> dict[str, Any]:
        return {"order_item_id": self.order_item_id, "quantity": self.quantity}


@dataclass(frozen=True, slots=True)
class Reason:
    """Why a shipment is not confirmed (yet): Amazon's error code and message when Amazon said it."""

    code: str
    message: str
    amazon_status: int | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"code": self.code, "message": self.message, "amazon_status": self.amazon_status}


@dataclass(frozen=True, slots=True)
class ShipmentRequest:
    """A despatch as the OMS reported it, checked and with Amazon's carrier code resolved."""

    carrier_code: str
    carrier_name: str | None
    requested_carrier_code: str
    shipping_method: str
    tracking_number: str
    ship_date: datetime
    lines: tuple[ShipmentLine, ...] | None  # None: everything left to ship
    reference: str | None  # the caller's Idempotency-Key / shipment_reference

    def idempotency_input(self) -> str:
        """What makes two requests the same shipment: the caller's reference when given, else the
        lines as asked for and the tracking number."""
        if self.reference is not None:
            return json.dumps({"reference": self.reference})
        lines = None if self.lines is None else sorted((line.order_item_id, line.quantity) for line in self.lines)
        return json.dumps({"lines": lines, "tracking_number": self.tracking_number}, separators=(",", ":"))

    def fingerprint(self) -> str:
        """What makes a repeat the same package, as Amazon judges a repeated package reference: its lines,
        carrier and tracking number. A retry that restamps the ship date or rewords the shipping method
        still gets the stored shipment."""
        content = {
            "carrier_code": self.carrier_code,
            "carrier_name": self.carrier_name,
            "tracking_number": self.tracking_number,
            "lines": None if self.lines is None else sorted((x.order_item_id, x.quantity) for x in self.lines),
            "reference": self.reference,
        }
        return hashlib.sha256(json.dumps(content, sort_keys=True).encode()).hexdigest()


@dataclass(frozen=True, slots=True)
class Shipment:
    client_id: str
    amazon_order_id: str
    sequence: int  # 1, 2, … per order, in the order they were submitted
    account_id: str
    marketplace: str
    package_reference_id: str
    carrier_code: str
    carrier_name: str | None
    requested_carrier_code: str
    shipping_method: str
    tracking_number: str
    ship_date: datetime
    lines: tuple[ShipmentLine, ...]
    reference: str | None
    fingerprint: str
    status: ShipmentStatus
    reason: Reason | None
    attempts: int
    job_token: str  # the one queued message allowed to work on it next (see services.shipments)
    created_at: datetime
    updated_at: datetime
    last_attempt_at: datetime | None = None
    next_attempt_at: datetime | None = None
    completed_at: datetime | None = None

    @property
    def shipment_id(self) -> str:
        return f"{self.amazon_order_id}-S{self.sequence}"

    @property
    def is_final(self) -> bool:
        return self.status in FINAL_STATUSES

    def retrying(self, reason: Reason, now: datetime, next_attempt_at: datetime, token: str) -> Shipment:
        return replace(
            self,
            reason=reason,
            attempts=self.attempts + 1,
            last_attempt_at=now,
            next_attempt_at=next_attempt_at,
            job_token=token,
            updated_at=now,
        )

    def finished(self, status: ShipmentStatus, reason: Reason | None, now: datetime) -> Shipment:
        return replace(
            self,
            status=status,
            reason=reason,
            attempts=self.attempts + 1,
            last_attempt_at=now,
            next_attempt_at=None,
            completed_at=now,
            updated_at=now,
        )


def package_reference_id(amazon_order_id: str, idempotency_input: str) -> str:
    """Amazon's `packageReferenceId` (a positive number, unique within the order), derived from the
    order and the request so a repeat carries the same one and Amazon can recognise a duplicate."""
    digest = hashlib.sha256(f"{amazon_order_id}\n{idempotency_input}".encode()).digest()
    return str(int.from_bytes(digest[:8], "big") % (PACKAGE_REFERENCE_MODULUS - 1) + 1)


def check_text(value: str, field: str, *, max_length: int = MAX_TEXT) -> str:
    """Trimmed, 1..max_length printable characters (no control characters, tabs or newlines)."""
    stripped = value.strip()
    if not stripped or len(stripped) > max_length or not stripped.isprintable():
        raise InvalidInput(
            f"{field} must be 1-{max_length} printable characters.",
            code=f"invalid_{field}",
            details=[{"field": field, "reason": f"1-{max_length} printable characters"}],
        )
    return stripped


def parse_ship_date(text: str) -> datetime:
    try:
        moment = datetime.fromisoformat(text.strip().replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError as error:
        raise InvalidInput(
            "ship_date must be an ISO 8601 date-time with a time zone (e.g. 2026-11-29T16:30:00Z).",
            code="invalid_ship_date",
            details=[{"field": "ship_date", "reason": "format"}],
        ) from error
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise InvalidInput(
            "ship_date needs a time zone (e.g. 2026-11-29T16:30:00Z or 2026-11-29T16:30:00+01:00).",
            code="invalid_ship_date",
            details=[{"field": "ship_date", "reason": "timezone"}],
        )
    return moment


def check_ship_date(ship_date: datetime, *, purchase_date: datetime, now: datetime) -> None:
    if ship_date > now + SHIP_DATE_MAX_AHEAD:
        raise InvalidInput(
            "ship_date is more than two days in the future.",
            code="invalid_ship_date",
            details=[{"field": "ship_date", "reason": "in the future"}],
        )
    if ship_date < purchase_date - SHIP_DATE_MAX_BEFORE_PURCHASE:
        raise InvalidInput(
            "ship_date is before the order was placed.",
            code="invalid_ship_date",
            details=[{"field": "ship_date", "reason": "before the purchase date"}],
        )


def units_left(order: Order, shipments: Iterable[Shipment]) -> dict[str, int]:
    """Units of each order item not yet in a submitted or confirmed shipment."""
    left = {line.order_item_id: line.quantity for line in order.lines}
    for shipment in shipments:
        if shipment.status in RELEASED_STATUSES:
            continue
        for line in shipment.lines:
            if line.order_item_id in left:
                left[line.order_item_id] -= line.quantity
    return {item: max(0, units) for item, units in left.items()}


def units_unconfirmed(order: Order, shipments: Iterable[Shipment]) -> int:
    """Units of the order that no confirmed shipment covers yet: 0 once the connector has shipped it all."""
    left = {line.order_item_id: line.quantity for line in order.lines}
    for shipment in shipments:
        if shipment.status == "confirmed":
            for line in shipment.lines:
                if line.order_item_id in left:
                    left[line.order_item_id] -= line.quantity
    return sum(max(0, units) for units in left.values())


def plan_lines(
    order: Order, shipments: Sequence[Shipment], requested: tuple[ShipmentLine, ...] | None
) -> tuple[ShipmentLine, ...]:
    """The lines of a new shipment: those requested, checked against the order and what is left to
    ship, or everything left when none are requested."""
    left = units_left(order, shipments)
    if requested is None:
        lines = tuple(ShipmentLine(item, units) for item, units in left.items() if units > 0)
        if not lines:
            raise Conflict(
                f"Every unit of order {order.amazon_order_id} is already in a shipment.", code="nothing_left_to_ship"
            )
        return lines
    seen: set[str] = set()
    for index, line in enumerate(requested):
        field = f"lines.{index}"
        if line.order_item_id in seen:
            raise InvalidInput(
                f"Order item {line.order_item_id} appears twice; give each item once with its total quantity.",
                code="duplicate_order_item",
                details=[{"field": f"{field}.order_item_id", "reason": "duplicate"}],
            )
        seen.add(line.order_item_id)
        if line.order_item_id not in left:
            raise InvalidInput(
                f"Order {order.amazon_order_id} has no order item {line.order_item_id}.",
                code="unknown_order_item",
                details=[{"field": f"{field}.order_item_id", "reason": "not an item of this order"}],
            )
        if line.quantity < 1:
            raise InvalidInput(
                "Each line ships at least one unit.",
                code="invalid_quantity",
                details=[{"field": f"{field}.quantity", "reason": "at least 1"}],
            )
        if line.quantity > left[line.order_item_id]:
            raise InvalidInput(
                f"Order item {line.order_item_id} has {left[line.order_item_id]} unit(s) left to ship; "
                f"this shipment asks for {line.quantity}.",
                code="quantity_exceeds_remaining",
                details=[
                    {
                        "field": f"{field}.quantity",
                        "reason": "more than is left to ship",
                        "left": left[line.order_item_id],
                    }
                ],
            )
    return requested


@dataclass(frozen=True, slots=True)
class RetrySchedule:
    """Exponential back-off between attempts, capped by SQS's longest message delay (15 minutes),
    for up to `horizon` after the shipment was submitted."""

    base_seconds: int = 30
    cap_seconds: int = 900
    horizon: timedelta = timedelta(hours=24)

    def __post_init__(self) -> None:
        if not 1 <= self.base_seconds <= self.cap_seconds <= 900:
            raise ValueError("1 <= base_seconds <= cap_seconds <= 900")

    def delay(self, attempt: int, jitter: float, *, at_least: float | None = None) -> int:
        """Seconds before attempt `attempt + 1`, after `attempt` (1 for the first) failed. Half the
        back-off is fixed and half spread by `jitter` in [0, 1), so shipments throttled together do
        not come back together; Amazon's own retry-after is respected when it is longer."""
        ceiling = min(self.cap_seconds, self.base_seconds << max(0, min(attempt - 1, 20)))
        seconds = ceiling / 2 + ceiling / 2 * min(max(jitter, 0.0), 1.0)
        if at_least is not None:
            seconds = max(seconds, at_least)
        return max(1, min(self.cap_seconds, round(seconds)))

    def gives_up(self, shipment: Shipment, next_attempt_at: datetime) -> bool:
        return next_attempt_at > shipment.created_at + self.horizon


@dataclass(frozen=True, slots=True)
class ShipmentLedger:
    """An order's shipments at a glance: how many there have been (the next one's sequence follows)
    and the sequence each package reference took, so a repeat is found with one read."""

    count: int = 0
    references: dict[str, int] | None = None

    def sequence_of(self, package_reference: str) -> int | None:
        return (self.references or {}).get(package_reference)

    def with_shipment(self, package_reference: str, sequence: int) -> ShipmentLedger:
        return ShipmentLedger(sequence, {**(self.references or {}), package_reference: sequence})


@dataclass(frozen=True, slots=True)
class SavedShipment:
    saved: bool
    event: dict[str, Any] | None  # the outbox item written with a final status, to publish now


def check_reference(value: str, field: str) -> str:
    """A caller's idempotency reference: 1-100 visible ASCII characters."""
    if not (1 <= len(value) <= MAX_TEXT and all("!" <= ch <= "~" for ch in value)):
        raise InvalidInput(
            f"{field} must be 1-{MAX_TEXT} visible ASCII characters (no spaces).",
            code="invalid_shipment_reference",
            details=[{"field": field, "reason": "1-100 visible ASCII characters"}],
        )
    return value
