"""Feeds 2021-06-30 with a JSON_LISTINGS_FEED: document, upload, feed, processing, processing report."""

from __future__ import annotations

import gzip
import json
import time
from typing import Any

import httpx
import pytest

from tests.contract.conftest import DE, FR, RATE_LIMIT_HEADER, SELLER_ID, UK, US, Amazon
from tests.contract.model_contract import assert_listings_feed, assert_processing_report
from tests.polling import eventually

pytestmark = pytest.mark.integration

FEEDS = "feeds_2021-06-30"
CONTENT_TYPE = "application/json; charset=UTF-8"


def quantity_message(message_id: int, sku: str, quantity: Any, **extra: Any) -> dict[str, Any]:
    return {
        "messageId": message_id,
        "sku": sku,
        "operationType": "PATCH",
        "productType": "PRODUCT",
        "patches": [
            {
                "op": "replace",
                "path": "/attributes/fulfillment_availability",
                "value": [{"fulfillment_channel_code": "DEFAULT", "quantity": quantity}],
            }
        ],
        **extra,
    }


def listings_feed(*messages: dict[str, Any], seller_id: str = SELLER_ID) -> dict[str, Any]:
    return {"header": {"sellerId": seller_id, "version": "2.0"}, "messages": list(messages)}


def create_document(amazon: Amazon, content_type: str = CONTENT_TYPE) -> dict[str, Any]:
    body = amazon.sp(
        FEEDS,
        "createFeedDocument",
        "POST",
        "/feeds/2021-06-30/documents",
        expect=201,
        json={"contentType": content_type},
    )
    return body.json()


def submit(amazon: Amazon, content: bytes | dict[str, Any], marketplaces: tuple[str, ...] = (UK,)) -> str:
    document = create_document(amazon)
    data = content if isinstance(content, bytes) else json.dumps(content).encode()
    upload = httpx.put(document["url"], content=data, headers={"Content-Type": CONTENT_TYPE})
    assert upload.status_code == 200, upload.text
    spec = {
        "feedType": "JSON_LISTINGS_FEED",
        "marketplaceIds": list(marketplaces),
        "inputFeedDocumentId": document["feedDocumentId"],
    }
    return str(
        amazon.sp(FEEDS, "createFeed", "POST", "/feeds/2021-06-30/feeds", expect=202, json=spec).json()["feedId"]
    )


def get_feed(amazon: Amazon, feed_id: str) -> dict[str, Any]:
    return amazon.sp(FEEDS, "getFeed", "GET", f"/feeds/2021-06-30/feeds/{feed_id}", expect=200).json()


def processing_report(amazon: Amazon, feed: dict[str, Any]) -> dict[str, Any]:
    document = amazon.sp(
        FEEDS, "getFeedDocument", "GET", f"/feeds/2021-06-30/documents/{feed['resultFeedDocumentId']}", expect=200
    ).json()
    assert document["compressionAlgorithm"] == "GZIP"
    report = json.loads(gzip.decompress(httpx.get(document["url"]).content))
    assert_processing_report(report)
    return report


@pytest.fixture
def listed(seller: Amazon) -> Amazon:
    seller.put_listings(
        "UK",
        [
            {"sku": "SKU-A", "product_type": "SHIRT", "quantity": 1},
            {"sku": "sku-b", "product_type": "SHIRT", "quantity": 1},
        ],
    )
    return seller


def test_a_quantity_feed_updates_the_listings_and_reports_every_message(listed: Amazon) -> None:
    feed = listings_feed(quantity_message(1, "SKU-A", 7), quantity_message(2, "sku-b", 0))
    assert_listings_feed(feed)
    feed_id = submit(listed, feed)
    result = get_feed(listed, feed_id)
    assert result["processingStatus"] == "DONE"
    report = processing_report(listed, result)
    assert report["header"] == {"sellerId": SELLER_ID, "version": "2.0", "feedId": feed_id}
    assert report["summary"] == {
        "errors": 0,
        "warnings": 0,
        "messagesProcessed": 2,
        "messagesAccepted": 2,
        "messagesInvalid": 0,
    }
    assert report["issues"] == []
    assert listed.listings("UK") == {"SKU-A": 7, "sku-b": 0}


