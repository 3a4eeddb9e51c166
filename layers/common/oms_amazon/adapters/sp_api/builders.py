"""Pure request builders: one function per SP-API operation, returning what to send, without sending it.

Each builder checks what Amazon's model (and its operation notes) would reject, so a bad call fails here
with a ValueError instead of costing a rate-limited request. Array query parameters are comma-separated
(Swagger's default `csv` format, which every model we use relies on). Date-times may be given as aware
`datetime`s (sent as ISO 8601 in UTC) or as strings passed through untouched (Amazon's sandbox matches on
magic strings such as `TEST_CASE_200`).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal
from urllib.parse import quote

from oms_amazon.adapters.sp_api.models import PackageDetail, PatchOperation
from oms_amazon.adapters.sp_api.rate_limits import RATE_LIMITS

HttpMethod = Literal["GET", "POST", "PUT", "PATCH", "DELETE"]
DateTimeLike = datetime | str

MAX_MARKETPLACE_IDS = 50
MAX_ORDERS_PER_PAGE = 100
MAX_ORDER_IDS = 50  # getOrders' AmazonOrderIds
MAX_LISTINGS_PAGE_SIZE = 20
MAX_LISTINGS_IDENTIFIERS = 20

FULFILLED_BY = frozenset({"MERCHANT", "AMAZON"})
FULFILLMENT_CHANNELS = frozenset({"MFN", "AFN"})
FULFILLMENT_STATUSES = frozenset(
    {"PENDING_AVAILABILITY", "PENDING", "UNSHIPPED", "PARTIALLY_SHIPPED", "SHIPPED", "CANCELLED", "UNFULFILLABLE"}
)
ORDER_STATUSES_V0 = frozenset(
    {
        "PendingAvailability",
        "Pending",
        "Unshipped",
        "PartiallyShipped",
        "Shipped",
        "InvoiceUnconfirmed",
        "Canceled",
        "Unfulfillable",
    }
)
SEARCH_ORDERS_INCLUDED_DATA = frozenset(
    {
        "BUYER",
        "RECIPIENT",
        "PROCEEDS",
        "EXPENSE",
        "PROMOTION",
        "CANCELLATION",
        "FULFILLMENT",
        "PACKAGES",
        "TAX",
        "PAYMENT",
        "FULFILLMENT_ORDERS",
    }
)
PATCH_INCLUDED_DATA = frozenset({"identifiers", "issues"})
SEARCH_LISTINGS_INCLUDED_DATA = frozenset(
    {
        "summaries",
        "attributes",
        "issues",
        "offers",
        "fulfillmentAvailability",
        "procurement",
        "relationships",
        "productTypes",
    }
)
IDENTIFIER_TYPES = frozenset({"ASIN", "EAN", "FNSKU", "GTIN", "ISBN", "JAN", "MINSAN", "SKU", "UPC"})

MERCHANT_LISTINGS_REPORT = "GET_MERCHANT_LISTINGS_ALL_DATA"
JSON_LISTINGS_FEED = "JSON_LISTINGS_FEED"
DEFAULT_FULFILLMENT_CHANNEL = "DEFAULT"


@dataclass(frozen=True, slots=True)
class RestrictedResource:
    """What a Restricted Data Token may open: a method and path (Amazon accepts generic paths such as
    `/orders/v0/orders/{orderId}/orderItems`) and the kinds of buyer data (`dataElements`)."""

    method: HttpMethod
    path: str
    data_elements: tuple[str, ...] = ()

    def to_json(self) -> dict[str, Any]:
        body: dict[str, Any] = {"method": self.method, "path": self.path}
        if self.data_elements:
            body["dataElements"] = list(self.data_elements)
        return body


# One RDT for the Orders v0 reads of an import: every getOrders page (the bulk path) with the address and
# buyer, and any order's items with their gift messages. Amazon lets one RDT name up to 50 resources.
V0_ORDER_PII: tuple[RestrictedResource, ...] = (
    RestrictedResource("GET", "/orders/v0/orders", ("buyerInfo", "shippingAddress")),
    RestrictedResource("GET", "/orders/v0/orders/{orderId}", ("buyerInfo", "shippingAddress")),
    RestrictedResource("GET", "/orders/v0/orders/{orderId}/orderItems", ("buyerInfo",)),
)


@dataclass(frozen=True, slots=True)
class SpApiRequest:
    """An SP-API call, ready to send: `operation` is the model's operationId (it picks the rate limit)."""

    operation: str
    method: HttpMethod
    path: str
    params: Mapping[str, str] = field(default_factory=dict)
    json: Any = None
    # False for a call Amazon may act on twice if it is repeated (createFeed has no idempotency key):
    # the client does not repeat it once it may have reached Amazon (see `OutcomeUnknown`).
    idempotent: bool = True
    # Sent with a Restricted Data Token for these resources instead of the access token, so Amazon
    # includes the buyer's data (Orders v0). Empty: the access token.
    restricted: tuple[RestrictedResource, ...] = ()
    # Further usage plans the call spends a token of, besides its operation's (`rate_limits`): a feed
    # type's own limit.
    also_limited_by: tuple[str, ...] = ()


