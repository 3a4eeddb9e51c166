"""Each handler imports what it runs and nothing of its neighbours: a cold start pays for every module a
handler imports, and Lambda compiles none of it ahead (README "Performance")."""

from __future__ import annotations

import ast
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from local.template import ROOT

pytestmark = pytest.mark.unit

FUNCTIONS = ROOT / "functions"

# What each handler's import may not bring in. Amazon's client (httpx, the SP-API models) comes with a
# worker's first job, boto3 with the first AWS client: neither belongs to the init of any handler.
NEVER_AT_INIT = (
    "httpx",
    "boto3",
    "botocore.session",
    "oms_amazon.adapters.sp_api",
    "oms_amazon.adapters.amazon",
    "oms_amazon.adapters.amazon_connections",
    "oms_amazon.adapters.amazon_orders",
)
# A worker parses its SQS records with Powertools' SQS model alone. Powertools' batch utility imports its
# Kinesis, DynamoDB and Kafka record models too when pydantic is imported before it: a handler imports it first.
OTHER_EVENT_MODELS = tuple(
    f"aws_lambda_powertools.utilities.parser.models.{name}" for name in ("kinesis", "dynamodb", "kafka", "apigw")
)
NOT_IMPORTED = {
    "order_import": (
        *NEVER_AT_INIT,
        *OTHER_EVENT_MODELS,
        "oms_amazon.api",
        "oms_amazon.services.stock_sync",
        "oms_amazon.services.shipments",
    ),
    "stock_sync": (
        *NEVER_AT_INIT,
        *OTHER_EVENT_MODELS,
        "oms_amazon.api",
        "oms_amazon.services.order_import",
        "oms_amazon.services.shipments",
    ),
    "shipments": (*NEVER_AT_INIT, *OTHER_EVENT_MODELS, "oms_amazon.api", "oms_amazon.services.stock_sync"),
    "api": NEVER_AT_INIT,
}


def _modules_after_importing(function: str) -> list[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTHON") and k != "POWERTOOLS_TRACE_DISABLED"}
    # As in Lambda: the tracer on (it patches botocore and httpx when they are first imported).
    env.update(
        {
            "PYTHONPATH": os.pathsep.join([str(FUNCTIONS / function), str(ROOT / "layers" / "common")]),
            "LAMBDA_TASK_ROOT": str(FUNCTIONS / function),
            "AWS_XRAY_CONTEXT_MISSING": "IGNORE_ERROR",
        }
    )
    env.pop("AWS_SAM_LOCAL", None)
    done = subprocess.run(
        [sys.executable, "-c", "import json, sys, app; print(json.dumps(sorted(sys.modules)))"],
        cwd=FUNCTIONS / function,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    modules: list[str] = json.loads(done.stdout.strip().splitlines()[-1])
    return modules


@pytest.mark.parametrize("function", sorted(NOT_IMPORTED))
def test_a_handler_imports_neither_its_neighbours_services_nor_what_its_first_call_brings(function: str) -> None:
    modules = _modules_after_importing(function)

    assert "aws_xray_sdk" in modules, "the tracer is on, as in Lambda"
    unexpected = [m for m in modules if any(m == name or m.startswith(name + ".") for name in NOT_IMPORTED[function])]
    assert unexpected == []


def test_every_function_is_covered() -> None:
    assert sorted(NOT_IMPORTED) == sorted(p.parent.name for p in FUNCTIONS.glob("*/app.py"))


def _left_out_of_the_layer() -> list[str]:
    """The modules layers/common/Makefile removes after pip (its UNUSED list), as dotted names."""
    block = (ROOT / "layers" / "common" / "Makefile").read_text().split("UNUSED := \\\n", 1)[1].split("\n\n", 1)[0]
    paths = [line.strip().rstrip("\\").strip() for line in block.splitlines()]
    return [p.replace("/", ".") for p in paths if re.fullmatch(r"[a-z_0-9]+(/[a-z_0-9]+)*", p) and p != "bin"]


def _imports(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            names.add(node.module)
            names.update(f"{node.module}.{alias.name}" for alias in node.names)
    return names


def test_nothing_the_connector_runs_imports_what_the_layer_leaves_out() -> None:
    left_out = _left_out_of_the_layer()
    sources = [*(ROOT / "layers" / "common" / "oms_amazon").rglob("*.py"), *FUNCTIONS.glob("*/app.py")]

    assert {"anyio", "pydantic.v1", "aws_lambda_powertools.utilities.idempotency"} <= set(left_out)
    imported = {name for path in sources for name in _imports(path)}
    assert [n for n in imported if any(n == m or n.startswith(m + ".") for m in left_out)] == []
