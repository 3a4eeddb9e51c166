"""Products use cases (SPEC §5.2, §7): read, create or replace, delete, and load a batch of OMS SKUs.

Every write is planned against a fresh read of the products it touches — the product itself, its
components and, for a batch, everything in the batch — and applied only if none of them changed
meanwhile. When something did (a concurrent request), the plan is made again from a new read, so a
lost race ends either in success or in the precise error that the new state deserves (a component
that was just deleted is `component_not_found`, not a vague conflict).

A batch is all-or-nothing: every item is checked (shape, SKU rules, duplicates, bundle rules against
the batch plus the stored catalogue) before anything is written, one refused item refuses the batch
with one detail per refused item, and what passes is written so that every reader sees all of it or
none of it (`ProductRepository.apply_batch`), whatever fails part-way.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace

from oms_amazon.domain.errors import DomainError, InvalidInput, NotFound
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
    StagedProduct,
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
    changes: list[ProductChange] = field(default_factory=list)
    stored: dict[str, CatalogueProduct] = field(default_factory=dict)  # what the plan was made against

    @property
    def touched(self) -> set[str]:
        """Every product the plan read or writes (bundles' old components included)."""
        skus = set(self.stored)
        for change in self.changes:
            skus |= {change.product.sku, *change.joins, *change.leaves}
        return skus


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
        touched = {draft.sku} | _component_skus(draft)

        def attempt() -> SavedProduct:
            plan = self._plan(client_id, [draft])
            touched.update(plan.touched)
            if plan.problems:
                raise plan.problems[0]
            self._products.apply(plan.changes)
            return plan.saved[0]

        saved = _until_settled(attempt, lambda: self._settle(client_id, touched))
        if saved.status != "unchanged":
            logger.info(f"product {saved.status}", extra=_log_keys(saved.product))
        return saved

    def delete(self, client_id: str, sku: str) -> None:
        """Remove a product no bundle uses (else 409 `product_in_bundle` naming the bundles). Deleting
        a bundle takes it out of its components' `used_in_bundles` in the same transaction."""
        touched = {sku}

        def attempt() -> CatalogueProduct:
            product = self.get(client_id, sku)
            touched.update(c.sku for c in product.components)
            if product.used_in_bundles:
                raise product_in_bundle(sku, product.used_in_bundles, action="be deleted")
            self._products.delete(product)
            return product

        deleted = _until_settled(attempt, lambda: self._settle(client_id, touched))
        logger.info("product deleted", extra=_log_keys(deleted))

    def put_batch(self, client_id: str, items: Sequence[ProductDraft | RefusedItem]) -> BatchOutcome:
        """Create or replace up to `MAX_BATCH_SIZE` products, all or none.

        Validation is complete before the first write: if any item is refused, nothing is written and
        `InvalidInput` (`invalid_batch`) lists every refused item as `{index, sku, code, message}`.

        Then every product that changes — the items that would not change are left alone — and every
        component whose `used_in_bundles` changes is handed to the repository as one batch, which every
        reader sees whole or not at all. A batch that loses a race (another request changed a product
        it planned against, or another batch holds one) is planned again from a fresh read; one that
        keeps losing is 409 `version_conflict`, and one the data store fails is 503: in both cases
        nothing of it is visible, and re-sending it is safe.
        """
        if not 1 <= len(items) <= MAX_BATCH_SIZE:
            raise InvalidInput(
                f"A batch holds 1 to {MAX_BATCH_SIZE} products.",
                details=[{"field": "products", "reason": f"must hold 1 to {MAX_BATCH_SIZE} items"}],
            )
        touched: set[str] = set()

        def attempt() -> dict[int, SavedProduct]:
            plan = self._plan(client_id, items)
            touched.update(plan.touched)
            if plan.problems:
                raise _batch_refused(items, plan.problems)
            self._products.apply_batch(client_id, _staged(plan), now=self._clock())
            return plan.saved

        written = _until_settled(attempt, lambda: self._settle(client_id, touched))
        outcome = BatchOutcome(tuple(saved for _, saved in sorted(written.items())))
        logger.info(
            "product batch written",
            extra={
                "client_id": client_id,
                **{f"products_{s}": outcome.count(s) for s in ("created", "replaced", "unchanged")},
            },
        )
        return outcome

    def _settle(self, client_id: str, skus: set[str]) -> None:
        if skus:
            self._products.settle(client_id, skus, now=self._clock())

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
        # A bundle the batch replaces may leave components the batch does not name; their
        # `used_in_bundles` is written with it, so they are read too.
        left = {c.sku for sku in first_at if sku in stored for c in stored[sku].components} - stored.keys()
        if left:
            stored |= self._products.get_many(client_id, left)
        plan.stored = stored
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


def _until_settled[T](attempt: Callable[[], T], settle: Callable[[], None]) -> T:
    """Run `attempt` (which reads, plans and writes) again while it loses races to other requests,
    letting go first of what finished or abandoned batches still hold of it."""
    for _ in range(ATTEMPTS - 1):
        try:
            return attempt()
        except CatalogueChanged:
            settle()
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


def _staged(plan: _Plan) -> list[StagedProduct]:
    """The whole new state of every product the plan changes: its changed products, with the bundles
    that will use them, and the components outside the plan whose `used_in_bundles` it changes."""
    users: dict[str, set[str]] = {}

    def users_of(sku: str) -> set[str]:
        if sku not in users:
            users[sku] = set(plan.stored[sku].used_in_bundles) if sku in plan.stored else set()
        return users[sku]

    for change in plan.changes:
        for component in change.joins:
            users_of(component).add(change.product.sku)
        for component in change.leaves:
            users_of(component).discard(change.product.sku)

    def before(sku: str) -> frozenset[str]:
        return plan.stored[sku].used_in_bundles if sku in plan.stored else frozenset()

    staged = [
        StagedProduct(
            replace(change.product, used_in_bundles=frozenset(users.get(sku, change.product.used_in_bundles))),
            change.expected_version,
            before(sku),
        )
        for change in plan.changes
        if (sku := change.product.sku)
    ]
    in_plan = {change.product.sku for change in plan.changes}
    for sku, now_used in users.items():
        current = plan.stored.get(sku)
        if sku in in_plan or current is None or frozenset(now_used) == current.used_in_bundles:
            continue
        staged.append(
            StagedProduct(replace(current, used_in_bundles=frozenset(now_used)), current.version, before(sku))
        )
    return staged


def _batch_refused(items: Sequence[ProductDraft | RefusedItem], problems: Mapping[int, DomainError]) -> DomainError:
    details = [
        {"index": index, "sku": _shown_sku(items[index]), "code": error.code, "message": error.message}
        for index, error in problems.items()
    ]
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
