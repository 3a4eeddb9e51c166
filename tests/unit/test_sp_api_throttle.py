"""Token buckets, the shared registry, the rate table and the back-off policy (pure arithmetic)."""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st
from oms_amazon.adapters.sp_api import RATE_LIMITS, BucketRegistry, RateLimit, RetryPolicy, TokenBucket, rate_limit_for
from oms_amazon.adapters.sp_api.rate_limits import FALLBACK_RATE_LIMIT, SANDBOX_RATE_LIMIT

pytestmark = pytest.mark.unit


# ---------------------------------------------------------------------------------------------- the table


@pytest.mark.parametrize(
    ("operation", "rate", "burst"),
    [
        ("searchOrders", 0.0056, 20),
        ("getOrders", 0.0167, 20),
        ("getOrderItems", 0.5, 30),
        ("confirmShipment", 2.0, 10),
        ("createFeedDocument", 0.5, 15),
        ("createFeed", 0.0083, 15),
        ("getFeed", 2.0, 15),
        ("getFeedDocument", 0.0222, 10),
        ("createReport", 0.0167, 15),
        ("getReport", 2.0, 15),
        ("getReportDocument", 0.0167, 15),
        ("patchListingsItem", 5.0, 5),
        ("searchListingsItems", 5.0, 5),
        ("getMarketplaceParticipations", 0.016, 15),
    ],
)
def test_each_used_operation_is_seeded_with_amazons_documented_plan(operation: str, rate: float, burst: int) -> None:
    assert RATE_LIMITS[operation] == RateLimit(rate, burst)


def test_the_sandbox_has_one_flat_plan_and_unknown_operations_a_cautious_one() -> None:
    assert rate_limit_for("createFeed", sandbox=True) == SANDBOX_RATE_LIMIT == RateLimit(5.0, 15)
    assert rate_limit_for("someNewOperation") == FALLBACK_RATE_LIMIT


def test_a_rate_limit_must_be_positive() -> None:
    with pytest.raises(ValueError, match="invalid"):
        RateLimit(0, 1)


# ------------------------------------------------------------------------------------------- the bucket


def test_a_full_bucket_lets_a_burst_through_without_waiting() -> None:
    bucket = TokenBucket(RateLimit(0.5, 3), now=0.0)

    waits = [bucket.reserve(0.0) for _ in range(3)]

    assert waits == [0.0, 0.0, 0.0]


def test_after_the_burst_each_caller_waits_for_its_own_refilled_token() -> None:
    bucket = TokenBucket(RateLimit(0.5, 2), now=0.0)
    bucket.reserve(0.0)
    bucket.reserve(0.0)

    waits = [bucket.reserve(0.0), bucket.reserve(0.0)]

    assert waits == pytest.approx([2.0, 4.0])


def test_the_bucket_refills_at_its_rate_but_never_beyond_the_burst() -> None:
    bucket = TokenBucket(RateLimit(2.0, 5), now=0.0)
    for _ in range(5):
        bucket.reserve(0.0)

    assert bucket.tokens(1.0) == pytest.approx(2.0)
    assert bucket.tokens(100.0) == pytest.approx(5.0)


def test_a_reservation_that_would_wait_too_long_takes_nothing() -> None:
    bucket = TokenBucket(RateLimit(0.0083, 1), now=0.0)
    bucket.reserve(0.0)

    refused = bucket.reserve(0.0, max_wait=60.0)

    assert refused is None
    assert bucket.wait_time(0.0) == pytest.approx(1 / 0.0083)


def test_a_429_empties_the_bucket_whatever_it_believed() -> None:
    bucket = TokenBucket(RateLimit(5.0, 5), now=0.0)

    bucket.drain(0.0)

    assert bucket.tokens(0.0) == 0.0
    assert bucket.wait_time(0.0) == pytest.approx(0.2)


def test_the_rate_header_replaces_the_seeded_rate_and_keeps_the_burst() -> None:
    bucket = TokenBucket(RateLimit(0.0056, 20), now=0.0)

    changed = bucket.set_rate(0.5, 0.0)

    assert changed is True
    assert (bucket.rate, bucket.burst) == (0.5, 20)


@pytest.mark.parametrize("rate", [0.0, -1.0, math.inf, math.nan])
def test_a_nonsense_rate_header_is_ignored(rate: float) -> None:
    bucket = TokenBucket(RateLimit(2.0, 15), now=0.0)

    assert bucket.set_rate(rate, 0.0) is False
    assert bucket.rate == 2.0


def test_the_same_rate_is_not_a_change() -> None:
    bucket = TokenBucket(RateLimit(2.0, 15), now=0.0)

    assert bucket.set_rate(2.0, 0.0) is False


@given(
    rate=st.floats(min_value=0.001, max_value=50),
    burst=st.integers(min_value=1, max_value=50),
    calls=st.integers(min_value=1, max_value=200),
)
def test_a_client_that_honours_every_wait_never_beats_amazons_bucket(rate: float, burst: int, calls: int) -> None:
    # Whatever the plan, n calls made by waiting as told take at least (n - burst) / rate seconds.
    bucket = TokenBucket(RateLimit(rate, burst), now=0.0)
    now = 0.0
    for _ in range(calls):
        wait = bucket.reserve(now)
        assert wait is not None
        now += wait

    assert now >= max(0, calls - burst) / rate - 1e-6 * max(1.0, now)


# ------------------------------------------------------------------------------------------ the registry


def test_clients_of_one_seller_region_and_operation_share_one_bucket() -> None:
    registry = BucketRegistry()

    first = registry.bucket("SELLER1", "eu", "createFeed", RATE_LIMITS["createFeed"], now=0.0)
    again = registry.bucket("SELLER1", "eu", "createFeed", RATE_LIMITS["createFeed"], now=5.0)

    assert first is again
    assert registry.get("SELLER1", "eu", "createFeed") is first


def test_sellers_regions_and_operations_each_have_their_own_bucket() -> None:
    registry = BucketRegistry()
    limit = RateLimit(1.0, 1)

    buckets = {
        registry.bucket("SELLER1", "eu", "getFeed", limit, now=0.0),
        registry.bucket("SELLER2", "eu", "getFeed", limit, now=0.0),
        registry.bucket("SELLER1", "na", "getFeed", limit, now=0.0),
        registry.bucket("SELLER1", "eu", "getReport", limit, now=0.0),
    }

    assert len(buckets) == len(registry) == 4


# ------------------------------------------------------------------------------------------- back-off


def test_back_off_doubles_from_the_base_up_to_the_cap() -> None:
    policy = RetryPolicy(base_delay=1.0, max_delay=8.0)

    assert [policy.backoff_ceiling(n) for n in range(1, 7)] == [1.0, 2.0, 4.0, 8.0, 8.0, 8.0]


@given(retry=st.integers(min_value=1, max_value=30), jitter=st.floats(min_value=0.0, max_value=1.0))
def test_jittered_back_off_stays_between_half_the_ceiling_and_the_ceiling(retry: int, jitter: float) -> None:
    policy = RetryPolicy(base_delay=0.5, max_delay=20.0)
    ceiling = policy.backoff_ceiling(retry)

    delay = policy.backoff(retry, jitter)

    assert ceiling / 2 <= delay <= ceiling


def test_an_impossible_retry_policy_is_refused() -> None:
    with pytest.raises(ValueError, match="invalid retry policy"):
        RetryPolicy(time_budget=0)
