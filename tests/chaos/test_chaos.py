"""Chaos (SPEC §9 Reliability): Amazon answers close to a third of all calls with 429, 500, 503, a lost
answer or a timeout, and enforces its rate limits, while imports and stock syncs of four accounts (three
sellers, two clients) run over and over and at once: manual runs through the API, ticks fired by
hand, two warm containers per worker. Afterwards every order is stored once with its latest update,
every order event reached the bus once, Amazon holds exactly the quantities SPEC §5 gives, and no
message went to a dead-letter queue.

Time: Amazon's rate limits run `SPEEDUP` times faster than real time (the simulator's scaled clock),
and so do the workers' SP-API clients (`support.AmazonClock`), so slow buckets such as createFeed's
(one token per two minutes) and searchOrders' (one per three) really run dry and refill within the
test. The clients' HTTP timeout stays real (1 s), and a "slow answer" fault comes twice as late, so a
timeout is one the simulator meant, not a busy test machine.
"""

from __future__ import annotations

import json
import os
import random
import threading
import time
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from local.functions import LocalFunctions
from local.stack import LocalStack, install_container
from local.template import schedules
from local.triggers import TriggerRunner
from tests.builders import ship_to
from tests.chaos.support import (
    Amazon,
    EventTap,
    Invocations,
    Listing,
    Rules,
    amazon_on_simulated_time,
    dead_letters,
    expected_quantities,
    outbox_lease_over,
    settle,
)

pytestmark = pytest.mark.e2e

SEED = 20260511
SPEEDUP = 60.0  # Amazon seconds per real second
CLIENT_TIMEOUT = 1.0  # real seconds
ROUNDS = 4
ROUND_GAP = 1.5  # real seconds between rounds: runs of one round overlap the next round's changes
OUTCOMES = ("success", "throttled", "server_error", "transport_error", "gave_up")
UNTOUCHED = 99  # Amazon's quantity before the first sync; still there only where §5 says to leave it

# Tried in order; each draws against its rate, the first hit wins: about 29 % of SP-API calls fail.
FAULTS: list[dict[str, Any]] = [
    {"operation": "*", "status": 429, "rate": 0.10},
    {"operation": "*", "status": 500, "rate": 0.07},
    {"operation": "*", "status": 503, "rate": 0.07},
    # Amazon does the work and the answer is lost (createFeed then must not be sent twice).
    {"operation": "*", "status": 500, "rate": 0.04, "phase": "after"},
    # Slower than the client waits: a timeout (the call is not processed).
    {"operation": "*", "status": 503, "rate": 0.03, "delay_seconds": 2 * CLIENT_TIMEOUT},
    {"operation": "lwaToken", "status": 500, "rate": 0.20},
]


@dataclass(frozen=True)
class Shop:
    """One connected account: a seller in a marketplace, for a client, with its stock settings."""

    client: str
    seller: str
    token: str
    marketplace: str
    marketplace_id: str
    country: str
    currency: str
    rules: Rules = field(default_factory=Rules)
    include_bundles: bool = False

    @property
    def headers(self) -> dict[str, str]:
        return {"X-Client-Id": self.client}


ACME, BLUEBIRD = "acme-outdoor", "bluebird-gifts"
EUROPE = ("A1CHAOSEUROPE01", "Atzr|IwEBI-chaos-europe-seller-token-0001")
FRANCE = ("A2CHAOSFRANCE02", "Atzr|IwEBI-chaos-france-seller-token-0002")
AMERICA = ("A3CHAOSAMERICA3", "Atzr|IwEBI-chaos-america-seller-token-0003")
SHOPS = [
    Shop(ACME, *EUROPE, "UK", "A1F83G8C2ARO7P", "GB", "GBP", include_bundles=True),
    Shop(ACME, *EUROPE, "DE", "A1PA6795UKMFR9", "DE", "EUR", include_bundles=True),
    Shop(
        ACME, *FRANCE, "FR", "A13V1IB3VIYZZH", "FR", "EUR", rules=Rules(buffer=2, zero_at_or_below=1, max_quantity=40)
    ),
    Shop(BLUEBIRD, *AMERICA, "US", "ATVPDKIKX0DER", "US", "USD"),
]