# ---------------------------------------------------------------------------------------------- helpers


def format_datetime(value: DateTimeLike, *, milliseconds: bool = False) -> str:
    """ISO 8601 in UTC with a `Z`; strings pass through. Naive datetimes are refused (ambiguous)."""
    if isinstance(value, str):
        return value
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError("date-times sent to Amazon must be timezone-aware")
    utc = value.astimezone(UTC)
    if milliseconds or utc.microsecond:
        return utc.strftime("%Y-%m-%dT%H:%M:%S.") + f"{utc.microsecond // 1000:03d}Z"
    return utc.strftime("%Y-%m-%dT%H:%M:%SZ")


def _segment(value: str, name: str) -> str:
    if not value:
        raise ValueError(f"{name} is required")
    # Path parameters are percent-encoded whole: a SKU may contain '/', spaces or '#'.
    return quote(value, safe="")


def _csv(values: Iterable[str], name: str, *, allowed: frozenset[str] | None = None, limit: int | None = None) -> str:
    if isinstance(values, str):
        raise TypeError(f"{name} must be a sequence of strings, not a string")
    items = list(values)
    if not items:
        raise ValueError(f"{name} must not be empty")
    if limit is not None and len(items) > limit:
        raise ValueError(f"{name} takes at most {limit} values")
    if allowed is not None:
        unknown = sorted(set(items) - allowed)
        if unknown:
            raise ValueError(f"{name} has unsupported values: {', '.join(unknown)}")
    return ",".join(items)


def _marketplaces(marketplace_ids: Sequence[str], name: str) -> str:
    return _csv(marketplace_ids, name, limit=MAX_MARKETPLACE_IDS)


def _page_size(value: int, name: str, maximum: int) -> str:
    if not 1 <= value <= maximum:
        raise ValueError(f"{name} must be between 1 and {maximum}")
    return str(value)


def _exactly_one_window(created_after: DateTimeLike | None, last_updated_after: DateTimeLike | None) -> None:
    if (created_after is None) == (last_updated_after is None):
        raise ValueError("give exactly one of created_after and last_updated_after")


# ------------------------------------------------------------------------------------------------ orders