def test_skus_are_matched_case_sensitively_and_a_case_variant_is_an_error(listed: Amazon) -> None:
    feed_id = submit(
        listed,
        listings_feed(
            quantity_message(1, "sku-a", 9), quantity_message(2, "SKU-B", 9), quantity_message(3, "SKU-A", 4)
        ),
    )
    report = processing_report(listed, get_feed(listed, feed_id))
    assert report["summary"]["messagesAccepted"] == 1
    assert report["summary"]["messagesInvalid"] == 2
    assert [(i["messageId"], i["sku"], i["severity"]) for i in report["issues"]] == [
        (1, "sku-a", "ERROR"),
        (2, "SKU-B", "ERROR"),
    ]
    assert listed.listings("UK") == {"SKU-A": 4, "sku-b": 1}


def test_one_bad_message_does_not_stop_the_others(listed: Amazon) -> None:
    bad_quantity = quantity_message(1, "SKU-A", -1)
    no_patches = {"messageId": 2, "sku": "sku-b", "operationType": "PATCH", "productType": "PRODUCT"}
    feed_id = submit(listed, listings_feed(bad_quantity, no_patches, quantity_message(3, "sku-b", 5)))
    report = processing_report(listed, get_feed(listed, feed_id))
    assert (report["summary"]["messagesAccepted"], report["summary"]["messagesInvalid"]) == (1, 2)
    assert {i["messageId"] for i in report["issues"]} == {1, 2}
    assert listed.listings("UK") == {"SKU-A": 1, "sku-b": 5}


def test_a_duplicate_message_id_is_an_error_for_the_repeat(listed: Amazon) -> None:
    feed_id = submit(listed, listings_feed(quantity_message(1, "SKU-A", 2), quantity_message(1, "sku-b", 3)))
    report = processing_report(listed, get_feed(listed, feed_id))
    assert [i["sku"] for i in report["issues"]] == ["sku-b"]


def test_partial_update_and_delete_messages_apply(listed: Amazon) -> None:
    partial = {
        "messageId": 1,
        "sku": "SKU-A",
        "operationType": "PARTIAL_UPDATE",
        "productType": "SHIRT",
        "attributes": {"fulfillment_availability": [{"fulfillment_channel_code": "DEFAULT", "quantity": 12}]},
    }
    delete = {"messageId": 2, "sku": "sku-b", "operationType": "DELETE"}
    feed_id = submit(listed, listings_feed(partial, delete))
    assert processing_report(listed, get_feed(listed, feed_id))["summary"]["messagesAccepted"] == 2
    assert listed.listings("UK") == {"SKU-A": 12}


def test_a_feed_with_report_included_data_lists_the_items(listed: Amazon) -> None:
    feed = listings_feed(quantity_message(1, "SKU-A", 3))
    feed["header"]["report"] = {"includedData": ["summaries", "fulfillmentAvailability"], "apiVersion": "2021-08-01"}
    report = processing_report(listed, get_feed(listed, submit(listed, feed)))
    assert report["items"][0]["sku"] == "SKU-A"
    assert report["items"][0]["fulfillmentAvailability"] == [{"fulfillmentChannelCode": "DEFAULT", "quantity": 3}]
    assert report["summary"]["itemSummary"]["items"] == 1


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        (b"", "empty"),
        (b"{not json", "not valid"),
        (json.dumps({"header": {"sellerId": SELLER_ID, "version": "1.0"}, "messages": []}).encode(), "schema"),
        (json.dumps(listings_feed(quantity_message(1, "SKU-A", 1), seller_id="A2SOMEONEELSE")).encode(), "sellerId"),
    ],
)
def test_a_broken_feed_is_fatal_with_a_reason_in_its_report(listed: Amazon, content: bytes, reason: str) -> None:
    result = get_feed(listed, submit(listed, content))
    assert result["processingStatus"] == "FATAL"
    report = processing_report(listed, result)
    assert reason in report["issues"][0]["message"]
    assert listed.listings("UK") == {"SKU-A": 1, "sku-b": 1}