SIMPLE = {
    ACME: [f"TENT-{n:02d}" for n in range(24)],
    BLUEBIRD: [f"MUG-{n:02d}" for n in range(16)],
}
BUNDLES = {
    ACME: {"KIT-A": [{"sku": "TENT-00", "quantity": 1}, {"sku": "TENT-01", "quantity": 2}]},
    BLUEBIRD: {"MUG-SET": [{"sku": "MUG-00", "quantity": 4}]},
}


def amazon_skus(shop: Shop) -> list[str]:
    """The shop's Amazon listing: OMS SKUs (some only in one marketplace), a bundle, a SKU listed in
    another case than the OMS's and one the OMS does not have."""
    if shop.client == BLUEBIRD:
        return [*SIMPLE[BLUEBIRD], "MUG-SET", "MUG-GIFT-WRAP"]
    count = {"UK": 24, "DE": 16, "FR": 20}[shop.marketplace]
    return [*SIMPLE[ACME][:count], "KIT-A", "LAMP-07", "AMZ-ONLY-1"]


class World:
    """The test's own record of what it told the OMS and Amazon, and its seeded randomness."""

    def __init__(self, api: httpx.Client, amazon: Amazon) -> None:
        self.api = api
        self.amazon = amazon
        self.rng = random.Random(SEED)
        self.catalogue: dict[str, dict[str, dict[str, Any]]] = {ACME: {}, BLUEBIRD: {}}
        self.orders: dict[str, dict[str, dict[str, Any]]] = {shop.seller: {} for shop in SHOPS}
        self.accounts: dict[Shop, dict[str, Any]] = {}
        self.order_numbers = iter(range(1, 10_000_000))
        self.manual_runs: Counter[str] = Counter()
        self._lock = threading.Lock()

    # ---- the OMS side
    def set_quantities(self, client: str, quantities: dict[str, int]) -> None:
        items = []
        for sku, quantity in quantities.items():
            self.catalogue[client][sku] = {"sku": sku, "quantity_available": quantity}
            items.append(self.catalogue[client][sku])
        response = self.api.post("/products/batch", json={"products": items}, headers={"X-Client-Id": client})
        assert response.status_code in (200, 201), response.text

    def stock_up(self) -> None:
        for client, skus in SIMPLE.items():
            quantities = {sku: self.rng.randint(0, 60) for sku in skus}
            quantities[skus[3]] = -2  # oversold: Amazon gets 0
            self.set_quantities(client, quantities)
            bundles = [{"sku": sku, "components": parts} for sku, parts in BUNDLES[client].items()]
            for bundle in bundles:
                self.catalogue[client][bundle["sku"]] = bundle
            response = self.api.post("/products/batch", json={"products": bundles}, headers={"X-Client-Id": client})
            assert response.status_code in (200, 201), response.text
        self.set_quantities(ACME, {"lamp-07": 5})  # Amazon lists it as LAMP-07: never sent

    def restock(self, round_no: int) -> None:
        """Even rounds change many SKUs (a feed), odd rounds a few (patches)."""
        for client, skus in SIMPLE.items():
            changed = self.rng.sample(skus, 8 if round_no % 2 == 0 else 2)
            self.set_quantities(client, {sku: self.rng.randint(-1, 60) for sku in changed})

    # ---- Amazon's side
    def order(self, shop: Shop, *, channel: str = "MFN", sku: str | None = None, updated: datetime) -> dict[str, Any]:
        number = next(self.order_numbers)
        moment = updated.strftime("%Y-%m-%dT%H:%M:%SZ")
        order = {
            "AmazonOrderId": f"{100 + SHOPS.index(shop)}-{number // 1000:07d}-{number:07d}",
            "PurchaseDate": moment,
            "LastUpdateDate": moment,
            "MarketplaceId": shop.marketplace_id,
            "FulfillmentChannel": channel,
            "ShipServiceLevel": f"Std {shop.marketplace} Dom_1",
            "ShipmentServiceLevelCategory": "Standard",
            "OrderStatus": "Unshipped",
            "ShippingAddress": ship_to(shop.country),
            "OrderItems": [
                {
                    "OrderItemId": f"{number:014d}",
                    "SellerSKU": sku or self.rng.choice(SIMPLE[shop.client]),
                    "QuantityOrdered": self.rng.randint(1, 3),
                    "ItemPrice": {"CurrencyCode": shop.currency, "Amount": "19.99"},
                }
            ],
        }
        self.orders[shop.seller][order["AmazonOrderId"]] = order
        return order

    def first_orders(self) -> None:
        now = datetime.now(UTC)
        for shop in SHOPS:
            batch = [self.order(shop, updated=now - timedelta(minutes=self.rng.randint(10, 180))) for _ in range(30)]
            self.amazon.put_orders(shop.seller, batch)

    def trade(self) -> None:
        """New orders (an Amazon-fulfilled one, one with a SKU the OMS lacks), cancellations and
        updates, each last updated up to 90 s ago, as Amazon's order search lags."""
        now = datetime.now(UTC)

        def recently(after: str | None = None) -> datetime:
            moment = now - timedelta(seconds=self.rng.randint(0, 90))
            if after is not None:
                moment = max(moment, datetime.fromisoformat(after.replace("Z", "+00:00")) + timedelta(seconds=1))
            return moment

        for shop in SHOPS:
            batch = [self.order(shop, updated=recently()) for _ in range(5)]
            batch.append(self.order(shop, channel="AFN", updated=recently()))
            batch.append(self.order(shop, sku="NOT-IN-OMS", updated=recently()))
            open_orders = [
                o for o in self.orders[shop.seller].values() if o["OrderStatus"] == "Unshipped" and o not in batch
            ]
            for order in self.rng.sample(open_orders, 4):
                changed = dict(order, LastUpdateDate=recently(order["LastUpdateDate"]).strftime("%Y-%m-%dT%H:%M:%SZ"))
                if self.rng.random() < 0.5:
                    changed["OrderStatus"] = "Canceled"
                self.orders[shop.seller][order["AmazonOrderId"]] = changed
                batch.append(changed)
            self.amazon.put_orders(shop.seller, batch)

    # ---- runs
    def connect(self) -> None:
        for shop in SHOPS:
            self.amazon.list(shop.seller, shop.marketplace, dict.fromkeys(amazon_skus(shop), UNTOUCHED))
            body = {
                "merchant_id": shop.seller,
                "marketplace": shop.marketplace,
                "auth_token": shop.token,
                "active": True,
                "sync_stock": True,
                "default_courier_service": "Royal Mail 48",
                "include_bundles_in_stock_sync": shop.include_bundles,
                "stock_rules": shop.rules.to_json() or None,
            }
            response = self.api.post("/accounts", json=body, headers=shop.headers)
            assert response.status_code == 201, response.text
            self.accounts[shop] = response.json()

    def sync_now(self, shop: Shop) -> None:
        response = self.api.post(f"/accounts/{self.accounts[shop]['id']}/stock-sync", headers=shop.headers)
        assert response.status_code == 202, response.text
        with self._lock:
            self.manual_runs["stock_sync"] += 1

    def import_now(self, shop: Shop) -> None:
        response = self.api.post(f"/accounts/{self.accounts[shop]['id']}/order-import", headers=shop.headers)
        assert response.status_code == 202, response.text
        with self._lock:
            self.manual_runs["order_import"] += 1

    # ---- what the connector holds
    def stored_orders(self, client: str) -> list[dict[str, Any]]:
        found: list[dict[str, Any]] = []
        token = None
        while True:
            params: dict[str, Any] = {"limit": 100, **({"next_token": token} if token else {})}
            page = self.api.get("/orders", params=params, headers={"X-Client-Id": client}).json()
            found.extend(page["items"])
            token = page["next_token"]
            if not token:
                return found

    def runs(self, shop: Shop) -> list[dict[str, Any]]:
        found: list[dict[str, Any]] = []
        token = None
        while True:
            params = {"limit": 100, **({"next_token": token} if token else {})}
            page = self.api.get(
                f"/accounts/{self.accounts[shop]['id']}/stock-sync-runs", params=params, headers=shop.headers
            ).json()
            found.extend(page["items"])
            token = page["next_token"]
            if not token:
                return found


