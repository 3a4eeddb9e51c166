"""Amazon's official Swagger 2.0 models, read once: operations, usage plans, parameter and body checks.

The simulator takes as much as it can from the models themselves, so it cannot drift from Amazon's
contract: the usage plan (rate, burst) of each operation is parsed from its description table, query
parameters are checked against their declared types, enums and bounds, and request bodies against
their declared schema (jsonschema, Draft 4 semantics as Swagger 2.0 uses).
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

from jsonschema import Draft4Validator, Draft7Validator, FormatChecker

from .ratelimit import UsagePlan

AMAZON_MODELS_DIR = Path(__file__).resolve().parents[1] / "amazon_models"

# API key (also the model's file stem) -> file under models/.
API_MODELS: dict[str, str] = {
    "ordersV0": "ordersV0.json",
    "orders_2026-01-01": "orders_2026-01-01.json",
    "feeds_2021-06-30": "feeds_2021-06-30.json",
    "reports_2021-06-30": "reports_2021-06-30.json",
    "listingsItems_2021-08-01": "listingsItems_2021-08-01.json",
    "sellers": "sellers.json",
    "tokens_2021-03-01": "tokens_2021-03-01.json",
}

_USAGE_PLAN = re.compile(
    r"\|\s*Rate \(requests per second\)\s*\|\s*Burst\s*\|\s*\n\|[- |]+\|\s*\n\|\s*([\d.]+)\s*\|\s*(\d+)\s*\|"
)


class ParameterError(ValueError):
    """A query parameter that the model's declaration refuses."""


@dataclass(frozen=True)
class Operation:
    api: str
    operation_id: str
    method: str
    path: str
    plan: UsagePlan
    parameters: tuple[Mapping[str, Any], ...]
    responses: Mapping[str, Mapping[str, Any]] = field(repr=False)

    @property
    def key(self) -> str:
        return f"{self.api}.{self.operation_id}"

    def body_parameter(self) -> Mapping[str, Any] | None:
        return next((p for p in self.parameters if p.get("in") == "body"), None)


class ApiModel:
    def __init__(self, api: str, document: Mapping[str, Any]) -> None:
        self.api = api
        self.document = document
        self.definitions: Mapping[str, Any] = document.get("definitions", {})
        self.operations: dict[str, Operation] = {}
        for path, item in document["paths"].items():
            shared = tuple(item.get("parameters", ()))
            for method, op in item.items():
                if method == "parameters" or not isinstance(op, dict) or "operationId" not in op:
                    continue
                match = _USAGE_PLAN.search(op.get("description", ""))
                if match is None:
                    raise ValueError(f"{api}.{op['operationId']}: no usage plan in the model")
                plan = UsagePlan(rate=float(match.group(1)), burst=int(match.group(2)))
                self.operations[op["operationId"]] = Operation(
                    api=api,
                    operation_id=op["operationId"],
                    method=method.upper(),
                    path=path,
                    plan=plan,
                    parameters=shared + tuple(op.get("parameters", ())),
                    responses=op["responses"],
                )
        self._validators: dict[str, Draft4Validator] = {}

    def validator(self, schema: Mapping[str, Any]) -> Draft4Validator:
        """A Draft 4 validator of `schema` that resolves this model's `#/definitions` refs."""
        key = json.dumps(schema, sort_keys=True)
        found = self._validators.get(key)
        if found is None:
            document = {**schema, "definitions": self.definitions}
            found = self._validators[key] = Draft4Validator(document, format_checker=FormatChecker())
        return found


def _schema_errors(validator: Draft4Validator | Draft7Validator, instance: Any, limit: int = 10) -> list[str]:
    errors = sorted(validator.iter_errors(instance), key=lambda e: list(e.absolute_path))
    messages = []
    for error in errors[:limit]:
        where = ".".join(str(p) for p in error.absolute_path)
        messages.append(f"{where}: {error.message}" if where else error.message)
    return messages


