"""Where a seller's calls go and how: Amazon's regional hosts and the settings every seller's client shares."""

from __future__ import annotations

import sys
from collections.abc import Mapping
from dataclasses import dataclass, field

import httpx

from oms_amazon.adapters.sp_api.throttle import RetryPolicy
from oms_amazon.domain.marketplaces import Region

PRODUCTION_ENDPOINTS: Mapping[Region, str] = {
    "na": "https://sellingpartnerapi-na.amazon.com",
    "eu": "https://sellingpartnerapi-eu.amazon.com",
    "fe": "https://sellingpartnerapi-fe.amazon.com",
}
SANDBOX_ENDPOINTS: Mapping[Region, str] = {
    "na": "https://sandbox.sellingpartnerapi-na.amazon.com",
    "eu": "https://sandbox.sellingpartnerapi-eu.amazon.com",
    "fe": "https://sandbox.sellingpartnerapi-fe.amazon.com",
}

DEFAULT_USER_AGENT = f"OmsAmazonConnector/1.0 (Language=Python/{sys.version_info.major}.{sys.version_info.minor})"
DEFAULT_TIMEOUT = httpx.Timeout(30.0, connect=5.0)


def endpoint_for(region: Region, *, sandbox: bool = False, override: str | None = None) -> str:
    """The SP-API base URL of a marketplace's region (not of where the code runs)."""
    if override:
        return override.rstrip("/")
    return (SANDBOX_ENDPOINTS if sandbox else PRODUCTION_ENDPOINTS)[region]


@dataclass(frozen=True, slots=True)
class SpApiConfig:
    """Settings shared by every seller's client; build once from the validated environment settings.

    `endpoint_override` points every region at one host (the local stack's simulator, for instance).
    `sandbox` selects Amazon's static sandbox hosts and its flat 5 req/s, burst 15 plan.
    """

    endpoint_override: str | None = None
    sandbox: bool = False
    user_agent: str = DEFAULT_USER_AGENT
    timeout: httpx.Timeout = field(default_factory=lambda: DEFAULT_TIMEOUT)
    retry: RetryPolicy = field(default_factory=RetryPolicy)
