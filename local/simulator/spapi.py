"""The SP-API operations the simulator serves, each answering as Amazon does.

A handler takes a `Call` (the authorised seller, typed query parameters from the model, the parsed
body) and returns a `Reply` or raises `SpApiError`. The HTTP layer (`app.py`) does auth, rate limits,
faults, headers and the call log around it.
"""

from __future__ import annotations

import gzip
import json
import re
import secrets
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from .availability import AvailabilityPatch, PatchProblem, availability_patch
from .call import Call, Handler, Reply
from .core import PageCursor, Simulator
from .errors import SpApiError, invalid_input, not_found
from .feeds import (
    CODE_PRODUCT_TYPE,
    CODE_UNKNOWN_SKU,
    FATAL_MESSAGE,
    PRODUCT_TYPE_MESSAGE,
    FeedOutcome,
    aborted_feed,
    known_product_type,
    process_listings_feed,
    unknown_sku_message,
)
from .listings import listings_item
from .marketplaces import Marketplace, by_id
from .orders import (
    FULFILLED_BY,
    V0_TO_2026_STATUS,
    Disclosure,
    order_2026,
    order_address_v0,
    order_item_v0,
    order_v0,
)
from .reports import FATAL_REPORT_MESSAGE, SUPPORTED_REPORT_TYPES, all_listings_tsv, fatal_report_document
from .roles import DIRECT_TO_CONSUMER_DELIVERY
from .state import (
    SHIPPABLE_STATUSES,
    V0_ORDER_STATUSES,
    Document,
    Feed,
    Listing,
    Order,
    Processing,
    Report,
    Seller,
    Shipment,
)
from .times import iso, parse_iso
from .tokens import create_restricted_data_token

PACKAGE_REFERENCE_ID = re.compile(r"^[1-9]\d*$")
MAX_SEARCHABLE_LISTINGS = 1000  # searchListingsItems pages through at most 1,000 SKUs


# Amazon's answer to a JSON_LISTINGS_FEED naming several marketplaces (amzn/selling-partner-api-models#4726);
# SPEC §1.1 gives a patch the same answer.
TOO_MANY_MARKETPLACES = "Too many 'marketplaceIds' values provided. Expected a maximum of 1."


# --- shared checks ---------------------------------------------------------------------------------------


def _one_marketplace(ids: list[str]) -> None:
    """A listings feed or a patch acts on one marketplace. The code of the refusal is not in the thread; it is the
    Listings and Feeds APIs' code for a bad parameter (`InvalidInput`, "Invalid 'marketplaceIds' provided.",
    amzn/selling-partner-api-models#3970), with its empty `details`."""
    if len(ids) > 1:
        raise SpApiError(400, "InvalidInput", TOO_MANY_MARKETPLACES, "")


def _seller_marketplaces(seller: Seller, ids: list[str], name: str) -> list[Marketplace]:
    found = []
    for marketplace_id in ids:
        marketplace = by_id(marketplace_id)
        if marketplace is None:
            raise invalid_input(f"Invalid {name}: '{marketplace_id}' is not a marketplace id.")
        if marketplace not in seller.marketplaces:
            raise invalid_input(f"Invalid {name}: the seller is not registered in marketplace '{marketplace_id}'.")
        if marketplace not in found:
            found.append(marketplace)
    return found


def _body_checked(call: Call, message: str = "The input you have submitted is not valid.") -> dict[str, Any]:
    errors = call.sim.catalog.body_errors(call.op, call.body)
    if errors:
        raise invalid_input(message, "; ".join(errors))
    body: dict[str, Any] = call.body
    return body


def _new_cursor(call: Call, signature: tuple[Any, ...], ids: list[str], offset: int, **extra: Any) -> str:
    token = secrets.token_urlsafe(24)
    call.sim.cursors[token] = PageCursor(call.seller.seller_id, call.op.key, signature, ids, offset, dict(extra))
    return token


def _cursor(call: Call, token: str, name: str) -> PageCursor:
    cursor = call.sim.cursors.get(token)
    if cursor is None or cursor.seller_id != call.seller.seller_id or cursor.operation != call.op.key:
        raise invalid_input(f"Invalid {name}.")
    return cursor


@dataclass(frozen=True)
class Window:
    field: str  # "created" | "updated"
    after: datetime
    before: datetime


def _window(call: Call, names: tuple[str, str, str, str]) -> Window:
    """Amazon's date rules: exactly one kind (created or last-updated); a `…Before` bound is optional, not
    before its `…After`, and at least two minutes before now."""
    created_after, created_before, updated_after, updated_before = (call.query.get(n) for n in names)
    n_ca, n_cb, n_ua, n_ub = names
    if created_after is None and updated_after is None:
        raise invalid_input(f"Either {n_ca} or {n_ua} must be specified.")
    if created_after is not None and (updated_after is not None or updated_before is not None):
        raise invalid_input(f"{n_ua} and {n_ub} cannot be set when {n_ca} is set.")
    if updated_after is not None and created_before is not None:
        raise invalid_input(f"{n_ca} and {n_cb} cannot be set when {n_ua} is set.")
    if created_after is not None:
        kind, after_name, before_name, after_raw, before_raw = "created", n_ca, n_cb, created_after, created_before
    else:
        kind, after_name, before_name, after_raw, before_raw = "updated", n_ua, n_ub, updated_after, updated_before
    now = call.sim.now()
    after = _date_param(after_name, after_raw)
    if after > now:
        raise invalid_input(f"{after_name} cannot be in the future.")
    if before_raw is None:
        return Window(kind, after, now)
    before = _date_param(before_name, before_raw)
    if before < after:
        raise invalid_input(f"{before_name} must be equal to or after {after_name}.")
    if before > now - timedelta(minutes=2):
        raise invalid_input(f"{before_name} must be at least two minutes before the current time.")
    return Window(kind, after, before)


