"""Domain errors. Each carries a stable machine code; the HTTP status is chosen in one place
(`oms_amazon.api.errors`), never by matching message text."""

from __future__ import annotations

from typing import Any


class DomainError(Exception):
    """Base of every error the connector reports to a caller."""

    code: str = "error"

    def __init__(self, message: str, *, code: str | None = None, details: list[dict[str, Any]] | None = None) -> None:
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code
        self.details: list[dict[str, Any]] = details or []


class InvalidInput(DomainError):
    """The request is malformed or breaks a field rule (400)."""

    code = "validation_error"


class Unauthenticated(DomainError):
    """No usable identity on the request (401)."""

    code = "unauthorized"


class Forbidden(DomainError):
    """An identity that may not do this at all, e.g. a non-admin naming another client (403)."""

    code = "forbidden"


class NotFound(DomainError):
    """Absent, or belonging to another client: the two are indistinguishable by design (404)."""

    code = "not_found"


class AccountDeleted(NotFound):
    """The account was deleted while a job for it was under way: the data store refused what the job would
    have written for it (its run record, an order), because the account's tombstone exists."""

    code = "account_not_found"


class Conflict(DomainError):
    """The request is valid but clashes with the current state (409)."""

    code = "conflict"


class PayloadTooLarge(DomainError):
    code = "payload_too_large"


class UnsupportedMediaType(DomainError):
    code = "unsupported_media_type"


class DependencyUnavailable(DomainError):
    """An AWS service or Amazon is unavailable; nothing was changed (503)."""

    code = "service_unavailable"


class RateLimited(DomainError):
    """The client has spent its allowance of writes for now; nothing was done (429 with `Retry-After`)."""

    code = "rate_limited"

    def __init__(self, message: str, *, retry_after: int) -> None:
        super().__init__(message)
        self.retry_after = retry_after
