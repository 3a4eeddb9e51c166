"""The client's transport behaviour: headers and endpoints, waiting for tokens, back-off and typed failures.

Every test runs on a ManualClock: sleeping advances simulated time, nothing really waits.
"""

from __future__ import annotations

import json
import random
from datetime import UTC, datetime

import httpx
import pytest
from oms_amazon.adapters.sp_api import (
    AccessDenied,
    AmazonUnavailable,
    AuthorisationRejected,
    BucketRegistry,
    CallCounters,
    InvalidRequest,
    ManualClock,
    NotFound,
    RetryPolicy,
    SpApiCallEvent,
    SpApiClient,
    SpApiConfig,
    SpApiError,
    Throttled,
    UnexpectedResponse,
    builders,
    endpoint_for,
    paginate,
)
from oms_amazon.domain.marketplaces import marketplace_by_code

from tests.unit.test_sp_api_support import (
    CANARY_ACCESS_TOKEN,
    CANARY_REFRESH_TOKEN,
    FakeTokens,
    Recorder,
    json_response,
    make_client,
    responses,
)

pytestmark = pytest.mark.unit

UK = "A1F83G8C2ARO7P"
OK_PATCH = {"sku": "SKU-1", "status": "ACCEPTED", "submissionId": "sub-1", "issues": []}
THROTTLED = {"errors": [{"code": "QuotaExceeded", "message": "You exceeded your quota for the requested resource."}]}
UNAVAILABLE = {"errors": [{"code": "ServiceUnavailable", "message": "Service temporarily unavailable."}]}


def _patch(client: SpApiClient, sku: str = "SKU-1") -> object:
    return client.patch_listing_quantity(sku=sku, marketplace_ids=[UK], quantity=3)


# --------------------------------------------------------------------------------------- how it calls


def test_a_call_carries_the_access_token_user_agent_and_json_body_and_no_aws_signature() -> None:
    amazon = responses(json_response(200, OK_PATCH))

    _patch(make_client(amazon))

    (request,) = amazon.requests
    assert request.headers["x-amz-access-token"] == CANARY_ACCESS_TOKEN
    assert request.headers["user-agent"].startswith("OmsAmazonConnector/1.0 (Language=Python/3.")
    assert request.headers["content-type"] == "application/json"
    assert "authorization" not in request.headers
    assert "x-amz-date" not in request.headers
    assert json.loads(request.content)["patches"][0]["value"][0]["quantity"] == 3


def test_every_call_has_a_timeout() -> None:
    amazon = responses(json_response(200, OK_PATCH))

    _patch(make_client(amazon))

    timeout = amazon.requests[0].extensions["timeout"]
    assert all(timeout[phase] is not None for phase in ("connect", "read", "write", "pool"))


@pytest.mark.parametrize(
    ("region", "host"),
    [
        ("na", "sellingpartnerapi-na.amazon.com"),
        ("eu", "sellingpartnerapi-eu.amazon.com"),
        ("fe", "sellingpartnerapi-fe.amazon.com"),
    ],
)
def test_the_endpoint_is_the_regions_production_host(region: str, host: str) -> None:
    amazon = responses(json_response(200, OK_PATCH))

    _patch(make_client(amazon, region=region))

    assert amazon.requests[0].url.host == host
    assert amazon.requests[0].url.scheme == "https"


def test_the_sandbox_and_an_override_change_the_host() -> None:
    assert endpoint_for("eu", sandbox=True) == "https://sandbox.sellingpartnerapi-eu.amazon.com"
    amazon = responses(json_response(200, OK_PATCH))

    _patch(make_client(amazon, region="fe", endpoint_override="http://127.0.0.1:8100/"))

    assert str(amazon.requests[0].url).startswith("http://127.0.0.1:8100/listings/2021-08-01/items/A3SELLER0001/SKU-1")


