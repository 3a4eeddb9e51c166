"""Job messages on the FIFO queues. The message group is the seller and region, so one seller's
Amazon quota is used by one worker at a time; the deduplication id is the run, so a retried send
never queues a run twice. And the dead-letter queues, as the workers send malformed messages to them."""

from __future__ import annotations

import json
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from oms_amazon.domain.errors import DependencyUnavailable


class SqsJobQueue:
    def __init__(self, client: Any, queue_url: str) -> None:
        self._sqs = client
        self._url = queue_url

    def send(self, body: dict[str, Any], *, group: str, dedup_id: str) -> None:
        try:
            self._sqs.send_message(
                QueueUrl=self._url,
                MessageBody=json.dumps(body, separators=(",", ":")),
                MessageGroupId=group,
                MessageDeduplicationId=dedup_id,
            )
        except (ClientError, BotoCoreError) as error:
            raise DependencyUnavailable("The job could not be queued; retry shortly.") from error


class SqsDeadLetterQueue:
    """A job queue's dead-letter queue, for the messages a worker refuses without a retry (`oms_amazon.batch`):
    the body as it came and, on a FIFO queue, the same message group (a redrive returns it to its seller's
    turn) and the source message's id as deduplication id (a second delivery of it is dropped)."""

    def __init__(self, client: Any, queue_url: str) -> None:
        self._sqs = client
        self._url = queue_url
        self._fifo = queue_url.endswith(".fifo")

    def put(self, body: str, *, message_id: str, group: str | None) -> str:
        send: dict[str, Any] = {"QueueUrl": self._url, "MessageBody": body}
        if self._fifo:
            send.update(MessageGroupId=group or message_id, MessageDeduplicationId=message_id)
        try:
            return str(self._sqs.send_message(**send)["MessageId"])
        except (ClientError, BotoCoreError) as error:
            raise DependencyUnavailable("The message could not be dead-lettered.") from error
