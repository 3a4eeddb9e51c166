"""The DynamoDB products repository with moto: whole-catalogue reads by Query only, transactions
that keep `used_by` right under races, and the packing of changes into transactions."""

from __future__ import annotations

import os
import time
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError
from botocore.stub import Stubber
from oms_amazon.adapters.items import to_wire
from oms_amazon.adapters.product_batches import BatchHeadView, roll_forward_request, stage_request, visible_product
from oms_amazon.adapters.product_items import (
    MAX_TRANSACTION_ACTIONS,
    fold_partition,
    pack_transactions,
    product_to_item,
    transaction_actions,
)
from oms_amazon.adapters.products import DynamoProductRepository
from oms_amazon.domain.errors import DependencyUnavailable
from oms_amazon.domain.products import CatalogueChanged, CatalogueProduct, ProductChange, StagedProduct
from oms_amazon.stock import MAX_BUNDLE_COMPONENTS, Component

from tests.conftest import all_items

pytestmark = pytest.mark.integration

CLIENT = "acme-outdoor"
T0 = datetime(2026, 11, 29, 9, 0, tzinfo=UTC)
# 100,000 (the stock sync's target) takes about four minutes under moto (75 s to load, 150 s to read:
# moto's Query walks the whole partition for every page), so the suite reads 3,000 products with long
# names: as many 1 MB pages as 20,000 ordinary ones, in a tenth of the time.
# OMS_CATALOGUE_SIZE=100000 runs the full size.
CATALOGUE_SIZE = int(os.environ.get("OMS_CATALOGUE_SIZE", "3000"))
LONG_NAME = "x" * 1400


class CallLog:
    """Every DynamoDB operation a client sends, by name (botocore's event hooks; nothing is mocked)."""

    def __init__(self, client: Any) -> None:
        self.operations: list[str] = []
        client.meta.events.register("before-call.dynamodb", self._record)

    def _record(self, model: Any, **_: Any) -> None:
        self.operations.append(model.name)


@pytest.fixture
def client(aws: None) -> Any:
    return boto3.client("dynamodb")


@pytest.fixture
def calls(client: Any) -> CallLog:
    return CallLog(client)


@pytest.fixture
def repository(client: Any, table_name: str) -> DynamoProductRepository:
    return DynamoProductRepository(client, table_name)


def product(sku: str, quantity: int = 5, *components: tuple[str, int], client_id: str = CLIENT) -> CatalogueProduct:
    return CatalogueProduct(
        client_id=client_id,
        sku=sku,
        name=f"Product {sku}",
        quantity_available=0 if components else quantity,
        components=tuple(Component(s, q) for s, q in components),
        used_in_bundles=frozenset(),
        created_at=T0,
        updated_at=T0,
    )


def create(repository: DynamoProductRepository, *products: CatalogueProduct) -> None:
    """New products, each bundle recorded on its components (as the service plans it)."""
    repository.apply([ProductChange(p, None, joins=tuple(c.sku for c in p.components)) for p in products])


def load(dynamodb: Any, table: str, products: list[CatalogueProduct]) -> None:
    """Straight into the table, 25 items a call: the fast way to build a big catalogue."""
    requests = [{"PutRequest": {"Item": to_wire(product_to_item(p))}} for p in products]
    for start in range(0, len(requests), 25):
        dynamodb.batch_write_item(RequestItems={table: requests[start : start + 25]})


def used_by(repository: DynamoProductRepository, sku: str) -> set[str]:
    found = repository.get(CLIENT, sku)
    assert found is not None
    return set(found.used_in_bundles)


# --- reading a whole catalogue ---------------------------------------------------------------------


def test_a_whole_catalogue_is_read_with_queries_only(dynamodb, table_name, repository, calls):
    """Measured: 3,000 products of about 1.7 KB (their index keys included) take 6 Query calls (1 MB pages, one bundle in a
    hundred); 100,000 (OMS_CATALOGUE_SIZE=100000) take well over 21. Besides, one GetItem of the batch
    head (which batches a read shows); nothing else."""
    catalogue = [
        replace(
            product(f"SKU-{n:06d}", n % 50) if n % 100 else product(f"KIT-{n:06d}", 0, (f"SKU-{n + 1:06d}", 2)),
            name=f"Product {n} {LONG_NAME}",
        )
        for n in range(CATALOGUE_SIZE)
    ]
    loaded_at = time.monotonic()
    load(dynamodb, table_name, catalogue)
    load(dynamodb, table_name, [product("SKU-000001", client_id="bluebird-gifts")])
    loading = time.monotonic() - loaded_at
    calls.operations.clear()

    read_at = time.monotonic()
    read = list(repository.iter_catalogue(CLIENT))
    reading = time.monotonic() - read_at

    assert len(read) == CATALOGUE_SIZE
    assert [p.sku for p in read] == sorted(p.sku for p in catalogue)
    assert {p.client_id for p in read} == {CLIENT}
    bundles = [p for p in read if p.is_bundle]
    assert len(bundles) == CATALOGUE_SIZE // 100
    assert bundles[0].components == (Component("SKU-000001", 2),)
    head, *pages = calls.operations
    assert head == "GetItem"
    assert set(pages) == {"Query"}, "never a Scan, never an item at a time"
    expected_pages = {3_000: 6}.get(CATALOGUE_SIZE)
    assert len(pages) == expected_pages if expected_pages else len(pages) > 1, len(pages)
    print(f"{CATALOGUE_SIZE} products: {len(pages)} Query calls; load {loading:.1f}s, read {reading:.1f}s")


