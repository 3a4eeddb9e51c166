"""Products use cases (SPEC §5.2, §7): read, create or replace, delete, and load a batch of OMS SKUs.

Every write is planned against a fresh read of the products it touches — the product itself, its
components and, for a batch, everything in the batch — and applied only if none of them changed
meanwhile. When something did (a concurrent request), the plan is made again from a new read, so a
lost race ends either in success or in the precise error that the new state deserves (a component
that was just deleted is `component_not_found`, not a vague conflict).

A batch is all-or-nothing with respect to validation: every item is checked (shape, SKU rules,
duplicates, bundle rules against the batch plus the stored catalogue) before anything is written,
and one refused item refuses the batch with one detail per refused item. See `put_batch` for what
happens when the data store fails part-way through the writes.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

from oms_amazon.domain.errors import Conflict, DomainError, InvalidInput, NotFound
from oms_amazon.domain.products import (
    MAX_BATCH_SIZE,
    MAX_QUANTITY_AVAILABLE,
    MAX_USED_IN_BUNDLES_BYTES,
    BatchOutcome,
    CatalogueChanged,
    CatalogueProduct,
    ProductChange,
    ProductDraft,
    RefusedItem,
    SavedProduct,
    WriteStatus,
    membership_changes,
    product_in_bundle,
    too_many_bundles,
    used_in_bundles_bytes,
)
from oms_amazon.observability import logger
from oms_amazon.ports import Clock, Page, ProductRepository
from oms_amazon.sku import quote_sku, validate_sku
from oms_amazon.stock import MAX_BUNDLE_COMPONENTS, Component, Product, validate_bundle

# A write that loses a race is planned again from a fresh read this many times in all.
ATTEMPTS = 3

type _Lookup = Callable[[str], Product | None]


@dataclass
class _Plan:
    """The outcome of checking a list of drafts against the catalogue."""

    saved: dict[int, SavedProduct] = field(default_factory=dict)
    problems: dict[int, DomainError] = field(default_factory=dict)
    changes: list[ProductChange] = field(default_factory=list)  # in the order they must be written


class ProductService:
    def __init__(self, products: ProductRepository, clock: Clock) -> None:
        self._products = products
        self._clock = clock

    def get(self, client_id: str, sku: str) -> CatalogueProduct:
        validate_sku(sku)
        product = self._products.get(client_id, sku)
        if product is None:
            raise NotFound(f"No product {quote_sku(sku)}.", code="product_not_found")
        return product

    def page(self, client_id: str, *, limit: int, next_token: str | None) -> Page[CatalogueProduct]:
        return self._products.page(client_id, limit=limit, next_token=next_token)

    def put(self, client_id: str, draft: ProductDraft) -> SavedProduct:
        """Create or replace one product. Replacing keeps `created_at` and the bundles that use it; a
        request that changes nothing writes nothing (and keeps the version)."""
        saved = _until_settled(lambda: self._put_once(client_id, draft))
        if saved.status != "unchanged":
            logger.info(f"product {saved.status}", extra=_log_keys(saved.product))
        return saved

    def _put_once(self, client_id: str, draft: ProductDraft) -> SavedProduct:
        plan = self._plan(client_id, [draft])
        if plan.problems:
            raise plan.problems[0]
        self._products.apply(plan.changes)
        return plan.saved[0]

    def delete(self, client_id: str, sku: str) -> None:
        """Remove a product no bundle uses (else 409 `product_in_bundle` naming the bundles). Deleting
        a bundle takes it out of its components' `used_in_bundles` in the same transaction."""
        deleted = _until_settled(lambda: self._delete_once(client_id, sku))
        logger.info("product deleted", extra=_log_keys(deleted))

    def _delete_once(self, client_id: str, sku: str) -> CatalogueProduct:
        product = self.get(client_id, sku)
        if product.used_in_bundles:
            raise product_in_bundle(sku, product.used_in_bundles, action="be deleted")
        self._products.delete(product)
        return product

    def put_batch(self, client_id: str, items: Sequence[ProductDraft | RefusedItem]) -> BatchOutcome:
        """Create or replace up to `MAX_BATCH_SIZE` products, all or none.

        Validation is complete before the first write: if any item is refused, nothing is written and
        `InvalidInput` (`invalid_batch`) lists every refused item as `{index, sku, code, message}`.

        The writes then go in as few DynamoDB transactions as the 100-actions limit allows — simple
        products first, then bundles (whose components must exist and be simple when they are
        written) — and items that would not change are not written at all. Each transaction is
        atomic and carries whole products with their `used_in_bundles` bookkeeping, so the table is
        consistent after every one of them. The batch as a whole is not one transaction: if the data
        store fails part-way (503), the transactions already committed stay. Re-sending the same
        batch is safe and converges: what was written is now unchanged and skipped, the rest is
        written. If another request changes the catalogue part-way so that an item no longer
        validates, the answer is 409 `batch_conflict` with the same per-item details, again with
        the earlier transactions kept.
        """
        if not 1 <= len(items) <= MAX_BATCH_SIZE:
            raise InvalidInput(
                f"A batch holds 1 to {MAX_BATCH_SIZE} products.",
                details=[{"field": "products", "reason": f"must hold 1 to {MAX_BATCH_SIZE} items"}],
            )
        # What the first plan meant to do to each item: an item written by an attempt that was then
        # interrupted by a race is "unchanged" on the re-plan, yet this request created or replaced it.
        intended: dict[int, WriteStatus] = {}
        wrote_some = False

        def attempt() -> dict[int, SavedProduct]:
            nonlocal wrote_some
            plan = self._plan(client_id, items)
            if plan.problems:
                raise _batch_refused(items, plan.problems, after_writes=wrote_some)
            for index, saved in plan.saved.items():
                intended.setdefault(index, saved.status)
            try:
                self._products.apply(plan.changes)
            except CatalogueChanged as changed:
                wrote_some = wrote_some or changed.committed > 0
                raise
            return plan.saved

        written = _until_settled(attempt)
        outcome = BatchOutcome(
            tuple(
                SavedProduct(saved.product, intended[index] if saved.status == "unchanged" else saved.status)
                for index, saved in sorted(written.items())
            )
        )
        logger.info(
            "product batch written",
            extra={
                "client_id": client_id,
                **{f"products_{s}": outcome.count(s) for s in ("created", "replaced", "unchanged")},
            },
        )
        return outcome

    def _plan(self, client_id: str, items: Sequence[ProductDraft | RefusedItem]) -> _Plan:
        plan = _Plan()
        drafts: dict[int, ProductDraft] = {}
        first_at: dict[str, int] = {}
        for index, item in enumerate(items):
            if isinstance(item, RefusedItem):
                plan.problems[index] = item.error
                continue
            try:
                _check_draft(item)
            except DomainError as error:
                plan.problems[index] = error
                continue
            if item.sku in first_at:
                plan.problems[index] = _duplicate(item.sku, first_at[item.sku])
                continue
            first_at[item.sku] = index
            drafts[index] = item

        wanted = set(first_at).union(*(_component_skus(d) for d in drafts.values()))
        stored = self._products.get_many(client_id, wanted) if wanted else {}
        in_batch = {d.sku: _planned_shape(d) for d in drafts.values()}

        def lookup(sku: str) -> Product | None:
            # The batch's version of a product wins over the stored one.
            if sku in in_batch:
                return in_batch[sku]
            found = stored.get(sku)
            return found.as_stock() if found else None

        now = self._clock()
        joining: dict[str, set[str]] = {}
        joined_by: dict[str, list[int]] = {}
        for index, draft in drafts.items():
            current = stored.get(draft.sku)
            try:
                components, quantity = self._content(draft, current, lookup, set(first_at))
            except DomainError as error:
                plan.problems[index] = error
                continue
            if current is not None and current.has_content(draft.name, quantity, components):
                plan.saved[index] = SavedProduct(current, "unchanged")
                continue
            product = CatalogueProduct(
                client_id=client_id,
                sku=draft.sku,
                name=draft.name,
                quantity_available=quantity,
                components=components,
                used_in_bundles=current.used_in_bundles if current else frozenset(),
                created_at=current.created_at if current else now,
                updated_at=now,
                version=current.version + 1 if current else 1,
            )
            joins, leaves = membership_changes(current.components if current else (), components)
            for component in joins:
                joining.setdefault(component, set()).add(draft.sku)
                joined_by.setdefault(component, []).append(index)
            plan.changes.append(ProductChange(product, current.version if current else None, joins, leaves))
            plan.saved[index] = SavedProduct(product, "replaced" if current else "created")

        for component, bundles in joining.items():
            existing = stored[component].used_in_bundles if component in stored else frozenset()
            if used_in_bundles_bytes(existing | bundles) > MAX_USED_IN_BUNDLES_BYTES:
                for index in joined_by[component]:
                    plan.problems.setdefault(index, too_many_bundles(component))

        plan.changes = _write_order(plan.changes, stored)
        plan.problems = dict(sorted(plan.problems.items()))
        return plan

    @staticmethod
    def _content(
        draft: ProductDraft,
        current: CatalogueProduct | None,
        lookup: _Lookup,
        batch_skus: set[str],
    ) -> tuple[tuple[Component, ...], int]:
        """(components, quantity_available) to store for a draft, or the domain error refusing it."""
        if not draft.wants_bundle:
            if draft.quantity_available is None:
                raise InvalidInput(
                    "quantity_available is required for a product without components.",
                    details=[{"field": "quantity_available", "reason": "required"}],
                )
            return (), draft.quantity_available
        components = validate_bundle(draft.sku, draft.components, lookup)
        # Bundles in this batch are judged by their new components (a batch bundle that keeps this
        # product is refused with `component_is_bundle`); only the others can block it here.
        users = (current.used_in_bundles if current else frozenset()) - batch_skus
        if users:
            raise product_in_bundle(draft.sku, users, action="become a bundle (bundles cannot contain bundles)")
        # A bundle's own figure is never used (§5.2), so it is not kept: 0, whatever was sent.
        return components, 0