def _date_param(name: str, value: str) -> datetime:
    try:
        return parse_iso(value)
    except ValueError:
        raise invalid_input(f"{name} must be a date-time in ISO 8601 format, got '{value}'.") from None


def _orders_in(call: Call, marketplaces: list[Marketplace], window: Window) -> list[Order]:
    ids = {m.marketplace_id for m in marketplaces}
    orders = call.sim.orders.get(call.seller.seller_id, {}).values()

    def moment(order: Order) -> datetime:
        return order.purchase_date if window.field == "created" else order.last_update_date

    found = [o for o in orders if o.marketplace.marketplace_id in ids and window.after <= moment(o) <= window.before]
    return sorted(found, key=lambda o: (moment(o), o.amazon_order_id))


def _order(call: Call, order_id: str) -> Order:
    order = call.sim.orders.get(call.seller.seller_id, {}).get(order_id)
    if order is None:
        raise not_found(f"The order '{order_id}' was not found for this seller.")
    return order


# --- Orders v0 ---------------------------------------------------------------------------------------------


def _v0_disclosure(call: Call) -> Disclosure:
    """v0 shows buyer data only to a Restricted Data Token naming it (`shippingAddress`, `buyerInfo`), for an
    app that still holds the Direct-to-Consumer Delivery role."""
    entitled = DIRECT_TO_CONSUMER_DELIVERY in call.seller.roles
    return Disclosure(
        address=entitled and "shippingAddress" in call.data_elements,
        buyer=entitled and "buyerInfo" in call.data_elements,
        as_of=call.sim.now(),
    )


def get_orders(call: Call) -> Reply:
    query = call.query
    marketplaces = _seller_marketplaces(call.seller, query["MarketplaceIds"], "MarketplaceIds")
    page_size = query.get("MaxResultsPerPage", 100)
    if not 1 <= page_size <= 100:
        raise invalid_input("MaxResultsPerPage must be between 1 and 100.")
    token = query.get("NextToken")
    if token is not None:
        cursor = _cursor(call, token, "NextToken")
        ids, offset, bound = cursor.ids, cursor.offset, cursor.extra["bound"]
    else:
        window = _window(call, ("CreatedAfter", "CreatedBefore", "LastUpdatedAfter", "LastUpdatedBefore"))
        orders = _v0_filtered(query, _orders_in(call, marketplaces, window))
        ids, offset = [o.amazon_order_id for o in orders], 0
        bound = ("CreatedBefore" if window.field == "created" else "LastUpdatedBefore", iso(window.before))
    book = call.sim.orders.get(call.seller.seller_id, {})
    page = [book[i] for i in ids[offset : offset + page_size] if i in book]
    disclosure = _v0_disclosure(call)
    payload: dict[str, Any] = {"Orders": [order_v0(o, disclosure) for o in page], bound[0]: bound[1]}
    if offset + page_size < len(ids):
        payload["NextToken"] = _new_cursor(call, (), ids, offset + page_size, bound=bound)
    return Reply(200, {"payload": payload})


def _v0_filtered(query: dict[str, Any], orders: list[Order]) -> list[Order]:
    statuses = query.get("OrderStatuses")
    if statuses:
        unknown = [s for s in statuses if s not in V0_ORDER_STATUSES]
        if unknown:
            raise invalid_input(f"Invalid OrderStatuses: {', '.join(unknown)}.")
        orders = [o for o in orders if o.status in statuses]
    channels = query.get("FulfillmentChannels")
    if channels:
        if any(c not in ("AFN", "MFN") for c in channels):
            raise invalid_input("FulfillmentChannels must be AFN or MFN.")
        orders = [o for o in orders if o.fulfillment_channel in channels]
    if query.get("AmazonOrderIds"):
        orders = [o for o in orders if o.amazon_order_id in query["AmazonOrderIds"]]
    if query.get("SellerOrderId"):
        orders = [o for o in orders if o.seller_order_id == query["SellerOrderId"]]
    if query.get("EasyShipShipmentStatuses"):
        orders = [o for o in orders if o.easy_ship_status in query["EasyShipShipmentStatuses"]]
    if "IsISPU" in query:
        orders = [o for o in orders if o.is_ispu == query["IsISPU"]]
    return orders


def get_order_v0(call: Call) -> Reply:
    return Reply(200, {"payload": order_v0(_order(call, call.path_args["orderId"]), _v0_disclosure(call))})


