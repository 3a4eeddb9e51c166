"""Reports 2021-06-30: GET_MERCHANT_LISTINGS_ALL_DATA as a real tab-separated file."""

from __future__ import annotations

import csv
import gzip
import io
import json
from typing import Any

import httpx
import pytest

from tests.contract.conftest import DE, FR, UK, Amazon
from tests.polling import eventually

pytestmark = pytest.mark.integration

REPORTS = "reports_2021-06-30"
AMAZON_COLUMN_ORDER = [
    "item-name", "item-description", "listing-id", "seller-sku", "price", "quantity", "open-date", "image-url",
    "item-is-marketplace", "product-id-type", "zshop-shipping-fee", "item-note", "item-condition", "zshop-category1",
    "zshop-browse-path", "zshop-storefront-feature", "asin1", "asin2", "asin3", "will-ship-internationally",
    "expedited-shipping", "zshop-boldface", "product-id", "bid-for-featured-placement", "add-delete",
    "pending-quantity", "fulfillment-channel", "merchant-shipping-group", "status",
]  # fmt: skip


def create_report(
    amazon: Amazon, marketplaces: tuple[str, ...] = (UK,), expect: int = 202, **extra: Any
) -> dict[str, Any]:
    spec = {"reportType": "GET_MERCHANT_LISTINGS_ALL_DATA", "marketplaceIds": list(marketplaces), **extra}
    return amazon.sp(REPORTS, "createReport", "POST", "/reports/2021-06-30/reports", expect=expect, json=spec).json()


def get_report(amazon: Amazon, report_id: str) -> dict[str, Any]:
    return amazon.sp(REPORTS, "getReport", "GET", f"/reports/2021-06-30/reports/{report_id}", expect=200).json()


def download(amazon: Amazon, document_id: str) -> tuple[dict[str, Any], list[dict[str, str]], str]:
    document = amazon.sp(
        REPORTS, "getReportDocument", "GET", f"/reports/2021-06-30/documents/{document_id}", expect=200
    ).json()
    raw = httpx.get(document["url"]).content
    if document.get("compressionAlgorithm") == "GZIP":
        raw = gzip.decompress(raw)
    text = raw.decode("utf-8")
    rows = list(csv.DictReader(io.StringIO(text), delimiter="\t"))
    return document, rows, text.splitlines()[0]


@pytest.fixture
def listed(seller: Amazon) -> Amazon:
    seller.put_listings(
        "UK",
        [
            {"sku": "SKU-A", "product_type": "SHIRT", "quantity": 3, "price": "12.50", "item_name": "Blue shirt"},
            {"sku": "sku-a", "product_type": "SHIRT", "quantity": 0},
        ],
    )
    seller.put_listings("DE", [{"sku": "DE-ONLY", "product_type": "SHIRT", "quantity": 1}])
    return seller


def test_the_all_listings_report_is_a_tsv_with_amazons_header_and_one_row_per_listing(listed: Amazon) -> None:
    report_id = create_report(listed)["reportId"]
    report = get_report(listed, report_id)
    assert report["processingStatus"] == "DONE"
    document, rows, header = download(listed, report["reportDocumentId"])
    assert header.split("\t") == AMAZON_COLUMN_ORDER
    assert document["compressionAlgorithm"] == "GZIP"
    assert [r["seller-sku"] for r in rows] == ["SKU-A", "sku-a"], "SKUs exactly as listed, case kept"
    first = rows[0]
    assert (first["item-name"], first["price"], first["quantity"], first["status"]) == (
        "Blue shirt",
        "12.50",
        "3",
        "Active",
    )
    assert first["asin1"] == first["product-id"]
    assert first["fulfillment-channel"] == "DEFAULT"
    assert rows[1]["status"] == "Inactive"


def test_the_report_covers_only_the_requested_marketplaces(listed: Amazon) -> None:
    report = get_report(listed, create_report(listed, (DE,))["reportId"])
    assert [r["seller-sku"] for r in download(listed, report["reportDocumentId"])[1]] == ["DE-ONLY"]


def test_a_report_naming_several_marketplaces_holds_only_one_of_them_as_amazons_does(listed: Amazon) -> None:
    # Developers find the listings report of several marketplaces holds one marketplace's data only
    # (selling-partner-api-models #1998): a connector must ask for one report per marketplace.
    report = get_report(listed, create_report(listed, (UK, DE))["reportId"])
    assert report["marketplaceIds"] == [UK, DE]
    assert [r["seller-sku"] for r in download(listed, report["reportDocumentId"])[1]] == ["SKU-A", "sku-a"]


def test_the_report_can_be_served_uncompressed(listed: Amazon) -> None:
    listed.config(report_compression=None)
    report = get_report(listed, create_report(listed)["reportId"])
    document, rows, _ = download(listed, report["reportDocumentId"])
    assert "compressionAlgorithm" not in document
    assert len(rows) == 2


def test_the_report_is_done_after_the_configured_polls(listed: Amazon) -> None:
    listed.config(report_polls_before_done=2)
    report_id = create_report(listed)["reportId"]
    assert [get_report(listed, report_id)["processingStatus"] for _ in range(3)] == ["IN_QUEUE", "IN_PROGRESS", "DONE"]


def test_the_report_reflects_quantities_as_amazon_holds_them_when_it_is_made(listed: Amazon) -> None:
    listed.put_listings("UK", [{"sku": "SKU-A", "product_type": "SHIRT", "quantity": 44}])
    report = get_report(listed, create_report(listed)["reportId"])
    assert download(listed, report["reportDocumentId"])[1][0]["quantity"] == "44"


