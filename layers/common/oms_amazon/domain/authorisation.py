"""Authorise Now (SPEC §4.4): the Seller Central consent URL, the Appstore workflow's log-in request and
the way back to Amazon, and what verifying a connection found.

Pure: no I/O. The state that goes into the URLs is `domain.oauth_state`.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Literal
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from oms_amazon.domain.accounts import normalise_merchant_id
from oms_amazon.domain.errors import InvalidInput
from oms_amazon.domain.marketplaces import MARKETPLACES, Marketplace

VerificationReason = Literal["not_participating", "authorisation_rejected"]


class SellerAuthorisationRevoked(Exception):
    """Login with Amazon refused the seller's refresh token (`invalid_grant`): the seller withdrew the
    app's authorisation, or it expired. Only Authorise Now can bring the connection back."""


def consent_url(
    marketplace: Marketplace, application_id: str, state: str, *, beta: bool = True, seller_central_url: str = ""
) -> str:
    """Where the seller authorises the connector's app: the Seller Central of the account's marketplace.

    No `redirect_uri` is sent: Amazon then redirects to the app's first registered OAuth redirect URI,
    which the operator sets to the API's `/oauth/callback` (the `OAuthRedirectUri` stack output), so
    the URL the seller sees cannot be pointed anywhere else. `version=beta` is how Amazon lets a seller
    authorise a draft (unpublished) app, which a private 3PL connector is; a published app passes
    `beta=False`.

    `seller_central_url` (the `SellerCentralUrl` parameter; empty in production) replaces Amazon's host
    by marketplace with one base URL: the local stack's simulator plays Seller Central there.
    """
    query = {"application_id": application_id, "state": state}
    if beta:
        query["version"] = "beta"
    base = seller_central_url.rstrip("/") if seller_central_url else f"https://{marketplace.seller_central}"
    return f"{base}/apps/authorize/consent?{urlencode(query)}"


# ---- The Appstore workflow (Amazon's "Selling Partner Appstore authorization workflow"): Amazon loads the
# app's log-in URI with `amazon_callback_uri`, `amazon_state`, `selling_partner_id` (and `version=beta` for a
# draft app); the OMS user signs in and picks the connection; the app then sends the browser to
# `amazon_callback_uri` with `redirect_uri`, `amazon_state` and its own `state` (and `version=beta` again),
# and Amazon redirects to `redirect_uri` with `state`, `selling_partner_id` and `spapi_oauth_code`.

SELLER_CENTRAL_HOSTS = frozenset(m.seller_central for m in MARKETPLACES)
MAX_PARAMETER_LENGTH = 2048
_PRINTABLE = re.compile(r"[\x21-\x7e]+")  # visible ASCII: no space, no control character
_AMAZON_STATE = re.compile(r"[\x20-\x7e]+")
# What the app adds to Amazon's callback URI; the same names already in it are dropped, never duplicated.
_CALLBACK_PARAMETERS = ("redirect_uri", "amazon_state", "state", "version")


class InvalidCallbackUri(InvalidInput):
    """`amazon_callback_uri` is not an https address of a Seller Central host: never redirect there."""

    code = "invalid_callback_uri"


@dataclass(frozen=True, slots=True)
class AppstoreLogin:
    """What Amazon hands the app's log-in URI, checked."""

    amazon_callback_uri: str
    amazon_state: str
    selling_partner_id: str
    beta: bool  # Amazon said `version=beta`: a draft app's (test) workflow, and the app says it back


