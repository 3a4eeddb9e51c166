"""Catalogue reads grow with what changed, not with the catalogue (SPEC §5.4, §6.5), through the real
DynamoDB adapters over moto: a stock-sync run reads the products changed since the last run (plus the
bundles they make up), and the whole catalogue only on its first run, at least daily and when a setting
moves every figure; an order's lines are checked by looking up their SKUs by key, with a case-only
mismatch or an ambiguous SKU still caught through the folded-SKU index. Products stored before those
indexes still work: the first lookup that needs the folded key reads the catalogue once and indexes it.

Reads are counted as DynamoDB returns them: the items of every Query, GetItem and BatchGetItem the
product repository's client sends (botocore's event hooks; nothing is mocked)."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import pytest
from oms_amazon.adapters.items import to_wire
from oms_amazon.adapters.product_items import product_to_item
from oms_amazon.adapters.products import DynamoProductRepository
from oms_amazon.adapters.stock_sync import DynamoStockSyncStore
from oms_amazon.domain.accounts import Account
from oms_amazon.domain.jobs import Job
from oms_amazon.domain.marketplaces import Marketplace
from oms_amazon.domain.orders import AmazonOrder
from oms_amazon.domain.products import CatalogueProduct, ProductDraft
from oms_amazon.domain.stock_sync import FeedOutcome, ListingSnapshot, ReportOutcome, SkuError, StockRun
from oms_amazon.services.order_import.judge import OrderJudge
from oms_amazon.services.order_import.ports import RuleSources
from oms_amazon.services.products import ProductService
from oms_amazon.services.seller_access import SellerAccess
from oms_amazon.services.stock_sync.scheduler import new_run_id
from oms_amazon.services.stock_sync.worker import StockSyncWorker
from oms_amazon.stock import StockRules

from fakes import FakeAccounts, FakeSecrets, NoRejections
from tests.builders import account, amazon_order
from tests.conftest import CANARY_REFRESH_TOKEN

pytestmark = pytest.mark.integration

CLIENT = "bench-client"
SELLER = "A2SELLERUK01"
# Enough to tell a read of the changes from a read of the catalogue fiftyfold, small enough for moto, which
# spends about 2 ms on each item it hands back (each run reads the stock state of every SKU sent, too).
CATALOGUE = 500


class Reads:
    """Items DynamoDB hands back to one client, by operation."""

    def __init__(self, client: Any) -> None:
        self.items: Counter[str] = Counter()
        client.meta.events.register("after-call.dynamodb", self._record)

    def _record(self, model: Any, parsed: dict[str, Any], **_: Any) -> None:
        if model.name == "Query":
            self.items["Query"] += len(parsed.get("Items", []))
        elif model.name == "GetItem":
            self.items["GetItem"] += 1 if "Item" in parsed else 0
        elif model.name == "BatchGetItem":
            self.items["BatchGetItem"] += sum(len(found) for found in parsed.get("Responses", {}).values())
        elif model.name == "Scan":
            self.items["Scan"] += len(parsed.get("Items", []))

    def products(self) -> int:
        """Product items read (the batch head and the indexes' marker are one GetItem each per read)."""
        return self.items["Query"] + self.items["BatchGetItem"]

    def clear(self) -> None:
        self.items.clear()


class Clock:
    def __init__(self) -> None:
        self.now = datetime.now(UTC).replace(microsecond=0)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, delta: timedelta) -> None:
        self.now += delta


