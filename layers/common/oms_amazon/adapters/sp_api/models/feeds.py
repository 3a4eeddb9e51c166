"""Feeds 2021-06-30."""

from __future__ import annotations

from datetime import datetime

from pydantic import Field

from oms_amazon.adapters.sp_api.models.base import (
    TERMINAL_PROCESSING_STATUSES,
    AmazonModel,
    ProcessingStatus,
)


class FeedDocumentUpload(AmazonModel):
    """createFeedDocument's answer: where to PUT the feed content (a pre-signed URL; never log it whole)."""

    feed_document_id: str = Field(alias="feedDocumentId")
    url: str = Field(repr=False)


class CreateFeedResult(AmazonModel):
    feed_id: str = Field(alias="feedId")


class Feed(AmazonModel):
    feed_id: str = Field(alias="feedId")
    feed_type: str = Field(alias="feedType")
    created_time: datetime = Field(alias="createdTime")
    processing_status: ProcessingStatus = Field(alias="processingStatus")
    marketplace_ids: list[str] = Field(default_factory=list, alias="marketplaceIds")
    processing_start_time: datetime | None = Field(default=None, alias="processingStartTime")
    processing_end_time: datetime | None = Field(default=None, alias="processingEndTime")
    result_feed_document_id: str | None = Field(default=None, alias="resultFeedDocumentId")

    @property
    def is_finished(self) -> bool:
        return self.processing_status in TERMINAL_PROCESSING_STATUSES


class FeedsPage(AmazonModel):
    feeds: list[Feed] = Field(default_factory=list)
    next_token: str | None = Field(default=None, alias="nextToken")


class FeedDocument(AmazonModel):
    feed_document_id: str = Field(alias="feedDocumentId")
    url: str = Field(repr=False)
    compression_algorithm: str | None = Field(default=None, alias="compressionAlgorithm")  # GZIP or absent
