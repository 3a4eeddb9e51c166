"""The quantity feed, its processing report and the listings report, as Amazon defines them (SPEC §1.1,
§5.4): `op: merge` so the seller's handling time survives, issues tied to messages by `messageId`
(`sku` is optional in the report), and FBA rows in the listings report kept apart."""

from __future__ import annotations

import pytest
from oms_amazon.domain.stock_sync import SkuError
from oms_amazon.listings_feed import (
    QuantityUpdate,
    listing_rows,
    listing_skus,
    quantity_feed,
    report_errors,
    report_failed_as_a_whole,
)

from tests.contract.model_contract import assert_listings_feed

pytestmark = pytest.mark.unit


def test_quantities_merge_into_fulfillment_availability_one_message_each_in_order():
    feed = quantity_feed("A2SELLER01", [QuantityUpdate("TENT-2P", 7), QuantityUpdate("MAT-BLUE", 0, "SLEEPING_PAD")])

    assert_listings_feed(feed)
    first, second = feed["messages"]
    assert (first["messageId"], first["sku"], second["messageId"], second["sku"]) == (1, "TENT-2P", 2, "MAT-BLUE")
    assert first["patches"] == [
        {
            "op": "merge",
            "path": "/attributes/fulfillment_availability",
            "value": [{"fulfillment_channel_code": "DEFAULT", "quantity": 7}],
        }
    ]
    assert second["productType"] == "SLEEPING_PAD"


def test_an_issue_without_a_sku_belongs_to_the_sku_of_the_message_it_names():
    report = {
        "issues": [
            {"messageId": 2, "code": "90220", "severity": "ERROR", "message": "'productType' is not valid"},
            {"messageId": 1, "sku": "TENT-2P", "code": "18027", "severity": "WARNING", "message": "slow"},
        ]
    }

    errors = report_errors(report, ["TENT-2P", "MAT-BLUE"])

    assert errors == {"MAT-BLUE": [SkuError("MAT-BLUE", "90220", "'productType' is not valid")]}
    assert not report_failed_as_a_whole(report, ["TENT-2P", "MAT-BLUE"])


def test_an_error_that_names_no_message_of_the_feed_fails_the_feed_as_a_whole():
    report = {"issues": [{"code": "4000004", "severity": "ERROR", "message": "The feed could not be read"}]}

    assert report_failed_as_a_whole(report, ["TENT-2P"])
    assert report_errors(report, ["TENT-2P"]) == {}


def test_the_listings_report_keeps_amazon_fulfilled_skus_apart_from_the_merchants():
    text = (
        "item-name\tseller-sku\tasin1\tquantity\tfulfillment-channel\n"
        "Tent\tTENT-2P\tB01\t4\tDEFAULT\n"
        "Mat\tMAT-BLUE\tB02\t\tAMAZON_EU\n"
        "Lamp\tlamp-led\tB03\t0\tDEFAULT\n"
    )

    rows = listing_skus(text)

    assert rows.merchant == {"TENT-2P": "PRODUCT", "lamp-led": "PRODUCT"}
    assert rows.fulfilled_by_amazon == {"MAT-BLUE": "AMAZON_EU"}


def test_a_listings_report_without_a_channel_column_is_all_merchant_and_an_empty_one_lists_nothing():
    assert listing_skus("seller-sku\tquantity\nTENT-2P\t1\n").merchant == {"TENT-2P": "PRODUCT"}
    assert listing_skus("").merchant == {} and listing_skus("").fulfilled_by_amazon == {}
    with pytest.raises(ValueError, match="seller-sku"):
        listing_skus("sku\tquantity\nTENT-2P\t1\n")


def test_the_listings_report_is_read_from_its_lines_as_they_arrive_keeping_only_the_skus():
    lines = iter(
        [
            "item-name\tseller-sku\tquantity\tfulfillment-channel",
            "Tent\tTENT-2P\t3\tDEFAULT",
            "",
            "Mat\tMAT-1\t\tAMAZON_EU",
            "Stove\tSTOVE-1",  # a short row: no channel is the merchant's
            "No SKU",
        ]
    )

    rows = listing_rows(lines)

    assert rows.merchant == {"TENT-2P": "PRODUCT", "STOVE-1": "PRODUCT"}
    assert rows.fulfilled_by_amazon == {"MAT-1": "AMAZON_EU"}
    assert listing_rows(iter([])) == listing_skus("")


def test_a_column_named_twice_in_the_listings_report_counts_by_its_last_occurrence():
    text = "seller-sku\tseller-sku\nold\tNEW-1\n"

    assert listing_rows(text.splitlines()).merchant == listing_skus(text).merchant == {"NEW-1": "PRODUCT"}
