"""The feeds a stock sync left pending, read back (SPEC §5.4): each feed's processing report settles what was
sent (accepted, rejected, or resent next run), and a run whose feeds are all read is recorded done with
Amazon's per-SKU errors."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import datetime, timedelta

from oms_amazon.domain.errors import AccountDeleted
from oms_amazon.domain.stock_sync import FeedOutcome, PendingFeed, SkuError, SyncState
from oms_amazon.listings_feed import report_errors, report_failed_as_a_whole
from oms_amazon.observability import count
from oms_amazon.ports import AccountRepository, AmazonSeller, Clock, StockSyncStore

RECONCILE_AFTER = timedelta(minutes=2)
# A feed found on Amazon belongs to a pending one only if it was created after that was recorded.
# Amazon's createdTime is in whole seconds, hence one second of slack; a feed of an earlier run is at
# least the run's report poll (2 s) older, so it is never taken for this one.
FEED_CLOCK_SLACK = timedelta(seconds=1)


def find_created_feed(amazon: AmazonSeller, pending: PendingFeed, known: set[str]) -> str | None:
    """The feed Amazon created for `pending`, if any: one created since it was recorded, not one of `known`."""
    return amazon.find_feed(pending.submitted_at - FEED_CLOCK_SLACK, list(pending.marketplace_ids), known)


class FeedReconciler:
    """Reads the processing reports of a seller and region's pending feeds and records what they say."""

    def __init__(
        self,
        accounts: AccountRepository,
        store: StockSyncStore,
        clock: Clock,
        sleep: Callable[[float], None],
        poll_seconds: float,
    ) -> None:
        self._accounts = accounts
        self._store = store
        self._clock = clock
        self._sleep = sleep
        self._poll_seconds = poll_seconds

    def wait_for_reports(self, state: SyncState, amazon: AmazonSeller) -> None:
        """A short wait for the processing report in the same invocation, when Amazon is quick."""
        waited, delay = 0.0, 2.0
        while state.pending_feeds and waited < self._poll_seconds:
            self._sleep(delay)
            waited += delay
            delay = min(delay * 2, 15.0)
            state = self.reconcile(state, amazon)

    def reconcile(self, state: SyncState, amazon: AmazonSeller) -> SyncState:
        if not state.pending_feeds:
            return state
        now = self._clock()
        last_sent = dict(state.last_sent)
        still_pending: list[PendingFeed] = []
        finished: dict[tuple[str, str], list[SkuError]] = {}
        known = {p.feed_id for p in state.pending_feeds if p.feed_id}
        rejected_anywhere: set[str] = set()
        unread = list(state.pending_feeds)

        def still_waiting(current: PendingFeed) -> list[PendingFeed]:
            """Feeds other than `current` whose report is not read yet (this round's or still pending)."""
            return [p for p in [*still_pending, *unread] if p is not current]

        for pending in state.pending_feeds:
            unread.remove(pending)
            feed_id = pending.feed_id or find_created_feed(amazon, pending, known)
            if feed_id is None:  # Amazon never received it: resend next run
                errors = [
                    SkuError(sku, "feed_not_created", "The feed was not created; resent next run.")
                    for sku in pending.quantities
                ]
            else:
                known.add(feed_id)
                outcome = amazon.feed_outcome(feed_id)
                if outcome.status == "pending":
                    still_pending.append(replace(pending, feed_id=feed_id))
                    continue
                errors = _report_errors(pending, outcome)
            rejected = {e.sku for e in errors}
            rejected_anywhere.update(rejected)
            for sku, quantity in pending.quantities.items():
                current = last_sent.get(sku)
                if current is None or current.quantity != quantity or current.status != "in_flight":
                    continue
                if sku in rejected:
                    last_sent[sku] = replace(current, status="rejected")
                elif sku not in rejected_anywhere and not any(sku in p.quantities for p in still_waiting(pending)):
                    # Accepted once every marketplace's feed that carried it has been read.
                    last_sent[sku] = replace(current, status="accepted")
            finished.setdefault((pending.account_id, pending.run_id), []).extend(errors)
        state = self._store.save_state(
            replace(state, last_sent=last_sent, pending_feeds=tuple(still_pending)),
            reconcile_after=now + RECONCILE_AFTER if still_pending else None,
        )
        self._record_runs(state.client_id, finished, still_pending, now)
        return state

    def _record_runs(
        self,
        client_id: str,
        finished: dict[tuple[str, str], list[SkuError]],
        still_pending: list[PendingFeed],
        now: datetime,
    ) -> None:
        """Each run with a feed read this round: its errors added, and done once none of its feeds is pending."""
        for (account_id, run_id), errors in finished.items():
            run = self._store.get_run(client_id, account_id, run_id)
            if run is None:
                continue
            open_feeds = any(p.run_id == run_id for p in still_pending)
            updated = run.adding_errors(errors).with_changes(
                status="submitted" if open_feeds else "done",
                finished_at=None if open_feeds else now,
            )
            try:
                self._store.save_run(updated)
            except AccountDeleted:
                continue  # a run whose account was deleted since: its record went with it
            if not open_feeds:
                owner = self._accounts.get(client_id, account_id)
                if owner is not None:
                    self._store.record_summary(owner, updated)
            if errors:
                count("SkusRejectedByAmazon", len(errors))


def _report_errors(pending: PendingFeed, outcome: FeedOutcome) -> list[SkuError]:
    """What a processed feed's report says went wrong, per SKU: every SKU when the feed failed as a whole."""
    report = outcome.report or {}
    skus = pending.message_skus
    if outcome.status == "failed" or report_failed_as_a_whole(report, skus):
        return [
            SkuError(sku, "feed_failed", "Amazon did not process the feed; resent next run.")
            for sku in pending.quantities
        ]
    return [error for found in report_errors(report, skus).values() for error in found]
