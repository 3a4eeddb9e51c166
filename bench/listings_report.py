"""The listings report of a large catalogue, read through the real path: `SellerAmazon.listings_report`
-> `SpApiClient` (getReport, getReportDocument, the pre-signed download) over `httpx.MockTransport`, with a
`GET_MERCHANT_LISTINGS_ALL_DATA` document generated as it is sent (gzip, Windows-1252 as some
marketplaces send it), so the only copies of the document in memory are the connector's own.

`python -m bench.listings_report MB [--whole]` prints one JSON line: the SKUs found, seconds and the
process's peak RSS; `--whole` reads it the way the connector did before (the whole text, then a parse).
"""

from __future__ import annotations

import argparse
import json
import resource
import sys
import time
import zlib
from collections.abc import Iterator
from typing import Any

import httpx

# As the simulator and Amazon write it (reports.py in local/simulator: Amazon's column order).
COLUMNS = (
    "item-name\titem-description\tlisting-id\tseller-sku\tprice\tquantity\topen-date\timage-url\titem-is-marketplace"
    "\tproduct-id-type\tzshop-shipping-fee\titem-note\titem-condition\tzshop-category1\tzshop-browse-path"
    "\tzshop-storefront-feature\tasin1\tasin2\tasin3\twill-ship-internationally\texpedited-shipping\tzshop-boldface"
    "\tproduct-id\tbid-for-featured-placement\tadd-delete\tpending-quantity\tfulfillment-channel"
    "\tmerchant-shipping-group\tstatus"
)
CHARSET = "windows-1252"
DESCRIPTION = ("Lightweight two-person tent, waterproof flysheet, aluminium poles, café-grade zips. " * 11).strip()
S3_URL = "https://tortuga-prod-eu.s3-eu-west-1.amazonaws.com/report?X-Amz-Signature=bench"


def sku(n: int) -> str:
    # Every 50th SKU is spelled with an accent: Windows-1252 must come back as the seller wrote it.
    return f"CAFÉ-{n:07d}" if n % 50 == 0 else f"TENT-{n:07d}"


def is_fba(n: int) -> bool:
    return n % 10 == 3


def row(n: int) -> str:
    channel = "AMAZON_EU" if is_fba(n) else "DEFAULT"
    quantity = "" if is_fba(n) else str(n % 40)
    return (
        f"Tent {n}\t{DESCRIPTION}\t{n:010d}ABC\t{sku(n)}\t{n % 200}.99\t{quantity}\t2024-03-01 10:00:00 GMT\t\ty"
        f"\t1\t\t\t11\t\t\t\tB0{n:08d}\t\t\t\t\t\tB0{n:08d}\t\t\t0\t{channel}\tMigrated Template\tActive\n"
    )


def rows_for(megabytes: float) -> int:
    return max(1, int(megabytes * 1e6 / len(row(1_000_000).encode(CHARSET))))


class GeneratedReport(httpx.SyncByteStream):
    """The document, gzip-compressed as it is sent, a few hundred rows per chunk: never held whole."""

    def __init__(self, rows: int) -> None:
        self.rows = rows

    def __iter__(self) -> Iterator[bytes]:
        packer = zlib.compressobj(1, zlib.DEFLATED, zlib.MAX_WBITS | 16)
        yield packer.compress((COLUMNS + "\n").encode(CHARSET))
        for start in range(0, self.rows, 256):
            text = "".join(row(n) for n in range(start, min(start + 256, self.rows)))
            packed = packer.compress(text.encode(CHARSET))
            if packed:
                yield packed
        yield packer.flush()


def amazon(rows: int) -> httpx.MockTransport:
    """getReport (DONE), getReportDocument (GZIP) and the pre-signed URL, as Amazon answers them."""

    def answer(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/reports/2021-06-30/reports/rep-1":
            body: dict[str, Any] = {
                "reportId": "rep-1",
                "reportType": "GET_MERCHANT_LISTINGS_ALL_DATA",
                "createdTime": "2026-01-01T00:00:00Z",
                "processingStatus": "DONE",
                "marketplaceIds": ["A1F83G8C2ARO7P"],
                "reportDocumentId": "doc-1",
            }
            return httpx.Response(200, json=body)
        if request.url.path == "/reports/2021-06-30/documents/doc-1":
            return httpx.Response(
                200, json={"reportDocumentId": "doc-1", "url": S3_URL, "compressionAlgorithm": "GZIP"}
            )
        if request.url.host.endswith("amazonaws.com"):
            content_type = f"text/tab-separated-values;charset={CHARSET}"
            return httpx.Response(200, stream=GeneratedReport(rows), headers={"content-type": content_type})
        return httpx.Response(404, json={"errors": [{"code": "NotFound", "message": str(request.url)}]})

    return httpx.MockTransport(answer)


class _Tokens:
    def access_token(self, refresh_token: str, *, force_refresh: bool = False) -> str:
        return "Atza|bench"


def seller(rows: int) -> Any:
    from oms_amazon.adapters.amazon import SellerAmazon
    from oms_amazon.adapters.sp_api import BucketRegistry, ManualClock, SpApiClient

    client = SpApiClient(
        seller_id="A3SELLER0001",
        region="eu",
        refresh_token="Atzr|bench",  # noqa: S106 (a stand-in: nothing checks it)
        lwa=_Tokens(),
        http=httpx.Client(transport=amazon(rows)),
        clock=ManualClock(),
        buckets=BucketRegistry(),
    )
    return SellerAmazon(client)


def read_whole(rows: int) -> tuple[int, int]:
    """The earlier path: the whole document's text, then the parse."""
    from oms_amazon.listings_feed import listing_skus

    amazon_seller = seller(rows)
    report = amazon_seller.client.get_report("rep-1")
    parsed = listing_skus(amazon_seller.client.fetch_report_text(report.report_document_id))
    return len(parsed.merchant), len(parsed.fulfilled_by_amazon)


def read_streamed(rows: int) -> tuple[int, int]:
    outcome = seller(rows).listings_report("rep-1")
    return len(outcome.product_types or {}), len(outcome.fulfilled_by_amazon or {})


def _peak_rss_mb() -> float:
    """This process's peak RSS in MiB. Linux's VmHWM belongs to the program since its exec; getrusage's
    maxrss would also count the parent's size at fork (a bench process that has run the big cases)."""
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024  # kB
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.listings_report", description=__doc__)
    parser.add_argument("megabytes", type=float, help="the decompressed document's size")
    parser.add_argument("--whole", action="store_true", help="read it whole, then parse (the earlier path)")
    args = parser.parse_args(argv)
    rows = rows_for(args.megabytes)
    seller(1)  # imports done, so the baseline counts them
    baseline = _peak_rss_mb()
    started = time.perf_counter()
    merchant, fba = (read_whole if args.whole else read_streamed)(rows)
    result = {
        "document_mb": round(rows * len(row(1_000_000).encode(CHARSET)) / 1e6, 1),
        "rows": rows,
        "merchant_skus": merchant,
        "fba_skus": fba,
        "seconds": round(time.perf_counter() - started, 1),
        "peak_rss_mb": round(_peak_rss_mb(), 1),
        "baseline_rss_mb": round(baseline, 1),
        "method": "whole text, then parse" if args.whole else "streamed: gunzip, decode and parse line by line",
    }
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
