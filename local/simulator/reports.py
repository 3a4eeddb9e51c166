"""`GET_MERCHANT_LISTINGS_ALL_DATA`: a tab-separated file, one row per listing, Amazon's column order."""

from __future__ import annotations

from collections.abc import Iterable

from .state import Listing

SUPPORTED_REPORT_TYPES = ("GET_MERCHANT_LISTINGS_ALL_DATA",)

ALL_LISTINGS_COLUMNS: tuple[str, ...] = (
    "item-name",
    "item-description",
    "listing-id",
    "seller-sku",
    "price",
    "quantity",
    "open-date",
    "image-url",
    "item-is-marketplace",
    "product-id-type",
    "zshop-shipping-fee",
    "item-note",
    "item-condition",
    "zshop-category1",
    "zshop-browse-path",
    "zshop-storefront-feature",
    "asin1",
    "asin2",
    "asin3",
    "will-ship-internationally",
    "expedited-shipping",
    "zshop-boldface",
    "product-id",
    "bid-for-featured-placement",
    "add-delete",
    "pending-quantity",
    "fulfillment-channel",
    "merchant-shipping-group",
    "status",
)


def _cell(value: str) -> str:
    return value.replace("\t", " ").replace("\r", " ").replace("\n", " ")


def all_listings_tsv(listings: Iterable[Listing]) -> str:
    lines = ["\t".join(ALL_LISTINGS_COLUMNS)]
    for listing in listings:
        row = dict.fromkeys(ALL_LISTINGS_COLUMNS, "")
        row.update(
            {
                "item-name": _cell(listing.item_name),
                "listing-id": listing.listing_id,
                "seller-sku": listing.sku,
                "price": "" if listing.price is None else str(listing.price),
                "quantity": str(listing.quantity),
                "open-date": listing.created.strftime("%Y-%m-%d %H:%M:%S GMT"),
                "item-is-marketplace": "y",
                "product-id-type": "1",  # 1 = ASIN
                "item-condition": "11",  # 11 = New
                "asin1": listing.asin,
                "product-id": listing.asin,
                "pending-quantity": "0",
                "fulfillment-channel": "DEFAULT",
                "merchant-shipping-group": "Migrated Template",
                "status": "Active" if listing.quantity > 0 else "Inactive",
            }
        )
        lines.append("\t".join(row[c] for c in ALL_LISTINGS_COLUMNS))
    return "\n".join(lines) + "\n"
