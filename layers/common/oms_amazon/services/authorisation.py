"""Authorise Now (SPEC §4.2, §4.4): start the seller's consent, complete it on Amazon's redirect, and
verify a connection.

- `start` signs a state bound to the client and account (domain.oauth_state) into the consent URL
  of the account's Seller Central.
- `complete` runs on the redirect, without a Cognito identity: the state is the proof. It checks
  the state (signature, expiry), that Amazon names the account's seller, then records the state as
  used (a replay is refused) before the single-use code is exchanged at LWA. The refresh token goes
  through `AccountService.update`, the same path as a token sent to `PATCH /accounts/{id}`: the
  seller's secret is written, every account of that client and seller is re-authorised in the
  same transaction (a `rejected` one included), and the secret is restored if the table write fails.
- `create_link` signs a shareable authorisation link (7 days, bound to the client and account) that an
  operator e-mails to the client; `open_link`, on a public route, checks it and starts a fresh consent
  each time it is opened (a new 10-minute, single-use state).
- `appstore_return` serves Amazon's Appstore workflow: once the OMS user has signed in and picked the
  connection for the seller Amazon named, it signs a state for that account and builds the redirect
  back to Amazon's callback URI (never anywhere but Seller Central).
- `verify` asks Amazon which marketplaces the seller takes part in. LWA `invalid_grant` marks every
  account of the seller `rejected` (their jobs pause) and answers `authorisation_rejected` at once:
  never a retry loop.

Nothing here logs, returns or raises with a token or an OAuth code in it.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from oms_amazon.domain.accounts import Account, SellerToken, classify_token
from oms_amazon.domain.authorisation import (
    AppstoreLogin,
    ConsentRequest,
    MarketplaceParticipation,
    SellerAuthorisationRevoked,
    Verification,
    amazon_callback_redirect,
    check_amazon_callback_uri,
    consent_url,
    verification_for,
)
from oms_amazon.domain.errors import Conflict, DependencyUnavailable, InvalidInput
from oms_amazon.domain.marketplaces import Marketplace
from oms_amazon.domain.oauth_state import (
    StateClaims,
    new_claims,
    new_link_claims,
    sign_link,
    sign_state,
    verify_link,
    verify_state,
)
from oms_amazon.observability import count, logger
from oms_amazon.ports import AccountFilter, AuthorisationRejections, Clock, SellerSecrets
from oms_amazon.services.accounts import AccountChanges, AccountService

# A scheduler claim landing between reading and writing the account is a version conflict, not a
# reason to make the seller start again: the token write is retried on the fresh account.
STORE_ATTEMPTS = 3


class StateKey(Protocol):
    def key(self) -> bytes: ...


class UsedStates(Protocol):
    def consume(self, claims: StateClaims, used_at: datetime) -> bool:
        """Record the state as used; False when it already was."""
        ...


class AmazonAuthorisation(Protocol):
    def application_id(self) -> str: ...

    def exchange_code(self, code: str, redirect_uri: str | None = None) -> str:
        """The seller's refresh token for an OAuth code (`InvalidInput` when LWA refuses the code).
        `redirect_uri`: where Amazon sent the seller, as the website workflow's token request lists it."""
        ...

    def participations(
        self, marketplace: Marketplace, merchant_id: str, refresh_token: str
    ) -> list[MarketplaceParticipation]:
        """getMarketplaceParticipations; `SellerAuthorisationRevoked` on LWA `invalid_grant`."""
        ...


def new_nonce() -> str:
    return secrets.token_urlsafe(16)


@dataclass(frozen=True, slots=True)
class AuthorisationLink:
    link: str  # the signed token the public route takes; the API builds the URL around it
    account: Account
    expires_at: datetime


@dataclass(frozen=True, slots=True)
class AppstoreReturn:
    redirect_url: str  # Amazon's callback URI with redirect_uri, amazon_state, state (and version=beta)
    account: Account
    expires_at: datetime  # of the state inside


@dataclass(frozen=True, slots=True)
class Authorised:
    account: Account
    marketplaces: tuple[str, ...]  # every marketplace of this client's seller that is now authorised


