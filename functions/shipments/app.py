"""Shipment worker (SQS standard queue): confirms one despatched package with Amazon per message, or
queues its next attempt with a delay (SPEC §6.7)."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.batch import process_partial_response
from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
from aws_lambda_powertools.utilities.typing import LambdaContext
from oms_amazon.batch import JobProcessor, JobRecord
from oms_amazon.domain.jobs import ShipmentJob
from oms_amazon.observability import logger, metrics, traced
from oms_amazon.wiring import container
from pydantic import Json


class ShipmentRecord(JobRecord):
    body: Json[ShipmentJob]


# A message that is not a shipment job goes to ShipmentDLQ at once, not after five deliveries.
processor = JobProcessor(ShipmentRecord, dead_letters=lambda: container().shipment_dead_letters)


def _job(record: ShipmentRecord) -> str:
    job = record.body
    with logger.append_context_keys(
        correlation_id=record.messageId, job="confirm_shipment", client_id=job.client_id, attempt=job.attempt
    ):
        return container().shipment_worker.handle(job)


@logger.inject_lambda_context(clear_state=True)
@traced
@metrics.log_metrics
def work(event: dict[str, Any], context: LambdaContext) -> PartialItemFailureResponse:
    return process_partial_response(event=event, record_handler=_job, processor=processor, context=context)