def check_amazon_callback_uri(uri: object, seller_central_url: str = "") -> str:
    """`uri` when it is an https URL on the Seller Central host of a known marketplace (or, where the
    stack plays Seller Central itself, on `seller_central_url`'s origin); `InvalidCallbackUri` otherwise.

    The host is compared as the whole authority, so user information (`sellercentral.amazon.com@evil`),
    ports, look-alike suffixes (`sellercentral.amazon.com.evil.example`) and backslashes all fail."""
    refused = InvalidCallbackUri(
        "amazon_callback_uri must be an https address on Amazon's Seller Central (for example "
        "https://sellercentral.amazon.com/apps/authorize/confirm/…). Start again from the Appstore.",
        details=[{"field": "amazon_callback_uri", "reason": "not a Seller Central address"}],
    )
    if not isinstance(uri, str) or not uri or len(uri) > MAX_PARAMETER_LENGTH or not _PRINTABLE.fullmatch(uri):
        raise refused
    if "\\" in uri:
        raise refused
    split = urlsplit(uri)
    if split.fragment or not split.path.startswith("/"):
        raise refused
    if seller_central_url:
        own = urlsplit(seller_central_url)
        allowed = {(own.scheme.lower(), own.netloc.lower())}
    else:
        allowed = {("https", host) for host in SELLER_CENTRAL_HOSTS}
    if (split.scheme.lower(), split.netloc.lower()) not in allowed:
        raise refused
    return uri


def check_appstore_login(
    amazon_callback_uri: object,
    amazon_state: object,
    selling_partner_id: object,
    version: object = None,
    *,
    seller_central_url: str = "",
) -> AppstoreLogin:
    """The log-in request Amazon sends, or `InvalidInput` naming the first thing wrong with it."""
    missing = [
        name
        for name, value in (
            ("amazon_callback_uri", amazon_callback_uri),
            ("amazon_state", amazon_state),
            ("selling_partner_id", selling_partner_id),
        )
        if not value
    ]
    if missing:
        raise InvalidInput(
            f"Amazon's log-in request is missing {', '.join(missing)}. Start again from the Appstore (Authorise Now).",
            code="missing_parameter",
            details=[{"field": name, "reason": "missing"} for name in missing],
        )
    callback = check_amazon_callback_uri(amazon_callback_uri, seller_central_url)
    if not (
        isinstance(amazon_state, str)
        and len(amazon_state) <= MAX_PARAMETER_LENGTH
        and _AMAZON_STATE.fullmatch(amazon_state)
    ):
        raise InvalidInput(
            "amazon_state is not a state Amazon could have sent.",
            code="invalid_parameter",
            details=[{"field": "amazon_state", "reason": "format"}],
        )
    if not isinstance(selling_partner_id, str) or len(selling_partner_id) > 64:
        raise InvalidInput(
            "selling_partner_id is not a Seller ID.",
            code="invalid_parameter",
            details=[{"field": "selling_partner_id", "reason": "format"}],
        )
    try:
        seller = normalise_merchant_id(selling_partner_id)
    except InvalidInput:
        raise InvalidInput(
            "selling_partner_id is not a Seller ID (8 to 20 letters and digits).",
            code="invalid_parameter",
            details=[{"field": "selling_partner_id", "reason": "format"}],
        ) from None
    if version not in (None, "", "beta"):
        raise InvalidInput(
            "version may only be beta.",
            code="invalid_parameter",
            details=[{"field": "version", "reason": "not beta"}],
        )
    return AppstoreLogin(
        amazon_callback_uri=callback, amazon_state=amazon_state, selling_partner_id=seller, beta=version == "beta"
    )


def amazon_callback_redirect(login: AppstoreLogin, *, redirect_uri: str, state: str) -> str:
    """Where the app sends the browser after the OMS user signed in: Amazon's callback URI with
    `redirect_uri`, Amazon's own `amazon_state`, the app's signed `state`, and `version=beta` when Amazon
    sent it (a draft app)."""
    split = urlsplit(login.amazon_callback_uri)
    kept = [(k, v) for k, v in parse_qsl(split.query, keep_blank_values=True) if k not in _CALLBACK_PARAMETERS]
    added = [("redirect_uri", redirect_uri), ("amazon_state", login.amazon_state), ("state", state)]
    if login.beta:
        added.append(("version", "beta"))
    return urlunsplit((split.scheme, split.netloc, split.path, urlencode([*kept, *added]), ""))


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


@dataclass(frozen=True, slots=True)
class Participations:
    """The marketplaces a seller sells on in one region, as Amazon said at `checked_at`."""

    marketplace_ids: frozenset[str]
    checked_at: datetime
