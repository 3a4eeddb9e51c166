"""The `next_token` of the API's lists (SPEC §7): opaque, signed, and good for one list only.

A repository pages with a *cursor* — DynamoDB's `LastEvaluatedKey`, as `adapters.dynamodb` encodes
it. The API never hands that cursor out as it is: it hands out

    n1.<cursor>.<signature>

with `signature` the base64url (unpadded) HMAC-SHA256, under the page-token key, of

    oms-amazon/page-token/v1. + {"c": client_id, "l": list name, "q": {filter: value}} + "." + cursor

(the binding as compact JSON with sorted keys, so it has one spelling). The client, the list (route)
and the filters that shaped the list are in the signature but not in the token: a token is only
good for the list that issued it, for the same client, with the same filters. Anything else —
tampered, truncated, made up, another client's, another list's, other filters — is 400
`invalid_next_token`, checked in constant time before the cursor is even decoded, so no key the
connector did not itself return can reach DynamoDB.

The page-token key is derived from the secret that signs OAuth states (`derive_key`), so one
Secrets Manager read serves both and the two signatures can never stand in for each other.
Rotating the secret invalidates the tokens in flight: a client starts its list again.

Pure: the key is given by the caller.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re
from collections.abc import Mapping

from oms_amazon.domain.errors import InvalidInput

VERSION = "n1"
MAX_TOKEN_LENGTH = 2048
_SIGNING_CONTEXT = b"oms-amazon/page-token/v1."
_KEY_CONTEXT = b"oms-amazon/page-token-key/v1"
_TOKEN = re.compile(rf"{VERSION}\.([A-Za-z0-9_-]{{1,{MAX_TOKEN_LENGTH}}})\.([A-Za-z0-9_-]{{43}})")

FilterValue = str | int | bool | None


class InvalidNextToken(InvalidInput):
    """The `next_token` is not one this list issued to this client with these filters (400)."""

    code = "invalid_next_token"


def derive_key(secret: bytes) -> bytes:
    """The page-token key: the secret's HMAC of a context of its own, never the secret itself."""
    return hmac.new(secret, _KEY_CONTEXT, hashlib.sha256).digest()


def _binding(list_name: str, client_id: str, filters: Mapping[str, FilterValue]) -> bytes:
    query = {name: _text(value) for name, value in filters.items() if value is not None}
    return json.dumps({"c": client_id, "l": list_name, "q": query}, sort_keys=True, separators=(",", ":")).encode()


def _text(value: FilterValue) -> str:
    return ("true" if value else "false") if isinstance(value, bool) else str(value)


def _signature(key: bytes, cursor: str, binding: bytes) -> str:
    digest = hmac.new(key, _SIGNING_CONTEXT + binding + b"." + cursor.encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).decode().rstrip("=")


def seal(
    cursor: str | None, *, key: bytes, list_name: str, client_id: str, filters: Mapping[str, FilterValue]
) -> str | None:
    """The token a client gets for the next page (None when there is none)."""
    if cursor is None:
        return None
    return f"{VERSION}.{cursor}.{_signature(key, cursor, _binding(list_name, client_id, filters))}"


def unseal(token: str, *, key: bytes, list_name: str, client_id: str, filters: Mapping[str, FilterValue]) -> str:
    """The cursor inside a token this list issued to this client with these filters; else `InvalidNextToken`."""
    match = _TOKEN.fullmatch(token) if len(token) <= MAX_TOKEN_LENGTH else None
    if match is None:
        raise InvalidNextToken(
            "next_token is not a token this list returned.",
            details=[{"field": "next_token", "reason": "malformed"}],
        )
    cursor, signature = match.groups()
    expected = _signature(key, cursor, _binding(list_name, client_id, filters))
    if not hmac.compare_digest(signature.encode(), expected.encode()):
        raise InvalidNextToken(
            "next_token was not issued by this list for this client and these filters; start the list again "
            "without it.",
            details=[{"field": "next_token", "reason": "not_issued_for_this_list"}],
        )
    return cursor
