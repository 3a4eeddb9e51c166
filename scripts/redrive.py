"""`make redrive QUEUE=<dead-letter queue>`: move the messages waiting in a dead-letter queue back to
the queue they failed on, once what made them fail is fixed (README "When a dead-letter alarm fires").

QUEUE is the queue's logical id in template.yaml (`StockSyncDLQ`), its name or its URL.

- On AWS (`STACK=<stack name>`, AWS credentials and region from the usual environment): SQS's own
  message move task (StartMessageMoveTask) sends each message back to its source queue; this waits
  for it to finish, or says how to follow it.
- On the local stack (`make serve`): moto has no message move task, so each message is received,
  sent to the source queue with its body, message attributes and FIFO message group, then deleted.
  On a FIFO queue the deduplication id is derived from the dead-lettered message, so a move cut
  short and run again does not queue a message twice.

The schedules' dead-letter queues (StockSyncTickDLQ, OrderImportTickDLQ) hold EventBridge's
undelivered ticks, not jobs: there is nothing to move back, the next tick does the same work.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable
from typing import Any

from botocore.exceptions import ClientError

TICKS_NOT_JOBS = (
    "{queue} holds scheduled ticks EventBridge could not deliver, not jobs: there is no queue to move them "
    "back to, and the next tick claims the same accounts. Read them for the cause, then purge the queue."
)
MOVE_TASK_POLL_SECONDS = 5.0


class RedriveError(Exception):
    """Nothing was moved; the message says why."""


# ---------------------------------------------------------------------------------------- local stack


def local_queues(queue: str, names: dict[str, str]) -> tuple[str, str, bool]:
    """(dead-letter queue URL, source queue URL, FIFO) of the local stack's queue `queue`: a logical id,
    a name or a URL; the source is the queue whose redrive policy names it in template.yaml."""
    from local.template import queue_definitions, schedules

    definitions = queue_definitions()
    known = {
        key: definition
        for definition in definitions
        for key in (definition.logical_id, names[f"{definition.logical_id}.QueueName"], names[definition.logical_id])
    }
    found = known.get(queue)
    if found is None:
        dead_letter = sorted(d.dead_letter_target for d in definitions if d.dead_letter_target)
        raise RedriveError(f"No queue {queue!r} in template.yaml; its dead-letter queues: {', '.join(dead_letter)}.")
    sources = [d for d in definitions if d.dead_letter_target == found.logical_id]
    if not sources:
        if any(s.dead_letter_queue == found.logical_id for s in schedules()):
            raise RedriveError(TICKS_NOT_JOBS.format(queue=found.logical_id))
        raise RedriveError(f"{found.logical_id} is not a dead-letter queue: no queue redrives into it.")
    (source,) = sources
    return names[found.logical_id], names[source.logical_id], found.fifo


def _message_attribute(value: dict[str, Any]) -> dict[str, Any]:
    """A received message attribute as SendMessage takes it (without the empty list fields)."""
    return {k: v for k, v in value.items() if k in ("DataType", "StringValue", "BinaryValue")}


def move_messages(sqs: Any, dead_letter_url: str, source_url: str, *, fifo: bool, wait_seconds: int = 1) -> int:
    """Receive, send to the source queue, delete: the messages the dead-letter queue held when the move
    began (a message dead-lettered again meanwhile waits for the next move). Returns how many moved."""
    counts = sqs.get_queue_attributes(
        QueueUrl=dead_letter_url,
        AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
    )["Attributes"]
    to_move = int(counts["ApproximateNumberOfMessages"]) + int(counts["ApproximateNumberOfMessagesNotVisible"])
    moved = 0
    while moved < to_move:
        messages = sqs.receive_message(
            QueueUrl=dead_letter_url,
            MaxNumberOfMessages=min(10, to_move - moved),
            WaitTimeSeconds=wait_seconds,
            VisibilityTimeout=60,
            AttributeNames=["All"],
            MessageAttributeNames=["All"],
        ).get("Messages", [])
        if not messages:
            break
        for message in messages:
            request: dict[str, Any] = {"QueueUrl": source_url, "MessageBody": message["Body"]}
            attributes = message.get("MessageAttributes") or {}
            if attributes:
                request["MessageAttributes"] = {name: _message_attribute(v) for name, v in attributes.items()}
            if fifo:
                request["MessageGroupId"] = message["Attributes"]["MessageGroupId"]
                request["MessageDeduplicationId"] = f"redrive-{message['MessageId']}"
            sqs.send_message(**request)
            sqs.delete_message(QueueUrl=dead_letter_url, ReceiptHandle=message["ReceiptHandle"])
            moved += 1
    return moved


def redrive_local(queue: str, moto_url: str) -> int:
    import urllib.request

    import boto3

    from local.functions import apply_environment
    from local.stack import aws_environment, physical_names

    if not moto_url.startswith(("http://", "https://")):
        raise RedriveError(f"Not an http(s) URL: {moto_url!r}.")
    try:
        urllib.request.urlopen(f"{moto_url}/moto-api/", timeout=3).close()  # noqa: S310 - http(s), checked above
    except OSError as error:
        raise RedriveError(f"No local stack at {moto_url}: start one with `make serve` first.") from error
    dead_letter_url, source_url, fifo = local_queues(queue, physical_names(endpoint=moto_url))
    apply_environment(aws_environment(moto_url))
    sqs = boto3.client("sqs")
    moved = move_messages(sqs, dead_letter_url, source_url, fifo=fifo)
    print(f"moved {moved} message(s) from {dead_letter_url} to {source_url}")
    return moved


# ---------------------------------------------------------------------------------------------- AWS


def aws_queue_url(queue: str, stack: str, sqs: Any, cloudformation: Any) -> str:
    """A logical id of the stack, else a queue name (or a URL, as given)."""
    if queue.startswith("https://"):
        return queue
    try:
        detail = cloudformation.describe_stack_resource(StackName=stack, LogicalResourceId=queue)
    except ClientError as error:
        if error.response["Error"]["Code"] != "ValidationError":  # ValidationError: no such logical id
            raise
    else:
        resource = detail["StackResourceDetail"]
        if resource["ResourceType"] != "AWS::SQS::Queue":
            raise RedriveError(f"{queue} is a {resource['ResourceType']}, not a queue.")
        url: str = resource["PhysicalResourceId"]
        return url
    try:
        found: str = sqs.get_queue_url(QueueName=queue)["QueueUrl"]
    except sqs.exceptions.QueueDoesNotExist as error:
        raise RedriveError(f"Neither a resource of stack {stack} nor a queue: {queue!r}.") from error
    return found


def redrive_on_aws(
    queue: str,
    stack: str,
    *,
    sqs: Any,
    cloudformation: Any,
    wait_seconds: float = 600,
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], float] = time.monotonic,
) -> dict[str, Any]:
    """Starts SQS's message move task from the dead-letter queue back to its source queue and follows it
    until it ends or `wait_seconds` pass; returns the task as ListMessageMoveTasks last reported it."""
    url = aws_queue_url(queue, stack, sqs, cloudformation)
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    if not sqs.list_dead_letter_source_queues(QueueUrl=url).get("queueUrls"):
        name = arn.rsplit(":", 1)[1]
        if "TickDLQ" in name:
            raise RedriveError(TICKS_NOT_JOBS.format(queue=name))
        raise RedriveError(f"{name} is not a dead-letter queue: no queue redrives into it.")
    # No DestinationArn: each message goes back to the queue it was dead-lettered from.
    handle = sqs.start_message_move_task(SourceArn=arn)["TaskHandle"]
    print(f"message move task started from {arn} (task {handle})")
    deadline = clock() + wait_seconds
    while True:
        (task,) = sqs.list_message_move_tasks(SourceArn=arn, MaxResults=1)["Results"]
        if task["Status"] != "RUNNING" or clock() >= deadline:
            break
        sleep(MOVE_TASK_POLL_SECONDS)
    if task["Status"] == "FAILED":
        raise RedriveError(f"The message move task failed: {task.get('FailureReason', 'no reason given')}.")
    print(
        f"{task['Status']}: {task.get('ApproximateNumberOfMessagesMoved', 0)} of "
        f"{task.get('ApproximateNumberOfMessagesToMove', '?')} message(s) moved"
        + (
            f" (still running: aws sqs list-message-move-tasks --source-arn {arn})"
            if task["Status"] == "RUNNING"
            else ""
        )
    )
    return dict(task)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m scripts.redrive", description=__doc__.split("\n\n")[0])
    parser.add_argument("--queue", required=True, help="the dead-letter queue: logical id, name or URL")
    parser.add_argument("--stack", help="the deployed stack's name (AWS); without it, the local stack")
    parser.add_argument("--moto-url", default="http://127.0.0.1:5000", help="the local stack's moto")
    args = parser.parse_args(argv)
    try:
        if args.stack:
            import boto3

            redrive_on_aws(
                args.queue, args.stack, sqs=boto3.client("sqs"), cloudformation=boto3.client("cloudformation")
            )
        else:
            redrive_local(args.queue, args.moto_url)
    except RedriveError as error:
        print(error, file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