def get_order_address(call: Call) -> Reply:
    """getOrderAddress takes no data elements: an RDT for its path opens the whole address."""
    order = _order(call, call.path_args["orderId"])
    entitled = call.restricted and DIRECT_TO_CONSUMER_DELIVERY in call.seller.roles
    disclosure = Disclosure(address=entitled, as_of=call.sim.now())
    return Reply(200, {"payload": order_address_v0(order, disclosure)})


def get_order_items(call: Call) -> Reply:
    order = _order(call, call.path_args["orderId"])
    page_size = call.sim.config.order_items_page_size
    token = call.query.get("NextToken")
    offset = 0
    if token is not None:
        cursor = _cursor(call, token, "NextToken")
        if cursor.extra.get("order_id") != order.amazon_order_id:
            raise invalid_input("Invalid NextToken: it belongs to another order.")
        offset = cursor.offset
    items = order.items[offset : offset + page_size]
    disclosure = _v0_disclosure(call)
    payload: dict[str, Any] = {
        "AmazonOrderId": order.amazon_order_id,
        "OrderItems": [order_item_v0(order, item, disclosure) for item in items],
    }
    if offset + page_size < len(order.items):
        payload["NextToken"] = _new_cursor(call, (), [], offset + page_size, order_id=order.amazon_order_id)
    return Reply(200, {"payload": payload})


def confirm_shipment(call: Call) -> Reply:
    """Records a package. A repeat of a package reference already confirmed for the order is accepted
    (204) when it describes the same package, so a retry after a lost answer is harmless; the same
    reference with different contents is refused."""
    order = _order(call, call.path_args["orderId"])
    body = _body_checked(call)
    detail = body["packageDetail"]
    reference = detail["packageReferenceId"]
    if not PACKAGE_REFERENCE_ID.match(reference):
        raise invalid_input("PackageReferenceId: is invalid, must be a positive numeric value.")
    if body["marketplaceId"] != order.marketplace.marketplace_id:
        raise invalid_input(
            f"marketplaceId '{body['marketplaceId']}' is not the marketplace of order {order.amazon_order_id}."
        )
    if not detail["carrierCode"].strip():
        raise invalid_input("carrierCode is required.")
    if detail["carrierCode"] == "Other" and not (detail.get("carrierName") or "").strip():
        raise invalid_input("carrierName is required when carrierCode is Other.")
    if not detail["trackingNumber"].strip():
        raise invalid_input("trackingNumber is required.")
    _date_param("shipDate", detail["shipDate"])
    if not detail["orderItems"]:
        raise invalid_input("packageDetail.orderItems must list at least one order item.")
    quantities: dict[str, int] = {}
    for line in detail["orderItems"]:
        if order.item(line["orderItemId"]) is None:
            raise invalid_input(
                f"OrderItemId {line['orderItemId']} is invalid, please obtain the value through the getOrderItems API "
                "or Manage Orders page"
            )
        if line["quantity"] < 1:
            raise invalid_input(f"quantity for OrderItemId {line['orderItemId']} must be at least 1.")
        quantities[line["orderItemId"]] = quantities.get(line["orderItemId"], 0) + line["quantity"]
    shipment = Shipment(
        package_reference_id=reference,
        carrier_code=detail["carrierCode"],
        carrier_name=detail.get("carrierName"),
        shipping_method=detail.get("shippingMethod"),
        tracking_number=detail["trackingNumber"],
        ship_date=detail["shipDate"],
        items=sorted(quantities.items()),
        confirmed_at=call.sim.now(),
    )
    existing = next((s for s in order.shipments if s.package_reference_id == reference), None)
    if existing is not None:
        same = (existing.items, existing.carrier_code, existing.tracking_number) == (
            shipment.items,
            shipment.carrier_code,
            shipment.tracking_number,
        )
        if not same:
            raise invalid_input(
                f"PackageReferenceId {reference} was already confirmed for order {order.amazon_order_id} "
                "with different contents."
            )
        existing.repeats += 1
        return Reply(204)
    if order.fulfillment_channel != "MFN":
        raise invalid_input("Shipments of Amazon-fulfilled (AFN) orders cannot be confirmed by the seller.")
    if order.status == "Canceled":
        raise invalid_input(f"Order {order.amazon_order_id} has been cancelled and cannot be shipped.")
    if order.status not in SHIPPABLE_STATUSES and order.status != "Shipped":
        raise invalid_input(f"Order {order.amazon_order_id} is {order.status} and cannot be shipped yet.")
    for item_id, quantity in quantities.items():
        item = order.item(item_id)
        assert item is not None
        left = item.quantity_ordered - order.shipped(item_id)
        if quantity > left:
            raise invalid_input(
                f"Quantity {quantity} for OrderItemId {item_id} exceeds the quantity left to ship ({left})."
            )
    order.shipments.append(shipment)
    order.status = "Shipped" if order.units_unshipped() == 0 else "PartiallyShipped"
    order.last_update_date = call.sim.now()
    return Reply(204)


# --- Orders 2026-01-01 ------------------------------------------------------------------------------------------


def _disclosure_2026(call: Call) -> Disclosure:
    """2026-01-01 needs no RDT: the app's Direct-to-Consumer Delivery role opens the buyer data ("Access
    Orders PII"; Orders API Migration Guide: "Role-based permissions replace Restricted Data Token")."""
    entitled = DIRECT_TO_CONSUMER_DELIVERY in call.seller.roles
    return Disclosure(address=entitled, buyer=entitled, as_of=call.sim.now())