class ModelCatalog:
    """Every API model the simulator serves, plus the listings feed JSON schemas."""

    def __init__(self, directory: Path = AMAZON_MODELS_DIR) -> None:
        self.directory = directory
        self._valid_message_shapes: set[str] = set()
        self.apis: dict[str, ApiModel] = {}
        for api, filename in API_MODELS.items():
            document = json.loads((directory / "models" / filename).read_text(encoding="utf-8"))
            self.apis[api] = ApiModel(api, document)

    def operation(self, api: str, operation_id: str) -> Operation:
        return self.apis[api].operations[operation_id]

    def all_operations(self) -> list[Operation]:
        return [op for model in self.apis.values() for op in model.operations.values()]

    # --- requests -------------------------------------------------------------------------------

    def parse_query(self, op: Operation, args: Mapping[str, list[str]]) -> dict[str, Any]:
        """Query parameters typed as the model declares them; `ParameterError` for what it refuses."""
        parsed: dict[str, Any] = {}
        for param in op.parameters:
            if param.get("in") != "query":
                continue
            name = param["name"]
            raw = [v for v in args.get(name, []) if v != ""]
            if not raw:
                if param.get("required"):
                    raise ParameterError(f"Missing required parameter: {name}.")
                continue
            parsed[name] = _coerce(param, raw)
        return parsed

    def body_errors(self, op: Operation, body: Any) -> list[str]:
        param = op.body_parameter()
        if param is None:
            return []
        return _schema_errors(self.apis[op.api].validator(param["schema"]), body)

    def response_errors(self, op: Operation, status: int, body: Any) -> list[str]:
        """Where `body` departs from the schema the model declares for (operation, status)."""
        declared = op.responses.get(str(status))
        if declared is None:
            return [f"{op.key} declares no {status} response"]
        schema = declared.get("schema")
        if schema is None:
            return [] if body in (None, b"", "") else [f"{op.key} {status} declares no body"]
        return _schema_errors(self.apis[op.api].validator(schema), body)

    # --- listings feed schemas ----------------------------------------------------------------------

    def _schema(self, name: str) -> dict[str, Any]:
        schema: dict[str, Any] = json.loads((self.directory / "schemas" / name).read_text(encoding="utf-8"))
        return schema

    @cached_property
    def feed_schema(self) -> dict[str, Any]:
        return self._schema("listings-feed-schema-v2.json")

    @cached_property
    def feed_envelope_validator(self) -> Draft7Validator:
        """The feed schema with each message left unchecked: messages are judged one by one, as Amazon does."""
        schema = json.loads(json.dumps(self.feed_schema))
        schema["properties"]["messages"]["items"] = {"type": "object"}
        return Draft7Validator(schema)

    @cached_property
    def feed_message_validator(self) -> Draft7Validator:
        return Draft7Validator(self.feed_schema["properties"]["messages"]["items"])

    @cached_property
    def processing_report_validator(self) -> Draft7Validator:
        return Draft7Validator(self._schema("listings-feed-processing-report-schema-v2.json"))

    def feed_envelope_errors(self, feed: Any) -> list[str]:
        return _schema_errors(self.feed_envelope_validator, feed)

    def feed_message_errors(self, message: Any) -> list[str]:
        # A 25,000-message feed repeats a handful of shapes; one full check per valid shape keeps it fast.
        shape = _message_shape(message)
        if shape is not None and shape in self._valid_message_shapes:
            return []
        errors = _schema_errors(self.feed_message_validator, message)
        if not errors and shape is not None and len(self._valid_message_shapes) < 4096:
            self._valid_message_shapes.add(shape)
        return errors


def _message_shape(message: Any) -> str | None:
    """`message` with every value the feed schema does not constrain beyond its type replaced by a stand-in,
    so two messages of one shape are valid or invalid together: a valid messageId, a non-empty sku, the
    objects inside a patch's `value` and a non-empty `attributes` object (all `additionalProperties: true`)."""
    if not isinstance(message, dict):
        return None
    shape: dict[str, Any] = {}
    for key, value in message.items():
        if key == "messageId" and type(value) is int and 1 <= value <= 2147483647:
            shape[key] = 1
        elif key == "sku" and isinstance(value, str) and value:
            shape[key] = "s"
        elif key == "attributes" and isinstance(value, dict) and value:
            shape[key] = {"a": 0}
        elif key == "patches" and isinstance(value, list):
            shape[key] = [
                {**p, "value": [{} if isinstance(v, dict) else v for v in p["value"]]}
                if isinstance(p, dict) and isinstance(p.get("value"), list)
                else p
                for p in value
            ]
        else:
            shape[key] = value
    return json.dumps(shape, sort_keys=True)


def _coerce(param: Mapping[str, Any], raw: list[str]) -> Any:
    name = param["name"]
    kind = param.get("type", "string")
    if kind == "array":
        values = [part.strip() for value in raw for part in value.split(",") if part.strip()]
        items = param.get("items", {})
        allowed = items.get("enum")
        for value in values:
            if allowed and value not in allowed:
                raise ParameterError(f"Invalid value '{value}' for {name}; allowed: {', '.join(allowed)}.")
        if "maxItems" in param and len(values) > param["maxItems"]:
            raise ParameterError(f"{name} accepts at most {param['maxItems']} values.")
        if "minItems" in param and len(values) < param["minItems"]:
            raise ParameterError(f"{name} needs at least {param['minItems']} values.")
        return values
    value = raw[0]
    if kind == "integer":
        try:
            number = int(value)
        except ValueError:
            raise ParameterError(f"{name} must be an integer, got '{value}'.") from None
        if "minimum" in param and number < param["minimum"]:
            raise ParameterError(f"{name} must be at least {param['minimum']}.")
        if "maximum" in param and number > param["maximum"]:
            raise ParameterError(f"{name} must be at most {param['maximum']}.")
        return number
    if kind == "boolean":
        if value.lower() not in ("true", "false"):
            raise ParameterError(f"{name} must be true or false, got '{value}'.")
        return value.lower() == "true"
    if "enum" in param and value not in param["enum"]:
        raise ParameterError(f"Invalid value '{value}' for {name}; allowed: {', '.join(param['enum'])}.")
    return value
