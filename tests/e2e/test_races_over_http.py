"""The races a one-at-a-time stack hides, driven through the concurrent local stack: requests from threads
over HTTP, met by the API function's and the workers' concurrent invocations (up to 4 each), against
moto's server and the SP-API simulator. Each test checks that the race it is about happened (not only
that nothing broke), so it cannot pass by the requests happening not to overlap.

- two token changes on sibling accounts never leave the accounts naming a token that is not the
  seller's current one in Secrets Manager;
- a courier mapping posted while an import stores orders leaves no order held for its term once the
  stack has settled;
- readers of the catalogue never see part of a product batch, committed or failed;
- an account deleted while its stock sync or order import is queued or running leaves no run record and
  gets no order stored after the DELETE.
"""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import boto3
import httpx
import pytest

from local.stack import REGION, LocalStack, install_container
from local.template import schedules
from tests.e2e.conftest import SELLER, SELLER_TOKEN
from tests.e2e.test_order_import import amazon_order, put_orders
from tests.polling import eventually

pytestmark = pytest.mark.e2e

ACME = {"X-Client-Id": "acme-outdoor"}


def aws(stack: LocalStack, service: str) -> Any:
    """A client of the stack's moto server, as an operator's script would use."""
    return boto3.client(
        service, endpoint_url=stack.moto_url, region_name=REGION, aws_access_key_id="l", aws_secret_access_key="l"
    )


def at_once[T](*calls: Callable[[], T]) -> list[T]:
    """The calls on threads of their own, released together by a barrier; their results in order."""
    barrier = threading.Barrier(len(calls), timeout=30)

    def run(call: Callable[[], T]) -> T:
        barrier.wait()
        return call()

    with ThreadPoolExecutor(len(calls)) as pool:
        return list(pool.map(run, calls))