def test_a_client_for_a_marketplace_talks_to_that_marketplaces_region() -> None:
    client = SpApiClient.for_marketplace(
        marketplace_by_code("JP"), seller_id="A3SELLER0001", refresh_token=CANARY_REFRESH_TOKEN, lwa=FakeTokens()
    )

    assert (client.region, client.base_url) == ("fe", "https://sellingpartnerapi-fe.amazon.com")
    client.close()


def test_a_client_needs_a_seller_and_a_known_region() -> None:
    with pytest.raises(ValueError, match="seller_id"):
        SpApiClient(seller_id="", region="eu", refresh_token=CANARY_REFRESH_TOKEN, lwa=FakeTokens())
    with pytest.raises(ValueError, match="region"):
        SpApiClient(seller_id="S", region="us", refresh_token=CANARY_REFRESH_TOKEN, lwa=FakeTokens())  # type: ignore[arg-type]


def test_the_default_config_retries_for_at_most_a_minute() -> None:
    assert SpApiConfig().retry.time_budget == 60.0


# ------------------------------------------------------------------------------------- waiting for tokens


def test_calls_beyond_the_burst_wait_for_tokens_instead_of_collecting_429s() -> None:
    clock = ManualClock()
    amazon = responses(json_response(200, OK_PATCH))
    client = make_client(amazon, clock=clock)  # patchListingsItem: 5 req/s, burst 5

    for n in range(7):
        _patch(client, f"SKU-{n}")

    assert len(amazon) == 7
    assert clock.sleeps == pytest.approx([0.2, 0.2])


def test_a_token_further_away_than_the_budget_raises_throttled_without_calling_amazon() -> None:
    clock = ManualClock()
    amazon = responses(json_response(202, {"feedId": "1"}))
    client = make_client(amazon, clock=clock)  # createFeed: 0.0083 req/s, burst 15
    for n in range(15):
        client.create_feed(feed_type="POST_PRODUCT_DATA", marketplace_ids=[UK], input_feed_document_id=f"d{n}")

    with pytest.raises(Throttled) as raised:
        client.create_feed(feed_type="POST_PRODUCT_DATA", marketplace_ids=[UK], input_feed_document_id="d16")

    assert len(amazon) == 15
    assert clock.sleeps == []
    assert raised.value.code == "RateLimitBudgetExceeded"
    assert raised.value.retry_after == pytest.approx(1 / 0.0083)


def test_listings_feeds_also_wait_for_their_feed_types_own_limit_of_five_per_five_minutes() -> None:
    clock = ManualClock()
    amazon = responses(json_response(202, {"feedId": "1"}))
    client = make_client(amazon, clock=clock, retry=RetryPolicy(time_budget=90.0))
    for n in range(5):
        client.create_feed(feed_type="JSON_LISTINGS_FEED", marketplace_ids=[UK], input_feed_document_id=f"d{n}")
    assert clock.sleeps == [], "five at once: the burst"

    client.create_feed(feed_type="JSON_LISTINGS_FEED", marketplace_ids=[UK], input_feed_document_id="d5")

    assert clock.sleeps == pytest.approx([60.0]), "then one a minute, though createFeed itself has tokens left"
    client.create_feed(feed_type="POST_PRODUCT_DATA", marketplace_ids=[UK], input_feed_document_id="other")
    assert clock.sleeps == pytest.approx([60.0]), "another feed type is not held back by the listings feed's limit"
    assert len(amazon) == 7


def test_a_token_within_the_budget_is_waited_for() -> None:
    clock = ManualClock()
    amazon = responses(json_response(200, {"payload": {"Orders": []}}))
    client = make_client(amazon, clock=clock, retry=RetryPolicy(time_budget=90.0))  # getOrders: 0.0167/s, burst 20

    for _ in range(21):
        client.get_orders(marketplace_ids=[UK], last_updated_after=datetime(2026, 3, 1, tzinfo=UTC))

    assert len(amazon) == 21
    assert clock.sleeps == pytest.approx([1 / 0.0167])


