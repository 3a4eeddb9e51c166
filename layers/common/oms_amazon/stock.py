"""Quantities sent to Amazon — pure (SPEC §5.2 to §5.5).

The pipeline for one SKU: its base quantity (simple product, or what its components can make up),
then the account's stock rules, then the delta rule decides whether it costs an API call at all,
then the accounts of one seller and region are merged into one figure per SKU.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Final, Literal, TypeIs

from oms_amazon.domain.errors import InvalidInput
from oms_amazon.sku import quote_sku, validate_sku

# Far beyond any real stock figure, yet small enough that no rule can overflow a 32-bit consumer.
MAX_RULE_VALUE: Final = 1_000_000_000
# A kit of more than 49 different products is a data error in practice, and the bound keeps a bundle's
# quantity (one lookup per component per sync) cheap. 49, not 50: a bundle is written in one DynamoDB
# transaction (at most 100 actions) with its own item plus one `used_by` update per component it gains
# and per component it drops, so replacing every component of the largest bundle takes 1 + 49 + 49 = 99.
MAX_BUNDLE_COMPONENTS: Final = 49
# Packs of thousands (screws, labels) are real; a hundred thousand of one item per bundle is not.
MAX_COMPONENT_QUANTITY: Final = 100_000
# Amazon is re-sent an unchanged quantity once a day so a figure lost on its side heals itself (§5.4).
RESEND_AFTER: Final = timedelta(hours=24)

STOCK_RULE_KEYS: Final = ("buffer", "zero_at_or_below", "max_quantity")  # the order they apply in
# Field names echoed in error details come from the caller's JSON keys; keep them short.
_FIELD_NAME_LIMIT: Final = 40


def _is_int(value: object) -> TypeIs[int]:
    # bool is an int subclass; `true` in JSON is never a quantity.
    return isinstance(value, int) and not isinstance(value, bool)


@dataclass(frozen=True, slots=True)
class Component:
    sku: str
    quantity: int

    def __post_init__(self) -> None:
        if not _is_int(self.quantity) or self.quantity < 1:
            raise ValueError(f"component quantity must be an integer >= 1, got {self.quantity!r}")


@dataclass(frozen=True, slots=True)
class Product:
    sku: str
    quantity_available: int  # may be negative when the OMS is oversold
    components: tuple[Component, ...] = ()

    @property
    def is_bundle(self) -> bool:
        return bool(self.components)


@dataclass(frozen=True, slots=True)
class StockRules:
    """An account's stock rules; None means the rule is off."""

    buffer: int | None = None
    max_quantity: int | None = None
    zero_at_or_below: int | None = None

    def __post_init__(self) -> None:
        # A negative buffer would *add* stock; guard the invariant even when built without validation.
        for name in STOCK_RULE_KEYS:
            value = getattr(self, name)
            if value is not None and (not _is_int(value) or value < 0):
                raise ValueError(f"stock rule {name} must be an integer >= 0 or None, got {value!r}")


def validate_stock_rules(raw: object) -> StockRules:
    """Stock rules from a request body; raise `InvalidInput` (`invalid_stock_rules`) listing every bad field.

    `None` (and a rule set to `null`) means no rule.
    """
    if raw is None:
        return StockRules()
    if not isinstance(raw, Mapping):
        raise InvalidInput(
            "stock_rules must be an object",
            code="invalid_stock_rules",
            details=[{"field": "stock_rules", "reason": "must be an object"}],
        )
    details: list[dict[str, Any]] = []
    values: dict[str, int] = {}
    for key, value in raw.items():
        name = str(key)[:_FIELD_NAME_LIMIT]
        if key not in STOCK_RULE_KEYS:
            expected = ", ".join(sorted(STOCK_RULE_KEYS))
            details.append({"field": f"stock_rules.{name}", "reason": f"unknown rule; expected one of {expected}"})
        elif value is None:
            continue
        elif (reason := _rule_value_problem(value)) is not None:
            details.append({"field": f"stock_rules.{name}", "reason": reason})
        else:
            values[name] = value
    if details:
        first = details[0]
        raise InvalidInput(
            f"Invalid stock rules: {first['field']} {first['reason']}",
            code="invalid_stock_rules",
            details=details,
        )
    return StockRules(**values)


def _rule_value_problem(value: object) -> str | None:
    if not _is_int(value):
        return f"must be an integer, not {type(value).__name__}"
    if value < 0:
        return "must be at least 0"
    if value > MAX_RULE_VALUE:
        return f"must be at most {MAX_RULE_VALUE}"
    return None