def test_processing_moves_through_in_queue_and_in_progress_by_polls(listed: Amazon) -> None:
    listed.config(feed_polls_before_done=2)
    feed_id = submit(listed, listings_feed(quantity_message(1, "SKU-A", 8)))
    statuses = [get_feed(listed, feed_id)["processingStatus"] for _ in range(3)]
    assert statuses == ["IN_QUEUE", "IN_PROGRESS", "DONE"]
    assert listed.listings("UK")["SKU-A"] == 8


def test_a_feed_waits_for_its_simulated_processing_time(listed: Amazon) -> None:
    listed.config(feed_processing_seconds=60)
    feed_id = submit(listed, listings_feed(quantity_message(1, "SKU-A", 8)))
    assert get_feed(listed, feed_id)["processingStatus"] == "IN_QUEUE"
    assert listed.listings("UK")["SKU-A"] == 1, "not applied before the feed is done"
    # Amazon's clock ran at real speed so far (the checks above cannot outrun a busy machine); now faster.
    listed.control("POST", "/_sim/rate-limits", {"enforce": False, "speedup": 1000})
    eventually(lambda: get_feed(listed, feed_id)["processingStatus"] == "DONE", what="60 Amazon seconds later")


def test_settle_finishes_every_pending_feed(listed: Amazon) -> None:
    listed.config(feed_polls_before_done=5)
    feed_id = submit(listed, listings_feed(quantity_message(1, "SKU-A", 6)))
    listed.control("POST", "/_sim/settle", {"seller_id": SELLER_ID})
    assert get_feed(listed, feed_id)["processingStatus"] == "DONE"
    assert listed.listings("UK")["SKU-A"] == 6


def test_a_quantity_in_one_marketplace_is_the_quantity_of_the_region(listed: Amazon) -> None:
    listed.put_listings("DE", [{"sku": "SKU-A", "product_type": "SHIRT", "quantity": 1}])
    submit(listed, listings_feed(quantity_message(1, "SKU-A", 9)))
    assert listed.listings("DE")["SKU-A"] == 9


def test_a_sku_not_listed_in_the_feeds_marketplace_is_an_error_naming_it(listed: Amazon) -> None:
    feed_id = submit(listed, listings_feed(quantity_message(1, "SKU-A", 9)), marketplaces=(DE,))
    report = processing_report(listed, get_feed(listed, feed_id))
    assert [(i["messageId"], i["sku"], i["code"]) for i in report["issues"]] == [(1, "SKU-A", "13013")]
    assert DE in report["issues"][0]["message"]
    assert listed.listings("UK")["SKU-A"] == 1


def test_the_upload_must_use_the_content_type_the_url_was_signed_for(seller: Amazon) -> None:
    document = create_document(seller)
    response = httpx.put(document["url"], content=b"{}", headers={"Content-Type": "text/plain"})
    assert response.status_code == 403
    assert "SignatureDoesNotMatch" in response.text


def test_an_upload_url_expires(seller: Amazon) -> None:
    seller.config(document_url_ttl_seconds=0.05)
    document = create_document(seller)
    time.sleep(0.1)
    response = httpx.put(document["url"], content=b"{}", headers={"Content-Type": CONTENT_TYPE})
    assert response.status_code == 403


