"""The transport on its own: one built request, its retry policy and what each attempt reports.

A ManualClock stands in for time (sleeping advances it) and jitter is fixed at 0.5, so every back-off
is three quarters of its ceiling: 0.75 s, 1.5 s, 3 s, ...
"""

from __future__ import annotations

import logging
from typing import cast

import httpx
import pytest
from aws_lambda_powertools import Logger
from oms_amazon.adapters.sp_api import (
    AccessDenied,
    AmazonUnavailable,
    BucketRegistry,
    InvalidRequest,
    ManualClock,
    OutcomeUnknown,
    RestrictedTokenCache,
    RetryPolicy,
    SpApiCallEvent,
    SpApiConfig,
    SpApiRequest,
    SpApiTransport,
    Throttled,
)
from oms_amazon.adapters.sp_api.metrics import CallObserver

from tests.unit.test_sp_api_support import FakeTokens, Handler, json_response, responses

pytestmark = pytest.mark.unit

READ = SpApiRequest("getFeed", "GET", "/feeds/2021-06-30/feeds/1")
CREATE = SpApiRequest("createFeed", "POST", "/feeds/2021-06-30/feeds", json={}, idempotent=False)
UNAVAILABLE = {"errors": [{"code": "ServiceUnavailable", "message": "Service temporarily unavailable."}]}
THROTTLED = {"errors": [{"code": "QuotaExceeded", "message": "You exceeded your quota."}]}
DENIED = {"errors": [{"code": "Unauthorized", "message": "Access to requested resource is denied."}]}


class _Setup:
    def __init__(self, handler: Handler, *, retry: RetryPolicy | None = None) -> None:
        self.clock = ManualClock()
        self.tokens = FakeTokens()
        self.events: list[SpApiCallEvent] = []
        observer = CallObserver("A3SELLER0001", "eu", self.events.append, cast(Logger, logging.getLogger("test")))
        self.transport = SpApiTransport(
            observer,
            refresh_token="Atzr|refresh",
            lwa=self.tokens,
            config=SpApiConfig(retry=retry if retry is not None else RetryPolicy()),
            http=httpx.Client(transport=httpx.MockTransport(handler)),
            clock=self.clock,
            buckets=BucketRegistry(),
            jitter=lambda: 0.5,
            restricted_tokens=RestrictedTokenCache(),
        )

    def outcomes(self) -> list[str]:
        return [event.outcome for event in self.events]


def test_throttles_server_errors_and_lost_connections_are_retried_with_growing_back_off() -> None:
    amazon = responses(
        json_response(429, THROTTLED),
        json_response(503, UNAVAILABLE),
        httpx.ReadTimeout("read timed out"),
        json_response(200, {"feedId": "1"}),
    )
    setup = _Setup(amazon)

    answer = setup.transport.send(READ)

    assert (answer.status, answer.body) == (200, {"feedId": "1"})
    assert setup.clock.sleeps == [0.75, 1.5, 3.0]
    assert setup.outcomes() == ["throttled", "server_error", "transport_error", "success"]
    assert [event.attempt for event in setup.events] == [1, 2, 3, 4]


def test_a_refused_token_is_replaced_at_once_and_does_not_count_as_a_back_off() -> None:
    amazon = responses(json_response(401, DENIED), json_response(503, UNAVAILABLE), json_response(200, {}))
    setup = _Setup(amazon)

    setup.transport.send(READ)

    assert setup.tokens.force_refreshes == [False, True, False]
    assert setup.clock.sleeps == [0.75]  # the server error's back-off is the first one
    assert setup.outcomes() == ["client_error", "server_error", "success"]


def test_a_second_refusal_of_the_token_is_raised() -> None:
    setup = _Setup(responses(json_response(403, DENIED)))

    with pytest.raises(AccessDenied):
        setup.transport.send(READ)

    assert setup.tokens.force_refreshes == [False, True]
    assert setup.clock.sleeps == []