def test_a_catalogue_holds_only_that_clients_products(api, repository):
    api("POST", "/accounts", {"merchant_id": "A2SELLERUK01", "marketplace": "UK"})
    create(repository, product("A"), product("B"), product("A", client_id="bluebird-gifts"))

    assert [p.sku for p in repository.iter_catalogue(CLIENT)] == ["A", "B"]
    assert [p.sku for p in repository.iter_catalogue("bluebird-gifts")] == ["A"]
    assert list(repository.iter_catalogue("nobody")) == []


def test_many_products_are_read_by_key_a_hundred_at_a_time(repository, calls):
    create(repository, *(product(f"P{n:03d}") for n in range(250)))
    calls.operations.clear()

    found = repository.get_many(CLIENT, [f"P{n:03d}" for n in range(0, 260)])

    assert sorted(found) == [f"P{n:03d}" for n in range(250)]
    assert calls.operations == ["GetItem"] + ["BatchGetItem"] * 3, "the batch head, then the products"


# --- transactions ------------------------------------------------------------------------------------


def test_simple_products_are_written_a_hundred_to_a_transaction(repository, calls):
    create(repository, *(product(f"P{n:03d}") for n in range(250)))

    assert calls.operations == ["TransactWriteItems"] * 3
    assert len(list(repository.iter_catalogue(CLIENT))) == 250


def test_replacing_every_component_of_the_largest_bundle_takes_one_transaction(repository, calls):
    old = [f"OLD-{n:02d}" for n in range(MAX_BUNDLE_COMPONENTS)]
    new = [f"NEW-{n:02d}" for n in range(MAX_BUNDLE_COMPONENTS)]
    create(repository, *(product(sku) for sku in old + new))
    kit = product("KIT", 0, *((sku, 1) for sku in old))
    create(repository, kit)
    calls.operations.clear()

    swapped = replace(kit, components=tuple(Component(sku, 1) for sku in new), version=2)
    change = ProductChange(swapped, 1, joins=tuple(new), leaves=tuple(old))
    repository.apply([change])

    assert calls.operations == ["TransactWriteItems"]
    assert 1 + 2 * MAX_BUNDLE_COMPONENTS <= MAX_TRANSACTION_ACTIONS
    assert used_by(repository, "OLD-00") == set()
    assert used_by(repository, "NEW-48") == {"KIT"}


def test_replacing_a_product_never_clobbers_its_bundles_or_attributes_it_does_not_own(dynamodb, table_name, repository):
    create(repository, product("A"), product("KIT", 0, ("A", 1)))
    dynamodb.update_item(
        TableName=table_name,
        Key={"PK": {"S": f"CLIENT#{CLIENT}"}, "SK": {"S": "PRODUCT#A"}},
        UpdateExpression="SET last_pushed = :q",
        ExpressionAttributeValues={":q": {"N": "4"}},
    )

    repository.apply([ProductChange(replace(product("A", 9), version=2), 1)])

    item = next(i for i in all_items(dynamodb, table_name) if i["SK"]["S"] == "PRODUCT#A")
    assert item["used_by"] == {"SS": ["KIT"]}
    assert item["last_pushed"] == {"N": "4"}
    assert item["quantity_available"] == {"N": "9"}


@pytest.mark.parametrize(
    "meanwhile",
    ["component_deleted", "component_became_bundle", "bundle_changed", "bundle_created"],
)
def test_a_bundle_write_planned_on_a_stale_read_changes_nothing(dynamodb, table_name, repository, meanwhile):
    create(repository, product("A"), product("B"), product("C"))
    if meanwhile == "component_deleted":
        stored = repository.get(CLIENT, "A")
        assert stored is not None
        repository.delete(stored)
    elif meanwhile == "component_became_bundle":
        repository.apply([ProductChange(replace(product("A", 0, ("C", 1)), version=2), 1, joins=("C",))])
    elif meanwhile == "bundle_created":
        create(repository, product("KIT", 0, ("C", 1)))
    before = all_items(dynamodb, table_name)
    kit = product("KIT", 0, ("A", 1), ("B", 1))
    expected = 1 if meanwhile == "bundle_changed" else None
    if meanwhile == "bundle_changed":
        kit = replace(kit, version=2)

    with pytest.raises(CatalogueChanged):
        repository.apply([ProductChange(kit, expected, joins=("A", "B"))])

    assert all_items(dynamodb, table_name) == before


