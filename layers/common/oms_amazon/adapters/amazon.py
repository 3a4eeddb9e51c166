"""Amazon for the workers: one `SellerAmazon` per seller and region, speaking in the connector's
terms over the SP-API client (`adapters.sp_api`). Built by `amazon_connections.AmazonConnections`; the
orders it returns are translated by `amazon_orders`."""

from __future__ import annotations

import itertools
import json
from collections.abc import Callable, Iterator
from dataclasses import replace
from datetime import UTC, date, datetime

from oms_amazon.adapters.amazon_orders import (
    ORDER_DATA_2026,
    PII_DATA_2026,
    ROLE_NOTE_2026,
    order_from_2026,
    order_from_v0,
    parse_bound,
    v0_pii_note,
)
from oms_amazon.adapters.sp_api import (
    AccessDenied,
    InvalidRequest,
    NotFound,
    SpApiClient,
)
from oms_amazon.adapters.sp_api.builders import MAX_ORDER_IDS, V0_ORDER_PII
from oms_amazon.adapters.sp_api.models import (
    GetOrdersPage,
    SearchOrdersPage,
)
from oms_amazon.adapters.sp_api.pagination import Page, paginate
from oms_amazon.domain.orders import AmazonOrder, OrderPage
from oms_amazon.domain.shipments import Shipment
from oms_amazon.domain.stock_sync import FeedOutcome, Progress, ReportOutcome, SkuError
from oms_amazon.listings_feed import CONTENT_TYPE, FEED_TYPE, listing_rows
from oms_amazon.observability import count, logger


def _progress(processing_status: str) -> Progress:
    if processing_status == "DONE":
        return "done"
    if processing_status in ("CANCELLED", "FATAL"):
        return "failed"
    return "pending"


