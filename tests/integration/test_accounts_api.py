"""The accounts API (SPEC §3, §4, §7) driven through the API function with moto."""

from __future__ import annotations

import json
from typing import Any

import boto3
import pytest
from oms_amazon.api.schemas import AccountSettings, StockRulesBody
from pydantic.fields import FieldInfo

from tests.conftest import CANARY_REFRESH_TOKEN, ApiCaller, all_items, all_secrets

pytestmark = pytest.mark.integration

SELLER = "A2SELLERUK01"
MWS_TOKEN = "amzn.mws.4ea38b7b-f563-7709-4bae-87aea1b2c3d4"


def create(api: ApiCaller, marketplace: str = "UK", **fields: Any) -> dict[str, Any]:
    status, body = api("POST", "/accounts", {"merchant_id": SELLER, "marketplace": marketplace, **fields})
    assert status == 201, body
    return body


def test_create_with_the_seeds_field_names_stores_an_inactive_account_waiting_for_authorisation(
    api, dynamodb, table_name
):
    status, body = api(
        "POST", "/accounts", {"merchantId": " a2selleruk01 ", "marketplace": "uk", "MWSAuthToken": MWS_TOKEN}
    )

    assert status == 201
    assert body["merchant_id"] == SELLER
    assert body["marketplace"] == "UK"
    assert body["marketplace_id"] == "A1F83G8C2ARO7P"
    assert body["region"] == "eu"
    assert body["name"] == "A2SELLERUK01 UK"
    assert body["active"] is False
    assert body["sync_stock"] is False
    assert body["stock_sync_delay_minutes"] == 15
    assert body["import_orders"] is True
    assert body["authorisation"] == {"type": "mws_auth_token", "status": "authorisation_required", "hint": "…c3d4"}
    assert body["version"] == 1
    assert "auth_token" not in body and MWS_TOKEN not in json.dumps(body)
    assert MWS_TOKEN not in json.dumps(all_items(dynamodb, table_name)), "tokens never live in the table"


def test_a_refresh_token_is_kept_in_the_sellers_secret_and_never_returned(api, dynamodb, table_name):
    body = create(api, auth_token=CANARY_REFRESH_TOKEN)

    assert body["authorisation"] == {"type": "sp_api_refresh_token", "status": "ok", "hint": "…0001"}
    assert CANARY_REFRESH_TOKEN not in json.dumps(body)
    assert CANARY_REFRESH_TOKEN not in json.dumps(all_items(dynamodb, table_name))
    secret = boto3.client("secretsmanager").get_secret_value(SecretId=f"oms-amazon-local/sellers/acme-outdoor/{SELLER}")
    assert json.loads(secret["SecretString"]) == {"token": CANARY_REFRESH_TOKEN, "type": "sp_api_refresh_token"}


def test_the_marketplace_may_be_given_as_its_id(api):
    assert create(api, marketplace="A1PA6795UKMFR9")["marketplace"] == "DE"


@pytest.mark.parametrize(
    "keys",
    [
        {"AccessKey": "AKIAIOSFODNN7EXAMPLE", "SecretAccessKey": "wJalrXUtnFEMI/K7MDENG"},
        {"AccessKey": "", "SecretAccessKey": "wJalrXUtnFEMI/K7MDENG"},
        {"AccessKey": "AKIAIOSFODNN7EXAMPLE", "SecretAccessKey": None},
        {"access_key": "AKIA", "secret_access_key": "x"},
        {"aws_access_key_id": "AKIA"},
        {"aws_secret_access_key": "x"},
    ],
    ids=["both", "only-secret-left", "only-access-left", "snake-case", "aws-key-id", "aws-secret"],
)
def test_custom_aws_keys_are_refused_until_both_are_removed_and_nothing_is_stored(api, dynamodb, table_name, keys):
    status, body = api("POST", "/accounts", {"merchant_id": SELLER, "marketplace": "UK", **keys})

    assert status == 400
    assert body["error"]["code"] == "custom_access_keys_prohibited"
    assert body["error"]["message"].startswith("Custom Amazon AccessKeys/SecretAccessKeys are prohibited")
    assert "Remove both" in body["error"]["message"]
    assert all_items(dynamodb, table_name) == []
    assert "wJalrXUtnFEMI" not in json.dumps(body)


def test_emptied_key_fields_are_accepted_as_removed(api):
    body = create(api, AccessKey="", SecretAccessKey="")
    assert "AccessKey" not in body


