"""The benchmark cases: the real workers, the naive connector and the lower bound, each on a fresh
simulated Amazon with one seller and Amazon's default usage plans enforced.

Every measured job starts from full token buckets (a quiet seller), on Amazon's side and in the
client's model of them. Each result is checked (Amazon holds the OMS quantities; every order was
stored) so a fast wrong answer cannot pass as a fast one.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from oms_amazon.adapters.amazon import SellerAmazon
from oms_amazon.domain.accounts import Account
from oms_amazon.domain.jobs import ImportJob, Job
from oms_amazon.domain.marketplaces import Marketplace, marketplace_by_code
from oms_amazon.domain.stock_sync import StockRun
from oms_amazon.services.order_import.ports import RuleSources
from oms_amazon.services.order_import.worker import FIRST_IMPORT_WINDOW, OVERLAP, OrderImportWorker
from oms_amazon.services.order_import.writer import OrderWriter, OutboxRelay
from oms_amazon.services.seller_access import SellerAccess
from oms_amazon.services.stock_sync.scheduler import new_run_id
from oms_amazon.services.stock_sync.worker import StockSyncWorker
from oms_amazon.shipping import CourierMapping
from oms_amazon.sku import skus_matching

from bench import naive
from bench.harness import REFRESH_TOKEN, SELLER, Amazon, Measured, VirtualClock
from bench.lower_bound import Bound, order_import_bound, stock_sync_bound
from bench.lower_bound import bound as bound_of
from fakes import (
    CountingPublisher,
    FakeAccounts,
    FakeImportState,
    FakeOrders,
    FakeProducts,
    FakeSecrets,
    FakeStockStore,
    FakeUnmappedTerms,
    NoRejections,
)
from fakes import account as stored_account

CLIENT = "bench-client"
MARKETPLACE = "UK"
UK = marketplace_by_code(MARKETPLACE)
MARKETPLACE_ID = UK.marketplace_id
SCHEDULE_INTERVAL = timedelta(minutes=15)  # the shortest stock-sync interval (SPEC §5.1)
LISTINGS_CHUNK = 20_000  # listings per control-API request when seeding Amazon
ORDERS_CHUNK = 500
ORDER_IMPORT_INTERVAL = timedelta(minutes=5)  # template.yaml's default OrderImportRateMinutes


@dataclass(frozen=True, slots=True)
class Result:
    connector: Measured
    naive: Measured
    lower_bound: Bound

    def to_json(self) -> dict[str, Any]:
        return {
            "connector": self.connector.to_json(),
            "naive": self.naive.to_json(),
            "lower_bound": self.lower_bound.to_json(),
        }


# ------------------------------------------------------------------------------------------ stock sync


def sku(n: int) -> str:
    return f"BENCH-{n:06d}"


def catalogue(skus: int, seed: int = 12) -> dict[str, int]:
    rng = random.Random(seed)
    return {sku(n): rng.randint(0, 60) for n in range(skus)}


def changed_catalogue(quantities: dict[str, int], fraction: float) -> tuple[dict[str, int], int]:
    """Every (1/fraction)-th SKU's quantity moved by one; how many moved."""
    step = max(1, round(1 / fraction))
    moved = dict(quantities)
    changed = 0
    for n, name in enumerate(quantities):
        if n % step == 0:
            moved[name] += 1
            changed += 1
    return moved, changed


def seed_listings(amazon: Amazon, skus: list[str], marketplace: str = MARKETPLACE) -> None:
    for start in range(0, len(skus), LISTINGS_CHUNK):
        items = [{"sku": s, "product_type": "PRODUCT", "quantity": 0} for s in skus[start : start + LISTINGS_CHUNK]]
        amazon.control(
            "PUT",
            f"/_sim/sellers/{SELLER}/listings",
            {"marketplace": marketplace, "items": items, "replace": start == 0},
        )


