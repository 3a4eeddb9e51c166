"""Listings Items 2021-08-01."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

from oms_amazon.adapters.sp_api.builders.base import (
    SpApiRequest,
    csv_param,
    marketplaces_param,
    page_size_param,
    path_segment,
)
from oms_amazon.adapters.sp_api.models.inputs import PatchOperation

MAX_LISTINGS_PAGE_SIZE = 20
MAX_LISTINGS_IDENTIFIERS = 20

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

DEFAULT_FULFILLMENT_CHANNEL = "DEFAULT"


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
    params: dict[str, str] = {"marketplaceIds": marketplaces_param(marketplace_ids, "marketplace_ids")}
    if included_data:
        params["includedData"] = csv_param(included_data, "included_data", allowed=PATCH_INCLUDED_DATA)
    if mode is not None:
        if mode != "VALIDATION_PREVIEW":
            raise ValueError("mode can only be VALIDATION_PREVIEW")
        params["mode"] = mode
    if issue_locale is not None:
        params["issueLocale"] = issue_locale
    return SpApiRequest(
        "patchListingsItem",
        "PATCH",
        f"/listings/2021-08-01/items/{path_segment(seller_id, 'seller_id')}/{path_segment(sku, 'sku')}",
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
    params: dict[str, str] = {"marketplaceIds": marketplaces_param(marketplace_ids, "marketplace_ids")}
    if included_data:
        params["includedData"] = csv_param(included_data, "included_data", allowed=SEARCH_LISTINGS_INCLUDED_DATA)
    if identifiers is not None:
        if identifiers_type is None:
            raise ValueError("identifiers need an identifiers_type")
        params["identifiers"] = csv_param(identifiers, "identifiers", limit=MAX_LISTINGS_IDENTIFIERS)
    if identifiers_type is not None:
        if identifiers_type not in IDENTIFIER_TYPES:
            raise ValueError(f"unsupported identifiers_type {identifiers_type}")
        params["identifiersType"] = identifiers_type
    if page_size is not None:
        params["pageSize"] = page_size_param(page_size, "page_size", MAX_LISTINGS_PAGE_SIZE)
    if page_token is not None:
        params["pageToken"] = page_token
    if issue_locale is not None:
        params["issueLocale"] = issue_locale
    return SpApiRequest(
        "searchListingsItems", "GET", f"/listings/2021-08-01/items/{path_segment(seller_id, 'seller_id')}", params
    )
