"""One simulated Amazon in process, on one virtual clock shared with the connector.

The SP-API simulator (`local/simulator`) runs as a WSGI app behind `httpx.WSGITransport`: no sockets.
Its token buckets are enforced and refill on `VirtualClock`; the connector's SP-API client, LWA
client and workers read and sleep on the same clock, so a wait for a token advances Amazon's time by
exactly that much and a run's "seconds" are simulated Amazon seconds, whatever the machine.

Calls take no simulated time (zero network latency): what is measured is waiting imposed by Amazon's
rate limits and by the connector's own polling.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from oms_amazon.adapters.sp_api import (
    AccessTokenCache,
    BucketRegistry,
    LwaClient,
    LwaCredentials,
    RestrictedTokenCache,
    RetryPolicy,
    SpApiClient,
    SpApiConfig,
)
from oms_amazon.adapters.sp_api.metrics import MetricsHook
from oms_amazon.domain.marketplaces import Marketplace
from oms_amazon.wiring_adapters import WORKER_CALL_BUDGET_SECONDS

from local.simulator import LWA_CLIENT_ID, LWA_CLIENT_SECRET, Simulator
from local.simulator.app import SimulatorApp

SELLER = "A2BENCHSELLER01"
REFRESH_TOKEN = "Atzr|bench-seller-refresh-token-0000000001"  # noqa: S105 (the simulator's test seller)
BASE_URL = "http://sp-api.sim"
# The simulated wall clock starts here; orders and listings are dated relative to it.
EPOCH = datetime(2026, 9, 1, 8, 0, tzinfo=UTC)
# Each sleep overshoots by a microsecond, like any real timer: without it, the client's bucket and
# Amazon's (two float computations of the same refill) can disagree in the last bit and cost a 429.
TIMER_SLACK = 1e-6


class InvocationCut(BaseException):
    """Lambda ended the invocation at its timeout. A BaseException, so no `except Exception` in the
    connector catches it: the invocation stops where it was, as a killed process would."""


class VirtualClock:
    """Seconds since the start of the benchmark; moves only when something sleeps on it or is told to.

    It is at once the SP-API client's `Clock` (monotonic/sleep), the simulator's real clock (a
    callable), and, through `wall`, the datetime clock of the workers and of Amazon.

    `deadline`: the end of the current Lambda invocation (None outside one). Time passes only in sleeps,
    so a sleep that would pass it ends at it and raises `InvocationCut`.
    """

    def __init__(self) -> None:
        self.now = 0.0
        self.slept = 0.0
        self.deadline: float | None = None

    def monotonic(self) -> float:
        return self.now

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        if seconds > 0:
            if self.deadline is not None and self.now + seconds + TIMER_SLACK > self.deadline:
                self.slept += max(0.0, self.deadline - self.now)
                self.now = self.deadline
                raise InvocationCut()
            self.now += seconds + TIMER_SLACK
            self.slept += seconds

    def time_left(self) -> float:
        """Seconds left in the current invocation, as Lambda's context tells them (infinite outside one)."""
        return float("inf") if self.deadline is None else max(0.0, self.deadline - self.now)

    def advance(self, seconds: float) -> None:
        self.now += seconds

    def wall(self) -> datetime:
        return EPOCH + timedelta(seconds=self.now)


@dataclass(frozen=True, slots=True)
class Measured:
    """One job's cost on Amazon: SP-API calls (LWA excluded), 429s among them, simulated seconds."""

    calls: int
    seconds: float
    throttled: int
    by_operation: dict[str, int]

    def to_json(self) -> dict[str, Any]:
        return {
            "calls": self.calls,
            "seconds": round(self.seconds, 1),
            "throttled": self.throttled,
            "by_operation": dict(sorted(self.by_operation.items())),
        }


# The budget of one SP-API call in the workers: waiting for a token, retries, back-off.
PRODUCTION_TIME_BUDGET = WORKER_CALL_BUDGET_SECONDS
# What the in-memory cases allow one call: as long as it takes (a worker in production would requeue
# itself instead; the waiting time is the same).
UNLIMITED_TIME_BUDGET = 10_000_000.0


