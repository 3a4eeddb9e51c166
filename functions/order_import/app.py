"""Order import: the scheduled tick (EventBridge) and the per-account worker (SQS FIFO)."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.batch import process_partial_response
from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
from aws_lambda_powertools.utilities.typing import LambdaContext
from oms_amazon.batch import FifoJobProcessor, JobRecord
from oms_amazon.domain.jobs import ImportJob
from oms_amazon.observability import logger, metrics, traced
from oms_amazon.wiring import container
from pydantic import Json


class ImportRecord(JobRecord):
    body: Json[ImportJob]


# A message that is not an order-import job goes to OrderImportDLQ at once, not after five deliveries.
processor = FifoJobProcessor(ImportRecord, dead_letters=lambda: container().order_import_dead_letters)


@logger.inject_lambda_context(correlation_id_path=correlation_paths.EVENT_BRIDGE, clear_state=True)
@traced
@metrics.log_metrics
def tick(event: dict[str, Any], context: LambdaContext) -> dict[str, int]:
    return container().order_import_scheduler.tick()


def _job(record: ImportRecord, lambda_context: LambdaContext) -> None:
    job = record.body
    with logger.append_context_keys(
        correlation_id=record.messageId,
        job="order_import",
        trigger=job.trigger,
        client_id=job.client_id,
        account_id=job.account_id,
    ):
        # A long search stops while a page still fits in the invocation; the next job goes on from its checkpoint.
        container().order_import_worker.handle(
            job, time_left=lambda: lambda_context.get_remaining_time_in_millis() / 1000
        )


@logger.inject_lambda_context(clear_state=True)
@traced
@metrics.log_metrics
def work(event: dict[str, Any], context: LambdaContext) -> PartialItemFailureResponse:
    return process_partial_response(event=event, record_handler=_job, processor=processor, context=context)