@dataclass(frozen=True, slots=True)
class _Problem:
    code: str
    field: str
    reason: str


def validate_bundle(
    bundle_sku: str,
    components: object,
    lookup: Callable[[str], Product | None],
) -> tuple[Component, ...]:
    """The components of a bundle, checked; raise `InvalidInput` listing every problem.

    `components` is a list of `{"sku", "quantity"}` objects (or `Component`s), 1 to
    `MAX_BUNDLE_COMPONENTS` of them. Call it only for a product that has components: an empty list
    is how a simple product is written, which is the caller's decision, not this check's.
    `lookup` finds one of the same client's products by exact SKU (it is already client-scoped).

    The error's code is that of the first problem (`bundle_contains_itself`, `component_not_found`,
    `component_is_bundle`, `invalid_component_quantity`, `duplicate_component`, `invalid_sku`,
    `invalid_components`); each detail carries its own `code`.
    """
    validate_sku(bundle_sku)
    if not isinstance(components, list | tuple) or not 1 <= len(components) <= MAX_BUNDLE_COMPONENTS:
        reason = f"must be a list of 1 to {MAX_BUNDLE_COMPONENTS} components"
        raise InvalidInput(
            f"Bundle {quote_sku(bundle_sku)}: components {reason}",
            code="invalid_components",
            details=[{"field": "components", "reason": reason, "code": "invalid_components"}],
        )

    problems: list[_Problem] = []
    checked: list[Component] = []
    first_seen: dict[str, int] = {}
    for position, item in enumerate(components):
        where = f"components[{position}]"
        parsed = _component_fields(item, where, problems)
        if parsed is None:
            continue
        sku, quantity = parsed
        if sku is None:
            continue
        if sku == bundle_sku:
            problems.append(_Problem("bundle_contains_itself", f"{where}.sku", "a bundle cannot contain itself"))
            continue
        if sku in first_seen:
            problems.append(
                _Problem(
                    "duplicate_component",
                    f"{where}.sku",
                    f"{quote_sku(sku)} is already components[{first_seen[sku]}]; use one line with the total quantity",
                )
            )
            continue
        first_seen[sku] = position
        product = lookup(sku)
        if product is None:
            problems.append(_Problem("component_not_found", f"{where}.sku", f"no product {quote_sku(sku)}"))
        elif product.is_bundle:
            problems.append(
                _Problem(
                    "component_is_bundle",
                    f"{where}.sku",
                    f"{quote_sku(sku)} is a bundle; a bundle cannot contain a bundle",
                )
            )
        elif quantity is not None:
            checked.append(Component(sku, quantity))

    if problems:
        first = problems[0]
        more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
        raise InvalidInput(
            f"Bundle {quote_sku(bundle_sku)}: {first.field} {first.reason}{more}",
            code=first.code,
            details=[{"field": p.field, "reason": p.reason, "code": p.code} for p in problems],
        )
    return tuple(checked)


def _component_fields(item: object, where: str, problems: list[_Problem]) -> tuple[str | None, int | None] | None:
    """(sku, quantity) of one component line, each None when invalid (with the problem recorded)."""
    if isinstance(item, Component):
        raw_sku: object = item.sku
        raw_quantity: object = item.quantity
    elif isinstance(item, Mapping):
        unknown = [str(key)[:_FIELD_NAME_LIMIT] for key in item if key not in ("sku", "quantity")]
        if unknown:
            problems.append(_Problem("invalid_components", where, f"unknown field(s): {', '.join(sorted(unknown))}"))
            return None
        raw_sku = item.get("sku")
        raw_quantity = item.get("quantity")
    else:
        problems.append(_Problem("invalid_components", where, "must be an object with sku and quantity"))
        return None

    sku: str | None = None
    if raw_sku is None:
        problems.append(_Problem("invalid_sku", f"{where}.sku", "is required"))
    else:
        try:
            sku = validate_sku(raw_sku, field=f"{where}.sku")
        except InvalidInput as error:
            problems.extend(_Problem(error.code, d["field"], d["reason"]) for d in error.details)

    quantity: int | None = None
    if not _is_int(raw_quantity):
        shown = "is required" if raw_quantity is None else f"must be an integer, not {type(raw_quantity).__name__}"
        problems.append(_Problem("invalid_component_quantity", f"{where}.quantity", shown))
    elif not 1 <= raw_quantity <= MAX_COMPONENT_QUANTITY:
        reason = f"must be between 1 and {MAX_COMPONENT_QUANTITY}"
        problems.append(_Problem("invalid_component_quantity", f"{where}.quantity", reason))
    else:
        quantity = raw_quantity
    return sku, quantity


