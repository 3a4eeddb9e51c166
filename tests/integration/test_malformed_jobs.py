"""A job message its worker cannot parse goes to its queue's dead-letter queue after one delivery, with one
clear log line, and never holds up the valid jobs beside it: the workers' handlers over moto, each batch
delivered and acknowledged as Lambda's SQS event source mapping does (`ReportBatchItemFailures`)."""

from __future__ import annotations

import io
import json
import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import boto3
import pytest
from aws_lambda_powertools.utilities.batch.exceptions import BatchProcessingError

from local.functions import LambdaContext, load_handler
from local.triggers import sqs_event

pytestmark = pytest.mark.integration

GROUP = "A2SELLERUK01#eu"
CANARY = "Atzr|IwEBI-malformed-job-canary-never-logged"


def job(account_id: str, run_id: str) -> str:
    return json.dumps({"job": "stock_sync", "client_id": "acme", "account_id": account_id, "run_id": run_id})


# No account id, and a key no job has (whose value must reach no log).
MALFORMED = json.dumps({"job": "stock_sync", "client_id": "acme", "run_id": "r-2", "note": CANARY})


@dataclass
class RecordingWorker:
    """Stands in for the stock-sync worker: the jobs it was handed; fails those of `failing` accounts."""

    failing: set[str] = field(default_factory=set)
    handled: list[tuple[str, str, str | None]] = field(default_factory=list)

    def handle(self, job: Any) -> None:
        if job.account_id in self.failing:
            raise RuntimeError("Amazon is unavailable")
        self.handled.append((job.kind, job.account_id, job.run_id))


@pytest.fixture
def worker(aws: None) -> RecordingWorker:
    from oms_amazon import wiring

    recording = RecordingWorker()
    wiring.container().stock_sync_worker = recording  # the test's container, made by `aws`
    return recording


@pytest.fixture
def log_lines() -> Iterator[io.StringIO]:
    """What the functions log, as JSON lines."""
    from oms_amazon.observability import logger

    buffer = io.StringIO()
    handler: Any = logger.registered_handler
    previous = handler.setStream(buffer)
    try:
        yield buffer
    finally:
        handler.setStream(previous)


def lines(buffer: io.StringIO, level: str) -> list[dict[str, Any]]:
    return [line for line in map(json.loads, buffer.getvalue().splitlines()) if line["level"] == level]


def send(url: str, body: str, dedup_id: str, group: str = GROUP) -> str:
    fifo = {"MessageGroupId": group, "MessageDeduplicationId": dedup_id} if url.endswith(".fifo") else {}
    return str(boto3.client("sqs").send_message(QueueUrl=url, MessageBody=body, **fifo)["MessageId"])


