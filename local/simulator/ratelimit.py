"""Amazon's usage plans: one token bucket per (seller, operation).

A bucket holds at most `burst` tokens and refills at `rate` tokens per (simulated) second; a request
takes one token, and an empty bucket answers 429. Buckets start full, as a seller's do after a quiet
period.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class UsagePlan:
    rate: float  # tokens per second
    burst: int

    def header(self) -> str:
        """The `x-amzn-RateLimit-Limit` value: the rate, as the models write it."""
        return f"{self.rate:g}"


# Limits of a feed type itself, beside createFeed's own bucket, per seller and region. JSON_LISTINGS_FEED: "Throttle
# rate per region increases from one feed submission per five minutes to five feed submissions per five minutes"
# (changelog of 6 May 2025, "Update: Feed size and rate limit changes for the JSON_LISTINGS_FEED"), as a bucket of
# 5 refilled at 5 per 300 s. The `x-amzn-RateLimit-Limit` header does not show it ("doesn't include other usage
# plan rate limits", Feeds API Rate Limits).
FEED_TYPE_PLANS: dict[str, UsagePlan] = {"JSON_LISTINGS_FEED": UsagePlan(rate=5 / 300, burst=5)}


class TokenBucket:
    def __init__(self, plan: UsagePlan, now: float) -> None:
        self.plan = plan
        self._tokens = float(plan.burst)
        self._last = now

    def _refill(self, now: float) -> None:
        if now > self._last:
            self._tokens = min(float(self.plan.burst), self._tokens + (now - self._last) * self.plan.rate)
            self._last = now

    def try_take(self, now: float) -> bool:
        self._refill(now)
        if self._tokens >= 1.0:
            self._tokens -= 1.0
            return True
        return False

    def tokens(self, now: float) -> float:
        self._refill(now)
        return self._tokens

    def seconds_until_token(self, now: float) -> float:
        self._refill(now)
        return 0.0 if self._tokens >= 1.0 else (1.0 - self._tokens) / self.plan.rate


class RateLimiter:
    """Buckets keyed by (seller, operation key), created on first use, all on one clock."""

    def __init__(self, clock: Callable[[], float]) -> None:
        self._clock = clock
        self._lock = threading.Lock()
        self._buckets: dict[tuple[str, str], TokenBucket] = {}

    def try_acquire(self, seller_id: str, operation: str, plan: UsagePlan) -> bool:
        with self._lock:
            now = self._clock()
            bucket = self._buckets.get((seller_id, operation))
            if bucket is None or bucket.plan != plan:
                bucket = self._buckets[(seller_id, operation)] = TokenBucket(plan, now)
            return bucket.try_take(now)

    def reset(self) -> None:
        with self._lock:
            self._buckets.clear()
