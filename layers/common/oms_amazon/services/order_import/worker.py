"""The order-import worker: one job imports the new and changed merchant-fulfilled orders of a seller's
importing marketplaces in one search, and stores each once.

The watermarks move only after every page is stored; a rerun from an old watermark rewrites
nothing (an order is written only when Amazon's last-update time is newer), so a worker killed
mid-page loses nothing and duplicates nothing. A long series (a backlog: searchOrders gives 100
orders a page and one page every three minutes once its burst is spent) is checkpointed after every
stored page — Amazon's token for the next page — and a job stops asking for pages while it still has
time to store one before Lambda's limit; the next job goes on from the checkpoint, so a backlog drains
at Amazon's rate across invocations without reading again what is stored."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from oms_amazon.domain.accounts import Account
from oms_amazon.domain.amazon_errors import AuthorisationRejected
from oms_amazon.domain.errors import AccountDeleted, Conflict
from oms_amazon.domain.jobs import ImportJob
from oms_amazon.domain.orders import AmazonOrder, ImportCheckpoint, Order
from oms_amazon.observability import count, logger
from oms_amazon.ports import AccountRepository, Clock, MappingChanges
from oms_amazon.services.order_import.judge import OrderJudge
from oms_amazon.services.order_import.ports import (
    AMAZON_LAG,
    ImportState,
    OrderSource,
    OrderStore,
    RuleSources,
)
from oms_amazon.services.order_import.writer import OrderWriter, OutboxRelay
from oms_amazon.services.seller_access import SellerAccess
from oms_amazon.shipping import without_zone

FIRST_IMPORT_WINDOW = timedelta(hours=24)
OVERLAP = timedelta(minutes=5)
# A job asks Amazon for another page only with this much of its invocation left: one call's retry budget
# (the client gives up on a call after 300 s) and the storing of a page, inside Lambda's 900 s.
TIME_FOR_A_PAGE_SECONDS = 360.0
TimeLeft = Callable[[], float]


class OrderImportWorker:
    def __init__(
        self,
        *,
        accounts: AccountRepository,
        state: ImportState,
        orders: OrderStore,
        writer: OrderWriter,
        relay: OutboxRelay,
        access: SellerAccess[OrderSource],
        rules: RuleSources,
        clock: Clock,
        api_version: str,
        changes: MappingChanges | None = None,
    ) -> None:
        self._changes = changes
        self._accounts = accounts
        self._state = state
        self._orders = orders
        self._writer = writer
        self._relay = relay
        self._access = access
        self._rules = rules
        self._clock = clock
        self._api_version = api_version

    def _job_accounts(self, job: ImportJob) -> list[Account]:
        """The job's accounts that can import now: active, importing, authorised."""
        merchant_id, region = job.merchant_id, job.region
        if not (merchant_id and region) and job.account_id:  # a job queued in the per-account shape
            asked = self._accounts.get(job.client_id, job.account_id)
            if asked is None:
                return []
            merchant_id, region = asked.merchant_id, asked.region
        return [
            a
            for a in self._accounts.of_seller(job.client_id, merchant_id)
            if a.region == region and a.active and a.import_orders and a.authorisation.status == "ok"
        ]

    def handle(self, job: ImportJob, time_left: TimeLeft | None = None) -> dict[str, int]:
        """`time_left`: seconds left in the invocation (Lambda's context); None is no limit."""
        accounts = self._job_accounts(job)
        if not accounts:
            logger.info("order import skipped: no account of the seller can import now", extra=job.to_message())
            return {}
        first = accounts[0]
        amazon = self._access.open(first)
        if amazon is None:
            return {}
        keys = {
            "client_id": first.client_id,
            "merchant_id": first.merchant_id,
            "region": first.region,
            "marketplaces": sorted(a.marketplace for a in accounts),
        }
        logger.append_keys(**keys)
        try:
            if job.order_ids:
                return self._import_by_id(accounts, amazon, job.order_ids)
            window = (job.since, job.until) if job.since is not None else None
            return self._import(accounts, amazon, window=window, time_left=time_left)
        except AuthorisationRejected:
            self._access.reject(first)
            logger.warning("Amazon rejected the seller's authorisation; its jobs are paused")
            return {"rejected": 1}
        finally:
            logger.remove_keys(list(keys))

    def _import_by_id(self, accounts: list[Account], amazon: OrderSource, order_ids: tuple[str, ...]) -> dict[str, int]:
        by_marketplace = {a.marketplace_id: a for a in accounts}
        judge = OrderJudge(accounts[0].client_id, self._rules, self._changes)
        stats = {"new": 0, "updated": 0, "unchanged": 0, "other_marketplace": 0}
        for order_id in order_ids:
            judge.new_page()
            found = amazon.order_by_id(order_id, self._api_version)
            account = by_marketplace.get(found.marketplace_id)
            if account is None or found.fulfillment_channel != "MFN":
                stats["other_marketplace"] += 1
                continue
            try:
                outcome, event = self._store(account, found, self._orders.get(account.client_id, order_id), judge)
            except AccountDeleted:
                stats["account_deleted"] = stats.get("account_deleted", 0) + 1
                continue
            stats[outcome] += 1
            self._relay.send([event] if event is not None else [])
        logger.info("orders imported by id", extra=stats)
        return stats

    def _import(
        self,
        accounts: list[Account],
        amazon: OrderSource,
        *,
        window: tuple[datetime, datetime | None] | None = None,
        time_left: TimeLeft | None = None,
    ) -> dict[str, int]:
        started = self._clock()
        first = accounts[0]
        client_id = first.client_id
        by_marketplace = {a.marketplace_id: a for a in accounts}
        watermarks = {a.id: a.last_order_import_at or (started - FIRST_IMPORT_WINDOW) for a in accounts}
        # One search for all: from the oldest watermark (a newly enabled marketplace reads its first day),
        # or on from an unfinished search's checkpoint; a backfill reads its own window, leaves the
        # watermarks alone and keeps no checkpoint.
        since = window[0] if window else min(watermarks.values()) - OVERLAP
        until = window[1] if window else None
        saved = None if window else self._state.checkpoint(client_id, first.merchant_id, first.region)
        resumed = saved is not None and saved.continues(list(by_marketplace), self._api_version)
        if saved is not None and resumed:
            since = saved.since
        judge = OrderJudge(client_id, self._rules, self._changes)
        # On 2026-01-01 the level (and its zone) is recovered from v0 only for a client whose mappings use zones.
        zones = any(without_zone(m.amazon_term) is not None for m in judge.mappings())
        stats = {"pages": 0, "new": 0, "updated": 0, "unchanged": 0, "skipped_fba": 0, "other_marketplace": 0}
        upper = saved.bound if saved is not None and resumed else None
        pages_before = saved.pages if saved is not None and resumed else 0
        finished = True
        checkpointed = saved is not None
        deleted: set[str] = set()  # the job's accounts deleted while it ran

        def already_stored(pairs: list[tuple[str, datetime]]) -> set[str]:
            stored = self._orders.get_many(client_id, [order_id for order_id, _ in pairs])
            return {o for o, updated in pairs if o in stored and stored[o].last_update_date >= updated}

        for page in amazon.orders_since(
            list(by_marketplace),
            since,
            self._api_version,
            already_stored,
            recover_levels=zones,
            until=until,
            resume_token=saved.next_token if saved is not None and resumed else None,
        ):
            stats["pages"] += 1
            upper = page.bound or upper
            judge.new_page()
            merchant = [o for o in page.orders if o.fulfillment_channel == "MFN"]
            stats["skipped_fba"] += len(page.orders) - len(merchant)
            ours = [o for o in merchant if o.marketplace_id in by_marketplace]
            stats["other_marketplace"] += len(merchant) - len(ours)
            stored = self._orders.get_many(client_id, [o.amazon_order_id for o in ours])
            judge.prefetch(
                (o, by_marketplace[o.marketplace_id])
                for o in ours
                if (known := stored.get(o.amazon_order_id)) is None or known.last_update_date < o.last_update_date
            )
            events = []
            for amazon_order in ours:
                account = by_marketplace[amazon_order.marketplace_id]
                if account.id in deleted:
                    stats["account_deleted"] = stats.get("account_deleted", 0) + 1
                    continue
                try:
                    outcome, event = self._store(account, amazon_order, stored.get(amazon_order.amazon_order_id), judge)
                except AccountDeleted:
                    # Deleted since the job read it: the store refused the order, and takes no other of its own.
                    deleted.add(account.id)
                    stats["account_deleted"] = stats.get("account_deleted", 0) + 1
                    logger.info("account deleted during its import; none of its orders is stored from here on")
                    continue
                stats[outcome] += 1
                if event is not None:
                    events.append(event)
            self._relay.send(events)
            if len(deleted) == len(accounts):
                break  # every account of the job is gone: nothing left to import, nor a checkpoint to keep
            if page.next_token is None or window is not None:
                continue
            checkpoint = ImportCheckpoint(
                since=since,
                marketplace_ids=tuple(sorted(by_marketplace)),
                api_version=self._api_version,
                next_token=page.next_token,
                bound=upper,
                pages=pages_before + stats["pages"],
                saved_at=self._clock(),
            )
            self._state.save_checkpoint(client_id, first.merchant_id, first.region, checkpoint)
            checkpointed = True
            if time_left is not None and time_left() < TIME_FOR_A_PAGE_SECONDS:
                finished = False
                break
        if resumed:
            stats["resumed"] = 1
        if not finished:
            # The next job goes on from the checkpoint; the watermarks wait for the series to end.
            stats["continues"] = 1
            logger.info("order import stopped for time; the next job continues from its checkpoint", extra=stats)
            count("OrderImportsContinued")
            return stats
        new_watermark = min(upper or started - AMAZON_LAG, started)
        for account in accounts if window is None else ():
            if account.id not in deleted and new_watermark > watermarks[account.id]:
                self._state.advance_watermark(account, new_watermark)
        if checkpointed:
            self._state.clear_checkpoint(client_id, first.merchant_id, first.region)
        logger.info("orders imported", extra=stats)
        count("OrderImportsFinished")
        return stats

    def _store(
        self, account: Account, amazon_order: AmazonOrder, previous: Order | None, judge: OrderJudge
    ) -> tuple[str, dict[str, Any] | None]:
        for _ in range(3):
            if previous is not None and previous.last_update_date >= amazon_order.last_update_date:
                return "unchanged", None
            order = judge.judge(amazon_order, account, self._clock(), previous)
            written, event = self._writer.write(order, previous, unless_account_deleted=True)
            if written:
                return ("updated" if previous else "new"), event
            # Another import stored this order meanwhile: judge against what it wrote.
            previous = self._orders.get(account.client_id, amazon_order.amazon_order_id)
        raise Conflict("The order kept changing while it was stored; the import will retry.", code="concurrent_update")
