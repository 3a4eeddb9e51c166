"""The main cases on the real adapters: the stock-sync and order-import workers with their DynamoDB,
KMS, Secrets Manager and EventBridge adapters over moto (`bench.aws`), Amazon's simulator on the virtual
clock with the workers' production call budget, Amazon's processing time for reports and feeds, and
Lambda and SQS as they deliver a job:

- each delivery is one invocation of at most the worker's `Timeout` (template.yaml, 900 s) of simulated
  time; Lambda's context tells the worker the time left (the order import stops asking for pages in time
  and the next job continues from its checkpoint);
- an invocation still running at its timeout is cut where it is (`InvocationCut`), and SQS delivers the
  message again once its visibility timeout has passed, at most `maxReceiveCount` times (then it is
  dead-lettered: lost, and the case is not correct);
- the next job of a schedule comes at the next tick: every `StockSyncRateMinutes` (a run that waits for
  Amazon's listings report, or a reconcile job for pending feeds) or `OrderImportRateMinutes` (an import
  that stopped for time).

Each case reports whether it ended right (`correct`: Amazon holds every OMS quantity / every order is
stored once with one event), its invocations, the connector's own CPU time (the process's, less moto's,
the simulator's and the capacity accounting's), the peak RSS the invocations added, and the DynamoDB
capacity they consumed.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import partial
from typing import Any

from oms_amazon.adapters.accounts import DynamoAccountRepository, DynamoAuthorisationRejections
from oms_amazon.adapters.amazon import SellerAmazon
from oms_amazon.adapters.courier_mappings import DynamoCourierMappingRepository, DynamoUnmappedTermRepository
from oms_amazon.adapters.dynamodb import batch_write
from oms_amazon.adapters.events import EventBridgePublisher
from oms_amazon.adapters.items import to_wire
from oms_amazon.adapters.mapping_changes import DynamoMappingChanges
from oms_amazon.adapters.order_import import DynamoImportState
from oms_amazon.adapters.orders import DynamoOrderRepository
from oms_amazon.adapters.pii import KmsPiiVault
from oms_amazon.adapters.product_items import product_to_item
from oms_amazon.adapters.products import DynamoProductRepository
from oms_amazon.adapters.secrets import SecretsManagerSellerSecrets
from oms_amazon.adapters.sku_aliases import DynamoSkuAliasRepository
from oms_amazon.adapters.stock_sync import DynamoStockSyncStore
from oms_amazon.domain.accounts import Account, SellerToken
from oms_amazon.domain.courier_mappings import CourierServiceMapping
from oms_amazon.domain.jobs import ImportJob, Job
from oms_amazon.domain.marketplaces import Marketplace, marketplace_by_code
from oms_amazon.domain.products import CatalogueProduct
from oms_amazon.domain.stock_sync import StockRun
from oms_amazon.services.order_import.ports import RuleSources
from oms_amazon.services.order_import.worker import OrderImportWorker
from oms_amazon.services.order_import.writer import OrderWriter, OutboxRelay
from oms_amazon.services.seller_access import SellerAccess
from oms_amazon.services.stock_sync.scheduler import new_run_id
from oms_amazon.services.stock_sync.worker import StockSyncWorker

from bench.aws import LEDGER, Aws, reset_peak, resident_mb
from bench.cases import (
    CLIENT,
    EU_FIVE,
    MAPPINGS,
    MARKETPLACE,
    ORDER_SKUS,
    ORDERS_CHUNK,
    SCHEDULE_INTERVAL,
    amazon_orders,
    amazon_quantities,
    catalogue,
    changed_catalogue,
    seed_listings,
)
from bench.harness import PRODUCTION_TIME_BUDGET, SELLER, Amazon, InvocationCut, Measured
from bench.lower_bound import Bound, order_import_bound, stock_sync_bound
from fakes import account
from local.template import parameter_default, resources

__all__ = ["EU_FIVE", "Options", "order_cases", "stock_cases"]

ORDER_TICK = timedelta(minutes=int(parameter_default("OrderImportRateMinutes")))
STOCK_TICK = timedelta(minutes=int(parameter_default("StockSyncRateMinutes")))
CATALOGUE_AGE = timedelta(hours=1)  # how long before the first stock run the products were last changed
MAX_DELIVERIES = 60  # a job that needs more is reported as not finishing


def _function_timeout(logical_id: str) -> float:
    return float(resources("AWS::Serverless::Function")[logical_id]["Properties"]["Timeout"])


def _queue(logical_id: str) -> tuple[float, int]:
    """The queue's visibility timeout and how many receives before its dead-letter queue."""
    properties = resources("AWS::SQS::Queue")[logical_id]["Properties"]
    return float(properties["VisibilityTimeout"]), int(properties["RedrivePolicy"]["maxReceiveCount"])