def test_custom_keys_are_refused_on_update_too(api):
    account = create(api)
    status, body = api("PATCH", f"/accounts/{account['id']}", {"SecretAccessKey": "x", "name": "renamed"})

    assert (status, body["error"]["code"]) == (400, "custom_access_keys_prohibited")
    assert api("GET", f"/accounts/{account['id']}")[1]["name"] == "A2SELLERUK01 UK"


def test_a_second_account_for_the_same_seller_and_marketplace_is_a_conflict(api, dynamodb, table_name):
    create(api)
    before = all_items(dynamodb, table_name)
    status, body = api("POST", "/accounts", {"merchant_id": SELLER.lower(), "marketplace": "A1F83G8C2ARO7P"})

    assert (status, body["error"]["code"]) == (409, "account_exists")
    assert all_items(dynamodb, table_name) == before


def test_another_client_may_connect_the_same_seller(api):
    create(api)
    status, _ = api("POST", "/accounts", {"merchant_id": SELLER, "marketplace": "UK"}, client_id="bluebird-gifts")
    assert status == 201


def test_activating_an_account_with_a_legacy_mws_token_explains_how_to_authorise(api):
    status, body = api(
        "POST", "/accounts", {"merchant_id": SELLER, "marketplace": "UK", "MWSAuthToken": MWS_TOKEN, "active": True}
    )
    assert (status, body["error"]["code"]) == (409, "authorisation_required")
    assert "MWS" in body["error"]["message"] and "authorise" in body["error"]["message"]

    account = create(api, MWSAuthToken=MWS_TOKEN)
    status, body = api("PATCH", f"/accounts/{account['id']}", {"active": True})
    assert (status, body["error"]["code"]) == (409, "authorisation_required")
    assert api("GET", f"/accounts/{account['id']}")[1]["active"] is False


def test_one_authorisation_serves_every_marketplace_of_the_seller(api):
    uk = create(api, MWSAuthToken=MWS_TOKEN)
    de = create(api, marketplace="DE", auth_token=CANARY_REFRESH_TOKEN)
    fr = create(api, marketplace="FR")

    uk_now = api("GET", f"/accounts/{uk['id']}")[1]
    assert uk_now["authorisation"]["status"] == "ok"
    assert uk_now["version"] == 2
    assert de["authorisation"] == fr["authorisation"] == uk_now["authorisation"]


def test_a_legacy_token_never_replaces_a_working_authorisation(api):
    create(api, auth_token=CANARY_REFRESH_TOKEN)
    de = create(api, marketplace="DE", MWSAuthToken=MWS_TOKEN)

    assert de["authorisation"]["type"] == "sp_api_refresh_token"
    secret = boto3.client("secretsmanager").get_secret_value(SecretId=f"oms-amazon-local/sellers/acme-outdoor/{SELLER}")
    assert json.loads(secret["SecretString"])["token"] == CANARY_REFRESH_TOKEN


@pytest.mark.parametrize("delay", [14, 0, -1, 1441, 15.5, "15", True, None])
def test_stock_sync_delay_outside_15_to_1440_minutes_is_refused(api, dynamodb, table_name, delay):
    status, body = api(
        "POST", "/accounts", {"merchant_id": SELLER, "marketplace": "UK", "stock_sync_delay_minutes": delay}
    )
    assert status == 400
    assert body["error"]["details"][0]["field"] == "stock_sync_delay_minutes"
    assert all_items(dynamodb, table_name) == []


@pytest.mark.parametrize("delay", [15, 60, 1440])
def test_stock_sync_delay_within_bounds_is_kept(api, delay):
    assert create(api, stock_sync_delay_minutes=delay)["stock_sync_delay_minutes"] == delay


