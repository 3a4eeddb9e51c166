"""The courier-mapping service with recording fakes: what is stored, what is refused, and which
changes are announced for the re-evaluation of held orders (SPEC §6.4)."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime

import pytest
from oms_amazon.domain.accounts import Account, Authorisation
from oms_amazon.domain.courier_mappings import MappingAdded
from oms_amazon.domain.errors import Conflict, InvalidInput, NotFound
from oms_amazon.ports import MappingFilter
from oms_amazon.services.courier_mappings import CourierMappingService, NewMapping, OrderShipping

from fakes import FakeAccounts, FakeCourierMappings, FakeUnmappedTerms, RecordingReevaluation
from tests import builders

pytestmark = pytest.mark.unit

NOW = datetime(2026, 11, 29, 9, 30, tzinfo=UTC)


def an_account(account_id: str, *, marketplace: str = "UK", default_courier_service: str | None = None) -> Account:
    return builders.account(
        account_id,
        marketplace,
        at=NOW,
        active=False,
        sync_stock=False,
        default_courier_service=default_courier_service,
        authorisation=Authorisation.none(),
    )


@pytest.fixture
def accounts() -> FakeAccounts:
    fake = FakeAccounts()
    for account in (an_account("uk1", default_courier_service="Royal Mail 48"), an_account("de1", marketplace="DE")):
        fake.accounts[("acme", account.id)] = account
    return fake


@pytest.fixture
def mappings(accounts: FakeAccounts) -> FakeCourierMappings:
    return FakeCourierMappings(accounts=accounts)


@pytest.fixture
def unmapped() -> FakeUnmappedTerms:
    return FakeUnmappedTerms()


@pytest.fixture
def held_orders() -> RecordingReevaluation:
    return RecordingReevaluation()


@pytest.fixture
def service(
    mappings: FakeCourierMappings,
    unmapped: FakeUnmappedTerms,
    accounts: FakeAccounts,
    held_orders: RecordingReevaluation,
) -> CourierMappingService:
    ids = (f"map{n}" for n in itertools.count(1))
    return CourierMappingService(
        mappings, unmapped, accounts, clock=lambda: NOW, new_id=lambda: next(ids), held_orders=held_orders
    )


def test_a_new_mapping_is_stored_canonical_and_announced_for_held_orders(service, mappings, held_orders):
    mapping = service.create("acme", NewMapping(" std uk  dom_1 - prime ", " DPD Next Day "))

    assert mapping.amazon_term == "STD UK DOM_1-PRIME"
    assert mapping.courier_service == "DPD Next Day"
    assert mapping.marketplace == "UK"
    assert mappings.get("acme", mapping.id) == mapping
    assert held_orders.added == [
        MappingAdded(
            client_id="acme",
            mapping_id=mapping.id,
            amazon_term="STD UK DOM_1-PRIME",
            courier_service="DPD Next Day",
            account_id=None,
        )
    ]


@pytest.mark.parametrize(
    ("term", "courier", "code"),
    [
        ("", "DPD", "invalid_shipping_term"),
        ("   ", "DPD", "invalid_shipping_term"),
        ("-PRIME", "DPD", "invalid_shipping_term"),
        ("STD UK DOM " + "X" * 100, "DPD", "invalid_shipping_term"),
        ("STD UK\x00DOM", "DPD", "invalid_shipping_term"),
        ("STD UK DOM", "", "validation_error"),
        ("STD UK DOM", "x" * 101, "validation_error"),
        ("STD UK DOM", "DPD\u202e", "validation_error"),
    ],
)
def test_a_refused_mapping_stores_and_announces_nothing(service, mappings, held_orders, term, courier, code):
    with pytest.raises(InvalidInput) as refused:
        service.create("acme", NewMapping(term, courier))

    assert refused.value.code == code
    assert mappings.mappings == {}
    assert held_orders.added == []


def test_a_mapping_scoped_to_an_unknown_account_is_not_found_and_not_stored(service, mappings, held_orders):
    with pytest.raises(NotFound) as missing:
        service.create("acme", NewMapping("STD UK DOM", "DPD", account_id="nope"))

    assert missing.value.code == "account_not_found"
    assert mappings.mappings == {}
    assert held_orders.added == []


def test_another_clients_account_cannot_scope_a_mapping(service, mappings):
    with pytest.raises(NotFound):
        service.create("bluebird", NewMapping("STD UK DOM", "DPD", account_id="uk1"))
    assert mappings.mappings == {}


def test_a_duplicate_in_the_same_scope_is_refused_and_not_announced(service, held_orders):
    service.create("acme", NewMapping("STD UK DOM", "Royal Mail 48"))

    with pytest.raises(Conflict) as duplicate:
        service.create("acme", NewMapping("std uk dom", "DPD"))

    assert duplicate.value.code == "mapping_exists"
    assert len(held_orders.added) == 1


def test_changing_only_the_courier_service_announces_nothing(service, held_orders):
    mapping = service.create("acme", NewMapping("STD UK DOM", "Royal Mail 48"))

    changed = service.replace("acme", mapping.id, NewMapping("STD UK DOM", "Royal Mail 24"))

    assert (changed.courier_service, changed.version) == ("Royal Mail 24", 2)
    assert [a.mapping_id for a in held_orders.added] == [mapping.id]


def test_moving_a_mapping_to_another_term_or_scope_announces_it(service, held_orders):
    mapping = service.create("acme", NewMapping("STD UK DOM", "Royal Mail 48"))

    service.replace("acme", mapping.id, NewMapping("STD UK DOM_1", "Royal Mail 48"))
    service.replace("acme", mapping.id, NewMapping("STD UK DOM_1", "Royal Mail 48", account_id="uk1"))

    assert [(a.amazon_term, a.account_id) for a in held_orders.added] == [
        ("STD UK DOM", None),
        ("STD UK DOM_1", None),
        ("STD UK DOM_1", "uk1"),
    ]


def test_replacing_a_mapping_with_what_it_already_says_changes_nothing(service, mappings):
    mapping = service.create("acme", NewMapping("STD UK DOM", "Royal Mail 48"))

    same = service.replace("acme", mapping.id, NewMapping("std uk dom", " Royal Mail 48"))

    assert same == mapping
    assert mappings.get("acme", mapping.id) == mapping


def test_replacing_with_a_stale_version_is_a_conflict(service, mappings):
    mapping = service.create("acme", NewMapping("STD UK DOM", "Royal Mail 48"))
    service.replace("acme", mapping.id, NewMapping("STD UK DOM", "Royal Mail 24"))

    with pytest.raises(Conflict) as stale:
        service.replace("acme", mapping.id, NewMapping("STD UK DOM", "Parcelforce"), version=1)

    assert stale.value.code == "version_conflict"
    assert mappings.get("acme", mapping.id).courier_service == "Royal Mail 24"


def test_resolution_uses_the_accounts_scoped_mappings_and_default_courier(service):
    service.create("acme", NewMapping("STD UK DOM", "Royal Mail 48"))
    scoped = service.create("acme", NewMapping("STD UK DOM", "DPD", account_id="uk1"))

    for_account = service.resolve("acme", OrderShipping("UK", ship_service_level="Std UK Dom", account_id="uk1"))
    default = service.resolve("acme", OrderShipping("UK", ship_service_level="Std UK Int", account_id="uk1"))
    client_wide = service.resolve("acme", OrderShipping("UK", ship_service_level="Std UK Dom"))

    assert (for_account.courier_service, for_account.matched_mapping) == ("DPD", scoped.id)
    assert (default.courier_service, default.source) == ("Royal Mail 48", "account_default")
    assert client_wide.courier_service == "Royal Mail 48"


def test_an_account_of_another_marketplace_is_refused_for_resolution(service):
    with pytest.raises(InvalidInput) as mismatch:
        service.resolve("acme", OrderShipping("UK", ship_service_level="Std UK Dom", account_id="de1"))
    assert mismatch.value.code == "marketplace_mismatch"


def test_the_standard_terms_of_a_marketplace_show_their_current_mapping(service):
    service.create("acme", NewMapping("UK NEXT-PRIME", "DPD Next Day"))

    terms = {t.term.text: t.resolution for t in service.terms_of("acme", "UK")}

    assert len(terms) == 12
    assert terms["UK NEXT-PRIME"].courier_service == "DPD Next Day"
    assert terms["UK NEXT"].status == "unmapped"


def test_listing_by_account_needs_an_account_of_the_client(service):
    service.create("acme", NewMapping("STD UK DOM", "DPD", account_id="uk1"))

    assert len(service.page("acme", MappingFilter(account_id="uk1"), limit=10, next_token=None).items) == 1
    with pytest.raises(NotFound):
        service.page("bluebird", MappingFilter(account_id="uk1"), limit=10, next_token=None)


def test_unmapped_terms_come_from_what_the_importer_recorded(service, unmapped):
    unmapped.record_unmapped("acme", "UK", "STD UK DOM-PRIME", "202-0000001-0000001", NOW)
    unmapped.record_unmapped("acme", "UK", "STD UK DOM-PRIME", "202-0000002-0000002", NOW)

    (term,) = service.unmapped("acme", marketplace=None, limit=10, next_token=None).items

    assert (term.term, term.orders_on_hold) == ("STD UK DOM-PRIME", 2)


def test_until_orders_are_imported_a_mapping_is_stored_with_nothing_to_reevaluate(mappings, unmapped, accounts):
    service = CourierMappingService(mappings, unmapped, accounts, clock=lambda: NOW, new_id=lambda: "map1")

    mapping = service.create("acme", NewMapping("STD UK DOM", "DPD"))

    assert mappings.get("acme", "map1") == mapping
