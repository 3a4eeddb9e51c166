"""Local event sources: the template's schedules fire at their rates (optionally sped up for demos),
and its SQS triggers poll moto's queues and invoke the workers with Lambda's SQS event, honouring
`ReportBatchItemFailures` and each queue's redrive policy. moto never fires schedules itself."""

from __future__ import annotations

import json
import logging
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

import boto3

from local.functions import LocalFunctions
from local.stack import ACCOUNT, REGION
from local.template import QueueTrigger, Schedule, local_rate_parameters, queue_triggers, rate_minutes, schedules

# A failed message becomes visible again after this many seconds locally (AWS waits for the
# queue's visibility timeout); moto moves it to the dead-letter queue after maxReceiveCount.
LOCAL_RETRY_SECONDS = 2

# `wait_idle` calls the stack idle once it has seen no message and no running worker this long.
IDLE_QUIET_SECONDS = 0.2

log = logging.getLogger(__name__)


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
    """The template's schedules and queue triggers, each on a thread of its own; a queue's messages go
    to up to `deliveries_at_once` concurrent invocations, each batch on a thread of its own, and each
    scheduled firing runs on a thread of its own too.

    A function that raises is Lambda's invocation error: logged, and the message retried as SQS
    would. A failure of the runner's own calls to SQS is survived (the poller waits and goes on) and
    kept in `faults`: tests fail on it, since a sound stack never has one. `paused()` holds every
    poller between calls, so the queues can be emptied and recreated under them."""

    def __init__(self, functions: LocalFunctions, names: dict[str, str], *, speedup: float = 1.0) -> None:
        self.functions = functions
        self.names = names
        self.speedup = speedup
        self.stopping = threading.Event()
        self.threads: list[threading.Thread] = []
        self.in_flight: set[threading.Thread] = set()  # deliveries and firings under way
        self.busy = 0
        self.lock = threading.Lock()
        self.faults: list[str] = []
        self._gate = threading.Condition()
        self._paused = 0
        self._active = 0
        self.sqs = boto3.client("sqs")

    def start(self) -> None:
        for schedule in schedules():
            self._spawn(self._run_schedule, schedule, f"schedule-{schedule.function}")
        for trigger in queue_triggers():
            self._spawn(self._poll_queue, trigger, f"poller-{trigger.function}")

    def stop(self) -> None:
        self.stopping.set()
        with self._gate:
            self._gate.notify_all()
        with self.lock:
            in_flight = list(self.in_flight)
        for thread in self.threads + in_flight:
            thread.join(timeout=10)

    @contextmanager
    def paused(self) -> Iterator[None]:
        """No poller or schedule touches SQS or invokes a function while inside (it waits for the
        calls in flight to finish first)."""
        with self._gate:
            self._paused += 1
            while self._active:
                self._gate.wait()
        try:
            yield
        finally:
            with self._gate:
                self._paused -= 1
                self._gate.notify_all()

    @contextmanager
    def _turn(self) -> Iterator[bool]:
        """One poll or firing, unless the runner is paused (it waits) or stopping (False)."""
        with self._gate:
            while self._paused and not self.stopping.is_set():
                self._gate.wait(0.5)
            if self.stopping.is_set():
                yield False
                return
            self._active += 1
        try:
            yield True
        finally:
            with self._gate:
                self._active -= 1
                self._gate.notify_all()

    def _fault(self, what: str, error: BaseException) -> None:
        if self.stopping.is_set():
            return
        log.warning("local trigger: %s failed: %s: %s", what, type(error).__name__, error)
        with self.lock:
            self.faults.append(f"{what}: {type(error).__name__}: {error}")

    def take_faults(self) -> list[str]:
        with self.lock:
            faults, self.faults = self.faults, []
        return faults

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
                log.warning("%s failed (attempt %d)", schedule.function, attempt + 1, exc_info=True)
                if attempt < schedule.retry_attempts:
                    self.stopping.wait(1)
        if schedule.dead_letter_queue:
            try:
                self.sqs.send_message(QueueUrl=self.names[schedule.dead_letter_queue], MessageBody=json.dumps(event))
            except Exception as error:
                self._fault(f"dead-lettering {schedule.function}'s event", error)

    def _run_schedule(self, schedule: Schedule) -> None:
        """Fires at every interval, whether or not the last firing has ended: EventBridge invokes the
        function asynchronously, so a slow tick overlaps the next (which waits for a free container)."""
        interval = self.interval_seconds(schedule)
        while not self.stopping.wait(interval):
            with self._turn() as go:
                if go:
                    self._in_flight(f"tick-{schedule.function}", lambda: self.fire(schedule))

    def _in_flight(self, name: str, work: Callable[[], None]) -> None:
        """`work` on a thread of its own, counted in flight until it ends: `paused()` and `stop()` wait for it."""
        with self._gate:
            self._active += 1

        def run() -> None:
            try:
                work()
            finally:
                with self.lock:
                    self.in_flight.discard(threading.current_thread())
                with self._gate:
                    self._active -= 1
                    self._gate.notify_all()

        thread = threading.Thread(target=run, name=name, daemon=True)
        with self.lock:
            self.in_flight.add(thread)
        thread.start()

    def deliveries_at_once(self, trigger: QueueTrigger) -> int:
        """How many invocations a queue's poller keeps going: the function's concurrency, or the event
        source's `ScalingConfig.MaximumConcurrency` when that is lower."""
        return min(self.functions.concurrency, trigger.maximum_concurrency or self.functions.concurrency)

    def _poll_queue(self, trigger: QueueTrigger) -> None:
        """Receives whenever one of the queue's delivery slots is free and hands the batch to an invocation
        of its own. FIFO order is SQS's to keep, as in AWS: a message group with a message in flight (being
        processed, or failed and waiting out its visibility) gives no other message until that one is
        deleted or visible again."""
        slots = threading.BoundedSemaphore(self.deliveries_at_once(trigger))
        while not self.stopping.is_set():
            if not slots.acquire(timeout=0.5):
                continue
            handed_over = False
            try:
                with self._turn() as go:
                    if not go:
                        return
                    try:
                        handed_over = self._poll_once(trigger, slots.release)
                    except Exception as error:  # survive anything: the next poll starts afresh
                        self._fault(f"polling {trigger.queue}", error)
                        self.stopping.wait(1)
            finally:
                if not handed_over:
                    slots.release()

    def _poll_once(self, trigger: QueueTrigger, release_slot: Callable[[], None]) -> bool:
        """One receive; True when its messages went to an invocation (which frees the slot when done)."""
        url = self.names[trigger.queue]
        received = self.sqs.receive_message(
            QueueUrl=url,
            MaxNumberOfMessages=min(trigger.batch_size, 10),
            WaitTimeSeconds=1,
            AttributeNames=["All"],
            MessageAttributeNames=["All"],
        )
        messages = received.get("Messages", [])
        if not messages:
            return False
        # Counted busy and in flight before the poll's turn ends: `paused()` and `wait_idle` wait for it.
        with self.lock:
            self.busy += 1
        arn = self.names[f"{trigger.queue}.Arn"]
        self._in_flight(f"invoke-{trigger.function}", lambda: self._deliver(trigger, url, arn, messages, release_slot))
        return True

    def _deliver(
        self,
        trigger: QueueTrigger,
        url: str,
        arn: str,
        messages: list[dict[str, Any]],
        release_slot: Callable[[], None],
    ) -> None:
        try:
            try:
                result = self.functions.invoke(trigger.function, sqs_event(messages, arn))
                failed = (
                    {f["itemIdentifier"] for f in (result or {}).get("batchItemFailures", [])}
                    if trigger.reports_failures
                    else set()
                )
            except Exception:
                log.warning("%s failed; its batch will be retried", trigger.function, exc_info=True)
                failed = {m["MessageId"] for m in messages}
            for message in messages:
                try:
                    if message["MessageId"] in failed:
                        self.sqs.change_message_visibility(
                            QueueUrl=url, ReceiptHandle=message["ReceiptHandle"], VisibilityTimeout=LOCAL_RETRY_SECONDS
                        )
                    else:
                        self.sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
                except Exception as error:  # the message comes back after its visibility timeout
                    self._fault(f"acknowledging a message of {trigger.queue}", error)
        finally:
            with self.lock:
                self.busy -= 1
            release_slot()

    def wait_idle(self, timeout: float = 60) -> bool:
        """True once every triggered queue is empty and no worker is running (tests and demos)."""
        deadline = time.monotonic() + timeout
        quiet_since: float | None = None
        while time.monotonic() < deadline:
            if self._idle():
                quiet_since = quiet_since or time.monotonic()
                if time.monotonic() - quiet_since > IDLE_QUIET_SECONDS:
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