def search_orders(
    *,
    marketplace_ids: Sequence[str],
    last_updated_after: DateTimeLike | None = None,
    created_after: DateTimeLike | None = None,
    last_updated_before: DateTimeLike | None = None,
    created_before: DateTimeLike | None = None,
    fulfilled_by: Sequence[str] | None = None,
    fulfillment_statuses: Sequence[str] | None = None,
    included_data: Sequence[str] | None = None,
    max_results_per_page: int = MAX_ORDERS_PER_PAGE,
    pagination_token: str | None = None,
) -> SpApiRequest:
    """searchOrders (Orders 2026-01-01): `GET /orders/2026-01-01/orders`.

    The filters stay on follow-up pages together with `paginationToken`, as in Amazon's sandbox examples.
    """
    _exactly_one_window(created_after, last_updated_after)
    if created_after is not None and last_updated_before is not None:
        raise ValueError("last_updated_before cannot be combined with created_after")
    if last_updated_after is not None and created_before is not None:
        raise ValueError("created_before cannot be combined with last_updated_after")
    params: dict[str, str] = {}
    if created_after is not None:
        params["createdAfter"] = format_datetime(created_after)
    if created_before is not None:
        params["createdBefore"] = format_datetime(created_before)
    if last_updated_after is not None:
        params["lastUpdatedAfter"] = format_datetime(last_updated_after)
    if last_updated_before is not None:
        params["lastUpdatedBefore"] = format_datetime(last_updated_before)
    params["marketplaceIds"] = _marketplaces(marketplace_ids, "marketplace_ids")
    if fulfilled_by is not None:
        params["fulfilledBy"] = _csv(fulfilled_by, "fulfilled_by", allowed=FULFILLED_BY)
    if fulfillment_statuses is not None:
        params["fulfillmentStatuses"] = _csv(fulfillment_statuses, "fulfillment_statuses", allowed=FULFILLMENT_STATUSES)
    if included_data:
        params["includedData"] = _csv(included_data, "included_data", allowed=SEARCH_ORDERS_INCLUDED_DATA)
    params["maxResultsPerPage"] = _page_size(max_results_per_page, "max_results_per_page", MAX_ORDERS_PER_PAGE)
    if pagination_token is not None:
        params["paginationToken"] = pagination_token
    return SpApiRequest("searchOrders", "GET", "/orders/2026-01-01/orders", params)


def get_orders(
    *,
    marketplace_ids: Sequence[str],
    last_updated_after: DateTimeLike | None = None,
    created_after: DateTimeLike | None = None,
    last_updated_before: DateTimeLike | None = None,
    created_before: DateTimeLike | None = None,
    fulfillment_channels: Sequence[str] | None = None,
    order_statuses: Sequence[str] | None = None,
    max_results_per_page: int = MAX_ORDERS_PER_PAGE,
    next_token: str | None = None,
    restricted: tuple[RestrictedResource, ...] = (),
    amazon_order_ids: Sequence[str] | None = None,
) -> SpApiRequest:
    """getOrders (Orders v0, deprecated but supported until 2027-03-27): `GET /orders/v0/orders`.
    `amazon_order_ids` (at most 50) narrows the window to those orders."""
    _exactly_one_window(created_after, last_updated_after)
    if created_after is not None and last_updated_before is not None:
        raise ValueError("last_updated_before cannot be combined with created_after")
    if last_updated_after is not None and created_before is not None:
        raise ValueError("created_before cannot be combined with last_updated_after")
    params: dict[str, str] = {}
    if created_after is not None:
        params["CreatedAfter"] = format_datetime(created_after)
    if created_before is not None:
        params["CreatedBefore"] = format_datetime(created_before)
    if last_updated_after is not None:
        params["LastUpdatedAfter"] = format_datetime(last_updated_after)
    if last_updated_before is not None:
        params["LastUpdatedBefore"] = format_datetime(last_updated_before)
    params["MarketplaceIds"] = _marketplaces(marketplace_ids, "marketplace_ids")
    if fulfillment_channels is not None:
        params["FulfillmentChannels"] = _csv(fulfillment_channels, "fulfillment_channels", allowed=FULFILLMENT_CHANNELS)
    if order_statuses is not None:
        params["OrderStatuses"] = _csv(order_statuses, "order_statuses", allowed=ORDER_STATUSES_V0)
    if amazon_order_ids is not None:
        params["AmazonOrderIds"] = _csv(amazon_order_ids, "amazon_order_ids", limit=MAX_ORDER_IDS)
    params["MaxResultsPerPage"] = _page_size(max_results_per_page, "max_results_per_page", MAX_ORDERS_PER_PAGE)
    if next_token is not None:
        params["NextToken"] = next_token
    return SpApiRequest("getOrders", "GET", "/orders/v0/orders", params, restricted=restricted)