def _until_settled[T](attempt: Callable[[], T]) -> T:
    """Run `attempt` (which reads, plans and writes) again while it loses races to other requests."""
    for _ in range(ATTEMPTS - 1):
        try:
            return attempt()
        except CatalogueChanged:
            continue
    return attempt()


def _check_draft(draft: ProductDraft) -> None:
    """The rules a draft must meet whoever built it (the API's schema already enforces them)."""
    validate_sku(draft.sku)
    quantity = draft.quantity_available
    if quantity is not None and not (
        isinstance(quantity, int) and not isinstance(quantity, bool) and abs(quantity) <= MAX_QUANTITY_AVAILABLE
    ):
        raise InvalidInput(
            f"quantity_available must be an integer between -{MAX_QUANTITY_AVAILABLE} and {MAX_QUANTITY_AVAILABLE}.",
            details=[{"field": "quantity_available", "reason": "out of range"}],
        )


def _duplicate(sku: str, first_index: int) -> InvalidInput:
    return InvalidInput(
        f"SKU {quote_sku(sku)} is already products[{first_index}] of this batch; send each SKU once.",
        code="duplicate_sku",
        details=[{"field": "sku", "reason": "duplicate", "first_index": first_index}],
    )


def _component_skus(draft: ProductDraft) -> set[str]:
    """The valid SKUs a draft names as components, to read them in one go. Anything malformed is left
    to `validate_bundle` to report; it is never sent to the data store."""
    raw = draft.components
    if not isinstance(raw, list | tuple) or len(raw) > MAX_BUNDLE_COMPONENTS:
        return set()
    skus: set[str] = set()
    for item in raw:
        sku = item.get("sku") if isinstance(item, Mapping) else getattr(item, "sku", None)
        if isinstance(sku, str) and _is_valid_sku(sku):
            skus.add(sku)
    return skus


