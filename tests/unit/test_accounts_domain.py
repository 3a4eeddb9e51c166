"""Pure connection rules (SPEC §4.1, §4.2)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from oms_amazon.domain.accounts import (
    Account,
    Authorisation,
    check_no_custom_access_keys,
    check_text,
    classify_token,
    normalise_merchant_id,
    resolve_marketplace,
)
from oms_amazon.domain.errors import Conflict, InvalidInput
from oms_amazon.services.accounts import seller_authorisation

from tests import builders

pytestmark = pytest.mark.unit

REFRESH = "Atzr|IwEBIExampleRefreshToken000000001"
MWS = "amzn.mws.4ea38b7b-f563-7709-4bae-87aea1b2c3d4"
NOW = datetime(2026, 11, 29, 12, 0, tzinfo=UTC)


def account(**changes: object) -> Account:
    return builders.account("a1", at=NOW, **{"active": False, "stock_sync_delay_minutes": 30, **changes})


@pytest.mark.parametrize(
    ("token", "kind"),
    [
        (REFRESH, "sp_api_refresh_token"),
        (MWS, "mws_auth_token"),
        (MWS.upper().replace("AMZN.MWS.", "amzn.mws."), "mws_auth_token"),
    ],
)
def test_tokens_are_classified_by_shape(token, kind):
    assert classify_token(token).type == kind


@pytest.mark.parametrize(
    "token",
    [
        "",
        "Atzr|",
        "Atzr|short",
        "Atza|" + "x" * 30,
        "Atzr|" + "x" * 19,
        "Atzr|" + "x" * 30 + " ",
        "amzn.mws.123",
        "Atzr|" + "é" * 30,
        "Atzr|" + "x" * 5000,
    ],
)
def test_other_shapes_are_refused_without_echoing_the_value(token):
    with pytest.raises(InvalidInput) as refused:
        classify_token(token)
    assert refused.value.code == "invalid_auth_token"
    assert len(token) < 12 or token not in refused.value.message


def test_a_token_never_appears_in_its_repr():
    assert REFRESH not in repr(classify_token(REFRESH))


def test_the_hint_is_the_last_four_characters():
    assert classify_token(REFRESH).authorisation == Authorisation("sp_api_refresh_token", "ok", "…0001")
    assert classify_token(MWS).authorisation.status == "authorisation_required"


@pytest.mark.parametrize(
    "body",
    [
        {"AccessKey": "a", "SecretAccessKey": "b"},
        {"AccessKey": "a"},
        {"SecretAccessKey": "b", "AccessKey": "  "},
        {"aws_access_key_id": 1},
    ],
)
def test_any_aws_key_with_a_value_is_refused(body):
    with pytest.raises(InvalidInput) as refused:
        check_no_custom_access_keys(body)
    assert refused.value.code == "custom_access_keys_prohibited"


@pytest.mark.parametrize("body", [{}, {"AccessKey": "", "SecretAccessKey": None}, {"merchant_id": "X"}])
def test_removed_keys_pass(body):
    check_no_custom_access_keys(body)


@pytest.mark.parametrize(
    ("raw", "expected"), [("a2selleruk01", "A2SELLERUK01"), (" A1B2C3D4 ", "A1B2C3D4"), ("A" * 20, "A" * 20)]
)
def test_merchant_ids_are_trimmed_and_upper_cased(raw, expected):
    assert normalise_merchant_id(raw) == expected


@pytest.mark.parametrize("raw", ["", "A1B2C3D", "A" * 21, "A1B2-C3D4", "A1B2 C3D4", "Ä1B2C3D4E"])
def test_malformed_merchant_ids_are_refused(raw):
    with pytest.raises(InvalidInput):
        normalise_merchant_id(raw)


@pytest.mark.parametrize(
    ("raw", "code"), [("uk", "UK"), ("A1F83G8C2ARO7P", "UK"), (" de ", "DE"), ("ATVPDKIKX0DER", "US")]
)
def test_marketplaces_resolve_by_code_or_id(raw, code):
    assert resolve_marketplace(raw).code == code


@pytest.mark.parametrize("raw", ["GB", "XX", "", "a1f83g8c2aro7p"])
def test_unknown_marketplaces_are_refused(raw):
    with pytest.raises(InvalidInput):
        resolve_marketplace(raw)


@pytest.mark.parametrize("text", ["", "   ", "x" * 101, "a\tb", "rtl\u202eoverride", "zero\u200bwidth"])
def test_short_texts_refuse_empty_long_and_control_characters(text):
    with pytest.raises(InvalidInput):
        check_text(text, "name", 100)


def test_activation_needs_a_working_authorisation():
    account(active=True).check_can_activate()
    for status in ("authorisation_required", "rejected"):
        with pytest.raises(Conflict) as refused:
            account(active=True, authorisation=Authorisation("mws_auth_token", status, None)).check_can_activate()  # type: ignore[arg-type]
        assert refused.value.code == "authorisation_required"


def test_next_stock_sync_is_due_after_the_delay_and_only_while_the_account_can_sync():
    started = NOW - timedelta(minutes=5)
    assert account(active=True, last_stock_sync_started_at=started).next_stock_sync_at == started + timedelta(
        minutes=30
    )
    assert account(active=True).next_stock_sync_at == NOW
    assert account(active=False).next_stock_sync_at is None
    assert account(active=True, sync_stock=False).next_stock_sync_at is None
    assert (
        account(active=True, authorisation=Authorisation("sp_api_refresh_token", "rejected", None)).next_stock_sync_at
        is None
    )


def test_a_new_account_inherits_its_sellers_authorisation():
    sibling = account()
    decided = seller_authorisation(None, [sibling])
    assert decided.authorisation == sibling.authorisation and decided.token_to_store is None


def test_a_legacy_token_does_not_replace_a_working_one():
    decided = seller_authorisation(classify_token(MWS), [account()])
    assert decided.authorisation.status == "ok" and decided.token_to_store is None


def test_a_refresh_token_is_stored_and_authorises():
    token = classify_token(REFRESH)
    decided = seller_authorisation(
        token, [account(authorisation=Authorisation("mws_auth_token", "authorisation_required", "…c3d4"))]
    )
    assert decided.token_to_store == token and decided.authorisation.status == "ok"


def test_without_token_or_siblings_authorisation_is_required():
    assert seller_authorisation(None, []).authorisation == Authorisation.none()