@pytest.fixture
def generous_allowance(stack: LocalStack, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """The API's warm containers built again with a write allowance no test here reaches: these tests race
    writes, they do not test fairness (tests/e2e/test_write_limits.py does)."""
    monkeypatch.setenv("CLIENT_WRITE_BURST", "10000")
    monkeypatch.setenv("CLIENT_WRITE_RATE_PER_SECOND", "1000")
    install_container()
    yield
    monkeypatch.undo()
    install_container()


# ---------------------------------------------------------------- 1. a token change lost to another

TOKEN_ROUNDS = 40  # at most: the test stops once enough rounds raced
TOKEN_RACES = 6


def test_racing_token_changes_on_sibling_accounts_leave_them_naming_the_sellers_current_token(
    stack: LocalStack, http: httpx.Client, generous_allowance: None
) -> None:
    uk = http.post(
        "/accounts", json={"merchant_id": SELLER, "marketplace": "UK", "auth_token": SELLER_TOKEN}, headers=ACME
    ).json()
    de = http.post("/accounts", json={"merchant_id": SELLER, "marketplace": "DE"}, headers=ACME).json()
    table, dynamodb, secrets = stack.names["ConnectorTable"], aws(stack, "dynamodb"), aws(stack, "secretsmanager")
    secret = f"{os.environ['SECRET_PREFIX']}acme-outdoor/{SELLER}"

    def patch(account: dict[str, Any], token: str) -> Callable[[], int]:
        def call() -> int:
            return httpx.patch(
                f"{stack.api_url}/accounts/{account['id']}", json={"auth_token": token}, headers=ACME, timeout=30
            ).status_code

        return call

    def stored(account: dict[str, Any]) -> dict[str, Any]:
        item = dynamodb.get_item(
            TableName=table,
            Key={"PK": {"S": "CLIENT#acme-outdoor"}, "SK": {"S": f"ACCOUNT#{account['id']}"}},
            ConsistentRead=True,
        )["Item"]
        return {"version": item["secret_version"]["S"], "hint": item["authorisation"]["M"]["hint"]["S"]}

    held = SELLER_TOKEN
    raced = 0
    for n in range(TOKEN_ROUNDS):
        first, second = (f"Atzr|IwEBI-race-{n:03d}-{which}-{n:03d}{which}" for which in (1, 2))
        statuses = at_once(patch(uk, first), patch(de, second))

        assert set(statuses) <= {200, 409}, statuses
        raced += 409 in statuses
        current = secrets.get_secret_value(SecretId=secret)
        token = json.loads(current["SecretString"])["token"]
        claimed = [stored(account) for account in (uk, de)]
        assert claimed[0] == claimed[1], f"round {n}: the seller's accounts disagree: {claimed} ({statuses})"
        assert claimed[0]["hint"] == "…" + token[-4:], (
            f"round {n}: the accounts show {claimed[0]['hint']}, Secrets Manager holds …{token[-4:]} ({statuses})"
        )
        assert claimed[0]["version"] == current["VersionId"], f"round {n}: the accounts name an older version"
        accepted = [t for t, status in zip((first, second), statuses, strict=True) if status == 200]
        assert token in (accepted or [held]), f"round {n}: the seller's token is one no request was told it stored"
        held = token
        if raced == TOKEN_RACES:
            break
    assert raced == TOKEN_RACES, f"only {raced} of {n + 1} rounds raced: the test proved nothing"


# ---------------------------------------------------------------- 2. an order held for a term that now maps

HELD_TERM = "UK NEXT-PRIME"  # Amazon's NextDay level on a Prime order: no default courier applies
HELD_ORDERS = 12  # one page of Amazon's order search: the marker is read once per page, so the sweep is needed
IMPORT_ROUNDS = 3


def held_for_the_term(http: httpx.Client, client: dict[str, str]) -> list[str]:
    items = http.get("/orders", params={"limit": 100}, headers=client).json()["items"]
    return sorted(
        o["amazon_order_id"]
        for o in items
        if o["status"] == "on_hold" and any(h["code"] == "unmapped_shipping_term" for h in o["hold_reasons"])
    )


def test_a_mapping_posted_while_orders_import_leaves_none_held_for_its_term_once_the_stack_settles(
    stack: LocalStack, http: httpx.Client, sim: httpx.Client, generous_allowance: None
) -> None:
    (tick,) = [s for s in schedules() if s.function == "OrderImportTickFunction"]
    put_orders(sim, [amazon_order(n, "NextDay", "NextDay", prime=True) for n in range(HELD_ORDERS)])
    stranded_before_the_tick = 0
    for round_ in range(IMPORT_ROUNDS):
        client = {"X-Client-Id": f"racing-importer-{round_}"}  # its own orders, mappings and marker
        account = http.post(
            "/accounts",
            json={"merchant_id": SELLER, "marketplace": "UK", "auth_token": SELLER_TOKEN, "active": True},
            headers=client,
        ).json()
        assert http.put("/products/TENT-2P", json={"quantity_available": 5}, headers=client).status_code == 201

        assert http.post(f"/accounts/{account['id']}/order-import", headers=client).status_code == 202
        eventually(
            lambda client=client: http.get("/orders", params={"limit": 1}, headers=client).json()["items"],
            timeout=30,
            every=0.01,
            what="the import storing its first order",
        )
        mapping = {"amazon_term": HELD_TERM, "courier_service": "DPD 10:30"}
        assert http.post("/courier-mappings", json=mapping, headers=client).status_code == 201
        assert stack.runner.wait_idle(60)
        stranded = held_for_the_term(http, client)
        stack.runner.fire(tick)
        assert stack.runner.wait_idle(60)

        assert held_for_the_term(http, client) == [], f"round {round_}: orders held for a term that maps"
        orders = http.get("/orders", params={"limit": 100}, headers=client).json()["items"]
        assert len(orders) == HELD_ORDERS
        assert {(o["status"], o["courier_service"]) for o in orders} == {("ready", "DPD 10:30")}
        assert http.get("/courier-mappings/unmapped", headers=client).json()["items"] == []
        stranded_before_the_tick = len(stranded)
        if stranded:  # the import stored orders judged before the mapping after the mapping released the held
            break
    assert stranded_before_the_tick, f"in {IMPORT_ROUNDS} rounds no order was stored held after the mapping came"


# ---------------------------------------------------------------- 3. part of a product batch

# Past the 100 products a batch was once written per transaction (so a reader could catch it between two),
# yet a few seconds. Not 1,000: that takes about 20 s on the local stack alone (each product is staged and
# rolled forward, two conditional writes through moto's server), and minutes with readers holding the table
# (moto takes about 2 ms an item to answer a read); tests/integration/test_product_batches.py writes 1,000.
BATCH_SIZE = 120
SEEDED = [f"A{n:02d}" for n in range(10)]
READERS = 2
PACE = 0.25  # between one reader's reads, so the batch's writes have the table most of the time


class CatalogueReaders:
    """Threads reading the whole catalogue (one GET /products page of up to 1,000) until stopped, each
    snapshot recorded with whether it was taken while the batch was in flight."""

    def __init__(self, stack: LocalStack) -> None:
        self.stack = stack
        self.in_flight = threading.Event()
        self.stop = threading.Event()
        self.snapshots: list[tuple[bool, dict[str, int]]] = []
        self.errors: list[str] = []
        self.threads = [threading.Thread(target=self._read, daemon=True) for _ in range(READERS)]

    def _read(self) -> None:
        with httpx.Client(base_url=self.stack.api_url, timeout=30) as client:
            while not self.stop.is_set():
                during = self.in_flight.is_set()
                response = client.get("/products", params={"limit": 1000}, headers=ACME)
                if response.status_code != 200:
                    self.errors.append(f"{response.status_code} {response.text}")
                    continue
                body = response.json()
                if body.get("next_token"):
                    self.errors.append("the catalogue did not fit one page")
                seen = {p["sku"]: p["quantity_available"] for p in body["items"]}
                self.snapshots.append((during and self.in_flight.is_set(), seen))
                self.stop.wait(PACE)

    def __enter__(self) -> CatalogueReaders:
        for thread in self.threads:
            thread.start()
        # Each reader has read at least once before the batch goes out.
        eventually(lambda: len(self.snapshots) >= READERS, timeout=30, what="the readers reading")
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop.set()
        for thread in self.threads:
            thread.join(timeout=30)

    def during(self) -> list[dict[str, int]]:
        return [seen for during, seen in self.snapshots if during]


def post_batch(stack: LocalStack, readers: CatalogueReaders, products: list[dict[str, Any]]) -> httpx.Response:
    readers.in_flight.set()
    try:
        return httpx.post(f"{stack.api_url}/products/batch", json={"products": products}, headers=ACME, timeout=120)
    finally:
        readers.in_flight.clear()


def seed(http: httpx.Client) -> dict[str, int]:
    response = http.post(
        "/products/batch", json={"products": [{"sku": sku, "quantity_available": 1} for sku in SEEDED]}, headers=ACME
    )
    assert response.status_code == 200, response.text
    return dict.fromkeys(SEEDED, 1)


def test_readers_never_see_part_of_a_batch_while_it_is_written(
    stack: LocalStack, http: httpx.Client, generous_allowance: None
) -> None:
    before = seed(http)
    # The batch changes every seeded product and adds the rest.
    batch = {**dict.fromkeys(SEEDED, 2), **{f"B{n:04d}": 2 for n in range(BATCH_SIZE - len(SEEDED))}}

    with CatalogueReaders(stack) as readers:
        response = post_batch(stack, readers, [{"sku": sku, "quantity_available": q} for sku, q in batch.items()])
        # A reader that started before the answer reads the batch whole from now on.
        eventually(lambda: readers.snapshots[-1][1] == batch, timeout=30, what="a reader seeing the batch")

    assert response.status_code == 200, response.text
    assert readers.errors == []
    partial = [seen for _, seen in readers.snapshots if seen not in (before, batch)]
    assert not partial, (
        f"{len(partial)} of {len(readers.snapshots)} reads saw part of the batch, e.g. "
        f"{sum(q == 2 for q in partial[0].values())} of its {len(batch)} products"
    )
    assert len(readers.during()) >= READERS, "the readers did not read while the batch was written"


class FailingWrites:
    """The API's DynamoDB client, failing one write (an InternalServerError) once `fail_at` writes went by."""

    WRITES = frozenset({"update_item", "put_item", "delete_item", "transact_write_items", "batch_write_item"})

    def __init__(self, real: Any, fail_at: int) -> None:
        self._real = real
        self._lock = threading.Lock()
        self.writes = 0
        self.fail_at = fail_at
        self.failed = False

    def __getattr__(self, name: str) -> Any:
        attribute = getattr(self._real, name)
        if name not in self.WRITES:
            return attribute

        def write(**kwargs: Any) -> Any:
            from botocore.exceptions import ClientError

            with self._lock:
                self.writes += 1
                fail = self.writes == self.fail_at
                self.failed |= fail
            if fail:
                raise ClientError({"Error": {"Code": "InternalServerError", "Message": "injected"}}, name)
            return attribute(**kwargs)

        return write


def test_a_batch_failing_part_way_leaves_nothing_any_reader_sees_and_nothing_held(
    stack: LocalStack, http: httpx.Client, generous_allowance: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    from oms_amazon import wiring
    from oms_amazon.adapters.aws import utc_now
    from oms_amazon.adapters.products import DynamoProductRepository
    from oms_amazon.services.products import ProductService

    before = seed(http)
    container = wiring.container()
    failing = FailingWrites(container.client("dynamodb"), fail_at=BATCH_SIZE // 2)
    service = ProductService(DynamoProductRepository(failing, stack.names["ConnectorTable"]), utc_now)
    monkeypatch.setattr(container, "product_service", service)
    batch = {**dict.fromkeys(SEEDED, 3), **{f"C{n:04d}": 3 for n in range(BATCH_SIZE - len(SEEDED))}}

    with CatalogueReaders(stack) as readers:
        response = post_batch(stack, readers, [{"sku": sku, "quantity_available": q} for sku, q in batch.items()])
        seen_after = len(readers.snapshots)
        eventually(lambda: len(readers.snapshots) > seen_after + READERS, timeout=30, what="reads after the answer")

    assert failing.failed, "the injected failure never happened"
    assert (response.status_code, response.json()["error"]["code"]) == (503, "service_unavailable")
    assert readers.errors == []
    assert [seen for _, seen in readers.snapshots if seen != before] == [], "a reader saw part of a failed batch"
    assert len(readers.during()) >= READERS, "the readers did not read while the batch was written"
    items = aws(stack, "dynamodb").scan(TableName=stack.names["ConnectorTable"])["Items"]
    assert [i["SK"]["S"] for i in items if "staged_by" in i or "staged" in i] == [], "products still held"
    assert not any(i["SK"]["S"].startswith("PRODUCT#C") for i in items)


# ---------------------------------------------------------------- 4. an account deleted under its jobs


def connect_importing_and_syncing(http: httpx.Client, sim: httpx.Client) -> dict[str, Any]:
    listed = [{"sku": "TENT-2P", "product_type": "PRODUCT", "quantity": 0}]
    assert sim.put(f"/_sim/sellers/{SELLER}/listings", json={"marketplace": "UK", "items": listed}).status_code == 200
    account = http.post(
        "/accounts",
        json={
            "merchant_id": SELLER,
            "marketplace": "UK",
            "auth_token": SELLER_TOKEN,
            "active": True,
            "sync_stock": True,
            "default_courier_service": "Royal Mail 48",
        },
        headers=ACME,
    )
    assert account.status_code == 201, account.text
    assert http.put("/products/TENT-2P", json={"quantity_available": 7}, headers=ACME).status_code == 201
    return dict(account.json())


def left_of(stack: LocalStack, account_id: str) -> dict[str, list[str]]:
    """What the table holds of the account: its own items (runs, their errors, its latest run) and its orders."""
    items = aws(stack, "dynamodb").query(
        TableName=stack.names["ConnectorTable"],
        KeyConditionExpression="PK = :pk",
        ExpressionAttributeValues={":pk": {"S": "CLIENT#acme-outdoor"}},
        ConsistentRead=True,
    )["Items"]
    return {
        "records": sorted(
            i["SK"]["S"] for i in items if account_id in i["SK"]["S"] and not i["SK"]["S"].startswith("DELETEDACCOUNT#")
        ),
        "orders": sorted(
            i["amazon_order_id"]["S"]
            for i in items
            if i["SK"]["S"].startswith("ORDER#") and i["account_id"]["S"] == account_id
        ),
    }


def pushes(sim: httpx.Client) -> int:
    counts = sim.get("/_sim/calls").json()["counts"]
    return int(counts.get("patchListingsItem", 0) + counts.get("createFeed", 0))


def test_an_account_deleted_while_its_jobs_wait_in_the_queue_gets_no_run_record_and_no_order(
    stack: LocalStack, http: httpx.Client, sim: httpx.Client
) -> None:
    account = connect_importing_and_syncing(http, sim)
    put_orders(sim, [amazon_order(n, "Std UK Dom_1", "Standard") for n in range(3)])

    with stack.runner.paused():  # the jobs wait in their queues while the DELETE goes through
        assert http.post(f"/accounts/{account['id']}/stock-sync", headers=ACME).status_code == 202
        assert http.post(f"/accounts/{account['id']}/order-import", headers=ACME).status_code == 202
        assert http.delete(f"/accounts/{account['id']}", headers=ACME).status_code == 204
    assert stack.runner.wait_idle(60)

    assert left_of(stack, account["id"]) == {"records": [], "orders": []}
    assert pushes(sim) == 0


class HeldInside:
    """Holds the first call of `method` (once `after` it ran, or before) until the test lets it go."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch, owner: type, method: str, *, after: bool) -> None:
        self.inside, self.released = threading.Event(), threading.Event()
        real = getattr(owner, method)

        def held(this: Any, *args: Any, **kwargs: Any) -> Any:
            first = not self.inside.is_set()
            if first and not after:
                self.hold()
            answer = real(this, *args, **kwargs)
            if first and after:
                self.hold()
            return answer

        monkeypatch.setattr(owner, method, held)

    def hold(self) -> None:
        self.inside.set()
        assert self.released.wait(30), "the test never let the job go on"

    def meanwhile(self, action: Callable[[], None]) -> None:
        eventually(self.inside.is_set, timeout=30, what="the job reaching the point it is held at")
        try:
            action()
        finally:
            self.released.set()


def test_an_account_deleted_while_its_stock_sync_runs_gets_no_run_record_and_no_push_after_the_delete(
    stack: LocalStack, http: httpx.Client, sim: httpx.Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    from oms_amazon.adapters.stock_sync import DynamoStockSyncStore

    account = connect_importing_and_syncing(http, sim)
    # The run has recorded its start and is about to read the listings when the DELETE comes.
    worker = HeldInside(monkeypatch, DynamoStockSyncStore, "snapshot", after=False)
    queued = http.post(f"/accounts/{account['id']}/stock-sync", headers=ACME)
    assert queued.status_code == 202, queued.text

    def delete() -> None:
        run = http.get(f"/accounts/{account['id']}/stock-sync-runs/{queued.json()['run_id']}", headers=ACME).json()
        assert run["started_at"] is not None, "the run had recorded its start"
        assert http.delete(f"/accounts/{account['id']}", headers=ACME).status_code == 204

    worker.meanwhile(delete)
    assert stack.runner.wait_idle(60)

    assert left_of(stack, account["id"]) == {"records": [], "orders": []}
    assert pushes(sim) == 0, "Amazon was sent the stock of an account deleted before the push"


def test_an_account_deleted_while_its_orders_import_gets_no_order_stored_after_the_delete(
    stack: LocalStack, http: httpx.Client, sim: httpx.Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    from oms_amazon.adapters.orders import DynamoOrderRepository

    account = connect_importing_and_syncing(http, sim)
    put_orders(sim, [amazon_order(n, "Std UK Dom_1", "Standard") for n in range(5)])
    # The import has stored its first order when the DELETE comes.
    worker = HeldInside(monkeypatch, DynamoOrderRepository, "save", after=True)
    assert http.post(f"/accounts/{account['id']}/order-import", headers=ACME).status_code == 202

    worker.meanwhile(lambda: http.delete(f"/accounts/{account['id']}", headers=ACME).raise_for_status())
    assert stack.runner.wait_idle(60)

    left = left_of(stack, account["id"])
    assert left["records"] == []
    # Imported orders stay when their account is deleted (SPEC §4.2); none is imported after it.
    assert len(left["orders"]) == 1, f"orders stored after the account was deleted: {left['orders'][1:]}"
