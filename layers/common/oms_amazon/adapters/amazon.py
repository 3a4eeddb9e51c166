"""Amazon for the workers: one `SellerAmazon` per seller and region, speaking in the connector's
terms over the SP-API client (`adapters.sp_api`). The LWA client, HTTP pool and token buckets are
built once per container and shared by every seller."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from functools import cached_property
from typing import Any

import httpx

from oms_amazon.adapters.sp_api import LwaClient, LwaCredentials, RetryPolicy, SpApiCallEvent, SpApiClient, SpApiConfig
from oms_amazon.adapters.sp_api.models import Order2026, OrderItemV0, OrderV0
from oms_amazon.domain.marketplaces import Marketplace
from oms_amazon.domain.orders import AmazonLine, AmazonOrder, Money
from oms_amazon.domain.shipments import Shipment
from oms_amazon.domain.stock_sync import FeedOutcome, Progress, ReportOutcome, SkuError
from oms_amazon.listings_feed import CONTENT_TYPE, FEED_TYPE, listing_skus
from oms_amazon.observability import count


@dataclass(frozen=True, slots=True)
class AppCredentials:
    client_id: str
    client_secret: str
    application_id: str

    def __repr__(self) -> str:
        return f"AppCredentials(client_id={self.client_id!r}, application_id={self.application_id!r})"


def _progress(processing_status: str) -> Progress:
    if processing_status == "DONE":
        return "done"
    if processing_status in ("CANCELLED", "FATAL"):
        return "failed"
    return "pending"


class SellerAmazon:
    """The Amazon operations stock sync and order import need, for one seller in one region."""

    def __init__(self, client: SpApiClient) -> None:
        self.client = client

    @property
    def seller_id(self) -> str:
        return self.client.seller_id

    def request_listings_report(self, marketplace_id: str) -> str:
        return self.client.create_report(marketplace_ids=[marketplace_id]).report_id

    def listings_report(self, report_id: str) -> ReportOutcome:
        report = self.client.get_report(report_id)
        status = _progress(report.processing_status)
        if status != "done" or report.report_document_id is None:
            return ReportOutcome("failed" if status == "done" else status)
        return ReportOutcome("done", listing_skus(self.client.fetch_report_text(report.report_document_id)))

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
        token: str | None = None
        while True:
            page = self.client.get_feeds(feed_types=[FEED_TYPE], created_since=created_since, next_token=token)
            for feed in page.feeds:
                if (
                    feed.feed_id not in known
                    and feed.created_time >= created_since
                    and sorted(feed.marketplace_ids) == sorted(marketplace_ids)
                ):
                    return feed.feed_id
            token = page.next_token
            if not token:
                return None

    def feed_outcome(self, feed_id: str) -> FeedOutcome:
        feed = self.client.get_feed(feed_id)
        status = _progress(feed.processing_status)
        if status == "pending" or feed.result_feed_document_id is None:
            return FeedOutcome(status)
        report = json.loads(self.client.fetch_feed_document(feed.result_feed_document_id))
        return FeedOutcome(status, report if isinstance(report, dict) else None)

    def patch_quantity(self, sku: str, marketplace_ids: list[str], product_type: str, quantity: int) -> list[SkuError]:
        """One SKU through patchListingsItem; the errors Amazon found (empty when accepted)."""
        submission = self.client.patch_listing_quantity(
            sku=sku, marketplace_ids=marketplace_ids, quantity=quantity, product_type=product_type
        )
        return [
            SkuError(sku, str(issue.code), str(issue.message))
            for issue in submission.issues or ()
            if str(issue.severity) == "ERROR"
        ]

    def orders_since(
        self,
        marketplace_id: str,
        since: datetime,
        api_version: str,
        already_stored: Callable[[list[tuple[str, datetime]]], set[str]] | None = None,
    ) -> Iterator[tuple[list[AmazonOrder], datetime | None]]:
        """Merchant-fulfilled orders last updated after `since`, a page at a time (stored by the caller
        before the next is fetched), with Amazon's upper bound of the window when it says.
        `already_stored` names the orders of a page the caller holds at least as new: on v0 their items
        are not fetched again (one getOrderItems each, at 0.5/s), so the 5-minute overlap costs nothing."""
        if api_version == "v0":
            for page in self.client.iter_get_orders(
                marketplace_ids=[marketplace_id], last_updated_after=since, fulfillment_channels=["MFN"]
            ):
                known = (
                    already_stored([(o.amazon_order_id, o.last_update_date) for o in page.orders])
                    if already_stored
                    else set()
                )
                orders = [
                    order_from_v0(o, self.client.list_order_items(o.amazon_order_id))
                    for o in page.orders
                    if o.amazon_order_id not in known
                ]
                yield orders, _parse_bound(page.last_updated_before)
        else:
            for result in self.client.iter_search_orders(
                marketplace_ids=[marketplace_id],
                last_updated_after=since,
                fulfilled_by=["MERCHANT"],
                included_data=["FULFILLMENT", "RECIPIENT"],
            ):
                yield [order_from_2026(o, marketplace_id) for o in result.orders], result.last_updated_before

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


_STATUS_2026_TO_V0 = {
    "PENDING_AVAILABILITY": "PendingAvailability",
    "PENDING": "Pending",
    "UNSHIPPED": "Unshipped",
    "PARTIALLY_SHIPPED": "PartiallyShipped",
    "SHIPPED": "Shipped",
    "CANCELLED": "Canceled",
    "UNFULFILLABLE": "Unfulfillable",
}


def _parse_bound(text: str | None) -> datetime | None:
    if not text:
        return None
    try:
        return datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None


def order_from_v0(order: OrderV0, items: list[OrderItemV0]) -> AmazonOrder:
    lines = []
    for item in items:
        price = item.item_price
        unit = None
        if price is not None and price.amount is not None and price.currency_code and item.quantity_ordered:
            # v0's ItemPrice is the line total.
            unit = Money((price.amount / item.quantity_ordered).quantize(Decimal("0.01")), price.currency_code)
        lines.append(AmazonLine(item.order_item_id, item.seller_sku or "", item.quantity_ordered, unit))
    return AmazonOrder(
        amazon_order_id=order.amazon_order_id,
        marketplace_id=order.marketplace_id or "",
        purchase_date=order.purchase_date,
        last_update_date=order.last_update_date,
        amazon_status=order.order_status,
        fulfillment_channel="AFN" if order.fulfillment_channel == "AFN" else "MFN",
        ship_service_level=order.ship_service_level,
        service_level_category=order.shipment_service_level_category,
        is_prime=order.is_prime,
        is_premium=order.is_premium_order,
        ship_to_country=order.shipping_address.country_code if order.shipping_address else None,
        ship_by=order.latest_ship_date,
        lines=tuple(lines),
    )


def order_from_2026(order: Order2026, marketplace_id: str) -> AmazonOrder:
    fulfillment = order.fulfillment
    address = order.recipient.delivery_address if order.recipient else None
    lines = []
    for item in order.order_items:
        price = item.product.price.unit_price if item.product.price else None
        unit = Money(price.amount, price.currency_code) if price is not None else None
        lines.append(AmazonLine(item.order_item_id, item.product.seller_sku or "", item.quantity_ordered, unit))
    return AmazonOrder(
        amazon_order_id=order.order_id,
        marketplace_id=order.sales_channel.marketplace_id or marketplace_id,
        purchase_date=order.created_time,
        last_update_date=order.last_updated_time,
        amazon_status=_STATUS_2026_TO_V0.get(fulfillment.fulfillment_status, fulfillment.fulfillment_status)
        if fulfillment
        else "Unshipped",
        fulfillment_channel="AFN" if fulfillment and fulfillment.fulfilled_by == "AMAZON" else "MFN",
        ship_service_level=None,  # 2026-01-01 has no free-text level: the term comes from the category
        service_level_category=fulfillment.fulfillment_service_level if fulfillment else None,
        is_prime="PRIME" in order.programs,
        is_premium="PREMIUM" in order.programs,
        ship_to_country=address.country_code if address else None,
        ship_by=fulfillment.ship_by_window.latest if fulfillment and fulfillment.ship_by_window else None,
        lines=tuple(lines),
    )


def count_amazon_call(event: SpApiCallEvent) -> None:
    """The SP-API client's metrics hook: every attempt, throttles and errors by operation (EMF)."""
    if event.outcome != "gave_up":
        count("AmazonCalls")  # the denominator of the 5xx-rate alarm
    if event.outcome == "throttled":
        count("AmazonThrottles", operation=event.operation)
    elif event.outcome != "success":
        count("AmazonErrors", operation=event.operation, kind=event.outcome)
        if event.outcome == "server_error":
            count("AmazonServerErrors")


