"""A large catalogue's listings report is read in bounded memory (SPEC §5.4, issue "honest scale"): the real
path (`SellerAmazon.listings_report` -> `SpApiClient` -> pre-signed download) over a generated 64 MB
GET_MERCHANT_LISTINGS_ALL_DATA document, gzip-compressed and in Windows-1252 as Amazon sends it."""

from __future__ import annotations

import tracemalloc

import pytest

from bench.listings_report import is_fba, read_streamed, rows_for, seller, sku

pytestmark = pytest.mark.integration

DOCUMENT_MB = 64


def test_a_64_mb_listings_report_is_parsed_holding_a_fraction_of_it() -> None:
    rows = rows_for(DOCUMENT_MB)
    seller(1).listings_report("rep-1")  # modules imported and pydantic's validators built: not the document
    tracemalloc.start()
    try:
        merchant, fba = read_streamed(rows)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()

    assert fba == sum(1 for n in range(rows) if is_fba(n)) and merchant + fba == rows
    # What stays is the snapshot (about 100 bytes a SKU); the document, compressed or not, is never whole.
    assert peak < DOCUMENT_MB * 1e6 / 4, f"peak {peak / 1e6:.1f} MB for a {DOCUMENT_MB} MB report"


def test_the_streamed_report_keeps_each_sku_exactly_as_amazon_spells_it() -> None:
    outcome = seller(200).listings_report("rep-1")

    assert outcome.status == "done"
    assert sku(50) == "CAFÉ-0000050" and sku(50) in (outcome.product_types or {})
    assert (outcome.fulfilled_by_amazon or {})[sku(3)] == "AMAZON_EU"
