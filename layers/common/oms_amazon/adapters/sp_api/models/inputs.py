"""The typed inputs the connector sends: a confirmShipment package and listings patches. Plain
dataclasses, checked when built."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal


@dataclass(frozen=True, slots=True)
class ConfirmShipmentItem:
    order_item_id: str
    quantity: int
    transparency_codes: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if not self.order_item_id:
            raise ValueError("order_item_id is required")
        if self.quantity < 1:
            raise ValueError("quantity must be at least 1")


@dataclass(frozen=True, slots=True)
class PackageDetail:
    """One package of a confirmShipment call (Orders v0 `PackageDetail`).

    `ship_date` is a datetime (sent as ISO 8601 UTC) or a string passed through as is.
    """

    package_reference_id: str
    carrier_code: str
    tracking_number: str
    ship_date: datetime | str
    items: tuple[ConfirmShipmentItem, ...]
    carrier_name: str | None = None
    shipping_method: str | None = None
    ship_from_supply_source_id: str | None = None

    def __post_init__(self) -> None:
        if not (self.package_reference_id.isascii() and self.package_reference_id.isdigit()):
            raise ValueError("package_reference_id must be a positive numeric string")
        if int(self.package_reference_id) < 1:
            raise ValueError("package_reference_id must be a positive numeric string")
        if not self.carrier_code:
            raise ValueError("carrier_code is required in every marketplace")
        if self.carrier_code == "Other" and not self.carrier_name:
            raise ValueError("carrier_name is required when carrier_code is Other")
        if not self.tracking_number:
            raise ValueError("tracking_number is required")
        if not self.items:
            raise ValueError("a package needs at least one order item")


PatchOp = Literal["add", "replace", "merge", "delete"]


@dataclass(frozen=True, slots=True)
class PatchOperation:
    op: PatchOp
    path: str
    value: list[dict[str, Any]] | None = field(default=None)

    def to_json(self) -> dict[str, Any]:
        body: dict[str, Any] = {"op": self.op, "path": self.path}
        if self.value is not None:
            body["value"] = self.value
        return body