def amazon_quantities(amazon: Amazon, marketplace: str = MARKETPLACE) -> dict[str, int]:
    items = amazon.control("GET", f"/_sim/sellers/{SELLER}/listings?marketplace={marketplace}")["items"]
    return {item["sku"]: item["quantity"] for item in items}


def check_pushed(amazon: Amazon, quantities: dict[str, int], who: str, marketplace: str = MARKETPLACE) -> None:
    held = amazon_quantities(amazon, marketplace)
    wrong = [s for s, q in quantities.items() if held.get(s) != max(0, q)]
    if wrong:
        raise AssertionError(
            f"{who}: Amazon {marketplace} holds other quantities for {len(wrong)} SKUs, e.g. {wrong[:3]}"
        )


def seller_accounts(amazon: Amazon, marketplaces: tuple[str, ...]) -> tuple[FakeAccounts, Account]:
    """The seller's accounts, one per marketplace, all active, with the first marketplace's (the one that runs)."""
    accounts = FakeAccounts()
    now = amazon.clock.wall()
    for code in (*marketplaces[1:], marketplaces[0]):
        main = accounts.add(
            stored_account(
                f"bench-{code.lower()}",
                code,
                client_id=CLIENT,
                merchant_id=SELLER,
                at=now,
                default_courier_service="Royal Mail 48",
            )
        )
    return accounts, main


def reconcile_due(store: FakeStockStore, clock: VirtualClock) -> float:
    """When the tick would enqueue a reconcile job, on the benchmark's clock (seconds since its start);
    now when none waits."""
    if store.reconcile_after is None:
        return clock.now
    return clock.now + (store.reconcile_after - clock.wall()).total_seconds()


class ConnectorStockSync:
    """The real `StockSyncWorker` (planner, listing snapshot, feed/patch choice, processing report) over
    the real `SellerAmazon` and SP-API client, with in-memory stores; one account per marketplace of
    the seller (the first one runs, the others are merged into its push, §5.5)."""

    def __init__(
        self, amazon: Amazon, poll_seconds: float | None = None, marketplaces: tuple[str, ...] = (MARKETPLACE,)
    ) -> None:
        self.amazon = amazon
        self.catalogue = FakeProducts()
        self._quantities: dict[str, int] = {}
        tuning: dict[str, Any] = {} if poll_seconds is None else {"poll_seconds": poll_seconds}
        self.accounts, self.account = seller_accounts(amazon, marketplaces)
        self.store = FakeStockStore()
        self.worker = StockSyncWorker(
            accounts=self.accounts,
            store=self.store,
            access=SellerAccess(FakeSecrets.holding(CLIENT, SELLER, REFRESH_TOKEN), self._seller, NoRejections()),
            products=self.catalogue,
            clock=amazon.clock.wall,
            sleep=amazon.clock.sleep,
            **tuning,
        )

    @property
    def quantities(self) -> dict[str, int]:
        return self._quantities

    @quantities.setter
    def quantities(self, quantities: dict[str, int]) -> None:
        """The OMS catalogue becomes `quantities`: the products that moved are stamped as changed now."""
        self._quantities = quantities
        self.catalogue.load(CLIENT, quantities, self.amazon.clock.wall())

    def _seller(self, marketplace: Marketplace, merchant_id: str, refresh_token: str) -> SellerAmazon:
        return SellerAmazon(self.amazon.client(marketplace))

    def run(self) -> StockRun:
        now = self.amazon.clock.wall()
        run = StockRun(new_run_id(now), CLIENT, self.account.id, "queued", "manual", now)
        self.store.save_run(run)
        self.worker.handle(Job(job="stock_sync", client_id=CLIENT, account_id=self.account.id, run_id=run.run_id))
        final = self.store.get_run(CLIENT, self.account.id, run.run_id)
        if final is None or final.status != "done":
            raise AssertionError(f"the connector's stock sync did not finish: {final}")
        return final


