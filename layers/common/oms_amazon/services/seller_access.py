"""A seller's Amazon, as the workers reach it: opened with the refresh token the seller stored, and the
seller's accounts paused when Amazon rejects that authorisation (LWA `invalid_grant`, §4)."""

from __future__ import annotations

from collections.abc import Callable

from oms_amazon.domain.accounts import Account
from oms_amazon.domain.marketplaces import Marketplace
from oms_amazon.observability import count
from oms_amazon.ports import AuthorisationRejections, SellerSecrets

# (marketplace, merchant id, refresh token) -> what a worker asks of Amazon for that seller and region.
type AmazonFactory[AmazonT] = Callable[[Marketplace, str, str], AmazonT]


class SellerAccess[AmazonT]:
    """Opens a seller's Amazon (`AmazonT`, the worker's own port) or refuses, and pauses a rejected seller."""

    def __init__(
        self, secrets: SellerSecrets, amazon: AmazonFactory[AmazonT], rejections: AuthorisationRejections
    ) -> None:
        self._secrets = secrets
        self._amazon = amazon
        self._rejections = rejections

    def open(self, account: Account, *, authorised: bool = True) -> AmazonT | None:
        """The account's Amazon with the refresh token of the secret version it records; None when that
        version holds no SP-API refresh token, or when the caller's own condition `authorised` is false (it
        is looked at once the token is read)."""
        token = self._secrets.get(account.client_id, account.merchant_id, account.secret_version)
        if token is None or token.type != "sp_api_refresh_token" or not authorised:
            return None
        return self._amazon(account.market, account.merchant_id, token.value)

    def reject(self, account: Account) -> list[Account]:
        """Amazon rejected the seller's authorisation: every account of the account's seller is marked
        `rejected` and its jobs pause (counted as `AuthorisationsRejected`). The accounts paused."""
        rejected = self._rejections.reject(account.client_id, account.merchant_id)
        count("AuthorisationsRejected")
        return rejected
