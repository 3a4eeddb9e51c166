"""What every builder shares: the request it returns, the resources a Restricted Data Token opens, and
the checks and encodings of Amazon's parameters."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal
from urllib.parse import quote

HttpMethod = Literal["GET", "POST", "PUT", "PATCH", "DELETE"]
DateTimeLike = datetime | str

MAX_MARKETPLACE_IDS = 50


@dataclass(frozen=True, slots=True)
class RestrictedResource:
    """What a Restricted Data Token may open: a method and path (Amazon accepts generic paths such as
    `/orders/v0/orders/{orderId}/orderItems`) and the kinds of buyer data (`dataElements`)."""

    method: HttpMethod
    path: str
    data_elements: tuple[str, ...] = ()

    def to_json(self) -> dict[str, Any]:
        body: dict[str, Any] = {"method": self.method, "path": self.path}
        if self.data_elements:
            body["dataElements"] = list(self.data_elements)
        return body


@dataclass(frozen=True, slots=True)
class SpApiRequest:
    """An SP-API call, ready to send: `operation` is the model's operationId (it picks the rate limit)."""

    operation: str
    method: HttpMethod
    path: str
    params: Mapping[str, str] = field(default_factory=dict)
    json: Any = None
    # False for a call Amazon may act on twice if it is repeated (createFeed has no idempotency key):
    # the client does not repeat it once it may have reached Amazon (see `OutcomeUnknown`).
    idempotent: bool = True
    # Sent with a Restricted Data Token for these resources instead of the access token, so Amazon
    # includes the buyer's data (Orders v0). Empty: the access token.
    restricted: tuple[RestrictedResource, ...] = ()
    # Further usage plans the call spends a token of, besides its operation's (`rate_limits`): a feed
    # type's own limit.
    also_limited_by: tuple[str, ...] = ()


def format_datetime(value: DateTimeLike, *, milliseconds: bool = False) -> str:
    """ISO 8601 in UTC with a `Z`; strings pass through. Naive datetimes are refused (ambiguous)."""
    if isinstance(value, str):
        return value
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError("date-times sent to Amazon must be timezone-aware")
    utc = value.astimezone(UTC)
    if milliseconds or utc.microsecond:
        return utc.strftime("%Y-%m-%dT%H:%M:%S.") + f"{utc.microsecond // 1000:03d}Z"
    return utc.strftime("%Y-%m-%dT%H:%M:%SZ")


def path_segment(value: str, name: str) -> str:
    if not value:
        raise ValueError(f"{name} is required")
    # Path parameters are percent-encoded whole: a SKU may contain '/', spaces or '#'.
    return quote(value, safe="")


def csv_param(
    values: Iterable[str], name: str, *, allowed: frozenset[str] | None = None, limit: int | None = None
) -> str:
    if isinstance(values, str):
        raise TypeError(f"{name} must be a sequence of strings, not a string")
    items = list(values)
    if not items:
        raise ValueError(f"{name} must not be empty")
    if limit is not None and len(items) > limit:
        raise ValueError(f"{name} takes at most {limit} values")
    if allowed is not None:
        unknown = sorted(set(items) - allowed)
        if unknown:
            raise ValueError(f"{name} has unsupported values: {', '.join(unknown)}")
    return ",".join(items)


def marketplaces_param(marketplace_ids: Sequence[str], name: str) -> str:
    return csv_param(marketplace_ids, name, limit=MAX_MARKETPLACE_IDS)


def page_size_param(value: int, name: str, maximum: int) -> str:
    if not 1 <= value <= maximum:
        raise ValueError(f"{name} must be between 1 and {maximum}")
    return str(value)