def search_orders(call: Call) -> Reply:
    query = call.query
    included = set(query.get("includedData", []))
    page_size = query.get("maxResultsPerPage", 100)
    if not 1 <= page_size <= 100:
        raise invalid_input("maxResultsPerPage must be between 1 and 100.")
    # Everything but the page size, the data sets and the token must repeat with a paginationToken.
    signature = tuple(
        (name, tuple(value) if isinstance(value, list) else value)
        for name, value in sorted(query.items())
        if name not in ("maxResultsPerPage", "includedData", "paginationToken")
    )
    token = query.get("paginationToken")
    if token is not None:
        cursor = _cursor(call, token, "paginationToken")
        if cursor.signature != signature:
            raise invalid_input(
                "The paginationToken was issued for other search parameters: all parameters except "
                "maxResultsPerPage and includedData must have the values of the request that returned it."
            )
        ids, offset, bound = cursor.ids, cursor.offset, cursor.extra["bound"]
    else:
        ids_in = query.get("marketplaceIds")
        marketplaces = (
            _seller_marketplaces(call.seller, ids_in, "marketplaceIds") if ids_in else call.seller.marketplaces
        )
        window = _window(call, ("createdAfter", "createdBefore", "lastUpdatedAfter", "lastUpdatedBefore"))
        orders = _orders_in(call, marketplaces, window)
        if query.get("fulfillmentStatuses"):
            orders = [o for o in orders if V0_TO_2026_STATUS[o.status] in query["fulfillmentStatuses"]]
        if query.get("fulfilledBy"):
            orders = [o for o in orders if FULFILLED_BY[o.fulfillment_channel] in query["fulfilledBy"]]
        ids, offset = [o.amazon_order_id for o in orders], 0
        bound = ("createdBefore" if window.field == "created" else "lastUpdatedBefore", iso(window.before))
    book = call.sim.orders.get(call.seller.seller_id, {})
    page = [book[i] for i in ids[offset : offset + page_size] if i in book]
    disclosure = _disclosure_2026(call)
    body: dict[str, Any] = {"orders": [order_2026(o, included, disclosure) for o in page], bound[0]: bound[1]}
    if offset + page_size < len(ids):
        body["pagination"] = {"nextToken": _new_cursor(call, signature, ids, offset + page_size, bound=bound)}
    return Reply(200, body)


def get_order_2026(call: Call) -> Reply:
    order = _order(call, call.path_args["orderId"])
    included = set(call.query.get("includedData", []))
    return Reply(200, {"order": order_2026(order, included, _disclosure_2026(call))})


# --- Feeds 2021-06-30 -------------------------------------------------------------------------------------------


def create_feed_document(call: Call) -> Reply:
    body = _body_checked(call, "Invalid request parameters.")
    content_type = body["contentType"].strip()
    if not content_type:
        raise invalid_input("contentType is required.")
    document = call.sim.new_document(call.seller, "feed_input", content_type, None, None)
    return Reply(
        201, {"feedDocumentId": document.document_id, "url": f"{call.base_url}/_sim/uploads/{document.document_id}"}
    )


def get_feed_document(call: Call) -> Reply:
    document = call.sim.documents.get(call.path_args["feedDocumentId"])
    if document is None or document.seller_id != call.seller.seller_id or document.kind == "report":
        raise not_found("The requested feed document was not found.")
    return Reply(200, _document_body(call, document, "feedDocumentId"))


def _document_body(call: Call, document: Document, id_name: str) -> dict[str, Any]:
    document.issued_real = call.sim.real_clock()
    url = f"{call.base_url}/_sim/downloads/{document.document_id}"
    if document.compression and call.query.get("enableContentEncodingUrlHeader"):
        url += "?contentEncoding=gzip"
    body = {id_name: document.document_id, "url": url}
    if document.compression:
        body["compressionAlgorithm"] = document.compression
    return body


def create_feed(call: Call) -> Reply:
    body = _body_checked(call, "Invalid request parameters.")
    if body["feedType"] != "JSON_LISTINGS_FEED":
        raise invalid_input(
            f"Feed type '{body['feedType']}' is not accepted: the XML and flat-file listings feeds were removed on "
            "2025-06-30; use JSON_LISTINGS_FEED."
        )
    _one_marketplace(body["marketplaceIds"])
    marketplaces = _seller_marketplaces(call.seller, body["marketplaceIds"], "marketplaceIds")
    document = call.sim.documents.get(body["inputFeedDocumentId"])
    if document is None or document.seller_id != call.seller.seller_id or document.kind != "feed_input":
        raise invalid_input(f"Invalid inputFeedDocumentId '{body['inputFeedDocumentId']}'.")
    _feed_type_quota(call, body["feedType"], marketplaces[0])
    feed = Feed(
        feed_id=str(50_000_000_000 + call.sim.next_id()),
        seller_id=call.seller.seller_id,
        feed_type=body["feedType"],
        marketplace_ids=[m.marketplace_id for m in marketplaces],
        input_document_id=document.document_id,
        # Amazon reads the document when the feed is created; a later upload to the same url is ignored.
        input_content=document.content,
        created=call.sim.now(),
        created_sim=call.sim.sim_clock.now(),
        fatal_message=_fatal_message(call, FATAL_MESSAGE),
    )
    call.sim.feeds[feed.feed_id] = feed
    return Reply(202, {"feedId": feed.feed_id})


