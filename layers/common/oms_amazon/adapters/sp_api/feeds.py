"""Feeds 2021-06-30: a feed document uploaded to its pre-signed URL, the feed created from it, and its
processing report read back."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from oms_amazon.adapters.sp_api import builders
from oms_amazon.adapters.sp_api.builders import DateTimeLike
from oms_amazon.adapters.sp_api.models import CreateFeedResult, Feed, FeedDocument, FeedDocumentUpload, FeedsPage
from oms_amazon.adapters.sp_api.responses import parse
from oms_amazon.adapters.sp_api.transport import Operations


class FeedsApi(Operations):
    def create_feed_document(self, content_type: str) -> FeedDocumentUpload:
        return parse(FeedDocumentUpload, self._transport.send(builders.create_feed_document(content_type)))

    def upload_feed_document(self, upload: FeedDocumentUpload | str, content: bytes, *, content_type: str) -> None:
        """PUT the feed content to the pre-signed URL: no SP-API headers, the same content type as declared."""
        url = upload if isinstance(upload, str) else upload.url
        self._transport.documents.request(
            "PUT", url, operation="uploadFeedDocument", content=content, headers={"content-type": content_type}
        )

    def create_feed(
        self,
        *,
        feed_type: str,
        marketplace_ids: Sequence[str],
        input_feed_document_id: str,
        feed_options: Mapping[str, str] | None = None,
    ) -> CreateFeedResult:
        request = builders.create_feed(
            feed_type=feed_type,
            marketplace_ids=marketplace_ids,
            input_feed_document_id=input_feed_document_id,
            feed_options=feed_options,
        )
        return parse(CreateFeedResult, self._transport.send(request))

    def submit_feed(
        self, *, feed_type: str, marketplace_ids: Sequence[str], content: bytes, content_type: str
    ) -> CreateFeedResult:
        """createFeedDocument, upload, createFeed: the three steps of sending one feed."""
        upload = self.create_feed_document(content_type)
        self.upload_feed_document(upload, content, content_type=content_type)
        return self.create_feed(
            feed_type=feed_type, marketplace_ids=marketplace_ids, input_feed_document_id=upload.feed_document_id
        )

    def get_feed(self, feed_id: str) -> Feed:
        return parse(Feed, self._transport.send(builders.get_feed(feed_id)))

    def get_feeds(
        self, *, feed_types: Sequence[str], created_since: DateTimeLike | None = None, next_token: str | None = None
    ) -> FeedsPage:
        request = builders.get_feeds(feed_types=feed_types, created_since=created_since, next_token=next_token)
        return parse(FeedsPage, self._transport.send(request))

    def get_feed_document(self, feed_document_id: str) -> FeedDocument:
        return parse(FeedDocument, self._transport.send(builders.get_feed_document(feed_document_id)))

    def download_feed_document(self, document: FeedDocument) -> bytes:
        """The document's content (e.g. a processing report), gunzipped when Amazon compressed it."""
        content, _ = self._transport.documents.download(
            document.url, document.compression_algorithm, operation="downloadFeedDocument"
        )
        return content

    def fetch_feed_document(self, feed_document_id: str) -> bytes:
        """getFeedDocument then download (the URL expires after five minutes, so fetch it just in time)."""
        return self.download_feed_document(self.get_feed_document(feed_document_id))
