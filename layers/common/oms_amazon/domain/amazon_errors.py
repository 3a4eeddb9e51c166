"""What a call to Amazon (SP-API, Login with Amazon, or a pre-signed document URL) that did not succeed means
to the connector: the subclass says what the caller can do about it (fix the request, re-authorise, wait,
give up for now). The SP-API client (`adapters.sp_api`) raises these, so a service catches a domain error
and never imports the client. Amazon's `errors[]` list is kept on the error as `errors`, the first entry's
`code`/`message`/`details` on the error itself.

Messages are passed through `redact` when the error is built, so neither an access token nor a refresh
token can reach a log line or an API response through `str(error)` or `repr(error)`.
"""

from __future__ import annotations

from dataclasses import dataclass

from oms_amazon.observability import redact


@dataclass(frozen=True, slots=True)
class ErrorDetail:
    """One entry of Amazon's `errors[]` list."""

    code: str
    message: str
    details: str | None = None


class SpApiError(Exception):
    """A call to Amazon (SP-API, LWA, or a pre-signed document URL) did not succeed."""

    def __init__(
        self,
        message: str,
        *,
        operation: str,
        status: int | None = None,
        code: str | None = None,
        details: str | None = None,
        request_id: str | None = None,
        errors: tuple[ErrorDetail, ...] = (),
    ) -> None:
        self.message = redact(message)
        super().__init__(self.message)
        self.operation = operation
        self.status = status
        self.code = code
        self.details = redact(details) if details is not None else None
        self.request_id = request_id
        self.errors = tuple(
            ErrorDetail(e.code, redact(e.message), redact(e.details) if e.details is not None else None) for e in errors
        )

    def __str__(self) -> str:
        parts = [f"{self.operation}: {self.message}"]
        if self.status is not None:
            parts.append(f"status={self.status}")
        if self.code:
            parts.append(f"code={self.code}")
        if self.request_id:
            parts.append(f"request_id={self.request_id}")
        return " ".join(parts)

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(operation={self.operation!r}, status={self.status!r}, code={self.code!r}, "
            f"message={self.message!r}, request_id={self.request_id!r})"
        )


class InvalidRequest(SpApiError):
    """Amazon refused the request as malformed (400, 413, 415, 422). Retrying the same request will not help."""


class AccessDenied(SpApiError):
    """401/403: the token is valid but the app or seller may not do this (missing role, revoked access)."""


class NotFound(SpApiError):
    """404: the order, feed, report, listing or document does not exist for this seller."""


class Throttled(SpApiError):
    """Amazon kept answering 429, or the local token bucket could not give a token within the time budget.

    `retry_after` is the client's best estimate, in seconds, of when a call could succeed; a queue consumer
    can use it as the message's visibility delay instead of sleeping in the Lambda.
    """

    def __init__(
        self,
        message: str,
        *,
        operation: str,
        status: int | None = None,
        code: str | None = None,
        details: str | None = None,
        request_id: str | None = None,
        errors: tuple[ErrorDetail, ...] = (),
        retry_after: float | None = None,
    ) -> None:
        super().__init__(
            message,
            operation=operation,
            status=status,
            code=code,
            details=details,
            request_id=request_id,
            errors=errors,
        )
        self.retry_after = retry_after


class AmazonUnavailable(SpApiError):
    """5xx answers, timeouts or transport errors that outlasted the retry budget. Nothing is known to have changed."""


class OutcomeUnknown(AmazonUnavailable):
    """A call that is not safe to repeat (`SpApiRequest.idempotent` False) got a 5xx or lost its answer
    after it was sent: Amazon may have acted on it. It is not retried; the caller looks before asking again."""


class UnexpectedResponse(SpApiError):
    """A 2xx answer whose body does not have the shape of Amazon's model."""


class LwaError(SpApiError):
    """Login with Amazon refused a token request (other than the two cases below)."""


class AuthorisationRejected(LwaError):
    """LWA `invalid_grant`: the refresh token (or OAuth code) is revoked, expired or not this app's.

    The seller must authorise the app again. Never retried: the account is paused until then.
    """


class AppCredentialsRejected(LwaError):
    """LWA `invalid_client`/`unauthorized_client`: the connector's own client id or secret is wrong.

    Affects every seller at once; an operator must fix the app credentials.
    """
