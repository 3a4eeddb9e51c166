"""Reads `template.yaml`, the one source of truth for tables, functions, routes, queues and
schedules, so the local stack and the tests build exactly what deploys."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parent.parent
TEMPLATE = ROOT / "template.yaml"


class _CfnLoader(yaml.SafeLoader):
    """A YAML loader that keeps CloudFormation's short-form intrinsics (`!Ref X` -> {"Ref": "X"})."""


def _intrinsic(loader: yaml.SafeLoader, tag_suffix: str, node: yaml.Node) -> dict[str, Any]:
    name = "Ref" if tag_suffix == "Ref" else f"Fn::{tag_suffix}"
    value: Any
    if isinstance(node, yaml.ScalarNode):
        value = loader.construct_scalar(node)
        if tag_suffix == "GetAtt" and isinstance(value, str):
            value = value.split(".", 1)
    elif isinstance(node, yaml.SequenceNode):
        value = loader.construct_sequence(node, deep=True)
    else:
        value = loader.construct_mapping(node, deep=True)  # type: ignore[arg-type]
    return {name: value}


_CfnLoader.add_multi_constructor("!", _intrinsic)


@cache
def load_template(path: Path = TEMPLATE) -> dict[str, Any]:
    with path.open() as handle:
        document: dict[str, Any] = yaml.load(handle, Loader=_CfnLoader)  # noqa: S506 - a SafeLoader subclass
    return document


def resources(kind: str) -> dict[str, dict[str, Any]]:
    return {name: r for name, r in load_template()["Resources"].items() if r["Type"] == kind}


def parameter_default(name: str) -> Any:
    return load_template()["Parameters"][name].get("Default")


def table_definitions(names: dict[str, str]) -> list[dict[str, Any]]:
    """`create_table` requests for every table in the template; `names` maps logical id -> physical name."""
    requests = []
    for logical_id, resource in resources("AWS::DynamoDB::Table").items():
        props = resource["Properties"]
        request: dict[str, Any] = {
            "TableName": names[logical_id],
            "AttributeDefinitions": props["AttributeDefinitions"],
            "KeySchema": props["KeySchema"],
            "BillingMode": props.get("BillingMode", "PAY_PER_REQUEST"),
        }
        if "GlobalSecondaryIndexes" in props:
            request["GlobalSecondaryIndexes"] = props["GlobalSecondaryIndexes"]
        if "StreamSpecification" in props:
            request["StreamSpecification"] = {"StreamEnabled": True, **props["StreamSpecification"]}
        requests.append(request)
    return requests


@dataclass(frozen=True)
class ApiRoute:
    function: str
    path: str
    method: str
    authorised: bool


def api_routes() -> list[ApiRoute]:
    """Every `Api` event of every function, most specific path first (as API Gateway matches)."""
    routes = []
    for logical_id, resource in resources("AWS::Serverless::Function").items():
        for event in (resource["Properties"].get("Events") or {}).values():
            if event["Type"] != "Api":
                continue
            props = event["Properties"]
            auth = (props.get("Auth") or {}).get("Authorizer")
            routes.append(ApiRoute(logical_id, props["Path"], props["Method"].upper(), auth != "NONE"))
    return sorted(routes, key=lambda r: ("{proxy+}" in r.path, -len(r.path)))


def function_environment(logical_id: str) -> dict[str, Any]:
    """The function's environment: the Globals' variables overlaid by its own."""
    template = load_template()
    global_vars = template.get("Globals", {}).get("Function", {}).get("Environment", {}).get("Variables", {})
    own = resources("AWS::Serverless::Function")[logical_id]["Properties"].get("Environment", {}).get("Variables", {})
    return {**global_vars, **own}


def function_timeout(logical_id: str) -> float:
    """The function's timeout in seconds: its own, else the Globals', else Lambda's default of 3."""
    template = load_template()
    own = resources("AWS::Serverless::Function")[logical_id]["Properties"].get("Timeout")
    return float(own or template.get("Globals", {}).get("Function", {}).get("Timeout") or 3)


@dataclass(frozen=True)
class QueueDefinition:
    logical_id: str
    fifo: bool
    attributes: dict[str, str]
    dead_letter_target: str | None  # logical id
    max_receive_count: int | None


