"""Fairness (domain.write_limits, services.write_limits, api.fairness): each client's writes draw on a token
bucket of its own — `burst` at once, then `per_second` — on a frozen clock, so every figure is exact."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st
from oms_amazon.api.fairness import request_cost
from oms_amazon.domain.errors import RateLimited
from oms_amazon.domain.write_limits import MICROSECONDS, WriteLimit, admit, microseconds
from oms_amazon.services.write_limits import WriteLimiter

from fakes import FakeWriteBuckets

pytestmark = pytest.mark.unit

T0 = datetime.now(UTC).replace(microsecond=0)
A, B = "acme-outdoor", "bluebird-gifts"


class FrozenClock:
    """Stands still until the test moves it."""

    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


@pytest.fixture
def clock() -> FrozenClock:
    return FrozenClock()


@pytest.fixture
def buckets() -> FakeWriteBuckets:
    return FakeWriteBuckets()


def limiter(buckets: FakeWriteBuckets, clock: FrozenClock, per_second: float = 0.5, burst: int = 5) -> WriteLimiter:
    return WriteLimiter(buckets, WriteLimit(per_second=per_second, burst=burst), clock)


def admitted(limiter: WriteLimiter, client_id: str, n: int, cost: int = 1) -> int:
    """How many of `n` requests at the clock's present moment are admitted."""
    count = 0
    for _ in range(n):
        try:
            limiter.charge(client_id, cost)
        except RateLimited:
            continue
        count += 1
    return count


def refusal(limiter: WriteLimiter, client_id: str, cost: int = 1) -> RateLimited:
    with pytest.raises(RateLimited) as raised:
        limiter.charge(client_id, cost)
    return raised.value


def test_a_full_bucket_admits_exactly_the_burst_at_once_and_refuses_the_next_with_the_seconds_to_wait(buckets, clock):
    writes = limiter(buckets, clock, per_second=0.5, burst=5)

    assert admitted(writes, A, 5) == 5
    refused = refusal(writes, A)

    assert (refused.code, refused.retry_after) == ("rate_limited", 2)  # one token every 2 seconds
    assert "0.5 a second" in refused.message and "at most 5 at once" in refused.message
    assert len(buckets.taken) == 5, "a refused request takes nothing"


def test_the_bucket_refills_at_the_rate_one_token_per_interval(buckets, clock):
    writes = limiter(buckets, clock, per_second=0.5, burst=5)
    admitted(writes, A, 5)

    clock.advance(1.999)
    assert admitted(writes, A, 3) == 0
    clock.advance(0.001)
    assert admitted(writes, A, 3) == 1
    clock.advance(6)
    assert admitted(writes, A, 5) == 3


def test_waiting_the_retry_after_it_gave_is_enough_and_no_less_would_do(buckets, clock):
    writes = limiter(buckets, clock, per_second=0.3, burst=4)
    admitted(writes, A, 4)
    wait = refusal(writes, A, cost=3).retry_after

    clock.advance(wait - 1)
    assert refusal(writes, A, cost=3).retry_after == 1
    clock.advance(1)
    writes.charge(A, 3)


def test_an_idle_bucket_holds_the_burst_and_never_more_however_long_it_waited(buckets, clock):
    writes = limiter(buckets, clock, per_second=2, burst=10)
    admitted(writes, A, 10)

    clock.advance(24 * 3600)

    assert admitted(writes, A, 50) == 10


def test_a_sustained_flood_gets_the_burst_then_the_rate_and_nothing_more(buckets, clock):
    writes = limiter(buckets, clock, per_second=1, burst=5)

    accepted = 0
    for _ in range(601):  # 10 requests a second, from 0 s to 60 s
        accepted += admitted(writes, A, 1)
        clock.advance(0.1)

    assert accepted == 5 + 60