def stock_case(skus: int, delta: float | None) -> dict[str, Any]:
    """A full sync of `skus` SKUs (delta None), or a run after a full one in which `delta` of them moved."""
    quantities = catalogue(skus)
    names = list(quantities)
    changed = skus

    amazon = Amazon()
    try:
        seed_listings(amazon, names)
        connector = ConnectorStockSync(amazon)
        connector.quantities = quantities
        if delta is not None:
            connector.run()  # the earlier full run: the snapshot and what was sent are in place
            amazon.clock.advance(SCHEDULE_INTERVAL.total_seconds())
            connector.quantities, changed = changed_catalogue(quantities, delta)
        final: list[StockRun] = []
        measured = amazon.measure(lambda: final.append(connector.run()))
        if final[0].skus_sent != changed:
            raise AssertionError(f"the connector sent {final[0].skus_sent} SKUs, {changed} changed")
        check_pushed(amazon, connector.quantities, "connector")
        transport = final[0].transport
    finally:
        amazon.close()

    naive_measured = naive_stock(skus, delta)
    return {
        "case": f"stock sync {skus:,} SKUs, " + ("full" if delta is None else f"{delta:.0%} delta"),
        "skus": skus,
        "changed": changed,
        "transport": transport,
        **Result(measured, naive_measured, stock_sync_bound(changed, needs_listing_report=delta is None)).to_json(),
    }


def naive_stock(skus: int, delta: float | None, marketplaces: tuple[str, ...] = (MARKETPLACE,)) -> Measured:
    """The naive connector's full sync of `skus` SKUs (delta None), or its run after a full one in which
    `delta` of them moved: one patchListingsItem per SKU it has not sent, in each marketplace."""
    quantities = catalogue(skus)
    names = list(quantities)
    changed = skus
    amazon = Amazon(marketplaces)
    try:
        for code in marketplaces:
            seed_listings(amazon, names, code)
        pushed: dict[str, dict[str, int]] = {code: {} for code in marketplaces}
        target = quantities
        if delta is not None:
            # After its earlier full run (not measured) the naive connector remembers what it sent and
            # Amazon holds it.
            target, changed = changed_catalogue(quantities, delta)
            for code in marketplaces:
                pushed[code] = dict(quantities)
                amazon.control(
                    "PUT",
                    f"/_sim/sellers/{SELLER}/listings",
                    {
                        "marketplace": code,
                        "items": [
                            {"sku": s, "product_type": "PRODUCT", "quantity": max(0, q)} for s, q in quantities.items()
                        ],
                    },
                )
        sent: list[int] = []

        def push() -> None:
            for code in marketplaces:
                market = marketplace_by_code(code)
                sent.append(naive.push_stock(amazon.client(market), market.marketplace_id, target, pushed[code]))

        measured = amazon.measure(push)
        if sum(sent) != changed * len(marketplaces):
            raise AssertionError(f"the naive connector sent {sum(sent)} SKUs, {changed} changed in each marketplace")
        for code in marketplaces:
            check_pushed(amazon, target, "naive", code)
    finally:
        amazon.close()
    return measured


# The production path when Amazon takes its time: a run that finds the first listings report still in
# preparation ends `listings_report_pending`, and the next tick's run polls the same report; a run left
# `submitted` is finished by a reconcile job, enqueued by the first stock-sync tick at or after the
# state's `reconcile_after` (template.yaml).
TICK = SCHEDULE_INTERVAL


def _next_tick(origin: float, at_or_after: float) -> float:
    period = TICK.total_seconds()
    return origin + max(0, math.ceil((at_or_after - origin) / period)) * period