@dataclass(frozen=True, slots=True)
class Options:
    processing_seconds: float = 60.0  # Amazon's time to prepare a report and to process a feed
    fill: float = 1.0  # how full Amazon's buckets are at the start (0.5: half-empty)


class DeadLettered(Exception):
    """The message was received `maxReceiveCount` times without an invocation finishing it."""


@dataclass
class Lambda:
    """One worker function and its queue on the virtual clock: invocations, cuts, the connector's CPU
    time and the peak RSS over them."""

    amazon: Amazon
    timeout: float
    visibility: float
    max_receives: int
    invocations: int = 0
    cut: int = 0
    failed: list[str] = field(default_factory=list)
    cpu: float = 0.0
    rss_before: float = 0.0
    rss_peak: float = 0.0

    @classmethod
    def of(cls, amazon: Amazon, function: str, queue: str) -> Lambda:
        return cls(amazon, _function_timeout(function), *_queue(queue))

    def start(self) -> None:
        self.rss_before = resident_mb()
        self.rss_peak = self.rss_before if not reset_peak() else 0.0

    def finish(self) -> None:
        self.rss_peak = max(self.rss_peak, resident_mb("VmHWM"))

    def deliver(self, handler: Callable[[Callable[[], float]], Any]) -> Any:
        """One message until an invocation finishes it: redelivered after the visibility timeout when an
        invocation is cut or fails. Raises `DeadLettered` after the last receive."""
        clock = self.amazon.clock
        for _ in range(self.max_receives):
            received = clock.now
            clock.deadline = received + self.timeout
            self.invocations += 1
            cpu, other = time.process_time(), LEDGER.other
            try:
                return handler(clock.time_left)
            except InvocationCut:
                self.cut += 1
            except Exception as error:  # the invocation failed: SQS delivers the message again
                self.failed.append(f"{type(error).__name__}: {error}"[:300])
            finally:
                clock.deadline = None
                self.cpu += (time.process_time() - cpu) - (LEDGER.other - other)
            clock.advance(max(0.0, received + self.visibility - clock.now))
        raise DeadLettered()

    def to_json(self) -> dict[str, Any]:
        return {
            "invocations": self.invocations,
            "our_cpu_s": round(self.cpu, 2),
            "peak_rss_mb": round(max(0.0, self.rss_peak - self.rss_before), 1),
            "rss_before_mb": round(self.rss_before, 1),
            "invocations_cut": self.cut,
            "invocations_failed": self.failed[:5],
        }


def _next_tick(origin: float, after: float, tick: timedelta) -> float:
    period = tick.total_seconds()
    return origin + max(1, math.ceil((after - origin) / period)) * period


def _inspecting() -> Any:
    """Reads the benchmark makes to check or schedule, outside the connector's CPU time."""
    return LEDGER.outside()