def simple_quantity(product: Product) -> int:
    """§5.2: an oversold (negative) figure is sent as 0."""
    return max(0, product.quantity_available)


def bundle_quantity(product: Product, available: Mapping[str, int]) -> int:
    """§5.2: how many whole bundles the components make up; a component missing from `available` makes 0.

    `available` maps the client's simple SKUs to their `quantity_available`.
    """
    if not product.components:
        raise ValueError(f"{quote_sku(product.sku)} is not a bundle")
    return min(max(0, available.get(c.sku, 0)) // c.quantity for c in product.components)


def apply_rules(quantity: int, rules: StockRules) -> int:
    """§5.3, in this order: buffer, then zero-at-or-below, then the cap. Never negative."""
    result = max(0, quantity)
    if rules.buffer is not None:
        result = max(0, result - rules.buffer)
    if rules.zero_at_or_below is not None and result <= rules.zero_at_or_below:
        result = 0
    if rules.max_quantity is not None:
        result = min(result, rules.max_quantity)
    return result


@dataclass(frozen=True, slots=True)
class QuantityDecision:
    """The quantity to send for one SKU, or why it is not sent."""

    quantity: int | None
    skip_reason: str | None = None


def decide_quantity(
    product: Product,
    available: Mapping[str, int],
    rules: StockRules,
    include_bundles: bool,
) -> QuantityDecision:
    """§5.2 then §5.3 for one product of an account with `include_bundles_in_stock_sync = include_bundles`."""
    if product.is_bundle:
        if not include_bundles:
            return QuantityDecision(None, "bundle_excluded")
        base = bundle_quantity(product, available)
    else:
        base = simple_quantity(product)
    return QuantityDecision(apply_rules(base, rules))


PushStatus = Literal["in_flight", "accepted", "rejected"]


@dataclass(frozen=True, slots=True)
class LastSent:
    """The last quantity sent to Amazon for a SKU and what became of it. `sent_at` is timezone-aware."""

    quantity: int
    sent_at: datetime
    status: PushStatus


def needs_push(new_quantity: int, last_sent: LastSent | None, now: datetime) -> bool:
    """§5.4 delta rule: unchanged SKUs cost no API call, except once a day and after a rejection."""
    if last_sent is None or last_sent.status == "rejected":
        return True
    if new_quantity != last_sent.quantity:
        return True
    return now - last_sent.sent_at > RESEND_AFTER


@dataclass(frozen=True, slots=True)
class QuantityConflict:
    """Accounts of one seller and region that would send different quantities for a SKU (§5.5)."""

    sku: str
    quantities: dict[str, int] = field(hash=False)  # account id -> its figure, by account id
    sent: int
    code: Literal["conflicting_quantity"] = "conflicting_quantity"

    def to_dict(self) -> dict[str, Any]:
        return {"sku": self.sku, "code": self.code, "quantities": dict(self.quantities), "sent": self.sent}


@dataclass(frozen=True, slots=True)
class MergeResult:
    quantities: dict[str, int] = field(hash=False)  # SKU -> the one figure sent, by SKU
    conflicts: tuple[QuantityConflict, ...] = ()

    @property
    def conflicting_skus(self) -> tuple[str, ...]:
        return tuple(c.sku for c in self.conflicts)


def merge_quantities(per_account: Mapping[str, Mapping[str, int]]) -> MergeResult:
    """One SKU -> quantity map for a seller and region from each account's map (§5.5).

    Amazon holds a single merchant-fulfilled figure per SKU in a region, so the accounts' figures
    must become one. The lowest wins: overselling costs the seller more than under-offering. Only
    accounts that send a SKU have a say in it; an account that skips it is not a conflict.
    """
    figures: dict[str, dict[str, int]] = {}
    for account_id in sorted(per_account):
        for sku, quantity in per_account[account_id].items():
            figures.setdefault(sku, {})[account_id] = quantity

    quantities: dict[str, int] = {}
    conflicts: list[QuantityConflict] = []
    for sku in sorted(figures):
        by_account = figures[sku]
        lowest = min(by_account.values())
        quantities[sku] = lowest
        if len(by_account) > 1 and max(by_account.values()) != lowest:
            conflicts.append(QuantityConflict(sku, by_account, lowest))
    return MergeResult(quantities, tuple(conflicts))
