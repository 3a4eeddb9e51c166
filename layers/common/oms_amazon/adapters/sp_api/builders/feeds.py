"""Feeds 2021-06-30."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from oms_amazon.adapters.sp_api.builders.base import (
    DateTimeLike,
    SpApiRequest,
    format_datetime,
    marketplaces_param,
    path_segment,
)
from oms_amazon.adapters.sp_api.rate_limits import RATE_LIMITS

JSON_LISTINGS_FEED = "JSON_LISTINGS_FEED"


def create_feed_document(content_type: str) -> SpApiRequest:
    """createFeedDocument: `POST /feeds/2021-06-30/documents`; the content must later be PUT with this type."""
    if not content_type:
        raise ValueError("content_type is required")
    return SpApiRequest("createFeedDocument", "POST", "/feeds/2021-06-30/documents", json={"contentType": content_type})


def create_feed(
    *,
    feed_type: str,
    marketplace_ids: Sequence[str],
    input_feed_document_id: str,
    feed_options: Mapping[str, str] | None = None,
) -> SpApiRequest:
    """createFeed: `POST /feeds/2021-06-30/feeds` (about one call per two minutes: batch, don't loop)."""
    if not feed_type:
        raise ValueError("feed_type is required")
    if not input_feed_document_id:
        raise ValueError("input_feed_document_id is required")
    marketplaces_param(marketplace_ids, "marketplace_ids")
    body: dict[str, Any] = {
        "feedType": feed_type,
        "marketplaceIds": list(marketplace_ids),
        "inputFeedDocumentId": input_feed_document_id,
    }
    if feed_options:
        body["feedOptions"] = dict(feed_options)
    limited_by = tuple(key for key in (f"createFeed:{feed_type}",) if key in RATE_LIMITS)
    return SpApiRequest(
        "createFeed", "POST", "/feeds/2021-06-30/feeds", json=body, idempotent=False, also_limited_by=limited_by
    )


def get_feed(feed_id: str) -> SpApiRequest:
    return SpApiRequest("getFeed", "GET", f"/feeds/2021-06-30/feeds/{path_segment(feed_id, 'feed_id')}")


def get_feeds(
    *, feed_types: Sequence[str], created_since: DateTimeLike | None = None, next_token: str | None = None
) -> SpApiRequest:
    """getFeeds: with a next token Amazon wants no other parameter."""
    if next_token:
        return SpApiRequest("getFeeds", "GET", "/feeds/2021-06-30/feeds", {"nextToken": next_token})
    params = {"feedTypes": ",".join(feed_types), "pageSize": "100"}
    if created_since is not None:
        params["createdSince"] = format_datetime(created_since)
    return SpApiRequest("getFeeds", "GET", "/feeds/2021-06-30/feeds", params)


def get_feed_document(feed_document_id: str) -> SpApiRequest:
    return SpApiRequest(
        "getFeedDocument", "GET", f"/feeds/2021-06-30/documents/{path_segment(feed_document_id, 'feed_document_id')}"
    )
