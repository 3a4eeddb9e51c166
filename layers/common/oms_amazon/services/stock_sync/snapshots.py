"""The listing snapshot a stock sync run plans against (SPEC §5.4): what Amazon lists for a seller and
marketplace, taken from its listings report, read again when stale or when asked to."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import replace
from datetime import datetime, timedelta

from oms_amazon.domain.accounts import Account
from oms_amazon.domain.stock_sync import ListingSnapshot, ReportOutcome
from oms_amazon.observability import logger
from oms_amazon.ports import AmazonSeller, Clock, StockSyncStore

# A SKU missing from the listing snapshot asks Amazon for a new listings report at most this often.
REFRESH_FOR_MISSING_SKUS_AFTER = timedelta(hours=1)


class ListingsUnavailable(Exception):
    """No listing snapshot to sync against yet: Amazon is still preparing the first listings report
    (the next run polls the same report), or it ended the report FATAL (the next run asks again).
    The run fails with this reason; nothing is retried in a loop."""


def may_refresh_for_new_listings(snapshot: ListingSnapshot, now: datetime) -> bool:
    return (
        snapshot.pending_report_id is None
        and snapshot.taken_at is not None
        and now - snapshot.taken_at >= REFRESH_FOR_MISSING_SKUS_AFTER
    )


class ListingSnapshots:
    """Each account's listing snapshot, as stored, or read again from Amazon's listings report."""

    def __init__(
        self, store: StockSyncStore, clock: Clock, sleep: Callable[[float], None], poll_seconds: float
    ) -> None:
        self._store = store
        self._clock = clock
        self._sleep = sleep
        self._poll_seconds = poll_seconds

    def current(self, account: Account, amazon: AmazonSeller, *, force: bool) -> ListingSnapshot:
        return self.refreshed([account], amazon, force=force)[account.id][0]

    def refreshed(
        self, accounts: Sequence[Account], amazon: AmazonSeller, *, force: bool
    ) -> dict[str, tuple[ListingSnapshot, ListingSnapshot | None]]:
        """Each account's listing snapshot (by account id), read again from Amazon when stale (or
        `force`), and the one it replaced when it was (what a run compares it with to find the newly
        listed SKUs). The reports of every stale account are asked for first and then waited for
        together: a seller's marketplaces take one report's time, not one each."""
        now = self._clock()
        found: dict[str, tuple[ListingSnapshot, ListingSnapshot | None]] = {}
        waiting: list[tuple[Account, ListingSnapshot]] = []
        for account in accounts:
            snapshot = self._store.snapshot(account.client_id, account.merchant_id, account.marketplace)
            if snapshot is not None and snapshot.is_fresh(now) and not force and snapshot.pending_report_id is None:
                found[account.id] = (snapshot, None)
            else:
                waiting.append((account, self._requested(account, snapshot, amazon)))
        outcomes = self._reports(amazon, [snapshot.pending_report_id or "" for _, snapshot in waiting])
        for (account, snapshot), outcome in zip(waiting, outcomes, strict=True):
            found[account.id] = self._settled(account, snapshot, outcome, now)
        return found

    def _requested(self, account: Account, snapshot: ListingSnapshot | None, amazon: AmazonSeller) -> ListingSnapshot:
        """The snapshot with a listings report pending: the one asked for before, else a new one."""
        if snapshot is not None and snapshot.pending_report_id:
            return snapshot
        report_id = amazon.request_listings_report(account.marketplace_id)
        pending = ListingSnapshot(
            account.merchant_id,
            account.marketplace,
            snapshot.taken_at if snapshot else None,
            snapshot.product_types if snapshot else {},
            pending_report_id=report_id,
        )
        self._store.save_snapshot(account.client_id, pending)
        return pending

    def _settled(
        self, account: Account, snapshot: ListingSnapshot, outcome: ReportOutcome, now: datetime
    ) -> tuple[ListingSnapshot, ListingSnapshot | None]:
        if outcome.status == "done" and outcome.product_types is not None:
            fresh = ListingSnapshot(
                account.merchant_id,
                account.marketplace,
                now,
                outcome.product_types,
                fulfilled_by_amazon=outcome.fulfilled_by_amazon,
            )
            self._store.save_snapshot(account.client_id, fresh)
            return fresh, snapshot if snapshot.taken_at is not None else None
        if outcome.status == "failed":
            # FATAL: the previous snapshot stays; the next run asks for a new report.
            snapshot = replace(snapshot, pending_report_id=None)
            self._store.save_snapshot(account.client_id, snapshot)
            logger.warning("Amazon failed the listings report", extra={"reason": outcome.reason})
        if snapshot.taken_at is not None:  # a stale snapshot beats none while Amazon prepares the next
            return snapshot, None
        if outcome.status == "failed":
            raise ListingsUnavailable(f"listings_report_failed: {outcome.reason}")
        # Still in progress: the next run polls this same report rather than asking for another.
        raise ListingsUnavailable(
            "listings_report_pending: Amazon is still preparing the listings report; the next run continues."
        )

    def _reports(self, amazon: AmazonSeller, report_ids: list[str]) -> list[ReportOutcome]:
        """The listings reports' outcomes, waited for a while in the same invocation when Amazon is quick:
        each is asked again until it is finished or the wait is over."""
        outcomes: dict[int, ReportOutcome] = {}
        waited, delay = 0.0, 1.0
        while True:
            for index, report_id in enumerate(report_ids):
                if index not in outcomes or outcomes[index].status == "pending":
                    outcomes[index] = amazon.listings_report(report_id)
            if waited >= self._poll_seconds or all(o.status != "pending" for o in outcomes.values()):
                return [outcomes[index] for index in range(len(report_ids))]
            self._sleep(delay)
            waited += delay
            delay = min(delay * 2, 10.0)