def _feed_type_quota(call: Call, feed_type: str, marketplace: Marketplace) -> None:
    """The feed type's own limit, per seller and region, when rate limits are enforced. Only a submission Amazon
    would accept takes a token. Amazon's answer to it is createFeed's 429 (amzn/selling-partner-api-models#4414,
    a JSON_LISTINGS_FEED over its quota)."""
    plan = call.sim.feed_type_plan(feed_type)
    if plan is None or not call.sim.enforce_rate_limits:
        return
    if not call.sim.rate_limiter.try_acquire(call.seller.seller_id, f"{feed_type}@{marketplace.region}", plan):
        raise SpApiError(429, "QuotaExceeded", "You exceeded your quota for the requested resource.", "")


def _fatal_message(call: Call, default: str) -> str | None:
    """Why the feed or report this call makes ends FATAL, when a `kind: fatal` fault hit the call."""
    if call.fault is None:
        return None
    return call.fault.message or default


def _feed(call: Call) -> Feed:
    feed = call.sim.feeds.get(call.path_args["feedId"])
    if feed is None or feed.seller_id != call.seller.seller_id:
        raise not_found("The requested feed was not found.")
    return feed


def get_feed(call: Call) -> Reply:
    feed = _feed(call)
    advance_feed(call.sim, feed)
    feed.polls += 1
    return Reply(200, feed.to_json())


def get_feeds(call: Call) -> Reply:
    query = call.query
    if query.get("nextToken") is None and not query.get("feedTypes"):
        raise invalid_input("Either feedTypes or nextToken is required.")
    settle_seller(call.sim, call.seller.seller_id)
    feeds = [f for f in call.sim.feeds.values() if f.seller_id == call.seller.seller_id]
    if query.get("feedTypes"):
        feeds = [f for f in feeds if f.feed_type in query["feedTypes"]]
    if query.get("processingStatuses"):
        feeds = [f for f in feeds if f.status in query["processingStatuses"]]
    if query.get("marketplaceIds"):
        feeds = [f for f in feeds if set(f.marketplace_ids) & set(query["marketplaceIds"])]
    feeds.sort(key=lambda f: f.created, reverse=True)
    return Reply(200, {"feeds": [f.to_json() for f in feeds[: query.get("pageSize", 10)]]})


def cancel_feed(call: Call) -> Reply:
    feed = _feed(call)
    advance_feed(call.sim, feed, poll=False)
    if feed.status != "IN_QUEUE":
        raise invalid_input(f"Only feeds IN_QUEUE can be cancelled; feed {feed.feed_id} is {feed.status}.")
    feed.status = "CANCELLED"
    feed.ended = call.sim.now()
    return Reply(200)


# How a feed or report is processed (SimConfig): polls that see IN_QUEUE, polls before DONE, simulated seconds.
Pace = tuple[int, int, float]


def _done_processing(sim: Simulator, job: Processing, pace: Pace, *, poll: bool, force: bool) -> bool:
    """Whether an unfinished feed or report is done being processed now: after its pace's polls and simulated
    seconds (at once with `force`). One that is not done yet moves to IN_PROGRESS on a poll past the polls
    that see it IN_QUEUE."""
    polls_in_queue, polls_before_done, processing_seconds = pace
    if job.finished:
        return False
    if force or (job.polls >= polls_before_done and sim.sim_clock.now() - job.created_sim >= processing_seconds):
        return True
    if poll and job.polls >= polls_in_queue:
        job.status = "IN_PROGRESS"
        job.started = job.started or sim.now()
    return False


def advance_feed(sim: Simulator, feed: Feed, *, poll: bool = True, force: bool = False) -> None:
    """Moves a feed along IN_QUEUE -> IN_PROGRESS -> DONE by polls and simulated seconds (SimConfig)."""
    config = sim.config
    pace = (config.feed_polls_in_queue, config.feed_polls_before_done, config.feed_processing_seconds)
    if not _done_processing(sim, feed, pace, poll=poll, force=force):
        return
    seller = sim.sellers.get(feed.seller_id)
    outcome = _feed_outcome(sim, feed)
    feed.started = feed.started or sim.now()
    feed.ended = sim.now()
    feed.status = outcome.status
    feed.report = outcome.report
    if config.validate_responses:
        problems = [e.message for e in sim.catalog.processing_report_validator.iter_errors(outcome.report)]
        if problems:
            sim.contract_violations.append(
                {"operation": "processingReport", "feed_id": feed.feed_id, "problems": problems}
            )
    if seller is not None:
        raw = json.dumps(outcome.report).encode("utf-8")
        document = sim.new_document(seller, "feed_result", "application/json", gzip.compress(raw), "GZIP")
        feed.result_document_id = document.document_id