class Seller:
    """The OMS side of one client and seller on moto: accounts (one per marketplace), the seller's
    token in Secrets Manager, and the products."""

    def __init__(self, aws: Aws, amazon: Amazon, marketplaces: tuple[str, ...]) -> None:
        self.aws, self.amazon = aws, amazon
        db, table = aws.dynamodb, aws.table
        self.accounts = DynamoAccountRepository(db, table)
        self.products = DynamoProductRepository(db, table)
        self.secrets = SecretsManagerSellerSecrets(aws.secretsmanager, aws.settings.secret_prefix)
        self.rejections = DynamoAuthorisationRejections(db, table, self.accounts)
        with _inspecting():
            self.secrets.put(CLIENT, SELLER, SellerToken(_refresh_token(), "sp_api_refresh_token"))
            created: list[Account] = []
            for code in marketplaces:
                made = account(
                    f"bench-{code.lower()}",
                    code,
                    client_id=CLIENT,
                    merchant_id=SELLER,
                    at=amazon.clock.wall(),
                    default_courier_service="Royal Mail 48",
                )
                self.accounts.create(made)
                created.append(made)
        self.account = created[0]

    def amazon_for(self, marketplace: Marketplace, merchant_id: str, refresh_token: str) -> SellerAmazon:
        return SellerAmazon(self.amazon.client(marketplace))

    def load_products(self, quantities: dict[str, int], now: datetime, created: datetime | None = None) -> None:
        """Products written as the OMS writes them (the whole item), stamped as changed `now`."""
        with _inspecting():
            requests = [
                {
                    "PutRequest": {
                        "Item": to_wire(
                            product_to_item(
                                CatalogueProduct(CLIENT, sku, None, quantity, (), frozenset(), created or now, now)
                            )
                        )
                    }
                }
                for sku, quantity in quantities.items()
            ]
            batch_write(self.aws.dynamodb, self.aws.table, requests, "bench: load products")


def _refresh_token() -> str:
    from bench.harness import REFRESH_TOKEN

    return REFRESH_TOKEN


# ------------------------------------------------------------------------------------------ stock sync


def _handle_stock(worker: StockSyncWorker, job: Job, time_left: Callable[[], float]) -> None:
    worker.handle(job)  # the stock-sync worker takes no time-left: Lambda's timeout cuts it


class StockSide:
    def __init__(self, aws: Aws, amazon: Amazon, marketplaces: tuple[str, ...]) -> None:
        self.aws, self.amazon, self.marketplaces = aws, amazon, marketplaces
        self.seller = Seller(aws, amazon, marketplaces)
        self.store = DynamoStockSyncStore(aws.dynamodb, aws.table)
        self.worker = StockSyncWorker(
            accounts=self.seller.accounts,
            store=self.store,
            access=SellerAccess(self.seller.secrets, self.seller.amazon_for, self.seller.rejections),
            products=self.seller.products,
            clock=amazon.clock.wall,
            sleep=amazon.clock.sleep,
        )

    def run(self, lam: Lambda) -> tuple[StockRun | None, dict[str, int]]:
        """One scheduled run until done, as production drives it: the run's message (redelivered when
        cut), a new run at the next tick while Amazon still prepares the first listings report, and a
        reconcile job at the first tick the pending feeds are due."""
        clock, account = self.amazon.clock, self.seller.account
        origin = clock.now
        deliveries: dict[str, int] = {}

        def queue_run() -> tuple[StockRun, Job]:
            now = clock.wall()
            queued = StockRun(new_run_id(now), CLIENT, account.id, "queued", "schedule", now)
            self.store.save_run(queued)  # what the tick's claim writes
            return queued, Job(job="stock_sync", client_id=CLIENT, account_id=account.id, run_id=queued.run_id)

        run, job = queue_run()
        for _ in range(MAX_DELIVERIES):
            try:
                lam.deliver(partial(_handle_stock, self.worker, job))
            except DeadLettered:
                deliveries["dead_lettered"] = deliveries.get("dead_lettered", 0) + 1
                return None, deliveries
            with _inspecting():
                current = self.store.get_run(CLIENT, account.id, run.run_id)
            if current is not None and current.status == "done":
                return current, deliveries
            if current is not None and (current.reason or "").startswith("listings_report_pending"):
                deliveries["runs_waiting_for_report"] = deliveries.get("runs_waiting_for_report", 0) + 1
                clock.advance(_next_tick(origin, clock.now, STOCK_TICK) - clock.now)
                run, job = queue_run()
                continue
            if current is None or current.status != "submitted":
                deliveries["ended"] = deliveries.get("ended", 0) + 1
                return current, deliveries
            # The tick finds the seller's pending feeds due (a Query of GSI1) and queues a reconcile job.
            while True:
                clock.advance(_next_tick(origin, clock.now, STOCK_TICK) - clock.now)
                with _inspecting():
                    due = any(True for _ in self.store.feeds_to_reconcile(clock.wall()))
                if due:
                    break
            deliveries["reconcile_jobs"] = deliveries.get("reconcile_jobs", 0) + 1
            job = Job(job="reconcile", client_id=CLIENT, account_id=account.id)
        return None, deliveries

    def wrong_quantities(self, quantities: dict[str, int]) -> int:
        with _inspecting():
            wrong = 0
            for code in self.marketplaces:
                held = amazon_quantities(self.amazon, code)
                wrong += sum(1 for sku, q in quantities.items() if held.get(sku) != max(0, q))
            return wrong


