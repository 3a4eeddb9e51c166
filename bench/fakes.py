"""In-memory stand-ins for the DynamoDB/Secrets Manager side of the workers (no moto: the benchmark
measures Amazon, not the table). They keep the semantics the workers rely on (state revisions,
store-once orders) and nothing more."""

from __future__ import annotations

from collections.abc import Collection, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from oms_amazon.domain.accounts import Account, Authorisation, SellerToken
from oms_amazon.domain.orders import ImportCheckpoint, Order, OrderPii
from oms_amazon.domain.products import CatalogueProduct
from oms_amazon.domain.stock_sync import ListingSnapshot, ListingsRefresh, ManualRun, StockRun, SyncState
from oms_amazon.ports import AccountFilter, Page

from bench.harness import VirtualClock

CLIENT = "bench-client"


def account(account_id: str, merchant_id: str, marketplace: str, now: datetime, **changes: Any) -> Account:
    return Account(
        id=account_id,
        client_id=CLIENT,
        merchant_id=merchant_id,
        marketplace=marketplace,
        name=f"{merchant_id} {marketplace}",
        active=True,
        sync_stock=True,
        stock_sync_delay_minutes=15,
        include_bundles_in_stock_sync=False,
        import_orders=True,
        default_courier_service="Royal Mail 48",
        stock_rules=None,
        authorisation=Authorisation("sp_api_refresh_token", "ok", "…0001"),
        created_at=now,
        updated_at=now,
    ).with_changes(**changes)


@dataclass
class MemoryCatalogue:
    """A client's products, each stamped with when it last changed: what the stock sync reads of the
    product repository (`CatalogueReader`). `read` counts the products handed out, as the repository's
    reads would."""

    products: dict[str, CatalogueProduct] = field(default_factory=dict)
    read: int = 0

    def load(self, quantities: Mapping[str, int], now: datetime) -> None:
        """The catalogue becomes `quantities`; a product whose quantity moved is stamped `now`."""
        for sku, quantity in quantities.items():
            known = self.products.get(sku)
            if known is None or known.quantity_available != quantity:
                self.products[sku] = CatalogueProduct(
                    CLIENT, sku, None, quantity, (), frozenset(), known.created_at if known else now, now
                )
        for sku in self.products.keys() - quantities.keys():
            del self.products[sku]

    def get_many(self, client_id: str, skus: Collection[str]) -> dict[str, CatalogueProduct]:
        found = {sku: p for sku in skus if (p := self.products.get(sku)) is not None}
        self.read += len(found)
        return found

    def iter_catalogue(self, client_id: str, *, index_missing: bool = False) -> Iterator[CatalogueProduct]:
        self.read += len(self.products)
        return iter(sorted(self.products.values(), key=lambda p: p.sku))

    def changed_since(self, client_id: str, since: datetime) -> list[CatalogueProduct]:
        changed = [p for p in self.products.values() if p.updated_at >= since]
        self.read += len(changed)
        return changed


