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