@pytest.mark.parametrize(
    ("body", "code"),
    [
        ({"marketplace": "UK"}, "validation_error"),
        ({"merchant_id": SELLER}, "validation_error"),
        ({"merchant_id": "SHORT", "marketplace": "UK"}, "invalid_merchant_id"),
        ({"merchant_id": "A2SELLER-UK", "marketplace": "UK"}, "invalid_merchant_id"),
        ({"merchant_id": "A" * 21, "marketplace": "UK"}, "invalid_merchant_id"),
        ({"merchant_id": SELLER, "marketplace": "XX"}, "unknown_marketplace"),
        ({"merchant_id": SELLER, "marketplace": "GB "}, "unknown_marketplace"),
        ({"merchant_id": SELLER, "marketplace": "UK", "auth_token": "not-a-token"}, "invalid_auth_token"),
        ({"merchant_id": SELLER, "marketplace": "UK", "auth_token": "Atzr|short"}, "invalid_auth_token"),
        ({"merchant_id": SELLER, "marketplace": "UK", "auth_token": "Atzr|" + "x" * 20 + " y"}, "invalid_auth_token"),
        ({"merchant_id": SELLER, "marketplace": "UK", "auth_token": ""}, "invalid_auth_token"),
        ({"merchant_id": SELLER, "marketplace": "UK", "MWSAuthToken": "amzn.mws.nope"}, "invalid_auth_token"),
        ({"merchant_id": SELLER, "merchantId": SELLER, "marketplace": "UK"}, "validation_error"),
        (
            {
                "merchant_id": SELLER,
                "marketplace": "UK",
                "auth_token": CANARY_REFRESH_TOKEN,
                "refresh_token": CANARY_REFRESH_TOKEN,
            },
            "validation_error",
        ),
        ({"merchant_id": SELLER, "marketplace": "UK", "active": "yes"}, "validation_error"),
        ({"merchant_id": SELLER, "marketplace": "UK", "name": "x" * 101}, "validation_error"),
        ({"merchant_id": SELLER, "marketplace": "UK", "name": "bad\u202ename"}, "validation_error"),
        ({"merchant_id": SELLER, "marketplace": "UK", "name": "nul\x00"}, "validation_error"),
        ({"merchant_id": SELLER, "marketplace": "UK", "unknown_field": 1}, "validation_error"),
        ({"merchant_id": SELLER, "marketplace": "UK", "stock_rules": {"buffer": -1}}, "validation_error"),
        ({"merchant_id": SELLER, "marketplace": "UK", "stock_rules": {"buffer": 10**12}}, "validation_error"),
        ({"merchant_id": SELLER, "marketplace": "UK", "stock_rules": {"floor": 1}}, "validation_error"),
        ({"merchant_id": SELLER, "marketplace": "UK", "stock_rules": {"max_quantity": True}}, "validation_error"),
        ({"merchant_id": 12345678, "marketplace": "UK"}, "validation_error"),
        ([{"merchant_id": SELLER}], "validation_error"),
    ],
)
def test_bad_input_is_a_clear_400_and_writes_nothing(api, dynamodb, table_name, body, code):
    status, response = api("POST", "/accounts", body)

    assert status == 400, response
    assert response["error"]["code"] == code
    assert response["error"]["message"]
    assert all_items(dynamodb, table_name) == []
    assert all_secrets() == []
    assert CANARY_REFRESH_TOKEN not in json.dumps(response)


@pytest.mark.parametrize(
    "raw", ["{not json", "", "null", '"text"', "[" * 5000 + "]" * 5000, '{"a":' * 100 + "1" + "}" * 100]
)
def test_malformed_bodies_are_refused(api, dynamodb, table_name, raw):
    status, response = api("POST", "/accounts", raw_body=raw)

    assert status == 400
    assert response["error"]["code"] in ("invalid_json", "validation_error")
    assert all_items(dynamodb, table_name) == []


def test_a_body_that_is_not_json_is_415(api):
    status, response = api("POST", "/accounts", raw_body="merchant_id=X", headers={"Content-Type": "text/plain"})
    assert (status, response["error"]["code"]) == (415, "unsupported_media_type")


def test_a_huge_body_is_413(api):
    status, response = api("POST", "/accounts", {"merchant_id": SELLER, "marketplace": "UK", "name": "x" * 2_000_000})
    assert (status, response["error"]["code"]) == (413, "payload_too_large")


def test_stock_rules_round_trip(api):
    account = create(api, stock_rules={"buffer": 2, "max_quantity": 50})
    assert account["stock_rules"] == {"buffer": 2, "max_quantity": 50, "zero_at_or_below": None}
    status, patched = api("PATCH", f"/accounts/{account['id']}", {"stock_rules": None})
    assert (status, patched["stock_rules"]) == (200, None)