def test_clients_built_per_invocation_share_the_sellers_buckets() -> None:
    clock = ManualClock()
    registry = BucketRegistry()
    amazon = responses(json_response(200, OK_PATCH))
    for _ in range(5):
        _patch(make_client(amazon, clock=clock, buckets=registry))

    _patch(make_client(amazon, clock=clock, buckets=registry))
    _patch(make_client(amazon, clock=clock, buckets=registry, seller_id="A3OTHERSELLER"))

    assert clock.sleeps == pytest.approx([0.2])


def test_the_rate_header_corrects_the_bucket_and_its_absence_changes_nothing() -> None:
    registry = BucketRegistry()
    amazon = responses(
        json_response(200, {"payload": {"Orders": []}}, {"x-amzn-RateLimit-Limit": "0.5"}),
        json_response(200, {"payload": {"Orders": []}}),
    )
    client = make_client(amazon, buckets=registry)

    client.get_orders(marketplace_ids=[UK], last_updated_after="2026-03-01T00:00:00Z")
    client.get_orders(marketplace_ids=[UK], last_updated_after="2026-03-01T00:00:00Z")

    bucket = registry.get("A3SELLER0001", "eu", "getOrders")
    assert bucket is not None
    assert bucket.rate == 0.5


def test_a_garbled_rate_header_is_ignored() -> None:
    registry = BucketRegistry()
    amazon = responses(json_response(200, OK_PATCH, {"x-amzn-RateLimit-Limit": "fast"}))

    _patch(make_client(amazon, buckets=registry))

    bucket = registry.get("A3SELLER0001", "eu", "patchListingsItem")
    assert bucket is not None
    assert bucket.rate == 5.0


# --------------------------------------------------------------------------------------------- back-off


def test_a_429_is_retried_after_a_back_off_and_then_succeeds() -> None:
    clock = ManualClock()
    amazon = responses(json_response(429, THROTTLED), json_response(200, OK_PATCH))

    submission = _patch(make_client(amazon, clock=clock))

    assert submission.status == "ACCEPTED"  # type: ignore[attr-defined]
    assert len(amazon) == 2
    assert clock.sleeps == [0.75]


@pytest.mark.parametrize("status", [500, 502, 503, 504])
def test_server_errors_are_retried_with_growing_back_off(status: int) -> None:
    clock = ManualClock()
    amazon = responses(
        json_response(status, UNAVAILABLE), json_response(status, UNAVAILABLE), json_response(200, OK_PATCH)
    )

    _patch(make_client(amazon, clock=clock))

    assert len(amazon) == 3
    assert clock.sleeps == [0.75, 1.5]


@pytest.mark.parametrize(
    "failure",
    [
        httpx.ConnectError("connection refused"),
        httpx.ConnectTimeout("connect timed out"),
        httpx.ReadTimeout("read timed out"),
        httpx.RemoteProtocolError("server disconnected"),
    ],
)
def test_transport_errors_and_timeouts_are_retried(failure: Exception) -> None:
    clock = ManualClock()
    amazon = responses(failure, json_response(200, OK_PATCH))

    _patch(make_client(amazon, clock=clock))

    assert len(amazon) == 2


def test_persistent_429s_end_in_throttled_within_the_time_budget() -> None:
    clock = ManualClock()
    counters = CallCounters()
    amazon = responses(json_response(429, THROTTLED, {"x-amzn-RequestId": "req-429"}))

    with pytest.raises(Throttled) as raised:
        _patch(make_client(amazon, clock=clock, metrics=counters, retry=RetryPolicy(time_budget=30.0)))

    error = raised.value
    assert clock.now <= 30.0
    assert (error.status, error.code, error.request_id) == (429, "QuotaExceeded", "req-429")
    assert error.retry_after is not None and error.retry_after > 0
    assert counters.count("patchListingsItem", "throttled") == len(amazon) > 1
    assert counters.count("patchListingsItem", "gave_up") == 1