def _is_valid_sku(sku: str) -> bool:
    try:
        validate_sku(sku)
    except InvalidInput:
        return False
    return True


# `validate_bundle` only asks whether a component is a bundle; a product the batch turns into one
# is shown to it with a placeholder component, whatever its real components turn out to be.
_BUNDLE_MARK = (Component("\x00bundle", 1),)


def _planned_shape(draft: ProductDraft) -> Product:
    return Product(draft.sku, draft.quantity_available or 0, _BUNDLE_MARK if draft.wants_bundle else ())


def _write_order(changes: list[ProductChange], stored: Mapping[str, CatalogueProduct]) -> list[ProductChange]:
    """Simple products first: a bundle's components must exist and be simple when it is written.
    Among bundles, a product that other bundles of this batch still use is written after them, since
    it may become a bundle only once they have let go of it."""
    simple = [c for c in changes if not c.product.is_bundle]
    bundles = [c for c in changes if c.product.is_bundle]

    def still_used(change: ProductChange) -> bool:
        current = stored.get(change.product.sku)
        return bool(current and current.used_in_bundles)

    return simple + [c for c in bundles if not still_used(c)] + [c for c in bundles if still_used(c)]


def _batch_refused(
    items: Sequence[ProductDraft | RefusedItem], problems: Mapping[int, DomainError], *, after_writes: bool
) -> DomainError:
    details = [
        {"index": index, "sku": _shown_sku(items[index]), "code": error.code, "message": error.message}
        for index, error in problems.items()
    ]
    if after_writes:
        return Conflict(
            "The catalogue changed while this batch was being written and some of its products no longer "
            "validate. The products written before that are kept; fix the listed products and send the batch "
            "again (re-sending is safe).",
            code="batch_conflict",
            details=details,
        )
    return InvalidInput(
        f"{len(details)} of {len(items)} products were refused, so nothing was written. "
        "Each refused product is listed in details by its index in products.",
        code="invalid_batch",
        details=details,
    )


def _shown_sku(item: ProductDraft | RefusedItem) -> str | None:
    sku = item.sku
    return sku if sku is not None and _is_valid_sku(sku) else None


def _log_keys(product: CatalogueProduct) -> dict[str, object]:
    return {"client_id": product.client_id, "sku": product.sku, "version": product.version}
