"""DynamoDB plumbing shared by the repositories: the table handle, value conversion, and the one
place where `ClientError` codes become domain errors."""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Iterator
from contextlib import contextmanager
from decimal import Decimal
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from oms_amazon.domain.errors import DependencyUnavailable, InvalidInput

# The repositories write moments as the domain does (re-exported for them).
from oms_amazon.domain.moments import iso as iso
from oms_amazon.domain.moments import parse_iso as parse_iso

_UNAVAILABLE = {
    "ProvisionedThroughputExceededException",
    "ThrottlingException",
    "RequestLimitExceeded",
    "InternalServerError",
    "ServiceUnavailable",
}


@contextmanager
def dynamodb_errors(operation: str) -> Iterator[None]:
    """Throttling and service faults become `DependencyUnavailable` (503, retryable); anything else
    is a bug and propagates as is. Conditional failures are handled by the caller, which knows
    what they mean."""
    try:
        yield
    except ClientError as error:
        if error.response.get("Error", {}).get("Code") in _UNAVAILABLE:
            raise DependencyUnavailable(f"The data store is busy ({operation}); retry shortly.") from error
        raise
    except BotoCoreError as error:
        raise DependencyUnavailable(f"The data store could not be reached ({operation}); retry shortly.") from error


def error_code(error: ClientError) -> str:
    return str(error.response.get("Error", {}).get("Code", ""))


def cancellation_codes(error: ClientError) -> list[str]:
    """The per-item reasons of a cancelled transaction, in the order of its items."""
    reasons = error.response.get("CancellationReasons") or []
    return [str(reason.get("Code", "None")) for reason in reasons]


def plain(value: Any) -> Any:
    """DynamoDB's Decimals back to ints/floats, recursively."""
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [plain(v) for v in value]
    return value


def encode_page_token(last_key: dict[str, Any] | None) -> str | None:
    if not last_key:
        return None
    raw = json.dumps(plain(last_key), separators=(",", ":"), sort_keys=True).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


TABLE_KEY = ("PK", "SK")


def decode_page_token(
    token: str | None,
    *,
    partition: str,
    sk_prefix: str = "",
    also: dict[str, str] | None = None,
    keys: tuple[str, ...] = TABLE_KEY,
) -> dict[str, Any] | None:
    """A cursor from a previous page of the same partition, holding exactly the query's key attributes
    (`keys`: the table's, plus the index's for an index query); anything else is a 400. The API signs
    these cursors (domain.page_tokens) before a client sees them; this check is the last line: a start
    key outside the query's partition, or with an attribute DynamoDB does not expect (which moto
    accepts and DynamoDB refuses), never reaches a query."""
    if token is None:
        return None
    try:
        padded = token + "=" * (-len(token) % 4)
        key = json.loads(base64.urlsafe_b64decode(padded.encode()))
    except (ValueError, binascii.Error, UnicodeDecodeError):
        key = None
    if (
        not isinstance(key, dict)
        or set(key) != set(keys)
        or key.get("PK") != partition
        or not str(key.get("SK", "")).startswith(sk_prefix)
        or any(key.get(name) != value for name, value in (also or {}).items())
        or not all(isinstance(k, str) and isinstance(v, str) for k, v in key.items())
    ):
        raise InvalidInput(
            "next_token is not a token this list returned.",
            code="invalid_next_token",
            details=[{"field": "next_token", "reason": "malformed"}],
        )
    return key


def batch_write(client: Any, table: str, requests: list[dict[str, Any]], operation: str) -> None:
    """BatchWriteItem in groups of 25, resending whatever DynamoDB leaves unprocessed."""
    import time

    for start in range(0, len(requests), 25):
        pending: dict[str, Any] = {table: requests[start : start + 25]}
        for attempt in range(8):
            with dynamodb_errors(operation):
                response = client.batch_write_item(RequestItems=pending)
            pending = response.get("UnprocessedItems") or {}
            if not pending:
                break
            time.sleep(min(0.05 * 2**attempt, 2))
        if pending:
            raise DependencyUnavailable(f"The data store is busy ({operation}); retry shortly.")
