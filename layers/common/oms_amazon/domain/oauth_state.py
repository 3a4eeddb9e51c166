"""The OAuth `state` of Authorise Now (SPEC §4.4): signed, expiring, bound to one client's account.

The state travels to Seller Central and comes back on the consent redirect, where the callback has
no Cognito identity: the state is the proof of who asked. It is

    v1.<payload>.<signature>

with `payload` the base64url (unpadded) compact JSON `{"c": client_id, "a": account_id, "n": nonce,
"e": expiry as Unix seconds}` and `signature` the base64url HMAC-SHA256, under a key held in Secrets
Manager, of `oms-amazon/oauth-state/v1.` + payload. The signature is checked, in constant time,
before the payload is even decoded. The nonce makes each state single-use: the callback records it
with a conditional write (adapters.oauth_states), so a replay is refused.

An **authorisation link** (`POST /accounts/{id}/authorisation-links`) is the same construction with
its own version tag and signing context,

    l1.<payload>.<signature>   HMAC-SHA256 of `oms-amazon/authorisation-link/v1.` + payload

valid for 7 days and not single-use: each opening of the link signs a fresh state. The separate
context means a state can never be passed off as a link or a link as a state, though one key signs both.

Pure: the key, the clock and the nonce are given by the caller.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from oms_amazon.domain.errors import InvalidInput

STATE_LIFETIME = timedelta(minutes=10)
LINK_LIFETIME = timedelta(days=7)
MIN_KEY_BYTES = 32
MAX_STATE_LENGTH = 1024
VERSION = "v1"
LINK_VERSION = "l1"
_SIGNING_CONTEXT = b"oms-amazon/oauth-state/v1."
_LINK_SIGNING_CONTEXT = b"oms-amazon/authorisation-link/v1."
_B64URL = re.compile(r"[A-Za-z0-9_-]+")
_IDENTIFIER = re.compile(r"[A-Za-z0-9][A-Za-z0-9._@+=-]{0,63}")
_NONCE = re.compile(r"[A-Za-z0-9_-]{16,64}")


class InvalidState(InvalidInput):
    """The state is not one this connector issued, was altered, or has expired (400)."""

    code = "invalid_state"


class InvalidLink(InvalidInput):
    """The authorisation link is not one this connector issued, was altered, or has expired (400)."""

    code = "invalid_link"


@dataclass(frozen=True, slots=True)
class StateClaims:
    client_id: str
    account_id: str
    nonce: str
    expires_at: datetime

    def __post_init__(self) -> None:
        if not (_IDENTIFIER.fullmatch(self.client_id) and _IDENTIFIER.fullmatch(self.account_id)):
            raise ValueError("client_id and account_id must be identifiers")
        if not _NONCE.fullmatch(self.nonce):
            raise ValueError("the nonce must be 16-64 base64url characters")
        if self.expires_at.tzinfo is None:
            raise ValueError("expires_at must be timezone-aware")


def new_claims(client_id: str, account_id: str, nonce: str, now: datetime) -> StateClaims:
    """Claims for a state issued at `now`, valid for `STATE_LIFETIME` (whole seconds)."""
    expires = (now + STATE_LIFETIME).astimezone(UTC).replace(microsecond=0)
    return StateClaims(client_id=client_id, account_id=account_id, nonce=nonce, expires_at=expires)


def new_link_claims(client_id: str, account_id: str, nonce: str, now: datetime) -> StateClaims:
    """Claims for an authorisation link issued at `now`, valid for `LINK_LIFETIME` (whole seconds)."""
    expires = (now + LINK_LIFETIME).astimezone(UTC).replace(microsecond=0)
    return StateClaims(client_id=client_id, account_id=account_id, nonce=nonce, expires_at=expires)


def sign_state(claims: StateClaims, key: bytes) -> str:
    return _seal(claims, key, VERSION, _SIGNING_CONTEXT)


def sign_link(claims: StateClaims, key: bytes) -> str:
    return _seal(claims, key, LINK_VERSION, _LINK_SIGNING_CONTEXT)


def verify_state(state: str, key: bytes, now: datetime) -> StateClaims:
    """The claims of a state this connector signed with `key` and that has not expired at `now`.

    Raises `InvalidState` (`invalid_state` or `state_expired`); the message never echoes the state.
    """
    claims = _open(state, key, VERSION, _SIGNING_CONTEXT, _tampered)
    if now >= claims.expires_at:
        raise InvalidState(
            "This authorisation link has expired. Start again from the connection (Authorise Now); each link "
            f"is valid for {int(STATE_LIFETIME.total_seconds() // 60)} minutes.",
            code="state_expired",
        )
    return claims


def verify_link(link: str, key: bytes, now: datetime) -> StateClaims:
    """The claims of an authorisation link this connector signed with `key`, not expired at `now`.

    Raises `InvalidLink` (`invalid_link` or `link_expired`); the message never echoes the link.
    """
    claims = _open(link, key, LINK_VERSION, _LINK_SIGNING_CONTEXT, _tampered_link)
    if now >= claims.expires_at:
        raise InvalidLink(
            f"This authorisation link has expired (links are valid for {LINK_LIFETIME.days} days). Ask the "
            "warehouse for a new one.",
            code="link_expired",
        )
    return claims


def _seal(claims: StateClaims, key: bytes, version: str, context: bytes) -> str:
    _check_key(key)
    document = {"c": claims.client_id, "a": claims.account_id, "n": claims.nonce, "e": _epoch(claims.expires_at)}
    payload = _encode(json.dumps(document, separators=(",", ":"), sort_keys=True).encode())
    return f"{version}.{payload}.{_encode(_mac(key, context, payload))}"


def _open(token: str, key: bytes, version: str, context: bytes, tampered: Callable[[], InvalidInput]) -> StateClaims:
    _check_key(key)
    if not isinstance(token, str) or len(token) > MAX_STATE_LENGTH:
        raise tampered()
    parts = token.split(".")
    if len(parts) != 3 or parts[0] != version or not all(_B64URL.fullmatch(p) for p in parts[1:]):
        raise tampered()
    payload, signature = parts[1], parts[2]
    try:
        given = _decode(signature)
    except (binascii.Error, ValueError):
        raise tampered() from None
    # Only the canonical encoding counts, so one token has exactly one spelling.
    if _encode(given) != signature or not hmac.compare_digest(given, _mac(key, context, payload)):
        raise tampered()
    try:
        document = json.loads(_decode(payload))
        return StateClaims(
            client_id=document["c"],
            account_id=document["a"],
            nonce=document["n"],
            expires_at=datetime.fromtimestamp(_integer(document["e"]), UTC),
        )
    except (binascii.Error, ValueError, TypeError, KeyError, OverflowError, OSError):
        # Signed by us yet unreadable: only a bug or a leaked key could do this. Refuse all the same.
        raise tampered() from None


def _tampered_link() -> InvalidLink:
    return InvalidLink(
        "This authorisation link is not valid: it was altered, cut short or was not issued by this connector. Open "
        "the whole link from the e-mail, or ask the warehouse for a new one.",
        code="invalid_link",
    )


def _tampered() -> InvalidState:
    return InvalidState(
        "The authorisation state is not valid: it was altered or was not issued by this connector. Start again "
        "from the connection (Authorise Now).",
        code="invalid_state",
    )


def _check_key(key: bytes) -> None:
    if len(key) < MIN_KEY_BYTES:
        raise ValueError(f"the state signing key must be at least {MIN_KEY_BYTES} bytes")


def _mac(key: bytes, context: bytes, payload: str) -> bytes:
    return hmac.new(key, context + payload.encode("ascii"), hashlib.sha256).digest()


def _encode(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode("ascii").rstrip("=")


def _decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _epoch(moment: datetime) -> int:
    return int(moment.timestamp())


def _integer(value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError("expiry must be an integer")
    return value