def _measured_stock_run(
    side: StockSide, quantities: dict[str, int], changed: int, options: Options
) -> tuple[dict[str, Any], Measured]:
    lam = Lambda.of(side.amazon, "StockSyncWorkerFunction", "StockSyncQueue")
    side.aws.capacity.reset()
    final: list[tuple[StockRun | None, dict[str, int]]] = []
    lam.start()
    measured = side.amazon.measure(lambda: final.append(side.run(lam)), fill=options.fill)
    lam.finish()
    run, deliveries = final[0]
    wrong = side.wrong_quantities(quantities)
    sent = run.skus_sent if run is not None else 0
    correct = run is not None and run.status == "done" and wrong == 0 and sent == changed
    capacity = side.aws.capacity.to_json()
    result = {
        "correct": correct,
        **lam.to_json(),
        "dynamodb": capacity,
        "wcu_per_changed_sku": round(capacity["wcu"] / changed, 2) if changed else None,
        "deliveries": deliveries,
        "run_status": run.status if run is not None else "lost",
        "skus_sent": sent,
        "wrong_quantities": wrong,
        "transport": run.transport if run is not None else None,
    }
    return result, measured


def stock_cases(
    skus: int, delta: float, options: Options, marketplaces: tuple[str, ...] = (MARKETPLACE,)
) -> list[dict[str, Any]]:
    """A full sync of `skus` SKUs on a new seller, then, 15 minutes later, a run after `delta` of them
    moved: both measured, on one stack."""
    started = time.perf_counter()
    quantities = catalogue(skus)
    aws = Aws()
    amazon = Amazon(marketplaces, time_budget=PRODUCTION_TIME_BUDGET, outside=LEDGER.wrap)
    results = []
    try:
        with _inspecting():
            for code in marketplaces:
                seed_listings(amazon, list(quantities), code)
            amazon.control(
                "POST",
                "/_sim/config",
                {
                    "report_processing_seconds": options.processing_seconds,
                    "feed_processing_seconds": options.processing_seconds,
                },
            )
        side = StockSide(aws, amazon, marketplaces)
        # The OMS held its catalogue before the connector's first run: stamped an hour earlier, not a second,
        # which would put every product inside the next run's overlap with this one (a read of them all).
        side.seller.load_products(quantities, amazon.clock.wall() - CATALOGUE_AGE)
        amazon.clock.advance(1)
        full, full_measured = _measured_stock_run(side, quantities, skus, options)
        results.append((full, full_measured, skus, True))
        if delta:
            amazon.clock.advance(max(0.0, SCHEDULE_INTERVAL.total_seconds() - full_measured.seconds))
            moved, changed = changed_catalogue(quantities, delta)
            side.seller.load_products(
                {sku: q for sku, q in moved.items() if q != quantities[sku]}, amazon.clock.wall(), created=None
            )
            amazon.clock.advance(1)
            partial, partial_measured = _measured_stock_run(side, moved, changed, options)
            results.append((partial, partial_measured, changed, False))
    finally:
        amazon.close()
        aws.close()
    out = []
    for result, measured, changed, first in results:
        bound = stock_sync_bound(
            changed,
            needs_listing_report=first,
            processing=options.processing_seconds,
            fill=options.fill,
            marketplaces=len(marketplaces),
        )
        label = "full" if first else f"{delta:.0%} delta"
        where = "" if len(marketplaces) == 1 else f" on {len(marketplaces)} EU marketplaces"
        out.append(
            {
                "case": f"stock sync {skus:,} SKUs{where}, {label}",
                "skus": skus,
                "changed": changed,
                "marketplaces": len(marketplaces),
                "processing_seconds": options.processing_seconds,
                "bucket_fill": options.fill,
                "connector": measured.to_json(),
                "lower_bound": bound.to_json(),
                "tick_seconds": STOCK_TICK.total_seconds(),
                **result,
                "bench_seconds": round(time.perf_counter() - started, 1),
            }
        )
    return out


