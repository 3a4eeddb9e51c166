"""Reports 2021-06-30: GET_MERCHANT_LISTINGS_ALL_DATA as a real tab-separated file."""

from __future__ import annotations

import csv
import gzip
import io
from typing import Any

import httpx
import pytest

from tests.contract.conftest import DE, FR, UK, Amazon

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