def test_persistent_server_errors_end_in_amazon_unavailable_within_the_time_budget() -> None:
    clock = ManualClock()
    amazon = responses(json_response(503, UNAVAILABLE))

    with pytest.raises(AmazonUnavailable) as raised:
        _patch(make_client(amazon, clock=clock, retry=RetryPolicy(time_budget=20.0)))

    assert clock.now <= 20.0
    assert raised.value.status == 503
    assert len(amazon) == 1 + len(clock.sleeps)


def test_persistent_timeouts_end_in_amazon_unavailable_naming_the_failure() -> None:
    clock = ManualClock()
    amazon = responses(httpx.ReadTimeout("read timed out"))

    with pytest.raises(AmazonUnavailable) as raised:
        _patch(make_client(amazon, clock=clock, retry=RetryPolicy(time_budget=10.0)))

    assert raised.value.code == "ReadTimeout"
    assert raised.value.status is None
    assert clock.now <= 10.0


def test_the_attempt_cap_bounds_retries_even_with_time_left() -> None:
    amazon = responses(json_response(500, UNAVAILABLE))

    with pytest.raises(AmazonUnavailable):
        _patch(make_client(amazon, retry=RetryPolicy(time_budget=3600.0, max_attempts=3)))

    assert len(amazon) == 3


def test_jittered_delays_stay_within_bounds_and_are_not_all_equal() -> None:
    clock = ManualClock()
    policy = RetryPolicy(time_budget=300.0, base_delay=1.0, max_delay=16.0, max_attempts=9)
    amazon = responses(json_response(503, UNAVAILABLE))

    with pytest.raises(AmazonUnavailable):
        _patch(make_client(amazon, clock=clock, retry=policy, jitter=random.Random(7).random))

    assert len(clock.sleeps) == 8
    for retry, delay in enumerate(clock.sleeps, start=1):
        ceiling = policy.backoff_ceiling(retry)
        assert ceiling / 2 <= delay <= ceiling
    assert len({round(d / policy.backoff_ceiling(n), 6) for n, d in enumerate(clock.sleeps, start=1)}) > 1


def test_after_a_429_the_next_attempt_also_respects_the_emptied_bucket() -> None:
    clock = ManualClock()
    amazon = responses(json_response(429, THROTTLED), json_response(200, {"payload": {"Orders": []}}))
    client = make_client(amazon, clock=clock, retry=RetryPolicy(time_budget=120.0))  # getOrders: 60 s per token

    client.get_orders(marketplace_ids=[UK], last_updated_after="2026-03-01T00:00:00Z")

    assert clock.sleeps[0] == 0.75  # back-off
    assert sum(clock.sleeps) == pytest.approx(1 / 0.0167)  # then the rest of the wait for Amazon's next token


# ------------------------------------------------------------------------------------- refused requests


@pytest.mark.parametrize(
    ("status", "error_type"), [(400, InvalidRequest), (404, NotFound), (413, InvalidRequest), (415, InvalidRequest)]
)
def test_client_errors_are_raised_at_once_as_typed_errors(status: int, error_type: type[SpApiError]) -> None:
    clock = ManualClock()
    amazon = responses(json_response(status, {"errors": [{"code": "X", "message": "refused"}]}))

    with pytest.raises(error_type):
        _patch(make_client(amazon, clock=clock))

    assert len(amazon) == 1
    assert clock.sleeps == []


@pytest.mark.parametrize("status", [401, 403])
def test_access_denied_is_retried_once_with_a_fresh_access_token(status: int) -> None:
    tokens = FakeTokens()
    amazon = responses(json_response(status, {"errors": [{"code": "Unauthorized", "message": "Access denied"}]}))

    with pytest.raises(AccessDenied):
        _patch(make_client(amazon, tokens=tokens))

    assert len(amazon) == 2
    assert tokens.force_refreshes == [False, True]


