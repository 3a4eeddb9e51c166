"""OMS products and bundles (SPEC §5.2, §7) — pure.

A product is one SKU of one client with the quantity the warehouse has available (negative when the
OMS is oversold). A bundle is a product with components: simple products of the same client, each
with a quantity per bundle. A bundle keeps no quantity of its own: what it can make up is computed
from its components at stock-sync time (`stock.bundle_quantity`).

Bundles never nest (§5.2): every component is a simple product. So besides `stock.validate_bundle`
(which checks a bundle's components) there is the rule seen from the other side: a product that some
bundle uses cannot itself become a bundle. Each product records the bundles that use it
(`used_in_bundles`), which is what makes that rule, and "which bundles use this SKU?", a key lookup.

SKU rules live in `oms_amazon.sku`, component rules in `oms_amazon.stock`; this module adds only
what is specific to the catalogue.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Final, Literal

from oms_amazon.domain.errors import Conflict, DomainError, InvalidInput
from oms_amazon.sku import quote_sku
from oms_amazon.stock import Component, Product

# Far beyond any warehouse's stock of one SKU, and within a 32-bit signed integer either way.
MAX_QUANTITY_AVAILABLE: Final = 1_000_000_000
MAX_PRODUCT_NAME_LENGTH: Final = 250
MAX_BATCH_SIZE: Final = 1000
# The bundles using a product are kept on the product's own DynamoDB item, which is capped at 400 KB;
# this leaves room for the rest of the item. With 20-character SKUs it is over 12,000 bundles.
MAX_USED_IN_BUNDLES_BYTES: Final = 256_000
# Bundles named in an error message; the full list is in the error's details.
_MESSAGE_BUNDLES: Final = 5

# Same families `sku.validate_sku` refuses: controls, invisible format characters, lone surrogates
# (which cannot be encoded for the data store) and line/paragraph separators.
_FORBIDDEN_NAME_CATEGORIES: Final = frozenset({"Cc", "Cf", "Cs", "Zl", "Zp"})


def check_product_name(value: str) -> str:
    """A product's display name: trimmed, 1 to `MAX_PRODUCT_NAME_LENGTH` characters, printable."""
    name = value.strip()
    if not 1 <= len(name) <= MAX_PRODUCT_NAME_LENGTH:
        raise InvalidInput(
            f"name must be 1 to {MAX_PRODUCT_NAME_LENGTH} characters (or left out).",
            details=[{"field": "name", "reason": "length"}],
        )
    if any(unicodedata.category(ch) in _FORBIDDEN_NAME_CATEGORIES for ch in name):
        raise InvalidInput(
            "name must not contain control or invisible characters.",
            details=[{"field": "name", "reason": "control characters"}],
        )
    return name


@dataclass(frozen=True, slots=True)
class ProductDraft:
    """A product as a caller sent it, its shape checked. `components` is still raw (a list of
    `{sku, quantity}` objects, or None/empty for a simple product): whether they make a valid bundle
    depends on the catalogue, so the service checks them with `stock.validate_bundle`."""

    sku: str
    name: str | None = None
    quantity_available: int | None = None
    components: Sequence[object] | None = None

    @property
    def wants_bundle(self) -> bool:
        return bool(self.components)


@dataclass(frozen=True, slots=True)
class RefusedItem:
    """A batch item refused before it became a `ProductDraft` (its JSON shape was wrong)."""

    sku: str | None
    error: DomainError


@dataclass(frozen=True, slots=True)
class CatalogueProduct:
    """A stored product. `quantity_available` is 0 for a bundle and means nothing there."""

    client_id: str
    sku: str
    name: str | None
    quantity_available: int
    components: tuple[Component, ...]
    used_in_bundles: frozenset[str]
    created_at: datetime
    updated_at: datetime
    version: int = 1

    @property
    def is_bundle(self) -> bool:
        return bool(self.components)

    def as_stock(self) -> Product:
        """What the stock rules (§5.2) need of it."""
        return Product(self.sku, self.quantity_available, self.components)

    def has_content(self, name: str | None, quantity_available: int, components: tuple[Component, ...]) -> bool:
        """True when writing these values would change nothing the caller can set."""
        return (self.name, self.quantity_available, self.components) == (name, quantity_available, components)


@dataclass(frozen=True, slots=True)
class ProductChange:
    """One product to write, and the `used_in_bundles` bookkeeping that must be written with it.

    `expected_version` is the stored version the change was planned against (None: the product must
    not exist yet). `joins` are the components that gain this bundle, `leaves` those that lose it.
    """

    product: CatalogueProduct
    expected_version: int | None
    joins: tuple[str, ...] = ()
    leaves: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class StagedProduct:
    """A product's whole state after a batch (`used_in_bundles` included), and the state it was planned
    against: the stored `version` (None: it must not exist yet) and the bundles that used it. A batch is
    a list of these, made visible together or not at all."""

    product: CatalogueProduct
    expected_version: int | None
    expected_used_in_bundles: frozenset[str]


def membership_changes(
    old: tuple[Component, ...], new: tuple[Component, ...]
) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """(components that gain the bundle, components that lose it) when its components go from old to new."""
    before = {c.sku for c in old}
    after = {c.sku for c in new}
    return (
        tuple(c.sku for c in new if c.sku not in before),
        tuple(c.sku for c in old if c.sku not in after),
    )


def product_in_bundle(sku: str, bundles: Collection[str], *, action: str) -> Conflict:
    """`action` is what cannot be done ("be deleted", "become a bundle") while bundles use `sku`."""
    ordered = sorted(bundles)
    shown = ", ".join(quote_sku(b) for b in ordered[:_MESSAGE_BUNDLES])
    if len(ordered) > _MESSAGE_BUNDLES:
        shown += f" and {len(ordered) - _MESSAGE_BUNDLES} more"
    return Conflict(
        f"Product {quote_sku(sku)} is a component of {len(ordered)} bundle(s) ({shown}), so it cannot {action}. "
        "Remove it from those bundles first.",
        code="product_in_bundle",
        details=[{"field": "sku", "reason": "used in bundles", "bundles": ordered}],
    )


def used_in_bundles_bytes(bundles: Collection[str]) -> int:
    return sum(len(b.encode()) for b in bundles)


def too_many_bundles(component: str) -> Conflict:
    return Conflict(
        f"Product {quote_sku(component)} is already a component of too many bundles to be added to another.",
        code="component_in_too_many_bundles",
        details=[{"field": "components", "reason": "component used in too many bundles", "sku": component}],
    )


class CatalogueChanged(Conflict):
    """What a write was planned against changed before it was applied (a concurrent request). The
    service re-reads and re-plans; only when that keeps happening does the caller see a 409."""

    code = "version_conflict"

    def __init__(self, *, committed: int = 0) -> None:
        super().__init__(
            "The catalogue changed while this request was applied; read the product again and retry.",
            code="version_conflict",
        )
        self.committed = committed


WriteStatus = Literal["created", "replaced", "unchanged"]


@dataclass(frozen=True, slots=True)
class SavedProduct:
    product: CatalogueProduct
    status: WriteStatus


@dataclass(frozen=True, slots=True)
class BatchOutcome:
    """What a batch did to each of its items, in request order."""

    items: tuple[SavedProduct, ...]

    def count(self, status: WriteStatus) -> int:
        return sum(1 for item in self.items if item.status == status)
