"""Order import use cases (SPEC §6): the scheduled tick, manual runs, the worker that stores each
merchant-fulfilled order once, and re-evaluation of held orders.

One job per client, seller and region: a seller's marketplaces share Amazon's order-search quota
(searchOrders refills one call every three minutes per seller), so one search series covers all of
the seller's importing marketplaces (up to 50 per call) and the orders are split into their accounts
by marketplace. Accounts are still enabled one by one, and each keeps its watermark; the job reads
from the oldest of them.

The watermarks move only after every page is stored; a rerun from an old watermark rewrites
nothing (an order is written only when Amazon's last-update time is newer), so a worker killed
mid-page loses nothing and duplicates nothing. A long series (a backlog: searchOrders gives 100
orders a page and one page every three minutes once its burst is spent) is checkpointed after every
stored page — Amazon's token for the next page — and a job stops asking for pages while it still has
time to store one before Lambda's limit; the next job goes on from the checkpoint, so a backlog drains
at Amazon's rate across invocations without reading again what is stored.

No order stays held for a term (or SKU) that now maps. A new mapping or SKU alias judges the held
orders again at once, but an import running meanwhile judged its orders with the mappings it loaded
at its start and may write them after that re-evaluation looked. So:

- every change of a client's mappings or aliases moves a marker (`MappingChanges`), before the
  held orders are judged again;
- an import about to store an order held for a reason a mapping or alias can lift reads the marker
  (once per page) and, when it moved, loads the mappings and aliases again and judges the order anew;
- what still slips between that read and the write (a mapping posted in that instant) is caught by
  the order-import tick, which judges again the held orders of every client whose marker moved in the
  last `SWEEP_FOR` — longer than an import can run plus the longest tick interval, so a tick always
  comes after the last write a stale import can make.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Collection, Iterable, Iterator
from datetime import datetime, timedelta
from typing import Any, Protocol

from oms_amazon.domain.accounts import Account
from oms_amazon.domain.amazon_errors import AuthorisationRejected
from oms_amazon.domain.courier_mappings import MappingAdded
from oms_amazon.domain.errors import AccountDeleted, Conflict, InvalidInput, NotFound
from oms_amazon.domain.jobs import ImportJob, seller_group
from oms_amazon.domain.marketplaces import Marketplace
from oms_amazon.domain.orders import (
    AmazonLine,
    AmazonOrder,
    ImportCheckpoint,
    Order,
    OrderPage,
    OrderPii,
    Release,
    event_type,
)
from oms_amazon.domain.sku_aliases import AliasSource, SkuAlias, aliases_for, no_aliases
from oms_amazon.observability import count, logger
from oms_amazon.order_checks import evaluate
from oms_amazon.ports import (
    AccountRepository,
    AuthorisationRejections,
    Clock,
    JobQueue,
    MappingChanges,
    SellerSecrets,
)
from oms_amazon.shipping import CourierMapping, without_zone
from oms_amazon.sku import SkuIndex

FIRST_IMPORT_WINDOW = timedelta(hours=24)
OVERLAP = timedelta(minutes=5)
# Amazon's order search looks no later than two minutes ago; a window never ends later than that.
AMAZON_LAG = timedelta(minutes=2)
CLAIM_FOR = timedelta(seconds=60)
BACKFILL_MAX = timedelta(days=30)
# The writer of an outbox event publishes it at once; the tick relays only events older than this,
# which their writer cannot still be sending (it died), so no event is published twice.
OUTBOX_LEASE = timedelta(minutes=2)
# A job asks Amazon for another page only with this much of its invocation left: one call's retry budget
# (the client gives up on a call after 300 s) and the storing of a page, inside Lambda's 900 s.
TIME_FOR_A_PAGE_SECONDS = 360.0
TimeLeft = Callable[[], float]
# The holds a new courier mapping or SKU alias can lift (§6.4, §6.5).
LIFTABLE_HOLDS = frozenset(
    {"unmapped_shipping_term", "shipping_zone_unknown", "sku_case_mismatch", "sku_ambiguous", "unknown_sku"}
)
# How long after a mapping or alias changes the tick judges the client's held orders again: an import's
# longest run (the worker's 15-minute timeout) plus the longest tick interval (60 minutes).
SWEEP_FOR = timedelta(minutes=75)


def liftable(order: Order) -> bool:
    """Held for a reason a new mapping or alias could lift."""
    return order.status == "on_hold" and any(h.code in LIFTABLE_HOLDS for h in order.hold_reasons)


class OrderStore(Protocol):
    def get(self, client_id: str, order_id: str) -> Order | None: ...

    def get_many(self, client_id: str, order_ids: list[str]) -> dict[str, Order]: ...

    def save(
        self, order: Order, *, previous: Order | None, event: Any, unless_account_deleted: bool = False
    ) -> Any: ...

    def held_for_term(self, client_id: str, term: str) -> list[Order]: ...

    def held(self, client_id: str) -> list[Order]: ...

    def open_pii(self, order: Order) -> OrderPii | None: ...

    def expiring_pii(self, now: datetime, limit: int = 100) -> list[tuple[str, str]]: ...

    def purge_pii(self, client_id: str, order_id: str, now: datetime) -> bool: ...

    def pending_events(self, limit: int = 100, *, written_before: datetime | None = None) -> list[dict[str, Any]]: ...

    def delete_events(self, events: list[dict[str, Any]]) -> None: ...


class ImportState(Protocol):
    def import_accounts(self) -> Iterator[Account]: ...

    def claim(self, account: Account, now: datetime, *, cutoff: datetime | None) -> bool: ...

    def advance_watermark(self, account: Account, new: datetime) -> bool: ...

    def checkpoint(self, client_id: str, merchant_id: str, region: str) -> ImportCheckpoint | None: ...

    def save_checkpoint(self, client_id: str, merchant_id: str, region: str, checkpoint: ImportCheckpoint) -> None: ...

    def clear_checkpoint(self, client_id: str, merchant_id: str, region: str) -> None: ...


class DeletedSweep(Protocol):
    def sweep(self, now: datetime) -> int: ...


class HeldOrderSweep(Protocol):
    def sweep(self, now: datetime | None = None) -> int: ...


class EventPublisher(Protocol):
    def publish(self, events: list[dict[str, Any]]) -> None: ...


class UnmappedTerms(Protocol):
    def record_unmapped(
        self, client_id: str, marketplace: str, term: str, order_id: str, seen_at: datetime
    ) -> bool: ...

    def clear_unmapped(self, client_id: str, order_id: str) -> bool: ...


class OrderSource(Protocol):
    def orders_since(
        self,
        marketplace_ids: list[str],
        since: datetime,
        api_version: str,
        already_stored: Callable[[list[tuple[str, datetime]]], set[str]] | None = None,
        *,
        recover_levels: bool = False,
        until: datetime | None = None,
        resume_token: str | None = None,
    ) -> Iterator[OrderPage]: ...

    def order_by_id(self, order_id: str, api_version: str) -> AmazonOrder: ...


MappingSource = Callable[[str], list[CourierMapping]]
# (client, SKUs) -> the client's OMS SKUs equal to one of them, or equal to one ignoring letter case: all
# that the checks of order lines with those SKUs need (§6.5), read by key, never the whole catalogue.
SkuSource = Callable[[str, Collection[str]], Collection[str]]
OrderAmazonFactory = Callable[[Marketplace, str, str], OrderSource]


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
        account = self._importing(client_id, account_id)
        self._queue_for(
            account,
            ImportJob(
                job="order_import",
                client_id=account.client_id,
                merchant_id=account.merchant_id,
                region=account.region,
                trigger="manual",
                account_id=account.id,
            ),
        )

    def import_order(self, client_id: str, account_id: str, order_id: str) -> None:
        """Fetch one order by id, of any age Amazon serves (an order the watermark's window missed)."""
        account = self._importing(client_id, account_id)
        job = ImportJob(
            job="order_import",
            client_id=account.client_id,
            merchant_id=account.merchant_id,
            region=account.region,
            trigger="by_id",
            account_id=account.id,
            order_ids=(order_id,),
        )
        self._queue_for(account, job)

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
        account = self._importing(client_id, account_id)
        job = ImportJob(
            job="order_import",
            client_id=account.client_id,
            merchant_id=account.merchant_id,
            region=account.region,
            trigger="backfill",
            account_id=account.id,
            since=since,
            until=end,
        )
        self._queue_for(account, job)
        return end

    def _importing(self, client_id: str, account_id: str) -> Account:
        account = self._accounts.get(client_id, account_id)
        if account is None:
            raise NotFound(f"No account {account_id}.", code="account_not_found")
        account.check_can_run("order_import")
        return account

    def _queue_for(self, account: Account, job: ImportJob) -> None:
        self._send(job, dedup_id=f"import-{account.id}-{self._clock():%Y%m%dT%H%M%S%f}-{secrets.token_hex(2)}")

    def _send(self, job: ImportJob, *, dedup_id: str) -> None:
        self._queue.send(job.to_message(), group=seller_group(job.merchant_id, job.region), dedup_id=dedup_id)


class OutboxRelay:
    """Sends outbox events to the bus and then removes them; what a crash leaves is sent by the tick."""

    def __init__(self, orders: OrderStore, publisher: EventPublisher) -> None:
        self._orders = orders
        self._publisher = publisher

    def send(self, events: list[dict[str, Any]]) -> None:
        if not events:
            return
        self._publisher.publish(events)
        self._orders.delete_events(events)

    def relay_pending(self, *, written_before: datetime | None = None) -> int:
        sent = 0
        while True:
            events = self._orders.pending_events(100, written_before=written_before)
            if not events:
                return sent
            self.send(events)
            sent += len(events)


class OrderJudge:
    """Evaluates orders with the client's current SKUs and mappings, loaded once per use.

    Given `changes`, a judge about to hold an order for a reason a mapping or alias can lift checks,
    once per page (`new_page`), whether they changed since it loaded them, and judges with the new
    ones if they did."""

    def __init__(
        self,
        client_id: str,
        skus: SkuSource,
        mappings: MappingSource,
        aliases: AliasSource = no_aliases,
        changes: MappingChanges | None = None,
    ) -> None:
        self._client_id = client_id
        self._skus_source = skus
        self._mappings_source = mappings
        self._aliases_source = aliases
        self._changes = changes
        # The OMS SKUs found for the SKUs asked about so far: an index over them answers for those SKUs as
        # one over the whole catalogue would.
        self._asked: set[str] = set()
        self._found: set[str] = set()
        self._index: SkuIndex | None = None
        self._mappings: list[CourierMapping] | None = None
        self._aliases: list[SkuAlias] | None = None
        self._aliases_of: dict[str, dict[str, str]] = {}
        self._revision: int | None = None
        self._checked = False

    def mappings(self) -> list[CourierMapping]:
        return self._load()[0]

    def new_page(self) -> None:
        self._checked = False

    def prefetch(self, orders: Iterable[tuple[AmazonOrder, Account]]) -> None:
        """Look up the SKUs of these orders' lines (and of the aliases they use) in one go, before judging
        them one by one."""
        _, aliases = self._load()
        wanted: set[str] = set()
        for amazon, account in orders:
            wanted |= self._line_skus(amazon, self._aliases_for(account, aliases))
        self._look_up(wanted)

    def _aliases_for(self, account: Account, aliases: list[SkuAlias]) -> dict[str, str]:
        if account.id not in self._aliases_of:
            self._aliases_of[account.id] = aliases_for(account.id, aliases)
        return self._aliases_of[account.id]

    @staticmethod
    def _line_skus(amazon: AmazonOrder, aliases: dict[str, str]) -> set[str]:
        skus = {line.seller_sku for line in amazon.lines}
        return skus | {aliases[sku] for sku in skus if sku in aliases}

    def _look_up(self, skus: set[str]) -> SkuIndex:
        wanted = skus - self._asked
        if wanted or self._index is None:
            self._found.update(self._skus_source(self._client_id, wanted) if wanted else ())
            self._asked |= wanted
            self._index = SkuIndex(self._found)
        return self._index

    def judge(
        self, amazon: AmazonOrder, account: Account, now: datetime, previous: Order | None, *, despatched: bool = False
    ) -> Order:
        order = self._evaluate(amazon, account, now, previous, despatched)
        if liftable(order) and self._changed_since_loaded():
            order = self._evaluate(amazon, account, now, previous, despatched)
        return order

    def _evaluate(
        self, amazon: AmazonOrder, account: Account, now: datetime, previous: Order | None, despatched: bool
    ) -> Order:
        mappings, aliases = self._load()
        linked = self._aliases_for(account, aliases)
        index = self._look_up(self._line_skus(amazon, linked))
        return evaluate(
            amazon, account, index, mappings, now=now, previous=previous, despatched=despatched, aliases=linked
        )

    def _load(self) -> tuple[list[CourierMapping], list[SkuAlias]]:
        if self._mappings is None or self._aliases is None:
            # The marker first: mappings read after it are at least as new as what it says.
            if self._changes is not None:
                self._revision = self._changes.revision(self._client_id)
            self._mappings = self._mappings_source(self._client_id)
            self._aliases = self._aliases_source(self._client_id)
            self._aliases_of = {}
        return self._mappings, self._aliases

    def _changed_since_loaded(self) -> bool:
        if self._changes is None or self._checked:
            return False
        self._checked = True
        if self._changes.revision(self._client_id) == self._revision:
            return False
        self._mappings = self._aliases = None
        return True


class OrderWriter:
    """Stores a judged order once, keeps the unmapped-terms view in step, and relays its event.

    The buyer's data goes along only while the warehouse needs it (§6.8): never for an order it does
    not ship, never again once deleted, and with a deletion time from the moment the order ships or is
    cancelled."""

    def __init__(
        self,
        orders: OrderStore,
        unmapped: UnmappedTerms,
        relay: OutboxRelay,
        pii_retention: timedelta = timedelta(days=30),
    ) -> None:
        self._orders = orders
        self._unmapped = unmapped
        self._relay = relay
        self._pii_retention = pii_retention

    def _with_pii_rules(self, order: Order) -> Order:
        if order.status == "not_for_us" or order.pii_purged_at is not None:
            order = order.with_changes(pii=None)
        if order.pii is not None:
            order = order.with_changes(has_pii=True)
        finished = order.is_finished or order.status == "not_for_us"
        if finished and order.has_pii and order.pii_expires_at is None:
            order = order.with_changes(pii_expires_at=order.updated_at + self._pii_retention)
        return order

    def write(
        self, order: Order, previous: Order | None, *, unless_account_deleted: bool = False
    ) -> tuple[bool, dict[str, Any] | None]:
        """`unless_account_deleted`: an import's write, refused with `AccountDeleted` once the order's account
        is deleted (an operator's release or a re-evaluation of an order that stays is not)."""
        order = self._with_pii_rules(order)
        event = event_type(previous, order)
        result = self._orders.save(order, previous=previous, event=event, unless_account_deleted=unless_account_deleted)
        if not result.saved:
            return False, None
        if order.unmapped_term:
            if self._unmapped.record_unmapped(
                order.client_id, order.marketplace, order.unmapped_term, order.amazon_order_id, order.updated_at
            ):
                count("UnmappedTerms", marketplace=order.marketplace)
        elif previous is not None and previous.unmapped_term:
            self._unmapped.clear_unmapped(order.client_id, order.amazon_order_id)
        if result.event is None:
            count("OrdersUpdated")
        elif previous is None:
            count("OrdersImported")
        for hold in order.hold_reasons if event else ():
            count("OrdersHeld", reason=hold.code)
        if event and order.status == "on_hold":
            logger.info(
                "order held",
                extra={
                    "client_id": order.client_id,
                    "account_id": order.account_id,
                    "marketplace": order.marketplace,
                    "amazon_order_id": order.amazon_order_id,
                    "hold_reasons": [hold.code for hold in order.hold_reasons],
                    "shipping_term": order.shipping_term,
                },
            )
        return True, result.event


class OrderImportWorker:
    def __init__(
        self,
        *,
        accounts: AccountRepository,
        state: ImportState,
        orders: OrderStore,
        writer: OrderWriter,
        relay: OutboxRelay,
        secrets: SellerSecrets,
        amazon: OrderAmazonFactory,
        skus: SkuSource,
        mappings: MappingSource,
        rejections: AuthorisationRejections,
        clock: Clock,
        api_version: str,
        aliases: AliasSource = no_aliases,
        changes: MappingChanges | None = None,
    ) -> None:
        self._changes = changes
        self._accounts = accounts
        self._state = state
        self._orders = orders
        self._writer = writer
        self._relay = relay
        self._secrets = secrets
        self._amazon = amazon
        self._skus = skus
        self._mappings = mappings
        self._rejections = rejections
        self._clock = clock
        self._api_version = api_version
        self._aliases = aliases

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
        token = self._secrets.get(first.client_id, first.merchant_id, first.secret_version)
        if token is None or token.type != "sp_api_refresh_token":
            return {}
        keys = {
            "client_id": first.client_id,
            "merchant_id": first.merchant_id,
            "region": first.region,
            "marketplaces": sorted(a.marketplace for a in accounts),
        }
        logger.append_keys(**keys)
        try:
            amazon = self._amazon(first.market, first.merchant_id, token.value)
            if job.order_ids:
                return self._import_by_id(accounts, amazon, job.order_ids)
            window = (job.since, job.until) if job.since is not None else None
            return self._import(accounts, amazon, window=window, time_left=time_left)
        except AuthorisationRejected:
            self._rejections.reject(first.client_id, first.merchant_id)
            count("AuthorisationsRejected")
            logger.warning("Amazon rejected the seller's authorisation; its jobs are paused")
            return {"rejected": 1}
        finally:
            logger.remove_keys(list(keys))

    def _import_by_id(self, accounts: list[Account], amazon: OrderSource, order_ids: tuple[str, ...]) -> dict[str, int]:
        by_marketplace = {a.marketplace_id: a for a in accounts}
        judge = OrderJudge(accounts[0].client_id, self._skus, self._mappings, self._aliases, self._changes)
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
        judge = OrderJudge(client_id, self._skus, self._mappings, self._aliases, self._changes)
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


class OrderReevaluation:
    """Judges stored orders again with today's SKUs, mappings and account settings (§6.4, §7)."""

    def __init__(
        self,
        accounts: AccountRepository,
        orders: OrderStore,
        writer: OrderWriter,
        relay: OutboxRelay,
        skus: SkuSource,
        mappings: MappingSource,
        clock: Clock,
        aliases: AliasSource = no_aliases,
        changes: MappingChanges | None = None,
    ) -> None:
        self._accounts = accounts
        self._orders = orders
        self._writer = writer
        self._relay = relay
        self._skus = skus
        self._mappings = mappings
        self._clock = clock
        self._aliases = aliases
        self._changes = changes

    def reevaluate(self, client_id: str, order_id: str) -> Order:
        order = self._orders.get(client_id, order_id)
        if order is None:
            raise NotFound(f"No order {order_id}.", code="order_not_found")
        judge = OrderJudge(client_id, self._skus, self._mappings, self._aliases)
        return self._again(order, judge)

    def mapping_added(self, added: MappingAdded) -> None:
        self._changed(added.client_id)
        judge = OrderJudge(added.client_id, self._skus, self._mappings, self._aliases)
        released = 0
        for order in self._orders.held_for_term(added.client_id, added.amazon_term):
            if self._again(order, judge).status != "on_hold":
                released += 1
        if released:
            logger.info(
                "held orders released by a new mapping", extra={"released": released, "term": added.amazon_term}
            )

    def sku_aliased(self, client_id: str, amazon_sku: str) -> int:
        """Judges again, at once, the orders held on a line with this Amazon SKU (a new SKU alias, §6.5);
        returns how many were released."""
        self._changed(client_id)
        held = [
            order
            for order in self._orders.held(client_id)
            if any(h.extra.get("amazon_sku") == amazon_sku for h in order.hold_reasons)
        ]
        if not held:
            return 0
        judge = OrderJudge(client_id, self._skus, self._mappings, self._aliases)
        released = sum(1 for order in held if self._again(order, judge).status != "on_hold")
        logger.info("held orders judged again after a SKU alias", extra={"held": len(held), "released": released})
        return released

    def sweep(self, now: datetime | None = None) -> int:
        """The order-import tick's sweep: the held orders of every client whose mappings or aliases
        changed lately, judged again (an import may have stored some after a change's own re-evaluation
        looked); returns how many were released."""
        if self._changes is None:
            return 0
        released = judged = 0
        for client_id in self._changes.changed_recently(now or self._clock()):
            held = [order for order in self._orders.held(client_id) if liftable(order)]
            judge = OrderJudge(client_id, self._skus, self._mappings, self._aliases)
            for order in held:
                try:
                    released += self._again(order, judge).status != "on_hold"
                except Conflict:
                    logger.warning("held order kept changing; the next tick judges it again", extra=_keys(order))
            judged += len(held)
        if judged:
            logger.info("held orders judged again after new mappings", extra={"held": judged, "released": released})
            count("HeldOrdersReleasedBySweep", released)
        return released

    def _changed(self, client_id: str) -> None:
        if self._changes is not None:
            now = self._clock()
            self._changes.changed(client_id, now, sweep_until=now + SWEEP_FOR)

    def release(self, client_id: str, order_id: str, *, reason: str, by: str, courier_service: str | None) -> Order:
        """An operator overrides a held order's holds (§6.6): it becomes `ready` with the courier service
        it resolved to or the one given, and the release is recorded with who and why."""
        order = self._orders.get(client_id, order_id)
        if order is None:
            raise NotFound(f"No order {order_id}.", code="order_not_found")
        if order.status == "cancelled":
            raise Conflict(f"Order {order_id} was cancelled on Amazon; it cannot be released.", code="order_cancelled")
        if order.status != "on_hold":
            raise Conflict(f"Order {order_id} is {order.status}, not on hold.", code="order_not_held")
        courier = courier_service or order.courier_service
        if not courier:
            raise InvalidInput(
                f"Order {order_id} has no courier service (its shipping term {order.shipping_term!r} is unmapped): "
                "send courier_service with the release.",
                code="courier_service_required",
                details=[{"field": "courier_service", "reason": "required for this order"}],
            )
        now = self._clock()
        release = Release(by, now, reason, courier, tuple(h.code for h in order.hold_reasons))
        released = order.with_changes(
            status="ready",
            hold_reasons=(),
            courier_service=courier,
            release=release,
            history=(*order.history, release.to_dict()),
            updated_at=now,
            state_version=order.state_version + 1,
        )
        written, event = self._writer.write(released, order)
        if not written:
            raise Conflict(
                "The order changed while it was released; read it again and retry.", code="concurrent_update"
            )
        if event is not None:
            self._relay.send([event])
        logger.info(
            "order released by an operator",
            extra={"client_id": client_id, "amazon_order_id": order_id, "holds": list(release.holds)},
        )
        return released

    def despatched(self, client_id: str, order_id: str) -> Order | None:
        """Every unit of the order is confirmed with Amazon by the connector: the order is `shipped`."""
        order = self._orders.get(client_id, order_id)
        if order is None or order.status in ("shipped", "cancelled", "not_for_us"):
            return order
        return self._again(order, OrderJudge(client_id, self._skus, self._mappings, self._aliases), despatched=True)

    def _again(self, order: Order, judge: OrderJudge, *, despatched: bool = False) -> Order:
        account = self._accounts.get(order.client_id, order.account_id)
        if account is None:
            return order
        for _ in range(3):
            judged = judge.judge(as_amazon(order), account, self._clock(), order, despatched=despatched)
            if order.same_outcome(judged):
                return order
            written, event = self._writer.write(judged, order)
            if written:
                if event is not None:
                    self._relay.send([event])
                return judged
            fresh = self._orders.get(order.client_id, order.amazon_order_id)
            if fresh is None:
                return order
            order = fresh
        raise Conflict("The order kept changing; try again.", code="concurrent_update")


def _keys(order: Order) -> dict[str, str]:
    return {"client_id": order.client_id, "account_id": order.account_id, "amazon_order_id": order.amazon_order_id}


def as_amazon(order: Order) -> AmazonOrder:
    """What Amazon told the connector about a stored order, to judge it again (its buyer data stays
    sealed: that the address is on file is all the judgement needs)."""
    return AmazonOrder(
        amazon_order_id=order.amazon_order_id,
        marketplace_id="",
        purchase_date=order.purchase_date,
        last_update_date=order.last_update_date,
        amazon_status=order.amazon_status,
        fulfillment_channel="AFN" if order.fulfillment_channel == "AFN" else "MFN",
        ship_service_level=order.ship_service_level,
        service_level_category=order.service_level_category,
        is_prime=order.is_prime,
        is_premium=order.is_premium,
        ship_to_country=order.ship_to_country,
        ship_by=order.ship_by,
        lines=tuple(
            AmazonLine(
                line.order_item_id,
                line.seller_sku,
                line.quantity,
                line.unit_price,
                asin=line.asin,
                title=line.title,
                condition=line.condition,
                item_tax=line.item_tax,
                promotion_discount=line.promotion_discount,
                is_gift=line.is_gift,
            )
            for line in order.lines
        ),
        is_business_order=order.is_business_order,
        is_replacement=order.is_replacement,
        programs=order.programs,
        order_total=order.order_total,
        shipping_price=order.shipping_price,
        earliest_ship_date=order.earliest_ship_date,
        deliver_by=order.deliver_by,
        sales_channel=order.sales_channel,
        amazon_handles_delivery=order.amazon_handles_delivery,
        in_store_pickup=order.in_store_pickup,
        address_on_file=order.address_available,
    )


class PiiPurge:
    """Deletes the buyer data whose time has come (§6.8): run by the order-import tick, and by a
    reader that finds it due before the tick did. DynamoDB's TTL deletes the items too, eventually;
    this makes the deletion happen within a tick and records it on the order."""

    def __init__(self, orders: OrderStore, clock: Clock) -> None:
        self._orders = orders
        self._clock = clock

    def sweep(self, now: datetime | None = None, *, limit: int = 1000) -> int:
        now = now or self._clock()
        purged = 0
        while purged < limit:
            due = self._orders.expiring_pii(now, min(100, limit - purged))
            if not due:
                break
            for client_id, order_id in due:
                self._orders.purge_pii(client_id, order_id, now)
                purged += 1
        if purged:
            count("OrdersPiiPurged", purged)
            logger.info("buyer data deleted after the retention period", extra={"orders": purged})
        return purged

    def opened(self, order: Order) -> Order:
        """The order with its buyer data opened for one caller, or deleted first if its time has come."""
        now = self._clock()
        if order.has_pii and order.pii_expires_at is not None and order.pii_expires_at <= now:
            self._orders.purge_pii(order.client_id, order.amazon_order_id, now)
            purged = self._orders.get(order.client_id, order.amazon_order_id)
            return purged or order.with_changes(has_pii=False, pii_purged_at=now)
        return order.with_changes(pii=self._orders.open_pii(order))
