"""Stock sync use cases (SPEC §5): the scheduled tick, manual runs, and the worker that pushes one
seller and region's quantities to Amazon.

The worker is safe to run again on the same message: a finished run is left alone, what was sent
is recorded before Amazon is asked to create a feed, and a feed whose creation was never recorded
is looked up on Amazon before anything is resent. A run whose account is deleted while it runs stops at
its next record, which the store refuses (`AccountDeleted`): the DELETE's clean-up is never undone by a
late write.
"""

from __future__ import annotations

import json
import secrets
import time
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Literal

from oms_amazon.domain.accounts import Account
from oms_amazon.domain.amazon_errors import AuthorisationRejected, OutcomeUnknown
from oms_amazon.domain.errors import AccountDeleted, Conflict, NotFound
from oms_amazon.domain.jobs import Job, seller_group
from oms_amazon.domain.marketplaces import Marketplace
from oms_amazon.domain.moments import iso
from oms_amazon.domain.products import CatalogueProduct
from oms_amazon.domain.sku_aliases import AliasSource, SkuAlias, aliases_for, no_aliases
from oms_amazon.domain.stock_sync import (
    CatalogueMark,
    ListingSnapshot,
    ListingsRefresh,
    ManualRun,
    PendingFeed,
    SkuError,
    StockRun,
    SyncState,
)
from oms_amazon.listings_feed import QuantityUpdate, quantity_feed, report_errors, report_failed_as_a_whole
from oms_amazon.observability import count, logger
from oms_amazon.ports import (
    AccountRepository,
    AmazonSeller,
    AuthorisationRejections,
    CatalogueReader,
    Clock,
    JobQueue,
    SellerSecrets,
    StockSyncStore,
)
from oms_amazon.stock import LastSent, Product
from oms_amazon.stock_plan import Push, changes_since, due_again, inputs_digest, oms_skus_of, plan_push

# Per marketplace: patchListingsItem costs one call per SKU; a feed costs createFeedDocument +
# createFeed now and getFeed + getFeedDocument later, and JSON_LISTINGS_FEED allows only 5 submissions
# per 5 minutes per seller and region. Up to this many SKUs, patches are the cheaper transport.
PATCH_UP_TO = 3
RECONCILE_AFTER = timedelta(minutes=2)
# A feed found on Amazon belongs to a pending one only if it was created after that was recorded.
# Amazon's createdTime is in whole seconds, hence one second of slack; a feed of an earlier run is at
# least the run's report poll (2 s) older, so it is never taken for this one.
FEED_CLOCK_SLACK = timedelta(seconds=1)
CREATE_FEED_ATTEMPTS = 4
# Manual actions coalesce (§7): run-now joins the account's run while it waits in the queue (one stuck
# longer, say in a dead-letter queue, is not joined), and a listings refresh requested within 15 minutes
# of the last one for the seller and marketplace joins it.
JOIN_QUEUED_RUN_FOR = timedelta(hours=1)
LISTINGS_REFRESH_STANDS = timedelta(minutes=15)


class ListingsUnavailable(Exception):
    """No listing snapshot to sync against yet: Amazon is still preparing the first listings report
    (the next run polls the same report), or it ended the report FATAL (the next run asks again).
    The run fails with this reason; nothing is retried in a loop."""


def new_run_id(now: datetime) -> str:
    # Sorts by time, so listing runs newest first is a reverse Query.
    return f"{now:%Y%m%dT%H%M%S%f}-{secrets.token_hex(3)}"


