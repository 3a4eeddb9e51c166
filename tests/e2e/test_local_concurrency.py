"""The local stack runs a function's invocations at once, as Lambda does: two API requests meet inside
the function, each with its own caller, context and log keys; a FIFO queue feeds several invocations
at once yet gives one message per group at a time, in order, a failed one first again; a schedule
fires again while its last firing runs; and moto, called from many threads, still lets exactly one of
several conditional writes to an item win."""

from __future__ import annotations

import sys
import threading
import uuid
from collections import defaultdict
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import boto3
import httpx
import pytest

from local.functions import DEFAULT_CONCURRENCY, LocalFunctions, configured_concurrency
from local.stack import REGION, LocalStack
from local.template import queue_triggers
from tests.polling import eventually

pytestmark = pytest.mark.e2e

# How long one invocation waits for the other to arrive: ample for a stack that runs them at once,
# and what a stack running one at a time would make the test wait before it fails.
MEETING_DEADLINE = 10.0
WORKER = "StockSyncWorkerFunction"


def test_two_requests_to_one_function_run_at_once_each_with_its_own_caller_context_and_log_keys(
    stack: LocalStack, http: httpx.Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    from oms_amazon.api import identity
    from oms_amazon.api.routes import accounts
    from oms_amazon.observability import logger

    both_inside = threading.Barrier(2, timeout=MEETING_DEADLINE)
    seen: list[tuple[str, str, Any]] = []
    acting_client = identity.acting_client

    def meet_then_read(router: Any) -> str:
        event = router.current_event.raw_event
        both_inside.wait()  # BrokenBarrierError (a 500) unless the other request is inside too
        # Read again once both are inside: a process-wide current event would now be the last one's.
        caller = acting_client(accounts.router.current_event.raw_event)
        seen.append((caller, accounts.router.lambda_context.aws_request_id, dict(logger.get_current_keys())))
        return acting_client(event)

    monkeypatch.setattr(accounts, "client_of", meet_then_read)

    def list_accounts(client_id: str) -> httpx.Response:
        return httpx.get(f"{stack.api_url}/accounts", headers={"X-Client-Id": client_id}, timeout=30)

    with ThreadPoolExecutor(2) as pool:
        answers = list(pool.map(list_accounts, ["acme-outdoor", "bolt-retail"]))

    assert [a.status_code for a in answers] == [200, 200], [a.text for a in answers]
    assert sorted(caller for caller, _, _ in seen) == ["acme-outdoor", "bolt-retail"]
    assert len({request_id for _, request_id, _ in seen}) == 2
    assert all(keys.get("caller_client_id") == caller for caller, _, keys in seen)


class FakeWorker:
    """Stands in for the stock-sync worker: records when each message starts and ends, holds each group's
    first message until another group's is in flight too, and fails `fail_once` on its first delivery."""

    def __init__(self, fail_once: tuple[str, int]) -> None:
        self.fail_once = fail_once
        self.changed = threading.Condition()
        self.in_flight: dict[str, int] = {}
        self.started: dict[str, list[int]] = defaultdict(list)
        self.done: dict[str, list[int]] = defaultdict(list)
        self.overlaps: list[str] = []  # a group delivered while one of its messages was in flight
        self.most_at_once = 0

    def invoke(self, event: dict[str, Any]) -> dict[str, Any]:
        (record,) = event["Records"]
        group, seq = record["attributes"]["MessageGroupId"], int(record["body"])
        with self.changed:
            if group in self.in_flight:
                self.overlaps.append(group)
            self.in_flight[group] = seq
            self.started[group].append(seq)
            self.most_at_once = max(self.most_at_once, len(self.in_flight))
            first_attempt = self.started[group].count(seq) == 1
            self.changed.notify_all()
            if seq == 0 and first_attempt:
                self.changed.wait_for(lambda: len(self.started) > 1, timeout=MEETING_DEADLINE)
            failing = (group, seq) == self.fail_once and first_attempt
            if not failing:
                self.done[group].append(seq)
            del self.in_flight[group]
            self.changed.notify_all()
        return {"batchItemFailures": [{"itemIdentifier": record["messageId"]}] if failing else []}


def test_a_fifo_queue_feeds_invocations_at_once_yet_each_group_one_message_at_a_time_in_order(
    stack: LocalStack, http: httpx.Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    worker = FakeWorker(fail_once=("seller-a", 0))
    invoke = stack.functions.invoke
    monkeypatch.setattr(
        stack.functions, "invoke", lambda name, event: worker.invoke(event) if name == WORKER else invoke(name, event)
    )
    sqs = boto3.client(
        "sqs", endpoint_url=stack.moto_url, region_name=REGION, aws_access_key_id="l", aws_secret_access_key="l"
    )
    groups = ["seller-a", "seller-b", "seller-c"]

    for seq in range(3):
        for group in groups:
            sqs.send_message(
                QueueUrl=stack.names["StockSyncQueue"],
                MessageBody=str(seq),
                MessageGroupId=group,
                MessageDeduplicationId=uuid.uuid4().hex,
            )

    # seller-a's first message waits out its visibility (2 s locally) before it comes back.
    eventually(lambda: sum(map(len, worker.done.values())) == 9, timeout=30, what="every message processed")
    assert stack.runner.wait_idle(30)
    assert worker.overlaps == []
    assert {group: worker.done[group] for group in groups} == {group: [0, 1, 2] for group in groups}
    assert worker.started["seller-a"] == [0, 0, 1, 2]  # nothing of the group passed the failed message
    assert worker.most_at_once >= 2
    assert stack.take_faults() == []


def test_each_queue_feeds_as_many_invocations_as_its_function_and_event_source_allow(stack: LocalStack) -> None:
    limits = {trigger.function: stack.runner.deliveries_at_once(trigger) for trigger in queue_triggers()}

    assert LocalFunctions().concurrency == DEFAULT_CONCURRENCY == 4
    assert limits == {"StockSyncWorkerFunction": 4, "OrderImportWorkerFunction": 4, "ShipmentWorkerFunction": 4}
    assert LocalFunctions(concurrency=8).concurrency == 8


def test_the_concurrency_comes_from_the_argument_then_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LOCAL_FUNCTION_CONCURRENCY", "7")

    assert configured_concurrency() == 7
    assert configured_concurrency(2) == 2
    monkeypatch.setenv("LOCAL_FUNCTION_CONCURRENCY", "none")
    with pytest.raises(ValueError, match="LOCAL_FUNCTION_CONCURRENCY"):
        configured_concurrency()
    with pytest.raises(ValueError, match="at least one"):
        configured_concurrency(0)


class MeetingFunctions:
    """Functions whose first two invocations each wait (up to a deadline) for the other to arrive."""

    concurrency = DEFAULT_CONCURRENCY

    def __init__(self) -> None:
        self.both_inside = threading.Barrier(2, timeout=MEETING_DEADLINE)
        self.met: list[str] = []

    def invoke(self, logical_id: str, event: dict[str, Any]) -> None:
        if len(self.met) < 2:
            self.both_inside.wait()
            self.met.append(event["id"])


def test_a_schedule_fires_again_while_its_last_firing_still_runs_as_eventbridge_does(stack: LocalStack) -> None:
    from local.template import schedules
    from local.triggers import TriggerRunner

    tick = schedules()[0]
    functions = MeetingFunctions()
    # Every 50 ms: the second firing comes while the first waits for it.
    runner = TriggerRunner(functions, stack.names, speedup=60 * rate_of(tick, stack) / 0.05)  # type: ignore[arg-type]
    runner._spawn(runner._run_schedule, tick, "schedule-under-test")
    try:
        eventually(lambda: len(functions.met) == 2, timeout=MEETING_DEADLINE * 2, what="two firings at once")
    finally:
        runner.stop()

    assert len(set(functions.met)) == 2
    assert not functions.both_inside.broken


def rate_of(tick: Any, stack: LocalStack) -> float:
    from local.template import local_rate_parameters, rate_minutes

    return rate_minutes(tick.expression, local_rate_parameters(stack.names))


def test_concurrent_conditional_writes_to_one_item_let_exactly_one_win_as_dynamodb_does(
    stack: LocalStack, http: httpx.Client
) -> None:
    dynamodb = boto3.client(
        "dynamodb", endpoint_url=stack.moto_url, region_name=REGION, aws_access_key_id="l", aws_secret_access_key="l"
    )
    table = stack.names["ConnectorTable"]
    claimants, keys = 8, 40

    def claim(key_and_claimant: tuple[int, int]) -> bool:
        key, claimant = key_and_claimant
        try:
            dynamodb.put_item(
                TableName=table,
                Item={"PK": {"S": f"CLAIM#{key}"}, "SK": {"S": "CLAIM"}, "by": {"N": str(claimant)}},
                ConditionExpression="attribute_not_exists(PK)",
            )
        except dynamodb.exceptions.ConditionalCheckFailedException:
            return False
        return True

    attempts = [(key, claimant) for key in range(keys) for claimant in range(claimants)]
    switch_interval = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)  # threads change hands between any two steps: races show at once
    try:
        with ThreadPoolExecutor(claimants) as pool:
            won = list(pool.map(claim, attempts))
    finally:
        sys.setswitchinterval(switch_interval)

    winners: dict[int, int] = defaultdict(int)
    for (key, _), success in zip(attempts, won, strict=True):
        winners[key] += success
    assert winners == dict.fromkeys(range(keys), 1)
