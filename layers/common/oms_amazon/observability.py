"""Logger, Metrics and Tracer singletons.

Logs are JSON with a correlation id and the client / account / merchant keys; secrets never reach
them: every record is redacted as it is serialized (`redact`), whatever logged it and wherever the
token sits (message, extra keys, appended keys, exception text). The Tracer is built lazily and only
where X-Ray can receive it: importing the X-Ray SDK costs cold-start time that untraced code (the
local stack, tests, `sam local`) should not pay.
"""

from __future__ import annotations

import json
import os
import re
import warnings
from collections.abc import Callable
from functools import cache
from types import ModuleType
from typing import TYPE_CHECKING, Any, cast

from aws_lambda_powertools import Logger, Metrics

if TYPE_CHECKING:
    from aws_lambda_powertools import Tracer

SERVICE = "oms-amazon-connector"
METRICS_NAMESPACE = "OmsAmazonConnector"

# Anything shaped like an LWA token (refresh `Atzr|`, access `Atza|`, also URL-encoded), an MWS auth
# token, an LWA client secret, or an OAuth code is masked wherever it appears in a logged string.
# A token ends at a backslash too, so masking one inside a JSON string never eats an escape.
_SECRET_PATTERNS = re.compile(
    r"(Atz[ar](?:\||%7[cC])[^\s\"',;&\\]+)"
    r"|(amzn\.mws\.[0-9a-fA-F-]{8,})"
    r"|(amzn1\.oa2-cs\.v1\.[0-9a-zA-Z]+)"
    r"|((?<=spapi_oauth_code=)[^\s&\"'\\]+)",
)
MASK = "***"


def redact(text: str) -> str:
    """`text` with every token-shaped substring replaced by a fixed mask."""
    return _SECRET_PATTERNS.sub(MASK, text)


def _redacting_serializer(record: dict[str, Any]) -> str:
    # The last step of every record: what any key holds (an object's str() included) is redacted in
    # the JSON line itself, so nothing logged through this logger can carry a token out.
    return redact(json.dumps(record, default=str, separators=(",", ":"), ensure_ascii=False))


logger = Logger(service=SERVICE, json_serializer=_redacting_serializer)
metrics = Metrics(namespace=METRICS_NAMESPACE, service=SERVICE)
# Most invocations count nothing (a GET, an idle tick); Powertools would print a warning for each.
warnings.filterwarnings("ignore", message="No application metrics to publish", category=UserWarning)


def _truthy(value: str | None) -> bool:
    return (value or "").strip().lower() in ("1", "true", "yes", "on", "y", "t")


def tracing_enabled() -> bool:
    """X-Ray only in a real Lambda (where its daemon listens) and when not switched off: the same rule
    Powertools' Tracer applies, decided here without importing the X-Ray SDK."""
    if _truthy(os.environ.get("POWERTOOLS_TRACE_DISABLED")) or _truthy(os.environ.get("AWS_SAM_LOCAL")):
        return False
    return bool(os.environ.get("LAMBDA_TASK_ROOT"))


# Only what the connector calls: AWS (botocore, under boto3) and Amazon (httpx). patch_all would also
# import and patch database drivers, requests and httplib that nothing here uses.
# Each is patched once the module named beside it has been imported: Powertools imports botocore's package
# alone early; a session (and with it botocore.client) comes with the first AWS client.
TRACED_MODULES = {"botocore": "botocore.session", "httpx": "httpx"}


@cache
def tracer() -> Tracer:
    from aws_lambda_powertools import Tracer
    from wrapt import register_post_import_hook

    built = Tracer(service=SERVICE, auto_patch=False)
    # Each module is patched when something first imports it, not here: patching imports it, and a
    # function that never calls Amazon (a tick) should not pay for httpx, nor any handler's init for
    # botocore before its first AWS client. A module already imported is patched at once.

    def patcher(name: str) -> Callable[[ModuleType], None]:
        return lambda _: built.patch(modules=(name,))

    for name, trigger in TRACED_MODULES.items():
        register_post_import_hook(patcher(name), trigger)
    return built


def traced[Handler: Callable[..., Any]](handler: Handler) -> Handler:
    """`Tracer.capture_lambda_handler` where tracing is on; the handler untouched (and the X-Ray SDK
    never imported) where it is off. Decided at import, i.e. in Lambda's init phase."""
    if not tracing_enabled():
        return handler
    # Responses stay out of the trace: they can be large and carry client data.
    return cast(Handler, tracer().capture_lambda_handler(handler, capture_response=False))


def count(name: str, value: float = 1, **dimensions: str) -> None:
    """An EMF count. Without dimensions it joins the invocation's metric set (flushed by `log_metrics`);
    with its own low-cardinality dimensions (a reason, an operation) it is flushed at once."""
    if _truthy(os.environ.get("POWERTOOLS_METRICS_DISABLED")):
        # Powertools would still collect (and print every 100th value of) a disabled metric set.
        return
    if not dimensions:
        metrics.add_metric(name=name, unit="Count", value=value)
        return
    from aws_lambda_powertools.metrics import MetricUnit, single_metric

    with single_metric(name=name, unit=MetricUnit.Count, value=value, namespace=METRICS_NAMESPACE) as metric:
        metric.add_dimension(name="service", value=SERVICE)
        for key, dimension in dimensions.items():
            metric.add_dimension(name=key, value=dimension)
