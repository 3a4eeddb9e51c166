"""Feed and report documents: the pre-signed upload, gzip-aware downloads and report text."""

from __future__ import annotations

import gzip
import json
from collections.abc import Iterator

import httpx
import pytest
from oms_amazon.adapters.sp_api import AccessDenied, AmazonUnavailable, ManualClock, RetryPolicy, UnexpectedResponse
from oms_amazon.adapters.sp_api.documents import (
    INFLATE_STEP,
    MAX_LINE_BYTES,
    DocumentError,
    decode_text,
    decompress,
    inflate,
    parse_tab_separated,
    text_lines,
)
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


# ------------------------------------------------------------------------------- reading a report as it comes


class Chunks(httpx.SyncByteStream):
    """A response body sent in small pieces, optionally cut off after some of them (a dropped connection)."""

    def __init__(self, content: bytes, size: int = 7, cut_after: int | None = None) -> None:
        self.content, self.size, self.cut_after = content, size, cut_after

    def __iter__(self) -> Iterator[bytes]:
        for n, start in enumerate(range(0, len(self.content), self.size)):
            if self.cut_after is not None and n == self.cut_after:
                raise httpx.ReadError("connection reset by peer")
            yield self.content[start : start + self.size]


def _streamed(content: bytes, content_type: str | None = None, **chunking: int) -> httpx.Response:
    headers = {"content-type": content_type} if content_type else {}
    return httpx.Response(200, stream=Chunks(content, **chunking), headers=headers)


def test_a_gzip_report_is_read_line_by_line_in_small_chunks_with_exact_sku_case() -> None:
    s3 = responses(_streamed(gzip.compress(REPORT.encode())))

    rows = make_client(s3).read_report_document(_report_document("GZIP"), list)

    assert rows == ["item-name\tseller-sku\tquantity", "Blue mug\tMUG-blue\t4", 'Red "big" mug\tmug-RED\t0']
    assert "x-amz-access-token" not in s3.requests[0].headers


def test_a_report_of_concatenated_gzip_members_is_read_to_the_end() -> None:
    head, tail = REPORT.encode().split(b"\n", 1)
    s3 = responses(_streamed(gzip.compress(head + b"\n") + gzip.compress(tail)))

    assert len(make_client(s3).read_report_document(_report_document("GZIP"), list)) == 3


@pytest.mark.parametrize(
    ("content", "content_type", "sku"),
    [
        ("seller-sku\nCAFÉ-1\n".encode("cp1252"), "text/tab-separated-values;charset=windows-1252", "CAFÉ-1"),
        ("seller-sku\nCAFÉ-1\n".encode("cp1252"), "text/plain", "CAFÉ-1"),  # undeclared, not UTF-8
        ("\ufeffseller-sku\nCAFÉ-1\n".encode(), None, "CAFÉ-1"),  # UTF-8 with BOM
        ("seller-sku\nカフェ-1\n".encode("shift_jis"), "text/plain; charset=Shift_JIS", "カフェ-1"),
        ("seller-sku\r\nカフェ-1\r\n".encode("utf-16"), "text/plain; charset=UTF-16", "カフェ-1"),
    ],
)
def test_a_streamed_report_honours_the_declared_charset_then_utf8_then_windows_1252(
    content: bytes, content_type: str | None, sku: str
) -> None:
    s3 = responses(_streamed(content, content_type, size=3))

    lines = make_client(s3).read_report_document(_report_document(), list)

    assert lines == ["seller-sku", sku]


def test_one_line_that_is_not_utf8_costs_that_line_its_accents_not_the_reports() -> None:
    content = "seller-sku\nCAFÉ-1\n".encode() + "MÜSLI-2\n".encode("cp1252")

    lines = list(text_lines([content]))

    assert lines == ["seller-sku", "CAFÉ-1", "MÜSLI-2"]


def test_a_transfer_cut_off_part_way_is_read_again_from_the_start() -> None:
    body = gzip.compress(REPORT.encode())
    s3 = responses(_streamed(body, size=4, cut_after=3), _streamed(body, size=4))
    reads: list[list[str]] = []

    def read(lines: Iterator[str]) -> list[str]:
        reads.append([])
        for line in lines:
            reads[-1].append(line)
        return reads[-1]

    rows = make_client(s3).read_report_document(_report_document("GZIP"), read)

    assert len(s3) == 2 and len(rows) == 3
    assert reads[0] == [] and reads[1] == rows, "the second read starts from a fresh parse"


def test_a_transfer_cut_off_every_time_gives_up_as_unavailable_within_the_budget() -> None:
    clock = ManualClock()
    body = gzip.compress(REPORT.encode())
    s3 = Recorder(lambda _: _streamed(body, size=4, cut_after=1))

    with pytest.raises(AmazonUnavailable):
        make_client(s3, clock=clock, retry=RetryPolicy(time_budget=5.0)).read_report_document(
            _report_document("GZIP"), list
        )

    assert len(s3) > 1 and clock.now <= 5.0


@pytest.mark.parametrize(
    "content", [gzip.compress(REPORT.encode())[:-12], b"\x1f\x8bnot really gzip"], ids=["truncated", "corrupt"]
)
def test_a_streamed_report_that_is_not_valid_gzip_is_an_unexpected_response(content: bytes) -> None:
    s3 = responses(_streamed(content))

    with pytest.raises(UnexpectedResponse):
        make_client(s3).read_report_document(_report_document("GZIP"), list)
    assert len(s3) == 1


def test_an_expired_url_is_refused_at_once_when_streaming_too() -> None:
    s3 = responses(httpx.Response(403, content=b"<Error><Code>AccessDenied</Code></Error>"))

    with pytest.raises(AccessDenied):
        make_client(s3).read_report_document(_report_document(), list)
    assert len(s3) == 1


def test_reading_a_report_by_document_id_gets_a_fresh_url_then_streams_it() -> None:
    def amazon(request: httpx.Request) -> httpx.Response:
        if request.url.path.startswith("/reports/"):
            return json_response(200, {"reportDocumentId": "rep-1", "url": S3_URL, "compressionAlgorithm": "GZIP"})
        return _streamed(gzip.compress(REPORT.encode()))

    assert len(make_client(Recorder(amazon)).read_report("rep-1", list)) == 3


def test_inflating_holds_at_most_one_step_of_output_however_well_the_document_compresses() -> None:
    inflated = list(inflate([gzip.compress(b"A" * (20 * INFLATE_STEP))], "GZIP"))

    assert b"".join(inflated) == b"A" * (20 * INFLATE_STEP)
    assert max(len(piece) for piece in inflated) <= INFLATE_STEP


def test_a_document_already_inflated_by_content_encoding_passes_through_inflate() -> None:
    assert b"".join(inflate([b"seller", b"-sku\n"], "GZIP")) == b"seller-sku\n"
    with pytest.raises(DocumentError, match="unsupported"):
        list(inflate([b"x"], "BROTLI"))


def test_a_line_without_end_beyond_the_limit_is_refused_rather_than_held() -> None:
    with pytest.raises(DocumentError, match="longer than"):
        list(text_lines(b"x" * 65536 for _ in range(MAX_LINE_BYTES // 65536 + 2)))
