"""In-memory fakes of the ports that record what happened (no mocks asserting calls)."""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterator, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime

from oms_amazon.domain.accounts import Account, SellerToken
from oms_amazon.domain.courier_mappings import CourierServiceMapping, MappingAdded, UnmappedTerm
from oms_amazon.domain.errors import Conflict, DependencyUnavailable, NotFound
from oms_amazon.domain.products import CatalogueChanged, CatalogueProduct, ProductChange, StagedProduct
from oms_amazon.domain.write_limits import Charge, admit
from oms_amazon.ports import AccountFilter, MappingFilter, Page
from oms_amazon.sku import skus_matching


@dataclass
class FakeAccounts:
    accounts: dict[tuple[str, str], Account] = field(default_factory=dict)
    deleted: dict[tuple[str, str], tuple[Account, datetime]] = field(default_factory=dict)
    cleaned: set[tuple[str, str]] = field(default_factory=set)
    fail_next_write: bool = False

    def _maybe_fail(self) -> None:
        if self.fail_next_write:
            self.fail_next_write = False
            raise DependencyUnavailable("table unavailable")

    def get(self, client_id: str, account_id: str) -> Account | None:
        return self.accounts.get((client_id, account_id))

    def find(self, client_id: str, merchant_id: str, marketplace: str) -> Account | None:
        return next(
            (
                a
                for (c, _), a in self.accounts.items()
                if c == client_id and (a.merchant_id, a.marketplace) == (merchant_id, marketplace)
            ),
            None,
        )

    def page(self, client_id: str, where: AccountFilter, *, limit: int, next_token: str | None) -> Page[Account]:
        items = [a for (c, _), a in sorted(self.accounts.items()) if c == client_id]
        if where.merchant_id:
            items = [a for a in items if a.merchant_id == where.merchant_id]
        return Page(items=items, next_token=None)

    def of_seller(self, client_id: str, merchant_id: str) -> list[Account]:
        return list(self.page(client_id, AccountFilter(merchant_id=merchant_id), limit=100, next_token=None).items)

    def create(self, account: Account, *, siblings: Sequence[Account] = ()) -> None:
        self._maybe_fail()
        if self.find(account.client_id, account.merchant_id, account.marketplace):
            raise Conflict("exists", code="account_exists")
        self.accounts[(account.client_id, account.id)] = account
        for sibling in siblings:
            self.accounts[(sibling.client_id, sibling.id)] = sibling

    def update(self, account: Account, *, expected_revision: int, siblings: Sequence[Account] = ()) -> None:
        self._maybe_fail()
        if self.accounts[(account.client_id, account.id)].revision != expected_revision:
            raise Conflict("stale", code="version_conflict")
        self.accounts[(account.client_id, account.id)] = account
        for sibling in siblings:
            self.accounts[(sibling.client_id, sibling.id)] = sibling

    def delete(self, account: Account, now: datetime) -> None:
        self.accounts.pop((account.client_id, account.id), None)
        self.deleted[(account.client_id, account.id)] = (account, now)

    def tombstone(self, client_id: str, account_id: str) -> Account | None:
        found = self.deleted.get((client_id, account_id))
        return found[0] if found else None

    def tombstones(self, deleted_before: datetime) -> Iterator[tuple[Account, bool]]:
        return iter(
            [
                (account, (account.client_id, account.id) in self.cleaned)
                for account, at in list(self.deleted.values())
                if at < deleted_before
            ]
        )

    def mark_cleaned(self, account: Account) -> None:
        self.cleaned.add((account.client_id, account.id))

    def forget(self, account: Account) -> None:
        self.deleted.pop((account.client_id, account.id), None)


@dataclass
class FakeSecrets:
    """`tokens` holds each seller's current token; `versions` every token stored, by version id."""

    tokens: dict[tuple[str, str], SellerToken] = field(default_factory=dict)
    versions: dict[str, tuple[tuple[str, str], SellerToken]] = field(default_factory=dict)

    def get(self, client_id: str, merchant_id: str, version: str | None = None) -> SellerToken | None:
        if version is None:
            return self.tokens.get((client_id, merchant_id))
        stored = self.versions.get(version)
        return stored[1] if stored and stored[0] == (client_id, merchant_id) else None

    def put(self, client_id: str, merchant_id: str, token: SellerToken) -> str:
        version = f"v{len(self.versions) + 1}"
        self.versions[version] = ((client_id, merchant_id), token)
        self.tokens[(client_id, merchant_id)] = token
        return version

    def current_version(self, client_id: str, merchant_id: str) -> str | None:
        current = self.tokens.get((client_id, merchant_id))
        return next(
            (
                v
                for v, (owner, t) in reversed(self.versions.items())
                if (owner, t) == ((client_id, merchant_id), current)
            ),
            None,
        )

    def withdraw(self, client_id: str, merchant_id: str, version: str, back_to: str) -> bool:
        if self.current_version(client_id, merchant_id) != version or back_to not in self.versions:
            return False
        self.tokens[(client_id, merchant_id)] = self.versions[back_to][1]
        return True

    def delete(self, client_id: str, merchant_id: str) -> None:
        self.tokens.pop((client_id, merchant_id), None)
        self.versions = {v: stored for v, stored in self.versions.items() if stored[0] != (client_id, merchant_id)}