class StockSyncScheduler:
    """The tick and the manual triggers: claim, record a queued run, enqueue."""

    def __init__(self, accounts: AccountRepository, store: StockSyncStore, queue: JobQueue, clock: Clock) -> None:
        self._accounts = accounts
        self._store = store
        self._queue = queue
        self._clock = clock

    def tick(self) -> dict[str, int]:
        now = self._clock()
        queued = skipped = reconciling = 0
        for account in self._store.due_accounts(now):
            seen = f"{_iso_key(account.next_stock_sync_at)}#{account.client_id}#{account.id}"
            if self._start(account, "schedule", seen_due_key=seen) is None:
                skipped += 1
            else:
                queued += 1
        for pending in self._store.feeds_to_reconcile(now):
            job = Job(job="reconcile", client_id=pending["client_id"], account_id=pending["account_id"])
            self._queue.send(
                job.to_message(),
                group=seller_group(pending["merchant_id"], pending["region"]),
                dedup_id=f"reconcile-{pending['client_id']}-{pending['merchant_id']}-{now:%Y%m%d%H%M}",
            )
            reconciling += 1
        logger.info("stock sync tick", extra={"queued": queued, "already_claimed": skipped, "reconciling": reconciling})
        count("StockSyncsQueued", queued)
        return {"queued": queued, "already_claimed": skipped, "reconciling": reconciling}

    def run_now(self, client_id: str, account_id: str) -> ManualRun:
        """A run of the account now; while one still waits in the queue, that one (a flood of run-now
        calls queues one run, whatever their concurrency)."""
        account = self._accounts.get(client_id, account_id)
        if account is None:
            raise NotFound(f"No account {account_id}.", code="account_not_found")
        account.check_can_run("stock_sync")
        run = self._new_run(account, "manual")
        claimed = self._store.claim_manual(account, run, join_since=run.queued_at - JOIN_QUEUED_RUN_FOR)
        if claimed is None:
            raise NotFound(f"No account {account_id}.", code="account_not_found")
        if claimed.joined:
            logger.info("run-now joined the waiting run", extra={"run_id": claimed.run.run_id})
        else:
            self._enqueue(account, run)
        return claimed

    def refresh_listings(self, client_id: str, account_id: str) -> ListingsRefresh:
        """Amazon's listings of the account's seller and marketplace read again; a refresh requested less
        than 15 minutes before stands for this one (each costs a createReport of a quota of a few a minute)."""
        account = self._accounts.get(client_id, account_id)
        if account is None:
            raise NotFound(f"No account {account_id}.", code="account_not_found")
        if account.authorisation.status != "ok":
            raise Conflict("The seller must authorise the connector first.", code="authorisation_required")
        now = self._clock()
        refresh = self._store.claim_listings_refresh(
            client_id, account.merchant_id, account.marketplace, at=now, unless_since=now - LISTINGS_REFRESH_STANDS
        )
        if refresh.joined:
            logger.info(
                "listings refresh joined the pending one", extra={"requested_at": refresh.requested_at.isoformat()}
            )
            return refresh
        job = Job(job="refresh_listings", client_id=client_id, account_id=account_id)
        try:
            self._queue.send(
                job.to_message(),
                group=seller_group(account.merchant_id, account.region),
                dedup_id=f"refresh-{account.id}-{new_run_id(now)}",
            )
        except Exception:
            self._store.withdraw_listings_refresh(client_id, account.merchant_id, account.marketplace, now)
            raise
        return refresh

    def _new_run(self, account: Account, trigger: Literal["schedule", "manual"]) -> StockRun:
        now = self._clock()
        return StockRun(
            run_id=new_run_id(now),
            client_id=account.client_id,
            account_id=account.id,
            status="queued",
            trigger=trigger,
            queued_at=now,
        )

    def _start(
        self, account: Account, trigger: Literal["schedule", "manual"], *, seen_due_key: str | None
    ) -> StockRun | None:
        run = self._new_run(account, trigger)
        if not self._store.claim(account, run, seen_due_key=seen_due_key):
            return None
        self._enqueue(account, run)
        return run

    def _enqueue(self, account: Account, run: StockRun) -> None:
        now = run.queued_at
        job = Job(job="stock_sync", client_id=account.client_id, account_id=account.id, run_id=run.run_id)
        try:
            self._queue.send(
                job.to_message(), group=seller_group(account.merchant_id, account.region), dedup_id=run.run_id
            )
        except Exception:
            self._store.save_run(run.with_changes(status="failed", finished_at=now, reason="could not be queued"))
            raise


# A SKU missing from the listing snapshot asks Amazon for a new listings report at most this often.
REFRESH_FOR_MISSING_SKUS_AFTER = timedelta(hours=1)


