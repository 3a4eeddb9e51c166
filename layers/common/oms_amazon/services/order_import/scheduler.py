"""The order-import tick and the manual runs (§6): one job per client, seller and region once its
accounts are claimed, a manual run, one order by id or a backfill as a job of its own; and the sweeps the
tick runs (the outbox, the buyer data due for deletion, held orders, deleted accounts)."""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta
from typing import Literal

from oms_amazon.domain.accounts import Account
from oms_amazon.domain.errors import InvalidInput, NotFound
from oms_amazon.domain.jobs import ImportJob, seller_group
from oms_amazon.observability import count, logger
from oms_amazon.ports import AccountRepository, Clock, JobQueue
from oms_amazon.services.order_import.pii_purge import PiiPurge
from oms_amazon.services.order_import.ports import AMAZON_LAG, DeletedSweep, HeldOrderSweep, ImportState
from oms_amazon.services.order_import.writer import OutboxRelay

CLAIM_FOR = timedelta(seconds=60)
BACKFILL_MAX = timedelta(days=30)
# The writer of an outbox event publishes it at once; the tick relays only events older than this,
# which their writer cannot still be sending (it died), so no event is published twice.
OUTBOX_LEASE = timedelta(minutes=2)


class OrderImportScheduler:
    def __init__(
        self,
        accounts: AccountRepository,
        state: ImportState,
        queue: JobQueue,
        outbox: OutboxRelay,
        clock: Clock,
        purge: PiiPurge | None = None,
        held: HeldOrderSweep | None = None,
        deleted: DeletedSweep | None = None,
    ) -> None:
        self._accounts = accounts
        self._state = state
        self._queue = queue
        self._outbox = outbox
        self._clock = clock
        self._purge = purge
        self._held = held
        self._deleted = deleted

    def tick(self) -> dict[str, int]:
        """One job per client, seller and region that has an account to import, once its accounts are
        claimed (a claim another tick holds is skipped; overlapping ticks queue the job once)."""
        now = self._clock()
        queued = skipped = 0
        groups: dict[tuple[str, str, str], list[Account]] = {}
        for account in self._state.import_accounts():
            groups.setdefault((account.client_id, account.merchant_id, account.region), []).append(account)
        for (client_id, merchant_id, region), accounts in sorted(groups.items()):
            claimed = [a for a in accounts if self._state.claim(a, now, cutoff=now - CLAIM_FOR)]
            skipped += len(accounts) - len(claimed)
            if not claimed:
                continue
            job = ImportJob(
                job="order_import", client_id=client_id, merchant_id=merchant_id, region=region, trigger="schedule"
            )
            # The same id for every tick of the minute: SQS drops a second tick's copy of the job.
            self._send(job, dedup_id=f"import-{client_id}-{merchant_id}-{region}-{now:%Y%m%dT%H%M}")
            queued += 1
        relayed = self._outbox.relay_pending(written_before=now - OUTBOX_LEASE)
        purged = self._purge.sweep(now) if self._purge is not None else 0
        released = self._held.sweep(now) if self._held is not None else 0
        cleaned = self._deleted.sweep(now) if self._deleted is not None else 0
        outcome = {
            "queued": queued,
            "already_claimed": skipped,
            "events_relayed": relayed,
            "pii_purged": purged,
            "held_released": released,
            "deleted_accounts_cleaned": cleaned,
        }
        logger.info("order import tick", extra=outcome)
        count("OrderImportsQueued", queued)
        return outcome

    def run_now(self, client_id: str, account_id: str) -> None:
        self._queue_for(self._importing(client_id, account_id), "manual")

    def import_order(self, client_id: str, account_id: str, order_id: str) -> None:
        """Fetch one order by id, of any age Amazon serves (an order the watermark's window missed)."""
        self._queue_for(self._importing(client_id, account_id), "by_id", order_ids=(order_id,))

    def backfill(self, client_id: str, account_id: str, since: datetime, until: datetime | None) -> datetime:
        """Import a past window of at most 30 days as a job of its own; the watermark stays where it is.
        Returns the window's end."""
        now = self._clock()
        end = until or now - AMAZON_LAG
        problem = (
            "since must be before until"
            if since >= end
            else f"a backfill covers at most {BACKFILL_MAX.days} days"
            if end - since > BACKFILL_MAX
            else "until may not be in the future"
            if end > now
            else None
        )
        if problem is not None:
            raise InvalidInput(f"Invalid backfill window: {problem}.", code="invalid_window")
        self._queue_for(self._importing(client_id, account_id), "backfill", since=since, until=end)
        return end

    def _importing(self, client_id: str, account_id: str) -> Account:
        account = self._accounts.get(client_id, account_id)
        if account is None:
            raise NotFound(f"No account {account_id}.", code="account_not_found")
        account.check_can_run("order_import")
        return account

    def _queue_for(
        self,
        account: Account,
        trigger: Literal["manual", "by_id", "backfill"],
        *,
        order_ids: tuple[str, ...] = (),
        since: datetime | None = None,
        until: datetime | None = None,
    ) -> None:
        """A job asked for on one account (run now, an order by id, a backfill): its seller and region's."""
        job = ImportJob(
            job="order_import",
            client_id=account.client_id,
            merchant_id=account.merchant_id,
            region=account.region,
            trigger=trigger,
            account_id=account.id,
            order_ids=order_ids,
            since=since,
            until=until,
        )
        self._send(job, dedup_id=f"import-{account.id}-{self._clock():%Y%m%dT%H%M%S%f}-{secrets.token_hex(2)}")

    def _send(self, job: ImportJob, *, dedup_id: str) -> None:
        self._queue.send(job.to_message(), group=seller_group(job.merchant_id, job.region), dedup_id=dedup_id)
