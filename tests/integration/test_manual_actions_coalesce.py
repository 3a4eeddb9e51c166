"""Manual stock actions coalesce (SPEC §7): a run-now while the account's run waits in the queue is that
run, and a listings refresh within 15 minutes of the last one is that one — also when the calls race,
since each is one conditional write in DynamoDB, never a read then a write."""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import pytest

from tests.conftest import CANARY_REFRESH_TOKEN, ApiCaller, install_container

pytestmark = pytest.mark.integration

SELLER = "A2SELLERUK01"
CLIENT = "acme-outdoor"
CALLERS = 10


@pytest.fixture
def atomic_dynamodb(monkeypatch: pytest.MonkeyPatch) -> None:
    """moto's in-process DynamoDB, one action at a time: each request atomic, as DynamoDB makes every
    conditional write, while the callers' reads and writes still interleave freely between requests
    (moto's own backend is not safe under concurrent requests)."""
    from moto.dynamodb.responses import DynamoHandler

    lock = threading.Lock()
    call_action = DynamoHandler.call_action

    def one_at_a_time(self: DynamoHandler) -> Any:
        with lock:
            return call_action(self)

    monkeypatch.setattr(DynamoHandler, "call_action", one_at_a_time)


@pytest.fixture
def account(api: ApiCaller, atomic_dynamodb: None) -> dict[str, Any]:
    status, body = api(
        "POST",
        "/accounts",
        {
            "merchant_id": SELLER,
            "marketplace": "UK",
            "auth_token": CANARY_REFRESH_TOKEN,
            "active": True,
            "sync_stock": True,
        },
    )
    assert status == 201, body
    return body


def all_at_once(call: Callable[[], Any], n: int = CALLERS) -> list[Any]:
    """`call` from n threads released together; every result, or the first error raised."""
    barrier = threading.Barrier(n)
    results: list[Any] = [None] * n
    errors: list[BaseException] = []

    def run(i: int) -> None:
        barrier.wait()
        try:
            results[i] = call()
        except BaseException as error:
            errors.append(error)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(n)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not errors, errors
    return results


def queued_jobs() -> list[dict[str, Any]]:
    sqs = boto3.client("sqs")
    url = os.environ["STOCK_SYNC_QUEUE_URL"]
    jobs: list[dict[str, Any]] = []
    while True:
        messages = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", [])
        if not messages:
            return jobs
        for message in messages:
            jobs.append(json.loads(message["Body"]))
            sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])


def runs_of(api: ApiCaller, account_id: str) -> list[dict[str, Any]]:
    status, body = api("GET", f"/accounts/{account_id}/stock-sync-runs")
    assert status == 200, body
    items: list[dict[str, Any]] = body["items"]
    return items


class Clock:
    def __init__(self) -> None:
        self.now = datetime.now(UTC)

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def clock(aws: None) -> Clock:
    """The scheduler's clock, moved by the test."""
    fake = Clock()
    install_container(clock=fake)
    return fake


# ---- run now


def test_ten_concurrent_run_now_calls_queue_one_run_and_all_answer_its_id(api, account):
    from oms_amazon import wiring

    scheduler = wiring.container().stock_sync_scheduler

    answers = all_at_once(lambda: scheduler.run_now(CLIENT, account["id"]))

    (run_id,) = {answer.run.run_id for answer in answers}
    assert sorted(answer.joined for answer in answers) == [False] + [True] * (CALLERS - 1)
    assert [job["run_id"] for job in queued_jobs()] == [run_id]
    assert [run["run_id"] for run in runs_of(api, account["id"])] == [run_id]


def test_run_now_over_http_answers_202_with_the_waiting_runs_id_and_says_it_coalesced(api, account):
    first_status, first = api("POST", f"/accounts/{account['id']}/stock-sync")
    again_status, again = api("POST", f"/accounts/{account['id']}/stock-sync")

    assert (first_status, again_status) == (202, 202)
    assert first == {"run_id": first["run_id"], "status": "queued", "coalesced": False}
    assert again == {"run_id": first["run_id"], "status": "queued", "coalesced": True}
    assert len(queued_jobs()) == 1


def test_once_a_worker_has_started_the_run_a_run_now_queues_another(api, account):
    from oms_amazon import wiring

    first = wiring.container().stock_sync_scheduler.run_now(CLIENT, account["id"]).run
    # What the worker records first: from then on it may have read the stock a new run-now is about.
    wiring.container().stock_store.save_run(first.with_changes(started_at=datetime.now(UTC)))

    second = wiring.container().stock_sync_scheduler.run_now(CLIENT, account["id"])

    assert (second.joined, second.run.run_id != first.run_id) == (False, True)
    assert [job["run_id"] for job in queued_jobs()] == [first.run_id, second.run.run_id]


