"""API Gateway -> the connector's HTTP API (accounts, marketplaces, OpenAPI document)."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext
from oms_amazon.api.app import build_app
from oms_amazon.observability import logger, metrics, traced

app = build_app()


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST, clear_state=True)
@traced
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    claims = ((event.get("requestContext") or {}).get("authorizer") or {}).get("claims") or {}
    logger.append_keys(caller_client_id=claims.get("custom:client_id"))
    return app.resolve(event, context)