def _feed_outcome(sim: Simulator, feed: Feed) -> FeedOutcome:
    """Processes the feed, unless a fault aborts it: then nothing applies and its report says why."""
    if feed.fatal_message is not None:
        return aborted_feed(feed.seller_id, feed.feed_id, feed.fatal_message)
    return process_listings_feed(
        catalog=sim.catalog,
        book=sim.book,
        seller_id=feed.seller_id,
        feed_id=feed.feed_id,
        marketplaces=[m for m in (by_id(i) for i in feed.marketplace_ids) if m is not None],
        content=feed.input_content,
        now=sim.now(),
        regional_quantity=sim.config.regional_quantity,
    )


def settle_seller(sim: Simulator, seller_id: str, *, force: bool = False) -> None:
    """Processes every feed and report of a seller that is due (or all of them, with `force`)."""
    for feed in sorted((f for f in sim.feeds.values() if f.seller_id == seller_id), key=lambda f: f.created_sim):
        advance_feed(sim, feed, poll=False, force=force)
    for report in [r for r in sim.reports.values() if r.seller_id == seller_id]:
        advance_report(sim, report, poll=False, force=force)


# --- Reports 2021-06-30 -------------------------------------------------------------------------------------


def create_report(call: Call) -> Reply:
    body = _body_checked(call, "Invalid request parameters.")
    if body["reportType"] not in SUPPORTED_REPORT_TYPES:
        raise invalid_input(
            f"Report type '{body['reportType']}' is not served by this simulator; "
            f"it serves {', '.join(SUPPORTED_REPORT_TYPES)}."
        )
    marketplaces = _seller_marketplaces(call.seller, body["marketplaceIds"], "marketplaceIds")
    report = Report(
        report_id=str(90_000_000_000 + call.sim.next_id()),
        seller_id=call.seller.seller_id,
        report_type=body["reportType"],
        marketplace_ids=[m.marketplace_id for m in marketplaces],
        created=call.sim.now(),
        created_sim=call.sim.sim_clock.now(),
        fatal_message=_fatal_message(call, FATAL_REPORT_MESSAGE),
    )
    call.sim.reports[report.report_id] = report
    return Reply(202, {"reportId": report.report_id})


def get_report(call: Call) -> Reply:
    report = call.sim.reports.get(call.path_args["reportId"])
    if report is None or report.seller_id != call.seller.seller_id:
        raise not_found("The requested report was not found.")
    settle_seller(call.sim, call.seller.seller_id)
    advance_report(call.sim, report)
    report.polls += 1
    return Reply(200, report.to_json())


def advance_report(sim: Simulator, report: Report, *, poll: bool = True, force: bool = False) -> None:
    """Moves a report along IN_QUEUE -> IN_PROGRESS -> DONE, CANCELLED or FATAL by polls and simulated seconds."""
    config = sim.config
    pace = (config.report_polls_in_queue, config.report_polls_before_done, config.report_processing_seconds)
    if not _done_processing(sim, report, pace, poll=poll, force=force):
        return
    report.started = report.started or sim.now()
    report.ended = sim.now()
    seller = sim.sellers.get(report.seller_id)
    if report.fatal_message is not None:
        report.status = "FATAL"
        if seller is not None:
            report.document_id = _report_document(sim, seller, *fatal_report_document(report.fatal_message))
        return
    # A listings report naming several marketplaces holds one of them only: Amazon's developers report that
    # such reports "seem only contain data for 1 seemingly randomly chosen marketplace", while one report per
    # marketplace is complete (selling-partner-api-models #1998, #2941). Here, deterministically, the first.
    listings = list(sim.book.marketplace(report.seller_id, report.marketplace_ids[0]).values())
    if not listings:
        # "an automatic cancellation if there is no data to return" (Reports model, processingStatus CANCELLED):
        # no document.
        report.status = "CANCELLED"
        return
    report.status = "DONE"
    if seller is not None:
        raw = all_listings_tsv(listings).encode(config.report_charset, errors="replace")
        content_type = f"text/tab-separated-values;charset={config.report_charset}"
        report.document_id = _report_document(sim, seller, content_type, raw)


def _report_document(sim: Simulator, seller: Seller, content_type: str, raw: bytes) -> str:
    compression = sim.config.report_compression
    content = gzip.compress(raw) if compression == "GZIP" else raw
    return sim.new_document(seller, "report", content_type, content, compression).document_id


def get_report_document(call: Call) -> Reply:
    document = call.sim.documents.get(call.path_args["reportDocumentId"])
    if document is None or document.seller_id != call.seller.seller_id or document.kind != "report":
        raise not_found("The requested report document was not found.")
    return Reply(200, _document_body(call, document, "reportDocumentId"))


# --- Listings Items 2021-08-01 ----------------------------------------------------------------------------------


def _listings_seller(call: Call) -> None:
    if call.path_args["sellerId"] != call.seller.seller_id:
        raise SpApiError(
            403,
            "Unauthorized",
            "Access to requested resource is denied.",
            "The sellerId is not the authorised selling partner.",
        )