def test_a_product_a_bundle_uses_is_not_written_as_a_bundle_even_when_planned_so(dynamodb, table_name, repository):
    create(repository, product("A"), product("B"), product("KIT", 0, ("A", 1)))
    before = all_items(dynamodb, table_name)

    with pytest.raises(CatalogueChanged):
        repository.apply([ProductChange(replace(product("A", 0, ("B", 1)), version=2), 1, joins=("B",))])

    assert all_items(dynamodb, table_name) == before


def test_a_product_a_bundle_uses_is_not_deleted_even_when_planned_so(dynamodb, table_name, repository):
    create(repository, product("A"))
    stale = repository.get(CLIENT, "A")
    assert stale is not None
    create(repository, product("KIT", 0, ("A", 1)))
    before = all_items(dynamodb, table_name)

    with pytest.raises(CatalogueChanged):
        repository.delete(stale)

    assert all_items(dynamodb, table_name) == before


def test_deleting_a_bundle_takes_it_off_its_components_in_the_same_transaction(dynamodb, table_name, repository, calls):
    create(repository, product("A"), product("B"), product("KIT", 0, ("A", 1), ("B", 2)))
    kit = repository.get(CLIENT, "KIT")
    assert kit is not None
    calls.operations.clear()

    repository.delete(kit)

    assert calls.operations == ["TransactWriteItems"]
    assert repository.get(CLIENT, "KIT") is None
    assert all("used_by" not in item for item in all_items(dynamodb, table_name))


def test_a_failed_transaction_says_how_many_changes_were_committed_before_it(repository):
    create(repository, product("TAKEN"))
    changes = [ProductChange(product(f"P{n:03d}"), None) for n in range(150)]
    changes.append(ProductChange(product("TAKEN"), None))

    with pytest.raises(CatalogueChanged) as raised:
        repository.apply(changes)

    assert raised.value.committed == 100
    assert len(list(repository.iter_catalogue(CLIENT))) == 101


# --- packing, and the data store's answers (no moto needed) -----------------------------------------


def test_components_several_bundles_join_are_updated_once_per_transaction():
    kits = [ProductChange(product(f"KIT-{n}", 0, ("A", 1), ("B", 1)), None, joins=("A", "B")) for n in range(3)]

    (transaction,) = pack_transactions(kits)
    actions = transaction_actions("table", CLIENT, transaction)

    assert len(actions) == 5
    joins = [a["Update"] for a in actions if a["Update"]["UpdateExpression"] == "ADD used_by :bundles"]
    assert [j["ExpressionAttributeValues"][":bundles"]["SS"] for j in joins] == [["KIT-0", "KIT-1", "KIT-2"]] * 2


def test_changes_touching_one_item_in_different_ways_go_in_separate_transactions_in_order():
    joins_a = ProductChange(product("KIT-1", 0, ("A", 1)), None, joins=("A",))
    leaves_a = ProductChange(replace(product("KIT-2", 0, ("B", 1)), version=2), 1, joins=("B",), leaves=("A",))
    writes_a = ProductChange(replace(product("A", 7), version=2), 1)
    other = ProductChange(product("C"), None)

    packed = pack_transactions([joins_a, leaves_a, writes_a, other])

    assert [[c.product.sku for c in t.changes] for t in packed] == [["KIT-1"], ["KIT-2"], ["A", "C"]]


def test_changes_fill_transactions_up_to_the_action_limit_without_being_split():
    components = [f"C{n}" for n in range(40)]
    kit = ProductChange(product("KIT", 0, *((c, 1) for c in components)), None, joins=tuple(components))
    simples = [ProductChange(product(f"P{n:02d}"), None) for n in range(60)]

    exactly_full = pack_transactions([*simples[:59], kit, simples[59]])
    one_too_many = pack_transactions([*simples, kit])

    assert [len(transaction_actions("t", CLIENT, t)) for t in exactly_full] == [100, 1]
    assert [len(transaction_actions("t", CLIENT, t)) for t in one_too_many] == [60, 41]


def _cancelled(reason: str) -> ClientError:
    return ClientError(
        {"Error": {"Code": "TransactionCanceledException"}, "CancellationReasons": [{"Code": reason}]},
        "TransactWriteItems",
    )


