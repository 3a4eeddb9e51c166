"""Amazon's official models as a test oracle: is this body what the model declares for (operation, status)?

Written independently of the simulator's own model reading, so a mistake there cannot hide itself.
Swagger 2.0 schemas are JSON Schema Draft 4 with `#/definitions/...` refs inside the same document:
the response schema is validated with the model's definitions attached, formats (`date-time`) checked.
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

from jsonschema import Draft4Validator, Draft7Validator, FormatChecker

AMAZON_MODELS = Path(__file__).resolve().parents[2] / "local" / "amazon_models"
MODELS_DIR = AMAZON_MODELS / "models"
SCHEMAS_DIR = AMAZON_MODELS / "schemas"


class ModelContract:
    """One Swagger 2.0 model (e.g. `ordersV0`), answering what its operations declare."""

    def __init__(self, model: str) -> None:
        self.model = model
        self.document: dict[str, Any] = json.loads((MODELS_DIR / f"{model}.json").read_text(encoding="utf-8"))
        self._operations: dict[str, dict[str, Any]] = {}
        for path_item in self.document["paths"].values():
            for operation in path_item.values():
                if isinstance(operation, dict) and "operationId" in operation:
                    self._operations[operation["operationId"]] = operation

    def operation(self, operation_id: str) -> dict[str, Any]:
        if operation_id not in self._operations:
            raise KeyError(f"{self.model} has no operation {operation_id}")
        return self._operations[operation_id]

    def declared_response(self, operation_id: str, status: int) -> dict[str, Any]:
        responses = self.operation(operation_id)["responses"]
        if str(status) not in responses:
            raise AssertionError(f"{self.model}.{operation_id} declares no {status} response (has {sorted(responses)})")
        return responses[str(status)]

    def validator(self, schema: dict[str, Any]) -> Draft4Validator:
        return Draft4Validator({**schema, "definitions": self.document["definitions"]}, format_checker=FormatChecker())

    def errors(self, operation_id: str, status: int, body: Any) -> list[str]:
        """Every way `body` departs from the schema declared for (operation, status); [] when it conforms."""
        schema = self.declared_response(operation_id, status).get("schema")
        if schema is None:
            return [] if body is None else [f"{self.model}.{operation_id} {status} declares no body, got one"]
        found = []
        for error in self.validator(schema).iter_errors(body):
            where = "/".join(str(p) for p in error.absolute_path) or "(root)"
            found.append(f"{where}: {error.message}")
        return found

    def assert_valid(self, operation_id: str, status: int, body: Any) -> None:
        problems = self.errors(operation_id, status, body)
        assert not problems, f"{self.model}.{operation_id} {status} does not match the model:\n" + "\n".join(problems)

    def declared_headers(self, operation_id: str, status: int) -> set[str]:
        return set(self.declared_response(operation_id, status).get("headers", {}))


@cache
def contract(model: str) -> ModelContract:
    return ModelContract(model)


@cache
def json_schema_validator(name: str) -> Draft7Validator:
    """A validator for one of the listings feed JSON schemas (draft-07), by file name."""
    return Draft7Validator(json.loads((SCHEMAS_DIR / name).read_text(encoding="utf-8")))


def assert_processing_report(report: Any) -> None:
    errors = [
        e.message for e in json_schema_validator("listings-feed-processing-report-schema-v2.json").iter_errors(report)
    ]
    assert not errors, "processing report does not match listings-feed-processing-report-schema-v2.json: " + "; ".join(
        errors
    )


def assert_listings_feed(feed: Any) -> None:
    errors = [e.message for e in json_schema_validator("listings-feed-schema-v2.json").iter_errors(feed)]
    assert not errors, "feed does not match listings-feed-schema-v2.json: " + "; ".join(errors)