def get_listings_item(call: Call) -> Reply:
    _listings_seller(call)
    marketplaces = _seller_marketplaces(call.seller, call.query["marketplaceIds"], "marketplaceIds")
    settle_seller(call.sim, call.seller.seller_id)
    sku = call.path_args["sku"]
    listings = [x for m in marketplaces if (x := call.sim.book.get(call.seller.seller_id, m.marketplace_id, sku))]
    if not listings:
        ids = ",".join(m.marketplace_id for m in marketplaces)
        raise SpApiError(404, "NOT_FOUND", f"SKU '{sku}' not found in marketplace {ids}")
    included = set(call.query.get("includedData", ["summaries"]))
    return Reply(200, listings_item(sku, listings, included))


def patch_listings_item(call: Call) -> Reply:
    """One marketplace per patch (SPEC §1.1). Amazon was seen acting on one of several marketplaceIds
    (getListingsItem answers for the first only, amzn/selling-partner-api-docs#2362; "The marketplaceIds parameter
    must contain one value", selling-partner-api-docs#888), and its model allows one for putListingsItem and
    deleteListingsItem. The simulator refuses several, as createFeed does, so a patch meant for several
    marketplaces cannot half-succeed unseen."""
    _listings_seller(call)
    _one_marketplace(call.query["marketplaceIds"])
    (marketplace,) = _seller_marketplaces(call.seller, call.query["marketplaceIds"], "marketplaceIds")
    body = _body_checked(call, "Request has missing or invalid parameters and cannot be parsed.")
    preview = call.query.get("mode") == "VALIDATION_PREVIEW"
    included = set(call.query.get("includedData", ["issues"]))
    if "identifiers" in included and not preview:
        raise invalid_input("includedData=identifiers can only be requested with mode=VALIDATION_PREVIEW.")
    settle_seller(call.sim, call.seller.seller_id)
    sku = call.path_args["sku"]
    patches, issues = _listing_patches(call, marketplace, sku, body)
    if issues:
        status = "INVALID"
    elif preview:
        status = "VALID"
    else:
        status = "ACCEPTED"
        for patch in patches:
            call.sim.book.apply_availability(
                call.seller.seller_id,
                marketplace,
                sku,
                patch,
                call.sim.now(),
                regional=call.sim.config.regional_quantity,
            )
    reply: dict[str, Any] = {"sku": sku, "status": status, "submissionId": uuid.uuid4().hex}
    if "issues" in included:
        reply["issues"] = issues
    if "identifiers" in included:
        listing = call.sim.book.get(call.seller.seller_id, marketplace.marketplace_id, sku)
        reply["identifiers"] = [{"marketplaceId": marketplace.marketplace_id, "asin": listing.asin}] if listing else []
    return Reply(200, reply)


def _listing_patches(
    call: Call, marketplace: Marketplace, sku: str, body: dict[str, Any]
) -> tuple[list[AvailabilityPatch], list[dict[str, Any]]]:
    """The fulfillment-availability patches of a patchListingsItem body, or the issues that make it INVALID.
    A product type Amazon does not know: "The Amazon product type specified is invalid or not supported."
    (4000003, amzn/selling-partner-api-models#2427, #5241)."""
    if not known_product_type(body["productType"]):
        return [], [{"code": CODE_PRODUCT_TYPE, "message": PRODUCT_TYPE_MESSAGE, "severity": "ERROR", "categories": []}]
    if call.sim.book.get(call.seller.seller_id, marketplace.marketplace_id, sku) is None:
        issue = {
            "code": CODE_UNKNOWN_SKU,
            "message": unknown_sku_message(sku, marketplace.marketplace_id),
            "severity": "ERROR",
            "categories": [],
            "marketplaceIds": [marketplace.marketplace_id],
        }
        return [], [issue]
    patches: list[AvailabilityPatch] = []
    issues: list[dict[str, Any]] = []
    for patch in body["patches"]:
        try:
            parsed = availability_patch(patch)
        except PatchProblem as problem:
            issues.append(
                {
                    "code": problem.code,
                    "message": problem.text,
                    "severity": "ERROR",
                    "attributeNames": [problem.attribute],
                    "categories": ["INVALID_ATTRIBUTE"],
                }
            )
            continue
        if parsed is not None:
            patches.append(parsed)
    return patches, issues