@pytest.mark.parametrize(
    ("reason", "raised"),
    [
        ("ConditionalCheckFailed", CatalogueChanged),
        ("TransactionConflict", CatalogueChanged),
        ("ThrottlingError", DependencyUnavailable),
        ("ProvisionedThroughputExceeded", DependencyUnavailable),
    ],
)
def test_a_cancelled_transaction_is_a_race_or_a_busy_store(reason, raised):
    client = boto3.client("dynamodb", region_name="eu-west-2", aws_access_key_id="x", aws_secret_access_key="x")
    with Stubber(client) as stub:
        stub.add_client_error(
            "transact_write_items",
            service_error_code="TransactionCanceledException",
            response_meta={},
            modeled_fields={"CancellationReasons": [{"Code": reason}]},
        )
        with pytest.raises(raised):
            DynamoProductRepository(client, "table").apply([ProductChange(product("A"), None)])
        stub.assert_no_pending_responses()


# --- batches (pure request builders) -------------------------------------------------------------------


def test_staging_a_new_product_requires_that_nothing_holds_its_key():
    request = stage_request("t", "b1", StagedProduct(product("NEW"), None, frozenset()))

    assert request["UpdateExpression"] == (
        "SET #staged_by = :batch, #staged = :staged, #GSI1PK = :GSI1PK, #GSI1SK = :GSI1SK, #GSI3PK = :GSI3PK"
    )
    assert request["ConditionExpression"] == (
        "attribute_not_exists(PK) AND attribute_not_exists(used_by) AND attribute_not_exists(#staged_by)"
    )
    assert request["ExpressionAttributeValues"][":staged"]["M"]["sku"] == {"S": "NEW"}


def test_staging_moves_the_products_index_keys_before_the_batch_commits():
    """A reader of the changes since its last read must not miss a batch that commits after that read:
    the change time is on the index when the product is staged, its content in the staged state only."""
    request = stage_request("t", "b1", StagedProduct(product("NEW"), None, frozenset()))

    values = request["ExpressionAttributeValues"]
    assert values[":GSI1PK"] == {"S": f"PRODUCTS#{CLIENT}"}
    assert values[":GSI1SK"]["S"].startswith(T0.strftime("%Y-%m-%dT%H:%M:%S")) and values[":GSI1SK"]["S"].endswith(
        "#NEW"
    )
    assert values[":GSI3PK"]["S"] == fold_partition(CLIENT, "new")
    assert not {"GSI1PK", "GSI1SK", "GSI3PK"} & set(values[":staged"]["M"])


def test_staging_a_component_requires_its_version_and_the_very_bundles_it_was_planned_with():
    component = replace(product("A"), version=4, used_in_bundles=frozenset({"KIT-1", "KIT-2"}))

    request = stage_request("t", "b1", StagedProduct(component, 4, frozenset({"KIT-1"})))

    assert request["ConditionExpression"] == (
        "#version = :expected AND used_by = :used_by AND attribute_not_exists(#staged_by)"
    )
    assert request["ExpressionAttributeValues"][":used_by"] == {"SS": ["KIT-1"]}
    staged = request["ExpressionAttributeValues"][":staged"]["M"]
    assert (staged["joins"], staged["leaves"]) == ({"L": [{"S": "KIT-2"}]}, {"L": []}), "a change, not the whole set"
    assert "used_by" not in staged


def test_rolling_forward_only_touches_an_item_its_batch_still_holds_and_leaves_the_commit_number():
    request = roll_forward_request("t", "b1", 7, product("A"))

    assert request["ConditionExpression"] == "#staged_by = :batch"
    assert request["ExpressionAttributeValues"][":batch"] == {"S": "b1"}
    assert request["ExpressionAttributeValues"][":written_seq"] == {"N": "7"}
    assert request["UpdateExpression"].endswith("REMOVE #components, #used_by, #staged_by, #staged")


def test_a_reader_shows_a_staged_product_only_for_a_batch_committed_before_it_read_the_head():
    old, new = product("A", 1), product("A", 2)
    item = {**product_to_item(old), "staged_by": "b1", "staged": {**product_to_item(new), "joins": [], "leaves": []}}
    fresh = {k: v for k, v in item.items() if k in ("PK", "SK", "staged_by", "staged")}

    assert visible_product(item, BatchHeadView(seq=3, batches={"b1": 3})) == new
    assert visible_product(item, BatchHeadView(seq=2, batches={"b1": 3})) == old, "committed after the head was read"
    assert visible_product(item, BatchHeadView(seq=3, batches={"b1": "pending 2026-11-29T09:05:00.000Z"})) == old
    assert visible_product(item, BatchHeadView(seq=3, batches={})) == old, "a batch that entered the head later"
    assert visible_product(fresh, BatchHeadView(seq=3, batches={"b1": "aborted"})) is None
    assert not BatchHeadView(seq=2, batches={}).is_current({**product_to_item(new), "written_seq": 3})