def drive(connector: ConnectorStockSync, deliveries: dict[str, int]) -> StockRun:
    """One run as production drives it, until done: redeliveries and reconcile jobs included."""
    clock = connector.amazon.clock
    origin = clock.now  # the tick that queued the run

    def queue_run() -> tuple[StockRun, Job]:
        now = clock.wall()
        run = StockRun(new_run_id(now), CLIENT, connector.account.id, "queued", "schedule", now)
        connector.store.save_run(run)
        return run, Job(job="stock_sync", client_id=CLIENT, account_id=connector.account.id, run_id=run.run_id)

    run, job = queue_run()
    for _ in range(20):
        connector.worker.handle(job)
        current = connector.store.get_run(CLIENT, connector.account.id, run.run_id)
        if current is not None and current.status == "done":
            return current
        if (
            current is not None
            and current.status == "failed"
            and (current.reason or "").startswith("listings_report_pending")
        ):
            deliveries["runs_waiting_for_report"] = deliveries.get("runs_waiting_for_report", 0) + 1
            clock.advance(_next_tick(origin, clock.now + 1) - clock.now)
            run, job = queue_run()
            continue
        if current is None or current.status != "submitted":
            raise AssertionError(f"the run ended {current}")
        due = reconcile_due(connector.store, clock)
        clock.advance(_next_tick(origin, due) - clock.now)
        deliveries["reconcile_jobs"] = deliveries.get("reconcile_jobs", 0) + 1
        job = Job(job="reconcile", client_id=CLIENT, account_id=connector.account.id)
    raise AssertionError("the run did not finish within 20 deliveries")


def processing_case(
    skus: int, delta: float | None, processing_seconds: float, poll_seconds: float | None = None
) -> dict[str, Any]:
    """The connector alone (the naive connector's patches have no processing time) when Amazon takes
    `processing_seconds` to prepare the listings report and to process each feed; `poll_seconds`
    overrides the worker's in-invocation wait (a what-if: its constructor parameter, not a code change)."""
    quantities = catalogue(skus)
    changed = skus
    amazon = Amazon()
    try:
        seed_listings(amazon, list(quantities))
        connector = ConnectorStockSync(amazon, poll_seconds)
        connector.quantities = quantities
        if delta is not None:
            connector.run()
            amazon.clock.advance(SCHEDULE_INTERVAL.total_seconds())
            connector.quantities, changed = changed_catalogue(quantities, delta)
        amazon.control(
            "POST",
            "/_sim/config",
            {"report_processing_seconds": processing_seconds, "feed_processing_seconds": processing_seconds},
        )
        deliveries: dict[str, int] = {}
        final: list[StockRun] = []
        measured = amazon.measure(lambda: final.append(drive(connector, deliveries)))
        if final[0].skus_sent != changed:
            raise AssertionError(f"the connector sent {final[0].skus_sent} SKUs, {changed} changed")
        check_pushed(amazon, connector.quantities, "connector")
    finally:
        amazon.close()
    quota = stock_sync_bound(changed, needs_listing_report=delta is None)
    waits = (2 if delta is None else 1) * processing_seconds  # the report, then the feed(s) built from it
    bound = Bound(quota.calls, max(quota.seconds, waits), quota.plan)
    return {
        "case": f"stock sync {skus:,} SKUs, "
        + ("full" if delta is None else f"{delta:.0%} delta")
        + f", Amazon {processing_seconds:g} s per report/feed"
        + ("" if poll_seconds is None else f", what-if poll_seconds={poll_seconds:g}"),
        "skus": skus,
        "changed": changed,
        "processing_seconds": processing_seconds,
        "poll_seconds": poll_seconds,
        "deliveries": deliveries,
        "connector": measured.to_json(),
        "naive": None,
        "lower_bound": bound.to_json(),
    }


# ---------------------------------------------------------------------------------------- order import

LEVELS = [
    ("Std UK Dom_1", "Standard", False),
    ("Std UK Dom_2", "Standard", True),
    ("Exp UK Dom_1", "Expedited", False),
    ("NextDay", "NextDay", True),
]
ORDER_SKUS = [f"ORDER-SKU-{n:03d}" for n in range(50)]
MAPPINGS = [
    CourierMapping("m1", "STD UK DOM", "Royal Mail 48"),
    CourierMapping("m2", "STD UK DOM-PRIME", "Royal Mail 24"),
    CourierMapping("m3", "EXP UK DOM", "DPD Next Day"),
    CourierMapping("m4", "UK NEXT-PRIME", "DPD Next Day"),
]