def get_order_v0(order_id: str, *, restricted: tuple[RestrictedResource, ...] = ()) -> SpApiRequest:
    """getOrder (Orders v0): `GET /orders/v0/orders/{orderId}`."""
    path = f"/orders/v0/orders/{_segment(order_id, 'order_id')}"
    return SpApiRequest("getOrder", "GET", path, restricted=restricted)


def get_order_items(
    order_id: str, *, next_token: str | None = None, restricted: tuple[RestrictedResource, ...] = ()
) -> SpApiRequest:
    """getOrderItems (Orders v0): `GET /orders/v0/orders/{orderId}/orderItems`."""
    params = {"NextToken": next_token} if next_token is not None else {}
    path = f"/orders/v0/orders/{_segment(order_id, 'order_id')}/orderItems"
    return SpApiRequest("getOrderItems", "GET", path, params, restricted=restricted)


MAX_RESTRICTED_RESOURCES = 50


def create_restricted_data_token(resources: Sequence[RestrictedResource]) -> SpApiRequest:
    """createRestrictedDataToken (Tokens 2021-03-01): `POST /tokens/2021-03-01/restrictedDataToken`."""
    if not resources or len(resources) > MAX_RESTRICTED_RESOURCES:
        raise ValueError(f"restrictedResources takes 1 to {MAX_RESTRICTED_RESOURCES} resources")
    body = {"restrictedResources": [resource.to_json() for resource in resources]}
    return SpApiRequest("createRestrictedDataToken", "POST", "/tokens/2021-03-01/restrictedDataToken", json=body)


def confirm_shipment(order_id: str, *, marketplace_id: str, package: PackageDetail) -> SpApiRequest:
    """confirmShipment (Orders v0, not deprecated): `POST /orders/v0/orders/{orderId}/shipmentConfirmation`."""
    if not marketplace_id:
        raise ValueError("marketplace_id is required")
    detail: dict[str, Any] = {
        "packageReferenceId": package.package_reference_id,
        "carrierCode": package.carrier_code,
    }
    if package.carrier_name is not None:
        detail["carrierName"] = package.carrier_name
    if package.shipping_method is not None:
        detail["shippingMethod"] = package.shipping_method
    detail["trackingNumber"] = package.tracking_number
    detail["shipDate"] = format_datetime(package.ship_date, milliseconds=True)
    if package.ship_from_supply_source_id is not None:
        detail["shipFromSupplySourceId"] = package.ship_from_supply_source_id
    items: list[dict[str, Any]] = []
    for item in package.items:
        entry: dict[str, Any] = {"orderItemId": item.order_item_id, "quantity": item.quantity}
        if item.transparency_codes:
            entry["transparencyCodes"] = list(item.transparency_codes)
        items.append(entry)
    detail["orderItems"] = items
    # Amazon does not document a repeated confirmation as harmless: once a call may have reached it (a
    # 5xx, a lost answer), the caller reads the order's packages before confirming again.
    return SpApiRequest(
        "confirmShipment",
        "POST",
        f"/orders/v0/orders/{_segment(order_id, 'order_id')}/shipmentConfirmation",
        json={"marketplaceId": marketplace_id, "packageDetail": detail},
        idempotent=False,
    )


def get_order_2026(order_id: str, *, included_data: Sequence[str] | None = None) -> SpApiRequest:
    """getOrder (Orders 2026-01-01): `GET /orders/2026-01-01/orders/{orderId}`; shares v0 getOrder's plan."""
    params = (
        {"includedData": _csv(included_data, "included_data", allowed=SEARCH_ORDERS_INCLUDED_DATA)}
        if included_data
        else {}
    )
    return SpApiRequest("getOrder", "GET", f"/orders/2026-01-01/orders/{_segment(order_id, 'order_id')}", params)


# ------------------------------------------------------------------------------------------------- feeds


