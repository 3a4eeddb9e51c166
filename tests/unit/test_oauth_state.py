"""The OAuth state of Authorise Now (SPEC §4.4) and the consent URL: signed, expiring, bound to one
client's account; tampering in any part is refused without echoing the state."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
from oms_amazon.domain.authorisation import (
    MarketplaceParticipation,
    Verification,
    consent_url,
    verification_for,
)
from oms_amazon.domain.errors import InvalidInput
from oms_amazon.domain.marketplaces import marketplace_by_code
from oms_amazon.domain.oauth_state import (
    STATE_LIFETIME,
    InvalidState,
    StateClaims,
    new_claims,
    sign_state,
    verify_state,
)

pytestmark = pytest.mark.unit

KEY = b"k" * 32
OTHER_KEY = b"o" * 32
NOW = datetime(2026, 3, 1, 12, 0, 0, 250_000, tzinfo=UTC)
NONCE = "q3Jb0xUe6kR1dVhQh2m1Zg"


def claims(client_id: str = "acme-outdoor", account_id: str = "0f8fad5bd9cb469f") -> StateClaims:
    return new_claims(client_id, account_id, NONCE, NOW)


def b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def refused_code(state: str, key: bytes = KEY, now: datetime = NOW) -> str:
    with pytest.raises(InvalidState) as refused:
        verify_state(state, key, now)
    assert not state or state not in refused.value.message, "the state is never echoed"
    return refused.value.code


def test_a_signed_state_verifies_to_the_client_account_and_nonce_it_was_issued_for():
    state = sign_state(claims(), KEY)

    verified = verify_state(state, KEY, NOW)

    assert verified == claims()
    assert (verified.client_id, verified.account_id, verified.nonce) == ("acme-outdoor", "0f8fad5bd9cb469f", NONCE)


def test_a_state_is_valid_for_ten_minutes_in_whole_seconds():
    issued = claims()

    assert issued.expires_at == datetime(2026, 3, 1, 12, 10, 0, tzinfo=UTC)
    assert timedelta(minutes=10) == STATE_LIFETIME


def test_a_state_is_accepted_until_the_second_it_expires_and_refused_from_then_on():
    state = sign_state(claims(), KEY)
    expires = claims().expires_at

    assert verify_state(state, KEY, expires - timedelta(seconds=1)).nonce == NONCE
    assert refused_code(state, now=expires) == "state_expired"
    assert refused_code(state, now=expires + timedelta(days=1)) == "state_expired"


def test_the_state_has_a_version_a_readable_payload_and_a_hmac_sha256_signature():
    version, payload, signature = sign_state(claims(), KEY).split(".")

    assert version == "v1"
    assert json.loads(unb64(payload)) == {"a": "0f8fad5bd9cb469f", "c": "acme-outdoor", "e": 1772367000, "n": NONCE}
    assert len(unb64(signature)) == 32


def test_a_state_signed_with_another_key_is_refused():
    assert refused_code(sign_state(claims(), OTHER_KEY)) == "invalid_state"


def test_a_payload_rewritten_for_another_client_keeps_no_valid_signature():
    _, payload, signature = sign_state(claims(), KEY).split(".")
    document = json.loads(unb64(payload))
    document["c"] = "rival-client"
    forged = f"v1.{b64(json.dumps(document, separators=(',', ':'), sort_keys=True).encode())}.{signature}"

    assert refused_code(forged) == "invalid_state"


def test_a_later_expiry_cannot_be_written_into_a_state():
    _, payload, signature = sign_state(claims(), KEY).split(".")
    document = json.loads(unb64(payload))
    document["e"] += 86_400
    forged = f"v1.{b64(json.dumps(document, separators=(',', ':'), sort_keys=True).encode())}.{signature}"

    assert refused_code(forged, now=NOW + timedelta(hours=1)) == "invalid_state"


def test_the_signature_of_one_state_does_not_vouch_for_another():
    first = sign_state(claims(account_id="aaaaaaaa"), KEY).split(".")
    second = sign_state(claims(account_id="bbbbbbbb"), KEY).split(".")

    assert refused_code(f"v1.{first[1]}.{second[2]}") == "invalid_state"


@pytest.mark.parametrize("position", [3, 40, -5, -1])
def test_changing_any_single_character_is_refused(position):
    state = sign_state(claims(), KEY)
    index = position % len(state)
    replacement = "A" if state[index] != "A" else "B"
    if state[index] == ".":
        pytest.skip("a separator")

    assert refused_code(state[:index] + replacement + state[index + 1 :]) == "invalid_state"


@pytest.mark.parametrize(
    "mangle",
    [
        lambda s: "",
        lambda s: "v1",
        lambda s: s.replace("v1.", "v2.", 1),
        lambda s: s + ".extra",
        lambda s: s.rsplit(".", 1)[0],
        lambda s: s.rsplit(".", 1)[0] + ".",
        lambda s: s + "=",
        lambda s: s.replace(".", ".é", 1),
        lambda s: s + "A" * 2000,
        lambda s: " " + s,
    ],
    ids=[
        "empty",
        "version-only",
        "other-version",
        "four-parts",
        "unsigned",
        "empty-signature",
        "padding",
        "non-ascii",
        "too-long",
        "leading-space",
    ],
)
def test_malformed_states_are_refused_as_invalid(mangle):
    assert refused_code(mangle(sign_state(claims(), KEY))) == "invalid_state"


def test_a_signature_spelled_with_other_unused_trailing_bits_is_refused():
    version, payload, signature = sign_state(claims(), KEY).split(".")
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
    last = alphabet.index(signature[-1])
    # 43 characters carry 258 bits for 32 bytes: the last character's two low bits are not part of the digest.
    respelled = signature[:-1] + alphabet[last ^ 0b01]
    assert unb64(respelled) == unb64(signature)

    assert refused_code(f"{version}.{payload}.{respelled}") == "invalid_state"


def test_a_correctly_signed_but_unreadable_payload_is_refused_all_the_same():
    import hashlib
    import hmac

    payload = b64(b'{"c": "acme-outdoor"}')
    signature = b64(hmac.new(KEY, b"oms-amazon/oauth-state/v1." + payload.encode(), hashlib.sha256).digest())

    assert refused_code(f"v1.{payload}.{signature}") == "invalid_state"


def test_an_invalid_state_is_a_bad_request():
    with pytest.raises(InvalidInput):
        verify_state("nonsense", KEY, NOW)


def test_a_short_signing_key_is_a_configuration_error_not_a_weak_state():
    with pytest.raises(ValueError, match="at least 32 bytes"):
        sign_state(claims(), b"short")
    with pytest.raises(ValueError, match="at least 32 bytes"):
        verify_state("v1.a.b", b"", NOW)


@pytest.mark.parametrize(
    "fields",
    [
        {"client_id": "", "account_id": "a1", "nonce": NONCE},
        {"client_id": "acme", "account_id": "a/1", "nonce": NONCE},
        {"client_id": "acme", "account_id": "a1", "nonce": "short"},
    ],
    ids=["no-client", "account-with-slash", "short-nonce"],
)
def test_claims_hold_only_identifiers_and_a_long_enough_nonce(fields):
    with pytest.raises(ValueError, match="must be"):
        StateClaims(expires_at=NOW, **fields)


def test_claims_need_an_aware_expiry():
    with pytest.raises(ValueError, match="timezone-aware"):
        StateClaims("acme", "a1", NONCE, datetime(2026, 1, 1))


# ------------------------------------------------------------------------------------------ consent URL


def test_the_consent_url_is_the_seller_central_of_the_accounts_marketplace_with_the_app_and_state():
    state = sign_state(claims(), KEY)

    url = urlsplit(consent_url(marketplace_by_code("UK"), "amzn1.sp.solution.local", state))

    assert (url.scheme, url.netloc, url.path) == ("https", "sellercentral-europe.amazon.com", "/apps/authorize/consent")
    assert parse_qs(url.query) == {
        "application_id": ["amzn1.sp.solution.local"],
        "state": [state],
        "version": ["beta"],
    }


@pytest.mark.parametrize(
    ("code", "host"),
    [
        ("US", "sellercentral.amazon.com"),
        ("JP", "sellercentral.amazon.co.jp"),
        ("DE", "sellercentral-europe.amazon.com"),
    ],
)
def test_each_marketplace_sends_the_seller_to_its_own_seller_central(code, host):
    assert urlsplit(consent_url(marketplace_by_code(code), "app", "s")).netloc == host


def test_a_published_app_leaves_out_version_beta_and_no_redirect_uri_is_ever_sent():
    query = parse_qs(urlsplit(consent_url(marketplace_by_code("UK"), "app", "s", beta=False)).query)

    assert "version" not in query
    assert "redirect_uri" not in query


# ------------------------------------------------------------------------------------------ verification

UK = "A1F83G8C2ARO7P"
DE = "A1PA6795UKMFR9"


def test_a_seller_participating_in_the_accounts_marketplace_verifies_with_its_store_name():
    rows = [MarketplaceParticipation(DE, True, "Acme DE"), MarketplaceParticipation(UK, True, "Acme Outdoor")]

    assert verification_for(UK, rows) == Verification(
        ok=True, participating=True, store_name="Acme Outdoor", reason=None
    )


def test_a_seller_absent_from_the_marketplace_or_not_participating_fails_verification():
    assert verification_for(UK, [MarketplaceParticipation(DE, True, "Acme DE")]) == Verification(
        ok=False, participating=False, store_name=None, reason="not_participating"
    )
    assert verification_for(UK, [MarketplaceParticipation(UK, False, "Acme")]).reason == "not_participating"


def test_a_rejected_authorisation_says_nothing_about_participation():
    assert Verification.rejected() == Verification(
        ok=False, participating=None, store_name=None, reason="authorisation_rejected"
    )
