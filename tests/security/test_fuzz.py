"""Schema-driven fuzz of the whole API (SPEC §9): schemathesis generates requests from the OpenAPI
document the code generates, valid ones and invalid ones, and sends them over HTTP through the local
gateway as a client (`X-Client-Id`). Not one may be answered with a 5xx, and every 4xx is in the
`{"error": {code, message, details}}` shape.

Two passes per operation: one with generated path parameters, one aimed at a real client world (an
authorised account, products, mappings, imported orders, a stock run, a shipment), so that the
generated bodies and queries reach the services and not only the 404s. DELETEs go last. Bounded and
reproducible: a few examples per operation and mode, `derandomize=True`, no example database."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode

from local.stack import LocalStack
from tests.security.conftest import reset
from tests.security.world import World, build_world

pytestmark = [pytest.mark.e2e, pytest.mark.security]

CLIENT = "fuzz-client"
SELLER = "A2FUZZSELLER01"
TOKEN = "Atzr|IwEBI-fuzz-seller-refresh-token-000001"
GENERATED_IDS_EXAMPLES = 8
REAL_IDS_EXAMPLES = 6
# HTML pages (or redirects) for the seller's browser
UNSHAPED_ROUTES = {"GET /oauth/callback", "GET /oauth/authorise", "GET /oauth/login"}


def _document() -> dict[str, Any]:
    from oms_amazon.api.app import build_app, openapi_json

    document: dict[str, Any] = json.loads(openapi_json(build_app()))
    return document


SCHEMA = schemathesis.openapi.from_dict(_document())
OPERATIONS = sorted(
    (f"{result.ok().method.upper()} {result.ok().path}" for result in SCHEMA.get_all_operations()),  # type: ignore[union-attr]
    key=lambda label: (label.startswith("DELETE "), label),
)
TOTALS: Counter[str] = Counter()
SERVER_ERRORS: list[str] = []


@pytest.fixture(scope="module")
def world(stack: LocalStack) -> Iterator[World]:
    reset(stack)
    with (
        httpx.Client(base_url=stack.api_url, timeout=60) as api,
        httpx.Client(base_url=stack.simulator_url, timeout=30) as simulator,
    ):
        yield build_world(stack, api, simulator, client_id=CLIENT, seller_id=SELLER, refresh_token=TOKEN)


def _real_ids(world: World) -> dict[str, str]:
    return {
        "account_id": world.account_id,
        "sku": world.sku,
        "mapping_id": world.mapping["id"],
        "order_id": world.order_ids[1],
        "run_id": world.run_id,
    }


def _fuzz(stack: LocalStack, label: str, mode: GenerationMode, examples: int, ids: dict[str, str] | None) -> None:
    method, path = label.split(" ", 1)
    operation = SCHEMA[path][method]
    names = {p.name for p in operation.path_parameters}
    fixed = {k: v for k, v in (ids or {}).items() if k in names} or None
    strategy = operation.as_strategy(generation_mode=mode, path_parameters=fixed)

    @given(case=strategy)
    @settings(
        max_examples=examples,
        derandomize=True,
        database=None,
        deadline=None,
        suppress_health_check=list(HealthCheck),
        phases=[Phase.explicit, Phase.generate],
    )
    def send(case: Any) -> None:
        response = case.call(base_url=stack.api_url, headers={"X-Client-Id": CLIENT}, timeout=60)
        TOTALS["cases"] += 1
        TOTALS[f"{response.status_code // 100}xx"] += 1
        where = f"{label} [{mode.value}] {case.formatted_path} query={case.query} body={case.body!r:.300}"
        if response.status_code >= 500:
            SERVER_ERRORS.append(f"{response.status_code} {where}: {response.text[:300]}")
        elif response.status_code >= 400 and label not in UNSHAPED_ROUTES:
            body = response.json()
            assert set(body) == {"error"} and {"code", "message", "details"} <= set(body["error"]), where

    try:
        send()
    except Unsatisfiable:
        # Nothing to make invalid (no body or query, every path parameter fixed): the positive pass covers it.
        TOTALS["modes without a case"] += 1


@pytest.mark.parametrize("label", OPERATIONS)
def test_no_generated_request_is_answered_with_a_server_error(stack: LocalStack, world: World, label: str) -> None:
    before = len(SERVER_ERRORS)
    has_path_parameters = "{" in label
    for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
        _fuzz(stack, label, mode, GENERATED_IDS_EXAMPLES, None)
        if has_path_parameters:
            _fuzz(stack, label, mode, REAL_IDS_EXAMPLES, _real_ids(world))

    assert SERVER_ERRORS[before:] == []


def test_the_fuzz_ran_a_few_hundred_cases_and_none_was_a_server_error(stack: LocalStack) -> None:
    assert stack.runner.wait_idle(120), "the jobs the fuzz queued (syncs, imports, shipments) all ran"
    print(f"\nfuzz: {len(OPERATIONS)} operations, {dict(sorted(TOTALS.items()))}")
    assert TOTALS["cases"] >= 300, TOTALS
    assert TOTALS["5xx"] == 0, SERVER_ERRORS