def amazon_orders(
    count: int, newest: datetime, span: timedelta, *, first: int = 0, seed: int = 7
) -> list[dict[str, Any]]:
    """`count` merchant-fulfilled orders in the v0 shape, last updated from `newest` back over `span`,
    numbered from `first`."""
    rng = random.Random(seed)
    orders = []
    for k in range(count):
        n = first + k
        moment = (newest - span * (k / max(1, count))).strftime("%Y-%m-%dT%H:%M:%SZ")
        level, category, prime = LEVELS[n % len(LEVELS)]
        items = [
            {
                "OrderItemId": f"{n:09d}{line:05d}",
                "SellerSKU": rng.choice(ORDER_SKUS),
                "QuantityOrdered": rng.randint(1, 3),
                "ItemPrice": {"CurrencyCode": "GBP", "Amount": f"{rng.randint(500, 5000) / 100:.2f}"},
            }
            for line in range(1 + n % 2)
        ]
        orders.append(
            {
                "AmazonOrderId": f"203-{n // 10_000_000:07d}-{n % 10_000_000:07d}",
                "PurchaseDate": moment,
                "LastUpdateDate": moment,
                "MarketplaceId": MARKETPLACE_ID,
                "FulfillmentChannel": "MFN",
                "ShipServiceLevel": level,
                "ShipmentServiceLevelCategory": category,
                "IsPrime": prime,
                "OrderStatus": "Unshipped",
                # A label-ready address and a buyer, as Amazon holds them: the import must earn them
                # (RDTs on v0, the role on 2026-01-01) like any other call.
                "ShippingAddress": {
                    "Name": f"Bench Buyer {n}",
                    "AddressLine1": f"{n % 200 + 1} Station Road",
                    "City": "Leeds",
                    "PostalCode": "LS1 4DY",
                    "CountryCode": "GB",
                    "Phone": "+44 113 496 0000",
                },
                "BuyerInfo": {"BuyerName": f"Bench Buyer {n}", "BuyerEmail": f"b{n}@marketplace.amazon.test"},
                "OrderItems": items,
            }
        )
    return orders


def seed_orders(amazon: Amazon, count: int, *, span: timedelta | None = None, first: int = 0) -> None:
    """Orders last updated over `span` before now (default: the first import's window)."""
    newest = amazon.clock.wall() - timedelta(seconds=1)
    window = span if span is not None else FIRST_IMPORT_WINDOW - timedelta(minutes=10)
    orders = amazon_orders(count, newest, window, first=first, seed=first + 7)
    for start in range(0, len(orders), ORDERS_CHUNK):
        amazon.control("POST", f"/_sim/sellers/{SELLER}/orders", {"orders": orders[start : start + ORDERS_CHUNK]})


class ConnectorOrderImport:
    """The real `OrderImportWorker` (window, pages, judge, store-once, outbox) over the real
    `SellerAmazon.orders_since`, with in-memory stores."""

    def __init__(self, amazon: Amazon, api_version: str, marketplaces: tuple[str, ...] = (MARKETPLACE,)) -> None:
        self.amazon = amazon
        self.accounts, self.account = seller_accounts(amazon, marketplaces)
        self.orders = FakeOrders()
        self.publisher = CountingPublisher()
        relay = OutboxRelay(self.orders, self.publisher)
        self.worker = OrderImportWorker(
            accounts=self.accounts,
            state=FakeImportState(self.accounts),
            orders=self.orders,
            writer=OrderWriter(self.orders, FakeUnmappedTerms()),
            relay=relay,
            access=SellerAccess(
                FakeSecrets.holding(CLIENT, SELLER, REFRESH_TOKEN),
                lambda marketplace, merchant_id, token: SellerAmazon(amazon.client(marketplace)),
                NoRejections(),
            ),
            rules=RuleSources(
                skus=lambda client_id, wanted: skus_matching(ORDER_SKUS, wanted), mappings=lambda client_id: MAPPINGS
            ),
            clock=amazon.clock.wall,
            api_version=api_version,
        )

    def run(self) -> dict[str, int]:
        return self.worker.handle(
            ImportJob(job="order_import", client_id=CLIENT, merchant_id=SELLER, region=UK.region, trigger="manual")
        )


