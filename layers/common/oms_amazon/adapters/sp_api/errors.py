"""How the SP-API client turns Amazon's non-2xx answers into the connector's errors of Amazon's calls
(`oms_amazon.domain.amazon_errors`, re-exported here for the client's modules): every failure the client
reports is an `SpApiError`, its subclass chosen by the HTTP status."""

from __future__ import annotations

from oms_amazon.domain.amazon_errors import AccessDenied as AccessDenied
from oms_amazon.domain.amazon_errors import AmazonUnavailable as AmazonUnavailable
from oms_amazon.domain.amazon_errors import AppCredentialsRejected as AppCredentialsRejected
from oms_amazon.domain.amazon_errors import AuthorisationRejected as AuthorisationRejected
from oms_amazon.domain.amazon_errors import ErrorDetail as ErrorDetail
from oms_amazon.domain.amazon_errors import InvalidRequest as InvalidRequest
from oms_amazon.domain.amazon_errors import LwaError as LwaError
from oms_amazon.domain.amazon_errors import NotFound as NotFound
from oms_amazon.domain.amazon_errors import OutcomeUnknown as OutcomeUnknown
from oms_amazon.domain.amazon_errors import SpApiError as SpApiError
from oms_amazon.domain.amazon_errors import Throttled as Throttled
from oms_amazon.domain.amazon_errors import UnexpectedResponse as UnexpectedResponse


def parse_error_list(body: object) -> tuple[ErrorDetail, ...]:
    """Amazon's `errors[]`, from either shape it uses.

    Orders v0 and Sellers put `errors` beside `payload` (`{payload?, errors?}`); Feeds, Reports, Listings and
    Orders 2026-01-01 answer with a bare `ErrorList` (`{errors: [...]}`). A bare JSON array of errors and the
    gateway's own `{"message": ...}` body are accepted too.
    """
    entries: object = body.get("errors") if isinstance(body, dict) else body
    found: list[ErrorDetail] = []
    if isinstance(entries, list):
        for entry in entries:
            if isinstance(entry, dict) and ("code" in entry or "message" in entry):
                details = entry.get("details")
                found.append(
                    ErrorDetail(
                        code=str(entry.get("code", "")),
                        message=str(entry.get("message", "")),
                        details=str(details) if details is not None else None,
                    )
                )
    if not found and isinstance(body, dict):
        message = body.get("message") or body.get("Message")
        if isinstance(message, str) and message:
            found.append(ErrorDetail(code="", message=message))
    return tuple(found)


_ERROR_CLASSES: dict[int, type[SpApiError]] = {
    400: InvalidRequest,
    401: AccessDenied,
    403: AccessDenied,
    404: NotFound,
    413: InvalidRequest,
    415: InvalidRequest,
    422: InvalidRequest,
    429: Throttled,
}


def error_class_for(status: int) -> type[SpApiError]:
    if status >= 500:
        return AmazonUnavailable
    return _ERROR_CLASSES.get(status, SpApiError)


def error_from_response(
    *,
    operation: str,
    status: int,
    body: object,
    request_id: str | None = None,
    error_type: str | None = None,
) -> SpApiError:
    """The typed error for a non-2xx SP-API answer (`error_type` is the `x-amzn-ErrorType` header)."""
    errors = parse_error_list(body)
    first = errors[0] if errors else None
    gateway_type = error_type.split(":", 1)[0] if error_type else None
    code = (first.code if first and first.code else None) or gateway_type or f"HTTP{status}"
    message = (first.message if first and first.message else None) or f"Amazon answered HTTP {status}"
    details = first.details if first else None
    return error_class_for(status)(
        message,
        operation=operation,
        status=status,
        code=code,
        details=details,
        request_id=request_id,
        errors=errors,
    )
