"""The SP-API client: one selling partner (seller id + refresh token) in one region.

Its typed operations come from one group per API (`orders`, `shipping`, `feeds`, `reports`, `listings`,
`sellers`), each building requests (`builders`), sending them through the seller's `SpApiTransport`
(rate limit, retries, tokens, metrics) and parsing the answers (`models`). Paged reads go through
`pagination.paginate`.
"""

from __future__ import annotations

import random
from collections.abc import Callable

import httpx
from aws_lambda_powertools import Logger

from oms_amazon.adapters.sp_api.builders import RestrictedResource, SpApiRequest
from oms_amazon.adapters.sp_api.config import SpApiConfig
from oms_amazon.adapters.sp_api.feeds import FeedsApi
from oms_amazon.adapters.sp_api.listings import ListingsApi
from oms_amazon.adapters.sp_api.lwa import AccessTokenProvider
from oms_amazon.adapters.sp_api.metrics import CallObserver, MetricsHook
from oms_amazon.adapters.sp_api.orders import OrdersApi
from oms_amazon.adapters.sp_api.rdt import DEFAULT_RDT_CACHE, RestrictedTokenCache
from oms_amazon.adapters.sp_api.reports import ReportsApi
from oms_amazon.adapters.sp_api.responses import SpApiResponse
from oms_amazon.adapters.sp_api.sellers import SellersApi
from oms_amazon.adapters.sp_api.shipping import ShippingApi
from oms_amazon.adapters.sp_api.throttle import DEFAULT_BUCKETS, BucketRegistry, Clock, SystemClock
from oms_amazon.adapters.sp_api.transport import SpApiTransport
from oms_amazon.domain.marketplaces import Marketplace, Region
from oms_amazon.observability import logger as default_logger


class SpApiClient(OrdersApi, ShippingApi, FeedsApi, ReportsApi, ListingsApi, SellersApi):
    """Typed SP-API operations for one seller in one region.

    Construct per seller (cheap); the HTTP connection pool, access tokens and rate-limit buckets can be
    shared across instances. `lwa` is usually an `LwaClient`; tests pass any `AccessTokenProvider`.
    """

    def __init__(
        self,
        *,
        seller_id: str,
        region: Region,
        refresh_token: str,
        lwa: AccessTokenProvider,
        config: SpApiConfig | None = None,
        http: httpx.Client | None = None,
        clock: Clock | None = None,
        buckets: BucketRegistry | None = None,
        metrics: MetricsHook | None = None,
        jitter: Callable[[], float] = random.random,
        logger: Logger | None = None,
        restricted_tokens: RestrictedTokenCache | None = None,
    ) -> None:
        observer = CallObserver(seller_id, region, metrics, logger if logger is not None else default_logger)
        super().__init__(
            SpApiTransport(
                observer,
                refresh_token=refresh_token,
                lwa=lwa,
                config=config if config is not None else SpApiConfig(),
                http=http,
                clock=clock if clock is not None else SystemClock(),
                buckets=buckets if buckets is not None else DEFAULT_BUCKETS,
                jitter=jitter,
                restricted_tokens=restricted_tokens if restricted_tokens is not None else DEFAULT_RDT_CACHE,
            )
        )

    @classmethod
    def for_marketplace(
        cls,
        marketplace: Marketplace,
        *,
        seller_id: str,
        refresh_token: str,
        lwa: AccessTokenProvider,
        config: SpApiConfig | None = None,
        http: httpx.Client | None = None,
        metrics: MetricsHook | None = None,
    ) -> SpApiClient:
        """The client of the region a marketplace belongs to (the endpoint is chosen by marketplace)."""
        return cls(
            seller_id=seller_id,
            region=marketplace.region,
            refresh_token=refresh_token,
            lwa=lwa,
            config=config,
            http=http,
            metrics=metrics,
        )

    @property
    def seller_id(self) -> str:
        return self._transport.seller_id

    @property
    def region(self) -> Region:
        return self._transport.region

    @property
    def base_url(self) -> str:
        return self._transport.base_url

    def __repr__(self) -> str:
        return f"SpApiClient(seller_id={self.seller_id!r}, region={self.region!r}, base_url={self.base_url!r})"

    def close(self) -> None:
        self._transport.close()

    def __enter__(self) -> SpApiClient:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    def send(self, request: SpApiRequest) -> SpApiResponse:
        """Any built request (`builders`), under the rate limit and retry policy: its 2xx answer, unparsed."""
        return self._transport.send(request)

    def restricted_data_refusal(self, resources: tuple[RestrictedResource, ...]) -> str | None:
        """Why Amazon last refused an RDT for these resources (remembered a quarter of an hour), if it did."""
        return self._transport.credentials.refusal(resources)
