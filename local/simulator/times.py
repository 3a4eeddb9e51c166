"""ISO 8601 in and out, as Amazon writes it (`2024-12-25T02:30:00Z`)."""

from __future__ import annotations

from datetime import UTC, datetime


def iso(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_iso(value: str) -> datetime:
    """An ISO 8601 date-time (`Z` or an offset; a bare time is taken as UTC). `ValueError` otherwise."""
    if not isinstance(value, str) or not value.strip():
        raise ValueError(f"'{value}' is not an ISO 8601 date-time")
    moment = datetime.fromisoformat(value.strip())
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)