def deliver(function: str, url: str) -> tuple[list[str], dict[str, Any] | None]:
    """One delivery of what the queue holds, as Lambda makes it: a record failed in the response comes
    back at once (a visibility timeout of 0 here), any other is deleted; a handler that raises (Powertools
    does when every record failed) fails them all. The ids delivered, and the response (None: raised)."""
    sqs = boto3.client("sqs")
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    messages = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, AttributeNames=["All"])["Messages"]
    response: dict[str, Any] | None
    try:
        response = load_handler(function)(sqs_event(messages, arn), LambdaContext(function_name=function))
        failed = {f["itemIdentifier"] for f in (response or {})["batchItemFailures"]}
    except BatchProcessingError:
        response, failed = None, {m["MessageId"] for m in messages}
    for message in messages:
        if message["MessageId"] in failed:
            sqs.change_message_visibility(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"], VisibilityTimeout=0)
        else:
            sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
    return [m["MessageId"] for m in messages], response


def held(url: str) -> int:
    """Messages the queue still holds, waiting or in flight."""
    names = ["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"]
    attributes = boto3.client("sqs").get_queue_attributes(QueueUrl=url, AttributeNames=names)["Attributes"]
    return sum(int(attributes[name]) for name in names)


def dead_letters(url: str) -> list[dict[str, Any]]:
    messages: list[dict[str, Any]] = (
        boto3.client("sqs")
        .receive_message(QueueUrl=url, MaxNumberOfMessages=10, AttributeNames=["All"])
        .get("Messages", [])
    )
    return messages


def test_a_malformed_job_between_two_valid_ones_goes_to_the_dlq_after_one_delivery_and_both_jobs_are_done(
    worker: RecordingWorker, log_lines: io.StringIO
) -> None:
    queue, dlq = os.environ["STOCK_SYNC_QUEUE_URL"], os.environ["STOCK_SYNC_DLQ_URL"]
    first = send(queue, job("acc-1", "r-1"), "r-1")
    malformed = send(queue, MALFORMED, "r-2")
    last = send(queue, job("acc-3", "r-3"), "r-3")

    delivered, response = deliver("StockSyncWorkerFunction", queue)

    assert delivered == [first, malformed, last], "one batch, in the group's order"
    assert response == {"batchItemFailures": []}
    assert worker.handled == [("stock_sync", "acc-1", "r-1"), ("stock_sync", "acc-3", "r-3")]
    assert held(queue) == 0, "nothing comes back: the malformed message is not retried"
    (dead,) = dead_letters(dlq)
    assert dead["Body"] == MALFORMED, "the body as it came"
    assert dead["Attributes"]["MessageGroupId"] == GROUP
    assert dead["Attributes"]["MessageDeduplicationId"] == malformed
    (line,) = lines(log_lines, "ERROR")
    assert line["message"] == "malformed job message sent to the dead-letter queue, not retried"
    assert (line["message_id"], line["correlation_id"]) == (malformed, malformed)
    assert line["queue"] == queue.rsplit("/", 1)[-1]
    assert line["dead_letter_message_id"] == dead["MessageId"]
    assert line["errors"] == ["body.account_id: Field required", "body.note: Extra inputs are not permitted"]
    assert "client_id" not in line, "no job's keys: neither the malformed one's nor the job before it"
    assert CANARY not in log_lines.getvalue()


def test_a_malformed_job_after_a_failing_one_is_dead_lettered_while_the_jobs_after_it_keep_their_turn(
    worker: RecordingWorker, log_lines: io.StringIO
) -> None:
    queue, dlq = os.environ["STOCK_SYNC_QUEUE_URL"], os.environ["STOCK_SYNC_DLQ_URL"]
    worker.failing.add("acc-1")
    first = send(queue, job("acc-1", "r-1"), "r-1")
    send(queue, MALFORMED, "r-2")
    last = send(queue, job("acc-3", "r-3"), "r-3")

    _, response = deliver("StockSyncWorkerFunction", queue)

    # FIFO: once a job fails, the ones after it wait for it; the malformed one never could be done.
    assert response == {"batchItemFailures": [{"itemIdentifier": first}, {"itemIdentifier": last}]}
    assert [json.loads(m["Body"]).get("note") for m in dead_letters(dlq)] == [CANARY]
    assert held(queue) == 2
    worker.failing.clear()
    redelivered, response = deliver("StockSyncWorkerFunction", queue)
    assert (redelivered, response) == ([first, last], {"batchItemFailures": []})
    assert worker.handled == [("stock_sync", "acc-1", "r-1"), ("stock_sync", "acc-3", "r-3")]
    assert held(queue) == 0
    assert len(lines(log_lines, "ERROR")) == 1


def test_a_malformed_job_the_dead_letter_queue_cannot_take_is_delivered_again_not_lost(
    worker: RecordingWorker, log_lines: io.StringIO
) -> None:
    queue = os.environ["STOCK_SYNC_QUEUE_URL"]
    boto3.client("sqs").delete_queue(QueueUrl=os.environ["STOCK_SYNC_DLQ_URL"])
    valid = send(queue, job("acc-1", "r-1"), "r-1", group="A2SELLERDE01#eu")
    malformed = send(queue, MALFORMED, "r-2")

    _, response = deliver("StockSyncWorkerFunction", queue)

    assert response == {"batchItemFailures": [{"itemIdentifier": malformed}]}
    assert worker.handled == [("stock_sync", "acc-1", "r-1")]
    assert held(queue) == 1, "SQS delivers it again; its redrive policy dead-letters it in the end"
    (warning,) = lines(log_lines, "WARNING")
    assert warning["message_id"] == malformed
    assert lines(log_lines, "ERROR") == []
    delivered, response = deliver("StockSyncWorkerFunction", queue)
    assert (delivered, response) == ([malformed], None), "alone in its batch, it fails the invocation"
    assert valid not in delivered
    assert CANARY not in log_lines.getvalue()


@pytest.mark.parametrize(
    ("function", "queue", "dlq", "body", "errors"),
    [
        (
            "OrderImportWorkerFunction",
            "ORDER_IMPORT_QUEUE_URL",
            "ORDER_IMPORT_DLQ_URL",
            json.dumps({"job": "order_import", "client_id": "acme", "merchant_id": "A2SELLERUK01", "region": "eu"}),
            ["body.trigger: Field required"],
        ),
        (
            "ShipmentWorkerFunction",
            "SHIPMENT_QUEUE_URL",
            "SHIPMENT_DLQ_URL",
            json.dumps(
                {"job": "confirm_shipment", "client_id": "acme", "amazon_order_id": "202-0000000-0000001"}
                | {"sequence": "1", "token": CANARY, "attempt": 1}
            ),
            ["body.sequence: Input should be a valid integer"],
        ),
        ("ShipmentWorkerFunction", "SHIPMENT_QUEUE_URL", "SHIPMENT_DLQ_URL", "{not json", None),
    ],
    ids=["order import", "shipment", "shipment, not json"],
)
def test_every_worker_sends_what_it_cannot_parse_to_its_own_dlq_after_one_delivery(
    aws: None, log_lines: io.StringIO, function: str, queue: str, dlq: str, body: str, errors: list[str] | None
) -> None:
    queue_url, dlq_url = os.environ[queue], os.environ[dlq]
    malformed = send(queue_url, body, "d-1")

    _, response = deliver(function, queue_url)

    assert response == {"batchItemFailures": []}
    assert held(queue_url) == 0
    (dead,) = dead_letters(dlq_url)
    assert dead["Body"] == body
    assert ("MessageGroupId" in dead["Attributes"]) == queue_url.endswith(".fifo")
    (line,) = lines(log_lines, "ERROR")
    assert (line["message_id"], line["queue"]) == (malformed, queue_url.rsplit("/", 1)[-1])
    if errors is None:
        assert [e.split(":")[0] for e in line["errors"]] == ["body"]
        assert line["errors"][0].startswith("body: Invalid JSON")
    else:
        assert line["errors"] == errors
    assert CANARY not in log_lines.getvalue()
