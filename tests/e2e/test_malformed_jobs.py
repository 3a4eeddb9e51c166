"""Through the local stack's own queue trigger: a job message the stock-sync worker cannot parse is in
StockSyncDLQ after one delivery, and the job queued behind it in the same message group is not held up."""

from __future__ import annotations

import json
import threading
import uuid
from typing import Any

import boto3
import httpx
import pytest

from local.stack import REGION, LocalStack
from tests.polling import eventually

pytestmark = pytest.mark.e2e

WORKER = "StockSyncWorkerFunction"
GROUP = "A2SELLERUK01#eu"


def test_a_malformed_job_is_in_its_dlq_after_one_delivery_and_the_next_job_of_its_group_runs(
    stack: LocalStack, http: httpx.Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    delivered: list[str] = []
    lock = threading.Lock()
    invoke = stack.functions.invoke

    def counting(name: str, event: dict[str, Any]) -> Any:
        if name == WORKER:
            with lock:
                delivered.extend(record["messageId"] for record in event["Records"])
        return invoke(name, event)

    monkeypatch.setattr(stack.functions, "invoke", counting)
    sqs = boto3.client(
        "sqs", endpoint_url=stack.moto_url, region_name=REGION, aws_access_key_id="l", aws_secret_access_key="l"
    )
    malformed_body = json.dumps({"job": "stock_sync", "client_id": "acme-outdoor", "account_id": 42})
    # A job for an account the stack does not hold: parsed, then acknowledged by the worker.
    valid_body = json.dumps({"job": "reconcile", "client_id": "acme-outdoor", "account_id": "acc-1", "run_id": None})
    sent = [
        sqs.send_message(
            QueueUrl=stack.names["StockSyncQueue"],
            MessageBody=body,
            MessageGroupId=GROUP,
            MessageDeduplicationId=uuid.uuid4().hex,
        )["MessageId"]
        for body in (malformed_body, valid_body)
    ]

    def dead_lettered() -> list[dict[str, Any]]:
        found: list[dict[str, Any]] = sqs.receive_message(
            QueueUrl=stack.names["StockSyncDLQ"], AttributeNames=["All"], WaitTimeSeconds=0
        ).get("Messages", [])
        return found

    (dead,) = eventually(dead_lettered, timeout=30, what="the malformed job in StockSyncDLQ")
    assert stack.runner.wait_idle(30)

    assert dead["Body"] == malformed_body
    assert dead["Attributes"]["MessageGroupId"] == GROUP
    assert delivered == sent, "each delivered once, in the group's order: no retry of the malformed one"
    assert stack.take_faults() == []
