"""Amazon for the workers: one `SellerAmazon` per seller and region, speaking in the connector's
terms over the SP-API client (`adapters.sp_api`). The LWA client, HTTP pool and token buckets are
built once per container and shared by every seller."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from functools import cached_property
from typing import Any

import httpx

from oms_amazon.adapters.sp_api import LwaClient, LwaCredentials, SpApiClient, SpApiConfig
from oms_amazon.domain.marketplaces import Marketplace
from oms_amazon.domain.stock_sync import FeedOutcome, Progress, ReportOutcome, SkuError
from oms_amazon.listings_feed import CONTENT_TYPE, FEED_TYPE, listing_skus


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
        seller and region, so at most one such feed exists.)"""
        token: str | None = None
        while True:
            page = self.client.get_feeds(feed_types=[FEED_TYPE], created_since=created_since, next_token=token)
            for feed in page.feeds:
                if feed.feed_id not in known and sorted(feed.marketplace_ids) == sorted(marketplace_ids):
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


class AmazonConnections:
    """Builds `SellerAmazon`s from the app's LWA credentials (Secrets Manager) and the endpoint settings."""

    def __init__(self, secrets_client: Any, app_secret_id: str, *, endpoint_override: str, lwa_token_url: str) -> None:
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
        return SpApiConfig(endpoint_override=self._endpoint_override)

    def seller(self, marketplace: Marketplace, merchant_id: str, refresh_token: str) -> SellerAmazon:
        client = SpApiClient.for_marketplace(
            marketplace,
            seller_id=merchant_id,
            refresh_token=refresh_token,
            lwa=self.lwa,
            config=self.config,
            http=self.http,
        )
        return SellerAmazon(client)
