"""Ports: what the services need from the outside world, in the domain's words."""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from oms_amazon.domain.accounts import Account, SellerToken
from oms_amazon.domain.courier_mappings import CourierServiceMapping, MappingAdded, UnmappedTerm
from oms_amazon.domain.orders import OrderPii
from oms_amazon.domain.products import CatalogueProduct, ProductChange, StagedProduct
from oms_amazon.domain.stock_sync import (
    FeedOutcome,
    ListingSnapshot,
    ListingsRefresh,
    ManualRun,
    ReportOutcome,
    SkuError,
    StockRun,
    SyncState,
)
from oms_amazon.domain.write_limits import Charge

Clock = Callable[[], datetime]
IdFactory = Callable[[], str]


@dataclass(frozen=True, slots=True)
class AccountFilter:
    marketplace: str | None = None
    merchant_id: str | None = None
    active: bool | None = None


@dataclass(frozen=True, slots=True)
class Page[T]:
    items: Sequence[T]
    next_token: str | None


class AccountRepository(Protocol):
    def get(self, client_id: str, account_id: str) -> Account | None: ...

    def find(self, client_id: str, merchant_id: str, marketplace: str) -> Account | None: ...

    def page(self, client_id: str, where: AccountFilter, *, limit: int, next_token: str | None) -> Page[Account]: ...

    def of_seller(self, client_id: str, merchant_id: str) -> list[Account]: ...

    def create(self, account: Account, *, siblings: Sequence[Account] = ()) -> None:
        """Store a new account (409 `account_exists` on a duplicate) and, in the same transaction,
        the new versions of its seller's other accounts."""
        ...

    def update(self, account: Account, *, expected_revision: int, siblings: Sequence[Account] = ()) -> None:
        """Replace an account if its stored revision is still `expected_revision` (409 `version_conflict`)."""
        ...

    def delete(self, account: Account, now: datetime) -> None:
        """Take the account away at once, leaving a tombstone of it until its data is cleaned up."""
        ...

    def tombstone(self, client_id: str, account_id: str) -> Account | None:
        """A deleted account whose clean-up has not been confirmed yet."""
        ...

    def tombstones(self, deleted_before: datetime) -> Iterator[tuple[Account, bool]]:
        """Tombstones older than `deleted_before`, across clients (the tick's sweep), each with whether the
        DELETE finished its clean-up."""
        ...

    def mark_cleaned(self, account: Account) -> None:
        """The DELETE finished the account's clean-up, its secret included."""
        ...

    def forget(self, account: Account) -> None:
        """Remove the tombstone once the account's data is gone."""
        ...


class SellerSecrets(Protocol):
    """One secret per client and seller, shared by that seller's marketplace accounts. Each token
    stored is a new, unchanging version of it; an account reads the version it records."""

    def get(self, client_id: str, merchant_id: str, version: str | None = None) -> SellerToken | None:
        """The token of `version`, or the current one when no version is named."""
        ...

    def put(self, client_id: str, merchant_id: str, token: SellerToken) -> str:
        """Store `token` as the new current version; its version id."""
        ...

    def current_version(self, client_id: str, merchant_id: str) -> str | None: ...

    def withdraw(self, client_id: str, merchant_id: str, version: str, back_to: str) -> bool:
        """Make `back_to` current again if `version` still is (False when another writer came since)."""
        ...

    def delete(self, client_id: str, merchant_id: str) -> None: ...


class MappingChanges(Protocol):
    """When a client's courier mappings or SKU aliases, what can lift a hold (§6.4, §6.5), last changed."""

    def revision(self, client_id: str) -> int:
        """A number that moves on every change (0 before any)."""
        ...

    def changed(self, client_id: str, at: datetime, *, sweep_until: datetime) -> None: ...

    def changed_recently(self, now: datetime) -> list[str]:
        """The clients whose held orders are still to be judged again after a change (the sweep's window)."""
        ...


@dataclass(frozen=True, slots=True)
class MappingFilter:
    account_id: str | None = None  # only the mappings scoped to this account
    marketplace: str | None = None  # only the mappings whose term names this marketplace code