def test_a_request_costing_several_tokens_takes_them_all_or_none(buckets, clock):
    writes = limiter(buckets, clock, per_second=1, burst=10)

    writes.charge(A, cost=7)
    refused = refusal(writes, A, cost=4)

    assert refused.retry_after == 1  # 3 tokens left, one short
    assert admitted(writes, A, 3) == 3, "the refused batch took none of the 3 tokens left"


def test_a_request_costing_more_than_the_burst_costs_the_burst_and_waits_for_a_full_bucket(buckets, clock):
    writes = limiter(buckets, clock, per_second=1, burst=5)

    writes.charge(A, cost=10)
    assert admitted(writes, A, 1) == 0
    clock.advance(4)
    assert refusal(writes, A, cost=10).retry_after == 1
    clock.advance(1)
    writes.charge(A, cost=10)


def test_each_client_has_its_own_bucket(buckets, clock):
    writes = limiter(buckets, clock, per_second=0.5, burst=3)

    assert admitted(writes, A, 20) == 3
    assert admitted(writes, B, 3) == 3
    assert {client for client, _ in buckets.taken} == {A, B}


@given(
    per_second=st.sampled_from([0.2, 1, 3, 7.5, 50]),
    burst=st.integers(1, 20),
    requests=st.lists(st.tuples(st.integers(0, 3_000_000), st.integers(1, 25)), min_size=1, max_size=80),
)
def test_over_any_stretch_of_time_the_tokens_admitted_are_at_most_the_burst_plus_the_rate_times_it(
    per_second: float, burst: int, requests: list[tuple[int, int]]
) -> None:
    limit = WriteLimit(per_second=per_second, burst=burst)
    tat: int | None = None
    moment = microseconds(T0)
    taken: list[tuple[int, int]] = []
    for gap, cost in requests:
        moment += gap
        charge = limit.charge(T0 + timedelta(microseconds=moment - microseconds(T0)), cost)
        ok, tat = admit(tat, charge)
        if ok:
            taken.append((moment, charge.cost))

    for i, (start, _) in enumerate(taken):
        for end, _ in taken[i:]:
            spent = sum(cost for at, cost in taken if start <= at <= end)
            assert spent * limit.interval <= burst * limit.interval + (end - start)


def test_the_clock_is_read_to_the_microsecond_with_no_float_on_the_way():
    later = T0 + timedelta(days=40_000, microseconds=7)

    assert microseconds(later) - microseconds(T0) == 40_000 * 86_400 * MICROSECONDS + 7


@pytest.mark.parametrize(("per_second", "burst"), [(0, 5), (-1, 5), (float("nan"), 5), (float("inf"), 5), (1, 0)])
def test_a_limit_that_could_not_work_is_refused(per_second: float, burst: int):
    with pytest.raises(ValueError, match="A write limit's"):
        WriteLimit(per_second=per_second, burst=burst)


@pytest.mark.parametrize(
    ("path", "body", "cost"),
    [
        ("/products/TENT-2P", {"quantity_available": 3}, 1),
        ("/accounts/a1/stock-sync", None, 1),
        ("/products/batch", {"products": [{}] * 1}, 1),
        ("/products/batch", {"products": [{}] * 100}, 1),
        ("/products/batch", {"products": [{}] * 101}, 2),
        ("/products/batch", {"products": [{}] * 1000}, 10),
        ("/sku-aliases/batch", {"aliases": [{}] * 250}, 3),
        ("/sku-aliases/batch/", {"aliases": [{}] * 250}, 3),
        ("/products/batch", {"aliases": [{}] * 250}, 1),
        ("/products/batch", {"products": "not a list"}, 1),
    ],
)
def test_a_request_costs_one_token_and_a_batch_one_per_hundred_items_begun(path: str, body: object, cost: int):
    assert request_cost(path, lambda: body) == cost


def test_a_route_that_is_not_a_batch_never_reads_the_body():
    def unread() -> object:
        raise AssertionError("the body was read")

    assert request_cost("/products/KIT", unread) == 1
