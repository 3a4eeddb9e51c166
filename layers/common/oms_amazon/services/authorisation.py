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
    ConsentRequest,
    MarketplaceParticipation,
    SellerAuthorisationRevoked,
    Verification,
    consent_url,
    verification_for,
)
from oms_amazon.domain.errors import Conflict, DependencyUnavailable, InvalidInput
from oms_amazon.domain.marketplaces import Marketplace
from oms_amazon.domain.oauth_state import StateClaims, new_claims, sign_state, verify_state
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

    def start(self, client_id: str, account_id: str) -> ConsentRequest:
        account = self._accounts.get(client_id, account_id)
        application_id = self._amazon.application_id()
        claims = new_claims(client_id, account.id, self._nonce(), self._clock())
        state = sign_state(claims, self._state_key.key())
        logger.info("authorisation started", extra={**_log_keys(account), "expires_at": claims.expires_at.isoformat()})
        return ConsentRequest(
            consent_url=consent_url(account.market, application_id, state, beta=self._draft_app),
            state=state,
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
        token = self._secrets.get(client_id, account.merchant_id) if account.authorisation.status == "ok" else None
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