class SellerAmazon:
    """The Amazon operations stock sync and order import need, for one seller in one region.

    `v0_levels_until`: the day Orders v0 retires; until then a 2026-01-01 import may recover each
    order's free-text `ShipServiceLevel` (which carries the shipping zone, `Std UK Dom_1`) from v0."""

    def __init__(self, client: SpApiClient, *, v0_levels_until: date | None = None) -> None:
        self.client = client
        self._v0_levels_until = v0_levels_until
        self._v0_levels_refused = False

    @property
    def seller_id(self) -> str:
        return self.client.seller_id

    def request_listings_report(self, marketplace_id: str) -> str:
        return self.client.create_report(marketplace_ids=[marketplace_id]).report_id

    def listings_report(self, report_id: str) -> ReportOutcome:
        """Where Amazon's listings report stands. `CANCELLED` is Amazon's "no data" (the seller lists
        nothing there): an empty listing, not a failure. `FATAL` is a failure, with the error
        document's text when Amazon gives one."""
        report = self.client.get_report(report_id)
        state = report.processing_status
        if state in ("IN_QUEUE", "IN_PROGRESS"):
            return ReportOutcome("pending")
        if state == "CANCELLED":
            return ReportOutcome("done", {})
        if state == "DONE" and report.report_document_id is not None:
            # Parsed as it downloads: a large catalogue's report runs to hundreds of megabytes.
            rows = self.client.read_report(report.report_document_id, listing_rows)
            return ReportOutcome("done", rows.merchant, rows.fulfilled_by_amazon)
        reason = f"Amazon ended the listings report {report_id} {state}"
        if report.report_document_id is not None:
            detail = " ".join(self.client.fetch_report_text(report.report_document_id).split())[:300]
            reason += f": {detail}" if detail else ""
        return ReportOutcome("failed", reason=reason + ".")

    def upload_feed(self, content: bytes) -> tuple[str, str]:
        """createFeedDocument + upload: the document id to record before the feed is created, and its URL."""
        upload = self.client.create_feed_document(CONTENT_TYPE)
        self.client.upload_feed_document(upload, content, content_type=CONTENT_TYPE)
        return upload.feed_document_id, upload.url

    def create_feed(self, feed_document_id: str, marketplace_ids: list[str]) -> str:
        return self.client.create_feed(
            feed_type=FEED_TYPE, marketplace_ids=marketplace_ids, input_feed_document_id=feed_document_id
        ).feed_id

    def find_feed(self, created_since: datetime, marketplace_ids: list[str], known: set[str]) -> str | None:
        """The feed this app created for these marketplaces since `created_since` that the connector
        has not recorded: how a worker that died between createFeed and recording its id learns what
        Amazon received. (getFeeds lists only this application's feeds; one worker at a time serves a
        seller and region, so at most one such feed exists.) The creation time is checked here too: a
        feed of an earlier run, reconciled and forgotten, must never stand in for one Amazon never got."""
        pages = paginate(
            lambda token: self.client.get_feeds(feed_types=[FEED_TYPE], created_since=created_since, next_token=token)
        )
        for page in pages:
            for feed in page.feeds:
                if (
                    feed.feed_id not in known
                    and feed.created_time >= created_since
                    and sorted(feed.marketplace_ids) == sorted(marketplace_ids)
                ):
                    return feed.feed_id
        return None

    def feed_outcome(self, feed_id: str) -> FeedOutcome:
        feed = self.client.get_feed(feed_id)
        status = _progress(feed.processing_status)
        if status == "pending" or feed.result_feed_document_id is None:
            return FeedOutcome(status)
        report = json.loads(self.client.fetch_feed_document(feed.result_feed_document_id))
        return FeedOutcome(status, report if isinstance(report, dict) else None)

    def patch_quantity(self, sku: str, marketplace_id: str, product_type: str, quantity: int) -> list[SkuError]:
        """One SKU in one marketplace through patchListingsItem; the errors Amazon found (empty when accepted)."""
        submission = self.client.patch_listing_quantity(
            sku=sku, marketplace_ids=[marketplace_id], quantity=quantity, product_type=product_type
        )
        return [
            SkuError(sku, str(issue.code), str(issue.message))
            for issue in submission.issues or ()
            if str(issue.severity) == "ERROR"
        ]

    def orders_since(
        self,
        marketplace_ids: list[str],
        since: datetime,
        api_version: str,
        already_stored: Callable[[list[tuple[str, datetime]]], set[str]] | None = None,
        *,
        recover_levels: bool = False,
        until: datetime | None = None,
        resume_token: str | None = None,
    ) -> Iterator[OrderPage]:
        """Merchant-fulfilled orders of these marketplaces (one search: both APIs take up to 50) last
        updated after `since` (and before `until`, a backfill's window), a page at a time (stored by the
        caller before the next is fetched), each page with Amazon's upper bound of the window when it says
        and its token for the next page, each order with the buyer's data Amazon lets the app see.
        `resume_token`: the next-page token of an earlier series with the same parameters, to go on where
        it stopped; if Amazon no longer takes it (400), the series starts again from `since`.
        `already_stored` names the orders of a page the caller holds at least as new: on v0 their items
        are not fetched again (one getOrderItems each, at 0.5/s), so the 5-minute overlap costs nothing.
        `recover_levels` (2026-01-01 only, for a client whose mappings use zones): each page's levels are
        read from v0 as well, 50 orders a call."""
        if api_version == "v0":
            yield from self._orders_v0(marketplace_ids, since, already_stored, until, resume_token)
            return
        for page in self._orders_2026(marketplace_ids, since, until, resume_token):
            if recover_levels and page.orders:
                page = replace(page, orders=self._with_v0_levels(page.orders, marketplace_ids, since))
            yield page

    def _orders_v0(
        self,
        marketplace_ids: list[str],
        since: datetime,
        already_stored: Callable[[list[tuple[str, datetime]]], set[str]] | None,
        until: datetime | None = None,
        resume_token: str | None = None,
    ) -> Iterator[OrderPage]:
        def page_of(token: str | None) -> GetOrdersPage:
            return self.client.get_orders(
                marketplace_ids=marketplace_ids,
                last_updated_after=since,
                last_updated_before=until,
                fulfillment_channels=["MFN"],
                with_pii=True,
                next_token=token,
            )

        for page in _resumed(page_of, resume_token):
            known = (
                already_stored([(o.amazon_order_id, o.last_update_date) for o in page.orders])
                if already_stored
                else set()
            )
            # Asked after the page: the RDT was requested for it, so a refusal is known by now.
            note = v0_pii_note(self.client.restricted_data_refusal(V0_ORDER_PII))
            orders = [
                order_from_v0(o, self.client.list_order_items(o.amazon_order_id, with_pii=True), pii_note=note)
                for o in page.orders
                if o.amazon_order_id not in known
            ]
            yield OrderPage(orders, parse_bound(page.last_updated_before), page.next_token or None)

    def _orders_2026(
        self,
        marketplace_ids: list[str],
        since: datetime,
        until: datetime | None = None,
        resume_token: str | None = None,
    ) -> Iterator[OrderPage]:
        note = ROLE_NOTE_2026

        def pages(included: list[str]) -> Callable[[str | None], SearchOrdersPage]:
            return lambda token: self.client.search_orders(
                marketplace_ids=marketplace_ids,
                last_updated_after=since,
                last_updated_before=until,
                fulfilled_by=["MERCHANT"],
                included_data=included,
                pagination_token=token,
            )

        try:
            found = _resumed(pages([*ORDER_DATA_2026, *PII_DATA_2026]), resume_token)
            first = next(found, None)
        except AccessDenied as refused:
            # An app without the Direct-to-Consumer Delivery role may be refused the buyer's data sets
            # outright: read the orders without them; they wait for an address with Amazon's reason.
            note = f"{ROLE_NOTE_2026} Amazon refused includedData=RECIPIENT,BUYER ({refused.status} {refused.code})."
            found = _resumed(pages(list(ORDER_DATA_2026)), resume_token)
            first = next(found, None)
        if first is None:
            return
        for result in itertools.chain([first], found):
            # salesChannel names each order's marketplace; alone, the searched one stands in for it.
            fallback = marketplace_ids[0] if len(marketplace_ids) == 1 else ""
            orders = [order_from_2026(o, fallback, pii_note=note) for o in result.orders]
            yield OrderPage(orders, result.last_updated_before, result.next_token or None)

    def order_by_id(self, order_id: str, api_version: str) -> AmazonOrder:
        """One order, of any age Amazon serves, with its buyer data: what an operator imports by hand."""
        if api_version == "v0":
            order = self.client.get_order_v0(order_id, with_pii=True)
            note = v0_pii_note(self.client.restricted_data_refusal(V0_ORDER_PII))
            return order_from_v0(order, self.client.list_order_items(order_id, with_pii=True), pii_note=note)
        found = self.client.get_order(order_id, included_data=[*ORDER_DATA_2026, *PII_DATA_2026])
        return order_from_2026(found, found.sales_channel.marketplace_id or "", pii_note=ROLE_NOTE_2026)

    def _with_v0_levels(
        self, orders: list[AmazonOrder], marketplace_ids: list[str], since: datetime
    ) -> list[AmazonOrder]:
        """The orders with v0's `ShipServiceLevel` where v0 still answers. Past v0's retirement, or once
        v0 refuses (a 4xx), the orders go on without: their terms come from the category, and zone
        mappings apply when they agree (§6.4)."""
        today = datetime.now(UTC).date()
        if self._v0_levels_refused or self._v0_levels_until is None or today >= self._v0_levels_until:
            return orders
        wanted = [o.amazon_order_id for o in orders if o.fulfillment_channel == "MFN"]
        levels: dict[str, str] = {}
        for start in range(0, len(wanted), MAX_ORDER_IDS):
            try:
                page = self.client.get_orders(
                    marketplace_ids=marketplace_ids,
                    last_updated_after=since,
                    amazon_order_ids=wanted[start : start + MAX_ORDER_IDS],
                    max_results_per_page=MAX_ORDER_IDS,
                )
            except (InvalidRequest, AccessDenied, NotFound) as refused:
                self._v0_levels_refused = True
                logger.warning(
                    "Orders v0 refused the shipping levels; zones come from the mappings",
                    extra={"status": refused.status, "code": refused.code},
                )
                break
            levels.update({o.amazon_order_id: o.ship_service_level for o in page.orders if o.ship_service_level})
        return [
            replace(o, ship_service_level=levels[o.amazon_order_id]) if o.amazon_order_id in levels else o
            for o in orders
        ]

    def confirm_shipment(self, shipment: Shipment, marketplace_id: str) -> None:
        """confirmShipment (Orders v0) for one package. Amazon answers 204, also to a repeat of the same
        package reference with the same content, so a retried confirmation never ships twice."""
        from oms_amazon.adapters.sp_api.models import ConfirmShipmentItem, PackageDetail

        package = PackageDetail(
            package_reference_id=shipment.package_reference_id,
            carrier_code=shipment.carrier_code,
            carrier_name=shipment.carrier_name,
            shipping_method=shipment.shipping_method,
            tracking_number=shipment.tracking_number,
            ship_date=shipment.ship_date,
            items=tuple(ConfirmShipmentItem(line.order_item_id, line.quantity) for line in shipment.lines),
        )
        self.client.confirm_shipment(shipment.amazon_order_id, marketplace_id=marketplace_id, package=package)

    def confirmed_packages(self, order_id: str) -> set[str]:
        """The package references Amazon has on record for an order (getOrder with `PACKAGES`): what
        decides an attempt whose answer was lost."""
        order = self.client.get_order(order_id, included_data=["PACKAGES"])
        return {package.package_reference_id for package in order.packages}


def _resumed[P: Page](fetch: Callable[[str | None], P], resume_token: str | None) -> Iterator[P]:
    """The pages `fetch` gives from `resume_token` on; from the first page again when Amazon no longer
    takes the token (a 400: its validity is not documented), which costs a reread, never an order."""
    found = paginate(fetch, resume_token)
    try:
        first = next(found, None)
    except InvalidRequest as refused:
        if resume_token is None:
            raise
        logger.warning(
            "Amazon refused the saved page token; the search starts again from its window",
            extra={"status": refused.status, "code": refused.code},
        )
        count("OrderSearchTokensRefused")
        found = paginate(fetch)
        first = next(found, None)
    if first is not None:
        yield first
        yield from found
