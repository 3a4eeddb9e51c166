"""Feed and report documents: the pre-signed upload, gzip-aware downloads and report text."""

from __future__ import annotations

import gzip
import json

import httpx
import pytest
from oms_amazon.adapters.sp_api import AccessDenied, AmazonUnavailable, ManualClock, RetryPolicy, UnexpectedResponse
from oms_amazon.adapters.sp_api.documents import decode_text, decompress, parse_tab_separated
from oms_amazon.adapters.sp_api.models import FeedDocument, ReportDocument

from tests.unit.test_sp_api_support import Recorder, json_response, make_client, responses

pytestmark = pytest.mark.unit

S3_URL = "https://tortuga-prod-eu.s3-eu-west-1.amazonaws.com/doc?X-Amz-Signature=abc123&X-Amz-Credential=AKIAX"
REPORT = 'item-name\tseller-sku\tquantity\nBlue mug\tMUG-blue\t4\nRed "big" mug\tmug-RED\t0\n'


def _feed_document(compression: str | None) -> FeedDocument:
    body: dict[str, str] = {"feedDocumentId": "doc-1", "url": S3_URL}
    if compression:
        body["compressionAlgorithm"] = compression
    return FeedDocument.model_validate(body)


def _report_document(compression: str | None = None) -> ReportDocument:
    body: dict[str, str] = {"reportDocumentId": "rep-1", "url": S3_URL}
    if compression:
        body["compressionAlgorithm"] = compression
    return ReportDocument.model_validate(body)


# ----------------------------------------------------------------------------------------------- upload


def test_the_feed_upload_is_a_plain_put_with_the_declared_content_type_and_no_sp_api_headers() -> None:
    s3 = responses(httpx.Response(200))
    client = make_client(s3)

    client.upload_feed_document(S3_URL, b'{"header":{}}', content_type="application/json; charset=UTF-8")

    (request,) = s3.requests
    assert (request.method, str(request.url)) == ("PUT", S3_URL)
    assert request.headers["content-type"] == "application/json; charset=UTF-8"
    assert request.content == b'{"header":{}}'
    assert "x-amz-access-token" not in request.headers