def test_a_client_error_is_raised_at_the_first_attempt() -> None:
    amazon = responses(json_response(400, {"errors": [{"code": "InvalidInput", "message": "bad"}]}))
    setup = _Setup(amazon)

    with pytest.raises(InvalidRequest):
        setup.transport.send(READ)

    assert len(amazon) == 1
    assert setup.outcomes() == ["client_error"]


def test_the_call_gives_up_when_the_next_back_off_would_pass_the_time_budget() -> None:
    amazon = responses(json_response(503, UNAVAILABLE))
    setup = _Setup(amazon, retry=RetryPolicy(time_budget=5.0))

    with pytest.raises(AmazonUnavailable):
        setup.transport.send(READ)

    # 0.75 + 1.5 slept; the next back-off (3 s) would end at 5.25 s, past the 5 s budget.
    assert setup.clock.sleeps == [0.75, 1.5]
    assert len(amazon) == 3
    assert setup.outcomes()[-1] == "gave_up"
    assert setup.events[-1].duration == pytest.approx(2.25)


def test_the_attempt_cap_ends_the_call_with_time_left() -> None:
    amazon = responses(json_response(500, UNAVAILABLE))
    setup = _Setup(amazon, retry=RetryPolicy(time_budget=3600.0, max_attempts=2))

    with pytest.raises(AmazonUnavailable):
        setup.transport.send(READ)

    assert len(amazon) == 2
    assert setup.outcomes() == ["server_error", "server_error", "gave_up"]


def test_a_call_that_stays_throttled_says_when_to_come_back() -> None:
    setup = _Setup(responses(json_response(429, THROTTLED)), retry=RetryPolicy(time_budget=5.0))

    with pytest.raises(Throttled) as raised:
        setup.transport.send(READ)

    assert raised.value.retry_after is not None
    assert raised.value.retry_after >= 3.0  # at least the back-off it did not wait for


def test_a_call_that_may_have_reached_amazon_is_not_repeated_unless_idempotent() -> None:
    amazon = responses(json_response(500, UNAVAILABLE), json_response(200, {"feedId": "1"}))
    setup = _Setup(amazon)

    with pytest.raises(OutcomeUnknown):
        setup.transport.send(CREATE)

    assert len(amazon) == 1
    assert setup.outcomes() == ["server_error", "gave_up"]


def test_a_call_that_never_left_is_repeated_even_when_not_idempotent() -> None:
    amazon = responses(httpx.ConnectError("connection refused"), json_response(202, {"feedId": "1"}))
    setup = _Setup(amazon)

    assert setup.transport.send(CREATE).body == {"feedId": "1"}
    assert len(amazon) == 2


def test_a_token_beyond_the_budget_is_not_waited_for() -> None:
    amazon = responses(json_response(200, {}))
    setup = _Setup(amazon, retry=RetryPolicy(time_budget=10.0))
    for _ in range(15):  # getFeed: burst 15 at 2/s; the 16th token is half a second away
        setup.transport.send(READ)
    slow = SpApiRequest("getFeedDocument", "GET", "/feeds/2021-06-30/documents/d")  # 0.0222/s, burst 10
    for _ in range(10):
        setup.transport.send(slow)
    sent = len(amazon)

    with pytest.raises(Throttled) as raised:
        setup.transport.send(slow)

    assert len(amazon) == sent
    assert raised.value.code == "RateLimitBudgetExceeded"
    assert raised.value.retry_after == pytest.approx(1 / 0.0222)


def test_the_pool_is_closed_only_when_the_transport_made_it() -> None:
    shared = _Setup(responses(json_response(200, {}))).transport
    own = SpApiTransport(
        CallObserver("A3SELLER0001", "eu", None, cast(Logger, logging.getLogger("test"))),
        refresh_token="Atzr|refresh",
        lwa=FakeTokens(),
        config=SpApiConfig(),
        http=None,
        clock=ManualClock(),
        buckets=BucketRegistry(),
        jitter=lambda: 0.5,
        restricted_tokens=RestrictedTokenCache(),
    )

    shared.close()
    own.close()

    assert not shared.http.is_closed
    assert own.http.is_closed
