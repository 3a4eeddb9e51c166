"""Writers racing each other, as concurrent Lambda invocations do: threads, each with its own copy of
the function (one warm container each), against moto in process. Each race runs many rounds, so an
interleaving that breaks a rule shows up in one run of the test, not one run in a hundred.

Each DynamoDB call is atomic, as on AWS (moto's backend is not safe under threads, so it serves one
DynamoDB call at a time); the races are between calls, where they are on AWS."""

from __future__ import annotations

import threading
from collections.abc import Callable
from functools import partial
from typing import Any

import pytest

from local.stack import serialize_dynamodb_actions
from tests.conftest import ApiCaller, EveryMarketplace

pytestmark = pytest.mark.integration

ROUNDS = 200  # at most: the race stops once enough rounds have raced
RACED = 8


@pytest.fixture(autouse=True)
def atomic_dynamodb_calls(monkeypatch: pytest.MonkeyPatch) -> None:
    from moto.dynamodb.responses import DynamoHandler

    monkeypatch.setattr(DynamoHandler, "call_action", DynamoHandler.call_action)  # restored after the test
    serialize_dynamodb_actions()


def race[T](*calls: Callable[[], T]) -> list[T]:
    """Run the calls at once (a barrier releases them together); their results in order."""
    barrier = threading.Barrier(len(calls))
    results: list[Any] = [None] * len(calls)

    def run(index: int, call: Callable[[], T]) -> None:
        barrier.wait()
        try:
            results[index] = call()
        except BaseException as error:  # reported in the test's thread below
            results[index] = error

    threads = [threading.Thread(target=run, args=(i, call)) for i, call in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    for result in results:
        if isinstance(result, BaseException):
            raise result
    return results


class TokensSeenByAmazon(EveryMarketplace):
    """Every marketplace for every seller, and a record of the refresh token each seller was asked with."""

    def __init__(self) -> None:
        self.tokens: dict[str, str] = {}

    def participations(self, marketplace: Any, merchant_id: str, refresh_token: str) -> list[Any]:
        self.tokens[merchant_id] = refresh_token
        return super().participations(marketplace, merchant_id, refresh_token)


def test_racing_token_changes_on_sibling_accounts_never_leave_an_account_showing_a_token_the_connector_lacks(
    aws, monkeypatch
):
    from oms_amazon.api import deps

    amazon = TokensSeenByAmazon()
    monkeypatch.setattr(deps, "participation_source", lambda: amazon)
    callers = ApiCaller(), ApiCaller()  # two warm containers of the API function
    api = callers[0]
    raced = 0
    for n in range(ROUNDS):
        seller = f"A2RACE{n:06d}"
        initial, first, second = (f"Atzr|IwEBIRaceToken{n:06d}-{which}-000{which}" for which in (0, 1, 2))
        uk = api("POST", "/accounts", {"merchant_id": seller, "marketplace": "UK", "auth_token": initial})[1]
        de = api("POST", "/accounts", {"merchant_id": seller, "marketplace": "DE"})[1]

        answers = race(
            partial(callers[0], "PATCH", f"/accounts/{uk['id']}", {"auth_token": first}),
            partial(callers[1], "PATCH", f"/accounts/{de['id']}", {"auth_token": second}),
        )
        statuses = [status for status, _ in answers]
        assert set(statuses) <= {200, 409}, statuses
        raced += 409 in statuses

        shown = {api("GET", f"/accounts/{a['id']}")[1]["authorisation"]["hint"] for a in (uk, de)}
        assert len(shown) == 1, f"round {n}: the seller's accounts disagree about its token: {shown} ({statuses})"
        # Activating asks Amazon whether the seller sells there, with the token the connector holds for it.
        status, body = api("PATCH", f"/accounts/{uk['id']}", {"active": True})
        assert status == 200, body
        used = amazon.tokens[seller]
        assert shown == {"…" + used[-4:]}, f"round {n}: accounts show {shown}, the connector used …{used[-4:]}"
        accepted = {token for token, status in zip((first, second), statuses, strict=True) if status == 200}
        assert used in (accepted or {initial}), f"round {n}: the connector holds a token no request was told it stored"
        if raced == RACED:
            break
    assert raced == RACED, f"only {raced} of {n + 1} rounds raced: the test proved nothing"
