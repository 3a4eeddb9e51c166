"""`GET_MERCHANT_LISTINGS_ALL_DATA`: a tab-separated file, one row per listing, Amazon's column order.

Columns as the "Inventory reports attributes" page lists them. `fulfillment-channel` is `DEFAULT` for a
merchant-fulfilled offer and the Amazon network (`AMAZON_NA`, `AMAZON_EU`, …) for an FBA one; an FBA row leaves
`quantity` empty, since the report carries only the seller's own quantity (jlevers/selling-partner-api#253).
"""

from __future__ import annotations

import json
from collections.abc import Iterable

from .state import Listing

SUPPORTED_REPORT_TYPES = ("GET_MERCHANT_LISTINGS_ALL_DATA",)
# The Reports model's words for processingStatus FATAL, for a report aborted on demand (a `kind: fatal` fault).
FATAL_REPORT_MESSAGE = "The report was aborted due to a fatal error."

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
                "quantity": "" if listing.is_fba else str(listing.quantity),
                "open-date": listing.created.strftime("%Y-%m-%d %H:%M:%S GMT"),
                "item-is-marketplace": "y",
                "product-id-type": "1",  # 1 = ASIN
                "item-condition": "11",  # 11 = New
                "asin1": listing.asin,
                "product-id": listing.asin,
                "pending-quantity": "0",
                "fulfillment-channel": listing.fulfillment_channel,
                "merchant-shipping-group": "Migrated Template",
                "status": "Active" if listing.quantity > 0 else "Inactive",
            }
        )
        lines.append("\t".join(row[c] for c in ALL_LISTINGS_COLUMNS))
    return "\n".join(lines) + "\n"


def fatal_report_document(reason: str) -> tuple[str, bytes]:
    """The document of a FATAL report: "a reportDocumentId may be present. If present, the report represented by
    the reportDocumentId may explain why the report processing ended" (Reports API, "Verify that the report
    processing is complete"). Amazon documents no shape for it; developers report one carrying a one-line reason
    (amzn/selling-partner-api-docs#2444). The JSON shape, `{"errorDetails": reason}`, is the simulator's choice."""
    return "application/json", json.dumps({"errorDetails": reason}).encode("utf-8")
