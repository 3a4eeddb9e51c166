"""The lists' page tokens (SPEC §7, domain.page_tokens): opaque, signed, good for one list, one client and
one set of filters; and the repositories' last check on the cursor inside (adapters.dynamodb)."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from oms_amazon.adapters.dynamodb import decode_page_token, encode_page_token
from oms_amazon.domain.errors import InvalidInput
from oms_amazon.domain.oauth_state import new_claims, sign_state
from oms_amazon.domain.page_tokens import InvalidNextToken, derive_key, seal, unseal

pytestmark = pytest.mark.unit

SECRET = b"s" * 48
KEY = derive_key(SECRET)
CURSOR = str(encode_page_token({"PK": "CLIENT#acme-outdoor", "SK": "ACCOUNT#0f8f"}))
NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)  # signing only: no expiry is checked here
LIST = {"list_name": "accounts", "client_id": "acme-outdoor", "filters": {"marketplace": "UK", "active": None}}


def sealed(**changes: Any) -> str:
    token = seal(CURSOR, key=KEY, **{**LIST, **changes})
    assert token is not None
    return token


def refused(token: str, **changes: Any) -> InvalidNextToken:
    with pytest.raises(InvalidNextToken) as raised:
        unseal(token, key=KEY, **{**LIST, **changes})
    return raised.value


def test_a_token_opens_to_its_cursor_for_the_list_client_and_filters_that_issued_it():
    token = sealed()

    assert token.startswith("n1.") and unseal(token, key=KEY, **LIST) == CURSOR
    assert seal(None, key=KEY, **LIST) is None  # no next page, no token


def test_an_unset_filter_is_the_same_list_as_an_absent_one_and_a_bool_has_one_spelling():
    token = sealed(filters={"active": True, "merchant_id": None})

    assert unseal(token, key=KEY, **{**LIST, "filters": {"active": True}}) == CURSOR
    refused(token, filters={"active": "True"})
    refused(token, filters={"active": False})


@pytest.mark.parametrize(
    "changes",
    [
        {"client_id": "bluebird-gifts"},
        {"list_name": "courier-mappings"},
        {"filters": {"marketplace": "DE"}},
        {"filters": {}},
        {"filters": {"marketplace": "UK", "merchant_id": "A2SELLERUK01"}},
    ],
    ids=["another client", "another list", "another filter value", "a filter dropped", "a filter added"],
)
def test_a_token_is_refused_by_another_client_list_or_query(changes: dict[str, Any]):
    error = refused(sealed(), **changes)

    assert error.code == "invalid_next_token" and isinstance(error, InvalidInput)
    assert error.details == [{"field": "next_token", "reason": "not_issued_for_this_list"}]


def test_a_token_is_refused_under_another_key_and_the_key_is_not_the_secret():
    with pytest.raises(InvalidNextToken):
        unseal(sealed(), key=derive_key(b"o" * 48), **LIST)
    assert KEY != SECRET and len(KEY) == 32


def test_an_oauth_state_signed_with_the_same_secret_is_not_a_page_token():
    state = sign_state(new_claims("acme-outdoor", "0f8fad5bd9cb469f", "q3Jb0xUe6kR1dVhQh2m1Zg", NOW), SECRET)

    assert refused(state).details[0]["reason"] == "malformed"
    _, payload, signature = state.split(".")
    refused(f"n1.{payload}.{signature}")


@pytest.mark.parametrize(
    "token",
    [
        "",
        "garbage",
        CURSOR,  # what the lists handed out before: the bare cursor
        "n1." + CURSOR,
        "n1." + CURSOR + ".",
        "n2." + sealed()[3:],
        sealed() + "=",
        sealed() + ".x",
        " " + sealed(),
        "n1." + "A" * 3000 + "." + "A" * 43,
    ],
    ids=["empty", "garbage", "bare cursor", "no signature", "empty signature", "other version", "padded",
         "extra part", "leading space", "too long"],
)  # fmt: skip
def test_a_malformed_token_is_refused(token: str):
    assert refused(token).details == [{"field": "next_token", "reason": "malformed"}]


@given(position=st.integers(min_value=0), replacement=st.sampled_from("AQgw_-09zZ."))
def test_changing_any_one_character_of_a_token_is_refused(position: int, replacement: str):
    token = sealed()
    position %= len(token)
    forged = token[:position] + replacement + token[position + 1 :]
    if forged != token:
        refused(forged)


def _raw(key: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(key).encode()).decode().rstrip("=")


@pytest.mark.parametrize(
    ("key", "keys"),
    [
        ({"PK": "CLIENT#acme-outdoor", "SK": "ACCOUNT#1", "extra": "x"}, ("PK", "SK")),
        ({"PK": "CLIENT#acme-outdoor"}, ("PK", "SK")),
        ({"PK": "CLIENT#acme-outdoor", "SK": "ACCOUNT#1"}, ("PK", "SK", "GSI1PK", "GSI1SK")),
        ({"PK": "CLIENT#bluebird-gifts", "SK": "ACCOUNT#1"}, ("PK", "SK")),
        ({"PK": "CLIENT#acme-outdoor", "SK": "MAPPING#1"}, ("PK", "SK")),
        ({"PK": "CLIENT#acme-outdoor", "SK": 1}, ("PK", "SK")),
    ],
    ids=["an extra attribute", "a missing one", "no index key", "another partition", "another prefix", "a number"],
)
def test_a_cursor_is_exactly_the_querys_key_attributes_in_its_partition(key: dict[str, Any], keys: tuple[str, ...]):
    with pytest.raises(InvalidInput) as raised:
        decode_page_token(_raw(key), partition="CLIENT#acme-outdoor", sk_prefix="ACCOUNT#", keys=keys)
    assert raised.value.code == "invalid_next_token"


def test_a_cursor_of_the_querys_key_reads_back():
    key = {"PK": "CLIENT#acme-outdoor", "SK": "ORDER#1", "GSI1PK": "ORDERS#acme-outdoor", "GSI1SK": "2026"}
    token = encode_page_token(key)

    assert decode_page_token(token, partition=key["PK"], sk_prefix="ORDER#", keys=tuple(key)) == key
