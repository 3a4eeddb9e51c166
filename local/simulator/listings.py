"""Listings as Amazon holds them, and the Listings Items API's `Item` shape.

SKUs are exact strings: `abc-1` and `ABC-1` are two different listings, and a quantity sent for one
never reaches the other. A merchant-fulfilled quantity is one figure per SKU per seller in a region
(SPEC §1.1), so by default a quantity set in one marketplace is also what the seller's listing of
that SKU in the region's other marketplaces now holds.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from .marketplaces import Marketplace
from .state import Listing
from .times import iso


class ListingBook:
    def __init__(self) -> None:
        self._listings: dict[str, dict[str, dict[str, Listing]]] = {}  # seller -> marketplace id -> sku

    def clear(self) -> None:
        self._listings.clear()

    def marketplace(self, seller_id: str, marketplace_id: str) -> dict[str, Listing]:
        return self._listings.setdefault(seller_id, {}).setdefault(marketplace_id, {})

    def get(self, seller_id: str, marketplace_id: str, sku: str) -> Listing | None:
        return self._listings.get(seller_id, {}).get(marketplace_id, {}).get(sku)

    def put(self, seller_id: str, listings: Iterable[Listing], *, replace: bool, marketplace_id: str) -> None:
        book = self.marketplace(seller_id, marketplace_id)
        if replace:
            book.clear()
        for listing in listings:
            book[listing.sku] = listing

    def delete(self, seller_id: str, marketplace_id: str, sku: str) -> None:
        self.marketplace(seller_id, marketplace_id).pop(sku, None)

    def set_quantity(
        self, seller_id: str, marketplace: Marketplace, sku: str, quantity: int, now: datetime, *, regional: bool
    ) -> None:
        for marketplace_id, book in self._listings.get(seller_id, {}).items():
            listing = book.get(sku)
            if listing is None:
                continue
            same_region = regional and listing.marketplace.region == marketplace.region
            if marketplace_id == marketplace.marketplace_id or same_region:
                listing.quantity = quantity
                listing.updated = now


def listings_item(sku: str, listings: list[Listing], included: set[str]) -> dict[str, Any]:
    """The `Item` of the Listings Items API for one SKU in the requested marketplaces."""
    item: dict[str, Any] = {"sku": sku}
    if "summaries" in included:
        item["summaries"] = [
            {
                "marketplaceId": listing.marketplace.marketplace_id,
                "asin": listing.asin,
                "productType": listing.product_type,
                "conditionType": "new_new",
                "status": listing.status,
                "itemName": listing.item_name,
                "createdDate": iso(listing.created),
                "lastUpdatedDate": iso(listing.updated),
            }
            for listing in listings
        ]
    if "attributes" in included:
        item["attributes"] = {
            "item_name": [
                {
                    "value": listing.item_name,
                    "language_tag": listing.marketplace.language,
                    "marketplace_id": listing.marketplace.marketplace_id,
                }
                for listing in listings
            ],
            "fulfillment_availability": [
                {"fulfillment_channel_code": "DEFAULT", "quantity": listings[0].quantity},
            ],
        }
    if "issues" in included:
        item["issues"] = []
    if "offers" in included:
        item["offers"] = [
            {
                "marketplaceId": listing.marketplace.marketplace_id,
                "offerType": "B2C",
                "price": {"currencyCode": listing.marketplace.currency, "amount": str(listing.price)},
                "audience": {"value": "ALL", "displayName": "Sell on Amazon"},
            }
            for listing in listings
            if listing.price is not None
        ]
    if "fulfillmentAvailability" in included:
        item["fulfillmentAvailability"] = [{"fulfillmentChannelCode": "DEFAULT", "quantity": listings[0].quantity}]
    if "procurement" in included:
        item["procurement"] = []
    if "relationships" in included:
        item["relationships"] = [
            {"marketplaceId": listing.marketplace.marketplace_id, "relationships": []} for listing in listings
        ]
    if "productTypes" in included:
        item["productTypes"] = [
            {"marketplaceId": listing.marketplace.marketplace_id, "productType": listing.product_type}
            for listing in listings
        ]
    return item


def listing_view(listing: Listing) -> dict[str, Any]:
    """A listing as the control API shows it."""
    return {
        "sku": listing.sku,
        "marketplace": listing.marketplace.code,
        "marketplace_id": listing.marketplace.marketplace_id,
        "product_type": listing.product_type,
        "quantity": listing.quantity,
        "asin": listing.asin,
        "item_name": listing.item_name,
        "price": None if listing.price is None else str(listing.price),
        "status": listing.status,
        "created": iso(listing.created),
        "updated": iso(listing.updated),
    }
