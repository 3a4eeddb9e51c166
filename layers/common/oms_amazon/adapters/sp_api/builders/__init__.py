"""Pure request builders: one function per SP-API operation, returning what to send, without sending it.

Each builder checks what Amazon's model (and its operation notes) would reject, so a bad call fails here
with a ValueError instead of costing a rate-limited request. Array query parameters are comma-separated
(Swagger's default `csv` format, which every model we use relies on). Date-times may be given as aware
`datetime`s (sent as ISO 8601 in UTC) or as strings passed through untouched (Amazon's sandbox matches on
magic strings such as `TEST_CASE_200`).

One module per API (`orders`, `feeds`, `reports`, `listings`, `sellers`) over `base`; every builder is
reachable here as `builders.<name>`.
"""

from oms_amazon.adapters.sp_api.builders.base import (
    MAX_MARKETPLACE_IDS,
    DateTimeLike,
    HttpMethod,
    RestrictedResource,
    SpApiRequest,
    format_datetime,
)
from oms_amazon.adapters.sp_api.builders.feeds import (
    JSON_LISTINGS_FEED,
    create_feed,
    create_feed_document,
    get_feed,
    get_feed_document,
    get_feeds,
)
from oms_amazon.adapters.sp_api.builders.listings import (
    DEFAULT_FULFILLMENT_CHANNEL,
    IDENTIFIER_TYPES,
    MAX_LISTINGS_IDENTIFIERS,
    MAX_LISTINGS_PAGE_SIZE,
    PATCH_INCLUDED_DATA,
    SEARCH_LISTINGS_INCLUDED_DATA,
    fulfillment_availability_patch,
    patch_listings_item,
    search_listings_items,
)
from oms_amazon.adapters.sp_api.builders.orders import (
    FULFILLED_BY,
    FULFILLMENT_CHANNELS,
    FULFILLMENT_STATUSES,
    MAX_ORDER_IDS,
    MAX_ORDERS_PER_PAGE,
    MAX_RESTRICTED_RESOURCES,
    ORDER_STATUSES_V0,
    SEARCH_ORDERS_INCLUDED_DATA,
    V0_ORDER_PII,
    confirm_shipment,
    create_restricted_data_token,
    get_order_2026,
    get_order_items,
    get_order_v0,
    get_orders,
    search_orders,
)
from oms_amazon.adapters.sp_api.builders.reports import (
    MERCHANT_LISTINGS_REPORT,
    create_report,
    get_report,
    get_report_document,
)
from oms_amazon.adapters.sp_api.builders.sellers import (
    get_marketplace_participations,
)

__all__ = [
    "DEFAULT_FULFILLMENT_CHANNEL",
    "FULFILLED_BY",
    "FULFILLMENT_CHANNELS",
    "FULFILLMENT_STATUSES",
    "IDENTIFIER_TYPES",
    "JSON_LISTINGS_FEED",
    "MAX_LISTINGS_IDENTIFIERS",
    "MAX_LISTINGS_PAGE_SIZE",
    "MAX_MARKETPLACE_IDS",
    "MAX_ORDERS_PER_PAGE",
    "MAX_ORDER_IDS",
    "MAX_RESTRICTED_RESOURCES",
    "MERCHANT_LISTINGS_REPORT",
    "ORDER_STATUSES_V0",
    "PATCH_INCLUDED_DATA",
    "SEARCH_LISTINGS_INCLUDED_DATA",
    "SEARCH_ORDERS_INCLUDED_DATA",
    "V0_ORDER_PII",
    "DateTimeLike",
    "HttpMethod",
    "RestrictedResource",
    "SpApiRequest",
    "confirm_shipment",
    "create_feed",
    "create_feed_document",
    "create_report",
    "create_restricted_data_token",
    "format_datetime",
    "fulfillment_availability_patch",
    "get_feed",
    "get_feed_document",
    "get_feeds",
    "get_marketplace_participations",
    "get_order_2026",
    "get_order_items",
    "get_order_v0",
    "get_orders",
    "get_report",
    "get_report_document",
    "patch_listings_item",
    "search_listings_items",
    "search_orders",
]
