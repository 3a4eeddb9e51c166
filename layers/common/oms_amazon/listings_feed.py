"""The `JSON_LISTINGS_FEED` that carries quantities, its processing report, and the listings report
that says which SKUs a marketplace lists — pure.

Quantities travel as PATCH messages on `/attributes/fulfillment_availability` (channel `DEFAULT`,
merchant-fulfilled) with `op: merge`, which changes the quantity and keeps what the seller set beside
it (handling time `lead_time_to_ship_max_days`, `restock_date`); `replace` would wipe them (Amazon's
"Merge a listing" tutorial, June 2025). One feed takes at most 25,000 messages (listings-feed-schema-v2)
and names exactly one marketplace (SPEC §1.1).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from oms_amazon.domain.stock_sync import SkuError

MAX_MESSAGES = 25_000
FEED_TYPE = "JSON_LISTINGS_FEED"
CONTENT_TYPE = "application/json; charset=UTF-8"
DEFAULT_PRODUCT_TYPE = "PRODUCT"
MERCHANT_CHANNEL = "DEFAULT"
QUANTITY_PATH = "/attributes/fulfillment_availability"


@dataclass(frozen=True, slots=True)
class QuantityUpdate:
    sku: str
    quantity: int
    product_type: str = DEFAULT_PRODUCT_TYPE


def quantity_patch(quantity: int) -> dict[str, Any]:
    """The one patch that sets a merchant-fulfilled quantity, in a feed message or in patchListingsItem."""
    return {
        "op": "merge",
        "path": QUANTITY_PATH,
        "value": [{"fulfillment_channel_code": MERCHANT_CHANNEL, "quantity": quantity}],
    }


def quantity_feed(seller_id: str, updates: Iterable[QuantityUpdate]) -> dict[str, Any]:
    """Message `n` (from 1) carries the n-th update: the processing report names messages by that id."""
    messages = [
        {
            "messageId": number,
            "sku": update.sku,
            "operationType": "PATCH",
            "productType": update.product_type,
            "patches": [quantity_patch(update.quantity)],
        }
        for number, update in enumerate(updates, start=1)
    ]
    if not 1 <= len(messages) <= MAX_MESSAGES:
        raise ValueError(f"a listings feed carries 1 to {MAX_MESSAGES} messages, not {len(messages)}")
    return {"header": {"sellerId": seller_id, "version": "2.0", "issueLocale": "en_US"}, "messages": messages}


def _message_sku(issue: Mapping[str, Any], message_skus: Sequence[str]) -> str | None:
    """The SKU an issue is about: its own `sku` when Amazon gives it (optional in the schema), else the
    SKU of the message it names."""
    if issue.get("sku"):
        return str(issue["sku"])
    message_id = issue.get("messageId")
    if isinstance(message_id, int) and 1 <= message_id <= len(message_skus):
        return message_skus[message_id - 1]
    return None


def report_errors(report: Mapping[str, Any], message_skus: Sequence[str] = ()) -> dict[str, list[SkuError]]:
    """Per-SKU ERROR issues of a processing report (warnings do not stop a quantity), matched to the
    feed's messages by `messageId`; `message_skus[n - 1]` is message n's SKU."""
    errors: dict[str, list[SkuError]] = {}
    for issue in report.get("issues") or ():
        if issue.get("severity") != "ERROR":
            continue
        sku = _message_sku(issue, message_skus)
        if sku is not None:
            errors.setdefault(sku, []).append(SkuError(sku, str(issue.get("code", "")), str(issue.get("message", ""))))
    return errors


def report_failed_as_a_whole(report: Mapping[str, Any], message_skus: Sequence[str] = ()) -> bool:
    """An error that names neither a SKU nor one of the feed's messages means the feed itself was refused."""
    return any(
        i.get("severity") == "ERROR" and _message_sku(i, message_skus) is None for i in report.get("issues") or ()
    )


@dataclass(frozen=True, slots=True)
class ListingRows:
    """A marketplace's listings report: merchant-fulfilled SKUs (with their product type) and SKUs
    Amazon fulfils (with their channel, e.g. `AMAZON_EU`), each exactly as Amazon spells it."""

    merchant: dict[str, str] = field(default_factory=dict)
    fulfilled_by_amazon: dict[str, str] = field(default_factory=dict)


def listing_skus(report_text: str) -> ListingRows:
    """`listing_rows` of a report held as one text (tests, small reports)."""
    return listing_rows(io.StringIO(report_text))


def listing_rows(lines: Iterable[str]) -> ListingRows:
    """`GET_MERCHANT_LISTINGS_ALL_DATA` (tab-separated, header row), read line by line as it arrives: only
    the SKUs are kept, never the report. The report lists FBA offers too, with a `fulfillment-channel`
    other than `DEFAULT`: a merchant quantity must never go to them. It names no product type; patches
    then use `PRODUCT`, which Amazon accepts for `fulfillment_availability`. An empty report (no rows)
    is an empty listing."""
    reader = csv.reader(lines, delimiter="\t", quoting=csv.QUOTE_NONE)
    header = next(reader, None)
    if header is None:
        return ListingRows()
    if "seller-sku" not in header:
        raise ValueError("the listings report has no seller-sku column")
    # A column named twice counts by its last occurrence (as a row read into a dict would).
    column = {name: i for i, name in enumerate(header)}
    sku_at, channel_at = column["seller-sku"], column.get("fulfillment-channel")
    rows = ListingRows()
    for row in reader:
        sku = row[sku_at] if sku_at < len(row) else None
        if not sku:
            continue
        listed = row[channel_at] if channel_at is not None and channel_at < len(row) else ""
        channel = listed.strip() or MERCHANT_CHANNEL
        if channel == MERCHANT_CHANNEL:
            rows.merchant[sku] = DEFAULT_PRODUCT_TYPE
        else:
            rows.fulfilled_by_amazon[sku] = channel
    return rows
