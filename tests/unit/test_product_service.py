"""The products service with a recording fake: bundles, the nesting rule, races and batches."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from oms_amazon.domain.errors import Conflict, DependencyUnavailable, InvalidInput, NotFound
from oms_amazon.domain.products import (
    MAX_BATCH_SIZE,
    MAX_USED_IN_BUNDLES_BYTES,
    CatalogueProduct,
    ProductDraft,
    RefusedItem,
)
from oms_amazon.services.products import ProductService
from oms_amazon.stock import Component

from fakes import FakeProducts

pytestmark = pytest.mark.unit

CLIENT = "acme"
T0 = datetime(2026, 11, 29, 9, 0, tzinfo=UTC)


class Clock:
    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> datetime:
        self.now += timedelta(seconds=1)
        return self.now


@pytest.fixture
def products() -> FakeProducts:
    return FakeProducts()


@pytest.fixture
def service(products: FakeProducts) -> ProductService:
    return ProductService(products, clock=Clock())


def simple(sku: str, quantity: int = 5, name: str | None = None) -> ProductDraft:
    return ProductDraft(sku=sku, name=name, quantity_available=quantity)


def bundle(sku: str, *components: tuple[str, int]) -> ProductDraft:
    return ProductDraft(sku=sku, components=[{"sku": s, "quantity": q} for s, q in components])


def stored(products: FakeProducts, sku: str) -> CatalogueProduct:
    product = products.get(CLIENT, sku)
    assert product is not None
    return product


def users(products: FakeProducts, sku: str) -> set[str]:
    return set(stored(products, sku).used_in_bundles)


# --- one product -----------------------------------------------------------------------------------


def test_a_new_simple_product_is_created_at_version_one(service, products):
    saved = service.put(CLIENT, simple("SKU-1", 7, "Blue tent"))

    assert saved.status == "created"
    assert stored(products, "SKU-1") == saved.product
    assert (saved.product.quantity_available, saved.product.name, saved.product.version) == (7, "Blue tent", 1)
    assert saved.product.created_at == saved.product.updated_at


def test_replacing_a_product_keeps_created_at_and_bumps_the_version(service):
    first = service.put(CLIENT, simple("SKU-1", 7, "Blue tent")).product
    second = service.put(CLIENT, simple("SKU-1", -2))

    assert second.status == "replaced"
    assert (second.product.quantity_available, second.product.name, second.product.version) == (-2, None, 2)
    assert second.product.created_at == first.created_at
    assert second.product.updated_at > first.updated_at


def test_a_put_that_changes_nothing_writes_nothing_and_keeps_the_version(service, products):
    first = service.put(CLIENT, simple("SKU-1", 7)).product
    again = service.put(CLIENT, simple("SKU-1", 7))

    assert again.status == "unchanged"
    assert again.product == first
    assert products.applied[-1] == []


def test_a_simple_product_needs_a_quantity(service, products):
    with pytest.raises(InvalidInput) as raised:
        service.put(CLIENT, ProductDraft(sku="SKU-1"))

    assert raised.value.details == [{"field": "quantity_available", "reason": "required"}]
    assert products.products == {}


def test_skus_are_case_sensitive(service, products):
    service.put(CLIENT, simple("abc-1", 1))
    service.put(CLIENT, simple("ABC-1", 2))

    assert stored(products, "abc-1").quantity_available == 1
    assert stored(products, "ABC-1").quantity_available == 2
    with pytest.raises(NotFound):
        service.get(CLIENT, "Abc-1")


def test_an_invalid_sku_never_reaches_the_store(service, products):
    with pytest.raises(InvalidInput) as raised:
        service.put(CLIENT, simple(" SKU-1"))

    assert raised.value.code == "invalid_sku"
    assert products.applied == []


def test_another_clients_product_is_not_found(service):
    service.put(CLIENT, simple("SKU-1"))

    with pytest.raises(NotFound) as raised:
        service.get("bluebird", "SKU-1")
    assert raised.value.code == "product_not_found"


# --- bundles ---------------------------------------------------------------------------------------


def test_a_bundle_is_recorded_on_each_of_its_components(service, products):
    service.put(CLIENT, simple("A"))
    service.put(CLIENT, simple("B"))

    saved = service.put(CLIENT, bundle("KIT", ("A", 2), ("B", 1)))

    assert saved.product.components == (Component("A", 2), Component("B", 1))
    assert users(products, "A") == users(products, "B") == {"KIT"}


def test_a_bundle_keeps_no_quantity_of_its_own(service):
    service.put(CLIENT, simple("A"))

    saved = service.put(
        CLIENT, ProductDraft(sku="KIT", quantity_available=99, components=[{"sku": "A", "quantity": 1}])
    )

    assert saved.product.quantity_available == 0
    assert saved.product.is_bundle


def test_changing_a_bundles_components_moves_it_between_components(service, products):
    for sku in ("A", "B", "C"):
        service.put(CLIENT, simple(sku))
    service.put(CLIENT, bundle("KIT", ("A", 1), ("B", 1)))

    service.put(CLIENT, bundle("KIT", ("B", 3), ("C", 1)))

    assert (users(products, "A"), users(products, "B"), users(products, "C")) == (set(), {"KIT"}, {"KIT"})


def test_a_bundle_that_becomes_simple_lets_go_of_its_components(service, products):
    service.put(CLIENT, simple("A"))
    service.put(CLIENT, bundle("KIT", ("A", 1)))

    saved = service.put(CLIENT, simple("KIT", 4))

    assert not saved.product.is_bundle
    assert users(products, "A") == set()


def test_replacing_a_component_keeps_the_bundles_that_use_it(service, products):
    service.put(CLIENT, simple("A", 5))
    service.put(CLIENT, bundle("KIT", ("A", 1)))

    saved = service.put(CLIENT, simple("A", 50, "renamed"))

    assert saved.product.used_in_bundles == frozenset({"KIT"})
    assert users(products, "A") == {"KIT"}


@pytest.mark.parametrize(
    ("components", "code"),
    [
        ([("MISSING", 1)], "component_not_found"),
        ([("KIT", 1)], "bundle_contains_itself"),
        ([("OTHER-KIT", 1)], "component_is_bundle"),
        ([("A", 0)], "invalid_component_quantity"),
        ([("a", 1)], "component_not_found"),
    ],
)
def test_the_bundle_rules_refuse_bad_components_and_nothing_is_written(service, products, components, code):
    service.put(CLIENT, simple("A"))
    service.put(CLIENT, bundle("OTHER-KIT", ("A", 1)))
    before = dict(products.products)

    with pytest.raises(InvalidInput) as raised:
        service.put(CLIENT, bundle("KIT", *components))

    assert raised.value.code == code
    assert products.products == before


def test_a_component_of_another_client_is_not_found(service):
    service.put("bluebird", simple("A"))

    with pytest.raises(InvalidInput) as raised:
        service.put(CLIENT, bundle("KIT", ("A", 1)))
    assert raised.value.code == "component_not_found"


def test_a_product_used_by_a_bundle_cannot_become_a_bundle(service, products):
    for sku in ("A", "B"):
        service.put(CLIENT, simple(sku))
    service.put(CLIENT, bundle("KIT", ("A", 1)))

    with pytest.raises(Conflict) as raised:
        service.put(CLIENT, bundle("A", ("B", 1)))

    assert raised.value.code == "product_in_bundle"
    assert raised.value.details[0]["bundles"] == ["KIT"]
    assert not stored(products, "A").is_bundle
    assert users(products, "B") == set()


def test_a_product_that_bundles_used_to_contain_may_become_a_bundle(service):
    for sku in ("A", "B"):
        service.put(CLIENT, simple(sku))
    service.put(CLIENT, bundle("KIT", ("A", 1)))
    service.put(CLIENT, bundle("KIT", ("B", 1)))

    assert service.put(CLIENT, bundle("A", ("B", 1))).product.is_bundle


def test_a_component_in_too_many_bundles_for_its_item_is_refused(service, products):
    crowded = frozenset(f"{n:06d}".ljust(200, "x") for n in range(MAX_USED_IN_BUNDLES_BYTES // 200))
    service.put(CLIENT, simple("A"))
    products.add(replace(stored(products, "A"), used_in_bundles=crowded))

    with pytest.raises(Conflict) as raised:
        service.put(CLIENT, bundle("KIT", ("A", 1)))

    assert raised.value.code == "component_in_too_many_bundles"
    assert products.get(CLIENT, "KIT") is None


# --- delete ----------------------------------------------------------------------------------------


def test_a_component_of_a_bundle_cannot_be_deleted_and_the_error_names_the_bundles(service, products):
    service.put(CLIENT, simple("A"))
    service.put(CLIENT, bundle("KIT-1", ("A", 1)))
    service.put(CLIENT, bundle("KIT-2", ("A", 2)))

    with pytest.raises(Conflict) as raised:
        service.delete(CLIENT, "A")

    assert raised.value.code == "product_in_bundle"
    assert "'KIT-1'" in raised.value.message and "'KIT-2'" in raised.value.message
    assert raised.value.details[0]["bundles"] == ["KIT-1", "KIT-2"]
    assert products.get(CLIENT, "A") is not None


def test_deleting_a_bundle_frees_its_components(service, products):
    service.put(CLIENT, simple("A"))
    service.put(CLIENT, bundle("KIT", ("A", 1)))

    service.delete(CLIENT, "KIT")
    service.delete(CLIENT, "A")

    assert products.products == {}


def test_deleting_a_missing_product_is_not_found(service):
    with pytest.raises(NotFound):
        service.delete(CLIENT, "NOPE")


# --- races -----------------------------------------------------------------------------------------


def test_a_write_that_loses_a_race_is_planned_again_from_a_fresh_read(service, products):
    service.put(CLIENT, simple("A", 1))
    products.concurrently = lambda: service.put(CLIENT, simple("A", 2, "theirs"))

    saved = service.put(CLIENT, simple("A", 3, "mine"))

    assert (saved.product.quantity_available, saved.product.name, saved.product.version) == (3, "mine", 3)
    assert len(products.applied) == 4, "ours failed once, theirs won, ours was planned again"


def test_a_write_that_keeps_losing_races_is_a_version_conflict(service, products):
    service.put(CLIENT, simple("A", 1))

    def rival() -> None:
        current = stored(products, "A")
        products.add(replace(current, quantity_available=current.quantity_available + 1, version=current.version + 1))
        products.concurrently = rival

    products.concurrently = rival

    with pytest.raises(Conflict) as raised:
        service.put(CLIENT, simple("A", 100))

    assert raised.value.code == "version_conflict"
    assert stored(products, "A").quantity_available != 100


def test_a_component_deleted_meanwhile_gives_the_precise_error(service, products):
    service.put(CLIENT, simple("A"))
    products.concurrently = lambda: service.delete(CLIENT, "A")

    with pytest.raises(InvalidInput) as raised:
        service.put(CLIENT, bundle("KIT", ("A", 1)))

    assert raised.value.code == "component_not_found"
    assert products.products == {}


def test_a_product_that_a_bundle_starts_using_meanwhile_is_not_deleted(service, products):
    service.put(CLIENT, simple("A"))
    products.concurrently = lambda: service.put(CLIENT, bundle("KIT", ("A", 1)))

    with pytest.raises(Conflict) as raised:
        service.delete(CLIENT, "A")

    assert raised.value.code == "product_in_bundle"
    assert users(products, "A") == {"KIT"}


# --- batches ---------------------------------------------------------------------------------------


def test_a_batch_writes_a_bundle_and_its_new_components_as_one(service, products):
    outcome = service.put_batch(CLIENT, [bundle("KIT", ("A", 1), ("B", 2)), simple("A"), simple("B")])

    assert [item.status for item in outcome.items] == ["created"] * 3
    assert [sorted(batch) for batch in products.applied] == [["A", "B", "KIT"]]
    assert users(products, "A") == users(products, "B") == {"KIT"}


def test_every_refused_item_is_reported_and_nothing_is_written(service, products):
    service.put(CLIENT, simple("STORED"))
    products.applied.clear()

    with pytest.raises(InvalidInput) as raised:
        service.put_batch(
            CLIENT,
            [
                simple("OK-1"),
                ProductDraft(sku="NO-QUANTITY"),
                simple("OK-1"),
                bundle("KIT", ("MISSING", 1)),
                RefusedItem("SHAPE", InvalidInput("quantity_available: Input should be a valid integer")),
                simple("bad\x00sku"),
                bundle("KIT-2", ("OK-1", 1)),
            ],
        )

    assert raised.value.code == "invalid_batch"
    assert [(d["index"], d["sku"], d["code"]) for d in raised.value.details] == [
        (1, "NO-QUANTITY", "validation_error"),
        (2, "OK-1", "duplicate_sku"),
        (3, "KIT", "component_not_found"),
        (4, "SHAPE", "validation_error"),
        (5, None, "invalid_sku"),
    ]
    assert all(d["message"] for d in raised.value.details)
    assert products.applied == []
    assert set(products.products) == {(CLIENT, "STORED")}


def test_bundles_in_a_batch_are_judged_by_the_batch_not_by_the_store(service, products):
    service.put(CLIENT, simple("A"))
    service.put(CLIENT, bundle("OLD-KIT", ("A", 1)))

    service.put_batch(CLIENT, [simple("OLD-KIT", 3), bundle("NEW-KIT", ("OLD-KIT", 1))])

    assert users(products, "A") == set()
    assert users(products, "OLD-KIT") == {"NEW-KIT"}


def test_a_product_the_batch_turns_into_a_bundle_cannot_be_a_component_in_it(service):
    service.put(CLIENT, simple("A"))

    with pytest.raises(InvalidInput) as raised:
        service.put_batch(CLIENT, [bundle("B", ("A", 1)), bundle("KIT", ("B", 1))])

    assert [(d["index"], d["code"]) for d in raised.value.details] == [(1, "component_is_bundle")]


def test_a_batch_may_turn_a_component_into_a_bundle_when_it_also_frees_it(service, products):
    for sku in ("X", "Y", "W"):
        service.put(CLIENT, simple(sku))
    service.put(CLIENT, bundle("Z", ("X", 1)))

    service.put_batch(CLIENT, [bundle("X", ("W", 1)), bundle("Z", ("Y", 1))])

    assert sorted(products.applied[-1]) == ["W", "X", "Y", "Z"], "both bundles and the components they join"
    assert stored(products, "X").is_bundle
    assert (users(products, "X"), users(products, "Y"), users(products, "W")) == (set(), {"Z"}, {"X"})


def test_a_batch_cannot_turn_a_component_of_a_bundle_outside_it_into_a_bundle(service, products):
    for sku in ("X", "W"):
        service.put(CLIENT, simple(sku))
    service.put(CLIENT, bundle("Z", ("X", 1)))

    with pytest.raises(InvalidInput) as raised:
        service.put_batch(CLIENT, [simple("W", 9), bundle("X", ("W", 1))])

    assert [(d["index"], d["code"]) for d in raised.value.details] == [(1, "product_in_bundle")]
    assert stored(products, "W").quantity_available == 5


def test_an_unchanged_batch_writes_nothing(service, products):
    batch = [simple("A"), simple("B"), bundle("KIT", ("A", 1))]
    service.put_batch(CLIENT, batch)

    outcome = service.put_batch(CLIENT, batch)

    assert [item.status for item in outcome.items] == ["unchanged"] * 3
    assert products.applied[-1] == []


def test_a_batch_interrupted_by_the_store_leaves_nothing_and_succeeds_when_resent(service, products):
    batch = [simple(f"P{n}", n) for n in range(5)] + [bundle("KIT", ("P0", 1), ("P4", 1))]
    products.fail_after = 3

    with pytest.raises(DependencyUnavailable):
        service.put_batch(CLIENT, batch)
    assert products.products == {}

    outcome = service.put_batch(CLIENT, batch)

    assert [item.status for item in outcome.items] == ["created"] * 6
    assert {sku for _, sku in products.products} == {"P0", "P1", "P2", "P3", "P4", "KIT"}
    assert users(products, "P0") == users(products, "P4") == {"KIT"}


def test_a_batch_that_loses_a_race_is_planned_again_and_reports_what_it_did(service, products):
    service.put(CLIENT, simple("A", 1))
    products.concurrently = lambda: service.put(CLIENT, simple("A", 2))

    outcome = service.put_batch(CLIENT, [simple("A", 3), simple("B", 1)])

    assert [(i.product.sku, i.status, i.product.version) for i in outcome.items] == [
        ("A", "replaced", 3),
        ("B", "created", 1),
    ]
    assert products.settled == [["A", "B"]], "what other batches held of it is let go before the new plan"


def test_a_batch_that_no_longer_validates_after_a_race_is_refused_with_nothing_written(service, products):
    service.put(CLIENT, simple("A"))

    def meanwhile() -> None:
        service.delete(CLIENT, "A")
        service.put(CLIENT, simple("B", 1))  # the batch planned B as new: its first write fails

    products.concurrently = meanwhile

    with pytest.raises(InvalidInput) as raised:
        service.put_batch(CLIENT, [simple("B", 2), bundle("KIT", ("A", 1))])

    assert raised.value.code == "invalid_batch"
    assert [(d["index"], d["code"]) for d in raised.value.details] == [(1, "component_not_found")]
    assert stored(products, "B").quantity_available == 1
    assert products.get(CLIENT, "KIT") is None


def test_a_batch_whose_component_is_deleted_meanwhile_is_refused_with_nothing_written(service, products):
    service.put(CLIENT, simple("A"))
    products.concurrently = lambda: service.delete(CLIENT, "A")

    with pytest.raises(InvalidInput) as raised:
        service.put_batch(CLIENT, [simple("C", 2), bundle("KIT", ("A", 1))])

    assert raised.value.code == "invalid_batch"
    assert [(d["index"], d["code"]) for d in raised.value.details] == [(1, "component_not_found")]
    assert products.get(CLIENT, "C") is None, "not even the products that still validate"
    assert products.get(CLIENT, "KIT") is None


@pytest.mark.parametrize("size", [0, MAX_BATCH_SIZE + 1])
def test_a_batch_holds_one_to_a_thousand_products(service, products, size):
    with pytest.raises(InvalidInput):
        service.put_batch(CLIENT, [simple(f"P{n}") for n in range(size)])
    assert products.applied == []


def test_a_batch_of_a_thousand_products_is_written_as_one(service, products):
    batch = [simple(f"P{n:04d}", n) for n in range(MAX_BATCH_SIZE - 1)] + [bundle("KIT", ("P0001", 2))]

    outcome = service.put_batch(CLIENT, batch)

    assert outcome.count("created") == MAX_BATCH_SIZE
    assert len(products.products) == MAX_BATCH_SIZE
    assert len(products.applied) == 1
    assert users(products, "P0001") == {"KIT"}