def test_the_content_read_is_the_one_uploaded_before_create_feed(listed: Amazon) -> None:
    document = create_document(listed)
    httpx.put(
        document["url"],
        content=json.dumps(listings_feed(quantity_message(1, "SKU-A", 2))),
        headers={"Content-Type": CONTENT_TYPE},
    )
    spec = {"feedType": "JSON_LISTINGS_FEED", "marketplaceIds": [UK], "inputFeedDocumentId": document["feedDocumentId"]}
    feed_id = listed.sp(FEEDS, "createFeed", "POST", "/feeds/2021-06-30/feeds", expect=202, json=spec).json()["feedId"]
    httpx.put(
        document["url"],
        content=json.dumps(listings_feed(quantity_message(1, "SKU-A", 99))),
        headers={"Content-Type": CONTENT_TYPE},
    )
    get_feed(listed, feed_id)
    assert listed.listings("UK")["SKU-A"] == 2


def test_the_input_document_can_be_read_back_uncompressed(listed: Amazon) -> None:
    document = create_document(listed)
    httpx.put(document["url"], content=b'{"a": 1}', headers={"Content-Type": CONTENT_TYPE})
    got = listed.sp(
        FEEDS, "getFeedDocument", "GET", f"/feeds/2021-06-30/documents/{document['feedDocumentId']}", expect=200
    ).json()
    assert "compressionAlgorithm" not in got
    assert httpx.get(got["url"]).content == b'{"a": 1}'


def test_a_gzip_result_can_be_served_with_a_content_encoding_header(listed: Amazon) -> None:
    result = get_feed(listed, submit(listed, listings_feed(quantity_message(1, "SKU-A", 2))))
    got = listed.sp(
        FEEDS,
        "getFeedDocument",
        "GET",
        f"/feeds/2021-06-30/documents/{result['resultFeedDocumentId']}",
        expect=200,
        params={"enableContentEncodingUrlHeader": "true"},
    ).json()
    download = httpx.get(got["url"])
    assert download.headers["Content-Encoding"] == "gzip"
    assert download.json()["summary"]["messagesAccepted"] == 1


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ({"feedType": "POST_INVENTORY_AVAILABILITY_DATA", "marketplaceIds": [UK]}, "JSON_LISTINGS_FEED"),
        ({"feedType": "JSON_LISTINGS_FEED", "marketplaceIds": [FR]}, "not registered"),
        ({"feedType": "JSON_LISTINGS_FEED", "marketplaceIds": []}, "non-empty"),
        (
            {"feedType": "JSON_LISTINGS_FEED", "marketplaceIds": [UK], "inputFeedDocumentId": "nope"},
            "inputFeedDocumentId",
        ),
        ({"marketplaceIds": [UK]}, "'feedType' is a required property"),
    ],
)
def test_create_feed_refuses_what_amazon_refuses(seller: Amazon, spec: dict[str, Any], message: str) -> None:
    spec.setdefault("inputFeedDocumentId", create_document(seller)["feedDocumentId"])
    body = seller.sp(FEEDS, "createFeed", "POST", "/feeds/2021-06-30/feeds", expect=400, json=spec).json()
    error = body["errors"][0]
    assert message.lower() in f"{error['message']} {error.get('details', '')}".lower()


def test_create_feed_document_needs_a_content_type(seller: Amazon) -> None:
    seller.sp(FEEDS, "createFeedDocument", "POST", "/feeds/2021-06-30/documents", expect=400, json={})


def test_unknown_feeds_and_documents_are_not_found(seller: Amazon) -> None:
    seller.sp(FEEDS, "getFeed", "GET", "/feeds/2021-06-30/feeds/123", expect=404)
    seller.sp(FEEDS, "getFeedDocument", "GET", "/feeds/2021-06-30/documents/amzn1.tortuga.4.eu.nope", expect=404)


