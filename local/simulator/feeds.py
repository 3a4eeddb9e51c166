"""Processing a `JSON_LISTINGS_FEED`, as Amazon does, into a processing report.

The envelope (header, 1 to 25,000 messages) is checked against `listings-feed-schema-v2.json`; a feed
that fails it, is not JSON, names another seller or carries more messages than Amazon takes is FATAL. Each
message is then checked on its own, so one bad message is an ERROR issue for its `messageId` and the rest still
apply. Quantity goes through `/attributes/fulfillment_availability` (see `availability.py`). SKUs are matched
exactly: a SKU that differs from a listing only in case is an unknown SKU.

Issues tie to messages by `messageId`; the processing report schema makes `sku` optional, and Amazon leaves it
out of message-level errors: a message that fails the schema (4002008, amzn/selling-partner-api-docs#1098), an
unknown product type (4000003, amzn/selling-partner-api-models#5241), an availability entry without its channel
(`BAD_REQUEST`, #4554). Listing-level problems (an unknown SKU, a bad quantity) name the SKU, as the schema's
example issues do.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from .availability import (
    AVAILABILITY_PATH,
    CODE_INVALID_VALUE,
    AvailabilityPatch,
    MissingChannelCode,
    PatchProblem,
    availability_patch,
)
from .listings import ListingBook, listings_item
from .marketplaces import Marketplace
from .models import ModelCatalog
from .state import Listing

# "Items per request increases from 10,000 to 25,000 per feed" (changelog of 6 May 2025, "Update: Feed size and
# rate limit changes for the JSON_LISTINGS_FEED"); over the limit Amazon answers "feed messages list beyond
# allowed size" (amzn/selling-partner-api-models#4097) when it processes the feed.
MAX_MESSAGES = 25_000
TOO_MANY_MESSAGES = "feed messages list beyond allowed size"
CODE_UNKNOWN_SKU = "13013"
CODE_FEED_REJECTED = "4000000"
CODE_SCHEMA = "4002008"
SCHEMA_MESSAGE = "The provided message did not meet the schema validation requirements for a feed message."
CODE_PRODUCT_TYPE = "4000003"
PRODUCT_TYPE_MESSAGE = "The Amazon product type specified is invalid or not supported."
CODE_BAD_REQUEST = "BAD_REQUEST"
BAD_REQUEST_MESSAGE = "Invalid parameters provided."
# The Feeds model's words for processingStatus FATAL, for a feed aborted on demand (a `kind: fatal` fault).
FATAL_MESSAGE = "The feed was aborted due to a fatal error."
# Amazon's product type names (`LUGGAGE`, `SHOES`, `PRODUCT`): the simulator holds no catalogue of them, so a name
# of another form stands for one Amazon does not know.
PRODUCT_TYPE = re.compile(r"^[A-Z][A-Z0-9_]*$")


def unknown_sku_message(sku: str, marketplace_id: str) -> str:
    return f"The SKU '{sku}' does not match any listing of this seller in marketplace {marketplace_id}."


def known_product_type(name: Any) -> bool:
    return isinstance(name, str) and PRODUCT_TYPE.match(name) is not None


@dataclass
class FeedOutcome:
    status: str  # "DONE" | "FATAL"
    report: dict[str, Any]


@dataclass
class _Run:
    issues: list[dict[str, Any]] = field(default_factory=list)
    accepted: list[tuple[dict[str, Any], list[Listing]]] = field(default_factory=list)
    invalid: int = 0

    def issue(
        self, message: dict[str, Any] | None, code: str, text: str, *, with_sku: bool = True, severity: str = "ERROR"
    ) -> None:
        issue: dict[str, Any] = {"code": code, "severity": severity, "message": text}
        if message is not None:
            if isinstance(message.get("messageId"), int) and message["messageId"] >= 1:
                issue["messageId"] = message["messageId"]
            if with_sku and isinstance(message.get("sku"), str) and message["sku"]:
                issue["sku"] = message["sku"]
        self.issues.append(issue)


class _MessageRejected(Exception):
    pass


def aborted_feed(seller_id: str, feed_id: str, text: str) -> FeedOutcome:
    """A feed Amazon aborts before any message: FATAL, with a processing report that says why."""
    run = _Run()
    run.issue(None, CODE_FEED_REJECTED, text)
    return FeedOutcome("FATAL", _report({"sellerId": seller_id, "version": "2.0", "feedId": feed_id}, run, 0))


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
    def fatal(text: str) -> FeedOutcome:
        return aborted_feed(seller_id, feed_id, text)

    if not content:
        return fatal("The feed document is empty or was never uploaded.")
    try:
        feed = json.loads(content.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        return fatal(f"The feed document is not valid UTF-8 JSON: {exc}.")
    messages = feed.get("messages") if isinstance(feed, dict) else None
    if isinstance(messages, list) and len(messages) > MAX_MESSAGES:
        return fatal(TOO_MANY_MESSAGES)
    envelope_errors = catalog.feed_envelope_errors(feed)
    if envelope_errors:
        return fatal("The feed does not conform to the JSON_LISTINGS_FEED schema (v2.0): " + "; ".join(envelope_errors))
    if feed["header"]["sellerId"] != seller_id:
        return fatal(
            f"The sellerId '{feed['header']['sellerId']}' in the feed header is not the authorised selling partner."
        )
    header = {"sellerId": seller_id, "version": "2.0", "feedId": feed_id}
    report_spec = feed["header"].get("report")
    if report_spec:
        header["report"] = report_spec
    run = _Run()

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
    _check_message(catalog, message, seen_ids, run)
    sku = message["sku"]
    listings = []
    for marketplace in marketplaces:
        listing = book.get(seller_id, marketplace.marketplace_id, sku)
        if listing is None:
            run.issue(message, CODE_UNKNOWN_SKU, unknown_sku_message(sku, marketplace.marketplace_id))
        else:
            listings.append(listing)
    if len(listings) < len(marketplaces):
        raise _MessageRejected

    if message["operationType"] == "DELETE":
        for marketplace in marketplaces:
            book.delete(seller_id, marketplace.marketplace_id, sku)
        run.accepted.append((message, []))
        return
    # Every patch is checked before any applies: a refused message changes nothing.
    patches = [_availability(patch, message, run) for patch in _availability_patches(message)]
    for patch in patches:
        if patch is not None:
            for marketplace in marketplaces:
                book.apply_availability(seller_id, marketplace, sku, patch, now, regional=regional_quantity)
    run.accepted.append((message, listings))


def _check_message(catalog: ModelCatalog, message: dict[str, Any], seen_ids: set[int], run: _Run) -> None:
    """The message-level checks, before any listing is looked at: the schema, a unique messageId, the product
    type. The first and the last are Amazon's message-level errors and carry no `sku`."""
    if catalog.feed_message_errors(message):
        run.issue(message, CODE_SCHEMA, SCHEMA_MESSAGE, with_sku=False)
        raise _MessageRejected
    if message["messageId"] in seen_ids:
        run.issue(message, CODE_INVALID_VALUE, f"messageId {message['messageId']} is used by more than one message.")
        raise _MessageRejected
    seen_ids.add(message["messageId"])
    if message["operationType"] != "DELETE" and not known_product_type(message["productType"]):
        run.issue(message, CODE_PRODUCT_TYPE, PRODUCT_TYPE_MESSAGE, with_sku=False)
        raise _MessageRejected


def _availability_patches(message: dict[str, Any]) -> list[dict[str, Any]]:
    """The message's patches. UPDATE and PARTIAL_UPDATE carry attributes instead ("PARTIAL_UPDATE is equivalent to
    using PATCH with the replace op", listings-feed-schema-v2.json); only fulfillment availability is modelled."""
    if message["operationType"] == "PATCH":
        patches: list[dict[str, Any]] = message["patches"]
        return patches
    availability = message["attributes"].get("fulfillment_availability")
    return [] if availability is None else [{"op": "replace", "path": AVAILABILITY_PATH, "value": availability}]


def _availability(patch: dict[str, Any], message: dict[str, Any], run: _Run) -> AvailabilityPatch | None:
    try:
        return availability_patch(patch)
    except MissingChannelCode:
        run.issue(message, CODE_BAD_REQUEST, BAD_REQUEST_MESSAGE, with_sku=False)
        raise _MessageRejected from None
    except PatchProblem as problem:
        run.issue(message, problem.code, problem.text)
        raise _MessageRejected from None
