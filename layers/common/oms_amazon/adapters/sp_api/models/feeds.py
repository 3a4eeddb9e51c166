"""Feeds 2021-06-30."""

from __future__ import annotations

from pydantic import Field

from oms_amazon.adapters.sp_api.models.base import AmazonModel, ProcessingJob


class FeedDocumentUpload(AmazonModel):
    """createFeedDocument's answer: where to PUT the feed content (a pre-signed URL; never log it whole)."""

    feed_document_id: str = Field(alias="feedDocumentId")
    url: str = Field(repr=False)


class CreateFeedResult(AmazonModel):
    feed_id: str = Field(alias="feedId")


class Feed(ProcessingJob):
    feed_id: str = Field(alias="feedId")
    feed_type: str = Field(alias="feedType")
    result_feed_document_id: str | None = Field(default=None, alias="resultFeedDocumentId")


class FeedsPage(AmazonModel):
    feeds: list[Feed] = Field(default_factory=list)
    next_token: str | None = Field(default=None, alias="nextToken")


class FeedDocument(AmazonModel):
    feed_document_id: str = Field(alias="feedDocumentId")
    url: str = Field(repr=False)
    compression_algorithm: str | None = Field(default=None, alias="compressionAlgorithm")  # GZIP or absent
