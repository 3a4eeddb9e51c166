"""The `JSON_LISTINGS_FEED` that carries quantities, and its processing report — pure.

Quantities travel as PATCH messages on `/attributes/fulfillment_availability` (channel `DEFAULT`,
merchant-fulfilled); one feed takes at most 25,000 messages (listings-feed-schema-v2).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from oms_amazon.domain.stock_sync import SkuError

MAX_MESSAGES = 25_000
FEED_TYPE = "JSON_LISTINGS_FEED"
CONTENT_TYPE = "application/json; charset=UTF-8"
DEFAULT_PRODUCT_TYPE = "PRODUCT"


@dataclass(frozen=True, slots=True)
class QuantityUpdate:
    sku: str
    quantity: int
    product_type: str = DEFAULT_PRODUCT_TYPE


def quantity_feed(seller_id: str, updates: Iterable[QuantityUpdate]) -> dict[str, Any]:
    messages = [
        {
            "messageId": number,
            "sku": update.sku,
            "operationType": "PATCH",
            "productType": update.product_type,
            "patches": [
                {
                    "op": "replace",
                    "path": "/attributes/fulfillment_availability",
                    "value": [{"fulfillment_channel_code": "DEFAULT", "quantity": update.quantity}],
                }
            ],
        }
        for number, update in enumerate(updates, start=1)
    ]
    if not 1 <= len(messages) <= MAX_MESSAGES:
        raise ValueError(f"a listings feed carries 1 to {MAX_MESSAGES} messages, not {len(messages)}")
    return {"header": {"sellerId": seller_id, "version": "2.0", "issueLocale": "en_US"}, "messages": messages}


def report_errors(report: Mapping[str, Any]) -> dict[str, list[SkuError]]:
    """Per-SKU ERROR issues of a processing report (warnings do not stop a quantity)."""
    errors: dict[str, list[SkuError]] = {}
    for issue in report.get("issues") or ():
        if issue.get("severity") != "ERROR" or not issue.get("sku"):
            continue
        sku = str(issue["sku"])
        errors.setdefault(sku, []).append(SkuError(sku, str(issue.get("code", "")), str(issue.get("message", ""))))
    return errors


def report_failed_as_a_whole(report: Mapping[str, Any]) -> bool:
    """Issues without a SKU that are errors mean the feed itself was refused."""
    return any(i.get("severity") == "ERROR" and not i.get("sku") for i in report.get("issues") or ())


def listing_skus(report_text: str) -> dict[str, str]:
    """`GET_MERCHANT_LISTINGS_ALL_DATA` (tab-separated, header row) -> seller SKU -> product type.
    The report names no product type; patches then use `PRODUCT`, which Amazon accepts for
    `fulfillment_availability`."""
    reader = csv.DictReader(io.StringIO(report_text), delimiter="\t", quoting=csv.QUOTE_NONE)
    if reader.fieldnames is None or "seller-sku" not in reader.fieldnames:
        raise ValueError("the listings report has no seller-sku column")
    return {row["seller-sku"]: DEFAULT_PRODUCT_TYPE for row in reader if row.get("seller-sku")}
