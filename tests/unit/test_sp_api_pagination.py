"""The one pagination helper every paged SP-API read goes through, and the rate limiter's multi-bucket
reservation and give-up rule it relies on (pure)."""

from __future__ import annotations

import math
from dataclasses import dataclass

import pytest
from oms_amazon.adapters.sp_api import RateLimit, RetryPolicy, TokenBucket, paginate
from oms_amazon.adapters.sp_api.throttle import reserve_all

pytestmark = pytest.mark.unit


@dataclass(frozen=True)
class _Page:
    number: int
    next_token: str | None


class _Pages:
    """Pages 1..n; page k names token `t{k+1}`, the last one `last_token`."""

    def __init__(self, n: int, last_token: str | None = None) -> None:
        self.n = n
        self.last_token = last_token
        self.asked: list[str | None] = []

    def __call__(self, token: str | None) -> _Page:
        self.asked.append(token)
        number = 1 if token is None else int(token[1:])
        return _Page(number, f"t{number + 1}" if number < self.n else self.last_token)


def test_every_page_is_fetched_with_the_previous_pages_token() -> None:
    fetch = _Pages(3)

    pages = list(paginate(fetch))

    assert [p.number for p in pages] == [1, 2, 3]
    assert fetch.asked == [None, "t2", "t3"]


@pytest.mark.parametrize("last_token", [None, ""])
def test_a_page_without_a_next_token_is_the_last(last_token: str | None) -> None:
    fetch = _Pages(2, last_token=last_token)

    assert len(list(paginate(fetch))) == 2
    assert len(fetch.asked) == 2


def test_a_series_goes_on_from_a_saved_token() -> None:
    fetch = _Pages(4)

    pages = list(paginate(fetch, "t3"))

    assert [p.number for p in pages] == [3, 4]
    assert fetch.asked == ["t3", "t4"]


def test_pages_are_fetched_only_as_they_are_taken() -> None:
    fetch = _Pages(5)

    pages = paginate(fetch)
    assert fetch.asked == []
    next(pages)
    next(pages)

    assert fetch.asked == [None, "t2"]


def test_reserving_from_several_buckets_waits_for_the_slowest() -> None:
    fast = TokenBucket(RateLimit(2.0, 1), now=0.0)
    slow = TokenBucket(RateLimit(0.5, 1), now=0.0)
    reserve_all([fast, slow], 0.0, max_wait=math.inf)

    assert reserve_all([fast, slow], 0.0, max_wait=math.inf) == pytest.approx(2.0)


def test_a_bucket_that_cannot_give_a_token_in_time_is_named_and_later_buckets_are_untouched() -> None:
    first = TokenBucket(RateLimit(1.0, 5), now=0.0)
    empty = TokenBucket(RateLimit(0.01, 1), now=0.0)
    last = TokenBucket(RateLimit(1.0, 5), now=0.0)
    empty.reserve(0.0)

    refused = reserve_all([first, empty, last], 0.0, max_wait=10.0)

    assert refused is empty
    assert first.tokens(0.0) == 4.0  # its place in the queue was taken, not given back
    assert last.tokens(0.0) == 5.0


@pytest.mark.parametrize(
    ("attempt", "resume_at", "gives_up"),
    [(1, 9.0, False), (1, 10.0, False), (1, 10.5, True), (3, 1.0, True), (2, 1.0, False)],
)
def test_the_policy_gives_up_at_the_attempt_cap_or_past_the_deadline(
    attempt: int, resume_at: float, gives_up: bool
) -> None:
    policy = RetryPolicy(max_attempts=3)

    assert policy.gives_up(attempt, resume_at=resume_at, deadline=10.0) is gives_up