def order_case(count: int, api_version: str) -> dict[str, Any]:
    amazon = Amazon()
    try:
        seed_orders(amazon, count)
        connector = ConnectorOrderImport(amazon, api_version)
        stats: list[dict[str, int]] = []
        measured = amazon.measure(lambda: stats.append(connector.run()))
        if stats[0].get("new") != count or len(connector.orders.orders) != count:
            raise AssertionError(f"the connector stored {len(connector.orders.orders)} of {count} orders: {stats}")
        if connector.publisher.published != count:
            raise AssertionError(f"the connector published {connector.publisher.published} events for {count} orders")
        unshippable = [o.amazon_order_id for o in connector.orders.orders.values() if not o.address_available]
        if unshippable:
            raise AssertionError(f"{len(unshippable)} of {count} orders were stored without an address to ship to")
    finally:
        amazon.close()

    naive_measured = naive_orders(count, api_version)
    return {
        "case": f"order import {count:,} orders, {api_version}",
        "orders": count,
        "api_version": api_version,
        **Result(measured, naive_measured, order_import_bound(count, api_version)).to_json(),
    }


def naive_orders(count: int, api_version: str) -> Measured:
    """The naive import of `count` orders: the pages, then one call per order."""
    amazon = Amazon()
    try:
        seed_orders(amazon, count)
        client = amazon.client(UK)
        since = amazon.clock.wall() - FIRST_IMPORT_WINDOW - OVERLAP
        importer = naive.import_orders_v0 if api_version == "v0" else naive.import_orders_2026
        found: list[int] = []
        measured = amazon.measure(lambda: found.append(len(importer(client, MARKETPLACE_ID, since))))
        if found[0] != count:
            raise AssertionError(f"the naive connector read {found[0]} of {count} orders")
    finally:
        amazon.close()
    return measured


def order_next_run_case(per_run: int, api_version: str) -> dict[str, Any]:
    """A busy seller in steady state: `per_run` orders arrive in every import interval; the measured
    run is the one after a first import, with the connector's 5-minute overlap re-reading the last
    interval's orders (informational: no target covers it)."""
    amazon = Amazon()
    try:
        connector = ConnectorOrderImport(amazon, api_version)
        seed_orders(amazon, per_run, span=ORDER_IMPORT_INTERVAL)
        connector.run()
        amazon.clock.advance(ORDER_IMPORT_INTERVAL.total_seconds())
        seed_orders(amazon, per_run, span=ORDER_IMPORT_INTERVAL, first=per_run)
        stats: list[dict[str, int]] = []
        measured = amazon.measure(lambda: stats.append(connector.run()))
        if stats[0].get("new") != per_run or len(connector.orders.orders) != 2 * per_run:
            raise AssertionError(f"the connector's second run stored {stats}")
    finally:
        amazon.close()
    return {
        "case": f"order import, next run: {per_run} new orders per {ORDER_IMPORT_INTERVAL.seconds // 60} min, "
        f"{api_version}",
        "orders": per_run,
        "api_version": api_version,
        "reread": stats[0].get("unchanged", 0),
        "connector": measured.to_json(),
        "naive": None,
        # The run five minutes after the last one still holds that run's Restricted Data Token.
        "lower_bound": order_import_bound(per_run, api_version, fresh_token=False).to_json(),
    }