def test_an_expired_cached_token_is_replaced_and_the_call_succeeds() -> None:
    tokens = FakeTokens()
    amazon = responses(
        json_response(
            403, {"errors": [{"code": "Unauthorized", "message": "The access token you provided has expired."}]}
        ),
        json_response(200, OK_PATCH),
    )

    _patch(make_client(amazon, tokens=tokens))

    assert tokens.force_refreshes == [False, True]


def test_a_revoked_authorisation_surfaces_as_authorisation_rejected() -> None:
    class RevokedAfterCache(FakeTokens):
        def access_token(self, refresh_token: str, *, force_refresh: bool = False) -> str:
            if force_refresh:
                raise AuthorisationRejected("invalid_grant", operation="lwaToken", status=400, code="invalid_grant")
            return super().access_token(refresh_token)

    amazon = responses(json_response(403, {"errors": [{"code": "Unauthorized", "message": "Access denied"}]}))

    with pytest.raises(AuthorisationRejected):
        _patch(make_client(amazon, tokens=RevokedAfterCache()))

    assert len(amazon) == 1


def test_a_gateway_error_without_json_uses_the_error_type_header() -> None:
    amazon = responses(
        httpx.Response(403, text="<html>denied</html>", headers={"x-amzn-ErrorType": "AccessDeniedException:http://x/"})
    )

    with pytest.raises(AccessDenied) as raised:
        _patch(make_client(amazon))

    assert raised.value.code == "AccessDeniedException"


# ------------------------------------------------------------------------------------------- responses


def test_a_v0_answer_with_errors_and_no_payload_is_an_error_even_when_2xx() -> None:
    amazon = responses(json_response(200, {"errors": [{"code": "InvalidInput", "message": "Invalid Input"}]}))

    with pytest.raises(SpApiError) as raised:
        make_client(amazon).get_order_items("202-1234567-1234567")

    assert raised.value.code == "InvalidInput"


def test_an_answer_of_the_wrong_shape_is_unexpected_and_names_only_the_fields() -> None:
    amazon = responses(json_response(200, {"orders": [{"orderId": "buyer-secret-data"}]}))

    with pytest.raises(UnexpectedResponse) as raised:
        make_client(amazon).search_orders(marketplace_ids=[UK], last_updated_after="2026-03-01T00:00:00Z")

    assert "orders.0.createdTime" in raised.value.message
    assert "buyer-secret-data" not in str(raised.value)


def test_unknown_fields_from_amazon_are_kept_not_rejected() -> None:
    amazon = responses(json_response(200, {**OK_PATCH, "brandNewField": {"x": 1}}))

    submission = _patch(make_client(amazon))

    assert submission.model_extra == {"brandNewField": {"x": 1}}  # type: ignore[attr-defined]


def test_paging_through_search_orders_follows_pagination_tokens_keeping_the_filters() -> None:
    pages = [
        {"orders": [], "pagination": {"nextToken": "t2"}},
        {"orders": [], "pagination": {"nextToken": "t3"}},
        {"orders": []},
    ]
    amazon = Recorder(lambda request: json_response(200, pages[len(amazon.requests) - 1]))
    client = make_client(amazon)

    got = list(
        paginate(
            lambda token: client.search_orders(
                marketplace_ids=[UK],
                last_updated_after="2026-03-01T00:00:00Z",
                fulfilled_by=["MERCHANT"],
                pagination_token=token,
            )
        )
    )

    assert len(got) == 3
    assert [r.url.params.get("paginationToken") for r in amazon.requests] == [None, "t2", "t3"]
    assert {r.url.params["fulfilledBy"] for r in amazon.requests} == {"MERCHANT"}


