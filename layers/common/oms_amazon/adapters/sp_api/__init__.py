"""Amazon Selling Partner API client: LWA tokens, rate-limited and retried calls, typed requests and answers.

    lwa = LwaClient(LwaCredentials(client_id, client_secret))
    amazon = SpApiClient.for_marketplace(marketplace, seller_id=..., refresh_token=..., lwa=lwa)
    search = partial(amazon.search_orders, marketplace_ids=[...], last_updated_after=..., fulfilled_by=["MERCHANT"])
    for page in paginate(lambda token: search(pagination_token=token)):
        ...

Request builders (`builders`) are pure; `transport` sends one call (rate limit `throttle`, retries, tokens
`lwa`/`credentials`, metrics); `orders`, `shipping`, `feeds`, `reports`, `listings` and `sellers` are the
typed operations `SpApiClient` brings together. Every failure is a typed `SpApiError`.
"""

from oms_amazon.adapters.sp_api import builders
from oms_amazon.adapters.sp_api.builders import SpApiRequest
from oms_amazon.adapters.sp_api.client import SpApiClient
from oms_amazon.adapters.sp_api.config import (
    DEFAULT_USER_AGENT,
    PRODUCTION_ENDPOINTS,
    SANDBOX_ENDPOINTS,
    SpApiConfig,
    endpoint_for,
)
from oms_amazon.adapters.sp_api.errors import (
    AccessDenied,
    AmazonUnavailable,
    AppCredentialsRejected,
    AuthorisationRejected,
    ErrorDetail,
    InvalidRequest,
    LwaError,
    NotFound,
    OutcomeUnknown,
    SpApiError,
    Throttled,
    UnexpectedResponse,
)
from oms_amazon.adapters.sp_api.lwa import (
    DEFAULT_TOKEN_CACHE,
    LWA_TOKEN_URL,
    AccessTokenCache,
    AccessTokenProvider,
    LwaClient,
    LwaCredentials,
)
from oms_amazon.adapters.sp_api.metrics import CallCounters, CallOutcome, MetricsHook, SpApiCallEvent
from oms_amazon.adapters.sp_api.pagination import paginate
from oms_amazon.adapters.sp_api.rate_limits import RATE_LIMITS, RateLimit, rate_limit_for
from oms_amazon.adapters.sp_api.rdt import DEFAULT_RDT_CACHE, RestrictedTokenCache
from oms_amazon.adapters.sp_api.responses import SpApiResponse
from oms_amazon.adapters.sp_api.throttle import (
    DEFAULT_BUCKETS,
    BucketRegistry,
    Clock,
    ManualClock,
    RetryPolicy,
    SystemClock,
    TokenBucket,
)
from oms_amazon.adapters.sp_api.transport import SpApiTransport


def forget_amazon_state() -> None:
    """Drop what a warm container remembers of Amazon: access tokens, RDTs and rate-limit buckets
    (tests and the local stack, when Amazon is replaced by an empty simulator)."""
    DEFAULT_BUCKETS.clear()
    DEFAULT_TOKEN_CACHE.clear()
    DEFAULT_RDT_CACHE.clear()


__all__ = [
    "DEFAULT_BUCKETS",
    "DEFAULT_RDT_CACHE",
    "DEFAULT_TOKEN_CACHE",
    "DEFAULT_USER_AGENT",
    "LWA_TOKEN_URL",
    "PRODUCTION_ENDPOINTS",
    "RATE_LIMITS",
    "SANDBOX_ENDPOINTS",
    "AccessDenied",
    "AccessTokenCache",
    "AccessTokenProvider",
    "AmazonUnavailable",
    "AppCredentialsRejected",
    "AuthorisationRejected",
    "BucketRegistry",
    "CallCounters",
    "CallOutcome",
    "Clock",
    "ErrorDetail",
    "InvalidRequest",
    "LwaClient",
    "LwaCredentials",
    "LwaError",
    "ManualClock",
    "MetricsHook",
    "NotFound",
    "OutcomeUnknown",
    "RateLimit",
    "RestrictedTokenCache",
    "RetryPolicy",
    "SpApiCallEvent",
    "SpApiClient",
    "SpApiConfig",
    "SpApiError",
    "SpApiRequest",
    "SpApiResponse",
    "SpApiTransport",
    "SystemClock",
    "Throttled",
    "TokenBucket",
    "UnexpectedResponse",
    "builders",
    "endpoint_for",
    "forget_amazon_state",
    "paginate",
    "rate_limit_for",
]
