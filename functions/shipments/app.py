"""Shipment worker (SQS standard queue): confirms one despatched package with Amazon per message, or
queues its next attempt with a delay (SPEC §6.7)."""

from __future__ import annotations

import json
from typing import Any

from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.typing import LambdaContext
from oms_amazon import wiring
from oms_amazon.observability import logger, metrics, traced
from oms_amazon.services.shipments import ShipmentJob

processor = BatchProcessor(event_type=EventType.SQS)


def _job(record: SQSRecord) -> str:
    job = ShipmentJob.from_message(json.loads(record.body))
    logger.set_correlation_id(record.message_id)
    logger.append_keys(job="confirm_shipment", client_id=job.client_id, attempt=job.attempt)
    return wiring.shipment_worker().handle(job)


@logger.inject_lambda_context(clear_state=True)
@traced
@metrics.log_metrics
def work(event: dict[str, Any], context: LambdaContext) -> PartialItemFailureResponse:
    return process_partial_response(event=event, record_handler=_job, processor=processor, context=context)
