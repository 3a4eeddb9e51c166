"""`make redrive`: a job that failed five times goes from its dead-letter queue back to the queue it
came from — on the local stack by receive, send and delete (moto has no message move task), on AWS by
SQS's message move task."""

from __future__ import annotations

import json
import urllib.request
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber

from local.stack import aws_environment, create_resources, local_parameters, physical_names
from local.template import queue_definitions
from scripts.redrive import RedriveError, local_queues, main, move_messages, redrive_on_aws

pytestmark = pytest.mark.integration

NAMES = physical_names(local_parameters("http://127.0.0.1:8100"))
MAX_RECEIVES = {q.logical_id: q.max_receive_count for q in queue_definitions()}


def dead_letter(sqs: Any, queue: str, body: dict[str, Any], **send: Any) -> None:
    """Sends a message to `queue` and receives it until SQS dead-letters it, as a failing worker would."""
    sqs.send_message(QueueUrl=NAMES[queue], MessageBody=json.dumps(body), **send)
    for _ in range(MAX_RECEIVES[queue]):
        (message,) = sqs.receive_message(QueueUrl=NAMES[queue], VisibilityTimeout=0)["Messages"]
        assert json.loads(message["Body"]) == body
    assert sqs.receive_message(QueueUrl=NAMES[queue], VisibilityTimeout=0).get("Messages") is None


def waiting(sqs: Any, url: str) -> list[dict[str, Any]]:
    messages: list[dict[str, Any]] = sqs.receive_message(
        QueueUrl=url, MaxNumberOfMessages=10, AttributeNames=["All"], MessageAttributeNames=["All"]
    ).get("Messages", [])
    return messages


def test_a_dead_lettered_stock_sync_job_goes_back_to_its_fifo_queue_with_its_group_and_attributes(aws):
    sqs = boto3.client("sqs")
    job = {"job": "stock_sync", "client_id": "acme", "account_id": "acc-1", "run_id": "20260101T000000-abc"}
    attribute = {"origin": {"DataType": "String", "StringValue": "tick"}}
    dead_letter(
        sqs,
        "StockSyncQueue",
        job,
        MessageGroupId="A2SELLERUK01#eu",
        MessageDeduplicationId=job["run_id"],
        MessageAttributes=attribute,
    )

    dead_letter_url, source_url, fifo = local_queues("StockSyncDLQ", NAMES)
    moved = move_messages(sqs, dead_letter_url, source_url, fifo=fifo, wait_seconds=0)

    assert (moved, fifo) == (1, True)
    assert waiting(sqs, NAMES["StockSyncDLQ"]) == []
    (back,) = waiting(sqs, NAMES["StockSyncQueue"])
    assert json.loads(back["Body"]) == job
    assert back["Attributes"]["MessageGroupId"] == "A2SELLERUK01#eu"
    assert back["MessageAttributes"]["origin"]["StringValue"] == "tick"


def test_a_job_dead_lettered_again_soon_after_a_redrive_goes_back_again(aws):
    # Within SQS's 5-minute deduplication window: the second move is a new message, not a repeat.
    sqs = boto3.client("sqs")
    job = {"job": "reconcile", "client_id": "acme", "account_id": "acc-1", "run_id": None}
    dead_letter(sqs, "StockSyncQueue", job, MessageGroupId="A2SELLERUK01#eu", MessageDeduplicationId="r-1")
    dead_letter_url, source_url, _ = local_queues("StockSyncDLQ", NAMES)
    assert move_messages(sqs, dead_letter_url, source_url, fifo=True, wait_seconds=0) == 1
    for _ in range(MAX_RECEIVES["StockSyncQueue"] + 1):  # it fails five times more
        sqs.receive_message(QueueUrl=source_url, VisibilityTimeout=0)

    moved = move_messages(sqs, dead_letter_url, source_url, fifo=True, wait_seconds=0)

    assert moved == 1
    (back,) = waiting(sqs, source_url)
    assert json.loads(back["Body"]) == job


def test_a_shipment_confirmation_goes_back_by_queue_name_and_a_second_redrive_moves_nothing(aws):
    sqs = boto3.client("sqs")
    dead_letter(sqs, "ShipmentQueue", {"job": "confirm_shipment", "shipment_id": "shp-1"})

    dead_letter_url, source_url, fifo = local_queues(NAMES["ShipmentDLQ.QueueName"], NAMES)
    first = move_messages(sqs, dead_letter_url, source_url, fifo=fifo, wait_seconds=0)
    second = move_messages(sqs, dead_letter_url, source_url, fifo=fifo, wait_seconds=0)

    assert (first, second, fifo) == (1, 0, False)
    (back,) = waiting(sqs, NAMES["ShipmentQueue"])
    assert json.loads(back["Body"])["shipment_id"] == "shp-1"


def test_the_dead_letter_queue_is_found_by_logical_id_name_or_url():
    expected = (NAMES["OrderImportDLQ"], NAMES["OrderImportQueue"], True)
    for given in ("OrderImportDLQ", NAMES["OrderImportDLQ.QueueName"], NAMES["OrderImportDLQ"]):
        assert local_queues(given, NAMES) == expected


@pytest.mark.parametrize("queue", ["StockSyncTickDLQ", "OrderImportTickDLQ"])
def test_a_schedules_dead_letter_queue_is_not_moved_anywhere_and_says_why(queue):
    with pytest.raises(RedriveError, match="next tick"):
        local_queues(queue, NAMES)


def test_a_queue_that_is_no_dead_letter_queue_or_unknown_is_refused():
    with pytest.raises(RedriveError, match="not a dead-letter queue"):
        local_queues("StockSyncQueue", NAMES)
    with pytest.raises(RedriveError, match="No queue 'Nope'"):
        local_queues("Nope", NAMES)