def samples(name: str, field: FieldInfo) -> tuple[Any, Any]:
    """Two values of a setting, each unlike its default and unlike each other, as JSON. A setting of a
    kind not here fails the test below until it is given samples."""
    kind, default = field.annotation, field.default
    if kind is bool:
        return (not default, default)
    if kind is int:
        return (default + 15, default + 30)
    if kind == str | None:
        return (f"{name} one", f"{name} two")
    if kind == StockRulesBody | None:
        return (
            {"buffer": 2, "zero_at_or_below": 1, "max_quantity": 50},
            {"buffer": 3, "zero_at_or_below": None, "max_quantity": None},
        )
    raise AssertionError(f"no sample values for the setting {name} ({kind}): add them here")


def test_every_declared_setting_is_stored_on_create_returned_and_changed_by_a_patch(api):
    settings = AccountSettings.model_fields
    first = {name: samples(name, field)[0] for name, field in settings.items()}
    second = {name: samples(name, field)[1] for name, field in settings.items()}

    created = create(api, auth_token=CANARY_REFRESH_TOKEN, **first)
    read = api("GET", f"/accounts/{created['id']}")[1]

    assert {name: created[name] for name in settings} == first
    assert {name: read[name] for name in settings} == first
    for name, value in second.items():
        status, patched = api("PATCH", f"/accounts/{created['id']}", {name: value})
        assert status == 200, patched
        assert patched[name] == value, name
    read = api("GET", f"/accounts/{created['id']}")[1]
    assert {name: read[name] for name in settings} == second
    assert read["version"] == 1 + len(settings)


def test_patch_changes_only_what_was_sent_and_bumps_the_version(api):
    account = create(api, name="Acme UK", default_courier_service="DPD Next Day")
    status, body = api("PATCH", f"/accounts/{account['id']}", {"sync_stock": True, "stock_sync_delay_minutes": 30})

    assert status == 200
    assert body["sync_stock"] is True and body["stock_sync_delay_minutes"] == 30
    assert body["name"] == "Acme UK" and body["default_courier_service"] == "DPD Next Day"
    assert body["version"] == 2
    assert body["updated_at"] >= account["updated_at"]


def test_patch_with_a_stale_version_is_a_conflict_and_changes_nothing(api):
    account = create(api)
    api("PATCH", f"/accounts/{account['id']}", {"name": "first"})
    status, body = api("PATCH", f"/accounts/{account['id']}", {"name": "second", "version": 1})

    assert (status, body["error"]["code"]) == (409, "version_conflict")
    assert api("GET", f"/accounts/{account['id']}")[1]["name"] == "first"


@pytest.mark.parametrize(
    "change", [{"merchant_id": "B9OTHERSELLER"}, {"marketplace": "DE"}, {"merchantId": "B9OTHERSELLER"}]
)
def test_merchant_and_marketplace_are_immutable(api, change):
    account = create(api)
    status, body = api("PATCH", f"/accounts/{account['id']}", change)
    assert (status, body["error"]["code"]) == (400, "immutable_field")


def test_resending_the_same_merchant_and_marketplace_is_harmless(api):
    account = create(api)
    status, _ = api("PATCH", f"/accounts/{account['id']}", {"merchant_id": SELLER.lower(), "marketplace": "UK"})
    assert status == 200


@pytest.mark.parametrize("body", [{"active": None}, {"merchant_id": None}, {"stock_sync_delay_minutes": None}])
def test_patch_refuses_nulls_for_required_fields(api, body):
    account = create(api)
    assert api("PATCH", f"/accounts/{account['id']}", body)[0] == 400


def test_patching_a_token_reauthorises_every_account_of_the_seller(api):
    uk = create(api, MWSAuthToken=MWS_TOKEN)
    de = create(api, marketplace="DE")
    status, body = api("PATCH", f"/accounts/{de['id']}", {"auth_token": CANARY_REFRESH_TOKEN, "active": True})

    assert status == 200 and body["active"] is True
    assert api("GET", f"/accounts/{uk['id']}")[1]["authorisation"]["status"] == "ok"


def test_list_filters_and_pages(api):
    for marketplace in ("UK", "DE", "FR", "IT", "ES"):
        create(api, marketplace=marketplace, active=False)
    create(api, marketplace="NL", auth_token=CANARY_REFRESH_TOKEN, active=True)

    seen, token = [], None
    while True:
        status, page = api("GET", "/accounts", query={"limit": "2", **({"next_token": token} if token else {})})
        assert status == 200
        seen.extend(a["marketplace"] for a in page["items"])
        token = page["next_token"]
        if token is None:
            break
    assert sorted(seen) == ["DE", "ES", "FR", "IT", "NL", "UK"]

    assert [a["marketplace"] for a in api("GET", "/accounts", query={"marketplace": "nl"})[1]["items"]] == ["NL"]
    assert [a["marketplace"] for a in api("GET", "/accounts", query={"active": "true"})[1]["items"]] == ["NL"]
    assert len(api("GET", "/accounts", query={"merchant_id": SELLER.lower()})[1]["items"]) == 6
    assert api("GET", "/accounts", query={"merchant_id": "B9OTHERSELLER"})[1]["items"] == []


