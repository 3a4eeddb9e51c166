"""The stock sync's triggers (SPEC §5, §7): the scheduled tick, run-now and the listings refresh. Each claims
the work in the store, records a queued run, and enqueues it for the worker."""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta
from typing import Literal

from oms_amazon.domain.accounts import Account
from oms_amazon.domain.errors import Conflict, NotFound
from oms_amazon.domain.jobs import Job, seller_group
from oms_amazon.domain.moments import iso
from oms_amazon.domain.stock_sync import ListingsRefresh, ManualRun, StockRun
from oms_amazon.observability import count, logger
from oms_amazon.ports import AccountRepository, Clock, JobQueue, StockSyncStore

# Manual actions coalesce (§7): run-now joins the account's run while it waits in the queue (one stuck
# longer, say in a dead-letter queue, is not joined), and a listings refresh requested within 15 minutes
# of the last one for the seller and marketplace joins it.
JOIN_QUEUED_RUN_FOR = timedelta(hours=1)
LISTINGS_REFRESH_STANDS = timedelta(minutes=15)


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


def _iso_key(moment: datetime | None) -> str:
    return iso(moment) if moment else ""