# ---------------------------------------------------------------------------------------- order import


class CountingEvents:
    """EventBridge as the relay reaches it, counting the events each order gets."""

    def __init__(self, publisher: EventBridgePublisher) -> None:
        self.publisher = publisher
        self.by_order: dict[str, int] = {}

    def publish(self, events: list[dict[str, Any]]) -> None:
        self.publisher.publish(events)
        for event in events:
            order_id = str((event.get("detail") or {}).get("amazon_order_id", ""))
            self.by_order[order_id] = self.by_order.get(order_id, 0) + 1


class OrderSide:
    def __init__(self, aws: Aws, amazon: Amazon, marketplaces: tuple[str, ...], api_version: str) -> None:
        self.aws, self.amazon = aws, amazon
        self.seller = Seller(aws, amazon, marketplaces)
        db, table, config = aws.dynamodb, aws.table, aws.settings
        self.orders = DynamoOrderRepository(db, table, KmsPiiVault(aws.kms, config.pii_key_id))
        self.events = CountingEvents(EventBridgePublisher(aws.events, config.event_bus_name))
        relay = OutboxRelay(self.orders, self.events)
        mappings = DynamoCourierMappingRepository(db, table)
        aliases = DynamoSkuAliasRepository(db, table)
        now = amazon.clock.wall()
        with _inspecting():
            for rule in MAPPINGS:
                mappings.create(
                    CourierServiceMapping(
                        rule.mapping_id, CLIENT, rule.amazon_term, rule.courier_service, None, now, now
                    )
                )
        self.seller.load_products(dict.fromkeys(ORDER_SKUS, 10), now)
        products = self.seller.products
        self.worker = OrderImportWorker(
            accounts=self.seller.accounts,
            state=DynamoImportState(db, table),
            orders=self.orders,
            writer=OrderWriter(
                self.orders,
                DynamoUnmappedTermRepository(db, table),
                pii_retention=timedelta(days=config.pii_retention_days),
            ),
            relay=relay,
            access=SellerAccess(self.seller.secrets, self.seller.amazon_for, self.seller.rejections),
            rules=RuleSources(
                skus=products.skus_matching,
                mappings=lambda client_id: [m.as_rule() for m in mappings.all_of_client(client_id)],
                aliases=aliases.all_of_client,
            ),
            clock=amazon.clock.wall,
            api_version=api_version,
            changes=DynamoMappingChanges(db, table),
        )

    def run(self, lam: Lambda) -> tuple[bool, dict[str, int]]:
        """The scheduled import until the backlog is read: a job, and another at each tick while the last
        one stopped for time (it continues from the checkpoint)."""
        clock = self.amazon.clock
        origin = clock.now
        account = self.seller.account
        job = ImportJob(
            job="order_import", client_id=CLIENT, merchant_id=SELLER, region=account.region, trigger="schedule"
        )
        totals: dict[str, int] = {}
        for _ in range(MAX_DELIVERIES):
            try:
                stats = lam.deliver(lambda time_left: self.worker.handle(job, time_left=time_left))
            except DeadLettered:
                totals["dead_lettered"] = totals.get("dead_lettered", 0) + 1
                return False, totals
            for name, n in stats.items():
                totals[name] = totals.get(name, 0) + n
            if not stats.get("continues"):
                return True, totals
            clock.advance(_next_tick(origin, clock.now, ORDER_TICK) - clock.now)
        return False, totals

    def check(self, expected: list[dict[str, Any]]) -> dict[str, int]:
        """Every order stored once, with its lines, an address, and one event; nothing left in the outbox."""
        with _inspecting():
            wrong = missing = 0
            by_id = {o["AmazonOrderId"]: o for o in expected}
            ids = list(by_id)
            for start in range(0, len(ids), 100):
                stored = self.orders.get_many(CLIENT, ids[start : start + 100])
                for order_id in ids[start : start + 100]:
                    order = stored.get(order_id)
                    if order is None:
                        missing += 1
                        continue
                    lines = sorted((line.seller_sku, line.quantity) for line in order.lines)
                    want = sorted((i["SellerSKU"], i["QuantityOrdered"]) for i in by_id[order_id]["OrderItems"])
                    if lines != want or not order.address_available:
                        wrong += 1
            events = self.events.by_order
            return {
                "missing": missing,
                "wrong": wrong,
                "events_missing": sum(1 for i in ids if events.get(i, 0) == 0),
                "events_repeated": sum(1 for i in ids if events.get(i, 0) > 1),
                "outbox_left": len(self.orders.pending_events(limit=100)),
            }