@dataclass
class RecordingSeller:
    """Amazon for one seller: quantity patches and feeds recorded, every feed processed without an issue."""

    listing: list[str] = field(default_factory=list)  # the seller's merchant-fulfilled SKUs
    patched: dict[str, int] = field(default_factory=dict)
    fed: list[dict[str, int]] = field(default_factory=list)
    reports: int = 0
    _documents: dict[str, bytes] = field(default_factory=dict)

    def request_listings_report(self, marketplace_id: str) -> str:
        self.reports += 1
        return f"report-{self.reports}"

    def listings_report(self, report_id: str) -> ReportOutcome:
        return ReportOutcome("done", dict.fromkeys(self.listing, "PRODUCT"))

    def upload_feed(self, content: bytes) -> tuple[str, str]:
        document = f"doc-{len(self._documents)}"
        self._documents[document] = content
        return document, "https://example.invalid/upload"

    def create_feed(self, feed_document_id: str, marketplace_ids: list[str]) -> str:
        import json

        feed = json.loads(self._documents[feed_document_id])
        self.fed.append(
            {m["sku"]: m["patches"][0]["value"][0]["quantity"] for m in feed["messages"]}  # one patch each
        )
        return f"feed-{feed_document_id}"

    def find_feed(self, created_since: datetime, marketplace_ids: list[str], known: set[str]) -> str | None:
        return None

    def feed_outcome(self, feed_id: str) -> FeedOutcome:
        return FeedOutcome("done", {"issues": []})

    def patch_quantity(self, sku: str, marketplace_id: str, product_type: str, quantity: int) -> list[SkuError]:
        self.patched[sku] = quantity
        return []

    def sent(self) -> dict[str, int]:
        """The quantities of the last feed, or the patches since the last look."""
        found = self.fed[-1] if self.fed else dict(self.patched)
        self.fed.clear()
        self.patched.clear()
        return found


@pytest.fixture
def product_client(aws: None) -> Any:
    return boto3.client("dynamodb")


@pytest.fixture
def reads(product_client: Any) -> Reads:
    return Reads(product_client)


@pytest.fixture
def repository(product_client: Any, table_name: str) -> DynamoProductRepository:
    return DynamoProductRepository(product_client, table_name)


@pytest.fixture
def clock() -> Clock:
    return Clock()


def simple(sku: str, quantity: int, at: datetime) -> CatalogueProduct:
    return CatalogueProduct(CLIENT, sku, None, quantity, (), frozenset(), at, at)


def load(dynamodb: Any, table: str, products: list[CatalogueProduct], *, legacy: bool = False) -> None:
    """Straight into the table; `legacy`: as stored before the indexes, without their keys."""
    requests = []
    for p in products:
        item = product_to_item(p)
        if legacy:
            item = {k: v for k, v in item.items() if not k.startswith("GSI")}
        requests.append({"PutRequest": {"Item": to_wire(item)}})
    for start in range(0, len(requests), 25):
        dynamodb.batch_write_item(RequestItems={table: requests[start : start + 25]})


def sku(n: int) -> str:
    return f"SKU-{n:05d}"


def uk_account(at: datetime, **settings: Any) -> Account:
    return account(
        "uk", "UK", client_id=CLIENT, merchant_id=SELLER, at=at, default_courier_service="Royal Mail 48", **settings
    )


class StockSync:
    """The real worker over the real product repository and stock-sync store, Amazon recorded."""

    def __init__(self, repository: DynamoProductRepository, table: str, clock: Clock, **settings: Any) -> None:
        self.clock = clock
        self.store = DynamoStockSyncStore(boto3.client("dynamodb"), table)
        self.accounts = FakeAccounts()
        self.account = self.accounts.add(uk_account(clock(), **settings))
        self.amazon = RecordingSeller()
        self.worker = StockSyncWorker(
            accounts=self.accounts,
            store=self.store,
            access=SellerAccess(
                FakeSecrets.holding(CLIENT, SELLER, CANARY_REFRESH_TOKEN), self._seller, NoRejections()
            ),
            products=repository,
            clock=clock,
            sleep=lambda seconds: None,
            poll_seconds=0,
        )

    def _seller(self, marketplace: Marketplace, merchant_id: str, refresh_token: str) -> RecordingSeller:
        return self.amazon

    def list_on_amazon(self, skus: list[str]) -> None:
        """Amazon lists `skus`, and the connector's snapshot says so (as a listings refresh would leave it)."""
        self.amazon.listing = list(skus)
        snapshot = ListingSnapshot(SELLER, "UK", self.clock(), dict.fromkeys(skus, "PRODUCT"))
        self.store.save_snapshot(CLIENT, snapshot)

    def set(self, **settings: Any) -> None:
        self.account = self.accounts.add(self.account.with_changes(**settings))

    def run(self) -> StockRun:
        now = self.clock()
        run = StockRun(new_run_id(now), CLIENT, self.account.id, "queued", "schedule", now)
        self.store.save_run(run)
        self.worker.handle(Job(job="stock_sync", client_id=CLIENT, account_id=self.account.id, run_id=run.run_id))
        done = self.store.get_run(CLIENT, self.account.id, run.run_id)
        assert done is not None and done.status in ("done", "submitted"), done
        return done