@pytest.fixture
def moto_server(monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """A moto server as `make serve` runs one, with the template's queues."""
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    url = f"http://{host}:{port}"
    for name, value in aws_environment(url).items():
        monkeypatch.setenv(name, value)
    create_resources(physical_names(endpoint=url))
    yield url
    urllib.request.urlopen(urllib.request.Request(f"{url}/moto-api/reset", method="POST"), timeout=10).close()
    server.stop()


def test_make_redrive_moves_the_local_stacks_dead_letters_back(moto_server, capsys):
    names = physical_names(endpoint=moto_server)
    sqs = boto3.client("sqs")
    job = {"job": "order_import", "client_id": "acme", "account_id": "acc-1"}
    sqs.send_message(
        QueueUrl=names["OrderImportQueue"],
        MessageBody=json.dumps(job),
        MessageGroupId="A2SELLERUK01#eu",
        MessageDeduplicationId="import-1",
    )
    for _ in range(MAX_RECEIVES["OrderImportQueue"] + 1):
        sqs.receive_message(QueueUrl=names["OrderImportQueue"], VisibilityTimeout=0)

    assert main(["--queue", "OrderImportDLQ", "--moto-url", moto_server]) == 0

    assert "moved 1 message(s)" in capsys.readouterr().out
    (back,) = waiting(sqs, names["OrderImportQueue"])
    assert (json.loads(back["Body"]), back["Attributes"]["MessageGroupId"]) == (job, "A2SELLERUK01#eu")
    assert main(["--queue", "StockSyncTickDLQ", "--moto-url", moto_server]) == 2


# ---- AWS: SQS's message move task (moto has none; botocore's Stubber checks the requests)

STACK = "oms-amazon-prod"
DLQ_URL = "https://sqs.eu-west-2.amazonaws.com/111122223333/oms-amazon-prod-StockSyncDLQ-1AB2C3.fifo"
DLQ_ARN = "arn:aws:sqs:eu-west-2:111122223333:oms-amazon-prod-StockSyncDLQ-1AB2C3.fifo"
SOURCE_URL = "https://sqs.eu-west-2.amazonaws.com/111122223333/oms-amazon-prod-StockSyncQueue-9ZY8X7.fifo"


def aws_clients() -> tuple[Any, Any]:
    session = boto3.Session(region_name="eu-west-2", aws_access_key_id="x", aws_secret_access_key="x")
    return session.client("sqs"), session.client("cloudformation")


def test_on_aws_the_stacks_dead_letter_queue_is_moved_back_by_a_message_move_task():
    sqs, cloudformation = aws_clients()
    with Stubber(sqs) as sqs_stub, Stubber(cloudformation) as cfn_stub:
        cfn_stub.add_response(
            "describe_stack_resource",
            {
                "StackResourceDetail": {
                    "LogicalResourceId": "StockSyncDLQ",
                    "PhysicalResourceId": DLQ_URL,
                    "ResourceType": "AWS::SQS::Queue",
                    "LastUpdatedTimestamp": "2026-01-01T00:00:00Z",
                    "ResourceStatus": "CREATE_COMPLETE",
                }
            },
            {"StackName": STACK, "LogicalResourceId": "StockSyncDLQ"},
        )
        sqs_stub.add_response(
            "get_queue_attributes",
            {"Attributes": {"QueueArn": DLQ_ARN}},
            {"QueueUrl": DLQ_URL, "AttributeNames": ["QueueArn"]},
        )
        sqs_stub.add_response("list_dead_letter_source_queues", {"queueUrls": [SOURCE_URL]}, {"QueueUrl": DLQ_URL})
        # No DestinationArn: each message back to the queue it was dead-lettered from.
        sqs_stub.add_response("start_message_move_task", {"TaskHandle": "task-1"}, {"SourceArn": DLQ_ARN})
        for status, moved in (("RUNNING", 1), ("COMPLETED", 3)):
            sqs_stub.add_response(
                "list_message_move_tasks",
                {
                    "Results": [
                        {
                            "Status": status,
                            "SourceArn": DLQ_ARN,
                            "ApproximateNumberOfMessagesMoved": moved,
                            "ApproximateNumberOfMessagesToMove": 3,
                        }
                    ]
                },
                {"SourceArn": DLQ_ARN, "MaxResults": 1},
            )
        slept: list[float] = []

        task = redrive_on_aws("StockSyncDLQ", STACK, sqs=sqs, cloudformation=cloudformation, sleep=slept.append)

        sqs_stub.assert_no_pending_responses()
        cfn_stub.assert_no_pending_responses()
    assert (task["Status"], task["ApproximateNumberOfMessagesMoved"], len(slept)) == ("COMPLETED", 3, 1)


def test_on_aws_a_schedules_dead_letter_queue_is_refused_before_any_move():
    sqs, cloudformation = aws_clients()
    url = "https://sqs.eu-west-2.amazonaws.com/111122223333/oms-amazon-prod-StockSyncTickDLQ-4DE5F6"
    with Stubber(sqs) as sqs_stub, Stubber(cloudformation):
        sqs_stub.add_response(
            "get_queue_attributes",
            {"Attributes": {"QueueArn": "arn:aws:sqs:eu-west-2:111122223333:oms-amazon-prod-StockSyncTickDLQ-4DE5F6"}},
            {"QueueUrl": url, "AttributeNames": ["QueueArn"]},
        )
        sqs_stub.add_response("list_dead_letter_source_queues", {"queueUrls": []}, {"QueueUrl": url})

        with pytest.raises(RedriveError, match="next tick"):
            redrive_on_aws(url, STACK, sqs=sqs, cloudformation=cloudformation)
        sqs_stub.assert_no_pending_responses()