def order_cases(
    count: int, api_version: str, options: Options, marketplaces: tuple[str, ...] = (MARKETPLACE,)
) -> dict[str, Any]:
    """A backlog of `count` orders (the first import's day) imported by the scheduled jobs."""
    started = time.perf_counter()
    aws = Aws()
    amazon = Amazon(marketplaces, time_budget=PRODUCTION_TIME_BUDGET, outside=LEDGER.wrap)
    try:
        newest = amazon.clock.wall() - timedelta(seconds=1)
        from oms_amazon.services.order_import.worker import FIRST_IMPORT_WINDOW

        orders = amazon_orders(count, newest, FIRST_IMPORT_WINDOW - timedelta(minutes=10), seed=11)
        if len(marketplaces) > 1:
            for n, order in enumerate(orders):
                market = marketplace_by_code(marketplaces[n % len(marketplaces)])
                order["MarketplaceId"] = market.marketplace_id
                order["ShippingAddress"] = {**order["ShippingAddress"], "CountryCode": market.country_code}
                for item in order["OrderItems"]:
                    item["ItemPrice"] = {**item["ItemPrice"], "CurrencyCode": market.currency}
        with _inspecting():
            for start in range(0, len(orders), ORDERS_CHUNK):
                chunk = orders[start : start + ORDERS_CHUNK]
                amazon.control("POST", f"/_sim/sellers/{SELLER}/orders", {"orders": chunk})
        side = OrderSide(aws, amazon, marketplaces, api_version)
        lam = Lambda.of(amazon, "OrderImportWorkerFunction", "OrderImportQueue")
        aws.capacity.reset()
        outcome: list[tuple[bool, dict[str, int]]] = []
        lam.start()
        measured = amazon.measure(lambda: outcome.append(side.run(lam)), fill=options.fill)
        lam.finish()
        finished, totals = outcome[0]
        check = side.check(orders)
    finally:
        amazon.close()
        aws.close()
    correct = finished and not any(check.values()) and totals.get("new") == count
    where = "" if len(marketplaces) == 1 else f" on {len(marketplaces)} EU marketplaces"
    searches = measured.by_operation.get("searchOrders", 0) + measured.by_operation.get("getOrders", 0)
    return {
        "case": f"order import {count:,} orders{where}, {api_version}",
        "orders": count,
        "api_version": api_version,
        "marketplaces": len(marketplaces),
        "bucket_fill": options.fill,
        "connector": measured.to_json(),
        "lower_bound": _order_bound(count, api_version, options).to_json(),
        "tick_seconds": ORDER_TICK.total_seconds(),
        "correct": correct,
        **lam.to_json(),
        "dynamodb": aws.capacity.to_json(),
        "imported": totals,
        "checked": check,
        "searches": searches,
        "bench_seconds": round(time.perf_counter() - started, 1),
    }


def _order_bound(count: int, api_version: str, options: Options) -> Bound:
    return order_import_bound(count, api_version, fill=options.fill)


def five_marketplace_cases(skus: int, orders: int, options: Options) -> Iterator[tuple[str, Any]]:
    yield "five_marketplaces_stock", stock_cases(skus, 0.0, options, EU_FIVE)
    for version in ("v0", "2026-01-01"):
        yield "five_marketplaces_orders", order_cases(orders, version, options, EU_FIVE)
