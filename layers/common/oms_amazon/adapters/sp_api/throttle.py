"""Client-side rate limiting and retry timing: clocks, token buckets and the back-off policy.

Amazon keeps one token bucket per (selling partner, application, operation) and answers 429 when it is
empty. The client keeps its own estimate of that bucket and waits for a token before sending, so a 429 is
the exception (another process used the quota) rather than the way the limit is discovered.

Buckets live in a process-wide registry keyed by (seller id, region, operation): a warm Lambda container
builds a new `SpApiClient` per invocation but keeps what it learnt about each seller's quota.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Protocol

from oms_amazon.adapters.sp_api.rate_limits import RateLimit


class Clock(Protocol):
    """Monotonic time and sleeping, injected so tests and benchmarks never really wait."""

    def monotonic(self) -> float: ...

    def sleep(self, seconds: float) -> None: ...


class SystemClock:
    def monotonic(self) -> float:
        return time.monotonic()

    def sleep(self, seconds: float) -> None:
        if seconds > 0:
            time.sleep(seconds)


@dataclass
class ManualClock:
    """A clock that only moves when told to, or when something sleeps on it (simulated time)."""

    now: float = 0.0
    sleeps: list[float] = field(default_factory=list)

    def monotonic(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += max(0.0, seconds)

    def advance(self, seconds: float) -> None:
        self.now += seconds

    @property
    def slept(self) -> float:
        return sum(self.sleeps)


class TokenBucket:
    """The client's model of one of Amazon's buckets: refills at `rate` per second up to `burst`.

    Tokens may go negative: a reservation taken while the bucket is empty is a place in the queue, and the
    caller sleeps until its token has been refilled. Every method takes `now` so the bucket itself is pure
    arithmetic on a caller's clock.
    """

    def __init__(self, limit: RateLimit, *, now: float) -> None:
        self._rate = limit.rate
        self._burst = float(limit.burst)
        self._tokens = float(limit.burst)
        self._updated = now
        self._lock = threading.Lock()

    @property
    def rate(self) -> float:
        return self._rate

    @property
    def burst(self) -> float:
        return self._burst

    def tokens(self, now: float) -> float:
        with self._lock:
            self._refill(now)
            return self._tokens

    def wait_time(self, now: float) -> float:
        """Seconds until a token would be available, without taking it."""
        with self._lock:
            self._refill(now)
            return self._deficit_wait()

    def reserve(self, now: float, *, max_wait: float = math.inf) -> float | None:
        """Take a token; return how long to wait before using it.

        When that wait would exceed `max_wait`, take nothing and return None.
        """
        with self._lock:
            self._refill(now)
            wait = self._deficit_wait()
            if wait > max_wait:
                return None
            self._tokens -= 1.0
            return wait

    def drain(self, now: float) -> None:
        """Amazon answered 429: its bucket is empty whatever ours says."""
        with self._lock:
            self._refill(now)
            self._tokens = min(self._tokens, 0.0)

    def set_rate(self, rate: float, now: float) -> bool:
        """Adopt the rate Amazon reports in `x-amzn-RateLimit-Limit`; True when it changed."""
        if not math.isfinite(rate) or rate <= 0:
            return False
        with self._lock:
            if math.isclose(rate, self._rate, rel_tol=1e-9):
                return False
            self._refill(now)
            self._rate = rate
            return True

    def _refill(self, now: float) -> None:
        elapsed = now - self._updated
        if elapsed > 0:
            self._tokens = min(self._burst, self._tokens + elapsed * self._rate)
            self._updated = now

    def _deficit_wait(self) -> float:
        if self._tokens >= 1.0:
            return 0.0
        return (1.0 - self._tokens) / self._rate


def reserve_all(buckets: Sequence[TokenBucket], now: float, *, max_wait: float) -> float | TokenBucket:
    """Take a token from each bucket in turn (a call spends one of every usage plan it falls under):
    the longest of their waits, or the first bucket that cannot give one within `max_wait`. Buckets
    before that one keep their reservation: the place in their queue is simply not used."""
    wait = 0.0
    for bucket in buckets:
        taken = bucket.reserve(now, max_wait=max_wait)
        if taken is None:
            return bucket
        wait = max(wait, taken)
    return wait


class BucketRegistry:
    """Token buckets by (seller id, region, operation), shared by every client in the process."""

    def __init__(self) -> None:
        self._buckets: dict[tuple[str, str, str], TokenBucket] = {}
        self._lock = threading.Lock()

    def bucket(self, seller_id: str, region: str, operation: str, limit: RateLimit, *, now: float) -> TokenBucket:
        key = (seller_id, region, operation)
        with self._lock:
            found = self._buckets.get(key)
            if found is None:
                found = self._buckets[key] = TokenBucket(limit, now=now)
            return found

    def get(self, seller_id: str, region: str, operation: str) -> TokenBucket | None:
        with self._lock:
            return self._buckets.get((seller_id, region, operation))

    def clear(self) -> None:
        with self._lock:
            self._buckets.clear()

    def __len__(self) -> int:
        return len(self._buckets)


DEFAULT_BUCKETS = BucketRegistry()


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """How long one logical call may take in all, and how retries are spaced inside that budget.

    The budget covers waiting for a token, every attempt and every back-off; when the next wait would
    overrun it the call fails with a typed error instead (a Lambda should not sleep for minutes: the
    caller can requeue with the error's `retry_after`).
    """

    time_budget: float = 60.0
    base_delay: float = 1.0
    max_delay: float = 20.0
    max_attempts: int = 12

    def __post_init__(self) -> None:
        if self.time_budget <= 0 or self.base_delay <= 0 or self.max_delay < self.base_delay or self.max_attempts < 1:
            raise ValueError("invalid retry policy")

    def backoff_ceiling(self, retry: int) -> float:
        """The upper bound of the delay before retry number `retry` (1 for the first retry)."""
        return min(self.max_delay, self.base_delay * 2.0 ** max(0, retry - 1))

    def backoff(self, retry: int, jitter: float) -> float:
        """Exponential back-off with "equal jitter": half the ceiling fixed, half spread by `jitter` in [0, 1).

        The fixed half keeps retries from bunching near zero; the random half de-synchronises workers that
        were throttled together.
        """
        ceiling = self.backoff_ceiling(retry)
        return ceiling / 2.0 + (ceiling / 2.0) * min(max(jitter, 0.0), 1.0)

    def gives_up(self, attempt: int, *, resume_at: float, deadline: float) -> bool:
        """No attempt after number `attempt`: it was the last one allowed, or the next would start (after
        its back-off) past the call's deadline."""
        return attempt >= self.max_attempts or resume_at > deadline