def test_paging_through_listings_stops_on_the_last_page() -> None:
    pages = [
        {"numberOfResults": 2, "items": [{"sku": "A"}], "pagination": {"nextToken": "p2"}},
        {"numberOfResults": 2, "items": [{"sku": "b"}]},
    ]
    amazon = Recorder(lambda request: json_response(200, pages[len(amazon.requests) - 1]))
    client = make_client(amazon)

    listed = paginate(lambda token: client.search_listings_items(marketplace_ids=[UK], page_token=token))
    skus = [item.sku for page in listed for item in page.items]

    assert skus == ["A", "b"]
    assert amazon.requests[1].url.params["pageToken"] == "p2"


def test_all_items_of_a_long_order_are_collected_across_pages() -> None:
    def item(n: int) -> dict[str, object]:
        return {"ASIN": f"B0{n}", "OrderItemId": f"{n}", "QuantityOrdered": 1, "SellerSKU": f"SKU-{n}"}

    pages = [
        {"payload": {"AmazonOrderId": "o", "OrderItems": [item(1)], "NextToken": "n2"}},
        {"payload": {"AmazonOrderId": "o", "OrderItems": [item(2)]}},
    ]
    amazon = Recorder(lambda request: json_response(200, pages[len(amazon.requests) - 1]))

    items = make_client(amazon).list_order_items("o")

    assert [i.seller_sku for i in items] == ["SKU-1", "SKU-2"]
    assert amazon.requests[1].url.params["NextToken"] == "n2"


def test_send_accepts_any_built_request() -> None:
    amazon = responses(json_response(200, {"payload": []}))

    response = make_client(amazon).send(builders.get_marketplace_participations())

    assert (response.status, response.body) == (200, {"payload": []})


# ---------------------------------------------------------------------------------------------- metrics


def test_the_metrics_hook_sees_each_attempt_with_status_and_request_id() -> None:
    events: list[SpApiCallEvent] = []
    amazon = responses(
        json_response(429, THROTTLED, {"x-amzn-RequestId": "r1"}),
        json_response(200, OK_PATCH, {"x-amzn-RequestId": "r2"}),
    )

    _patch(make_client(amazon, metrics=events.append))

    assert [(e.outcome, e.status, e.attempt, e.request_id) for e in events] == [
        ("throttled", 429, 1, "r1"),
        ("success", 200, 2, "r2"),
    ]
    assert {(e.operation, e.seller_id, e.region) for e in events} == {("patchListingsItem", "A3SELLER0001", "eu")}


def test_call_counters_add_up_outcomes_and_token_waits() -> None:
    counters = CallCounters()
    clock = ManualClock()
    client = make_client(responses(json_response(200, OK_PATCH)), clock=clock, metrics=counters)

    for n in range(6):
        _patch(client, f"S{n}")

    assert counters.count("patchListingsItem", "success") == 6
    assert counters.total("success") == 6
    assert counters.token_wait["patchListingsItem"] == pytest.approx(0.2)


def test_a_broken_metrics_hook_does_not_break_the_call() -> None:
    def broken(event: SpApiCallEvent) -> None:
        raise RuntimeError("metrics backend down")

    submission = _patch(make_client(responses(json_response(200, OK_PATCH)), metrics=broken))

    assert submission.status == "ACCEPTED"  # type: ignore[attr-defined]


def test_a_429_on_a_slow_operation_gives_up_when_amazons_next_token_is_beyond_the_budget() -> None:
    clock = ManualClock()
    amazon = responses(json_response(429, THROTTLED))
    client = make_client(amazon, clock=clock, retry=RetryPolicy(time_budget=30.0))  # getOrders: 60 s per token

    with pytest.raises(Throttled) as raised:
        client.get_orders(marketplace_ids=[UK], last_updated_after="2026-03-01T00:00:00Z")

    assert len(amazon) == 1
    assert clock.now < 30.0
    assert raised.value.status == 429
    assert raised.value.retry_after == pytest.approx(1 / 0.0167 - 0.75)