@dataclass
class MemoryAccounts:
    accounts: dict[tuple[str, str], Account] = field(default_factory=dict)
    deleted: dict[tuple[str, str], tuple[Account, datetime]] = field(default_factory=dict)
    cleaned: set[tuple[str, str]] = field(default_factory=set)

    def add(self, account: Account) -> Account:
        self.accounts[(account.client_id, account.id)] = account
        return account

    def get(self, client_id: str, account_id: str) -> Account | None:
        return self.accounts.get((client_id, account_id))

    def find(self, client_id: str, merchant_id: str, marketplace: str) -> Account | None:
        return next(
            (
                a
                for a in self.accounts.values()
                if (a.client_id, a.merchant_id, a.marketplace) == (client_id, merchant_id, marketplace)
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
        for item in (account, *siblings):
            self.add(item)

    def update(self, account: Account, *, expected_revision: int, siblings: Sequence[Account] = ()) -> None:
        for item in (account, *siblings):
            self.add(item)

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
class MemorySecrets:
    token: str

    def get(self, client_id: str, merchant_id: str, version: str | None = None) -> SellerToken | None:
        return SellerToken(self.token, "sp_api_refresh_token")

    def put(self, client_id: str, merchant_id: str, token: SellerToken) -> str:
        self.token = token.value
        return "bench"

    def current_version(self, client_id: str, merchant_id: str) -> str | None:
        return "bench"

    def withdraw(self, client_id: str, merchant_id: str, version: str, back_to: str) -> bool:
        return False

    def delete(self, client_id: str, merchant_id: str) -> None:
        self.token = ""


class NoRejections:
    def reject(self, client_id: str, merchant_id: str) -> list[Account]:
        raise AssertionError("the benchmark seller's authorisation was rejected")


@dataclass
class MemoryStockStore:
    runs_by_id: dict[tuple[str, str, str], StockRun] = field(default_factory=dict)
    snapshots: dict[tuple[str, str, str], ListingSnapshot] = field(default_factory=dict)
    states: dict[tuple[str, str, str], SyncState] = field(default_factory=dict)
    reconcile_after: datetime | None = None  # when the tick would enqueue a reconcile job (one seller here)

    def due_accounts(self, now: datetime) -> Iterator[Account]:
        return iter(())

    def feeds_to_reconcile(self, now: datetime) -> Iterator[dict[str, str]]:
        return iter(())

    def claim(self, account: Account, run: StockRun, *, seen_due_key: str | None) -> bool:
        self.save_run(run)
        return True

    def claim_manual(self, account: Account, run: StockRun, *, join_since: datetime) -> ManualRun | None:
        self.save_run(run)
        return ManualRun(run)

    def claim_listings_refresh(
        self, client_id: str, merchant_id: str, marketplace: str, *, at: datetime, unless_since: datetime
    ) -> ListingsRefresh:
        return ListingsRefresh(at)

    def withdraw_listings_refresh(
        self, client_id: str, merchant_id: str, marketplace: str, requested_at: datetime
    ) -> None:
        pass

    def record_summary(self, account: Account, run: StockRun) -> None:
        pass

    def save_run(self, run: StockRun) -> None:
        self.runs_by_id[(run.client_id, run.account_id, run.run_id)] = run

    def get_run(self, client_id: str, account_id: str, run_id: str) -> StockRun | None:
        return self.runs_by_id.get((client_id, account_id, run_id))

    def runs(self, client_id: str, account_id: str, *, limit: int, next_token: str | None) -> Page[StockRun]:
        items = [
            r for (c, a, _), r in sorted(self.runs_by_id.items(), reverse=True) if (c, a) == (client_id, account_id)
        ]
        return Page(items=items[:limit], next_token=None)

    def snapshot(self, client_id: str, merchant_id: str, marketplace: str) -> ListingSnapshot | None:
        return self.snapshots.get((client_id, merchant_id, marketplace))

    def save_snapshot(self, client_id: str, snapshot: ListingSnapshot) -> None:
        self.snapshots[(client_id, snapshot.merchant_id, snapshot.marketplace)] = snapshot

    def state(self, client_id: str, merchant_id: str, region: str) -> SyncState:
        return self.states.get((client_id, merchant_id, region)) or SyncState(client_id, merchant_id, region)

    def save_state(self, state: SyncState, *, reconcile_after: datetime | None) -> SyncState:
        key = (state.client_id, state.merchant_id, state.region)
        stored = self.states.get(key)
        if (stored.revision if stored else 0) != state.revision:
            raise AssertionError("concurrent stock state update in a single-worker benchmark")
        saved = replace(state, revision=state.revision + 1)
        self.states[key] = saved
        self.reconcile_after = reconcile_after if state.pending_feeds else None
        return saved

    def reconcile_after_seconds(self, clock: VirtualClock) -> float:
        """`reconcile_after` on the benchmark's clock (seconds since its start); now when unset."""
        if self.reconcile_after is None:
            return clock.now
        return clock.now + (self.reconcile_after - clock.wall()).total_seconds()


@dataclass(frozen=True, slots=True)
class Saved:
    saved: bool
    event: dict[str, Any] | None


@dataclass
class MemoryOrders:
    orders: dict[tuple[str, str], Order] = field(default_factory=dict)
    outbox: list[dict[str, Any]] = field(default_factory=list)

    def get(self, client_id: str, order_id: str) -> Order | None:
        return self.orders.get((client_id, order_id))

    def get_many(self, client_id: str, order_ids: list[str]) -> dict[str, Order]:
        return {i: o for i in order_ids if (o := self.orders.get((client_id, i))) is not None}

    def save(self, order: Order, *, previous: Order | None, event: Any) -> Saved:
        if self.orders.get((order.client_id, order.amazon_order_id)) != previous:
            return Saved(False, None)
        self.orders[(order.client_id, order.amazon_order_id)] = order
        item = {"type": event, "order_id": order.amazon_order_id, "client_id": order.client_id} if event else None
        if item is not None:
            self.outbox.append(item)
        return Saved(True, item)

    def held_for_term(self, client_id: str, term: str) -> list[Order]:
        return [o for (c, _), o in self.orders.items() if c == client_id and o.unmapped_term == term]

    def held(self, client_id: str) -> list[Order]:
        return [o for (c, _), o in self.orders.items() if c == client_id and o.status == "on_hold"]

    def open_pii(self, order: Order) -> OrderPii | None:
        return order.pii

    def expiring_pii(self, now: datetime, limit: int = 100) -> list[tuple[str, str]]:
        return []

    def purge_pii(self, client_id: str, order_id: str, now: datetime) -> bool:
        return False

    def pending_events(self, limit: int = 100, *, written_before: datetime | None = None) -> list[dict[str, Any]]:
        return self.outbox[:limit]

    def delete_events(self, events: list[dict[str, Any]]) -> None:
        sent = {id(e) for e in events}
        self.outbox = [e for e in self.outbox if id(e) not in sent]


@dataclass
class MemoryImportState:
    accounts: MemoryAccounts
    checkpoints: dict[tuple[str, str, str], ImportCheckpoint] = field(default_factory=dict)

    def import_accounts(self) -> Iterator[Account]:
        return iter(list(self.accounts.accounts.values()))

    def claim(self, account: Account, now: datetime, *, cutoff: datetime | None) -> bool:
        return True

    def advance_watermark(self, account: Account, new: datetime) -> bool:
        current = self.accounts.get(account.client_id, account.id)
        if current is None:
            return False
        self.accounts.add(current.with_changes(last_order_import_at=new))
        return True

    def checkpoint(self, client_id: str, merchant_id: str, region: str) -> ImportCheckpoint | None:
        return self.checkpoints.get((client_id, merchant_id, region))

    def save_checkpoint(self, client_id: str, merchant_id: str, region: str, checkpoint: ImportCheckpoint) -> None:
        self.checkpoints[(client_id, merchant_id, region)] = checkpoint

    def clear_checkpoint(self, client_id: str, merchant_id: str, region: str) -> None:
        self.checkpoints.pop((client_id, merchant_id, region), None)


@dataclass
class MemoryUnmapped:
    held: dict[tuple[str, str], str] = field(default_factory=dict)

    def record_unmapped(self, client_id: str, marketplace: str, term: str, order_id: str, seen_at: datetime) -> bool:
        known = self.held.get((client_id, order_id))
        self.held[(client_id, order_id)] = term
        return known != term

    def clear_unmapped(self, client_id: str, order_id: str) -> bool:
        return self.held.pop((client_id, order_id), None) is not None


@dataclass
class CountingPublisher:
    published: int = 0

    def publish(self, events: list[dict[str, Any]]) -> None:
        self.published += len(events)