def test_submitting_a_feed_creates_the_document_uploads_it_then_creates_the_feed() -> None:
    def amazon(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/feeds/2021-06-30/documents":
            return json_response(201, {"feedDocumentId": "doc-9", "url": S3_URL})
        if request.method == "PUT":
            return httpx.Response(200)
        return json_response(202, {"feedId": "feed-9"})

    recorder = Recorder(amazon)

    created = make_client(recorder).submit_feed(
        feed_type="JSON_LISTINGS_FEED",
        marketplace_ids=["A1F83G8C2ARO7P"],
        content=b"{}",
        content_type="application/json; charset=UTF-8",
    )

    assert created.feed_id == "feed-9"
    assert [(r.method, r.url.path) for r in recorder.requests] == [
        ("POST", "/feeds/2021-06-30/documents"),
        ("PUT", "/doc"),
        ("POST", "/feeds/2021-06-30/feeds"),
    ]
    assert json.loads(recorder.requests[2].content)["inputFeedDocumentId"] == "doc-9"


def test_a_failing_upload_is_retried_then_reported_as_unavailable() -> None:
    clock = ManualClock()
    s3 = responses(httpx.Response(503))

    with pytest.raises(AmazonUnavailable):
        make_client(s3, clock=clock, retry=RetryPolicy(time_budget=5.0)).upload_feed_document(
            S3_URL, b"x", content_type="text/plain"
        )

    assert len(s3) > 1
    assert clock.now <= 5.0


# --------------------------------------------------------------------------------------------- download


def test_a_gzip_feed_document_is_transparently_decompressed() -> None:
    s3 = responses(httpx.Response(200, content=gzip.compress(b'{"summary":{"messagesProcessed":2}}')))

    content = make_client(s3).download_feed_document(_feed_document("GZIP"))

    assert content == b'{"summary":{"messagesProcessed":2}}'
    assert "x-amz-access-token" not in s3.requests[0].headers


def test_an_uncompressed_document_is_returned_as_is() -> None:
    s3 = responses(httpx.Response(200, content=b"plain"))

    assert make_client(s3).download_feed_document(_feed_document(None)) == b"plain"


def test_a_gzip_document_already_inflated_by_content_encoding_is_not_decompressed_twice() -> None:
    s3 = responses(httpx.Response(200, content=gzip.compress(b"already text"), headers={"content-encoding": "gzip"}))

    assert make_client(s3).download_feed_document(_feed_document("GZIP")) == b"already text"


def test_a_corrupt_gzip_document_is_an_unexpected_response() -> None:
    s3 = responses(httpx.Response(200, content=b"\x1f\x8bnot really gzip"))

    with pytest.raises(UnexpectedResponse):
        make_client(s3).download_feed_document(_feed_document("GZIP"))


def test_an_expired_document_url_is_access_denied_without_retrying() -> None:
    s3 = responses(httpx.Response(403, content=b"<Error><Code>AccessDenied</Code></Error>"))

    with pytest.raises(AccessDenied) as raised:
        make_client(s3).download_report_document(_report_document())

    assert raised.value.code == "DocumentUrlRefused"
    assert len(s3) == 1


def test_a_gzip_report_comes_back_as_text_with_exact_sku_case() -> None:
    s3 = responses(httpx.Response(200, content=gzip.compress(REPORT.encode())))

    text = make_client(s3).download_report_document(_report_document("GZIP"))

    assert [row["seller-sku"] for row in parse_tab_separated(text)] == ["MUG-blue", "mug-RED"]


def test_fetching_a_report_by_document_id_gets_a_fresh_url_then_the_text() -> None:
    def amazon(request: httpx.Request) -> httpx.Response:
        if request.url.path.startswith("/reports/"):
            return json_response(200, {"reportDocumentId": "rep-1", "url": S3_URL})
        return httpx.Response(200, content=REPORT.encode("cp1252"), headers={"content-type": "text/plain"})

    text = make_client(Recorder(amazon)).fetch_report_text("rep-1")

    assert text == REPORT


def test_fetching_a_feed_result_by_document_id() -> None:
    def amazon(request: httpx.Request) -> httpx.Response:
        if request.url.path.startswith("/feeds/"):
            return json_response(200, {"feedDocumentId": "res-1", "url": S3_URL, "compressionAlgorithm": "GZIP"})
        return httpx.Response(200, content=gzip.compress(b"report"))

    assert make_client(Recorder(amazon)).fetch_feed_document("res-1") == b"report"


# -------------------------------------------------------------------------------------- pure functions


def test_decompress_refuses_an_unknown_algorithm() -> None:
    with pytest.raises(ValueError, match="unsupported"):
        decompress(b"x", "BROTLI")


@pytest.mark.parametrize(
    ("content", "content_type", "expected"),
    [
        ("Café".encode(), None, "Café"),
        (b"\xef\xbb\xbfCaf\xc3\xa9", None, "Café"),  # UTF-8 with BOM
        ("Café".encode("cp1252"), None, "Café"),  # not UTF-8: Windows-1252
        ("カフェ".encode("shift_jis"), "text/plain; charset=Shift_JIS", "カフェ"),
        ("Café".encode(), "text/plain; charset=nonsense", "Café"),
    ],
)
def test_report_text_is_decoded_by_declared_charset_then_utf8_then_cp1252(
    content: bytes, content_type: str | None, expected: str
) -> None:
    assert decode_text(content, content_type) == expected


def test_tab_separated_rows_keep_quotes_as_data_and_pad_short_rows() -> None:
    rows = parse_tab_separated('name\tseller-sku\tqty\nA "quoted" name\tSKU-1\n\n')

    assert rows == [{"name": 'A "quoted" name', "seller-sku": "SKU-1", "qty": ""}]
    assert parse_tab_separated("") == []
