"""`POST /products/batch` is all-or-nothing for every reader (SPEC §7), with moto.

A batch stages each product under its batch id and is made visible by one write to the batch head;
these tests break it at every step (a client wrapper raising on the Nth write), read the catalogue
the ways the product does while it is half-staged, race batches against each other on threads, and
count the DynamoDB calls a batch of 1,000 makes."""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError
from oms_amazon.adapters.items import to_wire
from oms_amazon.adapters.product_batches import BATCH_EXPIRY
from oms_amazon.adapters.product_items import product_to_item
from oms_amazon.adapters.products import DynamoProductRepository
from oms_amazon.domain.errors import Conflict, DependencyUnavailable, DomainError
from oms_amazon.domain.products import MAX_BATCH_SIZE, CatalogueProduct, ProductDraft
from oms_amazon.services.products import ProductService

from local.moto_threads import guard_dynamodb
from tests.conftest import all_items

pytestmark = pytest.mark.integration

CLIENT = "acme-outdoor"
T0 = datetime.now(UTC).replace(microsecond=0)
WRITES = frozenset({"update_item", "put_item", "delete_item", "transact_write_items", "batch_write_item"})


class Client:
    """A boto3 DynamoDB client that counts the calls it passes on, and can break or interleave them:
    `fail_from` raises a service error on that write and, while `failing`, on every later one;
    `before_write` runs (once) just before the Nth write is sent."""

    def __init__(self, real: Any) -> None:
        self._real = real
        self.calls: Counter[str] = Counter()
        self.writes = 0
        self.fail_from: int | None = None
        self.failing = False
        self.before_write: tuple[int, Callable[[], None]] | None = None
        self._lock = threading.Lock()

    def __getattr__(self, name: str) -> Any:
        attribute = getattr(self._real, name)
        if not callable(attribute) or name == "meta":
            return attribute

        def call(**kwargs: Any) -> Any:
            hook = None
            with self._lock:
                self.calls[name] += 1
                if name in WRITES:
                    self.writes += 1
                    if self.before_write is not None and self.writes == self.before_write[0]:
                        hook, self.before_write = self.before_write[1], None
                    if self.fail_from is not None and self.writes >= self.fail_from:
                        self.fail_from = self.fail_from if self.failing else None
                        raise ClientError({"Error": {"Code": "InternalServerError", "Message": "injected"}}, name)
            if hook is not None:
                hook()
            return attribute(**kwargs)

        return call


class Clock:
    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture(autouse=True)
def one_dynamodb_action_at_a_time(aws: None, monkeypatch: pytest.MonkeyPatch) -> None:
    # moto's backend is not thread-safe (DynamoDB is); the local stack guards it the same way.
    from moto.dynamodb.responses import DynamoHandler

    monkeypatch.setattr(DynamoHandler, "call_action", DynamoHandler.call_action)  # restored after the test
    guard_dynamodb()


@pytest.fixture
def client(aws: None) -> Client:
    return Client(boto3.client("dynamodb"))


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def repository(client: Client, table_name: str) -> DynamoProductRepository:
    return DynamoProductRepository(client, table_name)


@pytest.fixture
def service(repository: DynamoProductRepository, clock: Clock) -> ProductService:
    return ProductService(repository, clock)


@pytest.fixture
def reader(aws: None, table_name: str) -> DynamoProductRepository:
    """Another request's view of the table (its own client: never broken, never counted)."""
    return DynamoProductRepository(boto3.client("dynamodb"), table_name)


def simple(sku: str, quantity: int = 5) -> ProductDraft:
    return ProductDraft(sku=sku, quantity_available=quantity)


def bundle(sku: str, *components: str) -> ProductDraft:
    return ProductDraft(sku=sku, components=[{"sku": c, "quantity": 1} for c in components])


