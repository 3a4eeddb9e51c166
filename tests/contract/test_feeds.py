"""Feeds 2021-06-30 with a JSON_LISTINGS_FEED: document, upload, feed, processing, processing report."""

from __future__ import annotations

import gzip
import json
import time
from typing import Any

import httpx
import pytest

from tests.contract.conftest import DE, FR, SELLER_ID, UK, Amazon
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
    listed.control("POST", "/_sim/rate-limits", {"enforce": False, "speedup": 1000})
    feed_id = submit(listed, listings_feed(quantity_message(1, "SKU-A", 8)))
    assert get_feed(listed, feed_id)["processingStatus"] == "IN_QUEUE"
    assert listed.listings("UK")["SKU-A"] == 1, "not applied before the feed is done"
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


def test_a_sku_missing_in_one_of_the_feeds_marketplaces_is_an_error(listed: Amazon) -> None:
    feed_id = submit(listed, listings_feed(quantity_message(1, "SKU-A", 9)), marketplaces=(UK, DE))
    report = processing_report(listed, get_feed(listed, feed_id))
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