def create_feed_document(content_type: str) -> SpApiRequest:
    """createFeedDocument: `POST /feeds/2021-06-30/documents`; the content must later be PUT with this type."""
    if not content_type:
        raise ValueError("content_type is required")
    return SpApiRequest("createFeedDocument", "POST", "/feeds/2021-06-30/documents", json={"contentType": content_type})


def create_feed(
    *,
    feed_type: str,
    marketplace_ids: Sequence[str],
    input_feed_document_id: str,
    feed_options: Mapping[str, str] | None = None,
) -> SpApiRequest:
    """createFeed: `POST /feeds/2021-06-30/feeds` (about one call per two minutes: batch, don't loop)."""
    if not feed_type:
        raise ValueError("feed_type is required")
    if not input_feed_document_id:
        raise ValueError("input_feed_document_id is required")
    _marketplaces(marketplace_ids, "marketplace_ids")
    body: dict[str, Any] = {
        "feedType": feed_type,
        "marketplaceIds": list(marketplace_ids),
        "inputFeedDocumentId": input_feed_document_id,
    }
    if feed_options:
        body["feedOptions"] = dict(feed_options)
    limited_by = tuple(key for key in (f"createFeed:{feed_type}",) if key in RATE_LIMITS)
    return SpApiRequest(
        "createFeed", "POST", "/feeds/2021-06-30/feeds", json=body, idempotent=False, also_limited_by=limited_by
    )


def get_feed(feed_id: str) -> SpApiRequest:
    return SpApiRequest("getFeed", "GET", f"/feeds/2021-06-30/feeds/{_segment(feed_id, 'feed_id')}")


def get_feeds(
    *, feed_types: Sequence[str], created_since: DateTimeLike | None = None, next_token: str | None = None
) -> SpApiRequest:
    """getFeeds: with a next token Amazon wants no other parameter."""
    if next_token:
        return SpApiRequest("getFeeds", "GET", "/feeds/2021-06-30/feeds", {"nextToken": next_token})
    params = {"feedTypes": ",".join(feed_types), "pageSize": "100"}
    if created_since is not None:
        params["createdSince"] = format_datetime(created_since)
    return SpApiRequest("getFeeds", "GET", "/feeds/2021-06-30/feeds", params)


def get_feed_document(feed_document_id: str) -> SpApiRequest:
    return SpApiRequest(
        "getFeedDocument", "GET", f"/feeds/2021-06-30/documents/{_segment(feed_document_id, 'feed_document_id')}"
    )


# ----------------------------------------------------------------------------------------------- reports


def create_report(
    *,
    marketplace_ids: Sequence[str],
    report_type: str = MERCHANT_LISTINGS_REPORT,
    data_start_time: DateTimeLike | None = None,
    data_end_time: DateTimeLike | None = None,
    report_options: Mapping[str, str] | None = None,
) -> SpApiRequest:
    """createReport: `POST /reports/2021-06-30/reports` (default: every listing of the seller, exact SKU case)."""
    if not report_type:
        raise ValueError("report_type is required")
    _marketplaces(marketplace_ids, "marketplace_ids")
    body: dict[str, Any] = {"reportType": report_type, "marketplaceIds": list(marketplace_ids)}
    if data_start_time is not None:
        body["dataStartTime"] = format_datetime(data_start_time, milliseconds=True)
    if data_end_time is not None:
        body["dataEndTime"] = format_datetime(data_end_time, milliseconds=True)
    if report_options:
        body["reportOptions"] = dict(report_options)
    return SpApiRequest("createReport", "POST", "/reports/2021-06-30/reports", json=body)


def get_report(report_id: str) -> SpApiRequest:
    return SpApiRequest("getReport", "GET", f"/reports/2021-06-30/reports/{_segment(report_id, 'report_id')}")


def get_report_document(report_document_id: str) -> SpApiRequest:
    return SpApiRequest(
        "getReportDocument",
        "GET",
        f"/reports/2021-06-30/documents/{_segment(report_document_id, 'report_document_id')}",
    )


