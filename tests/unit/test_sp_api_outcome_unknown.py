"""A call Amazon may act on twice (createFeed: no idempotency key) is not repeated once it may have
reached Amazon, and a lost feed is looked up only among feeds created after it was recorded."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx
import pytest
from oms_amazon.adapters.amazon import SellerAmazon
from oms_amazon.adapters.sp_api import AmazonUnavailable, OutcomeUnknown, RetryPolicy, SpApiClient

from tests.unit.test_sp_api_support import json_response, make_client, responses

pytestmark = pytest.mark.unit

UK = "A1F83G8C2ARO7P"
CREATED = json_response(202, {"feedId": "50001"})
THROTTLED = json_response(429, {"errors": [{"code": "QuotaExceeded", "message": "You exceeded your quota."}]})
FAILED = json_response(500, {"errors": [{"code": "InternalFailure", "message": "We encountered an internal error."}]})
PATCHED = json_response(200, {"sku": "SKU-1", "status": "ACCEPTED", "submissionId": "s-1", "issues": []})


def _create_feed(client: SpApiClient) -> str:
    return client.create_feed(
        feed_type="JSON_LISTINGS_FEED", marketplace_ids=[UK], input_feed_document_id="amzn1.tortuga.4.eu.doc"
    ).feed_id


@pytest.mark.parametrize(
    "lost", [FAILED, httpx.ReadTimeout("read timed out"), httpx.RemoteProtocolError("server hung up")]
)
def test_create_feed_is_not_repeated_once_amazon_may_have_taken_it(lost: httpx.Response | Exception) -> None:
    amazon = responses(lost, CREATED)

    with pytest.raises(OutcomeUnknown) as raised:
        _create_feed(make_client(amazon))

    assert len(amazon) == 1
    assert isinstance(raised.value, AmazonUnavailable)


@pytest.mark.parametrize("refused", [THROTTLED, httpx.ConnectError("connection refused")])
def test_create_feed_is_repeated_when_amazon_never_took_it(refused: httpx.Response | Exception) -> None:
    amazon = responses(refused, CREATED)

    # After a 429 the client waits for createFeed's next token (one per two minutes) on its manual clock.
    assert _create_feed(make_client(amazon, retry=RetryPolicy(time_budget=300))) == "50001"
    assert len(amazon) == 2


def test_an_idempotent_call_is_still_retried_after_a_server_error() -> None:
    amazon = responses(FAILED, PATCHED)

    make_client(amazon).patch_listing_quantity(sku="SKU-1", marketplace_ids=[UK], quantity=3)

    assert len(amazon) == 2


def _feed(feed_id: str, created: datetime) -> dict[str, object]:
    return {
        "feedId": feed_id,
        "feedType": "JSON_LISTINGS_FEED",
        "createdTime": created.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "processingStatus": "DONE",
        "marketplaceIds": [UK],
    }


def test_a_lost_feed_is_never_mistaken_for_an_earlier_one_that_was_already_settled() -> None:
    recorded = datetime(2026, 5, 1, 12, 0, 30, tzinfo=UTC)
    # Newest first; the server ignores createdSince, as the local simulator does.
    earlier_only = responses(json_response(200, {"feeds": [_feed("40001", recorded - timedelta(seconds=20))]}))
    both = responses(
        json_response(200, {"feeds": [_feed("50001", recorded), _feed("40001", recorded - timedelta(seconds=20))]})
    )

    assert SellerAmazon(make_client(earlier_only)).find_feed(recorded - timedelta(seconds=1), [UK], set()) is None
    assert SellerAmazon(make_client(both)).find_feed(recorded - timedelta(seconds=1), [UK], set()) == "50001"
