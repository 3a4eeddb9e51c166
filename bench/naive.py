"""A naive connector, for comparison: the call-per-item patterns SPEC §9 measures against.

It uses the same `SpApiClient` (same token buckets, same waiting and retries) as the real connector,
so it is throttled identically; only the choice of calls differs.

- Stock: one `patchListingsItem` per SKU whose quantity changed since it last pushed it (it keeps that
  memory, so a delta run is as small as the connector's; it never reads a listings report and never
  batches).
- Orders v0: `getOrders` pages, then `getOrderItems` for each order.
- Orders 2026-01-01: `searchOrders` pages, then `getOrder` for each order (as if the items and
  fulfilment details were not already in the search answer).
"""

from __future__ import annotations

from collections.abc import Mapping, MutableMapping
from datetime import datetime
from functools import partial

from oms_amazon.adapters.amazon_orders import order_from_2026, order_from_v0
from oms_amazon.adapters.sp_api import SpApiClient
from oms_amazon.adapters.sp_api.builders import SpApiRequest
from oms_amazon.adapters.sp_api.models import Order2026
from oms_amazon.adapters.sp_api.pagination import paginate
from oms_amazon.domain.orders import AmazonOrder

DETAILS_2026 = "FULFILLMENT,PROCEEDS,RECIPIENT,BUYER"


def push_stock(
    client: SpApiClient, marketplace_id: str, quantities: Mapping[str, int], pushed: MutableMapping[str, int]
) -> int:
    """Patch every SKU whose quantity differs from what this connector last pushed; how many were sent."""
    sent = 0
    for sku, quantity in quantities.items():
        if pushed.get(sku) == quantity:
            continue
        client.patch_listing_quantity(sku=sku, marketplace_ids=[marketplace_id], quantity=max(0, quantity))
        pushed[sku] = quantity
        sent += 1
    return sent


def import_orders_v0(client: SpApiClient, marketplace_id: str, since: datetime) -> list[AmazonOrder]:
    orders = []
    get_orders = partial(client.get_orders, last_updated_after=since, fulfillment_channels=["MFN"], with_pii=True)
    for page in paginate(lambda token: get_orders(marketplace_ids=[marketplace_id], next_token=token)):
        for order in page.orders:
            orders.append(order_from_v0(order, client.list_order_items(order.amazon_order_id, with_pii=True)))
    return orders


def import_orders_2026(client: SpApiClient, marketplace_id: str, since: datetime) -> list[AmazonOrder]:
    orders = []
    search = partial(client.search_orders, last_updated_after=since, fulfilled_by=["MERCHANT"])
    for page in paginate(lambda token: search(marketplace_ids=[marketplace_id], pagination_token=token)):
        for summary in page.orders:
            request = SpApiRequest(
                "getOrder", "GET", f"/orders/2026-01-01/orders/{summary.order_id}", {"includedData": DETAILS_2026}
            )
            detail = Order2026.model_validate(client.send(request).body["order"])
            orders.append(order_from_2026(detail, marketplace_id))
    return orders