@pytest.fixture
def stock(dynamodb: Any, table_name: str, repository: DynamoProductRepository, clock: Clock) -> StockSync:
    """500 products stored an hour ago, all listed on Amazon; the first run has read and sent them all."""
    stored_at = clock() - timedelta(hours=1)
    load(dynamodb, table_name, [simple(sku(n), n % 40, stored_at) for n in range(CATALOGUE)])
    sync = StockSync(repository, table_name, clock)
    sync.list_on_amazon([sku(n) for n in range(CATALOGUE)])
    return sync


# --- stock sync -------------------------------------------------------------------------------------


def test_the_first_run_reads_the_whole_catalogue_and_the_next_only_the_ten_products_changed(
    stock, repository, reads, clock
):
    first = stock.run()
    assert (first.catalogue_read, first.skus_considered, first.skus_sent) == ("full", CATALOGUE, CATALOGUE)
    assert reads.products() == CATALOGUE
    assert len(stock.amazon.sent()) == CATALOGUE

    clock.advance(timedelta(minutes=15))
    products = ProductService(repository, clock)
    changed = [sku(n) for n in range(0, CATALOGUE, CATALOGUE // 10)]
    for name in changed:
        products.put(CLIENT, ProductDraft(name, quantity_available=100))
    clock.advance(timedelta(minutes=15))
    reads.clear()

    second = stock.run()

    assert (second.catalogue_read, second.skus_considered, second.skus_sent) == ("changes", 10, 10)
    assert stock.amazon.sent() == dict.fromkeys(changed, 100)
    assert reads.products() == 10, reads.items
    assert reads.items["Scan"] == 0


def test_a_run_with_nothing_changed_reads_no_product_and_sends_nothing(stock, reads, clock):
    stock.run()
    clock.advance(timedelta(minutes=15))
    reads.clear()

    quiet = stock.run()

    assert (quiet.catalogue_read, quiet.skus_considered, quiet.skus_sent, quiet.transport) == ("changes", 0, 0, "none")
    assert reads.products() == 0


def test_a_change_just_before_the_last_run_began_reading_is_read_again(stock, repository, clock):
    """The changes index trails the table, and a batch commits after its time stamp: the next run reads
    from the last one's start less a margin, so a change the last run could have missed is read again."""
    clock.advance(timedelta(minutes=15))
    ProductService(repository, lambda: clock() - timedelta(seconds=20)).put(
        CLIENT, ProductDraft(sku(7), quantity_available=321)
    )
    stock.run()
    stock.amazon.sent()
    clock.advance(timedelta(minutes=15))

    again = stock.run()

    assert again.catalogue_read == "changes"
    assert again.skus_considered == 1 and again.skus_unchanged == 1  # read again, already sent
    assert stock.amazon.sent() == {}


def test_a_change_of_stock_rules_reads_the_whole_catalogue_again(stock, reads, clock):
    stock.run()
    clock.advance(timedelta(minutes=15))
    stock.set(stock_rules=StockRules(buffer=1))
    reads.clear()

    after = stock.run()

    assert after.catalogue_read == "full"
    assert reads.products() == CATALOGUE


def test_the_whole_catalogue_is_read_again_a_day_after_the_last_full_read(stock, reads, clock):
    stock.run()
    clock.advance(timedelta(hours=23, minutes=45))
    assert stock.run().catalogue_read == "changes"
    clock.advance(timedelta(minutes=15))
    reads.clear()

    daily = stock.run()  # the snapshot is a day old too: read again within the run, compared with the last

    assert daily.catalogue_read == "full"
    assert reads.products() == CATALOGUE
    assert stock.amazon.reports == 1


def test_a_listing_amazon_added_since_the_snapshot_is_sent_reading_only_its_product(
    stock, repository, dynamodb, table_name, reads, clock
):
    load(dynamodb, table_name, [simple("NEW-1", 12, clock() - timedelta(hours=1))])
    stock.run()
    stock.amazon.sent()
    stock.amazon.listing.append("NEW-1")  # listed on Amazon since the snapshot
    clock.advance(timedelta(hours=2))
    ProductService(repository, clock).put(CLIENT, ProductDraft("LATE-1", quantity_available=3))  # not listed
    clock.advance(timedelta(minutes=1))
    reads.clear()

    after = stock.run()

    assert after.catalogue_read == "changes"
    assert stock.amazon.reports == 1  # an OMS SKU missing from the listing asked for it again
    assert stock.amazon.sent() == {"NEW-1": 12}
    assert reads.products() == 2, reads.items  # LATE-1 (changed), NEW-1 (newly listed) by key


def with_kit(stock: StockSync, repository: DynamoProductRepository, clock: Clock) -> ProductService:
    """KIT = 1 x SKU-00001 + 3 x SKU-00002 (30 each), bundles synced, and a run that sent it all."""
    products = ProductService(repository, clock)
    products.put(CLIENT, ProductDraft(sku(1), quantity_available=30))
    products.put(CLIENT, ProductDraft(sku(2), quantity_available=30))
    products.put(
        CLIENT, ProductDraft("KIT", components=[{"sku": sku(1), "quantity": 1}, {"sku": sku(2), "quantity": 3}])
    )
    stock.set(include_bundles_in_stock_sync=True)
    stock.list_on_amazon([sku(n) for n in range(CATALOGUE)] + ["KIT"])
    clock.advance(timedelta(minutes=15))
    first = stock.run()
    assert first.catalogue_read == "full"
    assert stock.amazon.sent()["KIT"] == 10
    clock.advance(timedelta(minutes=15))
    return products


def test_a_bundle_is_sent_again_when_one_of_its_components_changed_reading_it_and_its_components_by_key(
    stock, repository, reads, clock
):
    products = with_kit(stock, repository, clock)
    products.put(CLIENT, ProductDraft(sku(1), quantity_available=4))
    clock.advance(timedelta(minutes=15))
    reads.clear()

    after = stock.run()

    assert after.catalogue_read == "changes"
    assert stock.amazon.sent() == {sku(1): 4, "KIT": 4}
    assert reads.items["Query"] == 1, reads.items  # the changed component
    assert reads.items["BatchGetItem"] == 2, reads.items  # the bundle, then its other component


def test_a_bundle_changed_itself_is_sent_again(stock, repository, clock):
    products = with_kit(stock, repository, clock)
    products.put(CLIENT, ProductDraft("KIT", components=[{"sku": sku(1), "quantity": 2}]))
    clock.advance(timedelta(minutes=15))

    after = stock.run()

    assert after.catalogue_read == "changes"
    assert stock.amazon.sent() == {"KIT": 15}


def test_a_sku_amazon_rejected_is_sent_again_by_the_next_run_though_its_product_did_not_change(
    stock, repository, reads, clock
):
    stock.run()
    stock.amazon.sent()
    state = stock.store.state(CLIENT, SELLER, "eu")
    rejected = replace(state.last_sent[sku(3)], status="rejected")
    stock.store.save_state(replace(state, last_sent={**state.last_sent, sku(3): rejected}), reconcile_after=None)
    clock.advance(timedelta(minutes=15))
    reads.clear()

    after = stock.run()

    assert after.catalogue_read == "changes"
    assert stock.amazon.sent() == {sku(3): 3}
    assert reads.products() == 1


# --- order lines --------------------------------------------------------------------------------------


def order(order_id: str, *skus: str) -> AmazonOrder:
    return amazon_order(order_id, *skus)


def judge_all(repository: DynamoProductRepository, orders: list[AmazonOrder], uk: Account) -> dict[str, Any]:
    """As the importer does with a page: the lines' SKUs looked up in one go, then each order judged."""
    judge = OrderJudge(CLIENT, RuleSources(repository.skus_matching, lambda client_id: []))
    judge.prefetch((o, uk) for o in orders)
    now = datetime.now(UTC)
    return {o.amazon_order_id: judge.judge(o, uk, now, None) for o in orders}


@pytest.fixture
def catalogue(dynamodb: Any, table_name: str) -> None:
    at = datetime.now(UTC) - timedelta(days=1)
    load(dynamodb, table_name, [simple(sku(n), 5, at) for n in range(CATALOGUE)])
    load(dynamodb, table_name, [simple(s, 5, at) for s in ("Tent-2P", "MUG-a", "MUG-A")])


SKU_HOLDS = ("sku_case_mismatch", "sku_ambiguous", "unknown_sku")


def holds(judged: Any) -> list[tuple[str, ...]]:
    return [(h.code, *sorted(str(v) for v in h.extra.values())) for h in judged.hold_reasons if h.code in SKU_HOLDS]


def test_an_import_of_three_orders_reads_only_their_skus(catalogue, repository, reads):
    uk = uk_account(datetime.now(UTC))
    orders = [order("1", sku(10), sku(11)), order("2", sku(400)), order("3", sku(10))]

    judged = judge_all(repository, orders, uk)

    assert {o.status for o in judged.values()} == {"on_hold"}  # no courier mapping here; the SKUs pass
    assert all(holds(o) == [] for o in judged.values())
    assert reads.products() == 3, reads.items
    assert reads.items["Scan"] == 0


def test_a_case_only_mismatch_and_an_ambiguous_sku_are_still_caught_by_the_folded_key(catalogue, repository, reads):
    uk = uk_account(datetime.now(UTC))
    judge_all(repository, [order("0", "NOT-OURS-EITHER")], uk)  # a new client's first miss: one whole read
    reads.clear()
    orders = [order("1", "TENT-2P"), order("2", "mug-a"), order("3", "NOT-OURS")]

    judged = judge_all(repository, orders, uk)

    assert holds(judged["1"]) == [("sku_case_mismatch", "TENT-2P", "Tent-2P")]
    assert holds(judged["2"]) == [("sku_ambiguous", "['MUG-A', 'MUG-a']", "mug-a")]
    assert holds(judged["3"]) == [("unknown_sku", "NOT-OURS")]
    # the three SKUs by key (none is a product), the folded-SKU index's keys of the three that fold alike,
    # and those three by key: nothing else of the 503 products
    assert reads.items["Query"] == 3 and reads.items["BatchGetItem"] == 3, reads.items


def test_products_stored_before_the_folded_key_are_indexed_by_the_first_lookup_that_needs_it(
    dynamodb, table_name, repository, reads, product_client
):
    at = datetime.now(UTC) - timedelta(days=1)
    load(
        dynamodb,
        table_name,
        [simple(sku(n), 5, at) for n in range(CATALOGUE)] + [simple("Tent-2P", 5, at)],
        legacy=True,
    )
    uk = uk_account(datetime.now(UTC))

    first = judge_all(repository, [order("1", "TENT-2P"), order("2", sku(1))], uk)

    assert holds(first["1"]) == [("sku_case_mismatch", "TENT-2P", "Tent-2P")]
    assert holds(first["2"]) == []
    assert reads.items["Query"] == CATALOGUE + 1  # the catalogue, read once
    reads.clear()

    # another container: it learns from the table that the catalogue is indexed
    again = judge_all(DynamoProductRepository(product_client, table_name), [order("3", "tent-2p")], uk)

    assert holds(again["3"]) == [("sku_case_mismatch", "Tent-2P", "tent-2p")]
    assert (reads.items["Query"], reads.items["BatchGetItem"]) == (1, 1), reads.items  # folded key, then by key