class AuthorisationService:
    def __init__(
        self,
        *,
        accounts: AccountService,
        secrets: SellerSecrets,
        amazon: AmazonAuthorisation,
        state_key: StateKey,
        used_states: UsedStates,
        rejections: AuthorisationRejections,
        clock: Clock,
        nonce: Callable[[], str] = new_nonce,
        draft_app: bool = True,
        seller_central_url: str = "",
    ) -> None:
        self._accounts = accounts
        self._secrets = secrets
        self._amazon = amazon
        self._state_key = state_key
        self._used_states = used_states
        self._rejections = rejections
        self._clock = clock
        self._nonce = nonce
        self._draft_app = draft_app
        self._seller_central_url = seller_central_url

    def start(self, client_id: str, account_id: str) -> ConsentRequest:
        account = self._accounts.get(client_id, account_id)
        application_id = self._amazon.application_id()
        claims = new_claims(client_id, account.id, self._nonce(), self._clock())
        state = sign_state(claims, self._state_key.key())
        logger.info("authorisation started", extra={**_log_keys(account), "expires_at": claims.expires_at.isoformat()})
        return ConsentRequest(
            consent_url=consent_url(
                account.market,
                application_id,
                state,
                beta=self._draft_app,
                seller_central_url=self._seller_central_url,
            ),
            state=state,
            expires_at=claims.expires_at,
        )

    def create_link(self, client_id: str, account_id: str) -> AuthorisationLink:
        """A link the client opens to authorise this account, valid for 7 days (another client's
        account is NotFound, as everywhere)."""
        account = self._accounts.get(client_id, account_id)
        claims = new_link_claims(client_id, account.id, self._nonce(), self._clock())
        link = sign_link(claims, self._state_key.key())
        logger.info(
            "authorisation link issued", extra={**_log_keys(account), "expires_at": claims.expires_at.isoformat()}
        )
        return AuthorisationLink(link=link, account=account, expires_at=claims.expires_at)

    def open_link(self, link: str) -> ConsentRequest:
        """A fresh consent (new signed state) for the account an authorisation link names: `InvalidLink`
        for an altered or expired link, NotFound when the account has been deleted since."""
        claims = verify_link(link, self._state_key.key(), self._clock())
        return self.start(claims.client_id, claims.account_id)

    def appstore_return(
        self, client_id: str, account_id: str, login: AppstoreLogin, *, redirect_uri: str
    ) -> AppstoreReturn:
        """The redirect back to Amazon once the signed-in OMS user picked `account_id` for the seller of an
        Appstore log-in: the account must be this client's (NotFound) and that seller's (seller_mismatch)."""
        # Checked again here: the login may come from a request body, not only from Amazon's redirect.
        check_amazon_callback_uri(login.amazon_callback_uri, self._seller_central_url)
        account = self._accounts.get(client_id, account_id)
        if account.merchant_id != login.selling_partner_id:
            raise InvalidInput(
                f"Amazon is authorising seller {login.selling_partner_id}, but this connection is for seller "
                f"{account.merchant_id}. Pick (or create) a connection for {login.selling_partner_id}.",
                code="seller_mismatch",
                details=[{"field": "account_id", "reason": "another seller's connection"}],
            )
        claims = new_claims(client_id, account.id, self._nonce(), self._clock())
        state = sign_state(claims, self._state_key.key())
        logger.info(
            "appstore authorisation returned to Amazon",
            extra={**_log_keys(account), "expires_at": claims.expires_at.isoformat()},
        )
        return AppstoreReturn(
            redirect_url=amazon_callback_redirect(login, redirect_uri=redirect_uri, state=state),
            account=account,
            expires_at=claims.expires_at,
        )

    def complete(
        self, state: str, code: str, selling_partner_id: str, *, redirect_uri: str | None = None
    ) -> Authorised:
        claims = verify_state(state, self._state_key.key(), self._clock())
        account = self._accounts.get(claims.client_id, claims.account_id)
        if selling_partner_id.strip() != account.merchant_id:
            logger.warning("authorisation for another seller refused", extra=_log_keys(account))
            raise InvalidInput(
                f"Amazon authorised a different seller than this connection's ({account.merchant_id}). Sign in to "
                "Seller Central as that seller and start again from the connection (Authorise Now).",
                code="seller_mismatch",
            )
        if not self._used_states.consume(claims, self._clock()):
            logger.warning("authorisation state replayed", extra=_log_keys(account))
            raise Conflict(
                "This authorisation link was already used. Start again from the connection (Authorise Now).",
                code="state_already_used",
            )
        token = _refresh_token(self._amazon.exchange_code(code, redirect_uri))
        updated = self._store(account, token)
        siblings = self._accounts.page(
            claims.client_id, AccountFilter(merchant_id=account.merchant_id), limit=100, next_token=None
        ).items
        marketplaces = tuple(sorted({s.marketplace for s in siblings if s.authorisation.status == "ok"}))
        logger.info("seller authorised", extra={**_log_keys(updated), "marketplaces": list(marketplaces)})
        return Authorised(account=updated, marketplaces=marketplaces)

    def verify(self, client_id: str, account_id: str) -> Verification:
        account = self._accounts.get(client_id, account_id)
        token = (
            self._secrets.get(client_id, account.merchant_id, account.secret_version)
            if account.authorisation.status == "ok"
            else None
        )
        if token is None or token.type != "sp_api_refresh_token":
            raise Conflict(_unauthorised_message(account), code="authorisation_required")
        try:
            participations = self._amazon.participations(account.market, account.merchant_id, token.value)
        except SellerAuthorisationRevoked:
            rejected = self._rejections.reject(client_id, account.merchant_id)
            count("AuthorisationsRejected")
            logger.warning(
                "Amazon rejected the seller's authorisation; its jobs are paused",
                extra={**_log_keys(account), "accounts": len(rejected)},
            )
            return Verification.rejected()
        verification = verification_for(account.marketplace_id, participations)
        logger.info(
            "connection verified", extra={**_log_keys(account), "ok": verification.ok, "reason": verification.reason}
        )
        return verification

    def _store(self, account: Account, token: SellerToken) -> Account:
        attempt = 1
        while True:
            try:
                return self._accounts.update(account.client_id, account.id, AccountChanges(token=token))
            except Conflict as error:
                if error.code != "version_conflict" or attempt >= STORE_ATTEMPTS:
                    raise
                attempt += 1


def _refresh_token(value: str) -> SellerToken:
    try:
        token = classify_token(value)
    except InvalidInput:
        token = None
    if token is None or token.type != "sp_api_refresh_token":
        raise DependencyUnavailable("Login with Amazon answered without a usable refresh token; start again shortly.")
    return token


def _unauthorised_message(account: Account) -> str:
    if account.authorisation.status == "rejected":
        return (
            "Amazon rejected this seller's authorisation. Authorise the connection again (GET "
            "/accounts/{id}/authorise, then open the consent URL as the seller) before verifying it."
        )
    return (
        "This connection has no SP-API authorisation to verify. Authorise it first: GET /accounts/{id}/authorise "
        "and open the consent URL as the seller (Authorise Now)."
    )


def _log_keys(account: Account) -> dict[str, Any]:
    return {
        "client_id": account.client_id,
        "account_id": account.id,
        "merchant_id": account.merchant_id,
        "marketplace": account.marketplace,
    }
