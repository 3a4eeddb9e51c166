"""Amazon's default usage plans (rate in requests per second, burst) per SP-API operation.

Taken from each operation's description in Amazon's models (shared/amazon-sp-api/README.md §5 and §8).
They seed the client's token buckets; the `x-amzn-RateLimit-Limit` header, when Amazon sends it, then
corrects the rate (Amazon may grant a seller more than the default). Keys are the models' `operationId`s.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType


@dataclass(frozen=True, slots=True)
class RateLimit:
    rate: float  # tokens added per second
    burst: int  # bucket capacity

    def __post_init__(self) -> None:
        if self.rate <= 0 or self.burst < 1:
            raise ValueError(f"invalid rate limit {self.rate}/s burst {self.burst}")


RATE_LIMITS: Mapping[str, RateLimit] = MappingProxyType(
    {
        # Orders v0 (the reads are deprecated; confirmShipment is not)
        "getOrders": RateLimit(0.0167, 20),
        "getOrder": RateLimit(0.5, 30),
        "getOrderItems": RateLimit(0.5, 30),
        "getOrderAddress": RateLimit(0.5, 30),
        "confirmShipment": RateLimit(2.0, 10),
        "updateShipmentStatus": RateLimit(5.0, 15),
        # Orders 2026-01-01 (its getOrder shares v0's 0.5/30 plan)
        "searchOrders": RateLimit(0.0056, 20),
        # Feeds 2021-06-30
        "createFeedDocument": RateLimit(0.5, 15),
        "createFeed": RateLimit(0.0083, 15),
        "getFeed": RateLimit(2.0, 15),
        "getFeeds": RateLimit(0.0222, 10),
        "getFeedDocument": RateLimit(0.0222, 10),
        # A feed type's own limit, besides createFeed's: JSON_LISTINGS_FEED allows 5 submissions per
        # 5 minutes per seller and region (Amazon's changelog, May 2025).
        "createFeed:JSON_LISTINGS_FEED": RateLimit(5 / 300, 5),
        # Reports 2021-06-30
        "createReport": RateLimit(0.0167, 15),
        "getReport": RateLimit(2.0, 15),
        "getReportDocument": RateLimit(0.0167, 15),
        # Listings Items 2021-08-01
        "getListingsItem": RateLimit(5.0, 10),
        "patchListingsItem": RateLimit(5.0, 5),
        "putListingsItem": RateLimit(5.0, 10),
        "searchListingsItems": RateLimit(5.0, 5),
        # Sellers v1
        "getMarketplaceParticipations": RateLimit(0.016, 15),
        # FBA Inventory v1, Tokens 2021-03-01
        "getInventorySummaries": RateLimit(2.0, 2),
        "createRestrictedDataToken": RateLimit(1.0, 10),
    }
)

# The static sandbox applies one flat plan to every operation.
SANDBOX_RATE_LIMIT = RateLimit(5.0, 15)

# An operation missing from the table gets a deliberately cautious plan rather than an error.
FALLBACK_RATE_LIMIT = RateLimit(0.5, 1)


def rate_limit_for(operation: str, *, sandbox: bool = False) -> RateLimit:
    if sandbox:
        return SANDBOX_RATE_LIMIT
    return RATE_LIMITS.get(operation, FALLBACK_RATE_LIMIT)
