"""The workers' connections to Amazon: the app's LWA credentials (Secrets Manager), one LWA client, HTTP
pool and set of token buckets per container, shared by every seller's `SellerAmazon`."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date
from functools import cached_property
from typing import Any

import httpx

from oms_amazon.adapters.amazon import SellerAmazon
from oms_amazon.adapters.sp_api import (
    LwaClient,
    LwaCredentials,
    RetryPolicy,
    SpApiCallEvent,
    SpApiClient,
    SpApiConfig,
)
from oms_amazon.domain.marketplaces import Marketplace
from oms_amazon.observability import count


@dataclass(frozen=True, slots=True)
class AppCredentials:
    client_id: str
    client_secret: str
    application_id: str

    def __repr__(self) -> str:
        return f"AppCredentials(client_id={self.client_id!r}, application_id={self.application_id!r})"


def count_amazon_call(event: SpApiCallEvent) -> None:
    """The SP-API client's metrics hook: every attempt, throttles and errors by operation (EMF)."""
    if event.outcome != "gave_up":
        count("AmazonCalls")  # the denominator of the 5xx-rate alarm
    if event.outcome == "throttled":
        count("AmazonThrottles", operation=event.operation)
    elif event.outcome != "success":
        count("AmazonErrors", operation=event.operation, kind=event.outcome)
        if event.outcome == "server_error":
            count("AmazonServerErrors")


class AmazonConnections:
    """Builds `SellerAmazon`s from the app's LWA credentials (Secrets Manager) and the endpoint settings."""

    def __init__(
        self,
        secrets_client: Any,
        app_secret_id: str,
        *,
        endpoint_override: str,
        lwa_token_url: str,
        time_budget: float = 60.0,
        v0_levels_until: date | None = None,
    ) -> None:
        self._time_budget = time_budget
        self._v0_levels_until = v0_levels_until
        self._secrets = secrets_client
        self._app_secret_id = app_secret_id
        self._endpoint_override = endpoint_override or None
        self._lwa_token_url = lwa_token_url

    @cached_property
    def app(self) -> AppCredentials:
        value = json.loads(self._secrets.get_secret_value(SecretId=self._app_secret_id)["SecretString"])
        return AppCredentials(value["client_id"], value["client_secret"], value.get("application_id", ""))

    @cached_property
    def http(self) -> httpx.Client:
        return httpx.Client(timeout=httpx.Timeout(30.0, connect=5.0))

    @cached_property
    def lwa(self) -> LwaClient:
        credentials = LwaCredentials(self.app.client_id, self.app.client_secret)
        return LwaClient(credentials, token_url=self._lwa_token_url, http=self.http)

    @cached_property
    def config(self) -> SpApiConfig:
        # Workers may wait for Amazon's slowest buckets (createFeed refills every 2 minutes,
        # searchOrders every 3) within their Lambda timeout.
        return SpApiConfig(endpoint_override=self._endpoint_override, retry=RetryPolicy(time_budget=self._time_budget))

    def seller(self, marketplace: Marketplace, merchant_id: str, refresh_token: str) -> SellerAmazon:
        client = SpApiClient.for_marketplace(
            marketplace,
            seller_id=merchant_id,
            refresh_token=refresh_token,
            lwa=self.lwa,
            config=self.config,
            http=self.http,
            metrics=count_amazon_call,
        )
        return SellerAmazon(client, v0_levels_until=self._v0_levels_until)