def queue_definitions() -> list[QueueDefinition]:
    """The template's queues, plus the dead-letter queues SAM creates for schedule targets."""
    queues = []
    for logical_id, resource in resources("AWS::SQS::Queue").items():
        props = resource.get("Properties") or {}
        attributes = {}
        if props.get("FifoQueue"):
            attributes["FifoQueue"] = "true"
            attributes["ContentBasedDeduplication"] = str(bool(props.get("ContentBasedDeduplication"))).lower()
        for name in ("VisibilityTimeout", "MessageRetentionPeriod"):
            if name in props:
                attributes[name] = str(props[name])
        redrive = props.get("RedrivePolicy") or {}
        target = redrive.get("deadLetterTargetArn", {}).get("Fn::GetAtt", [None])[0] if redrive else None
        queues.append(
            QueueDefinition(
                logical_id, bool(props.get("FifoQueue")), attributes, target, redrive.get("maxReceiveCount")
            )
        )
    declared = {queue.logical_id for queue in queues}
    for schedule in schedules():
        if schedule.dead_letter_queue and schedule.dead_letter_queue not in declared:
            queues.append(QueueDefinition(schedule.dead_letter_queue, False, {}, None, None))
    # Dead-letter targets first, so redrive policies can name them.
    return sorted(queues, key=lambda q: q.dead_letter_target is not None)


@dataclass(frozen=True)
class Schedule:
    function: str
    name: str
    expression: str  # as written, e.g. "rate(${StockSyncRateMinutes} minutes)"
    retry_attempts: int
    dead_letter_queue: str | None


def schedules() -> list[Schedule]:
    found = []
    for logical_id, resource in resources("AWS::Serverless::Function").items():
        for name, event in (resource["Properties"].get("Events") or {}).items():
            if event["Type"] != "Schedule":
                continue
            props = event["Properties"]
            expression = props["Schedule"]
            if isinstance(expression, dict):
                expression = expression["Fn::Sub"]
            dead_letters = props.get("DeadLetterConfig") or {}
            # A queue SAM creates (QueueLogicalId) or one the template declares (Arn: !GetAtt Queue.Arn).
            dlq = dead_letters.get("QueueLogicalId") or (dead_letters.get("Arn") or {}).get("Fn::GetAtt", [None])[0]
            retries = (props.get("RetryPolicy") or {}).get("MaximumRetryAttempts", 185)
            found.append(Schedule(logical_id, name, expression, int(retries), dlq))
    return found


@dataclass(frozen=True)
class QueueTrigger:
    function: str
    queue: str  # logical id
    batch_size: int
    reports_failures: bool
    maximum_concurrency: int | None = None  # the event source's ScalingConfig


def queue_triggers() -> list[QueueTrigger]:
    found = []
    for logical_id, resource in resources("AWS::Serverless::Function").items():
        for event in (resource["Properties"].get("Events") or {}).values():
            if event["Type"] != "SQS":
                continue
            props = event["Properties"]
            queue = props["Queue"]["Fn::GetAtt"][0]
            reports = "ReportBatchItemFailures" in (props.get("FunctionResponseTypes") or [])
            scaling = (props.get("ScalingConfig") or {}).get("MaximumConcurrency")
            found.append(
                QueueTrigger(
                    logical_id, queue, int(props.get("BatchSize", 10)), reports, int(scaling) if scaling else None
                )
            )
    return found


def rate_minutes(expression: str, parameters: dict[str, Any]) -> float:
    """Minutes between runs of a `rate(...)` expression, parameters substituted; anything EventBridge
    would refuse (`rate(15 minute)`, zero, cron) raises ValueError."""
    import re

    text = expression
    for name, value in parameters.items():
        text = text.replace("${" + name + "}", str(value))
    match = re.fullmatch(r"rate\((\d+) (minute|minutes|hour|hours|day|days)\)", text)
    if not match:
        raise ValueError(f"not a rate expression EventBridge accepts: {text!r}")
    value, unit = int(match.group(1)), match.group(2)
    if value <= 0 or (value == 1) != (not unit.endswith("s")):
        raise ValueError(f"EventBridge wants the singular unit for 1 and the plural otherwise: {text!r}")
    return value * {"minute": 1, "hour": 60, "day": 1440}[unit.rstrip("s")]


def parameter_defaults() -> dict[str, Any]:
    return {name: p.get("Default") for name, p in load_template().get("Parameters", {}).items()}


def local_rate_parameters(names: dict[str, str]) -> dict[str, Any]:
    """Parameter values for schedule expressions: the local stack's names hold them as strings."""
    return {name: names.get(name, default) for name, default in parameter_defaults().items()}