@pytest.mark.parametrize(
    "query",
    [
        {"limit": "0"},
        {"limit": "101"},
        {"limit": "x"},
        {"active": "maybe"},
        {"marketplace": "XX"},
        {"next_token": "garbage"},
    ],
)
def test_list_refuses_bad_query_parameters(api, query):
    status, body = api("GET", "/accounts", query=query)
    assert status == 400, body


def test_a_next_token_cannot_move_a_list_into_another_clients_partition(api):
    import base64

    forged = base64.urlsafe_b64encode(json.dumps({"PK": "CLIENT#bluebird-gifts", "SK": "ACCOUNT#0"}).encode()).decode()
    status, body = api("GET", "/accounts", query={"next_token": forged.rstrip("=")})
    assert (status, body["error"]["code"]) == (400, "invalid_next_token")


@pytest.mark.parametrize("method", ["GET", "PATCH", "DELETE"])
def test_another_clients_account_is_404_and_untouched(api, method):
    account = create(api)
    status, body = api(
        method,
        f"/accounts/{account['id']}",
        {"name": "mine now"} if method == "PATCH" else None,
        client_id="bluebird-gifts",
    )

    assert (status, body["error"]["code"]) == (404, "account_not_found")
    assert api("GET", f"/accounts/{account['id']}")[1] == account


def test_another_client_lists_none_of_them(api):
    create(api)
    assert api("GET", "/accounts", client_id="bluebird-gifts")[1]["items"] == []


def test_an_admin_acts_for_a_named_client(api):
    account = create(api)
    status, body = api("GET", "/accounts", client_id=None, admin=True, query={"client_id": "acme-outdoor"})
    assert status == 200 and [a["id"] for a in body["items"]] == [account["id"]]


def test_a_non_admin_cannot_name_another_client(api):
    create(api)
    status, body = api("GET", "/accounts", client_id="bluebird-gifts", query={"client_id": "acme-outdoor"})
    assert (status, body["error"]["code"]) == (403, "admin_only")


def test_an_admin_without_a_client_must_name_one(api):
    status, body = api("GET", "/accounts", client_id=None, admin=True)
    assert (status, body["error"]["code"]) == (400, "client_id_required")


@pytest.mark.parametrize("client_id", [None, "", "x" * 65, "../etc", "acme outdoor", "acme\u0000"])
def test_missing_or_malformed_identity_is_401(api, client_id):
    status, body = api("GET", "/accounts", client_id=client_id)
    assert (status, body["error"]["code"]) == (401, "unauthorized")


def test_delete_removes_the_account_and_the_last_accounts_secret(api, dynamodb, table_name):
    uk = create(api, auth_token=CANARY_REFRESH_TOKEN)
    de = create(api, marketplace="DE")

    assert api("DELETE", f"/accounts/{uk['id']}")[0] == 204
    assert all_secrets() == [f"oms-amazon-local/sellers/acme-outdoor/{SELLER}"], "DE still uses the seller's token"
    assert api("GET", f"/accounts/{uk['id']}")[0] == 404

    assert api("DELETE", f"/accounts/{de['id']}")[0] == 204
    assert all_secrets() == []
    left = sorted(item["SK"]["S"] for item in all_items(dynamodb, table_name))
    assert left == sorted(f"DELETEDACCOUNT#{a['id']}" for a in (uk, de)), "tombstones until the tick's sweep"
    assert api("DELETE", f"/accounts/{de['id']}")[0] == 204, "a DELETE again finds its tombstone: nothing left to do"
    assert api("DELETE", "/accounts/0f8fad5bd9cb469fa16570867728950e")[0] == 404


