"""The stock sync's store (`StockSyncStore`)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from datetime import datetime

from oms_amazon.domain.accounts import Account
from oms_amazon.domain.errors import Conflict
from oms_amazon.domain.stock_sync import ListingSnapshot, ListingsRefresh, ManualRun, StockRun, SyncState
from oms_amazon.ports import Page


@dataclass
class FakeStockStore:
    """Runs, snapshots and what was last sent; no account is ever due (runs are handed to the worker)."""

    runs_by_id: dict[tuple[str, str, str], StockRun] = field(default_factory=dict)
    snapshots: dict[tuple[str, str, str], ListingSnapshot] = field(default_factory=dict)
    states: dict[tuple[str, str, str], SyncState] = field(default_factory=dict)
    reconcile_after: datetime | None = None  # when the tick would enqueue a reconcile job (the last state saved)

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
            raise Conflict("The stock state changed meanwhile.", code="version_conflict")
        saved = replace(state, revision=state.revision + 1)
        self.states[key] = saved
        self.reconcile_after = reconcile_after if state.pending_feeds else None
        return saved
