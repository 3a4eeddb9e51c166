"""The Appstore workflow (SPEC §4.4, §7; Amazon's "Selling Partner Appstore authorization workflow").

1. The seller chooses Authorise Now on the app's Appstore page and consents; Amazon loads the app's log-in
   URI, `GET /oauth/login?amazon_callback_uri&amazon_state&selling_partner_id[&version=beta]` (public: no
   Cognito token comes with Amazon's redirect). It checks what Amazon sent — above all that
   `amazon_callback_uri` is an https Seller Central address, so the route can never redirect anywhere
   else — and hands over to the console (302), where the OMS user signs in.
2. The signed-in user picks (or creates) the connection for that seller; the console sends
   `POST /oauth/login` (Cognito, like every data call), which checks it all again, signs a 10-minute,
   single-use state for the account and answers the URL to send the browser to: Amazon's callback URI with
   `redirect_uri` (this API's `/oauth/callback`), Amazon's `amazon_state`, our `state` and, for a draft
   app, `version=beta`.
3. Amazon redirects to `/oauth/callback` with `state`, `selling_partner_id` and `spapi_oauth_code`, as in
   the website workflow.
"""

from __future__ import annotations

from typing import Annotated
from urllib.parse import urlencode

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Body, Query
from aws_lambda_powertools.event_handler.openapi.types import OpenAPIResponse
from pydantic import BaseModel, ConfigDict, Field, StrictStr

from oms_amazon.api.errors import documented_errors, status_of
from oms_amazon.api.identity import acting_client
from oms_amazon.api.web import html_page, public_base_url, redirect
from oms_amazon.domain.authorisation import MAX_PARAMETER_LENGTH, check_appstore_login
from oms_amazon.domain.errors import DomainError, InvalidInput
from oms_amazon.domain.moments import iso
from oms_amazon.observability import logger
from oms_amazon.wiring import container

router = Router()

LOGIN_PATH = "/oauth/login"
CALLBACK_PATH = "/oauth/callback"
# Relative to /<stage>/oauth/login, so the stage (or a custom domain's base path) is kept.
CONSOLE_APPSTORE_VIEW = "../console/"
ERRORS: dict[int, OpenAPIResponse] = documented_errors(
    {
        400: "Bad input",
        404: "No such account for this client",
        503: "AWS unavailable",
    }
)


class AppstoreLoginIn(BaseModel):
    """What Amazon handed the log-in URI, passed on by the console, and the connection the user picked."""

    model_config = ConfigDict(extra="forbid")
    amazon_callback_uri: StrictStr = Field(max_length=MAX_PARAMETER_LENGTH, description="As Amazon sent it")
    amazon_state: StrictStr = Field(max_length=MAX_PARAMETER_LENGTH, description="As Amazon sent it")
    selling_partner_id: StrictStr = Field(max_length=64, description="The seller Amazon is authorising")
    version: StrictStr | None = Field(None, max_length=16, description="`beta` when Amazon sent it (a draft app)")
    account_id: StrictStr = Field(
        min_length=1,
        max_length=64,
        pattern=r"^[A-Za-z0-9_-]+$",
        description="This client's connection for that seller (every connection of the seller is authorised)",
    )


class AppstoreLoginOut(BaseModel):
    redirect_url: str = Field(description="Send the browser here: Amazon's callback URI with our signed state")
    account_id: str
    expires_at: str = Field(description="When the state inside expires (10 minutes)")


@router.get(
    LOGIN_PATH,
    tags=["authorisation"],
    responses={
        302: {"description": "To the console, where the OMS user signs in and picks the connection"},
        400: {"description": "amazon_callback_uri is not Seller Central (invalid_callback_uri), or a bad parameter"},
    },
)
def appstore_login(
    amazon_callback_uri: Annotated[str | None, Query(description="Where to send the browser back to Amazon")] = None,
    amazon_state: Annotated[str | None, Query(description="Amazon's own state, returned unchanged")] = None,
    selling_partner_id: Annotated[str | None, Query(description="The seller Amazon is authorising")] = None,
    version: Annotated[str | None, Query(description="`beta`: the test workflow of a draft app")] = None,
) -> Response[str]:
    """The app's log-in URI for Amazon's Appstore workflow: checks Amazon's parameters, then the console."""
    try:
        login = check_appstore_login(
            amazon_callback_uri,
            amazon_state,
            selling_partner_id,
            version,
            seller_central_url=container().settings.seller_central_url,
        )
    except DomainError as error:
        logger.warning("appstore log-in refused", extra={"code": error.code, "status": int(status_of(error))})
        return html_page(
            int(status_of(error)),
            "Amazon authorisation could not start",
            error.message,
            f"Nothing was changed. Reference: {error.code}",
        )
    logger.info("appstore log-in", extra={"merchant_id": login.selling_partner_id})
    handover = {
        "appstore": "1",
        "amazon_callback_uri": login.amazon_callback_uri,
        "amazon_state": login.amazon_state,
        "selling_partner_id": login.selling_partner_id,
    }
    if login.beta:
        handover["version"] = "beta"
    return redirect(f"{CONSOLE_APPSTORE_VIEW}?{urlencode(handover)}")


@router.post(LOGIN_PATH, tags=["authorisation"], responses=ERRORS)
def complete_appstore_login(body: Annotated[AppstoreLoginIn, Body()]) -> Response[AppstoreLoginOut]:
    """The signed-in OMS user picked the connection for Amazon's seller: the URL that returns the browser to
    Amazon with our signed state (10 minutes, once). The account must be this client's and that seller's."""
    event = router.current_event.raw_event
    client_id = acting_client(event)
    if not isinstance(router.current_event.json_body, dict):
        raise InvalidInput("The request body must be a JSON object.", details=[{"field": "body", "reason": "type"}])
    login = check_appstore_login(
        body.amazon_callback_uri,
        body.amazon_state,
        body.selling_partner_id,
        body.version,
        seller_central_url=container().settings.seller_central_url,
    )
    redirect_uri = public_base_url(event, local=container().is_local) + CALLBACK_PATH
    service = container().authorisation_service
    returned = service.appstore_return(client_id, body.account_id, login, redirect_uri=redirect_uri)
    out = AppstoreLoginOut(
        redirect_url=returned.redirect_url, account_id=returned.account.id, expires_at=iso(returned.expires_at)
    )
    return Response(status_code=200, content_type="application/json", body=out, headers={"Cache-Control": "no-store"})
