"""Authorise Now by e-mail (SPEC §4.4, §7): a shareable link, valid 7 days, that the operator sends to the
client; opening it redirects to a fresh Seller Central consent URL each time.

`POST /accounts/{id}/authorisation-links` is an ordinary Cognito route. `GET /oauth/authorise?link=` is
public (the template gives it `Authorizer: NONE`): the link is signed and bound to the client and the
account, so it is its own proof, and it only ever leads to Amazon's consent page for that account. The
state inside each consent URL stays what it always was: 10 minutes, once.
"""

from __future__ import annotations

from typing import Annotated
from urllib.parse import urlencode

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Path, Query
from aws_lambda_powertools.event_handler.openapi.types import OpenAPIResponse
from pydantic import BaseModel, Field

from oms_amazon.api.errors import documented_errors, status_of
from oms_amazon.api.identity import acting_client
from oms_amazon.api.web import html_page, public_base_url, redirect
from oms_amazon.domain.errors import DomainError, InvalidInput, NotFound
from oms_amazon.domain.moments import iso
from oms_amazon.domain.oauth_state import LINK_LIFETIME
from oms_amazon.observability import logger
from oms_amazon.wiring import container

router = Router()

AccountId = Annotated[str, Path(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_-]+$")]
LINK_PATH = "/oauth/authorise"
MAX_LINK_LENGTH = 1024
ERRORS: dict[int, OpenAPIResponse] = documented_errors(
    {
        404: "No such account for this client",
        503: "AWS unavailable",
    }
)


class AuthorisationLinkOut(BaseModel):
    url: str = Field(description="Send it to the client: opening it leads to Amazon's consent page for this account")
    account_id: str
    marketplace: str
    merchant_id: str
    expires_at: str


@router.post(
    "/accounts/<account_id>/authorisation-links",
    tags=["authorisation"],
    responses={201: {"description": "Created"}, **ERRORS},
    description=f"A shareable Authorise Now link for this account, valid {LINK_LIFETIME.days} days: each time it is "
    "opened it redirects to a fresh Seller Central consent URL (whose state is valid 10 minutes, once). The link is "
    "signed and bound to this client and account.",
)
def create_authorisation_link(account_id: AccountId) -> Response[AuthorisationLinkOut]:
    event = router.current_event.raw_event
    issued = container().authorisation_service.create_link(acting_client(event), account_id)
    url = f"{public_base_url(event, local=container().is_local)}{LINK_PATH}?{urlencode({'link': issued.link})}"
    body = AuthorisationLinkOut(
        url=url,
        account_id=issued.account.id,
        marketplace=issued.account.marketplace,
        merchant_id=issued.account.merchant_id,
        expires_at=iso(issued.expires_at),
    )
    return Response(status_code=201, content_type="application/json", body=body, headers={"Cache-Control": "no-store"})


@router.get(
    LINK_PATH,
    tags=["authorisation"],
    responses={
        302: {"description": "To a fresh Seller Central consent URL for the link's account"},
        400: {"description": "A missing, altered or expired link (HTML)"},
        404: {"description": "The link's account no longer exists (HTML)"},
    },
)
def open_authorisation_link(
    link: Annotated[str | None, Query(description="The signed link of POST /accounts/{id}/authorisation-links")] = None,
) -> Response[str]:
    """A client opens the link the warehouse sent: off to Amazon's consent page, with a state signed now."""
    try:
        if not link:
            raise InvalidInput(
                "This address is missing its authorisation link. Open the whole link from the e-mail.",
                code="missing_parameter",
            )
        if len(link) > MAX_LINK_LENGTH:
            raise InvalidInput("This authorisation link is not valid.", code="invalid_link")
        consent = container().authorisation_service.open_link(link)
    except NotFound as error:
        logger.warning("authorisation link for a deleted account", extra={"code": error.code})
        return html_page(
            404,
            "Amazon authorisation link no longer valid",
            "The connection this link was made for no longer exists.",
            f"Ask the warehouse for a new link. Reference: {error.code}",
        )
    except DomainError as error:
        logger.warning("authorisation link refused", extra={"code": error.code, "status": int(status_of(error))})
        return html_page(
            int(status_of(error)),
            "Amazon authorisation link not valid",
            error.message,
            f"Nothing was changed. Reference: {error.code}",
        )
    return redirect(consent.consent_url)
