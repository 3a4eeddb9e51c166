"""Orders 2026-01-01 and Orders v0: the order reads, confirmShipment, and the Restricted Data Token
(Tokens 2021-03-01) that opens v0's buyer data."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from oms_amazon.adapters.sp_api.builders.base import (
    DateTimeLike,
    RestrictedResource,
    SpApiRequest,
    csv_param,
    format_datetime,
    marketplaces_param,
    page_size_param,
    path_segment,
)
from oms_amazon.adapters.sp_api.models.inputs import PackageDetail

MAX_ORDERS_PER_PAGE = 100
MAX_ORDER_IDS = 50  # getOrders' AmazonOrderIds

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


# One RDT for the Orders v0 reads of an import: every getOrders page (the bulk path) with the address and
# buyer, and any order's items with their gift messages. Amazon lets one RDT name up to 50 resources.
V0_ORDER_PII: tuple[RestrictedResource, ...] = (
    RestrictedResource("GET", "/orders/v0/orders", ("buyerInfo", "shippingAddress")),
    RestrictedResource("GET", "/orders/v0/orders/{orderId}", ("buyerInfo", "shippingAddress")),
    RestrictedResource("GET", "/orders/v0/orders/{orderId}/orderItems", ("buyerInfo",)),
)


def _window(
    created_after: DateTimeLike | None,
    created_before: DateTimeLike | None,
    last_updated_after: DateTimeLike | None,
    last_updated_before: DateTimeLike | None,
    *,
    pascal_case: bool,
) -> dict[str, str]:
    """An order search's time window, in Amazon's order of parameters: created or last updated after a
    time (exactly one of them), and before a time of the same kind. Orders v0 spells the names PascalCase."""
    if (created_after is None) == (last_updated_after is None):
        raise ValueError("give exactly one of created_after and last_updated_after")
    if created_after is not None and last_updated_before is not None:
        raise ValueError("last_updated_before cannot be combined with created_after")
    if last_updated_after is not None and created_before is not None:
        raise ValueError("created_before cannot be combined with last_updated_after")
    bounds = {
        "createdAfter": created_after,
        "createdBefore": created_before,
        "lastUpdatedAfter": last_updated_after,
        "lastUpdatedBefore": last_updated_before,
    }
    return {
        (name[0].upper() + name[1:] if pascal_case else name): format_datetime(value)
        for name, value in bounds.items()
        if value is not None
    }


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
    params = _window(created_after, created_before, last_updated_after, last_updated_before, pascal_case=False)
    params["marketplaceIds"] = marketplaces_param(marketplace_ids, "marketplace_ids")
    if fulfilled_by is not None:
        params["fulfilledBy"] = csv_param(fulfilled_by, "fulfilled_by", allowed=FULFILLED_BY)
    if fulfillment_statuses is not None:
        params["fulfillmentStatuses"] = csv_param(
            fulfillment_statuses, "fulfillment_statuses", allowed=FULFILLMENT_STATUSES
        )
    if included_data:
        params["includedData"] = csv_param(included_data, "included_data", allowed=SEARCH_ORDERS_INCLUDED_DATA)
    params["maxResultsPerPage"] = page_size_param(max_results_per_page, "max_results_per_page", MAX_ORDERS_PER_PAGE)
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
    params = _window(created_after, created_before, last_updated_after, last_updated_before, pascal_case=True)
    params["MarketplaceIds"] = marketplaces_param(marketplace_ids, "marketplace_ids")
    if fulfillment_channels is not None:
        params["FulfillmentChannels"] = csv_param(
            fulfillment_channels, "fulfillment_channels", allowed=FULFILLMENT_CHANNELS
        )
    if order_statuses is not None:
        params["OrderStatuses"] = csv_param(order_statuses, "order_statuses", allowed=ORDER_STATUSES_V0)
    if amazon_order_ids is not None:
        params["AmazonOrderIds"] = csv_param(amazon_order_ids, "amazon_order_ids", limit=MAX_ORDER_IDS)
    params["MaxResultsPerPage"] = page_size_param(max_results_per_page, "max_results_per_page", MAX_ORDERS_PER_PAGE)
    if next_token is not None:
        params["NextToken"] = next_token
    return SpApiRequest("getOrders", "GET", "/orders/v0/orders", params, restricted=restricted)


def get_order_v0(order_id: str, *, restricted: tuple[RestrictedResource, ...] = ()) -> SpApiRequest:
    """getOrder (Orders v0): `GET /orders/v0/orders/{orderId}`."""
    path = f"/orders/v0/orders/{path_segment(order_id, 'order_id')}"
    return SpApiRequest("getOrder", "GET", path, restricted=restricted)


def get_order_items(
    order_id: str, *, next_token: str | None = None, restricted: tuple[RestrictedResource, ...] = ()
) -> SpApiRequest:
    """getOrderItems (Orders v0): `GET /orders/v0/orders/{orderId}/orderItems`."""
    params = {"NextToken": next_token} if next_token is not None else {}
    path = f"/orders/v0/orders/{path_segment(order_id, 'order_id')}/orderItems"
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
        f"/orders/v0/orders/{path_segment(order_id, 'order_id')}/shipmentConfirmation",
        json={"marketplaceId": marketplace_id, "packageDetail": detail},
        idempotent=False,
    )


def get_order_2026(order_id: str, *, included_data: Sequence[str] | None = None) -> SpApiRequest:
    """getOrder (Orders 2026-01-01): `GET /orders/2026-01-01/orders/{orderId}`; shares v0 getOrder's plan."""
    params = (
        {"includedData": csv_param(included_data, "included_data", allowed=SEARCH_ORDERS_INCLUDED_DATA)}
        if included_data
        else {}
    )
    return SpApiRequest("getOrder", "GET", f"/orders/2026-01-01/orders/{path_segment(order_id, 'order_id')}", params)
