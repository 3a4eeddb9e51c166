"""Listings as Amazon holds them, and the Listings Items API's `Item` shape.

SKUs are exact strings: `abc-1` and `ABC-1` are two different listings, and a quantity sent for one
never reaches the other. A merchant-fulfilled quantity is one figure per SKU per seller in a region
(SPEC §1.1), so by default a quantity set in one marketplace is also what the seller's merchant-fulfilled
listing of that SKU in the region's other marketplaces now holds.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import asdict
from datetime import datetime
from typing import Any

from .availability import AvailabilityPatch, apply_availability
from .marketplaces import Marketplace
from .state import MERCHANT_CHANNEL, ChannelAvailability, Listing
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

    def apply_availability(
        self,
        seller_id: str,
        marketplace: Marketplace,
        sku: str,
        patch: AvailabilityPatch,
        now: datetime,
        *,
        regional: bool,
    ) -> None:
        """Applies a fulfillment-availability patch to the listing of `sku` in `marketplace`. With `regional`, the
        merchant quantity it sets is also what the seller's merchant-fulfilled offers of that SKU in the region's
        other marketplaces hold (SPEC §1.1); handling time and restock date stay per marketplace."""
        listing = self.get(seller_id, marketplace.marketplace_id, sku)
        if listing is None:
            return
        apply_availability(listing, patch)
        listing.updated = now
        quantity = patch.quantity()
        if not regional or quantity is None:
            return
        for book in self._listings.get(seller_id, {}).values():
            other = book.get(sku)
            if other is None or other is listing or other.marketplace.region != marketplace.region:
                continue
            if other.merchant is not None:
                other.merchant.quantity = quantity
                other.updated = now


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
                _availability_attribute(channel, entry) for channel, entry in listings[0].availability.items()
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
        item["fulfillmentAvailability"] = [
            _fulfillment_availability(channel, entry) for channel, entry in listings[0].availability.items()
        ]
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


def _availability_attribute(channel: str, entry: ChannelAvailability) -> dict[str, Any]:
    """One `fulfillment_availability` attribute entry. Amazon counts FBA stock itself and shows no quantity for it
    (the `AMAZON_NA` entry of listings-feed-processing-report-schema-v2.example.json)."""
    attribute: dict[str, Any] = {"fulfillment_channel_code": channel}
    if channel == MERCHANT_CHANNEL:
        fields = {
            "quantity": entry.quantity,
            "lead_time_to_ship_max_days": entry.lead_time_to_ship_max_days,
            "restock_date": entry.restock_date,
        }
        attribute.update({name: value for name, value in fields.items() if value is not None})
    return attribute


def _fulfillment_availability(channel: str, entry: ChannelAvailability) -> dict[str, Any]:
    """The Listings Items `FulfillmentAvailability` of one channel."""
    shown: dict[str, Any] = {"fulfillmentChannelCode": channel}
    if channel == MERCHANT_CHANNEL and entry.quantity is not None:
        shown["quantity"] = entry.quantity
    return shown


def listing_view(listing: Listing) -> dict[str, Any]:
    """A listing as the control API shows it: its own channel's quantity, the merchant handling time and restock
    date, and every channel entry (an FBA listing that was sent a DEFAULT quantity shows it there)."""
    merchant = listing.merchant
    return {
        "sku": listing.sku,
        "marketplace": listing.marketplace.code,
        "marketplace_id": listing.marketplace.marketplace_id,
        "product_type": listing.product_type,
        "quantity": listing.quantity,
        "fulfillment_channel": listing.fulfillment_channel,
        "lead_time_to_ship_max_days": merchant.lead_time_to_ship_max_days if merchant else None,
        "restock_date": merchant.restock_date if merchant else None,
        "fulfillment_availability": [
            {"fulfillment_channel_code": channel, **asdict(entry)} for channel, entry in listing.availability.items()
        ],
        "asin": listing.asin,
        "item_name": listing.item_name,
        "price": None if listing.price is None else str(listing.price),
        "status": listing.status,
        "created": iso(listing.created),
        "updated": iso(listing.updated),
    }
