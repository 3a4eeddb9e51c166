"""Job messages through Powertools' batch processors, each record parsed by a pydantic model: a `JobRecord`
subclass, the SQS record with `body: Json[<the job's model>]`.

A message its model refuses is not a failure to retry: it would fail the same way on each of the queue's
five deliveries and, on a FIFO queue, hold its message group all the while. It is logged once (message id,
queue, what is wrong and where, never a value), sent as it came to the queue's dead-letter queue (in its
message group, deduplicated by its message id) and reported processed, so SQS deletes it. Only if the
dead-letter queue cannot take it is it reported failed: SQS delivers it again, and its redrive policy
dead-letters it in the end.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import Any

from aws_lambda_powertools.utilities.batch import (
    BatchProcessor,
    EventType,
    ExceptionInfo,
    FailureResponse,
    SqsFifoPartialProcessor,
    SuccessResponse,
)
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.parser.models import SqsRecordModel
from pydantic import ConfigDict, ValidationError

from oms_amazon.observability import logger
from oms_amazon.ports import DeadLetterQueue


class JobRecord(SqsRecordModel):
    """An SQS record; a subclass types its body as `Json[<job model>]`. Its validation errors show no input,
    so a body's values reach no log or trace through one."""

    model_config = ConfigDict(hide_input_in_errors=True)


DeadLetters = Callable[[], DeadLetterQueue]


def problems(error: ValidationError) -> list[str]:
    """What is wrong and where ("body.client_id: Field required"), never the value."""
    return [
        ".".join(str(part) for part in detail["loc"]) + ": " + detail["msg"]
        for detail in error.errors(include_url=False, include_input=False, include_context=False)
    ]


def _refused_by(model: type[JobRecord], exception: ExceptionInfo) -> ValidationError | None:
    error = exception[1]
    # Powertools' own test for a record its model refused (rather than an error of the record handler).
    return error if isinstance(error, ValidationError) and error.title == model.__name__ else None


def _dead_lettered(record: SQSRecord, error: ValidationError, dead_letters: DeadLetters) -> bool:
    queue = record.event_source_arn.rsplit(":", 1)[-1]
    try:
        dead_letter_id = dead_letters().put(
            record.body, message_id=record.message_id, group=record.attributes.message_group_id
        )
    except Exception:
        logger.warning(
            "malformed job message not dead-lettered: the dead-letter queue refused it; SQS delivers it again",
            extra={"message_id": record.message_id, "queue": queue},
            exc_info=True,
        )
        return False
    logger.error(
        "malformed job message sent to the dead-letter queue, not retried",
        extra={
            "correlation_id": record.message_id,
            "message_id": record.message_id,
            "queue": queue,
            "dead_letter_message_id": dead_letter_id,
            "errors": problems(error),
        },
    )
    return True


class JobProcessor(BatchProcessor):
    """A standard queue's jobs: each record parsed by `model`, the malformed ones dead-lettered at once."""

    def __init__(self, model: type[JobRecord], dead_letters: DeadLetters) -> None:
        super().__init__(EventType.SQS, model=model)
        self._record_model = model
        self._dead_letters = dead_letters

    def failure_handler(self, record: Any, exception: ExceptionInfo) -> FailureResponse:
        refused = _refused_by(self._record_model, exception)
        if refused is not None and _dead_lettered(record, refused, self._dead_letters):
            return self.success_handler(record, None)
        return super().failure_handler(record, exception)


class FifoJobProcessor(SqsFifoPartialProcessor):
    """A FIFO queue's jobs: each record parsed by `model`, the malformed ones dead-lettered at once. A
    record that fails otherwise fails the rest of the batch (Powertools keeps the queue's order), but a
    malformed record, wherever it stands, is dead-lettered: it can never be done, so it holds nothing up."""

    def __init__(self, model: type[JobRecord], dead_letters: DeadLetters) -> None:
        super().__init__(model=model)
        self._record_model = model
        self._dead_letters = dead_letters

    def failure_handler(self, record: Any, exception: ExceptionInfo) -> FailureResponse:
        refused = _refused_by(self._record_model, exception)
        if refused is not None and _dead_lettered(record, refused, self._dead_letters):
            return self.success_handler(record, None)
        return super().failure_handler(record, exception)

    def _process_record(self, record: dict[str, Any]) -> SuccessResponse | FailureResponse:
        try:
            response: SuccessResponse | FailureResponse = super()._process_record(record)  # type: ignore[no-untyped-call]
        except ValidationError:
            # After a failed record Powertools fails each later one, parsing it with the model first: a
            # malformed one would raise out of the whole batch, failing (and redelivering) every record.
            return self.failure_handler(SQSRecord(record), sys.exc_info())
        return response
