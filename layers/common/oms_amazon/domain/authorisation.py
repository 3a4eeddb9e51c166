"""Authorise Now (SPEC §4.4): the Seller Central consent URL and what verifying a connection found.

Pure: no I/O. The state that goes into the URL is `domain.oauth_state`.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Literal
from urllib.parse import urlencode

from oms_amazon.domain.marketplaces import Marketplace

VerificationReason = Literal["not_participating", "authorisation_rejected"]


class SellerAuthorisationRevoked(Exception):
    """Login with Amazon refused the seller's refresh token (`invalid_grant`): the seller withdrew the
    app's authorisation, or it expired. Only Authorise Now can bring the connection back."""


def consent_url(marketplace: Marketplace, application_id: str, state: str, *, beta: bool = True) -> str:
    """Where the seller authorises the connector's app: the Seller Central of the account's marketplace.

    No `redirect_uri` is sent: Amazon then redirects to the app's first registered OAuth redirect URI,
    which the operator sets to the API's `/oauth/callback` (the `OAuthRedirectUri` stack output), so
    the URL the seller sees cannot be pointed anywhere else. `version=beta` is how Amazon lets a seller
    authorise a draft (unpublished) app, which a private 3PL connector is; a published app passes
    `beta=False`.
    """
    query = {"application_id": application_id, "state": state}
    if beta:
        query["version"] = "beta"
    return f"https://{marketplace.seller_central}/apps/authorize/consent?{urlencode(query)}"


@dataclass(frozen=True, slots=True)
class ConsentRequest:
    consent_url: str
    state: str
    expires_at: datetime


@dataclass(frozen=True, slots=True)
class MarketplaceParticipation:
    """One row of getMarketplaceParticipations, in the connector's words."""

    marketplace_id: str
    participating: bool
    store_name: str | None


@dataclass(frozen=True, slots=True)
class Verification:
    ok: bool
    participating: bool | None  # None: Amazon did not say (the authorisation was refused)
    store_name: str | None
    reason: VerificationReason | None

    @classmethod
    def rejected(cls) -> Verification:
        return cls(ok=False, participating=None, store_name=None, reason="authorisation_rejected")


def verification_for(marketplace_id: str, participations: Iterable[MarketplaceParticipation]) -> Verification:
    """Whether the seller sells in the account's marketplace, and under which store name."""
    found = next((p for p in participations if p.marketplace_id == marketplace_id), None)
    if found is None or not found.participating:
        return Verification(
            ok=False,
            participating=False,
            store_name=found.store_name if found else None,
            reason="not_participating",
        )
    return Verification(ok=True, participating=True, store_name=found.store_name, reason=None)