@pytest.fixture
def second_container(
    fresh: LocalStack, invocations: Invocations, monkeypatch: pytest.MonkeyPatch
) -> Iterator[TriggerRunner]:
    """A second warm container of every queue worker: Lambda serves several message groups (sellers)
    at once, and FIFO keeps one seller's messages to one of them at a time."""
    runner = TriggerRunner(LocalFunctions(), fresh.names, speedup=0.0001)
    invocations.watch(monkeypatch, runner.functions)
    runner.start()
    yield runner
    runner.stop()
    assert not runner.take_faults(), "the second container's pollers never fail"


@dataclass
class Findings:
    """What the connector got wrong, by kind (each list should be empty)."""

    lost_orders: list[str] = field(default_factory=list)  # in Amazon, never stored
    stale_orders: list[str] = field(default_factory=list)  # stored without Amazon's latest update
    duplicated_orders: list[str] = field(default_factory=list)
    foreign_orders: list[str] = field(default_factory=list)  # stored, yet not a merchant order of Amazon's
    duplicated_events: list[str] = field(default_factory=list)
    unannounced_orders: list[str] = field(default_factory=list)  # a state change without its one event
    wrong_quantities: dict[str, dict[str, tuple[int, int]]] = field(default_factory=dict)  # (Amazon's, §5's)
    repeated_feeds: int = 0  # a feed carrying exactly what an earlier one carried: a change pushed twice


