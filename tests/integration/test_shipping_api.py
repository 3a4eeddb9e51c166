"""Shipping terms and courier mappings (SPEC §6.3, §6.4, §7) driven through the API function with moto."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from oms_amazon.adapters.courier_mappings import DynamoCourierMappingRepository, DynamoUnmappedTermRepository
from oms_amazon.domain.courier_mappings import CourierServiceMapping
from oms_amazon.domain.errors import Conflict, NotFound

from tests.conftest import ApiCaller, all_items, load_event

pytestmark = pytest.mark.integration

CLIENT = "acme-outdoor"
OTHER_CLIENT = "bluebird-gifts"
SELLER = "A2SELLERUK01"
NOW = datetime(2026, 11, 29, 9, 30, tzinfo=UTC)


def create_account(
    api: ApiCaller, marketplace: str = "UK", *, client_id: str = CLIENT, **fields: Any
) -> dict[str, Any]:
    status, body = api(
        "POST", "/accounts", {"merchant_id": SELLER, "marketplace": marketplace, **fields}, client_id=client_id
    )
    assert status == 201, body
    return body


def create_mapping(
    api: ApiCaller,
    term: str,
    courier: str,
    account_id: str | None = None,
    *,
    client_id: str = CLIENT,
    **extra: Any,
) -> dict[str, Any]:
    body: dict[str, Any] = {"amazon_term": term, "courier_service": courier, **extra}
    if account_id is not None:
        body["account_id"] = account_id
    status, created = api("POST", "/courier-mappings", body, client_id=client_id)
    assert status == 201, created
    return created


def resolve(api: ApiCaller, **body: Any) -> dict[str, Any]:
    status, resolution = api("POST", "/shipping-terms/resolve", {"marketplace": "UK", **body})
    assert status == 200, resolution
    return resolution


def keys(dynamodb: Any, table_name: str) -> set[tuple[str, str]]:
    return {(item["PK"]["S"], item["SK"]["S"]) for item in all_items(dynamodb, table_name)}


# --- Creating mappings --------------------------------------------------------------------------


def test_a_mapping_is_stored_under_its_canonical_term_with_a_guard_for_its_scope(api, dynamodb, table_name):
    status, body = api(
        "POST", "/courier-mappings", {"amazon_term": " std uk  dom_1 - prime ", "courier_service": " Royal Mail 24 "}
    )

    assert status == 201
    assert body["amazon_term"] == "STD UK DOM_1-PRIME"
    assert body["courier_service"] == "Royal Mail 24"
    assert body["account_id"] is None
    assert body["marketplace"] == "UK"
    assert (body["recognized"], body["is_prime"], body["is_premium"]) == (True, True, False)
    assert body["version"] == 1
    assert keys(dynamodb, table_name) == {
        (f"CLIENT#{CLIENT}", f"MAPPING#{body['id']}"),
        (f"CLIENT#{CLIENT}", "MAPPINGTERM#*#STD UK DOM_1-PRIME"),
        (f"CLIENT#{CLIENT}", "MAPPINGCHANGES"),  # an import running now sees that the mappings moved
    }
    assert api("GET", f"/courier-mappings/{body['id']}")[1] == body


def test_the_seed_events_create_a_mapping_and_resolve_a_term(api):
    for name in ("api-create-courier-mapping.json", "api-resolve-shipping-term.json"):
        event = load_event(name)
        assert event["requestContext"]["authorizer"]["claims"]["custom:client_id"] == CLIENT
        status, body = api(event["httpMethod"], event["path"], raw_body=event["body"])
        assert status in (200, 201), body
    assert body["status"] == "mapped"


def test_an_unrecognized_term_can_still_be_mapped_and_matched_exactly_when_the_operator_says_so(
    api, dynamodb, table_name
):
    before = all_items(dynamodb, table_name)
    status, refused = api("POST", "/courier-mappings", {"amazon_term": "Free Shipping  Saver", "courier_service": "E"})
    assert (status, refused["error"]["code"]) == (400, "unrecognised_term")
    assert all_items(dynamodb, table_name) == before

    mapping = create_mapping(api, "Free Shipping  Saver", "Evri 48", allow_unrecognised=True)

    assert (mapping["amazon_term"], mapping["recognized"], mapping["marketplace"]) == (
        "FREE SHIPPING SAVER",
        False,
        None,
    )
    resolution = resolve(api, ship_service_level="free shipping saver")
    assert (resolution["term"], resolution["recognized"]) == ("FREE SHIPPING SAVER", False)
    assert (resolution["courier_service"], resolution["matched_mapping"]) == ("Evri 48", mapping["id"])


def test_a_duplicate_term_in_the_same_scope_is_a_conflict_and_writes_nothing(api, dynamodb, table_name):
    create_mapping(api, "STD UK DOM", "Royal Mail 48")
    before = all_items(dynamodb, table_name)

    status, body = api("POST", "/courier-mappings", {"amazon_term": "std uk dom", "courier_service": "DPD"})

    assert (status, body["error"]["code"]) == (409, "mapping_exists")
    assert "STD UK DOM" in body["error"]["message"]
    assert all_items(dynamodb, table_name) == before


def test_one_term_may_be_mapped_client_wide_and_once_per_account(api):
    uk = create_account(api)
    uk2 = create_account(api, merchant_id="B9SELLERUK02")

    create_mapping(api, "STD UK DOM", "Royal Mail 48")
    create_mapping(api, "STD UK DOM", "DPD", uk["id"])
    create_mapping(api, "STD UK DOM", "Parcelforce", uk2["id"])
    status, body = api(
        "POST", "/courier-mappings", {"amazon_term": "STD UK DOM", "courier_service": "x", "account_id": uk["id"]}
    )

    assert (status, body["error"]["code"]) == (409, "mapping_exists")


def test_concurrent_creates_of_one_term_cannot_both_win(aws, dynamodb, table_name):
    """Nothing is read before the write: the guard item in the transaction alone decides."""
    repository = DynamoCourierMappingRepository(dynamodb, table_name)

    def mapping(mapping_id: str) -> CourierServiceMapping:
        return CourierServiceMapping(mapping_id, CLIENT, "STD UK DOM", "DPD", None, NOW, NOW)

    repository.create(mapping("first"))
    with pytest.raises(Conflict) as lost:
        repository.create(mapping("second"))

    assert lost.value.code == "mapping_exists"
    assert [m.id for m in repository.all_of_client(CLIENT)] == ["first"]


def test_a_mapping_scoped_to_an_account_that_is_gone_by_the_write_is_not_stored(api, dynamodb, table_name):
    """The account is checked inside the transaction, not only before it."""
    account = create_account(api)
    api("DELETE", f"/accounts/{account['id']}")
    repository = DynamoCourierMappingRepository(dynamodb, table_name)

    with pytest.raises(NotFound) as gone:
        repository.create(CourierServiceMapping("m1", CLIENT, "STD UK DOM", "DPD", account["id"], NOW, NOW))

    assert gone.value.code == "account_not_found"
    assert [i["SK"]["S"] for i in all_items(dynamodb, table_name)] == [f"DELETEDACCOUNT#{account['id']}"]


@pytest.mark.parametrize("owner", ["another client", "nobody"])
def test_an_account_that_is_not_the_clients_own_cannot_scope_a_mapping(api, dynamodb, table_name, owner):
    account_id = create_account(api, client_id=OTHER_CLIENT)["id"] if owner == "another client" else "no-such-account"
    before = all_items(dynamodb, table_name)

    status, body = api(
        "POST", "/courier-mappings", {"amazon_term": "STD UK DOM", "courier_service": "DPD", "account_id": account_id}
    )

    assert (status, body["error"]["code"]) == (404, "account_not_found")
    assert all_items(dynamodb, table_name) == before


TERM_TOO_LONG = "STD UK DOM " + "X" * 100


@pytest.mark.parametrize(
    ("body", "code"),
    [
        ({"amazon_term": "", "courier_service": "DPD"}, "invalid_shipping_term"),
        ({"amazon_term": "   ", "courier_service": "DPD"}, "invalid_shipping_term"),
        ({"amazon_term": "-PRIME", "courier_service": "DPD"}, "invalid_shipping_term"),
        ({"amazon_term": TERM_TOO_LONG, "courier_service": "DPD"}, "invalid_shipping_term"),
        ({"amazon_term": "X" * 5000, "courier_service": "DPD"}, "invalid_shipping_term"),
        ({"amazon_term": "STD UK\x00DOM", "courier_service": "DPD"}, "invalid_shipping_term"),
        ({"amazon_term": "STD UK DOM\x1b[31m", "courier_service": "DPD"}, "invalid_shipping_term"),
        ({"amazon_term": "STD UK DOM\u202e", "courier_service": "DPD"}, "invalid_shipping_term"),
        ({"amazon_term": "STD\u200bUK DOM", "courier_service": "DPD"}, "invalid_shipping_term"),
        ({"amazon_term": "STD UK DOM", "courier_service": ""}, "validation_error"),
        ({"amazon_term": "STD UK DOM", "courier_service": "   "}, "validation_error"),
        ({"amazon_term": "STD UK DOM", "courier_service": "x" * 101}, "validation_error"),
        ({"amazon_term": "STD UK DOM", "courier_service": "x" * 5000}, "validation_error"),
        ({"amazon_term": "STD UK DOM", "courier_service": "DPD\x00"}, "validation_error"),
        ({"amazon_term": "STD UK DOM", "courier_service": "DPD\u202e"}, "validation_error"),
        ({"amazon_term": 123, "courier_service": "DPD"}, "validation_error"),
        ({"amazon_term": ["STD UK DOM"], "courier_service": "DPD"}, "validation_error"),
        ({"amazon_term": None, "courier_service": "DPD"}, "validation_error"),
        ({"amazon_term": "STD UK DOM", "courier_service": 7}, "validation_error"),
        ({"amazon_term": "STD UK DOM", "courier_service": True}, "validation_error"),
        ({"amazon_term": "STD UK DOM", "courier_service": "DPD", "account_id": 5}, "validation_error"),
        ({"amazon_term": "STD UK DOM", "courier_service": "DPD", "account_id": ""}, "validation_error"),
        ({"amazon_term": "STD UK DOM", "courier_service": "DPD", "account_id": "../x"}, "validation_error"),
        ({"amazon_term": "STD UK DOM", "courier_service": "DPD", "priority": 1}, "validation_error"),
        ({"amazon_term": "STD UK DOM"}, "validation_error"),
        ({"courier_service": "DPD"}, "validation_error"),
        ([{"amazon_term": "STD UK DOM", "courier_service": "DPD"}], "validation_error"),
    ],
)
def test_bad_mapping_input_is_a_400_that_writes_nothing(api, dynamodb, table_name, body, code):
    status, response = api("POST", "/courier-mappings", body)

    assert status == 400, response
    assert response["error"]["code"] == code
    assert response["error"]["message"]
    assert all_items(dynamodb, table_name) == []


@pytest.mark.parametrize("raw", ["{not json", "", "null", '"STD UK DOM"', '{"a":' * 100 + "1" + "}" * 100])
def test_malformed_mapping_bodies_are_refused(api, dynamodb, table_name, raw):
    status, response = api("POST", "/courier-mappings", raw_body=raw)

    assert status == 400
    assert response["error"]["code"] in ("invalid_json", "validation_error")
    assert all_items(dynamodb, table_name) == []


# --- Reading, changing and deleting mappings ----------------------------------------------------


def test_put_changes_the_courier_service_and_bumps_the_version(api):
    mapping = create_mapping(api, "STD UK DOM", "Royal Mail 48")

    status, body = api(
        "PUT", f"/courier-mappings/{mapping['id']}", {"amazon_term": "STD UK DOM", "courier_service": "Royal Mail 24"}
    )

    assert status == 200
    assert (body["courier_service"], body["version"], body["created_at"]) == ("Royal Mail 24", 2, mapping["created_at"])
    assert resolve(api, ship_service_level="Std UK Dom")["courier_service"] == "Royal Mail 24"


def test_put_moves_the_term_and_its_guard_in_one_write(api, dynamodb, table_name):
    account = create_account(api)
    mapping = create_mapping(api, "STD UK DOM", "Royal Mail 48")

    status, body = api(
        "PUT",
        f"/courier-mappings/{mapping['id']}",
        {"amazon_term": "exp uk dom", "courier_service": "DPD", "account_id": account["id"]},
    )

    assert status == 200
    assert (body["amazon_term"], body["account_id"]) == ("EXP UK DOM", account["id"])
    guards = {sk for _, sk in keys(dynamodb, table_name) if sk.startswith("MAPPINGTERM#")}
    assert guards == {f"MAPPINGTERM#{account['id']}#EXP UK DOM"}
    assert create_mapping(api, "STD UK DOM", "Evri")["amazon_term"] == "STD UK DOM", "the old term is free again"


def test_put_onto_a_term_already_mapped_in_that_scope_is_a_conflict_and_changes_nothing(api, dynamodb, table_name):
    create_mapping(api, "STD UK DOM", "Royal Mail 48")
    other = create_mapping(api, "STD UK INT", "Royal Mail International")
    before = all_items(dynamodb, table_name)

    status, body = api("PUT", f"/courier-mappings/{other['id']}", {"amazon_term": "STD UK DOM", "courier_service": "x"})

    assert (status, body["error"]["code"]) == (409, "mapping_exists")
    assert all_items(dynamodb, table_name) == before


def test_put_with_a_stale_version_is_a_conflict(api):
    mapping = create_mapping(api, "STD UK DOM", "Royal Mail 48")
    api("PUT", f"/courier-mappings/{mapping['id']}", {"amazon_term": "STD UK DOM", "courier_service": "Royal Mail 24"})

    status, body = api(
        "PUT",
        f"/courier-mappings/{mapping['id']}",
        {"amazon_term": "STD UK DOM", "courier_service": "Evri", "version": 1},
    )

    assert (status, body["error"]["code"]) == (409, "version_conflict")
    assert api("GET", f"/courier-mappings/{mapping['id']}")[1]["courier_service"] == "Royal Mail 24"


@pytest.mark.parametrize(
    "body",
    [
        {"amazon_term": "", "courier_service": "DPD"},
        {"amazon_term": "STD UK DOM\x00", "courier_service": "DPD"},
        {"amazon_term": TERM_TOO_LONG, "courier_service": "DPD"},
        {"amazon_term": "STD UK DOM", "courier_service": "x" * 101},
        {"amazon_term": "STD UK DOM", "courier_service": 1},
        {"amazon_term": "STD UK DOM", "courier_service": "DPD", "version": "1"},
        {"amazon_term": "STD UK DOM", "courier_service": "DPD", "version": 0},
        {"courier_service": "DPD"},
        [{"amazon_term": "STD UK DOM", "courier_service": "DPD"}],
    ],
)
def test_bad_put_input_is_a_400_that_changes_nothing(api, dynamodb, table_name, body):
    mapping = create_mapping(api, "STD UK DOM", "Royal Mail 48")
    before = all_items(dynamodb, table_name)

    status, response = api("PUT", f"/courier-mappings/{mapping['id']}", body)

    assert status == 400, response
    assert all_items(dynamodb, table_name) == before


def test_delete_removes_the_mapping_and_frees_its_term(api, dynamodb, table_name):
    mapping = create_mapping(api, "STD UK DOM", "Royal Mail 48")

    assert api("DELETE", f"/courier-mappings/{mapping['id']}")[0] == 204
    assert keys(dynamodb, table_name) == {(f"CLIENT#{CLIENT}", "MAPPINGCHANGES")}
    assert api("GET", f"/courier-mappings/{mapping['id']}")[1]["error"]["code"] == "mapping_not_found"
    assert api("DELETE", f"/courier-mappings/{mapping['id']}")[0] == 404
    create_mapping(api, "STD UK DOM", "Royal Mail 24")


@pytest.mark.parametrize("method", ["GET", "PUT", "DELETE"])
def test_another_clients_mapping_is_404_and_untouched(api, method):
    mapping = create_mapping(api, "STD UK DOM", "Royal Mail 48")
    body = {"amazon_term": "STD UK DOM", "courier_service": "mine now"} if method == "PUT" else None

    status, response = api(method, f"/courier-mappings/{mapping['id']}", body, client_id=OTHER_CLIENT)

    assert (status, response["error"]["code"]) == (404, "mapping_not_found")
    assert api("GET", f"/courier-mappings/{mapping['id']}")[1] == mapping


def test_another_client_neither_lists_nor_resolves_with_them(api):
    create_mapping(api, "STD UK DOM", "Royal Mail 48")

    assert api("GET", "/courier-mappings", client_id=OTHER_CLIENT)[1]["items"] == []
    status, resolution = api(
        "POST",
        "/shipping-terms/resolve",
        {"marketplace": "UK", "ship_service_level": "Std UK Dom"},
        client_id=OTHER_CLIENT,
    )
    assert (status, resolution["status"]) == (200, "unmapped")


def test_the_list_filters_by_account_and_marketplace_and_pages(api):
    account = create_account(api)
    for term in ("STD UK DOM", "STD UK INT", "EXP UK DOM", "STD DE DOM", "DE NEXT-PRIME"):
        create_mapping(api, term, "Courier")
    scoped = create_mapping(api, "STD UK DOM", "DPD", account["id"])

    seen, token = [], None
    while True:
        status, page = api("GET", "/courier-mappings", query={"limit": "2", **({"next_token": token} if token else {})})
        assert status == 200
        seen.extend((m["amazon_term"], m["account_id"]) for m in page["items"])
        token = page["next_token"]
        if token is None:
            break
    assert len(seen) == 6 and len(set(seen)) == 6

    by_account = api("GET", "/courier-mappings", query={"account_id": account["id"]})[1]["items"]
    assert [m["id"] for m in by_account] == [scoped["id"]]
    german = api("GET", "/courier-mappings", query={"marketplace": "A1PA6795UKMFR9"})[1]["items"]
    assert sorted(m["amazon_term"] for m in german) == ["DE NEXT-PRIME", "STD DE DOM"]


@pytest.mark.parametrize(
    ("query", "status", "code"),
    [
        ({"marketplace": "XX"}, 400, "unknown_marketplace"),
        ({"limit": "0"}, 400, "validation_error"),
        ({"limit": "101"}, 400, "validation_error"),
        ({"next_token": "garbage"}, 400, "invalid_next_token"),
        ({"account_id": "no-such-account"}, 404, "account_not_found"),
        ({"account_id": "bad id!"}, 400, "validation_error"),
    ],
)
def test_the_list_refuses_bad_query_parameters(api, query, status, code):
    response_status, body = api("GET", "/courier-mappings", query=query)
    assert (response_status, body["error"]["code"]) == (status, code)


def test_a_next_token_cannot_move_the_list_into_another_clients_partition(api):
    forged = base64.urlsafe_b64encode(json.dumps({"PK": f"CLIENT#{OTHER_CLIENT}", "SK": "MAPPING#0"}).encode()).decode()
    status, body = api("GET", "/courier-mappings", query={"next_token": forged.rstrip("=")})
    assert (status, body["error"]["code"]) == (400, "invalid_next_token")


def test_an_admin_manages_mappings_for_a_named_client(api):
    mapping = create_mapping(api, "STD UK DOM", "Royal Mail 48")
    status, body = api("GET", "/courier-mappings", client_id=None, admin=True, query={"client_id": CLIENT})
    assert status == 200 and [m["id"] for m in body["items"]] == [mapping["id"]]


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/courier-mappings"),
        ("POST", "/courier-mappings"),
        ("GET", "/courier-mappings/unmapped"),
        ("GET", "/shipping-terms"),
        ("POST", "/shipping-terms/resolve"),
    ],
)
def test_every_shipping_route_needs_an_identity(api, dynamodb, table_name, method, path):
    body = {"amazon_term": "STD UK DOM", "courier_service": "DPD"} if path == "/courier-mappings" else None
    if path == "/shipping-terms/resolve":
        body = {"marketplace": "UK"}
    status, response = api(method, path, body, client_id=None, query={"marketplace": "UK"} if method == "GET" else None)

    assert (status, response["error"]["code"]) == (401, "unauthorized")
    assert all_items(dynamodb, table_name) == []


# --- Resolution (§6.4) --------------------------------------------------------------------------


def test_an_account_scoped_mapping_wins_over_a_client_wide_one_for_that_account_only(api):
    uk = create_account(api)
    other_uk = create_account(api, merchant_id="B9SELLERUK02")
    client_wide = create_mapping(api, "STD UK DOM", "Royal Mail 48")
    scoped = create_mapping(api, "STD UK DOM", "DPD", uk["id"])

    for_account = resolve(api, ship_service_level="Std UK Dom", account_id=uk["id"])
    for_other_account = resolve(api, ship_service_level="Std UK Dom", account_id=other_uk["id"])
    without_account = resolve(api, ship_service_level="Std UK Dom")

    assert (for_account["courier_service"], for_account["matched_mapping"]) == ("DPD", scoped["id"])
    assert for_account["source"] == "exact"
    assert for_other_account["matched_mapping"] == without_account["matched_mapping"] == client_wide["id"]


def test_a_zoned_term_falls_back_to_the_mapping_without_its_zone(api):
    zoneless = create_mapping(api, "STD UK DOM-PRIME", "DPD Next Day")

    resolution = resolve(api, ship_service_level="Std UK Dom_2", is_prime=True)

    assert resolution == {
        "term": "STD UK DOM_2-PRIME",
        "recognized": True,
        "courier_service": "DPD Next Day",
        "matched_mapping": zoneless["id"],
        "source": "zoneless",
        "status": "mapped",
    }


def test_an_exact_zoned_mapping_wins_over_the_zoneless_one_even_client_wide_over_account_scoped(api):
    account = create_account(api)
    create_mapping(api, "STD UK DOM", "Account zoneless", account["id"])
    exact = create_mapping(api, "STD UK DOM_1", "Client exact")

    resolution = resolve(api, ship_service_level="Std UK Dom_1", account_id=account["id"])

    assert (resolution["matched_mapping"], resolution["source"]) == (exact["id"], "exact")


def test_the_accounts_default_courier_serves_only_non_prime_terms(api):
    account = create_account(api, default_courier_service="Royal Mail 48")

    standard = resolve(api, ship_service_level="Std UK Dom", account_id=account["id"])
    prime = resolve(api, ship_service_level="Std UK Dom", is_prime=True, account_id=account["id"])

    assert standard == {
        "term": "STD UK DOM",
        "recognized": True,
        "courier_service": "Royal Mail 48",
        "matched_mapping": None,
        "source": "account_default",
        "status": "mapped",
    }
    assert (prime["term"], prime["status"], prime["courier_service"]) == ("STD UK DOM-PRIME", "unmapped", None)


@pytest.mark.parametrize(
    ("mapped", "order_is_prime"),
    [("STD UK DOM", True), ("STD UK DOM-PRIME", False), ("STD UK DOM_1", True), ("STD UK DOM_1-PRIME", False)],
)
def test_prime_and_non_prime_never_resolve_to_each_others_mapping(api, mapped, order_is_prime):
    create_mapping(api, mapped, "Courier")

    resolution = resolve(api, ship_service_level="Std UK Dom_1", is_prime=order_is_prime)

    assert (resolution["status"], resolution["matched_mapping"]) == ("unmapped", None)


def test_a_term_nothing_covers_is_unmapped(api):
    resolution = resolve(api, ship_service_level="Exp UK Int")
    assert resolution == {
        "term": "EXP UK INT",
        "recognized": True,
        "courier_service": None,
        "matched_mapping": None,
        "source": None,
        "status": "unmapped",
    }


@pytest.mark.parametrize(
    ("order", "term"),
    [
        ({"service_level_category": "NextDay"}, "UK NEXT"),
        ({"service_level_category": "NEXT_DAY", "is_prime": True}, "UK NEXT-PRIME"),
        ({"service_level_category": "Standard", "ship_to_country": "FR"}, "STD UK INT"),
        ({"service_level_category": "Standard", "ship_to_country": "gb"}, "STD UK DOM"),
        ({"marketplace": "A1F83G8C2ARO7P", "ship_service_level": "Std UK Dom_1"}, "STD UK DOM_1"),
        ({"ship_service_level": "Std US D2D Dom", "marketplace": "US"}, "STD US D2D DOM"),
        ({}, "UK UNKNOWN"),
    ],
)
def test_the_term_is_derived_as_the_order_importer_would(api, order, term):
    assert resolve(api, **order)["term"] == term


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        ({"marketplace": "XX"}, 400, "unknown_marketplace"),
        ({"marketplace": "GB"}, 400, "unknown_marketplace"),
        ({"marketplace": ""}, 400, "unknown_marketplace"),
        ({"marketplace": "U" * 33}, 400, "validation_error"),
        ({}, 400, "validation_error"),
        ({"marketplace": 1}, 400, "validation_error"),
        ({"marketplace": "UK", "ship_service_level": "S" * 201}, 400, "validation_error"),
        ({"marketplace": "UK", "ship_service_level": ""}, 400, "validation_error"),
        ({"marketplace": "UK", "ship_service_level": "Std UK\x00Dom"}, 400, "validation_error"),
        ({"marketplace": "UK", "ship_service_level": "Std UK Dom\u202e"}, 400, "validation_error"),
        ({"marketplace": "UK", "ship_service_level": 5}, 400, "validation_error"),
        ({"marketplace": "UK", "service_level_category": "C" * 65}, 400, "validation_error"),
        ({"marketplace": "UK", "service_level_category": "Next\x07Day"}, 400, "validation_error"),
        ({"marketplace": "UK", "is_prime": "yes"}, 400, "validation_error"),
        ({"marketplace": "UK", "is_prime": 1}, 400, "validation_error"),
        ({"marketplace": "UK", "is_prime": None}, 400, "validation_error"),
        ({"marketplace": "UK", "ship_to_country": "GBR"}, 400, "validation_error"),
        ({"marketplace": "UK", "ship_to_country": 44}, 400, "validation_error"),
        ({"marketplace": "UK", "account_id": ""}, 400, "validation_error"),
        ({"marketplace": "UK", "account_id": ["a"]}, 400, "validation_error"),
        ({"marketplace": "UK", "account_id": "no-such-account"}, 404, "account_not_found"),
        ({"marketplace": "UK", "priority": True}, 400, "validation_error"),
        ([{"marketplace": "UK", "ship_service_level": "Std UK Dom"}], 400, "validation_error"),
    ],
)
def test_bad_resolve_input_is_refused_and_writes_nothing(api, dynamodb, table_name, body, status, code):
    create_mapping(api, "STD UK DOM", "Royal Mail 48")
    before = all_items(dynamodb, table_name)

    response_status, response = api("POST", "/shipping-terms/resolve", body)

    assert (response_status, response["error"]["code"]) == (status, code), response
    assert all_items(dynamodb, table_name) == before


def test_resolving_for_another_clients_account_is_404(api):
    account = create_account(api, client_id=OTHER_CLIENT, default_courier_service="Their courier")

    status, body = api("POST", "/shipping-terms/resolve", {"marketplace": "UK", "account_id": account["id"]})

    assert (status, body["error"]["code"]) == (404, "account_not_found")
    assert "Their courier" not in json.dumps(body)


def test_resolving_for_an_account_of_another_marketplace_is_refused(api):
    account = create_account(api, marketplace="DE")

    status, body = api("POST", "/shipping-terms/resolve", {"marketplace": "UK", "account_id": account["id"]})

    assert (status, body["error"]["code"]) == (400, "marketplace_mismatch")


# --- GET /shipping-terms ------------------------------------------------------------------------


def test_the_standard_terms_of_a_marketplace_show_what_each_maps_to_now(api):
    domestic = create_mapping(api, "STD UK DOM", "Royal Mail 48")
    next_day = create_mapping(api, "UK NEXT-PRIME", "DPD Next Day")

    status, body = api("GET", "/shipping-terms", query={"marketplace": "uk"})

    assert status == 200 and body["next_token"] is None
    terms = {item["term"]: item for item in body["items"]}
    assert list(terms) == [
        "STD UK DOM", "STD UK DOM-PRIME", "STD UK INT", "STD UK INT-PRIME",
        "EXP UK DOM", "EXP UK DOM-PRIME", "EXP UK INT", "EXP UK INT-PRIME",
        "UK NEXT", "UK NEXT-PRIME", "UK SECOND", "UK SECOND-PRIME",
    ]  # fmt: skip
    assert terms["STD UK DOM"] == {
        "term": "STD UK DOM",
        "is_prime": False,
        "is_premium": False,
        "courier_service": "Royal Mail 48",
        "matched_mapping": domestic["id"],
        "source": "exact",
        "status": "mapped",
    }
    assert terms["UK NEXT-PRIME"]["matched_mapping"] == next_day["id"]
    assert (terms["UK NEXT-PRIME"]["is_prime"], terms["UK NEXT-PRIME"]["is_premium"]) == (True, True)
    assert terms["STD UK DOM-PRIME"]["status"] == "unmapped", "a Prime term never takes a non-Prime mapping"


def test_the_standard_terms_for_an_account_use_its_mappings_and_default_courier(api):
    account = create_account(api, default_courier_service="Royal Mail 48")
    scoped = create_mapping(api, "EXP UK DOM", "DPD", account["id"])

    body = api("GET", "/shipping-terms", query={"marketplace": "A1F83G8C2ARO7P", "account_id": account["id"]})[1]
    terms = {item["term"]: item for item in body["items"]}

    assert terms["EXP UK DOM"]["matched_mapping"] == scoped["id"]
    assert (terms["STD UK INT"]["courier_service"], terms["STD UK INT"]["source"]) == (
        "Royal Mail 48",
        "account_default",
    )
    assert all(terms[t]["status"] == "unmapped" for t in terms if t.endswith("-PRIME"))
    plain = api("GET", "/shipping-terms", query={"marketplace": "UK"})[1]["items"]
    assert {t["term"]: t["status"] for t in plain}["STD UK INT"] == "unmapped"


def test_north_american_marketplaces_also_list_their_d2d_terms(api):
    body = api("GET", "/shipping-terms", query={"marketplace": "US"})[1]
    assert {"STD US D2D DOM", "EXP US D2D DOM-PRIME"} <= {t["term"] for t in body["items"]}


@pytest.mark.parametrize(
    ("query", "status", "code"),
    [
        (None, 400, "validation_error"),
        ({"marketplace": "XX"}, 400, "unknown_marketplace"),
        ({"marketplace": "UK\u0000"}, 400, "unknown_marketplace"),
        ({"marketplace": "U" * 33}, 400, "validation_error"),
        ({"marketplace": "UK", "account_id": "no-such-account"}, 404, "account_not_found"),
        ({"marketplace": "UK", "account_id": "bad id!"}, 400, "validation_error"),
    ],
)
def test_shipping_terms_refuses_bad_queries(api, query, status, code):
    response_status, body = api("GET", "/shipping-terms", query=query)
    assert (response_status, body["error"]["code"]) == (status, code)


# --- Unmapped terms -----------------------------------------------------------------------------


@pytest.fixture
def unmapped_terms(dynamodb, table_name) -> DynamoUnmappedTermRepository:
    return DynamoUnmappedTermRepository(dynamodb, table_name)


def test_nothing_is_unmapped_while_no_order_was_held(api):
    assert api("GET", "/courier-mappings/unmapped") == (200, {"items": [], "next_token": None})


def test_unmapped_terms_count_each_held_order_once(api, unmapped_terms):
    later = NOW + timedelta(hours=2)
    assert unmapped_terms.record_unmapped(CLIENT, "UK", "STD UK DOM_2-PRIME", "202-0000001-0000001", NOW) is True
    assert unmapped_terms.record_unmapped(CLIENT, "UK", "STD UK DOM_2-PRIME", "202-0000001-0000001", later) is False
    unmapped_terms.record_unmapped(CLIENT, "UK", "STD UK DOM_2-PRIME", "202-0000002-0000002", NOW - timedelta(days=1))
    unmapped_terms.record_unmapped(CLIENT, "DE", "DE NEXT-PRIME", "302-0000003-0000003", NOW)

    status, body = api("GET", "/courier-mappings/unmapped")

    assert status == 200
    assert body["items"] == [
        {"term": "DE NEXT-PRIME", "marketplace": "DE", "orders_on_hold": 1, "last_seen_at": "2026-11-29T09:30:00.000Z"},
        {
            "term": "STD UK DOM_2-PRIME",
            "marketplace": "UK",
            "orders_on_hold": 2,
            "last_seen_at": "2026-11-29T11:30:00.000Z",
        },
    ]
    only_uk = api("GET", "/courier-mappings/unmapped", query={"marketplace": "uk"})[1]["items"]
    assert [t["term"] for t in only_uk] == ["STD UK DOM_2-PRIME"]


def test_clearing_a_held_order_uncounts_it_once_and_removes_an_empty_term(api, dynamodb, table_name, unmapped_terms):
    unmapped_terms.record_unmapped(CLIENT, "UK", "EXP UK INT", "202-0000001-0000001", NOW)
    unmapped_terms.record_unmapped(CLIENT, "UK", "EXP UK INT", "202-0000002-0000002", NOW)

    assert unmapped_terms.clear_unmapped(CLIENT, "202-0000001-0000001") is True
    assert unmapped_terms.clear_unmapped(CLIENT, "202-0000001-0000001") is False
    assert api("GET", "/courier-mappings/unmapped")[1]["items"][0]["orders_on_hold"] == 1

    assert unmapped_terms.clear_unmapped(CLIENT, "202-0000002-0000002") is True
    assert api("GET", "/courier-mappings/unmapped")[1]["items"] == []
    assert all_items(dynamodb, table_name) == []


def test_an_order_whose_term_changes_moves_to_the_new_term(api, unmapped_terms):
    unmapped_terms.record_unmapped(CLIENT, "UK", "STD UK DOM", "202-0000001-0000001", NOW)
    unmapped_terms.record_unmapped(CLIENT, "UK", "STD UK DOM", "202-0000002-0000002", NOW)

    assert unmapped_terms.record_unmapped(CLIENT, "UK", "EXP UK DOM", "202-0000001-0000001", NOW) is True

    counts = {t["term"]: t["orders_on_hold"] for t in api("GET", "/courier-mappings/unmapped")[1]["items"]}
    assert counts == {"EXP UK DOM": 1, "STD UK DOM": 1}


def test_unmapped_terms_are_per_client_and_paged(api, unmapped_terms):
    for n, term in enumerate(("STD UK DOM", "STD UK INT", "EXP UK DOM", "EXP UK INT", "UK NEXT")):
        unmapped_terms.record_unmapped(CLIENT, "UK", term, f"202-000000{n}-0000000", NOW)
    unmapped_terms.record_unmapped(OTHER_CLIENT, "UK", "UK SECOND", "202-0000009-0000009", NOW)

    seen, token = [], None
    while True:
        status, page = api(
            "GET", "/courier-mappings/unmapped", query={"limit": "2", **({"next_token": token} if token else {})}
        )
        assert status == 200
        seen.extend(t["term"] for t in page["items"])
        token = page["next_token"]
        if token is None:
            break
    assert sorted(seen) == ["EXP UK DOM", "EXP UK INT", "STD UK DOM", "STD UK INT", "UK NEXT"]
    other = api("GET", "/courier-mappings/unmapped", client_id=OTHER_CLIENT)[1]["items"]
    assert [t["term"] for t in other] == ["UK SECOND"]


@pytest.mark.parametrize(
    ("query", "code"),
    [
        ({"marketplace": "XX"}, "unknown_marketplace"),
        ({"limit": "0"}, "validation_error"),
        ({"next_token": "x"}, "invalid_next_token"),
    ],
)
def test_the_unmapped_list_refuses_bad_query_parameters(api, query, code):
    status, body = api("GET", "/courier-mappings/unmapped", query=query)
    assert (status, body["error"]["code"]) == (400, code)


def test_the_openapi_document_describes_the_shipping_routes(api):
    status, document = api("GET", "/openapi.json")

    assert status == 200
    assert {
        "/shipping-terms",
        "/shipping-terms/resolve",
        "/courier-mappings",
        "/courier-mappings/unmapped",
        "/courier-mappings/{mapping_id}",
    } <= set(document["paths"])
    assert {"get", "put", "delete"} <= set(document["paths"]["/courier-mappings/{mapping_id}"])


@pytest.mark.parametrize(
    ("typed", "marketplace", "stored"),
    [
        ("NextDay", "UK", "UK NEXT"),
        ("Second Day", "DE", "DE SECOND"),
        ("NextDay-PRIME", "UK", "UK NEXT-PRIME"),
        ("Expedited", "UK", "EXP UK DOM"),
        ("Std UK Dom_1", None, "STD UK DOM_1"),
        ("std uk dom - prime", None, "STD UK DOM-PRIME"),
    ],
)
def test_a_mapping_may_be_typed_in_amazons_spellings_and_is_stored_canonical(api, typed, marketplace, stored):
    extra = {"marketplace": marketplace} if marketplace else {}

    mapping = create_mapping(api, typed, "DPD Next Day", **extra)

    assert (mapping["amazon_term"], mapping["recognized"]) == (stored, True)


def test_a_word_that_names_no_marketplace_needs_one_and_the_refusal_lists_its_forms(api, dynamodb, table_name):
    before = all_items(dynamodb, table_name)

    status, body = api("POST", "/courier-mappings", {"amazon_term": "NextDay", "courier_service": "DPD"})

    assert (status, body["error"]["code"]) == (400, "marketplace_required")
    assert "UK NEXT" in body["error"]["details"][0]["candidates"]
    assert all_items(dynamodb, table_name) == before


def test_an_account_scoped_mapping_takes_its_accounts_marketplace_for_a_bare_word(api):
    account = create_account(api, "DE")

    mapping = create_mapping(api, "NextDay", "DHL Express", account["id"])

    assert mapping["amazon_term"] == "DE NEXT"


def test_an_unrecognised_term_is_refused_with_the_nearest_recognised_terms(api):
    status, body = api(
        "POST", "/courier-mappings", {"amazon_term": "STD UK DOMM", "courier_service": "DPD", "marketplace": "UK"}
    )

    assert (status, body["error"]["code"]) == (400, "unrecognised_term")
    assert "STD UK DOM" in body["error"]["details"][0]["suggestions"]


def test_a_term_of_another_marketplace_than_the_one_named_is_refused(api):
    status, body = api(
        "POST", "/courier-mappings", {"amazon_term": "STD DE DOM", "courier_service": "DPD", "marketplace": "UK"}
    )

    assert (status, body["error"]["code"]) == (400, "marketplace_mismatch")
