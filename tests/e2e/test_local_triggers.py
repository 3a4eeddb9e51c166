"""The local stack's own machinery: its queue pollers outlive the errors of their own calls, say so,
and never race a reset; the test run sees no thread die."""

from __future__ import annotations

import threading
from typing import Any

import boto3
import pytest

from local.stack import REGION, LocalStack
from tests.polling import eventually

pytestmark = pytest.mark.e2e


def moto_sqs(stack: LocalStack) -> Any:
    return boto3.client(
        "sqs", endpoint_url=stack.moto_url, region_name=REGION, aws_access_key_id="l", aws_secret_access_key="l"
    )


def pollers(stack: LocalStack) -> list[threading.Thread]:
    return [t for t in stack.runner.threads if t.name.startswith("poller-")]


def test_a_queue_deleted_under_a_poller_is_a_recorded_fault_and_the_poller_goes_on(stack: LocalStack) -> None:
    stack.reset()
    moto_sqs(stack).delete_queue(QueueUrl=stack.names["ShipmentQueue"])

    faults = eventually(stack.take_faults, timeout=15, what="the poller's failed receive")

    assert any("ShipmentQueue" in fault and "QueueDoesNotExist" in fault for fault in faults)
    stack.reset()  # the queues exist again
    assert all(thread.is_alive() for thread in pollers(stack))
    stack.take_faults()  # what the poller met before the reset recreated its queue


def test_a_reset_under_running_pollers_costs_them_nothing(stack: LocalStack) -> None:
    for _ in range(5):
        stack.reset()

    assert stack.take_faults() == []
    assert all(thread.is_alive() for thread in pollers(stack))