def test_another_sellers_feed_is_not_found(listed: Amazon) -> None:
    feed_id = submit(listed, listings_feed(quantity_message(1, "SKU-A", 2)))
    listed.add_seller("A2OTHERSELLER9", "Atzr|local-contract-test-refresh-token-02", ("UK",))
    other = listed.token_for("Atzr|local-contract-test-refresh-token-02")
    listed.sp(FEEDS, "getFeed", "GET", f"/feeds/2021-06-30/feeds/{feed_id}", expect=404, token=other)


def test_get_feeds_lists_the_sellers_feeds(listed: Amazon) -> None:
    feed_id = submit(listed, listings_feed(quantity_message(1, "SKU-A", 2)))
    body = listed.sp(
        FEEDS, "getFeeds", "GET", "/feeds/2021-06-30/feeds", expect=200, params={"feedTypes": "JSON_LISTINGS_FEED"}
    ).json()
    assert [f["feedId"] for f in body["feeds"]] == [feed_id]
    listed.sp(FEEDS, "getFeeds", "GET", "/feeds/2021-06-30/feeds", expect=400)


def test_only_a_queued_feed_can_be_cancelled(listed: Amazon) -> None:
    listed.config(feed_polls_before_done=3)
    feed_id = submit(listed, listings_feed(quantity_message(1, "SKU-A", 2)))
    listed.sp(FEEDS, "cancelFeed", "DELETE", f"/feeds/2021-06-30/feeds/{feed_id}", expect=200)
    assert get_feed(listed, feed_id)["processingStatus"] == "CANCELLED"
    assert listed.listings("UK")["SKU-A"] == 1
    listed.config(feed_polls_before_done=0)
    done = submit(listed, listings_feed(quantity_message(1, "SKU-A", 2)))
    get_feed(listed, done)
    listed.sp(FEEDS, "cancelFeed", "DELETE", f"/feeds/2021-06-30/feeds/{done}", expect=400)


def test_the_control_api_shows_what_each_feed_carried(listed: Amazon) -> None:
    submit(listed, listings_feed(quantity_message(1, "SKU-A", 2)))
    feeds = listed.control("GET", f"/_sim/sellers/{SELLER_ID}/feeds")["feeds"]
    assert feeds[0]["input"]["messages"][0]["sku"] == "SKU-A"
    assert feeds[0]["processing_report"]["summary"]["messagesAccepted"] == 1


# --- one marketplace, the feed type's own limit, the size limit (SPEC §1.1) ----------------------------------

TOO_MANY_MARKETPLACES = "Too many 'marketplaceIds' values provided. Expected a maximum of 1."
QUOTA_EXCEEDED = {
    "errors": [
        {"code": "QuotaExceeded", "message": "You exceeded your quota for the requested resource.", "details": ""}
    ]
}


def create_feed(amazon: Amazon, marketplaces: tuple[str, ...] = (UK,), *, expect: int = 202) -> httpx.Response:
    """A whole submission (document, upload, createFeed) of a one-message quantity feed."""
    document = create_document(amazon)
    content = json.dumps(listings_feed(quantity_message(1, "SKU-A", 2))).encode()
    assert httpx.put(document["url"], content=content, headers={"Content-Type": CONTENT_TYPE}).status_code == 200
    spec = {
        "feedType": "JSON_LISTINGS_FEED",
        "marketplaceIds": list(marketplaces),
        "inputFeedDocumentId": document["feedDocumentId"],
    }
    return amazon.sp(FEEDS, "createFeed", "POST", "/feeds/2021-06-30/feeds", expect=expect, json=spec)


def test_a_listings_feed_naming_several_marketplaces_is_refused_in_amazons_words(listed: Amazon) -> None:
    body = create_feed(listed, (UK, DE), expect=400).json()
    assert body == {"errors": [{"code": "InvalidInput", "message": TOO_MANY_MARKETPLACES, "details": ""}]}
    assert listed.control("GET", f"/_sim/sellers/{SELLER_ID}/feeds")["feeds"] == []
    assert create_feed(listed, (DE,)).json()["feedId"], "one marketplace is accepted as before"


