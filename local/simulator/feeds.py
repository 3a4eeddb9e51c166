"""Processing a `JSON_LISTINGS_FEED`, as Amazon does, into a processing report.

The envelope (header, 1 to 25,000 messages) is checked against `listings-feed-schema-v2.json`; a feed
that fails it, is not JSON, or names another seller is FATAL. Each message is then checked on its
own, so one bad message is an ERROR issue for its `messageId` and the rest still apply. Quantity
goes through `/attributes/fulfillment_availability` (`fulfillment_channel_code: DEFAULT`). SKUs are
matched exactly: a SKU that differs from a listing only in case is an unknown SKU.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from .listings import ListingBook, listings_item
from .marketplaces import Marketplace
from .models import ModelCatalog
from .state import Listing

QUANTITY_PATH = "/attributes/fulfillment_availability"
CODE_INVALID_VALUE = "4000001"
CODE_MISSING_VALUE = "90220"
CODE_UNKNOWN_SKU = "13013"
CODE_FEED_REJECTED = "4000000"


def unknown_sku_message(sku: str, marketplace_id: str) -> str:
    return f"The SKU '{sku}' does not match any listing of this seller in marketplace {marketplace_id}."


@dataclass
class FeedOutcome:
    status: str  # "DONE" | "FATAL"
    report: dict[str, Any]


@dataclass
class _Run:
    issues: list[dict[str, Any]] = field(default_factory=list)
    accepted: list[tuple[dict[str, Any], list[Listing]]] = field(default_factory=list)
    invalid: int = 0

    def issue(self, message: dict[str, Any] | None, code: str, text: str, severity: str = "ERROR") -> None:
        issue: dict[str, Any] = {"code": code, "severity": severity, "message": text}
        if message is not None:
            if isinstance(message.get("messageId"), int) and message["messageId"] >= 1:
                issue["messageId"] = message["messageId"]
            if isinstance(message.get("sku"), str) and message["sku"]:
                issue["sku"] = message["sku"]
        self.issues.append(issue)


class _MessageRejected(Exception):
    pass


def process_listings_feed(
    *,
    catalog: ModelCatalog,
    book: ListingBook,
    seller_id: str,
    feed_id: str,
    marketplaces: list[Marketplace],
    content: bytes | None,
    now: datetime,
    regional_quantity: bool,
) -> FeedOutcome:
    header = {"sellerId": seller_id, "version": "2.0", "feedId": feed_id}
    run = _Run()

    def fatal(text: str) -> FeedOutcome:
        run.issue(None, CODE_FEED_REJECTED, text)
        return FeedOutcome("FATAL", _report(header, run, processed=0))

    if not content:
        return fatal("The feed document is empty or was never uploaded.")
    try:
        feed = json.loads(content.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        return fatal(f"The feed document is not valid UTF-8 JSON: {exc}.")
    envelope_errors = catalog.feed_envelope_errors(feed)
    if envelope_errors:
        return fatal("The feed does not conform to the JSON_LISTINGS_FEED schema (v2.0): " + "; ".join(envelope_errors))
    if feed["header"]["sellerId"] != seller_id:
        return fatal(
            f"The sellerId '{feed['header']['sellerId']}' in the feed header is not the authorised selling partner."
        )
    report_spec = feed["header"].get("report")
    if report_spec:
        header["report"] = report_spec

    seen_ids: set[int] = set()
    for message in feed["messages"]:
        try:
            _process_message(catalog, book, seller_id, marketplaces, message, seen_ids, now, regional_quantity, run)
        except _MessageRejected:
            run.invalid += 1
    outcome = _report(header, run, processed=len(feed["messages"]))
    if report_spec:
        included = set(report_spec["includedData"])
        outcome["items"] = [listings_item(m["sku"], listings, included) for m, listings in run.accepted if listings]
        outcome["summary"]["itemSummary"] = {"items": len(outcome["items"]), "errors": 0, "warnings": 0}
    return FeedOutcome("DONE", outcome)


def _report(header: dict[str, Any], run: _Run, processed: int) -> dict[str, Any]:
    return {
        "header": header,
        "issues": run.issues,
        "summary": {
            "errors": sum(1 for i in run.issues if i["severity"] == "ERROR"),
            "warnings": sum(1 for i in run.issues if i["severity"] == "WARNING"),
            "messagesProcessed": processed,
            "messagesAccepted": len(run.accepted),
            "messagesInvalid": run.invalid,
        },
    }


def _process_message(
    catalog: ModelCatalog,
    book: ListingBook,
    seller_id: str,
    marketplaces: list[Marketplace],
    message: dict[str, Any],
    seen_ids: set[int],
    now: datetime,
    regional_quantity: bool,
    run: _Run,
) -> None:
    errors = catalog.feed_message_errors(message)
    if errors:
        for error in errors:
            run.issue(message, CODE_INVALID_VALUE, f"The message does not conform to the feed schema: {error}")
        raise _MessageRejected
    if message["messageId"] in seen_ids:
        run.issue(message, CODE_INVALID_VALUE, f"messageId {message['messageId']} is used by more than one message.")
        raise _MessageRejected
    seen_ids.add(message["messageId"])
    sku = message["sku"]
    operation = message["operationType"]

    listings = []
    for marketplace in marketplaces:
        listing = book.get(seller_id, marketplace.marketplace_id, sku)
        if listing is None:
            run.issue(
                message,
                CODE_UNKNOWN_SKU,
                unknown_sku_message(sku, marketplace.marketplace_id),
            )
        else:
            listings.append(listing)
    if len(listings) < len(marketplaces):
        raise _MessageRejected

    if operation == "DELETE":
        for marketplace in marketplaces:
            book.delete(seller_id, marketplace.marketplace_id, sku)
        run.accepted.append((message, []))
        return
    if operation == "PATCH":
        quantities = [_patch_quantity(patch, message, run) for patch in message["patches"]]
    else:  # UPDATE and PARTIAL_UPDATE carry attributes; only fulfillment availability is modelled
        availability = message["attributes"].get("fulfillment_availability")
        patch = {"op": "replace", "path": QUANTITY_PATH, "value": availability}
        quantities = [_patch_quantity(patch, message, run)] if availability is not None else []
    for quantity in quantities:
        if quantity is not None:
            for marketplace in marketplaces:
                book.set_quantity(seller_id, marketplace, sku, quantity, now, regional=regional_quantity)
    run.accepted.append((message, listings))


class PatchProblem(ValueError):
    """A fulfillment-availability patch Amazon would refuse, with the issue code it would give."""

    def __init__(self, code: str, text: str, attribute: str) -> None:
        super().__init__(text)
        self.code = code
        self.text = text
        self.attribute = attribute


def quantity_from_patch(patch: dict[str, Any]) -> int | None:
    """The DEFAULT-channel quantity a patch sets, None if it does not touch it; `PatchProblem` if bad."""
    if patch["path"] != QUANTITY_PATH:
        return None
    if patch["op"] == "delete":
        return 0
    value = patch.get("value")
    if not isinstance(value, list) or not value:
        raise PatchProblem(
            CODE_MISSING_VALUE, "'fulfillment_availability' is required but not supplied.", "fulfillment_availability"
        )
    quantity = None
    for entry in value:
        channel = entry.get("fulfillment_channel_code") if isinstance(entry, dict) else None
        if not isinstance(channel, str) or not channel:
            raise PatchProblem(
                CODE_MISSING_VALUE,
                "'fulfillment_channel_code' is required but not supplied.",
                "fulfillment_availability",
            )
        if channel != "DEFAULT":
            continue  # Amazon-fulfilled channels: their quantity is Amazon's to count
        candidate = entry.get("quantity")
        if isinstance(candidate, bool) or not isinstance(candidate, int) or candidate < 0:
            raise PatchProblem(
                CODE_INVALID_VALUE,
                f"The provided value for 'Quantity' is invalid: {candidate!r} (a whole number of at least 0).",
                "fulfillment_availability",
            )
        quantity = candidate
    return quantity


def _patch_quantity(patch: dict[str, Any], message: dict[str, Any], run: _Run) -> int | None:
    try:
        return quantity_from_patch(patch)
    except PatchProblem as problem:
        run.issue(message, problem.code, problem.text)
        raise _MessageRejected from None