class AmazonConnections:
    """Builds `SellerAmazon`s from the app's LWA credentials (Secrets Manager) and the endpoint settings."""

    def __init__(
        self,
        secrets_client: Any,
        app_secret_id: str,
        *,
        endpoint_override: str,
        lwa_token_url: str,
        time_budget: float = 60.0,
    ) -> None:
        self._time_budget = time_budget
        self._secrets = secrets_client
        self._app_secret_id = app_secret_id
        self._endpoint_override = endpoint_override or None
        self._lwa_token_url = lwa_token_url

    @cached_property
    def app(self) -> AppCredentials:
        value = json.loads(self._secrets.get_secret_value(SecretId=self._app_secret_id)["SecretString"])
        return AppCredentials(value["client_id"], value["client_secret"], value.get("application_id", ""))

    @cached_property
    def http(self) -> httpx.Client:
        return httpx.Client(timeout=httpx.Timeout(30.0, connect=5.0))

    @cached_property
    def lwa(self) -> LwaClient:
        credentials = LwaCredentials(self.app.client_id, self.app.client_secret)
        return LwaClient(credentials, token_url=self._lwa_token_url, http=self.http)

    @cached_property
    def config(self) -> SpApiConfig:
        # Workers may wait for Amazon's slowest buckets (createFeed refills every 2 minutes,
        # searchOrders every 3) within their Lambda timeout.
        return SpApiConfig(endpoint_override=self._endpoint_override, retry=RetryPolicy(time_budget=self._time_budget))

    def seller(self, marketplace: Marketplace, merchant_id: str, refresh_token: str) -> SellerAmazon:
        client = SpApiClient.for_marketplace(
            marketplace,
            seller_id=merchant_id,
            refresh_token=refresh_token,
            lwa=self.lwa,
            config=self.config,
            http=self.http,
            metrics=count_amazon_call,
        )
        return SellerAmazon(client)