def test_the_feed_type_allows_five_submissions_per_five_minutes_per_seller_and_region(listed: Amazon) -> None:
    listed.add_seller(marketplaces=("UK", "DE", "US"), expect=200)
    listed.add_seller("A2OTHERSELLER9", "Atzr|local-contract-test-refresh-token-02", ("UK",))
    listed.control("POST", "/_sim/rate-limits", {"enforce": True, "speedup": 1})
    for marketplace in (UK, DE, UK, DE, UK):
        create_feed(listed, (marketplace,))
    throttled = create_feed(listed, (DE,), expect=429)
    assert throttled.json() == QUOTA_EXCEEDED
    assert RATE_LIMIT_HEADER not in throttled.headers
    create_feed(listed, (US,))  # another region of the seller has its own five
    listed.access_token = listed.token_for("Atzr|local-contract-test-refresh-token-02")
    create_feed(listed, (UK,))  # so has another seller
    calls = listed.calls()
    assert (calls["counts"]["createFeed"], calls["throttled"]) == (8, 1)
    assert len(listed.control("GET", f"/_sim/sellers/{SELLER_ID}/feeds")["feeds"]) == 6


def test_a_refused_submission_uses_none_of_the_feed_types_allowance(listed: Amazon) -> None:
    listed.control("POST", "/_sim/rate-limits", {"enforce": True})
    for _ in range(3):
        create_feed(listed, (UK, DE), expect=400)
    for _ in range(5):
        create_feed(listed)
    create_feed(listed, expect=429)


def test_the_feed_types_allowance_refills_on_the_scaled_clock(listed: Amazon) -> None:
    # Five per 300 Amazon seconds: one more every 60. The five are spent on Amazon's clock at real speed (none
    # comes back however slow the machine); then at speedup 60 the next takes a real second.
    listed.control("POST", "/_sim/rate-limits", {"enforce": True, "speedup": 1})
    for _ in range(5):
        create_feed(listed)
    create_feed(listed, expect=429)
    listed.control("POST", "/_sim/rate-limits", {"enforce": True, "speedup": 60})
    throttled_at = listed.calls()["calls"][-1]["at"]
    eventually(lambda: listed.calls()["simulated_seconds"] >= throttled_at + 60, what="60 Amazon seconds")
    create_feed(listed)


def test_the_feed_types_allowance_is_a_plan_that_can_be_overridden(listed: Amazon) -> None:
    limits = listed.control("GET", "/_sim/rate-limits")
    assert limits["feed_types"] == {"JSON_LISTINGS_FEED": {"rate": pytest.approx(5 / 300), "burst": 5}}
    overrides = {"JSON_LISTINGS_FEED": {"rate": 0.001, "burst": 1}}
    limits = listed.control("POST", "/_sim/rate-limits", {"enforce": True, "overrides": overrides})
    assert limits["feed_types"]["JSON_LISTINGS_FEED"] == {"rate": 0.001, "burst": 1}
    create_feed(listed)
    create_feed(listed, expect=429)


def test_without_enforced_rate_limits_the_feed_type_allows_any_number(listed: Amazon) -> None:
    for _ in range(7):
        create_feed(listed)


def test_a_feed_of_more_than_25000_messages_is_fatal_in_amazons_words(listed: Amazon) -> None:
    messages = [quantity_message(n, "SKU-A", 5) for n in range(1, 25_002)]
    result = get_feed(listed, submit(listed, listings_feed(*messages)))
    assert result["processingStatus"] == "FATAL"
    report = processing_report(listed, result)
    assert report["issues"] == [
        {"code": "4000000", "severity": "ERROR", "message": "feed messages list beyond allowed size"}
    ]
    assert report["summary"]["messagesProcessed"] == 0
    assert listed.listings("UK")["SKU-A"] == 1


