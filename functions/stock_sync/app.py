"""Stock sync: the scheduled tick (EventBridge) and the per-seller worker (SQS FIFO)."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.batch import process_partial_response
from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
from aws_lambda_powertools.utilities.typing import LambdaContext
from oms_amazon.batch import FifoJobProcessor, JobRecord
from oms_amazon.domain.jobs import Job
from oms_amazon.observability import logger, metrics, traced
from oms_amazon.wiring import container
from pydantic import Json


class StockSyncRecord(JobRecord):
    body: Json[Job]


# A message that is not a stock-sync job goes to StockSyncDLQ at once, not after five deliveries.
processor = FifoJobProcessor(StockSyncRecord, dead_letters=lambda: container().stock_sync_dead_letters)


@logger.inject_lambda_context(correlation_id_path=correlation_paths.EVENT_BRIDGE, clear_state=True)
@traced
@metrics.log_metrics
def tick(event: dict[str, Any], context: LambdaContext) -> dict[str, int]:
    return container().stock_sync_scheduler.tick()


def _job(record: StockSyncRecord) -> None:
    job = record.body
    # The run id ties the worker's lines to the tick or API call that queued the run.
    with logger.append_context_keys(
        correlation_id=job.run_id or record.messageId,
        job=job.kind,
        run_id=job.run_id,
        client_id=job.client_id,
        account_id=job.account_id,
    ):
        container().stock_sync_worker.handle(job)


@logger.inject_lambda_context(clear_state=True)
@traced
@metrics.log_metrics
def work(event: dict[str, Any], context: LambdaContext) -> PartialItemFailureResponse:
    return process_partial_response(event=event, record_handler=_job, processor=processor, context=context)