def views(reader: DynamoProductRepository, skus: list[str]) -> list[dict[str, CatalogueProduct]]:
    """The catalogue as each kind of reader sees it: GET /products/{sku}, a planning read (bulk),
    GET /products (one page) and the stock sync and order import (the whole catalogue)."""
    single = {sku: p for sku in skus if (p := reader.get(CLIENT, sku)) is not None}
    page = {p.sku: p for p in reader.page(CLIENT, limit=1000, next_token=None).items}
    whole = {p.sku: p for p in reader.iter_catalogue(CLIENT)}
    return [single, reader.get_many(CLIENT, skus), page, whole]


def shape(products: dict[str, CatalogueProduct]) -> dict[str, tuple[int, tuple[str, ...], frozenset[str]]]:
    return {
        sku: (p.quantity_available, tuple(c.sku for c in p.components), p.used_in_bundles)
        for sku, p in products.items()
    }


def consistent(products: dict[str, CatalogueProduct]) -> bool:
    """Every bundle is recorded on each of its components and on nothing else, and no bundle nests."""
    expected: dict[str, set[str]] = {sku: set() for sku in products}
    for product in products.values():
        for component in product.components:
            if component.sku not in products or products[component.sku].is_bundle:
                return False
            expected[component.sku].add(product.sku)
    return all(set(p.used_in_bundles) == expected[sku] for sku, p in products.items())


def markers(dynamodb: Any, table: str) -> list[dict[str, Any]]:
    return [item for item in all_items(dynamodb, table) if "staged_by" in item]


BEFORE = [simple("A", 1), simple("B", 1), bundle("OLD-KIT", "A")]
BATCH = [simple("A", 7), simple("C", 7), bundle("KIT", "B", "C"), simple("OLD-KIT", 3)]
SKUS = ["A", "B", "C", "KIT", "OLD-KIT"]


@pytest.mark.parametrize("n", range(1, 9))
def test_a_batch_the_store_fails_at_its_nth_write_leaves_nothing_visible_and_nothing_held(
    service, client, reader, dynamodb, table_name, n
):
    service.put_batch(CLIENT, BEFORE)
    before = shape(reader.get_many(CLIENT, SKUS))
    client.fail_from = client.writes + n

    with pytest.raises(DependencyUnavailable):
        service.put_batch(CLIENT, BATCH)

    assert [shape(view) for view in views(reader, SKUS)] == [before] * 4
    assert markers(dynamodb, table_name) == [], "the batch is aborted and what it staged cleared"
    outcome = service.put_batch(CLIENT, BATCH)
    assert [item.status for item in outcome.items] == ["replaced", "created", "created", "replaced"]
    assert consistent(reader.get_many(CLIENT, SKUS))


def test_a_batch_the_store_keeps_failing_hides_what_it_staged_until_a_writer_finds_it_expired(
    service, client, reader, dynamodb, table_name, clock
):
    service.put_batch(CLIENT, BEFORE)
    before = shape(reader.get_many(CLIENT, SKUS))
    # The batch's entry in the head (2 writes) and 2 stagings go through; the rest, abort and clearing included, fail.
    client.fail_from, client.failing = client.writes + 5, True

    with pytest.raises(DependencyUnavailable):
        service.put_batch(CLIENT, BATCH)

    held = [item["SK"]["S"].removeprefix("PRODUCT#") for item in markers(dynamodb, table_name)]
    assert len(held) == 2, "two products are still staged by a batch that looks pending"
    assert [shape(view) for view in views(reader, SKUS)] == [before] * 4
    client.fail_from, client.failing = None, False
    with pytest.raises(Conflict):
        service.put(CLIENT, simple(held[0], 2))  # the batch may still be running: it holds the product
    clock.now += BATCH_EXPIRY
    status = service.put(CLIENT, simple(held[0], 2)).status
    assert status == ("replaced" if held[0] in before else "created")
    service.put_batch(CLIENT, BATCH)
    assert markers(dynamodb, table_name) == []
    assert consistent(reader.get_many(CLIENT, SKUS))