def test_a_feed_of_25000_messages_is_processed(listed: Amazon) -> None:
    messages = [quantity_message(n, "SKU-A", n % 7) for n in range(1, 25_001)]
    report = processing_report(listed, get_feed(listed, submit(listed, listings_feed(*messages))))
    assert report["summary"]["messagesAccepted"] == 25_000
    assert listed.listings("UK")["SKU-A"] == 25_000 % 7


# --- merge and replace, FBA SKUs ------------------------------------------------------------------------------------


def availability_message(message_id: int, sku: str, op: str, **fields: Any) -> dict[str, Any]:
    return {
        "messageId": message_id,
        "sku": sku,
        "operationType": "PATCH",
        "productType": "PRODUCT",
        "patches": [
            {
                "op": op,
                "path": "/attributes/fulfillment_availability",
                "value": [{"fulfillment_channel_code": "DEFAULT", **fields}],
            }
        ],
    }


def listing(amazon: Amazon, sku: str, marketplace: str = "UK") -> dict[str, Any]:
    items = amazon.control("GET", f"/_sim/sellers/{SELLER_ID}/listings", params={"marketplace": marketplace})["items"]
    return next(item for item in items if item["sku"] == sku)


@pytest.fixture
def handled(seller: Amazon) -> Amazon:
    """A merchant-fulfilled listing with a handling time and a restock date."""
    seller.put_listings(
        "UK",
        [{"sku": "SKU-A", "quantity": 1, "lead_time_to_ship_max_days": 4, "restock_date": "2026-03-01"}],
    )
    return seller


def test_merge_changes_the_quantity_and_keeps_handling_time_and_restock_date(handled: Amazon) -> None:
    feed = listings_feed(availability_message(1, "SKU-A", "merge", quantity=8))
    assert_listings_feed(feed)
    report = processing_report(handled, get_feed(handled, submit(handled, feed)))
    assert (report["issues"], report["summary"]["messagesAccepted"]) == ([], 1)
    item = listing(handled, "SKU-A")
    assert (item["quantity"], item["lead_time_to_ship_max_days"], item["restock_date"]) == (8, 4, "2026-03-01")


def test_replace_wipes_the_handling_time_and_restock_date_it_does_not_name(handled: Amazon) -> None:
    submit(handled, listings_feed(availability_message(1, "SKU-A", "replace", quantity=8)))
    item = listing(handled, "SKU-A")
    assert (item["quantity"], item["lead_time_to_ship_max_days"], item["restock_date"]) == (8, None, None)


def test_merge_can_change_the_handling_time_alone(handled: Amazon) -> None:
    submit(handled, listings_feed(availability_message(1, "SKU-A", "merge", lead_time_to_ship_max_days=2)))
    item = listing(handled, "SKU-A")
    assert (item["quantity"], item["lead_time_to_ship_max_days"], item["restock_date"]) == (1, 2, "2026-03-01")


def test_a_default_quantity_sent_to_an_fba_sku_is_accepted_and_recorded_beside_amazons_channel(seller: Amazon) -> None:
    seller.put_listings("UK", [{"sku": "FBA-1", "fulfillment_channel": "AMAZON_EU", "quantity": 30}])
    report = processing_report(seller, get_feed(seller, submit(seller, listings_feed(quantity_message(1, "FBA-1", 5)))))
    assert (report["issues"], report["summary"]["messagesAccepted"]) == ([], 1)
    item = listing(seller, "FBA-1")
    assert (item["fulfillment_channel"], item["quantity"]) == ("AMAZON_EU", 30), "Amazon's own count is untouched"
    assert [(a["fulfillment_channel_code"], a["quantity"]) for a in item["fulfillment_availability"]] == [
        ("AMAZON_EU", 30),
        ("DEFAULT", 5),
    ]


# --- processing-report issues: by messageId, `sku` only where Amazon gives it ----------------------------------------


