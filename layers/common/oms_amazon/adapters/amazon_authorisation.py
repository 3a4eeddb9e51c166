"""Amazon's side of Authorise Now, for the API function: the app's application id, the OAuth code
exchange at Login with Amazon, and getMarketplaceParticipations. SP-API errors become domain errors
here, so the service never sees the client's exception types.

It reuses the container's `AmazonConnections` (app credentials from Secrets Manager, the LWA client
and its access-token cache, the HTTP pool), with a retry budget that fits the API's 29-second
timeout instead of the workers' minute.
"""

from __future__ import annotations

from dataclasses import replace
from functools import cached_property
from typing import TYPE_CHECKING

from botocore.exceptions import BotoCoreError, ClientError

from oms_amazon.adapters.sp_api import (
    AccessDenied,
    AppCredentialsRejected,
    AuthorisationRejected,
    LwaClient,
    LwaError,
    RetryPolicy,
    SpApiClient,
    SpApiConfig,
    SpApiError,
)
from oms_amazon.domain.authorisation import MarketplaceParticipation, SellerAuthorisationRevoked
from oms_amazon.domain.errors import Conflict, DependencyUnavailable, InvalidInput
from oms_amazon.domain.marketplaces import Marketplace

if TYPE_CHECKING:
    from oms_amazon.adapters.amazon_connections import AmazonConnections, AppCredentials

API_TIME_BUDGET = 10.0


class SpApiSellerAuthorisation:
    def __init__(self, connections: AmazonConnections, *, time_budget: float = API_TIME_BUDGET) -> None:
        self._connections = connections
        self._time_budget = time_budget

    def application_id(self) -> str:
        application_id = self._app().application_id
        if not application_id:
            raise _app_not_configured()
        return application_id

    def exchange_code(self, code: str, redirect_uri: str | None = None) -> str:
        """The seller's refresh token for the `spapi_oauth_code` of the consent redirect."""
        lwa = self._lwa()
        try:
            return lwa.exchange_authorization_code(code, redirect_uri)
        except AppCredentialsRejected as error:
            raise _app_refused() from error
        except LwaError as error:
            # invalid_grant: used, expired or another app's code; invalid_request: a malformed one.
            raise InvalidInput(
                "Amazon did not accept the authorisation code: it was already used, has expired (codes are valid "
                "for 5 minutes) or is not for this app. Start again from the connection (Authorise Now).",
                code="authorisation_code_rejected",
            ) from error
        except SpApiError as error:
            raise DependencyUnavailable("Login with Amazon is unavailable; start again in a few minutes.") from error

    def participations(
        self, marketplace: Marketplace, merchant_id: str, refresh_token: str
    ) -> list[MarketplaceParticipation]:
        from oms_amazon.adapters.amazon_connections import count_amazon_call

        client = SpApiClient.for_marketplace(
            marketplace,
            seller_id=merchant_id,
            refresh_token=refresh_token,
            lwa=self._lwa(),
            config=self._config,
            http=self._connections.http,
            metrics=count_amazon_call,
        )
        try:
            rows = client.get_marketplace_participations()
        except AuthorisationRejected as error:
            raise SellerAuthorisationRevoked() from error
        except AppCredentialsRejected as error:
            raise _app_refused() from error
        except AccessDenied as error:
            raise Conflict(
                "Amazon denied the app access to this seller's account information: check the app's roles in "
                "the Solution Provider Portal, then authorise again.",
                code="amazon_access_denied",
            ) from error
        except SpApiError as error:
            raise DependencyUnavailable("Amazon is unavailable; verify the connection again shortly.") from error
        return [
            MarketplaceParticipation(
                marketplace_id=row.marketplace.id,
                participating=row.participation.is_participating,
                store_name=row.store_name,
            )
            for row in rows
        ]

    @cached_property
    def _config(self) -> SpApiConfig:
        return replace(self._connections.config, retry=RetryPolicy(time_budget=self._time_budget))

    def _lwa(self) -> LwaClient:
        self._app()
        return self._connections.lwa

    def _app(self) -> AppCredentials:
        try:
            app = self._connections.app
        except (ClientError, BotoCoreError) as error:
            raise DependencyUnavailable("The connector's Amazon app credentials could not be read.") from error
        except (KeyError, ValueError) as error:
            raise _app_not_configured() from error
        if not (app.client_id and app.client_secret):
            raise _app_not_configured()
        return app


def _app_not_configured() -> DependencyUnavailable:
    return DependencyUnavailable(
        "The connector's Amazon app is not configured (client id, client secret and application id); "
        "an operator must set them."
    )


def _app_refused() -> DependencyUnavailable:
    return DependencyUnavailable(
        "Login with Amazon refused the connector's app credentials; an operator must fix them."
    )
