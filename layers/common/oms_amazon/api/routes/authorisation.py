"""Authorise Now routes (SPEC §4.4, §7): the consent URL, Amazon's OAuth redirect, and verifying a connection.

`GET /oauth/callback` is the one route without a Cognito identity (the template gives it
`Authorizer: NONE`): the signed state is the proof of who asked. A seller's browser lands on it, so
it answers with a short HTML page, success or failure alike, every value escaped.
"""

from __future__ import annotations

from typing import Annotated

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Path, Query
from aws_lambda_powertools.event_handler.openapi.types import OpenAPIResponse
from pydantic import BaseModel

from oms_amazon.api.errors import documented_errors, status_of
from oms_amazon.api.identity import client_of
from oms_amazon.api.web import html_page
from oms_amazon.domain.errors import DomainError, InvalidInput
from oms_amazon.domain.moments import iso
from oms_amazon.observability import logger, metrics
from oms_amazon.wiring import container

router = Router()

AccountId = Annotated[str, Path(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_-]+$")]
MAX_PARAMETER_LENGTH = 2048
ERRORS: dict[int, OpenAPIResponse] = documented_errors(
    {
        404: "No such account for this client",
        409: "Not authorised yet",
        503: "Amazon or AWS unavailable",
    }
)
# Login with Amazon's error codes for an authorization request (its "Authorization Code Grant" page): what
# Amazon's redirect carries in `error` instead of a code when the seller cancels (`access_denied`) or the
# request was refused.
AMAZON_ERRORS = frozenset(
    {
        "access_denied",
        "invalid_request",
        "unauthorized_client",
        "invalid_scope",
        "server_error",
        "temporarily_unavailable",
        "unsupported_response_type",
    }
)


class ConsentOut(BaseModel):
    consent_url: str
    state: str
    expires_at: str


class VerificationOut(BaseModel):
    ok: bool
    participating: bool | None
    store_name: str | None
    reason: str | None


@router.get("/accounts/<account_id>/authorise", tags=["authorisation"], responses=ERRORS)
def start_authorisation(account_id: AccountId) -> ConsentOut:
    """The Seller Central consent URL for this account, with a signed state valid for 10 minutes, once."""
    consent = container().authorisation_service.start(client_of(router), account_id)
    return ConsentOut(consent_url=consent.consent_url, state=consent.state, expires_at=iso(consent.expires_at))


@router.post("/accounts/<account_id>/verify", tags=["authorisation"], responses=ERRORS)
def verify_connection(account_id: AccountId) -> VerificationOut:
    """Whether Amazon accepts the seller's authorisation and the seller sells in the account's marketplace."""
    verification = container().authorisation_service.verify(client_of(router), account_id)
    if verification.reason == "authorisation_rejected":
        # The API handler does not wrap itself in `log_metrics`: publish the rejection now.
        metrics.flush_metrics()
    return VerificationOut(
        ok=verification.ok,
        participating=verification.participating,
        store_name=verification.store_name,
        reason=verification.reason,
    )


def _this_callback() -> str | None:
    """The callback URL Amazon redirected the seller to, as LWA's code exchange names it (`redirect_uri`):
    this request's own host and path."""
    context = router.current_event.raw_event.get("requestContext") or {}
    domain, path = context.get("domainName"), context.get("path")
    if not domain or not path:
        return None
    scheme = "http" if str(domain).startswith(("127.0.0.1", "localhost")) else "https"
    return f"{scheme}://{domain}{path}"


@router.get(
    "/oauth/callback",
    tags=["authorisation"],
    responses={
        200: {"description": "The seller is connected (HTML)", "content": {"text/html": {}}},
        400: {
            "description": "Missing, altered or expired state; another seller; a refused code; the seller cancelled "
            "on Amazon (HTML)"
        },
        409: {"description": "The state was already used (HTML)"},
    },
)
def oauth_callback(
    state: Annotated[str | None, Query()] = None,
    spapi_oauth_code: Annotated[str | None, Query()] = None,
    selling_partner_id: Annotated[str | None, Query()] = None,
    amazon_error: Annotated[
        str | None, Query(alias="error", description="Amazon's error instead of a code, e.g. access_denied")
    ] = None,
    error_description: Annotated[str | None, Query(description="Amazon's words for the error (not shown)")] = None,
) -> Response[str]:
    """Amazon's redirect after the seller consents: stores the seller's refresh token for every account of
    that client and seller. No Cognito identity; the signed state says which account asked. When the seller
    cancels, Amazon redirects here with `error` (and `error_description`, `state`) instead: nothing changes."""
    if amazon_error is not None:
        code = amazon_error if amazon_error in AMAZON_ERRORS else "unknown"
        logger.warning("oauth callback with Amazon's error", extra={"code": "authorisation_denied", "amazon": code})
        if code == "access_denied":
            message = "The seller cancelled on Amazon, so the connector was not authorised."
        else:
            message = "Amazon did not authorise the connector (it answered with an error instead of a code)."
        return _page(
            400,
            "Amazon authorisation not given",
            message,
            "The connection was not changed; authorise again from the connection when ready. Reference: "
            "authorisation_denied",
        )
    try:
        given = {"state": state, "spapi_oauth_code": spapi_oauth_code, "selling_partner_id": selling_partner_id}
        missing = [name for name, value in given.items() if not value]
        if missing:
            raise InvalidInput(
                f"Amazon's redirect is missing {', '.join(missing)}. Start again from the connection (Authorise Now).",
                code="missing_parameter",
            )
        if any(len(value or "") > MAX_PARAMETER_LENGTH for value in given.values()):
            raise InvalidInput("A parameter of Amazon's redirect is too long.", code="invalid_parameter")
        authorised = container().authorisation_service.complete(
            state or "", spapi_oauth_code or "", selling_partner_id or "", redirect_uri=_this_callback()
        )
    except DomainError as error:
        logger.warning("oauth callback refused", extra={"code": error.code, "status": int(status_of(error))})
        return _page(
            int(status_of(error)),
            "Amazon authorisation failed",
            error.message,
            f"The connection was not changed. Reference: {error.code}",
        )
    account = authorised.account
    return _page(
        200,
        "Amazon seller connected",
        f"Seller {account.merchant_id} is now authorised for {', '.join(authorised.marketplaces)}.",
        "You can close this window and return to the order-management system.",
    )


def _page(status: int, title: str, message: str, note: str) -> Response[str]:
    return html_page(status, title, message, note)
