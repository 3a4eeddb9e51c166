"""Crash tests (SPEC §9 Reliability): a worker killed part-way — after some pages of orders, or around
Amazon's createFeed — and the next delivery of its message finishes the job with nothing lost or done
twice. The kill is a `WorkerKilled` raised inside the connector's own calls; the local trigger sees a
dead invocation and SQS redelivers the message, as Lambda and SQS do after a timeout or a crash."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from oms_amazon.adapters.amazon import SellerAmazon
from oms_amazon.adapters.orders import DynamoOrderRepository

from local.stack import LocalStack, install_container
from local.template import schedules
from tests.builders import ship_to
from tests.chaos.support import (
    Amazon,
    EventTap,
    Invocations,
    ScaledAmazonConnections,
    amazon_on_simulated_time,
    dead_letters,
    kill_at,
    outbox_lease_over,
    settle,
)

pytestmark = pytest.mark.e2e

SELLER = "A1CRASHSELLER01"
TOKEN = "Atzr|IwEBI-crash-seller-refresh-token-0001"
ACME = {"X-Client-Id": "acme-outdoor"}
UK = "A1F83G8C2ARO7P"
# Amazon seconds per real second: 300 getOrderItems calls at Amazon's 0.5/s take two real seconds.
SPEEDUP = 300.0


@pytest.fixture
def on_amazon_time(fresh: LocalStack, amazon: Amazon, monkeypatch: pytest.MonkeyPatch) -> ScaledAmazonConnections:
    amazon.seller(SELLER, TOKEN, ["UK"])
    amazon.rate_limits(enforce=True, speedup=SPEEDUP)
    return amazon_on_simulated_time(monkeypatch, speedup=SPEEDUP, timeout_seconds=30)


def connect(api: httpx.Client, **fields: Any) -> dict[str, Any]:
    body = {
        "merchant_id": SELLER,
        "marketplace": "UK",
        "auth_token": TOKEN,
        "active": True,
        "default_courier_service": "Royal Mail 48",
        **fields,
    }
    response = api.post("/accounts", json=body, headers=ACME)
    assert response.status_code == 201, response.text
    return dict(response.json())


def put_products(api: httpx.Client, quantities: dict[str, int]) -> None:
    items = [{"sku": sku, "quantity_available": q} for sku, q in quantities.items()]
    response = api.post("/products/batch", json={"products": items}, headers=ACME)
    assert response.status_code in (200, 201), response.text


def amazon_order(n: int, updated: datetime, status: str = "Unshipped") -> dict[str, Any]:
    moment = updated.strftime("%Y-%m-%dT%H:%M:%SZ")
    return {
        "AmazonOrderId": f"202-0000000-{n:07d}",
        "PurchaseDate": moment,
        "LastUpdateDate": moment,
        "MarketplaceId": UK,
        "FulfillmentChannel": "MFN",
        "ShipServiceLevel": "Std UK Dom_1",
        "ShipmentServiceLevelCategory": "Standard",
        "OrderStatus": status,
        "ShippingAddress": ship_to("GB", n),
        "OrderItems": [
            {
                "OrderItemId": f"{n:014d}",
                "SellerSKU": "TENT-2P",
                "QuantityOrdered": 1,
                "ItemPrice": {"CurrencyCode": "GBP", "Amount": "20.00"},
            }
        ],
    }


def stored_orders(api: httpx.Client) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    token = None
    while True:
        params: dict[str, Any] = {"limit": 100, **({"next_token": token} if token else {})}
        page = api.get("/orders", params=params, headers=ACME).json()
        found.extend(page["items"])
        token = page["next_token"]
        if not token:
            return found


def fire_tick(stack: LocalStack, function: str) -> None:
    (tick,) = [s for s in schedules() if s.function == function]
    stack.runner.fire(tick)


def sync(stack: LocalStack, api: httpx.Client, account: dict[str, Any]) -> dict[str, Any]:
    queued = api.post(f"/accounts/{account['id']}/stock-sync", headers=ACME)
    assert queued.status_code == 202, queued.text
    settle([stack.runner])
    run = api.get(f"/accounts/{account['id']}/stock-sync-runs/{queued.json()['run_id']}", headers=ACME)
    assert run.status_code == 200, run.text
    return dict(run.json())


@pytest.mark.parametrize("api_version", ["v0", "2026-01-01"])
def test_an_import_killed_after_some_pages_is_finished_by_the_next_delivery_storing_and_announcing_each_order_once(
    fresh: LocalStack,
    api: httpx.Client,
    amazon: Amazon,
    invocations: Invocations,
    on_amazon_time: ScaledAmazonConnections,
    monkeypatch: pytest.MonkeyPatch,
    api_version: str,
) -> None:
    from oms_amazon import wiring

    monkeypatch.setenv("ORDERS_API_VERSION", api_version)
    install_container()
    wiring.container().amazon_connections = on_amazon_time  # on Amazon's clock, in the new container too
    account = connect(api)
    put_products(api, {"TENT-2P": 5})
    now = datetime.now(UTC)
    # 150 orders: Amazon pages them 100 + 50; the worker dies before storing the 121st, mid page two.
    amazon.put_orders(SELLER, [amazon_order(n, now - timedelta(minutes=200 - n)) for n in range(1, 151)])
    tap = EventTap(fresh)
    kill = kill_at(monkeypatch, DynamoOrderRepository, "save", survive=120, after_call=False)

    assert api.post(f"/accounts/{account['id']}/order-import", headers=ACME).status_code == 202
    settle([fresh.runner])

    assert kill.fired and invocations.killed["OrderImportWorkerFunction"] == 1
    orders = stored_orders(api)
    ids = [o["amazon_order_id"] for o in orders]
    assert len(ids) == len(set(ids)) == 150
    assert {o["status"] for o in orders} == {"ready"}
    # Page one was announced by the dead worker, the rest of page two by the next one; the 20 events
    # the dead worker stored but never sent wait in the outbox, and a tick leaves them there while
    # their writer might still be sending them...
    fire_tick(fresh, "OrderImportTickFunction")
    settle([fresh.runner])
    assert len(tap.drain()) == 130
    # ...and relays them once the outbox lease is over.
    outbox_lease_over(monkeypatch)
    fire_tick(fresh, "OrderImportTickFunction")
    settle([fresh.runner])
    announced = Counter((e["detail-type"], e["detail"]["amazon_order_id"]) for e in tap.drain())
    assert set(announced) == {("Amazon Order Imported", order_id) for order_id in ids}
    assert set(announced.values()) == {1}, "an order was announced twice"
    assert api.get(f"/accounts/{account['id']}", headers=ACME).json()["last_order_import_at"] is not None

    # Amazon cancels three of them: one event each, and nothing else is written again.
    later = datetime.now(UTC) - timedelta(seconds=30)
    amazon.put_orders(SELLER, [amazon_order(n, later, status="Canceled") for n in (3, 101, 150)])
    assert api.post(f"/accounts/{account['id']}/order-import", headers=ACME).status_code == 202
    settle([fresh.runner])
    fire_tick(fresh, "OrderImportTickFunction")
    settle([fresh.runner])

    events = tap.drain()
    assert len(events) == 153
    assert sorted(e["detail"]["amazon_order_id"] for e in events if e["detail-type"] == "Amazon Order Cancelled") == [
        "202-0000000-0000003",
        "202-0000000-0000101",
        "202-0000000-0000150",
    ]
    assert len(stored_orders(api)) == 150
    assert dead_letters(fresh) == dict.fromkeys(dead_letters(fresh), 0)


KILLS = {
    # The worker dies once Amazon has created the feed, before the feed id is recorded.
    "killed after Amazon took the feed": "after",
    # The worker dies inside createFeed before Amazon has it (e.g. while waiting for a createFeed token).
    "killed before Amazon had the feed": "before",
    # Amazon creates the feed and the answer is lost on the way back (a 500 after processing).
    "createFeed answer lost": "lost",
}


@pytest.mark.parametrize("crash", list(KILLS))
def test_a_stock_sync_crashing_around_create_feed_pushes_each_change_exactly_once(
    fresh: LocalStack,
    api: httpx.Client,
    amazon: Amazon,
    invocations: Invocations,
    on_amazon_time: ScaledAmazonConnections,
    monkeypatch: pytest.MonkeyPatch,
    crash: str,
) -> None:
    skus = [f"SKU-{n:02d}" for n in range(10)]
    amazon.list(SELLER, "UK", dict.fromkeys(skus, 0))
    account = connect(api, sync_stock=True)
    put_products(api, {sku: n + 1 for n, sku in enumerate(skus)})
    first = sync(fresh, api, account)
    assert (first["status"], first["transport"], len(amazon.feeds(SELLER))) == ("done", "feed", 1)

    changed = {sku: 40 + n for n, sku in enumerate(skus[:6])}
    put_products(api, changed)
    mode = KILLS[crash]
    if mode == "lost":
        amazon.fault(operation="createFeed", status=500, rate=1, count=1, phase="after")
    else:
        kill_at(monkeypatch, SellerAmazon, "create_feed", survive=0, after_call=mode == "after")
    second = sync(fresh, api, account)
    third = sync(fresh, api, account)

    expected = {sku: n + 1 for n, sku in enumerate(skus)} | changed
    assert amazon.quantities(SELLER, "UK") == expected, "a change was lost"
    assert len(amazon.feeds(SELLER)) == 2, "the change was pushed twice"
    assert second["status"] == "done"
    assert (third["status"], third["skus_sent"]) == ("done", 0), "the connector's view differs from Amazon's"
    assert invocations.killed["StockSyncWorkerFunction"] == (0 if mode == "lost" else 1)
    assert amazon.calls()["counts"].get("getFeeds", 0) >= 1, "the unrecorded feed was looked up on Amazon"
    assert dead_letters(fresh) == dict.fromkeys(dead_letters(fresh), 0)