class Amazon:
    """A fresh simulated Amazon with one seller, rate limits enforced, and clients on the shared clock.

    `time_budget`: what one SP-API call may take in all (the client's `RetryPolicy`). `outside`: wraps
    the simulator's WSGI app, e.g. to count its CPU time as not the connector's (`bench.aws.CpuLedger`).
    """

    def __init__(
        self,
        marketplaces: tuple[str, ...] = ("UK",),
        *,
        time_budget: float = UNLIMITED_TIME_BUDGET,
        outside: Callable[[Callable[..., Any]], Callable[..., Any]] | None = None,
    ) -> None:
        self.clock = VirtualClock()
        self.sim = Simulator(real_clock=self.clock, wall_clock=self.clock.wall)
        app: Any = SimulatorApp(self.sim)
        if outside is not None:
            app = outside(app)
        self.http = httpx.Client(transport=httpx.WSGITransport(app=app), base_url=BASE_URL)
        self.control(
            "POST",
            "/_sim/sellers",
            {"seller_id": SELLER, "refresh_token": REFRESH_TOKEN, "marketplaces": list(marketplaces)},
        )
        self.control("POST", "/_sim/rate-limits", {"enforce": True, "speedup": 1})
        self.buckets = BucketRegistry()
        self.tokens = AccessTokenCache()
        self.restricted_tokens = RestrictedTokenCache()
        self.lwa = LwaClient(
            LwaCredentials(LWA_CLIENT_ID, LWA_CLIENT_SECRET),
            token_url=f"{BASE_URL}/auth/o2/token",
            http=self.http,
            clock=self.clock,
            cache=self.tokens,
        )
        self.config = SpApiConfig(endpoint_override=BASE_URL, retry=RetryPolicy(time_budget=time_budget))

    def close(self) -> None:
        self.http.close()

    def control(self, method: str, path: str, body: Any = None) -> Any:
        response = self.http.request(method, path, json=body)
        if response.status_code >= 300:
            raise RuntimeError(f"simulator control {method} {path}: {response.status_code} {response.text[:300]}")
        return response.json() if response.content else None

    def client(self, marketplace: Marketplace, metrics: MetricsHook | None = None) -> SpApiClient:
        return SpApiClient(
            seller_id=SELLER,
            region=marketplace.region,
            refresh_token=REFRESH_TOKEN,
            lwa=self.lwa,
            config=self.config,
            http=self.http,
            clock=self.clock,
            buckets=self.buckets,
            metrics=metrics,
            restricted_tokens=self.restricted_tokens,
        )

    def full_buckets(self) -> None:
        """A quiet seller: every bucket full, on Amazon's side and in the client's model of it."""
        self.sim.rate_limiter.reset()
        self.buckets.clear()

    def measure(self, job: Callable[[], object], *, fill: float = 1.0) -> Measured:
        """Run `job` from buckets `fill` full (1: a quiet seller); what it cost on Amazon, from Amazon's
        own call log."""
        self.full_buckets()
        self.sim.reset_calls()
        if fill != 1.0:
            with buckets_filled(fill):
                return self._measure(job)
        return self._measure(job)

    def _measure(self, job: Callable[[], object]) -> Measured:
        started = self.clock.now
        job()
        seconds = self.clock.now - started
        view = self.sim.calls_view()
        counts = {op: n for op, n in view["counts"].items() if op != "lwaToken"}
        throttled = sum(1 for c in view["calls"] if c["status"] == 429 and c["operation"] != "lwaToken")
        return Measured(sum(counts.values()), seconds, throttled, counts)


@contextlib.contextmanager
def buckets_filled(fill: float) -> Iterator[None]:
    """Every bucket created meanwhile, Amazon's and the client's model of it, starts `fill` full rather
    than full: a seller whose quota something else (another tool, an earlier run) has been spending."""
    from oms_amazon.adapters.sp_api import throttle

    from local.simulator import ratelimit

    client_init, amazon_init = throttle.TokenBucket.__init__, ratelimit.TokenBucket.__init__

    def client_bucket(self: throttle.TokenBucket, limit: Any, *, now: float) -> None:
        client_init(self, limit, now=now)
        self._tokens = self._burst * fill

    def amazon_bucket(self: ratelimit.TokenBucket, plan: Any, now: float) -> None:
        amazon_init(self, plan, now)
        self._tokens = float(plan.burst) * fill

    throttle.TokenBucket.__init__ = client_bucket  # type: ignore[method-assign]
    ratelimit.TokenBucket.__init__ = amazon_bucket  # type: ignore[method-assign]
    try:
        yield
    finally:
        throttle.TokenBucket.__init__ = client_init  # type: ignore[method-assign]
        ratelimit.TokenBucket.__init__ = amazon_init  # type: ignore[method-assign]