def test_a_run_waiting_over_an_hour_is_not_joined_so_a_stuck_run_never_swallows_run_now(account, clock):
    from oms_amazon import wiring

    stuck = wiring.container().stock_sync_scheduler.run_now(CLIENT, account["id"]).run
    clock.now += timedelta(minutes=59)
    assert wiring.container().stock_sync_scheduler.run_now(CLIENT, account["id"]).run.run_id == stuck.run_id
    clock.now += timedelta(minutes=2)

    later = wiring.container().stock_sync_scheduler.run_now(CLIENT, account["id"])

    assert (later.joined, later.run.run_id != stuck.run_id) == (False, True)


def test_run_now_joins_the_run_the_tick_queued(account, clock):
    from oms_amazon import wiring

    clock.now += timedelta(minutes=16)  # the new account is due
    assert wiring.container().stock_sync_scheduler.tick()["queued"] == 1
    (ticked,) = queued_jobs()

    joined = wiring.container().stock_sync_scheduler.run_now(CLIENT, account["id"])

    assert (joined.joined, joined.run.run_id, joined.run.trigger) == (True, ticked["run_id"], "schedule")
    assert queued_jobs() == []


# ---- listings refresh


def test_ten_concurrent_listings_refreshes_queue_one(api, account):
    from oms_amazon import wiring

    scheduler = wiring.container().stock_sync_scheduler

    answers = all_at_once(lambda: scheduler.refresh_listings(CLIENT, account["id"]))

    assert sorted(answer.joined for answer in answers) == [False] + [True] * (CALLERS - 1)
    assert len({answer.requested_at for answer in answers}) == 1
    assert [job["job"] for job in queued_jobs()] == ["refresh_listings"]


def test_a_refresh_within_15_minutes_answers_202_that_the_pending_one_stands_and_one_after_queues_again(
    api, account, clock
):
    path = f"/accounts/{account['id']}/listings/refresh"
    status, first = api("POST", path)
    assert (status, first["status"], first["coalesced"]) == (202, "queued", False)
    clock.now += timedelta(minutes=14, seconds=59)

    status, again = api("POST", path)

    assert (status, again["status"], again["coalesced"]) == (202, "queued", True)
    assert again["requested_at"] == first["requested_at"]
    assert "stands" in again["message"] and first["requested_at"] in again["message"]
    assert len(queued_jobs()) == 1
    clock.now += timedelta(seconds=2)

    status, later = api("POST", path)

    assert (status, later["coalesced"]) == (202, False)
    assert later["requested_at"] > first["requested_at"]
    assert len(queued_jobs()) == 1


def test_a_refresh_that_could_not_be_queued_does_not_hold_back_the_next(api, account, monkeypatch):
    from oms_amazon import wiring
    from oms_amazon.adapters.queues import SqsJobQueue
    from oms_amazon.domain.errors import DependencyUnavailable

    def unavailable(self: SqsJobQueue, body: dict[str, Any], *, group: str, dedup_id: str) -> None:
        raise DependencyUnavailable("The job could not be queued; retry shortly.")

    with monkeypatch.context() as patched:
        patched.setattr(SqsJobQueue, "send", unavailable)
        status, _ = api("POST", f"/accounts/{account['id']}/listings/refresh")
    assert status == 503

    retried = wiring.container().stock_sync_scheduler.refresh_listings(CLIENT, account["id"])

    assert retried.joined is False
    assert [job["job"] for job in queued_jobs()] == ["refresh_listings"]


def test_deleting_the_account_removes_its_run_now_and_refresh_markers(api, account, dynamodb, table_name):
    api("POST", f"/accounts/{account['id']}/stock-sync")
    api("POST", f"/accounts/{account['id']}/listings/refresh")

    assert api("DELETE", f"/accounts/{account['id']}")[0] == 204

    items = dynamodb.query(
        TableName=table_name,
        KeyConditionExpression="PK = :pk",
        ExpressionAttributeValues={":pk": {"S": f"CLIENT#{CLIENT}"}},
    )["Items"]
    assert not [item["SK"]["S"] for item in items if item["SK"]["S"].startswith(("RUNNOW#", "LISTINGSREFRESH#"))]
