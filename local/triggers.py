"""Local event sources: the template's schedules fire at their rates (optionally sped up for demos),
and its SQS triggers poll moto's queues and invoke the workers with Lambda's SQS event, honouring
`ReportBatchItemFailures` and each queue's redrive policy. moto never fires schedules itself."""

from __future__ import annotations

import json
import threading
import time
import traceback
import uuid
from datetime import UTC, datetime
from typing import Any

import boto3

from local.functions import LocalFunctions
from local.stack import ACCOUNT, REGION
from local.template import QueueTrigger, Schedule, local_rate_parameters, queue_triggers, rate_minutes, schedules

# A failed message becomes visible again after this many seconds locally (AWS waits for the
# queue's visibility timeout); moto moves it to the dead-letter queue after maxReceiveCount.
LOCAL_RETRY_SECONDS = 2


def scheduled_event(schedule: Schedule) -> dict[str, Any]:
    """What EventBridge delivers for a scheduled rule."""
    return {
        "version": "0",
        "id": str(uuid.uuid4()),
        "detail-type": "Scheduled Event",
        "source": "aws.events",
        "account": ACCOUNT,
        "time": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "region": REGION,
        "resources": [f"arn:aws:events:{REGION}:{ACCOUNT}:rule/{schedule.function}{schedule.name}"],
        "detail": {},
    }


def sqs_event(messages: list[dict[str, Any]], queue_arn: str) -> dict[str, Any]:
    """What Lambda's SQS event source mapping delivers for a batch."""
    return {
        "Records": [
            {
                "messageId": m["MessageId"],
                "receiptHandle": m["ReceiptHandle"],
                "body": m["Body"],
                "attributes": m.get("Attributes", {}),
                "messageAttributes": m.get("MessageAttributes", {}),
                "md5OfBody": m.get("MD5OfBody", ""),
                "eventSource": "aws:sqs",
                "eventSourceARN": queue_arn,
                "awsRegion": REGION,
            }
            for m in messages
        ]
    }


class TriggerRunner:
    def __init__(self, functions: LocalFunctions, names: dict[str, str], *, speedup: float = 1.0) -> None:
        self.functions = functions
        self.names = names
        self.speedup = speedup
        self.stopping = threading.Event()
        self.threads: list[threading.Thread] = []
        self.busy = 0
        self.lock = threading.Lock()
        self.sqs = boto3.client("sqs")

    def start(self) -> None:
        for schedule in schedules():
            self._spawn(self._run_schedule, schedule, f"schedule-{schedule.function}")
        for trigger in queue_triggers():
            self._spawn(self._poll_queue, trigger, f"poller-{trigger.function}")

    def stop(self) -> None:
        self.stopping.set()
        for thread in self.threads:
            thread.join(timeout=10)

    def _spawn(self, target: Any, argument: Any, name: str) -> None:
        thread = threading.Thread(target=target, args=(argument,), name=name, daemon=True)
        thread.start()
        self.threads.append(thread)

    def interval_seconds(self, schedule: Schedule) -> float:
        return rate_minutes(schedule.expression, local_rate_parameters(self.names)) * 60 / self.speedup

    def fire(self, schedule: Schedule) -> None:
        """One scheduled invocation, retried as the rule's RetryPolicy says, then dead-lettered."""
        event = scheduled_event(schedule)
        for attempt in range(schedule.retry_attempts + 1):
            try:
                self.functions.invoke(schedule.function, event)
                return
            except Exception:
                traceback.print_exc()
                if attempt < schedule.retry_attempts:
                    self.stopping.wait(1)
        if schedule.dead_letter_queue:
            self.sqs.send_message(QueueUrl=self.names[schedule.dead_letter_queue], MessageBody=json.dumps(event))

    def _run_schedule(self, schedule: Schedule) -> None:
        interval = self.interval_seconds(schedule)
        while not self.stopping.wait(interval):
            self.fire(schedule)

    def _poll_queue(self, trigger: QueueTrigger) -> None:
        url = self.names[trigger.queue]
        arn = self.names[f"{trigger.queue}.Arn"]
        while not self.stopping.is_set():
            try:
                received = self.sqs.receive_message(
                    QueueUrl=url,
                    MaxNumberOfMessages=min(trigger.batch_size, 10),
                    WaitTimeSeconds=1,
                    AttributeNames=["All"],
                    MessageAttributeNames=["All"],
                )
            except Exception:
                if self.stopping.is_set():
                    return
                traceback.print_exc()
                time.sleep(1)
                continue
            messages = received.get("Messages", [])
            if messages:
                self._deliver(trigger, url, arn, messages)

    def _deliver(self, trigger: QueueTrigger, url: str, arn: str, messages: list[dict[str, Any]]) -> None:
        with self.lock:
            self.busy += 1
        try:
            try:
                result = self.functions.invoke(trigger.function, sqs_event(messages, arn))
                failed = (
                    {f["itemIdentifier"] for f in (result or {}).get("batchItemFailures", [])}
                    if trigger.reports_failures
                    else set()
                )
            except Exception:
                traceback.print_exc()
                failed = {m["MessageId"] for m in messages}
            for message in messages:
                if message["MessageId"] in failed:
                    self.sqs.change_message_visibility(
                        QueueUrl=url, ReceiptHandle=message["ReceiptHandle"], VisibilityTimeout=LOCAL_RETRY_SECONDS
                    )
                else:
                    self.sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
        finally:
            with self.lock:
                self.busy -= 1

    def wait_idle(self, timeout: float = 60) -> bool:
        """True once every triggered queue is empty and no worker is running (tests and demos)."""
        deadline = time.monotonic() + timeout
        quiet_since: float | None = None
        while time.monotonic() < deadline:
            if self._idle():
                quiet_since = quiet_since or time.monotonic()
                if time.monotonic() - quiet_since > 0.5:
                    return True
            else:
                quiet_since = None
            time.sleep(0.1)
        return False

    def _idle(self) -> bool:
        if self.busy:
            return False
        for trigger in queue_triggers():
            attributes = self.sqs.get_queue_attributes(
                QueueUrl=self.names[trigger.queue],
                AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
            )["Attributes"]
            if int(attributes["ApproximateNumberOfMessages"]) or int(
                attributes["ApproximateNumberOfMessagesNotVisible"]
            ):
                return False
        return True