def test_no_reader_sees_a_batch_while_it_is_staged_and_every_reader_sees_it_whole_once_committed(
    service, client, reader, dynamodb, table_name
):
    service.put_batch(CLIENT, BEFORE)
    before = shape(reader.get_many(CLIENT, SKUS))
    seen: list[list[dict[str, Any]]] = []
    # The batch's writes: its entry in the head (2), 5 stagings (A, C, KIT, OLD-KIT and B joining KIT),
    # the commit, then the roll-forward. Read before the 4th staging; every roll-forward fails.
    client.before_write = (client.writes + 6, lambda: seen.append([shape(v) for v in views(reader, SKUS)]))
    client.fail_from, client.failing = client.writes + 9, True

    service.put_batch(CLIENT, BATCH)

    assert seen == [[before] * 4]
    assert len(markers(dynamodb, table_name)) == 5, "committed, not rolled forward"
    after = [shape(view) for view in views(reader, SKUS)]
    assert after[0] == after[1] == after[2] == after[3] != before
    assert after[0]["KIT"] == (0, ("B", "C"), frozenset())
    assert after[0]["B"][2] == after[0]["C"][2] == {"KIT"} and after[0]["A"][2] == set()
    client.fail_from, client.failing = None, False
    assert service.put(CLIENT, simple("A", 9)).status == "replaced", "a writer rolls forward what it meets"
    assert len(markers(dynamodb, table_name)) == 4


def test_a_product_written_while_a_batch_stages_it_makes_the_batch_plan_again_from_the_new_state(
    service, client, reader
):
    service.put_batch(CLIENT, BEFORE)
    # Just after the batch read the catalogue, another request adds a bundle on B, which the batch's KIT joins.
    client.before_write = (client.writes + 1, lambda: ProductService(reader, Clock()).put(CLIENT, bundle("K2", "B")))

    service.put_batch(CLIENT, BATCH)

    catalogue = {p.sku: p for p in reader.iter_catalogue(CLIENT)}
    assert catalogue["B"].used_in_bundles == {"KIT", "K2"}, "neither bundle lost"
    assert consistent(catalogue)


def test_a_batch_that_would_nest_bundles_after_a_race_is_refused_whole(service, client, reader):
    service.put_batch(CLIENT, [simple("A"), simple("B")])
    # Just after the batch planned A as an unused simple product, another request makes A a component.
    client.before_write = (client.writes + 1, lambda: ProductService(reader, Clock()).put(CLIENT, bundle("K2", "A")))

    with pytest.raises(DomainError) as raised:
        service.put_batch(CLIENT, [simple("B", 3), bundle("A", "B")])

    assert raised.value.code == "invalid_batch"
    assert [d["code"] for d in raised.value.details] == ["product_in_bundle"]
    assert reader.get(CLIENT, "B").quantity_available == 5  # type: ignore[union-attr]
    assert consistent({p.sku: p for p in reader.iter_catalogue(CLIENT)})