@dataclass
class FakeCourierMappings:
    """Mappings by (client, id), with the one-term-per-scope rule the table's guard items enforce."""

    mappings: dict[tuple[str, str], CourierServiceMapping] = field(default_factory=dict)
    accounts: FakeAccounts | None = None  # when given, a scoped write needs its account to exist

    def _check(self, mapping: CourierServiceMapping, *, ignoring: str | None = None) -> None:
        for (client, mapping_id), other in self.mappings.items():
            if client == mapping.client_id and mapping_id != ignoring and other.scope == mapping.scope:
                raise Conflict("exists", code="mapping_exists")
        account_id = mapping.account_id
        if (
            self.accounts is not None
            and account_id is not None
            and self.accounts.get(mapping.client_id, account_id) is None
        ):
            raise NotFound("gone", code="account_not_found")

    def get(self, client_id: str, mapping_id: str) -> CourierServiceMapping | None:
        return self.mappings.get((client_id, mapping_id))

    def page(
        self, client_id: str, where: MappingFilter, *, limit: int, next_token: str | None
    ) -> Page[CourierServiceMapping]:
        items = [
            m
            for m in self.all_of_client(client_id)
            if where.account_id in (None, m.account_id) and where.marketplace in (None, m.marketplace)
        ]
        return Page(items=items, next_token=None)

    def all_of_client(self, client_id: str) -> list[CourierServiceMapping]:
        return [m for (c, _), m in sorted(self.mappings.items()) if c == client_id]

    def create(self, mapping: CourierServiceMapping) -> None:
        self._check(mapping)
        self.mappings[(mapping.client_id, mapping.id)] = mapping

    def replace(self, mapping: CourierServiceMapping, *, previous: CourierServiceMapping) -> None:
        if self.mappings.get((mapping.client_id, mapping.id)) != previous:
            raise Conflict("stale", code="version_conflict")
        self._check(mapping, ignoring=mapping.id)
        self.mappings[(mapping.client_id, mapping.id)] = mapping

    def delete(self, mapping: CourierServiceMapping) -> None:
        self.mappings.pop((mapping.client_id, mapping.id), None)


@dataclass
class FakeUnmappedTerms:
    """Held orders per (client, order id) -> (marketplace, term, seen at); counters are derived."""

    held: dict[tuple[str, str], tuple[str, str, datetime]] = field(default_factory=dict)

    def page(
        self, client_id: str, *, marketplace: str | None, limit: int, next_token: str | None
    ) -> Page[UnmappedTerm]:
        counters: dict[tuple[str, str], UnmappedTerm] = {}
        for (client, _), (mp, term, seen) in sorted(self.held.items()):
            if client != client_id or marketplace not in (None, mp):
                continue
            known = counters.get((mp, term))
            counters[(mp, term)] = UnmappedTerm(
                marketplace=mp,
                term=term,
                orders_on_hold=(known.orders_on_hold if known else 0) + 1,
                last_seen_at=max(seen, known.last_seen_at) if known else seen,
            )
        return Page(items=[counters[k] for k in sorted(counters)], next_token=None)

    def record_unmapped(self, client_id: str, marketplace: str, term: str, order_id: str, seen_at: datetime) -> bool:
        known = self.held.get((client_id, order_id))
        self.held[(client_id, order_id)] = (marketplace, term, max(seen_at, known[2]) if known else seen_at)
        return known is None or known[:2] != (marketplace, term)

    def clear_unmapped(self, client_id: str, order_id: str) -> bool:
        return self.held.pop((client_id, order_id), None) is not None


@dataclass
class RecordingReevaluation:
    """Remembers every `MappingAdded` it was told about, in order."""

    added: list[MappingAdded] = field(default_factory=list)

    def mapping_added(self, added: MappingAdded) -> None:
        self.added.append(added)


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


@dataclass
class FakeWriteBuckets:
    """Each client's bucket by the rule alone (domain.write_limits.admit), recording every charge taken."""

    tats: dict[str, int] = field(default_factory=dict)
    taken: list[tuple[str, Charge]] = field(default_factory=list)

    def take(self, client_id: str, charge: Charge) -> int | None:
        admitted, tat = admit(self.tats.get(client_id), charge)
        if not admitted:
            assert tat is not None
            return tat
        assert tat is not None
        self.tats[client_id] = tat
        self.taken.append((client_id, charge))
        return None
