"""The product catalogue (`ProductRepository`, and the `CatalogueReader` the stock sync reads)."""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime

from oms_amazon.domain.errors import DependencyUnavailable
from oms_amazon.domain.products import CatalogueChanged, CatalogueProduct, ProductChange, StagedProduct
from oms_amazon.ports import Page
from oms_amazon.sku import skus_matching


@dataclass
class FakeProducts:
    """Products in memory. `apply` and `delete` enforce what the DynamoDB conditions enforce, one
    change at a time, and record the SKUs each call wrote."""

    products: dict[tuple[str, str], CatalogueProduct] = field(default_factory=dict)
    applied: list[list[str]] = field(default_factory=list)
    deleted: list[str] = field(default_factory=list)
    settled: list[list[str]] = field(default_factory=list)
    # The data store fails (503) once this many changes of an `apply` have been committed (for a
    # batch: part-way through, when it holds more products than this; nothing of it is kept).
    fail_after: int | None = None
    # Another request, run once just before the next write (after this request read the catalogue).
    concurrently: Callable[[], None] | None = None

    def add(self, product: CatalogueProduct) -> CatalogueProduct:
        self.products[(product.client_id, product.sku)] = product
        return product

    def load(self, client_id: str, quantities: Mapping[str, int], now: datetime) -> None:
        """The client's catalogue becomes plain products of `quantities`: one whose quantity moved (or
        that is new) is stamped as changed `now`, as a product write stamps it."""
        for sku, quantity in quantities.items():
            known = self.get(client_id, sku)
            if known is None or known.quantity_available != quantity:
                created = known.created_at if known else now
                self.add(CatalogueProduct(client_id, sku, None, quantity, (), frozenset(), created, now))
        for sku in [s for (c, s) in self.products if c == client_id and s not in quantities]:
            del self.products[(client_id, sku)]

    def get(self, client_id: str, sku: str) -> CatalogueProduct | None:
        return self.products.get((client_id, sku))

    def get_many(self, client_id: str, skus: Collection[str]) -> dict[str, CatalogueProduct]:
        return {sku: p for sku in skus if (p := self.products.get((client_id, sku))) is not None}

    def page(self, client_id: str, *, limit: int, next_token: str | None) -> Page[CatalogueProduct]:
        items = [p for p in self.iter_catalogue(client_id) if next_token is None or p.sku > next_token]
        more = len(items) > limit
        return Page(items=items[:limit], next_token=items[limit - 1].sku if more else None)

    def iter_catalogue(self, client_id: str, *, index_missing: bool = False) -> Iterator[CatalogueProduct]:
        return iter(sorted((p for (c, _), p in self.products.items() if c == client_id), key=lambda p: p.sku))

    def changed_since(self, client_id: str, since: datetime) -> list[CatalogueProduct]:
        return [p for p in self.iter_catalogue(client_id) if p.updated_at >= since]

    def skus_matching(self, client_id: str, skus: Collection[str]) -> set[str]:
        return skus_matching((p.sku for p in self.iter_catalogue(client_id)), skus)

    def apply(self, changes: Sequence[ProductChange]) -> None:
        self._run_concurrent_request()
        written: list[str] = []
        self.applied.append(written)
        for change in changes:
            if self.fail_after is not None and len(written) >= self.fail_after:
                self.fail_after = None
                raise DependencyUnavailable("table unavailable")
            if not self._holds(change):
                raise CatalogueChanged(committed=len(written))
            self._write(change)
            written.append(change.product.sku)

    def apply_batch(self, client_id: str, staged: Sequence[StagedProduct], *, now: datetime) -> None:
        """All or nothing, like the repository: every product is checked before any is written."""
        self._run_concurrent_request()
        self.applied.append([s.product.sku for s in staged])
        if self.fail_after is not None and self.fail_after < len(staged):
            self.fail_after = None
            raise DependencyUnavailable("table unavailable")
        for item in staged:
            current = self.get(client_id, item.product.sku)
            expected = (current.version, current.used_in_bundles) if current else None
            wanted = (item.expected_version, item.expected_used_in_bundles) if item.expected_version else None
            if expected != wanted:
                raise CatalogueChanged()
        for item in staged:
            self.add(item.product)

    def settle(self, client_id: str, skus: Collection[str], *, now: datetime) -> None:
        self.settled.append(sorted(skus))

    def delete(self, product: CatalogueProduct) -> None:
        self._run_concurrent_request()
        current = self.get(product.client_id, product.sku)
        if current is None or current.version != product.version or current.used_in_bundles:
            raise CatalogueChanged()
        del self.products[(product.client_id, product.sku)]
        for component in product.components:
            self._member(product.client_id, component.sku, product.sku, joins=False)
        self.deleted.append(product.sku)

    def _run_concurrent_request(self) -> None:
        if self.concurrently is not None:
            run, self.concurrently = self.concurrently, None
            run()

    def _holds(self, change: ProductChange) -> bool:
        client_id = change.product.client_id
        current = self.get(client_id, change.product.sku)
        if change.expected_version is None and current is not None:
            return False
        if change.expected_version is not None and (current is None or current.version != change.expected_version):
            return False
        if change.product.is_bundle and current is not None and current.used_in_bundles:
            return False
        joined = [self.get(client_id, sku) for sku in change.joins]
        return all(p is not None and not p.is_bundle for p in joined) and all(
            self.get(client_id, sku) is not None for sku in change.leaves
        )

    def _write(self, change: ProductChange) -> None:
        client_id, sku = change.product.client_id, change.product.sku
        current = self.get(client_id, sku)
        # Like the DynamoDB update, a write never touches the bundles that use the product.
        self.add(replace(change.product, used_in_bundles=current.used_in_bundles if current else frozenset()))
        for component in change.joins:
            self._member(client_id, component, sku, joins=True)
        for component in change.leaves:
            self._member(client_id, component, sku, joins=False)

    def _member(self, client_id: str, component: str, bundle: str, *, joins: bool) -> None:
        product = self.products[(client_id, component)]
        users = product.used_in_bundles | {bundle} if joins else product.used_in_bundles - {bundle}
        self.add(replace(product, used_in_bundles=users))