# ---------------------------------------------------------------------------------- five EU marketplaces

EU_FIVE = ("UK", "DE", "FR", "IT", "ES")


def five_marketplace_stock_case(skus: int) -> dict[str, Any]:
    """One seller on five EU marketplaces, every SKU listed in all five: §5.5's merged figure goes out as
    one feed per marketplace (Amazon takes one marketplace per feed), paced within JSON_LISTINGS_FEED's own
    limit of five submissions per five minutes."""
    quantities = catalogue(skus)
    amazon = Amazon(EU_FIVE)
    try:
        for code in EU_FIVE:
            seed_listings(amazon, list(quantities), code)
        connector = ConnectorStockSync(amazon, marketplaces=EU_FIVE)
        connector.quantities = quantities
        final: list[StockRun] = []
        measured = amazon.measure(lambda: final.append(connector.run()))
        for code in EU_FIVE:
            check_pushed(amazon, quantities, "connector", code)
    finally:
        amazon.close()
    feeds = measured.by_operation.get("createFeed", 0)
    plan = {
        **{op: len(EU_FIVE) for op in ("createReport", "getReport", "getReportDocument")},
        **{op: len(EU_FIVE) for op in ("createFeedDocument", "createFeed", "getFeed", "getFeedDocument")},
        "createFeed:JSON_LISTINGS_FEED": len(EU_FIVE),
    }
    bound = bound_of(plan)
    return {
        "case": f"stock sync {skus:,} SKUs on 5 EU marketplaces, full",
        "skus": skus,
        "marketplaces": len(EU_FIVE),
        "feeds": feeds,
        "correct": feeds == len(EU_FIVE) and final[0].status == "done",
        "connector": measured.to_json(),
        "naive": None,
        "lower_bound": bound.to_json(),
    }


def five_marketplace_order_case(count: int, api_version: str) -> dict[str, Any]:
    """One seller's orders over five EU marketplaces, imported by one job: one search series for all of
    them (searchOrders takes up to 50 marketplaces), split into the five accounts."""
    amazon = Amazon(EU_FIVE)
    try:
        newest = amazon.clock.wall() - timedelta(seconds=1)
        orders = amazon_orders(count, newest, FIRST_IMPORT_WINDOW - timedelta(minutes=10), seed=11)
        for n, order in enumerate(orders):
            market = marketplace_by_code(EU_FIVE[n % len(EU_FIVE)])
            order["MarketplaceId"] = market.marketplace_id
            order["ShippingAddress"] = {**order["ShippingAddress"], "CountryCode": market.country_code}
            for item in order["OrderItems"]:
                item["ItemPrice"] = {**item["ItemPrice"], "CurrencyCode": market.currency}
        for start in range(0, len(orders), ORDERS_CHUNK):
            amazon.control("POST", f"/_sim/sellers/{SELLER}/orders", {"orders": orders[start : start + ORDERS_CHUNK]})
        connector = ConnectorOrderImport(amazon, api_version, marketplaces=EU_FIVE)
        stats: list[dict[str, int]] = []
        measured = amazon.measure(lambda: stats.append(connector.run()))
        per_account: dict[str, int] = {}
        for stored in connector.orders.orders.values():
            per_account[stored.account_id] = per_account.get(stored.account_id, 0) + 1
    finally:
        amazon.close()
    searches = measured.by_operation.get("searchOrders", 0) + measured.by_operation.get("getOrders", 0)
    return {
        "case": f"order import {count:,} orders on 5 EU marketplaces, {api_version}",
        "orders": count,
        "api_version": api_version,
        "searches_per_tick": searches,
        "orders_per_account": dict(sorted(per_account.items())),
        "correct": stats[0].get("new") == count and len(per_account) == len(EU_FIVE),
        "connector": measured.to_json(),
        "naive": None,
        "lower_bound": order_import_bound(count, api_version).to_json(),
    }