def _may_refresh_for_new_listings(snapshot: ListingSnapshot, now: datetime) -> bool:
    return (
        snapshot.pending_report_id is None
        and snapshot.taken_at is not None
        and now - snapshot.taken_at >= REFRESH_FOR_MISSING_SKUS_AFTER
    )


def _listed(snapshots: dict[str, ListingSnapshot]) -> dict[str, dict[str, str]]:
    return {account_id: s.product_types for account_id, s in snapshots.items()}


def _fba(snapshots: dict[str, ListingSnapshot]) -> dict[str, Collection[str]]:
    return {account_id: s.fulfilled_by_amazon.keys() for account_id, s in snapshots.items()}


def _iso_key(moment: datetime | None) -> str:

    return iso(moment) if moment else ""


def _taken(snapshot: ListingSnapshot) -> str:
    return snapshot.taken_at.isoformat() if snapshot.taken_at else ""


def _stock(catalogue: Mapping[str, CatalogueProduct]) -> list[Product]:
    return [product.as_stock() for product in catalogue.values()]


AmazonFactory = Callable[[Marketplace, str, str], AmazonSeller]


class StockSyncWorker:
    def __init__(
        self,
        *,
        accounts: AccountRepository,
        store: StockSyncStore,
        secrets: SellerSecrets,
        products: CatalogueReader,
        amazon: AmazonFactory,
        rejections: AuthorisationRejections,
        clock: Clock,
        sleep: Callable[[float], None] = time.sleep,
        # Amazon usually processes a quantity feed, or prepares the listings report, within a minute or
        # two; waiting that long in the worker (getFeed/getReport refill at 2/s) beats leaving it to
        # the next tick, 15 minutes later.
        poll_seconds: float = 120.0,
        aliases: AliasSource = no_aliases,
    ) -> None:
        self._accounts = accounts
        self._aliases = aliases
        self._store = store
        self._secrets = secrets
        self._products = products
        self._amazon = amazon
        self._rejections = rejections
        self._clock = clock
        self._sleep = sleep
        self._poll_seconds = poll_seconds

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
            amazon = self._seller(account)
            if amazon is None:
                if run is not None:
                    self._finish(account, run.with_changes(status="failed", reason="authorisation_required"))
                return
            if job.kind == "refresh_listings":
                try:
                    self._snapshot(account, amazon, force=True)
                except ListingsUnavailable as unavailable:
                    logger.info("listings refresh not finished", extra={"reason": str(unavailable)})
            elif job.kind == "reconcile":
                self._reconcile(self._store.state(account.client_id, account.merchant_id, account.region), amazon)
            elif run is not None:
                self._sync(account, run, amazon)
        except AuthorisationRejected:
            rejected = self._rejections.reject(account.client_id, account.merchant_id)
            count("AuthorisationsRejected")
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
        group = [
            a
            for a in self._accounts.of_seller(account.client_id, account.merchant_id)
            if a.region == account.region and a.stock_sync_enabled
        ]
        group = group if any(a.id == account.id for a in group) else [account, *group]
        state = self._reconcile(self._store.state(account.client_id, account.merchant_id, account.region), amazon)
        try:
            refreshed = {a.id: self._refreshed_snapshot(a, amazon, force=False) for a in group}
        except ListingsUnavailable as unavailable:
            self._finish(account, run.with_changes(status="failed", reason=str(unavailable)))
            return
        snapshots = {account_id: current for account_id, (current, _) in refreshed.items()}
        links = self._aliases(account.client_id)
        aliases = {a.id: aliases_for(a.id, links) for a in group} if links else None
        # What the last run used: the snapshots as stored before this run read any of them again.
        listings_before = {
            account_id: _taken(replaced or current) for account_id, (current, replaced) in refreshed.items()
        }
        newly = {
            sku
            for current, replaced in refreshed.values()
            if replaced is not None
            for sku in current.product_types.keys() - replaced.product_types.keys()
        }
        listed = {sku for s in snapshots.values() for sku in s.product_types}
        by_key = oms_skus_of(due_again(state.last_sent, now, listed) | newly, aliases or {})
        inputs = inputs_digest(group, links)
        since = changes_since(
            state.catalogue, now, inputs, listings_before, by_key=len(by_key), sent_skus=len(state.last_sent)
        )
        read_at = self._clock()
        catalogue = self._read_catalogue(account.client_id, since, by_key, links)
        plan = plan_push(
            account, group, _stock(catalogue), _listed(snapshots), state.last_sent, now, _fba(snapshots), aliases
        )
        if plan.skipped.get("not_on_amazon") and _may_refresh_for_new_listings(snapshots[account.id], now):
            # An OMS SKU Amazon does not list may be a listing created since the snapshot: a new report, at most
            # hourly per seller and marketplace, so a new listing syncs within the hour, not the day (SPEC §5.4).
            count("ListingsRefreshedForMissingSkus")
            fresh = self._snapshot(account, amazon, force=True)
            before = snapshots[account.id]
            if fresh.taken_at != before.taken_at:
                snapshots[account.id] = fresh
                if since is not None:
                    added = fresh.product_types.keys() - before.product_types.keys()
                    catalogue = self._with_neighbours(
                        account.client_id, catalogue, oms_skus_of(added, aliases or {}), links
                    )
                plan = plan_push(
                    account,
                    group,
                    _stock(catalogue),
                    _listed(snapshots),
                    state.last_sent,
                    now,
                    _fba(snapshots),
                    aliases,
                )
        # Saved with what the run sent, never before it: a run that dies reads the same changes again.
        mark = CatalogueMark(
            read_at=read_at,
            full_at=read_at if since is None or state.catalogue is None else state.catalogue.full_at,
            inputs=inputs,
            listings={account_id: _taken(snapshot) for account_id, snapshot in snapshots.items()},
        )
        count("StockSyncCatalogueReads", read="full" if since is None else "changes")
        run = run.with_changes(
            skus_considered=plan.considered,
            skus_unchanged=plan.unchanged,
            skipped=plan.skipped,
            skipped_skus=plan.skipped_skus,
            conflicts=plan.conflicts,
            catalogue_read="full" if since is None else "changes",
        )
        for reason, n in plan.skipped.items():
            count("SkusSkipped", n, reason=reason)
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
        by_marketplace = plan.by_marketplace()
        patched = {m: pushes for m, pushes in by_marketplace.items() if len(pushes) <= PATCH_UP_TO}
        fed = {m: pushes for m, pushes in by_marketplace.items() if len(pushes) > PATCH_UP_TO}
        state, errors = self._patch(state, patched, amazon)
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
            state, feed_ids = self._submit_feeds(state, fed, amazon, run, account)
            state = self._store.save_state(
                replace(state, catalogue=mark), reconcile_after=self._clock() + RECONCILE_AFTER
            )
            run = run.adding_errors(errors).with_changes(
                status="submitted", skus_sent=len(plan.pushes), transport="feed", feed_ids=tuple(feed_ids)
            )
            self._store.save_run(run)
            self._poll(state, amazon)
            final = self._store.get_run(run.client_id, run.account_id, run.run_id) or run
            self._finish(account, final, save=False)
        count("SkusPushed", len(plan.pushes))

    def _read_catalogue(
        self, client_id: str, since: datetime | None, by_key: set[str], links: Sequence[SkuAlias]
    ) -> dict[str, CatalogueProduct]:
        """The whole catalogue (since None), or the products changed since `since` and those named in
        `by_key`, with what their figures need."""
        if since is None:
            return {p.sku: p for p in self._products.iter_catalogue(client_id, index_missing=True)}
        changed = {p.sku: p for p in self._products.changed_since(client_id, since)}
        return self._with_neighbours(client_id, changed, by_key, links)

    def _with_neighbours(
        self,
        client_id: str,
        read: Mapping[str, CatalogueProduct],
        more: Collection[str],
        links: Sequence[SkuAlias],
    ) -> dict[str, CatalogueProduct]:
        """`read` and `more`, then every bundle using one of them (a component's change changes its bundles,
        §5.2), every component of those bundles (a bundle's figure needs all of them), and every OMS product
        an alias of theirs names as its Amazon SKU (which takes its own figure, not the alias's, §5.4)."""
        products = dict(read)

        def add(skus: Collection[str]) -> None:
            wanted = set(skus) - products.keys()
            if wanted:
                products.update(self._products.get_many(client_id, wanted))

        add(more)
        add({bundle for p in products.values() for bundle in p.used_in_bundles})
        add({c.sku for p in products.values() for c in p.components})
        add({alias.amazon_sku for alias in links if alias.oms_sku in products})
        return products

    def _patch(
        self, state: SyncState, by_marketplace: dict[str, list[Push]], amazon: AmazonSeller
    ) -> tuple[SyncState, list[SkuError]]:
        """One patchListingsItem per SKU and marketplace; a SKU any marketplace rejects is resent next run."""
        now = self._clock()
        errors: list[SkuError] = []
        sent: dict[str, int] = {}
        rejected: set[str] = set()
        for marketplace_id, pushes in by_marketplace.items():
            for push in pushes:
                found = amazon.patch_quantity(push.sku, marketplace_id, push.product_type, push.quantity)
                errors.extend(found)
                sent[push.sku] = push.quantity
                if found:
                    rejected.add(push.sku)
        last_sent = dict(state.last_sent)
        for sku, quantity in sent.items():
            last_sent[sku] = LastSent(quantity, now, "rejected" if sku in rejected else "accepted")
        return replace(state, last_sent=last_sent), errors

    def _submit_feeds(
        self,
        state: SyncState,
        by_marketplace: dict[str, list[Push]],
        amazon: AmazonSeller,
        run: StockRun,
        account: Account,
    ) -> tuple[SyncState, list[str]]:
        feed_ids: list[str] = []
        for marketplace_id, pushes in by_marketplace.items():
            marketplace_ids = (marketplace_id,)
            for start in range(0, len(pushes), 25_000):
                chunk = pushes[start : start + 25_000]
                content = json.dumps(
                    quantity_feed(
                        account.merchant_id, (QuantityUpdate(p.sku, p.quantity, p.product_type) for p in chunk)
                    ),
                    separators=(",", ":"),
                ).encode()
                document_id, _ = amazon.upload_feed(content)
                now = self._clock()
                pending = PendingFeed(
                    feed_id=None,
                    feed_document_id=document_id,
                    run_id=run.run_id,
                    account_id=run.account_id,
                    marketplace_ids=marketplace_ids,
                    quantities={p.sku: p.quantity for p in chunk},
                    submitted_at=now,
                )
                # Recorded before createFeed: if this worker dies mid-call, the next one finds the feed.
                state = self._store.save_state(
                    _with_pending(state, pending, now), reconcile_after=now + RECONCILE_AFTER
                )
                feed_id = self._create_feed(amazon, pending, state)
                state = self._store.save_state(
                    _set_feed_id(state, document_id, feed_id), reconcile_after=now + RECONCILE_AFTER
                )
                feed_ids.append(feed_id)
        return state, feed_ids

    def _create_feed(self, amazon: AmazonSeller, pending: PendingFeed, state: SyncState) -> str:
        """createFeed has no idempotency key, so the client does not repeat it once Amazon may have acted
        on it (`OutcomeUnknown`): look for the feed before asking again, or the change is pushed twice."""
        known = {p.feed_id for p in state.pending_feeds if p.feed_id}
        marketplace_ids = list(pending.marketplace_ids)
        for _ in range(CREATE_FEED_ATTEMPTS - 1):
            try:
                return amazon.create_feed(pending.feed_document_id, marketplace_ids)
            except OutcomeUnknown:
                found = amazon.find_feed(pending.submitted_at - FEED_CLOCK_SLACK, marketplace_ids, known)
                if found is not None:
                    return found
        # Still unknown after the last attempt: the job fails and its next delivery reconciles the pending feed.
        return amazon.create_feed(pending.feed_document_id, marketplace_ids)

    def _poll(self, state: SyncState, amazon: AmazonSeller) -> None:
        """A short wait for the processing report in the same invocation, when Amazon is quick."""
        waited, delay = 0.0, 2.0
        while state.pending_feeds and waited < self._poll_seconds:
            self._sleep(delay)
            waited += delay
            delay = min(delay * 2, 15.0)
            state = self._reconcile(state, amazon)

    # ---- reports of earlier pushes
    def _reconcile(self, state: SyncState, amazon: AmazonSeller) -> SyncState:
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
            feed_id = pending.feed_id or amazon.find_feed(
                pending.submitted_at - FEED_CLOCK_SLACK, list(pending.marketplace_ids), known
            )
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
                report = outcome.report or {}
                skus = pending.message_skus
                if outcome.status == "failed" or report_failed_as_a_whole(report, skus):
                    errors = [
                        SkuError(sku, "feed_failed", "Amazon did not process the feed; resent next run.")
                        for sku in pending.quantities
                    ]
                else:
                    errors = [error for found in report_errors(report, skus).values() for error in found]
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
        for (account_id, run_id), errors in finished.items():
            run = self._store.get_run(state.client_id, account_id, run_id)
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
                owner = self._accounts.get(state.client_id, account_id)
                if owner is not None:
                    self._store.record_summary(owner, updated)
            if errors:
                count("SkusRejectedByAmazon", len(errors))
        return state

    # ---- the listing snapshot
    def _snapshot(self, account: Account, amazon: AmazonSeller, *, force: bool) -> ListingSnapshot:
        return self._refreshed_snapshot(account, amazon, force=force)[0]

    def _refreshed_snapshot(
        self, account: Account, amazon: AmazonSeller, *, force: bool
    ) -> tuple[ListingSnapshot, ListingSnapshot | None]:
        """The account's listing snapshot, read again from Amazon when stale (or `force`), and the one it
        replaced when it was (what a run compares it with to find the newly listed SKUs)."""
        now = self._clock()
        snapshot = self._store.snapshot(account.client_id, account.merchant_id, account.marketplace)
        if snapshot is not None and snapshot.is_fresh(now) and not force and snapshot.pending_report_id is None:
            return snapshot, None
        report_id = snapshot.pending_report_id if snapshot and snapshot.pending_report_id else None
        if report_id is None:
            report_id = amazon.request_listings_report(account.marketplace_id)
            snapshot = ListingSnapshot(
                account.merchant_id,
                account.marketplace,
                snapshot.taken_at if snapshot else None,
                snapshot.product_types if snapshot else {},
                pending_report_id=report_id,
            )
            self._store.save_snapshot(account.client_id, snapshot)
        waited, delay = 0.0, 1.0
        while True:
            outcome = amazon.listings_report(report_id)
            if outcome.status != "pending" or waited >= self._poll_seconds:
                break
            self._sleep(delay)
            waited += delay
            delay = min(delay * 2, 10.0)
        assert snapshot is not None
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
            self._store.save_snapshot(account.client_id, replace(snapshot, pending_report_id=None))
            logger.warning("Amazon failed the listings report", extra={"reason": outcome.reason})
        if snapshot.taken_at is not None:  # a stale snapshot beats none while Amazon prepares the next
            return snapshot, None
        if outcome.status == "failed":
            raise ListingsUnavailable(f"listings_report_failed: {outcome.reason}")
        # Still in progress: the next run polls this same report rather than asking for another.
        raise ListingsUnavailable(
            "listings_report_pending: Amazon is still preparing the listings report; the next run continues."
        )

    # ---- helpers
    def _seller(self, account: Account) -> AmazonSeller | None:
        token = self._secrets.get(account.client_id, account.merchant_id, account.secret_version)
        if token is None or token.type != "sp_api_refresh_token" or account.authorisation.status != "ok":
            return None
        return self._amazon(account.market, account.merchant_id, token.value)

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


def _with_pending(state: SyncState, pending: PendingFeed, now: datetime) -> SyncState:
    last_sent = dict(state.last_sent)
    for sku, quantity in pending.quantities.items():
        last_sent[sku] = LastSent(quantity, now, "in_flight")
    return replace(state, last_sent=last_sent, pending_feeds=(*state.pending_feeds, pending))


def _set_feed_id(state: SyncState, document_id: str, feed_id: str) -> SyncState:
    feeds = tuple(replace(p, feed_id=feed_id) if p.feed_document_id == document_id else p for p in state.pending_feeds)
    return replace(state, pending_feeds=feeds)


__all__ = ["Job", "ListingsUnavailable", "Push", "StockSyncScheduler", "StockSyncWorker", "new_run_id"]