def _when(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def check_orders(world: World, findings: Findings) -> dict[str, dict[str, Any]]:
    """Every merchant-fulfilled order Amazon holds is stored once, with its last update and status."""
    stored_all: dict[str, dict[str, Any]] = {}
    for client in (ACME, BLUEBIRD):
        stored = world.stored_orders(client)
        findings.duplicated_orders += [i for i, n in Counter(o["amazon_order_id"] for o in stored).items() if n > 1]
        mine = {o["amazon_order_id"]: o for o in stored}
        theirs = {
            o["AmazonOrderId"]: o
            for seller in {shop.seller for shop in SHOPS if shop.client == client}
            for o in world.amazon.orders(seller)
            if o["FulfillmentChannel"] == "MFN"
        }
        findings.foreign_orders += sorted(mine.keys() - theirs.keys())
        for order_id, order in theirs.items():
            if order_id not in mine:
                findings.lost_orders.append(order_id)
            elif _when(mine[order_id]["last_update_date"]) != _when(order["LastUpdateDate"]) or (
                mine[order_id]["status"] == "cancelled"
            ) != (order["OrderStatus"] == "Canceled"):
                findings.stale_orders.append(order_id)
        statuses = Counter(o["status"] for o in stored)
        assert statuses["ready"] and statuses["on_hold"] and statuses["cancelled"], "the orders test little"
        stored_all |= mine
    return stored_all


def check_events(events: list[dict[str, Any]], stored: dict[str, dict[str, Any]], findings: Findings) -> None:
    """One event per order and state change: versions 1..n each once, the first one "Imported", the
    last one carrying the order's status as stored."""
    findings.duplicated_events = sorted(i for i, n in Counter(e["detail"]["event_id"] for e in events).items() if n > 1)
    by_order: dict[str, dict[int, dict[str, Any]]] = {}
    for event in events:
        order_id, version = event["detail"]["event_id"].rsplit(":", 1)
        by_order.setdefault(order_id, {})[int(version)] = event
    for order_id, order in stored.items():
        seen = by_order.get(order_id, {})
        if (
            sorted(seen) != list(range(1, len(seen) + 1))
            or seen[1]["detail-type"] != "Amazon Order Imported"
            or seen[max(seen)]["detail"]["status"] != order["status"]
        ):
            findings.unannounced_orders.append(order_id)


def check_stock(world: World, findings: Findings) -> None:
    """Amazon holds, in every marketplace, what §5 gives for the final catalogue."""
    for shop in SHOPS:
        region = [s for s in SHOPS if s.seller == shop.seller]
        listed = [Listing(s.marketplace, frozenset(amazon_skus(s)), s.rules, s.include_bundles) for s in region]
        want = expected_quantities(dict.fromkeys(amazon_skus(shop), UNTOUCHED), world.catalogue[shop.client], listed)
        assert sum(q != UNTOUCHED for q in want.values()) >= len(want) // 2, "the quantities test little"
        have = world.amazon.quantities(shop.seller, shop.marketplace)
        wrong = {sku: (have.get(sku, -1), q) for sku, q in want.items() if have.get(sku) != q}
        if wrong:
            findings.wrong_quantities[f"{shop.seller}/{shop.marketplace}"] = wrong
    feeds = [feed for seller, _ in (EUROPE, FRANCE, AMERICA) for feed in world.amazon.feeds(seller)]
    contents = Counter(json.dumps(feed["input"]["messages"], sort_keys=True) for feed in feeds)
    findings.repeated_feeds = sum(n - 1 for n in contents.values())


def injected_by_kind(faults: list[dict[str, Any]]) -> dict[str, int]:
    injected: Counter[str] = Counter()
    for fault in faults:
        kind = "timeout" if fault["delay_seconds"] else f"{fault['status']}"
        kind += " answer lost" if fault["phase"] == "after" else ""
        injected[f"LWA {kind}" if fault["operation"] == "lwaToken" else kind] += fault["injected"]
    return dict(injected)


@pytest.mark.parametrize("orders_api", ["v0", "2026-01-01"])
def test_under_amazon_chaos_no_order_event_or_stock_push_is_lost_or_repeated(
    fresh: LocalStack,
    api: httpx.Client,
    amazon: Amazon,
    invocations: Invocations,
    second_container: TriggerRunner,
    monkeypatch: pytest.MonkeyPatch,
    orders_api: str,
) -> None:
    # v0 fetches each new order's items with a call of its own (getOrderItems, 0.5/s); 2026-01-01
    # searches with items included but refills one search every three minutes.
    monkeypatch.setenv("ORDERS_API_VERSION", orders_api)
    install_container()
    for seller, token in (EUROPE, FRANCE, AMERICA):
        amazon.seller(seller, token, sorted({shop.marketplace for shop in SHOPS if shop.seller == seller}))
    connections = amazon_on_simulated_time(monkeypatch, speedup=SPEEDUP, timeout_seconds=CLIENT_TIMEOUT)
    world = World(api, amazon)
    world.connect()
    world.stock_up()
    world.first_orders()
    tap = EventTap(fresh)
    runners = [fresh.runner, second_container]
    schedule = {s.function: s for s in schedules()}
    ticks_fired: Counter[str] = Counter()

    def tick(function: str) -> None:
        fresh.runner.fire(schedule[function])
        ticks_fired[function] += 1

    amazon.rate_limits(enforce=True, speedup=SPEEDUP)
    amazon.configure(fault_seed=SEED)
    for fault in FAULTS:
        amazon.fault(**fault)
    started = time.monotonic()

    with ThreadPoolExecutor(max_workers=8) as pool:
        submitted: list[Future[None]] = []
        for round_no in range(ROUNDS):
            if round_no:
                world.restock(round_no)
                world.trade()
            submitted += [pool.submit(world.sync_now, shop) for shop in world.rng.sample(SHOPS, len(SHOPS))]
            # Half the accounts import by hand each round: with the ticks, a seller then asks for about
            # as many order searches as Amazon refills (searchOrders: one every three minutes).
            submitted += [pool.submit(world.import_now, shop) for shop in world.rng.sample(SHOPS, len(SHOPS) // 2)]
            submitted += [pool.submit(tick, name) for name in ("StockSyncTickFunction", "OrderImportTickFunction")]
            time.sleep(ROUND_GAP)
        for future in submitted:
            future.result()
    settle(runners, timeout=240)
    # A last small change (two SKUs a client: patches, not a feed) and one last run of everything,
    # still under chaos; then, the outbox lease over, the tick relays what a failed worker left behind.
    world.restock(1)
    for shop in SHOPS:
        world.sync_now(shop)
        world.import_now(shop)
    settle(runners, timeout=240)
    outbox_lease_over(monkeypatch)
    tick("OrderImportTickFunction")
    settle(runners, timeout=120)
    seconds = time.monotonic() - started
    faults, calls = amazon.faults(), amazon.calls()
    amazon.clear_faults()

    findings = Findings()
    stored = check_orders(world, findings)
    events = tap.drain()
    check_events(events, stored, findings)
    check_stock(world, findings)
    runs = Counter(run["status"] for shop in SHOPS for run in world.runs(shop))
    letters = dead_letters(fresh)

    injected = injected_by_kind(faults)
    sp_api_calls = sum(n for operation, n in calls["counts"].items() if operation != "lwaToken")
    fault_429s = sum(f["injected"] for f in faults if f["status"] == 429 and f["operation"] != "lwaToken")
    figures = {
        "orders_api": orders_api,
        "seed": SEED,
        "speedup": SPEEDUP,
        "real_seconds": round(seconds, 1),
        "amazon_seconds": round(calls["simulated_seconds"]),
        "sp_api_calls": sp_api_calls,
        "sp_api_calls_by_operation": dict(sorted(calls["counts"].items())),
        "faults_injected": injected,
        "faults_injected_total": sum(injected.values()),
        "fault_rate": round(sum(injected.values()) / max(1, sum(calls["counts"].values())), 3),
        "rate_limit_429s": calls["throttled"] - fault_429s,
        "client_attempts": {outcome: connections.attempts.total(outcome) for outcome in OUTCOMES},
        "create_feed_outcome_unknown": connections.attempts.outcomes[("createFeed", "gave_up")],
        "client_waited_amazon_seconds": round(connections.clock.slept),
        "stock_runs": dict(runs),
        "order_import_invocations": invocations.invoked["OrderImportWorkerFunction"],
        "stock_sync_invocations": invocations.invoked["StockSyncWorkerFunction"],
        "manual_runs": dict(world.manual_runs),
        "ticks_fired": dict(ticks_fired),
        "worker_exceptions_retried_by_sqs": dict(invocations.kinds),
        "orders_stored": len(stored),
        "events_delivered": len(events),
        "lost": len(findings.lost_orders) + len(findings.stale_orders),
        "duplicated": len(findings.duplicated_orders) + len(findings.duplicated_events) + findings.repeated_feeds,
        "wrong_quantities": sum(len(w) for w in findings.wrong_quantities.values()),
        "dead_letters": sum(letters.values()),
    }
    print("\nchaos figures:", json.dumps(figures, indent=1))
    if os.environ.get("CHAOS_FIGURES"):  # a folder: the figures of tests/RELIABILITY.md
        (Path(os.environ["CHAOS_FIGURES"]) / f"chaos-{orders_api}.json").write_text(json.dumps(figures, indent=1))

    assert findings == Findings(), findings
    assert set(runs) == {"done"}, f"stock runs that did not finish: {runs}"
    assert letters == dict.fromkeys(letters, 0), f"messages dead-lettered: {letters}"
    assert 0.1 <= figures["fault_rate"] <= 0.4
