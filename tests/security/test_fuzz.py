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
from tests.security.strict_dynamodb import StartKeys
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


def _fuzz(
    stack: LocalStack,
    label: str,
    mode: GenerationMode,
    examples: int,
    ids: dict[str, str] | None,
    query: dict[str, str] | None = None,
) -> None:
    """`examples` generated requests for the operation (`ids`: path parameters fixed; `query`: these query
    values set in every case, the rest as generated)."""
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
        if query:
            case.query = {**(case.query if isinstance(case.query, dict) else {}), **query}
        response = case.call(base_url=stack.api_url, headers={"X-Client-Id": CLIENT}, timeout=60)
        TOTALS["cases"] += 1
        TOTALS[f"{response.status_code // 100}xx"] += 1
        if response.status_code == 429:
            TOTALS["429 rate_limited"] += 1
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


# ---- the lists, paged with the tokens they really issue, through the strict DynamoDB stand-in (first: the
# fuzz below deletes the world's resources last)


def _query_parameters(label: str) -> set[str]:
    method, path = label.split(" ", 1)
    return {p.name for p in SCHEMA[path][method].query}


LISTS = [label for label in OPERATIONS if label.startswith("GET ") and "next_token" in _query_parameters(label)]
# The world's stock runs found no per-SKU error, so this list has no second page (its fuzz below still sends
# made-up tokens, refused at the signature). A list of one item has one: DynamoDB stops at the limit.
SINGLE_PAGE_LISTS = {"GET /accounts/{account_id}/stock-sync-runs/{run_id}/errors"}


def _list_ids(world: World) -> dict[str, str]:
    return {"account_id": world.account_id, "run_id": world.run_id, "order_id": world.order_id}


def _list_path(label: str, world: World) -> str:
    path = label.split(" ", 1)[1]
    for name, value in _list_ids(world).items():
        path = path.replace("{" + name + "}", value)
    return path


@pytest.fixture(scope="module")
def page_tokens(stack: LocalStack, world: World) -> dict[str, str]:
    """Each list's real token for its second page (limit 1), with a second stock run so the runs list has one."""
    with httpx.Client(base_url=stack.api_url, timeout=60, headers=world.headers) as api:
        assert api.post(f"/accounts/{world.account_id}/stock-sync").status_code == 202
        assert stack.runner.wait_idle(120)
        tokens = {}
        for label in LISTS:
            page = api.get(_list_path(label, world), params={"limit": 1})
            assert page.status_code == 200, page.text
            if page.json()["next_token"]:
                tokens[label] = page.json()["next_token"]
    return tokens


def _tampered(token: str) -> list[str]:
    version, cursor, signature = token.split(".")
    flip = {"A": "B"}.get(signature[-1], "A")
    return [
        f"{version}.{cursor}.{signature[:-1]}{flip}",  # signature altered
        f"{version}.{cursor[:-2]}.{signature}",  # cursor cut, signature kept
        f"{version}.{cursor}x.{signature}",  # cursor grown
        token[:-1],
        f"n2.{cursor}.{signature}",
    ]


@pytest.mark.parametrize("label", LISTS)
def test_a_list_paged_by_its_real_tokens_and_fuzzed_around_them_pages_only_from_keys_dynamodb_returned(
    stack: LocalStack, world: World, start_keys: StartKeys, page_tokens: dict[str, str], label: str
) -> None:
    token = page_tokens.get(label)
    assert (token is None) == (label in SINGLE_PAGE_LISTS), f"{label}: a next page is expected unless the list is empty"
    checked, path = start_keys.checked, _list_path(label, world)

    with httpx.Client(base_url=stack.api_url, timeout=60, headers=world.headers) as api:
        # Given the whole list followed one item a page, by the tokens it issues
        pages, next_token = 0, None
        while True:
            page = api.get(path, params={"limit": 1, **({"next_token": next_token} if next_token else {})})
            assert page.status_code == 200, page.text
            pages, next_token = pages + 1, page.json()["next_token"]
            if not next_token:
                break
        # When its token comes back with other page sizes, altered, or generated queries around it
        for limit in (1, 2, 100):
            assert api.get(path, params={"limit": limit, "next_token": token or ""}).status_code in (200, 400)
        for altered in _tampered(token) if token else []:
            refused = api.get(path, params={"next_token": altered})
            assert (refused.status_code, refused.json()["error"]["code"]) == (400, "invalid_next_token"), altered
    before, cases = len(SERVER_ERRORS), TOTALS["cases"]
    for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
        _fuzz(stack, label, mode, REAL_IDS_EXAMPLES, _list_ids(world), {"next_token": token} if token else None)
    TOTALS["cases around a real next_token"] += TOTALS["cases"] - cases if token else 0

    # Then no request was a 5xx, and every start key DynamoDB was asked to page from was one it returned
    assert SERVER_ERRORS[before:] == []
    assert start_keys.refused == []
    if token is None:
        assert pages == 1
    else:
        assert pages >= 2 and start_keys.checked > checked, "the pages after the first started at DynamoDB's keys"


# ---- every operation


@pytest.mark.parametrize("label", OPERATIONS)
def test_no_generated_request_is_answered_with_a_server_error(stack: LocalStack, world: World, label: str) -> None:
    before = len(SERVER_ERRORS)
    has_path_parameters = "{" in label
    for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
        _fuzz(stack, label, mode, GENERATED_IDS_EXAMPLES, None)
        if has_path_parameters:
            _fuzz(stack, label, mode, REAL_IDS_EXAMPLES, _real_ids(world))

    assert SERVER_ERRORS[before:] == []


def test_the_fuzz_ran_a_few_hundred_cases_and_none_was_a_server_error(stack: LocalStack, start_keys: StartKeys) -> None:
    assert stack.runner.wait_idle(120), "the jobs the fuzz queued (syncs, imports, shipments) all ran"
    print(f"\nfuzz: {len(OPERATIONS)} operations, {dict(sorted(TOTALS.items()))}")
    print(f"start keys DynamoDB was asked to page from: {start_keys.checked}, refused {len(start_keys.refused)}")
    assert start_keys.refused == []
    assert TOTALS["cases"] >= 300, TOTALS
    assert TOTALS["5xx"] == 0, SERVER_ERRORS