def test_concurrent_batches_and_writes_over_the_same_products_keep_the_bundles_right_and_no_reader_sees_half_a_batch(
    aws, table_name
):
    seed = ProductService(DynamoProductRepository(boto3.client("dynamodb"), table_name), Clock())
    seed.put_batch(CLIENT, [simple(f"S{n}", n) for n in range(6)])
    batches = [
        [simple("S0", 10), bundle("K1", "S1", "S2"), simple("S3", 10)],
        [bundle("K1", "S2", "S3"), simple("S1", 20), bundle("K2", "S1")],
        [bundle("S1", "S4"), simple("S0", 30)],
        [bundle("K3", "S0", "S1", "S4"), simple("S5", 40)],
        [bundle("K2", "S5"), bundle("K1", "S4")],
        [simple("S2", 60), simple("S4", 60), bundle("K4", "S2")],
    ]
    # Single writes of the same products race the batches too.
    singles: list[Callable[[ProductService], object]] = [
        lambda service: service.put(CLIENT, bundle("K5", "S3", "S5")),
        lambda service: service.put(CLIENT, simple("S4", 70)),
        lambda service: service.delete(CLIENT, "S5"),
    ]
    writes: list[Callable[[ProductService], object]] = [
        *(lambda service, batch=batch: service.put_batch(CLIENT, batch) for batch in batches),
        *singles,
    ]
    outcomes: dict[int, str] = {}
    start = threading.Barrier(len(writes))

    def run(index: int) -> None:
        service = ProductService(DynamoProductRepository(boto3.client("dynamodb"), table_name, workers=2), Clock())
        start.wait()
        try:
            writes[index](service)
            outcomes[index] = "written"
        except DomainError as error:
            outcomes[index] = error.code

    done = threading.Event()
    snapshots: list[dict[str, CatalogueProduct]] = []

    def read() -> None:
        reader = DynamoProductRepository(boto3.client("dynamodb"), table_name)
        while not done.is_set():
            snapshots.append({p.sku: p for p in reader.page(CLIENT, limit=100, next_token=None).items})

    threads = [threading.Thread(target=run, args=(n,)) for n in range(len(writes))]
    watcher = threading.Thread(target=read)
    watcher.start()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    done.set()
    watcher.join()

    catalogue = {p.sku: p for p in seed.page(CLIENT, limit=100, next_token=None).items}
    assert set(outcomes) == set(range(len(writes)))
    refusals = {"version_conflict", "invalid_batch", "product_in_bundle", "component_not_found"}
    assert set(outcomes.values()) <= {"written", *refusals}
    assert "written" in outcomes.values()
    assert consistent(catalogue), shape(catalogue)
    assert snapshots
    half = [shape(seen) for seen in snapshots if not consistent(seen)]
    assert not half, f"a reader saw part of a batch: {half[0]}"
    dynamodb = boto3.client("dynamodb")
    assert markers(dynamodb, table_name) == []


def test_a_batch_of_a_thousand_products_costs_a_fixed_handful_of_calls_besides_one_write_per_product(
    service, client, reader
):
    service.put_batch(CLIENT, [simple(f"P{n:04d}", n) for n in range(100)])
    client.calls.clear()
    batch = [simple(f"P{n:04d}", n + 1) for n in range(900)]
    batch += [bundle(f"K{n:03d}", f"P{n:04d}", f"P{n + 1:04d}") for n in range(MAX_BATCH_SIZE - 900)]

    service.put_batch(CLIENT, batch)

    # 100 replaced, 800 created, 100 bundles whose components are all in the batch. The plan: the batch
    # head (GetItem) and 10 BatchGetItem. UpdateItem: the batch's entry in the head (2), 1,000 stagings,
    # the commit, 1,000 roll-forwards and dropping the entry.
    assert dict(client.calls) == {"get_item": 1, "batch_get_item": 10, "update_item": 2 * MAX_BATCH_SIZE + 4}
    catalogue = {p.sku: p for p in reader.iter_catalogue(CLIENT)}
    assert len(catalogue) == MAX_BATCH_SIZE
    assert consistent(catalogue)


def test_a_reader_learns_every_batch_from_one_read_of_the_batch_head(service, client, table_name):
    service.put_batch(CLIENT, [simple(f"P{n:03d}") for n in range(50)])
    # The entry in the head (2 writes), 50 stagings and the commit go through; every roll-forward fails.
    client.fail_from, client.failing = client.writes + 54, True
    service.put_batch(CLIENT, [simple(f"P{n:03d}", 9) for n in range(50)])
    counted = Client(boto3.client("dynamodb"))

    products = list(DynamoProductRepository(counted, table_name).iter_catalogue(CLIENT))

    assert {p.quantity_available for p in products} == {9}
    assert dict(counted.calls) == {"get_item": 1, "query": 1}, "the batch head, then the products"


def test_a_batch_joins_a_component_whose_bundles_nearly_fill_its_item(service, reader, dynamodb, table_name):
    users = frozenset(f"KIT-{n:04d}-" + "x" * 190 for n in range(1200))  # 240,000 bytes of bundle SKUs
    component = CatalogueProduct(CLIENT, "A", None, 5, (), users, T0, T0)
    dynamodb.put_item(TableName=table_name, Item=to_wire(product_to_item(component)))

    service.put_batch(CLIENT, [bundle("NEW-KIT", "A"), simple("B")])

    assert reader.get(CLIENT, "A").used_in_bundles == users | {"NEW-KIT"}  # type: ignore[union-attr]
