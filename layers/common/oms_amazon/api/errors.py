"""The one place where domain errors become HTTP responses: `{"error": {code, message, details}}`.

Statuses are chosen by error type, never by message text. Validation details name the field and
the problem but never echo the input, which may hold a token.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from http import HTTPStatus
from typing import Any

from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response
from aws_lambda_powertools.event_handler.openapi.exceptions import RequestUnsupportedContentType, RequestValidationError
from aws_lambda_powertools.event_handler.openapi.types import OpenAPIResponse

from oms_amazon.api.schemas import ErrorResponse
from oms_amazon.domain.errors import (
    Conflict,
    DependencyUnavailable,
    DomainError,
    Forbidden,
    InvalidInput,
    NotFound,
    PayloadTooLarge,
    RateLimited,
    Unauthenticated,
    UnsupportedMediaType,
)
from oms_amazon.observability import logger

NOT_JSON = "Send the request body as application/json."

STATUS_BY_ERROR: tuple[tuple[type[DomainError], HTTPStatus], ...] = (
    (InvalidInput, HTTPStatus.BAD_REQUEST),
    (Unauthenticated, HTTPStatus.UNAUTHORIZED),
    (Forbidden, HTTPStatus.FORBIDDEN),
    (NotFound, HTTPStatus.NOT_FOUND),
    (Conflict, HTTPStatus.CONFLICT),
    (PayloadTooLarge, HTTPStatus.REQUEST_ENTITY_TOO_LARGE),
    (UnsupportedMediaType, HTTPStatus.UNSUPPORTED_MEDIA_TYPE),
    (RateLimited, HTTPStatus.TOO_MANY_REQUESTS),
    (DependencyUnavailable, HTTPStatus.SERVICE_UNAVAILABLE),
)


def documented_errors(descriptions: Mapping[int, str]) -> dict[int, OpenAPIResponse]:
    """A route's error statuses for the OpenAPI document, each with what it means there; every one has
    the error body this module writes."""
    content: dict[str, Any] = {"application/json": {"model": ErrorResponse}}
    return {status: {"description": text, "content": content} for status, text in descriptions.items()}


def error_response(
    status: int,
    code: str,
    message: str,
    details: list[dict[str, Any]] | None = None,
    headers: dict[str, str] | None = None,
) -> Response[str]:
    body = {"error": {"code": code, "message": message, "details": details or []}}
    return Response(status_code=status, content_type="application/json", body=json.dumps(body), headers=headers)


def status_of(error: DomainError) -> HTTPStatus:
    for error_type, status in STATUS_BY_ERROR:
        if isinstance(error, error_type):
            return status
    return HTTPStatus.BAD_REQUEST


def sends_non_json_body(headers: Mapping[str, str], body: str | None) -> bool:
    """A body sent as anything but JSON (a form, multipart, XML...). No content type is read as JSON."""
    media_type = (headers.get("content-type") or "").split(";", 1)[0].strip().lower()
    return bool(body) and media_type not in ("", "application/json")


def validation_details(error: RequestValidationError) -> list[dict[str, Any]]:
    details = []
    for problem in error.errors():
        location = [str(part) for part in problem.get("loc", ()) if part not in ("body", "query", "path")]
        details.append(
            {
                "field": ".".join(location) or "body",
                "in": str(problem.get("loc", ("body",))[0]),
                "reason": str(problem.get("msg", "invalid")),
                "type": str(problem.get("type", "invalid")),
            }
        )
    return details


def register_error_handlers(app: APIGatewayRestResolver) -> None:
    @app.exception_handler(DomainError)
    def domain_error(error: DomainError) -> Response[str]:
        status = status_of(error)
        if status >= HTTPStatus.INTERNAL_SERVER_ERROR:
            logger.warning("dependency unavailable", extra={"code": error.code}, exc_info=error)
        headers = {"Retry-After": str(error.retry_after)} if isinstance(error, RateLimited) else None
        return error_response(status, error.code, error.message, error.details, headers)

    @app.exception_handler(RequestUnsupportedContentType)
    def unsupported_media_type(_: RequestUnsupportedContentType) -> Response[str]:
        return error_response(415, "unsupported_media_type", NOT_JSON)

    @app.exception_handler(UnicodeDecodeError)
    def undecodable_body(error: UnicodeDecodeError) -> Response[str]:
        # Bytes that are not UTF-8 arrive base64-encoded; only the request body's own failure is the caller's.
        try:
            app.current_event.decoded_body  # noqa: B018 - the property decodes
        except UnicodeDecodeError:
            return error_response(400, "invalid_json", "The request body is not UTF-8 encoded JSON.")
        raise error

    @app.exception_handler(RequestValidationError)
    def invalid_request(error: RequestValidationError) -> Response[str]:
        event = app.current_event
        if sends_non_json_body(event.headers, event.body):
            # Powertools reads forms and multipart bodies too; this API takes JSON only.
            return error_response(415, "unsupported_media_type", NOT_JSON)
        details = validation_details(error)
        if any(d["type"] == "json_invalid" for d in details):
            return error_response(400, "invalid_json", "The request body is not valid JSON.")
        return error_response(400, "validation_error", "The request does not match the expected shape.", details)

    @app.not_found
    def route_not_found(_: Exception) -> Response[str]:
        return error_response(404, "route_not_found", "No such route.")