@pytest.mark.parametrize(
    ("spec", "fragment"),
    [
        ({"reportType": "GET_FLAT_FILE_OPEN_LISTINGS_DATA", "marketplaceIds": [UK]}, "not served"),
        ({"reportType": "GET_MERCHANT_LISTINGS_ALL_DATA", "marketplaceIds": [FR]}, "not registered"),
        ({"reportType": "GET_MERCHANT_LISTINGS_ALL_DATA"}, "marketplaceIds"),
    ],
)
def test_create_report_refuses_what_it_cannot_make(seller: Amazon, spec: dict[str, Any], fragment: str) -> None:
    body = seller.sp(REPORTS, "createReport", "POST", "/reports/2021-06-30/reports", expect=400, json=spec).json()
    error = body["errors"][0]
    assert fragment in f"{error['message']} {error.get('details', '')}"


def test_unknown_reports_and_documents_are_not_found(seller: Amazon) -> None:
    seller.sp(REPORTS, "getReport", "GET", "/reports/2021-06-30/reports/1", expect=404)
    seller.sp(REPORTS, "getReportDocument", "GET", "/reports/2021-06-30/documents/amzn1.tortuga.4.eu.x", expect=404)


# --- FBA rows, and every way a report ends (SPEC §1.1) ----------------------------------------------------------------


def test_fba_rows_name_amazons_network_and_leave_the_quantity_empty(seller: Amazon) -> None:
    seller.put_listings(
        "UK",
        [
            {"sku": "MFN-1", "quantity": 4},
            {"sku": "FBA-1", "fulfillment_channel": "AMAZON_EU", "quantity": 30},
        ],
    )
    report = get_report(seller, create_report(seller)["reportId"])
    rows = download(seller, report["reportDocumentId"])[1]
    assert [(r["seller-sku"], r["fulfillment-channel"], r["quantity"]) for r in rows] == [
        ("MFN-1", "DEFAULT", "4"),
        ("FBA-1", "AMAZON_EU", ""),
    ]


def test_a_marketplace_without_listings_ends_cancelled_without_a_document(listed: Amazon) -> None:
    listed.put_listings("DE", [])
    report = get_report(listed, create_report(listed, (DE,))["reportId"])
    assert report["processingStatus"] == "CANCELLED"
    assert "reportDocumentId" not in report
    assert report["processingEndTime"]


def test_a_report_stays_in_queue_then_in_progress_across_polls_then_serves_its_document(listed: Amazon) -> None:
    listed.config(report_polls_before_done=5, report_polls_in_queue=2)
    report_id = create_report(listed)["reportId"]
    polls = [get_report(listed, report_id) for _ in range(6)]
    assert [p["processingStatus"] for p in polls] == [
        "IN_QUEUE",
        "IN_QUEUE",
        "IN_PROGRESS",
        "IN_PROGRESS",
        "IN_PROGRESS",
        "DONE",
    ]
    assert all("reportDocumentId" not in p for p in polls[:-1])
    assert [r["seller-sku"] for r in download(listed, polls[-1]["reportDocumentId"])[1]] == ["SKU-A", "sku-a"]


def test_a_report_stays_in_progress_until_its_simulated_processing_time_has_passed(listed: Amazon) -> None:
    listed.config(report_processing_seconds=120)
    report_id = create_report(listed)["reportId"]
    assert [get_report(listed, report_id)["processingStatus"] for _ in range(3)] == [
        "IN_QUEUE",
        "IN_PROGRESS",
        "IN_PROGRESS",
    ]
    # Amazon's clock ran at real speed so far (the polls above cannot outrun a busy machine); now faster.
    listed.control("POST", "/_sim/rate-limits", {"enforce": False, "speedup": 120})
    eventually(lambda: get_report(listed, report_id)["processingStatus"] == "DONE", what="120 Amazon seconds")
    assert len(download(listed, get_report(listed, report_id)["reportDocumentId"])[1]) == 2


def fatal_document(amazon: Amazon, document_id: str) -> Any:
    document = amazon.sp(
        REPORTS, "getReportDocument", "GET", f"/reports/2021-06-30/documents/{document_id}", expect=200
    ).json()
    raw = httpx.get(document["url"]).content
    return json.loads(gzip.decompress(raw) if document.get("compressionAlgorithm") == "GZIP" else raw)


def test_a_fatal_fault_ends_the_next_report_fatal_with_a_document_saying_why(listed: Amazon) -> None:
    listed.control("POST", "/_sim/faults", {"operation": "createReport", "kind": "fatal", "count": 1}, expect=201)
    report = get_report(listed, create_report(listed)["reportId"])
    assert report["processingStatus"] == "FATAL"
    assert fatal_document(listed, report["reportDocumentId"]) == {
        "errorDetails": "The report was aborted due to a fatal error."
    }
    assert get_report(listed, create_report(listed)["reportId"])["processingStatus"] == "DONE", "count ran down"


def test_a_fatal_report_can_say_why_and_still_takes_its_polls(listed: Amazon) -> None:
    listed.config(report_polls_before_done=2)
    fault = {"operation": "createReport", "kind": "fatal", "message": "The report could not be generated."}
    listed.control("POST", "/_sim/faults", fault, expect=201)
    report_id = create_report(listed)["reportId"]
    polls = [get_report(listed, report_id) for _ in range(3)]
    assert [p["processingStatus"] for p in polls] == ["IN_QUEUE", "IN_PROGRESS", "FATAL"]
    assert fatal_document(listed, polls[-1]["reportDocumentId"]) == {
        "errorDetails": "The report could not be generated."
    }