class CourierMappingRepository(Protocol):
    def get(self, client_id: str, mapping_id: str) -> CourierServiceMapping | None: ...

    def page(
        self, client_id: str, where: MappingFilter, *, limit: int, next_token: str | None
    ) -> Page[CourierServiceMapping]: ...

    def all_of_client(self, client_id: str) -> list[CourierServiceMapping]:
        """Every mapping of the client, client-wide and account-scoped: what resolution reads."""
        ...

    def create(self, mapping: CourierServiceMapping) -> None:
        """Store a new mapping; 409 `mapping_exists` when its scope already maps the term, 404
        `account_not_found` when its account is gone."""
        ...

    def replace(self, mapping: CourierServiceMapping, *, previous: CourierServiceMapping) -> None:
        """Replace `previous` (409 `version_conflict` if it changed meanwhile), moving the term's
        uniqueness to the new term/scope in the same write (409 `mapping_exists`)."""
        ...

    def delete(self, mapping: CourierServiceMapping) -> None: ...


class UnmappedTermRepository(Protocol):
    """Terms of held orders that no mapping covers, one counter per (client, marketplace, term).

    The order importer keeps it: `record_unmapped` when it holds an order for
    `unmapped_shipping_term`, `clear_unmapped` when the order is released, cancelled or its term
    changes. Both are idempotent per order.
    """

    def page(
        self, client_id: str, *, marketplace: str | None, limit: int, next_token: str | None
    ) -> Page[UnmappedTerm]: ...

    def record_unmapped(self, client_id: str, marketplace: str, term: str, order_id: str, seen_at: datetime) -> bool:
        """Count `order_id` as held for `term`; False when it already was (only `last_seen_at` moves)."""
        ...

    def clear_unmapped(self, client_id: str, order_id: str) -> bool:
        """Stop counting `order_id`; False when it was not counted."""
        ...


class HeldOrderReevaluation(Protocol):
    """Told when a mapping starts covering a term, so orders held for it are resolved again (§6.4)."""

    def mapping_added(self, added: MappingAdded) -> None: ...


class CatalogueReader(Protocol):
    """What a stock-sync run reads of a client's products (SPEC §5.4): the products changed since its last
    read, those it names, and at most daily the whole catalogue."""

    def get_many(self, client_id: str, skus: Collection[str]) -> dict[str, CatalogueProduct]:
        """The products among `skus` that exist, by SKU (strongly consistent)."""
        ...

    def iter_catalogue(self, client_id: str, *, index_missing: bool = False) -> Iterator[CatalogueProduct]:
        """Every product of the client, in SKU order, without a table scan (a full pass reads 100k).
        `index_missing`: also index the products stored before the lookups' indexes existed."""
        ...

    def changed_since(self, client_id: str, since: datetime) -> Sequence[CatalogueProduct]:
        """The products whose content changed at or after `since` (their `updated_at`). The reads behind
        it may trail the writes by a second or so: a caller asks from its previous read less a margin."""
        ...


class ProductRepository(CatalogueReader, Protocol):
    """A client's OMS products. Every method is scoped to one client's catalogue."""

    def get(self, client_id: str, sku: str) -> CatalogueProduct | None: ...

    def page(self, client_id: str, *, limit: int, next_token: str | None) -> Page[CatalogueProduct]: ...

    def skus_matching(self, client_id: str, skus: Collection[str]) -> set[str]:
        """The client's SKUs equal to one of `skus`, or equal to one when letter case is ignored: enough to
        check those SKUs (§6.5) as against the whole catalogue, without reading it."""
        ...

    def apply(self, changes: Sequence[ProductChange]) -> None:
        """Write the changes in order, each atomically with its `used_in_bundles` bookkeeping and only if
        what it was planned against still holds; raise `CatalogueChanged` (saying how many changes were
        committed before it) when something changed meanwhile."""
        ...

    def apply_batch(self, client_id: str, staged: Sequence[StagedProduct], *, now: datetime) -> None:
        """Write every product's new state so that all of them become visible to every reader at once,
        or none does: `CatalogueChanged` when one of them is no longer what it was planned against (or
        another batch holds it), any other failure as it is — in both cases with nothing visible."""
        ...

    def settle(self, client_id: str, skus: Collection[str], *, now: datetime) -> None:
        """Let go of the products among `skus` that finished or abandoned batches still hold, so that a
        write planned again can proceed."""
        ...

    def delete(self, product: CatalogueProduct) -> None:
        """Remove a product still at `product.version` and used by no bundle (else `CatalogueChanged`),
        and drop a bundle from its components' `used_in_bundles` in the same transaction."""
        ...