def search_listings_items(call: Call) -> Reply:
    _listings_seller(call)
    query = call.query
    marketplaces = _seller_marketplaces(call.seller, query["marketplaceIds"], "marketplaceIds")
    included = set(query.get("includedData", ["summaries"]))
    page_size = query.get("pageSize", 10)
    if page_size < 1:
        raise invalid_input("pageSize must be at least 1.")
    identifiers, id_type = query.get("identifiers"), query.get("identifiersType")
    if bool(identifiers) != bool(id_type):
        raise invalid_input("identifiers and identifiersType must be provided together.")
    settle_seller(call.sim, call.seller.seller_id)
    by_sku: dict[str, list[Listing]] = {}
    for marketplace in marketplaces:
        for listing in call.sim.book.marketplace(call.seller.seller_id, marketplace.marketplace_id).values():
            by_sku.setdefault(listing.sku, []).append(listing)
    if identifiers:
        wanted = set(identifiers)
        if id_type == "SKU":
            by_sku = {sku: x for sku, x in by_sku.items() if sku in wanted}
        elif id_type == "ASIN":
            by_sku = {sku: x for sku, x in by_sku.items() if x[0].asin in wanted}
        else:
            by_sku = {}
    token = query.get("pageToken")
    if token is not None:
        cursor = _cursor(call, token, "pageToken")
        skus, offset, total = cursor.ids, cursor.offset, cursor.extra["total"]
    else:
        sort_by, descending = query.get("sortBy", "lastUpdatedDate"), query.get("sortOrder", "DESC") == "DESC"
        keys: dict[str, Callable[[list[Listing]], Any]] = {
            "sku": lambda x: x[0].sku,
            "createdDate": lambda x: (x[0].created, x[0].sku),
            "lastUpdatedDate": lambda x: (max(i.updated for i in x), x[0].sku),
        }
        ordered = sorted(by_sku.values(), key=keys[sort_by], reverse=descending)
        skus, offset, total = [x[0].sku for x in ordered][:MAX_SEARCHABLE_LISTINGS], 0, len(ordered)
    items = []
    for sku in skus[offset : offset + page_size]:
        listings = [x for m in marketplaces if (x := call.sim.book.get(call.seller.seller_id, m.marketplace_id, sku))]
        if listings:
            items.append(listings_item(sku, listings, included))
    body: dict[str, Any] = {"numberOfResults": total, "items": items}
    pagination: dict[str, str] = {}
    if offset + page_size < len(skus):
        pagination["nextToken"] = _new_cursor(call, (), skus, offset + page_size, total=total)
    if offset > 0:
        pagination["previousToken"] = _new_cursor(call, (), skus, max(0, offset - page_size), total=total)
    if pagination:
        body["pagination"] = pagination
    return Reply(200, body)


# --- Sellers ---------------------------------------------------------------------------------------------------


def get_marketplace_participations(call: Call) -> Reply:
    payload = [
        {
            "marketplace": {
                "id": m.marketplace_id,
                "name": m.name,
                "countryCode": m.country_code,
                "defaultCurrencyCode": m.currency,
                "defaultLanguageCode": m.language,
                "domainName": m.domain,
            },
            "participation": {"isParticipating": True, "hasSuspendedListings": False},
            "storeName": call.seller.store_name,
        }
        for m in call.seller.marketplaces
    ]
    return Reply(200, {"payload": payload})


# (method, werkzeug rule, api, operationId, handler)
ROUTES: tuple[tuple[str, str, str, str, Handler], ...] = (
    ("GET", "/orders/v0/orders", "ordersV0", "getOrders", get_orders),
    ("GET", "/orders/v0/orders/<orderId>", "ordersV0", "getOrder", get_order_v0),
    ("GET", "/orders/v0/orders/<orderId>/orderItems", "ordersV0", "getOrderItems", get_order_items),
    ("GET", "/orders/v0/orders/<orderId>/address", "ordersV0", "getOrderAddress", get_order_address),
    ("POST", "/orders/v0/orders/<orderId>/shipmentConfirmation", "ordersV0", "confirmShipment", confirm_shipment),
    ("GET", "/orders/2026-01-01/orders", "orders_2026-01-01", "searchOrders", search_orders),
    ("GET", "/orders/2026-01-01/orders/<orderId>", "orders_2026-01-01", "getOrder", get_order_2026),
    ("POST", "/feeds/2021-06-30/documents", "feeds_2021-06-30", "createFeedDocument", create_feed_document),
    ("GET", "/feeds/2021-06-30/documents/<feedDocumentId>", "feeds_2021-06-30", "getFeedDocument", get_feed_document),
    ("POST", "/feeds/2021-06-30/feeds", "feeds_2021-06-30", "createFeed", create_feed),
    ("GET", "/feeds/2021-06-30/feeds", "feeds_2021-06-30", "getFeeds", get_feeds),
    ("GET", "/feeds/2021-06-30/feeds/<feedId>", "feeds_2021-06-30", "getFeed", get_feed),
    ("DELETE", "/feeds/2021-06-30/feeds/<feedId>", "feeds_2021-06-30", "cancelFeed", cancel_feed),
    ("POST", "/reports/2021-06-30/reports", "reports_2021-06-30", "createReport", create_report),
    ("GET", "/reports/2021-06-30/reports/<reportId>", "reports_2021-06-30", "getReport", get_report),
    (
        "GET",
        "/reports/2021-06-30/documents/<reportDocumentId>",
        "reports_2021-06-30",
        "getReportDocument",
        get_report_document,
    ),
    (
        "GET",
        "/listings/2021-08-01/items/<sellerId>",
        "listingsItems_2021-08-01",
        "searchListingsItems",
        search_listings_items,
    ),
    (
        "GET",
        "/listings/2021-08-01/items/<sellerId>/<path:sku>",
        "listingsItems_2021-08-01",
        "getListingsItem",
        get_listings_item,
    ),
    (
        "PATCH",
        "/listings/2021-08-01/items/<sellerId>/<path:sku>",
        "listingsItems_2021-08-01",
        "patchListingsItem",
        patch_listings_item,
    ),
    (
        "GET",
        "/sellers/v1/marketplaceParticipations",
        "sellers",
        "getMarketplaceParticipations",
        get_marketplace_participations,
    ),
    (
        "POST",
        "/tokens/2021-03-01/restrictedDataToken",
        "tokens_2021-03-01",
        "createRestrictedDataToken",
        create_restricted_data_token,
    ),
)
