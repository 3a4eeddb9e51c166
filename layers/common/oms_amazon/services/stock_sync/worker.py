"""The stock sync worker (SPEC §5): one job of a seller and region's queue, a run of an account, a listings
refresh, or a reconcile of the feeds left pending. A run reads the listing snapshots (`snapshots`), plans
what to send (`planner`), sends it (`sender`) and reads the feeds' reports back (`reconciler`)."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import replace

from oms_amazon.domain.accounts import Account
from oms_amazon.domain.amazon_errors import AuthorisationRejected
from oms_amazon.domain.errors import AccountDeleted
from oms_amazon.domain.jobs import Job
from oms_amazon.domain.sku_aliases import AliasSource, no_aliases
from oms_amazon.domain.stock_sync import StockRun, SyncState
from oms_amazon.observability import count, logger
from oms_amazon.ports import AccountRepository, AmazonSeller, CatalogueReader, Clock, StockSyncStore
from oms_amazon.services.seller_access import SellerAccess
from oms_amazon.services.stock_sync.planner import PlannedRun, StockPlanner
from oms_amazon.services.stock_sync.reconciler import RECONCILE_AFTER, FeedReconciler
from oms_amazon.services.stock_sync.sender import QuantitySender, by_transport
from oms_amazon.services.stock_sync.snapshots import ListingSnapshots, ListingsUnavailable


class StockSyncWorker:
    """One job of the stock sync queue: a run of an account, a listings refresh, or a reconcile of pending feeds."""

    def __init__(
        self,
        *,
        accounts: AccountRepository,
        store: StockSyncStore,
        access: SellerAccess[AmazonSeller],
        products: CatalogueReader,
        clock: Clock,
        sleep: Callable[[float], None] = time.sleep,
        # Amazon usually processes a quantity feed, or prepares the listings report, within a minute or
        # two; waiting that long in the worker (getFeed/getReport refill at 2/s) beats leaving it to
        # the next tick, 15 minutes later.
        poll_seconds: float = 120.0,
        aliases: AliasSource = no_aliases,
    ) -> None:
        self._accounts = accounts
        self._store = store
        self._access = access
        self._clock = clock
        self._snapshots = ListingSnapshots(store, clock, sleep, poll_seconds)
        self._planner = StockPlanner(products, aliases, self._snapshots, clock)
        self._sender = QuantitySender(store, clock)
        self._feeds = FeedReconciler(accounts, store, clock, sleep, poll_seconds)

    def handle(self, job: Job) -> None:
        account = self._accounts.get(job.client_id, job.account_id)
        run = self._store.get_run(job.client_id, job.account_id, job.run_id) if job.run_id else None
        if run is not None and run.status != "queued":
            logger.info("run already handled", extra={"run_id": run.run_id, "status": run.status})
            return
        if account is None:
            # Deleted: its runs went with it, and nothing is written for it any more.
            logger.info("stock sync job of a deleted account dropped", extra={"account_id": job.account_id})
            return
        keys = {
            "client_id": account.client_id,
            "account_id": account.id,
            "merchant_id": account.merchant_id,
            "marketplace": account.marketplace,
        }
        logger.append_keys(**keys)
        try:
            amazon = self._access.open(account, authorised=account.authorisation.status == "ok")
            if amazon is None:
                if run is not None:
                    self._finish(account, run.with_changes(status="failed", reason="authorisation_required"))
                return
            if job.kind == "refresh_listings":
                try:
                    self._snapshots.current(account, amazon, force=True)
                except ListingsUnavailable as unavailable:
                    logger.info("listings refresh not finished", extra={"reason": str(unavailable)})
            elif job.kind == "reconcile":
                self._feeds.reconcile(self._store.state(account.client_id, account.merchant_id, account.region), amazon)
            elif run is not None:
                self._sync(account, run, amazon)
        except AuthorisationRejected:
            rejected = self._access.reject(account)
            logger.warning(
                "Amazon rejected the seller's authorisation; its jobs are paused", extra={"accounts": len(rejected)}
            )
            if run is not None:
                self._finish(account, run.with_changes(status="failed", reason="authorisation_rejected"))
        except AccountDeleted:
            # Deleted while this job ran: the store refused its run record, and the job stops there.
            count("JobsStoppedForDeletedAccounts")
            logger.info("account deleted while its stock sync ran; nothing more is written for it")
        finally:
            logger.remove_keys(list(keys))

    # ---- one run
    def _sync(self, account: Account, run: StockRun, amazon: AmazonSeller) -> None:
        if not (account.active and account.sync_stock):
            self._finish(account, run.with_changes(status="failed", reason="stock_sync_disabled"))
            return
        now = self._clock()
        # Recorded before anything is read: from now on a run-now queues a run of its own (this one may
        # have read the stock already) instead of joining this one.
        run = run.with_changes(started_at=now)
        self._store.save_run(run)
        group = self._group(account)
        state = self._feeds.reconcile(self._store.state(account.client_id, account.merchant_id, account.region), amazon)
        try:
            refreshed = self._snapshots.refreshed(group, amazon, force=False)
        except ListingsUnavailable as unavailable:
            self._finish(account, run.with_changes(status="failed", reason=str(unavailable)))
            return
        planned = self._planner.plan(account, group, state, refreshed, amazon, now)
        plan = planned.plan
        run = run.with_changes(
            skus_considered=plan.considered,
            skus_unchanged=plan.unchanged,
            skipped=plan.skipped,
            skipped_skus=plan.skipped_skus,
            conflicts=plan.conflicts,
            catalogue_read=planned.catalogue_read,
        )
        for reason, n in plan.skipped.items():
            count("SkusSkipped", n, reason=reason)
        self._send(account, run, state, planned, amazon)

    def _group(self, account: Account) -> list[Account]:
        """The accounts of the seller and region whose stock syncs, the run's own among them (§5.5)."""
        group = [
            a
            for a in self._accounts.of_seller(account.client_id, account.merchant_id)
            if a.region == account.region and a.stock_sync_enabled
        ]
        return group if any(a.id == account.id for a in group) else [account, *group]

    def _send(
        self, account: Account, run: StockRun, state: SyncState, planned: PlannedRun, amazon: AmazonSeller
    ) -> None:
        """The plan's pushes sent, and the catalogue mark saved with them, never before: a run that dies
        reads the same changes again."""
        plan, mark = planned.plan, planned.mark
        if not plan.pushes:
            self._store.save_state(
                replace(state, catalogue=mark),
                reconcile_after=self._clock() + RECONCILE_AFTER if state.pending_feeds else None,
            )
            self._finish(account, run.with_changes(status="done", skus_sent=0, transport="none"))
            return
        # Recorded before Amazon is sent anything: the store refuses it once the account is deleted, so a run
        # whose account was deleted meanwhile pushes nothing.
        self._store.save_run(run)
        patched, fed = by_transport(plan.by_marketplace())
        state, errors = self._sender.patch(state, patched, amazon)
        if not fed:
            self._store.save_state(
                replace(state, catalogue=mark),
                reconcile_after=self._clock() + RECONCILE_AFTER if state.pending_feeds else None,
            )
            self._finish(
                account,
                run.adding_errors(errors).with_changes(status="done", skus_sent=len(plan.pushes), transport="patch"),
            )
        else:
            state, feed_ids = self._sender.submit_feeds(state, fed, amazon, run, account)
            state = self._store.save_state(
                replace(state, catalogue=mark), reconcile_after=self._clock() + RECONCILE_AFTER
            )
            run = run.adding_errors(errors).with_changes(
                status="submitted", skus_sent=len(plan.pushes), transport="feed", feed_ids=tuple(feed_ids)
            )
            self._store.save_run(run)
            self._feeds.wait_for_reports(state, amazon)
            final = self._store.get_run(run.client_id, run.account_id, run.run_id) or run
            self._finish(account, final, save=False)
        count("SkusPushed", len(plan.pushes))

    # ---- helpers
    def _finish(self, account: Account | None, run: StockRun, *, save: bool = True) -> None:
        if run.status in ("done", "failed") and run.finished_at is None:
            run = run.with_changes(finished_at=self._clock())
        if save:
            self._store.save_run(run)
        if account is not None:
            self._store.record_summary(account, run)
        count("StockSyncsFinished", status=run.status)
        logger.info(
            "stock sync run finished",
            extra={
                "run_id": run.run_id,
                "status": run.status,
                "skus_sent": run.skus_sent,
                "skipped": run.skipped,
                "reason": run.reason,
            },
        )