def test_a_delete_cut_short_is_final_at_once_and_the_same_delete_again_finishes_it(
    api, dynamodb, table_name, monkeypatch
):
    from oms_amazon.adapters.secrets import SecretsManagerSellerSecrets

    account = create(api, auth_token=CANARY_REFRESH_TOKEN)
    real_delete = SecretsManagerSellerSecrets.delete

    def down(self, client_id, merchant_id):  # Secrets Manager unreachable for a moment
        from oms_amazon.domain.errors import DependencyUnavailable

        raise DependencyUnavailable("The credential store is unavailable; retry shortly.")

    monkeypatch.setattr(SecretsManagerSellerSecrets, "delete", down)
    assert api("DELETE", f"/accounts/{account['id']}")[0] == 503
    assert api("GET", f"/accounts/{account['id']}")[0] == 404, "gone for the API at once"
    assert api("GET", "/accounts")[1]["items"] == []
    assert all_secrets() != [], "the secret is still there, and reachable:"

    monkeypatch.setattr(SecretsManagerSellerSecrets, "delete", real_delete)
    assert api("DELETE", f"/accounts/{account['id']}")[0] == 204
    assert all_secrets() == []


def test_the_tick_sweeps_what_a_job_wrote_after_a_delete_and_forgets_finished_tombstones(api, dynamodb, table_name):
    from datetime import UTC, datetime, timedelta

    from oms_amazon import wiring
    from oms_amazon.domain.errors import AccountDeleted
    from oms_amazon.domain.stock_sync import ListingSnapshot, StockRun

    cut_short = create(api, auth_token=CANARY_REFRESH_TOKEN)
    done = create(api, marketplace="DE")
    assert api("DELETE", f"/accounts/{done['id']}")[0] == 204
    # A stock job queued before the DELETE, still running after it: the store refuses its run record...
    late = StockRun("20261129T090000000000-abcdef", "acme-outdoor", done["id"], "failed", "manual", datetime.now(UTC))
    with pytest.raises(AccountDeleted):
        wiring.container().stock_store.save_run(late)
    # ... and the sweep removes what it writes besides (a listing snapshot of the account's marketplace).
    wiring.container().stock_store.save_snapshot(
        "acme-outdoor", ListingSnapshot(SELLER, "DE", datetime.now(UTC), {"A": "P"})
    )
    repository = wiring.container().accounts
    account = repository.get("acme-outdoor", cut_short["id"])
    repository.delete(account, datetime.now(UTC))  # a DELETE that died before its clean-up

    soon = wiring.container().deleted_accounts.sweep(datetime.now(UTC) + timedelta(minutes=30))
    later = wiring.container().deleted_accounts.sweep(datetime.now(UTC) + timedelta(hours=3))

    assert (soon, later) == (0, 1)
    left = sorted(item["SK"]["S"] for item in all_items(dynamodb, table_name))
    assert left == [f"DELETEDACCOUNT#{cut_short['id']}"], (
        "the late snapshot is gone; the unfinished DELETE waits for its retry"
    )


def test_a_deleted_account_can_be_connected_again(api):
    account = create(api, auth_token=CANARY_REFRESH_TOKEN)
    api("DELETE", f"/accounts/{account['id']}")
    assert create(api, auth_token=CANARY_REFRESH_TOKEN)["authorisation"]["status"] == "ok"


def test_marketplaces_lists_all_23_with_iso_country_codes(api):
    status, body = api("GET", "/marketplaces")

    assert status == 200 and len(body["items"]) == 23
    uk = next(m for m in body["items"] if m["code"] == "UK")
    assert uk == {
        "code": "UK",
        "name": "United Kingdom",
        "marketplace_id": "A1F83G8C2ARO7P",
        "region": "eu",
        "country_code": "GB",
        "currency": "GBP",
    }


def test_unknown_routes_are_404_in_the_error_shape(api):
    status, body = api("GET", "/nothing-here")
    assert (status, body["error"]["code"]) == (404, "route_not_found")


def test_the_openapi_document_describes_the_routes(api):
    status, document = api("GET", "/openapi.json")

    assert status == 200
    assert document["openapi"].startswith("3.")
    assert {"/accounts", "/accounts/{account_id}", "/marketplaces"} <= set(document["paths"])
    create_schema = document["paths"]["/accounts"]["post"]["requestBody"]["content"]["application/json"]["schema"]
    assert create_schema


def test_a_json_array_body_is_refused_even_when_its_first_element_would_be_valid(api, dynamodb, table_name):
    status, body = api("POST", "/accounts", [{"merchant_id": SELLER, "marketplace": "UK"}])
    assert (status, body["error"]["code"]) == (400, "validation_error")
    assert all_items(dynamodb, table_name) == []
