"""Logger, Metrics and Tracer singletons.

Logs are JSON with a correlation id and the client / account / merchant keys; secrets never reach
them (see `redact`). The Tracer is built lazily: importing the X-Ray SDK costs cold-start time that
only traced code should pay.
"""

from __future__ import annotations

import os
import re
from functools import cache
from typing import TYPE_CHECKING, Any

from aws_lambda_powertools import Logger, Metrics

if TYPE_CHECKING:
    from aws_lambda_powertools import Tracer

SERVICE = "oms-amazon-connector"
METRICS_NAMESPACE = "OmsAmazonConnector"

logger = Logger(service=SERVICE)
metrics = Metrics(namespace=METRICS_NAMESPACE, service=SERVICE)

# Anything shaped like an LWA token (refresh `Atzr|`, access `Atza|`), an MWS auth token, or an
# OAuth code is masked wherever it appears in a logged string.
_SECRET_PATTERNS = re.compile(
    r"(Atz[ar]\|[^\s\"',;&]+)|(amzn\.mws\.[0-9a-fA-F-]{8,})|((?<=spapi_oauth_code=)[^\s&\"']+)",
)


def redact(text: str) -> str:
    """`text` with every token-shaped substring replaced by a fixed mask."""
    return _SECRET_PATTERNS.sub("***", text)


def redact_value(value: Any) -> Any:
    if isinstance(value, str):
        return redact(value)
    if isinstance(value, dict):
        return {k: redact_value(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [redact_value(v) for v in value]
    return value


@cache
def tracer() -> Tracer:
    from aws_lambda_powertools import Tracer

    return Tracer(service=SERVICE)


def count(name: str, value: float = 1, **dimensions: str) -> None:
    """An EMF count with its own low-cardinality dimensions (a reason, an operation), flushed at once."""
    if not dimensions:
        metrics.add_metric(name=name, unit="Count", value=value)
        return
    if os.environ.get("POWERTOOLS_METRICS_DISABLED", "").lower() == "true":
        return
    from aws_lambda_powertools.metrics import MetricUnit, single_metric

    with single_metric(name=name, unit=MetricUnit.Count, value=value, namespace=METRICS_NAMESPACE) as metric:
        metric.add_dimension(name="service", value=SERVICE)
        for key, dimension in dimensions.items():
            metric.add_dimension(name=key, value=dimension)
