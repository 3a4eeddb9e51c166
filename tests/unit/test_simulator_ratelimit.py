"""The simulator's token buckets and its scaled clock (Amazon's usage plans, in simulated seconds)."""

from __future__ import annotations

import pytest

from local.simulator.clock import ManualClock, ScaledClock
from local.simulator.ratelimit import FEED_TYPE_PLANS, RateLimiter, TokenBucket, UsagePlan

pytestmark = pytest.mark.unit

CREATE_FEED = UsagePlan(rate=0.0083, burst=15)


def test_a_full_bucket_allows_exactly_its_burst() -> None:
    bucket = TokenBucket(CREATE_FEED, now=0.0)
    assert [bucket.try_take(0.0) for _ in range(16)] == [True] * 15 + [False]


def test_an_empty_bucket_refills_at_the_rate() -> None:
    bucket = TokenBucket(UsagePlan(rate=0.5, burst=2), now=0.0)
    assert bucket.try_take(0.0) and bucket.try_take(0.0)
    assert not bucket.try_take(1.9)
    assert bucket.try_take(2.0)
    assert not bucket.try_take(2.0)


def test_a_bucket_never_holds_more_than_its_burst() -> None:
    bucket = TokenBucket(UsagePlan(rate=5, burst=5), now=0.0)
    assert bucket.tokens(1_000.0) == 5


def test_the_wait_for_a_token_follows_the_rate() -> None:
    bucket = TokenBucket(CREATE_FEED, now=0.0)
    for _ in range(15):
        bucket.try_take(0.0)
    assert bucket.seconds_until_token(0.0) == pytest.approx(1 / 0.0083)


def test_time_going_backwards_does_not_add_tokens() -> None:
    bucket = TokenBucket(UsagePlan(rate=1, burst=1), now=10.0)
    assert bucket.try_take(10.0)
    assert not bucket.try_take(5.0)


def test_the_limiter_keeps_one_bucket_per_seller_and_operation() -> None:
    clock = ManualClock()
    limiter = RateLimiter(clock)
    plan = UsagePlan(rate=1, burst=1)
    assert limiter.try_acquire("A", "createFeed", plan)
    assert not limiter.try_acquire("A", "createFeed", plan)
    assert limiter.try_acquire("B", "createFeed", plan)
    assert limiter.try_acquire("A", "getFeed", plan)
    clock.advance(1.0)
    assert limiter.try_acquire("A", "createFeed", plan)


def test_a_changed_plan_starts_a_fresh_bucket() -> None:
    limiter = RateLimiter(ManualClock())
    assert limiter.try_acquire("A", "op", UsagePlan(rate=1, burst=1))
    assert limiter.try_acquire("A", "op", UsagePlan(rate=1, burst=2))


def test_the_scaled_clock_runs_speedup_times_faster_than_the_real_one() -> None:
    real = ManualClock(100.0)
    clock = ScaledClock(real, speedup=60)
    real.advance(2.0)
    assert clock.now() == pytest.approx(120.0)


def test_changing_the_speedup_keeps_the_simulated_time_already_elapsed() -> None:
    real = ManualClock()
    clock = ScaledClock(real, speedup=10)
    real.advance(1.0)
    clock.set_speedup(100)
    real.advance(1.0)
    assert clock.now() == pytest.approx(110.0)
    assert clock.real_seconds_for(100.0) == pytest.approx(1.0)


def test_the_scaled_clock_refuses_a_non_positive_speedup() -> None:
    with pytest.raises(ValueError, match="positive"):
        ScaledClock(ManualClock(), speedup=0)


def test_the_rate_limit_header_writes_the_rate_as_the_models_do() -> None:
    assert UsagePlan(rate=0.0167, burst=20).header() == "0.0167"
    assert UsagePlan(rate=2.0, burst=10).header() == "2"


def test_a_listings_feed_allows_five_submissions_then_one_a_minute() -> None:
    # "five feed submissions per five minutes" per region (changelog of 6 May 2025).
    bucket = TokenBucket(FEED_TYPE_PLANS["JSON_LISTINGS_FEED"], now=0.0)
    assert [bucket.try_take(0.0) for _ in range(6)] == [True] * 5 + [False]
    assert not bucket.try_take(59.0)
    assert bucket.try_take(60.0)
    assert [bucket.try_take(360.0) for _ in range(6)] == [True] * 5 + [False]
