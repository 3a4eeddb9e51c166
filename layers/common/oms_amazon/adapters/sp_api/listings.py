"""Listings Items 2021-08-01: patching a listing (a merchant-fulfilled quantity) and searching listings."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

from oms_amazon.adapters.sp_api import builders
from oms_amazon.adapters.sp_api.models import ListingsItemsPage, ListingsItemSubmission, PatchOperation
from oms_amazon.adapters.sp_api.responses import parse
from oms_amazon.adapters.sp_api.transport import Operations


class ListingsApi(Operations):
    def patch_listings_item(
        self,
        *,
        sku: str,
        marketplace_ids: Sequence[str],
        product_type: str,
        patches: Sequence[PatchOperation],
        included_data: Sequence[str] | None = None,
        mode: Literal["VALIDATION_PREVIEW"] | None = None,
        issue_locale: str | None = None,
    ) -> ListingsItemSubmission:
        request = builders.patch_listings_item(
            seller_id=self._transport.seller_id,
            sku=sku,
            marketplace_ids=marketplace_ids,
            product_type=product_type,
            patches=patches,
            included_data=included_data,
            mode=mode,
            issue_locale=issue_locale,
        )
        return parse(ListingsItemSubmission, self._transport.send(request))

    def patch_listing_quantity(
        self,
        *,
        sku: str,
        marketplace_ids: Sequence[str],
        quantity: int,
        product_type: str = "PRODUCT",
        fulfillment_channel_code: str = builders.DEFAULT_FULFILLMENT_CHANNEL,
    ) -> ListingsItemSubmission:
        """Set a merchant-fulfilled quantity. Check `.status`/`.issues`: Amazon answers 200 even when INVALID."""
        return self.patch_listings_item(
            sku=sku,
            marketplace_ids=marketplace_ids,
            product_type=product_type,
            patches=[
                builders.fulfillment_availability_patch(quantity, fulfillment_channel_code=fulfillment_channel_code)
            ],
        )

    def search_listings_items(
        self,
        *,
        marketplace_ids: Sequence[str],
        included_data: Sequence[str] | None = None,
        identifiers: Sequence[str] | None = None,
        identifiers_type: str | None = None,
        page_size: int | None = None,
        page_token: str | None = None,
    ) -> ListingsItemsPage:
        """One page of the seller's listings; Amazon pages through at most 1,000 items in all (a full list
        comes from the listings report)."""
        request = builders.search_listings_items(
            seller_id=self._transport.seller_id,
            marketplace_ids=marketplace_ids,
            included_data=included_data,
            identifiers=identifiers,
            identifiers_type=identifiers_type,
            page_size=page_size,
            page_token=page_token,
        )
        return parse(ListingsItemsPage, self._transport.send(request))