# ---------------------------------------------------------------------------------------------- listings


def fulfillment_availability_patch(
    quantity: int, *, fulfillment_channel_code: str = DEFAULT_FULFILLMENT_CHANNEL
) -> PatchOperation:
    """The patch that sets a merchant-fulfilled quantity (`/attributes/fulfillment_availability`). `merge`
    keeps the seller's handling time and restock date beside it; `replace` would wipe them."""
    if quantity < 0:
        raise ValueError("quantity must not be negative")
    return PatchOperation(
        op="merge",
        path="/attributes/fulfillment_availability",
        value=[{"fulfillment_channel_code": fulfillment_channel_code, "quantity": quantity}],
    )


def patch_listings_item(
    *,
    seller_id: str,
    sku: str,
    marketplace_ids: Sequence[str],
    product_type: str,
    patches: Sequence[PatchOperation],
    included_data: Sequence[str] | None = None,
    mode: Literal["VALIDATION_PREVIEW"] | None = None,
    issue_locale: str | None = None,
) -> SpApiRequest:
    """patchListingsItem: `PATCH /listings/2021-08-01/items/{sellerId}/{sku}`."""
    if not product_type:
        raise ValueError("product_type is required")
    if not patches:
        raise ValueError("at least one patch is required")
    params: dict[str, str] = {"marketplaceIds": _marketplaces(marketplace_ids, "marketplace_ids")}
    if included_data:
        params["includedData"] = _csv(included_data, "included_data", allowed=PATCH_INCLUDED_DATA)
    if mode is not None:
        if mode != "VALIDATION_PREVIEW":
            raise ValueError("mode can only be VALIDATION_PREVIEW")
        params["mode"] = mode
    if issue_locale is not None:
        params["issueLocale"] = issue_locale
    return SpApiRequest(
        "patchListingsItem",
        "PATCH",
        f"/listings/2021-08-01/items/{_segment(seller_id, 'seller_id')}/{_segment(sku, 'sku')}",
        params,
        json={"productType": product_type, "patches": [p.to_json() for p in patches]},
    )


def search_listings_items(
    *,
    seller_id: str,
    marketplace_ids: Sequence[str],
    included_data: Sequence[str] | None = None,
    identifiers: Sequence[str] | None = None,
    identifiers_type: str | None = None,
    page_size: int | None = None,
    page_token: str | None = None,
    issue_locale: str | None = None,
) -> SpApiRequest:
    """searchListingsItems: `GET /listings/2021-08-01/items/{sellerId}`.

    Amazon pages through at most 1,000 items in all: a full SKU list comes from the merchant listings report.
    """
    params: dict[str, str] = {"marketplaceIds": _marketplaces(marketplace_ids, "marketplace_ids")}
    if included_data:
        params["includedData"] = _csv(included_data, "included_data", allowed=SEARCH_LISTINGS_INCLUDED_DATA)
    if identifiers is not None:
        if identifiers_type is None:
            raise ValueError("identifiers need an identifiers_type")
        params["identifiers"] = _csv(identifiers, "identifiers", limit=MAX_LISTINGS_IDENTIFIERS)
    if identifiers_type is not None:
        if identifiers_type not in IDENTIFIER_TYPES:
            raise ValueError(f"unsupported identifiers_type {identifiers_type}")
        params["identifiersType"] = identifiers_type
    if page_size is not None:
        params["pageSize"] = _page_size(page_size, "page_size", MAX_LISTINGS_PAGE_SIZE)
    if page_token is not None:
        params["pageToken"] = page_token
    if issue_locale is not None:
        params["issueLocale"] = issue_locale
    return SpApiRequest(
        "searchListingsItems", "GET", f"/listings/2021-08-01/items/{_segment(seller_id, 'seller_id')}", params
    )


# ----------------------------------------------------------------------------------------------- sellers


def get_marketplace_participations() -> SpApiRequest:
    return SpApiRequest("getMarketplaceParticipations", "GET", "/sellers/v1/marketplaceParticipations")