class StockSyncStore(Protocol):
    """Runs, listing snapshots and what was last sent (SPEC §5)."""

    def due_accounts(self, now: datetime) -> Iterator[Account]: ...

    def feeds_to_reconcile(self, now: datetime) -> Iterator[dict[str, str]]: ...

    def claim(self, account: Account, run: StockRun, *, seen_due_key: str | None) -> bool: ...

    def claim_manual(self, account: Account, run: StockRun, *, join_since: datetime) -> ManualRun | None: ...

    def claim_listings_refresh(
        self, client_id: str, merchant_id: str, marketplace: str, *, at: datetime, unless_since: datetime
    ) -> ListingsRefresh: ...

    def withdraw_listings_refresh(
        self, client_id: str, merchant_id: str, marketplace: str, requested_at: datetime
    ) -> None: ...

    def record_summary(self, account: Account, run: StockRun) -> None: ...

    def save_run(self, run: StockRun) -> None:
        """Store the run record, unless its account was deleted meanwhile (`AccountDeleted`)."""
        ...

    def get_run(self, client_id: str, account_id: str, run_id: str) -> StockRun | None: ...

    def runs(self, client_id: str, account_id: str, *, limit: int, next_token: str | None) -> Page[StockRun]: ...

    def snapshot(self, client_id: str, merchant_id: str, marketplace: str) -> ListingSnapshot | None: ...

    def save_snapshot(self, client_id: str, snapshot: ListingSnapshot) -> None: ...

    def state(self, client_id: str, merchant_id: str, region: str) -> SyncState: ...

    def save_state(self, state: SyncState, *, reconcile_after: datetime | None) -> SyncState: ...


class PiiVault(Protocol):
    """Seals the buyer's data of one order so that only this connector, for this client and order,
    can open it again (§6.8)."""

    def seal(self, client_id: str, order_id: str, pii: OrderPii) -> list[bytes]: ...

    def open(self, client_id: str, order_id: str, sealed: Sequence[bytes]) -> OrderPii: ...


class JobQueue(Protocol):
    def send(self, body: dict[str, Any], *, group: str, dedup_id: str) -> None: ...


class AmazonSeller(Protocol):
    """What the workers ask of Amazon for one seller and region (`adapters.amazon.SellerAmazon`)."""

    def request_listings_report(self, marketplace_id: str) -> str: ...

    def listings_report(self, report_id: str) -> ReportOutcome: ...

    def upload_feed(self, content: bytes) -> tuple[str, str]: ...

    def create_feed(self, feed_document_id: str, marketplace_ids: list[str]) -> str: ...

    def find_feed(self, created_since: datetime, marketplace_ids: list[str], known: set[str]) -> str | None: ...

    def feed_outcome(self, feed_id: str) -> FeedOutcome: ...

    def patch_quantity(self, sku: str, marketplace_id: str, product_type: str, quantity: int) -> list[SkuError]: ...


class AuthorisationRejections(Protocol):
    def reject(self, client_id: str, merchant_id: str) -> list[Account]:
        """Mark every account of the client's seller `rejected` and pause their jobs."""
        ...


class AccountData(Protocol):
    def remove(self, account: Account, remaining: Sequence[Account]) -> int:
        """Delete what a removed account leaves behind (runs, snapshot, scoped mappings, sent state)."""
        ...


class WriteBuckets(Protocol):
    """Each client's token bucket for the API's writes (domain.write_limits), kept where every container sees it."""

    def take(self, client_id: str, charge: Charge) -> int | None:
        """Take `charge` from the client's bucket if it holds it: None when taken, else the bucket's `tat`
        that refused it (and nothing was changed)."""
        ...


class DeadLetterQueue(Protocol):
    def put(self, body: str, *, message_id: str, group: str | None) -> str:
        """Sends `body` as it came (in `group` on a FIFO queue); returns the dead-letter message's id."""
        ...