def test_message_level_errors_carry_the_message_id_and_no_sku(listed: Amazon) -> None:
    bad_type = quantity_message(1, "SKU-A", 3, productType="shirt")
    no_patches = {"messageId": 2, "sku": "sku-b", "operationType": "PATCH", "productType": "PRODUCT"}
    no_channel = quantity_message(3, "sku-b", 4)
    no_channel["patches"][0]["value"] = [{"quantity": 4}]
    unknown = quantity_message(4, "NOPE", 1)
    report = processing_report(
        listed,
        get_feed(
            listed,
            submit(listed, listings_feed(bad_type, no_patches, no_channel, unknown, quantity_message(5, "sku-b", 6))),
        ),
    )
    assert report["issues"] == [
        {
            "messageId": 1,
            "code": "4000003",
            "severity": "ERROR",
            "message": "The Amazon product type specified is invalid or not supported.",
        },
        {
            "messageId": 2,
            "code": "4002008",
            "severity": "ERROR",
            "message": "The provided message did not meet the schema validation requirements for a feed message.",
        },
        {"messageId": 3, "code": "BAD_REQUEST", "severity": "ERROR", "message": "Invalid parameters provided."},
        {
            "messageId": 4,
            "sku": "NOPE",
            "code": "13013",
            "severity": "ERROR",
            "message": f"The SKU 'NOPE' does not match any listing of this seller in marketplace {UK}.",
        },
    ]
    summary = report["summary"]
    assert (summary["messagesProcessed"], summary["messagesAccepted"], summary["messagesInvalid"]) == (5, 1, 4)
    assert listed.listings("UK") == {"SKU-A": 1, "sku-b": 6}


# --- FATAL on demand, and a feed that waits ---------------------------------------------------------------------------


def test_a_fatal_fault_aborts_the_next_feed_with_a_processing_report_saying_so(listed: Amazon) -> None:
    listed.control("POST", "/_sim/faults", {"operation": "createFeed", "kind": "fatal", "count": 1}, expect=201)
    result = get_feed(listed, submit(listed, listings_feed(quantity_message(1, "SKU-A", 9))))
    assert result["processingStatus"] == "FATAL"
    report = processing_report(listed, result)
    assert report["issues"] == [
        {"code": "4000000", "severity": "ERROR", "message": "The feed was aborted due to a fatal error."}
    ]
    assert report["summary"]["messagesProcessed"] == 0
    assert listed.listings("UK")["SKU-A"] == 1, "nothing of an aborted feed applies"
    assert (
        get_feed(listed, submit(listed, listings_feed(quantity_message(1, "SKU-A", 9))))["processingStatus"] == "DONE"
    )


def test_a_fatal_feed_can_say_why_and_still_takes_its_polls(listed: Amazon) -> None:
    listed.config(feed_polls_before_done=1)
    fault = {"operation": "feeds_2021-06-30.createFeed", "kind": "fatal", "message": "Internal processing error."}
    listed.control("POST", "/_sim/faults", fault, expect=201)
    feed_id = submit(listed, listings_feed(quantity_message(1, "SKU-A", 9)))
    assert [get_feed(listed, feed_id)["processingStatus"] for _ in range(2)] == ["IN_QUEUE", "FATAL"]
    report = processing_report(listed, get_feed(listed, feed_id))
    assert report["issues"][0]["message"] == "Internal processing error."


def test_a_feed_can_stay_in_queue_for_several_polls(listed: Amazon) -> None:
    listed.config(feed_polls_before_done=4, feed_polls_in_queue=2)
    feed_id = submit(listed, listings_feed(quantity_message(1, "SKU-A", 8)))
    statuses = [get_feed(listed, feed_id)["processingStatus"] for _ in range(5)]
    assert statuses == ["IN_QUEUE", "IN_QUEUE", "IN_PROGRESS", "IN_PROGRESS", "DONE"]
