"""Shared fakes for the SP-API client tests, and Amazon's sandbox examples served through httpx.MockTransport.

The sandbox stand-in reads `x-amzn-api-sandbox` -> `static` examples straight from Amazon's Swagger models
(local/amazon_models/models) and answers a request with the most specific example whose parameters all
match, as Amazon's static sandbox does. Tests use it to check that the client both sends what Amazon's
examples expect and parses what Amazon's examples return.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any
from urllib.parse import unquote

import httpx
import pytest
from oms_amazon.adapters.sp_api import (
    BucketRegistry,
    ManualClock,
    RetryPolicy,
    SpApiClient,
    SpApiConfig,
    rate_limit_for,
)

pytestmark = pytest.mark.unit

MODELS_DIR = Path(__file__).resolve().parents[2] / "local" / "amazon_models" / "models"

# The model file of every operation the client uses.
USED_OPERATIONS: dict[str, str] = {
    "searchOrders": "orders_2026-01-01.json",
    "getOrders": "ordersV0.json",
    "getOrderItems": "ordersV0.json",
    "confirmShipment": "ordersV0.json",
    "createFeedDocument": "feeds_2021-06-30.json",
    "createFeed": "feeds_2021-06-30.json",
    "getFeed": "feeds_2021-06-30.json",
    "getFeedDocument": "feeds_2021-06-30.json",
    "createReport": "reports_2021-06-30.json",
    "getReport": "reports_2021-06-30.json",
    "getReportDocument": "reports_2021-06-30.json",
    "patchListingsItem": "listingsItems_2021-08-01.json",
    "searchListingsItems": "listingsItems_2021-08-01.json",
    "getMarketplaceParticipations": "sellers.json",
}

CANARY_REFRESH_TOKEN = "Atzr|IwEBICanaryRefreshToken0123456789abcdef"
CANARY_ACCESS_TOKEN = "Atza|IwEBICanaryAccessToken0123456789abcdef"


# ------------------------------------------------------------------------------------------------ fakes


@dataclass
class FakeTokens:
    """An AccessTokenProvider that records each request (and whether the cache was bypassed)."""

    token: str = CANARY_ACCESS_TOKEN
    force_refreshes: list[bool] = field(default_factory=list)
    error: Exception | None = None

    def access_token(self, refresh_token: str, *, force_refresh: bool = False) -> str:
        self.force_refreshes.append(force_refresh)
        if self.error is not None:
            raise self.error
        return self.token


Handler = Callable[[httpx.Request], httpx.Response]


@dataclass
class Recorder:
    """Wraps a handler and keeps every request it saw."""

    handler: Handler
    requests: list[httpx.Request] = field(default_factory=list)

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        return self.handler(request)

    def __len__(self) -> int:
        return len(self.requests)


def responses(*answers: httpx.Response | Exception) -> Recorder:
    """A handler answering with each response in turn (an exception is raised instead), the last one forever."""
    queue = list(answers)

    def handler(request: httpx.Request) -> httpx.Response:
        answer = queue.pop(0) if len(queue) > 1 else queue[0]
        if isinstance(answer, Exception):
            raise answer
        return answer

    return Recorder(handler)


def json_response(status: int, body: Any = None, headers: dict[str, str] | None = None) -> httpx.Response:
    content = b"" if body is None else json.dumps(body).encode()
    return httpx.Response(status, content=content, headers={"content-type": "application/json", **(headers or {})})


def make_client(
    handler: Handler,
    *,
    clock: ManualClock | None = None,
    tokens: FakeTokens | None = None,
    retry: RetryPolicy | None = None,
    sandbox: bool = False,
    endpoint_override: str | None = None,
    metrics: Callable[..., None] | None = None,
    jitter: Callable[[], float] = lambda: 0.5,
    buckets: BucketRegistry | None = None,
    seller_id: str = "A3SELLER0001",
    region: str = "eu",
    logger: Any = None,
) -> SpApiClient:
    return SpApiClient(
        seller_id=seller_id,
        region=region,  # type: ignore[arg-type]
        refresh_token=CANARY_REFRESH_TOKEN,
        lwa=tokens if tokens is not None else FakeTokens(),
        config=SpApiConfig(
            sandbox=sandbox,
            endpoint_override=endpoint_override,
            retry=retry if retry is not None else RetryPolicy(),
        ),
        http=httpx.Client(transport=httpx.MockTransport(handler)),
        clock=clock if clock is not None else ManualClock(),
        buckets=buckets if buckets is not None else BucketRegistry(),
        metrics=metrics,
        jitter=jitter,
        logger=logger,
    )


# -------------------------------------------------------------------------------------- sandbox examples


@dataclass(frozen=True)
class SandboxExample:
    operation: str
    method: str
    path: str  # the model's template, e.g. /orders/v0/orders/{orderId}/orderItems
    status: int
    index: int
    parameters: dict[str, Any]
    response: Any
    locations: dict[str, str]  # parameter name -> "path" | "query" | "body"

    @property
    def id(self) -> str:
        return f"{self.operation}-{self.status}-{self.index}"

    def value(self, name: str) -> Any:
        return self.parameters[name]["value"]

    def has(self, name: str) -> bool:
        return "value" in self.parameters.get(name, {})


@cache
def load_model(model_file: str) -> dict[str, Any]:
    return json.loads((MODELS_DIR / model_file).read_text(encoding="utf-8"))  # type: ignore[no-any-return]


def operation_spec(operation: str) -> tuple[str, str, dict[str, Any], list[dict[str, Any]]]:
    """(method, path template, operation object, parameters incl. path-level ones) from the model."""
    model = load_model(USED_OPERATIONS[operation])
    for path, item in model["paths"].items():
        for method, op in item.items():
            if method != "parameters" and op.get("operationId") == operation:
                return method.upper(), path, op, [*item.get("parameters", []), *op.get("parameters", [])]
    raise KeyError(operation)


@cache
def sandbox_examples(operation: str) -> tuple[SandboxExample, ...]:
    method, path, op, params = operation_spec(operation)
    locations = {p["name"]: p["in"] for p in params}
    found: list[SandboxExample] = []
    for status, answer in op["responses"].items():
        for index, example in enumerate(answer.get("x-amzn-api-sandbox", {}).get("static", [])):
            found.append(
                SandboxExample(
                    operation=operation,
                    method=method,
                    path=path,
                    status=int(status),
                    index=index,
                    parameters=example.get("request", {}).get("parameters", {}),
                    response=example.get("response"),
                    locations=locations,
                )
            )
    return tuple(found)


def all_examples(*, success: bool) -> list[SandboxExample]:
    return [e for op in USED_OPERATIONS for e in sandbox_examples(op) if (e.status < 300) == success]


def _path_regex(template: str) -> re.Pattern[str]:
    pattern = re.sub(r"\\\{(\w+)\\\}", r"(?P<\1>[^/]+)", re.escape(template))
    return re.compile(f"^{pattern}$")


def _query_form(value: Any) -> str:
    if isinstance(value, list):
        return ",".join(str(v) for v in value)
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def example_matches(example: SandboxExample, request: httpx.Request) -> int | None:
    """The example's specificity (how many parameters it pins) if the request matches it, else None."""
    if request.method != example.method:
        return None
    raw_path = request.url.raw_path.decode().split("?", 1)[0]
    path_match = _path_regex(example.path).match(raw_path)
    if path_match is None:
        return None
    score = 0
    for name, spec in example.parameters.items():
        if "value" not in spec:
            continue  # "body": {} with no value matches any body
        expected = spec["value"]
        where = example.locations.get(name, "body" if name == "body" else "query")
        if where == "path":
            actual: Any = unquote(path_match.group(name))
            ok = actual == str(expected)
        elif where == "query":
            ok = request.url.params.get(name) == _query_form(expected)
        else:
            ok = bool(request.content) and json.loads(request.content) == expected
        if not ok:
            return None
        score += 1
    return score


def example_response(example: SandboxExample) -> httpx.Response:
    headers = {"x-amzn-RequestId": f"sandbox-{example.id}", "content-type": "application/json"}
    if example.status in (200, 201, 202, 204, 400, 404):  # where Amazon documents the rate header
        headers["x-amzn-RateLimit-Limit"] = f"{rate_limit_for(example.operation).rate:g}"
    content = b"" if example.status == 204 else json.dumps(example.response).encode()
    return httpx.Response(example.status, content=content, headers=headers)


class SandboxTransport:
    """Answers like Amazon's static sandbox: the most specific matching example of the given operations."""

    def __init__(self, operations: Iterable[str] = USED_OPERATIONS) -> None:
        self.examples = [e for op in operations for e in sandbox_examples(op)]
        self.served: list[SandboxExample] = []
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        scored = [(score, e) for e in self.examples if (score := example_matches(e, request)) is not None]
        if not scored:
            return json_response(404, {"errors": [{"code": "NoSandboxExample", "message": str(request.url)}]})
        best = max(score for score, _ in scored)
        example = next(e for score, e in scored if score == best)
        self.served.append(example)
        return example_response(example)


def serve_example(example: SandboxExample) -> Recorder:
    """A handler that answers every request with this example's response (for error examples whose request a
    typed builder refuses to produce, e.g. a createFeed without feedType)."""
    return Recorder(lambda request: example_response(example))


# ------------------------------------------------------------------------------ tests of the stand-ins


def test_every_used_operation_has_static_sandbox_examples_in_amazons_models() -> None:
    missing = [op for op in USED_OPERATIONS if not any(e.status < 300 for e in sandbox_examples(op))]
    assert missing == []


def test_the_sandbox_stand_in_prefers_the_most_specific_matching_example() -> None:
    sandbox = SandboxTransport(["patchListingsItem"])
    request = httpx.Request(
        "PATCH",
        "https://sandbox/listings/2021-08-01/items/SELLER/VALIDATION_VALID",
        params={"marketplaceIds": "ATVPDKIKX0DER", "includedData": "identifiers,issues", "mode": "VALIDATION_PREVIEW"},
        json={"productType": "PRODUCT", "patches": []},
    )

    response = sandbox(request)

    assert response.json()["status"] == "VALID"


def test_the_sandbox_stand_in_answers_404_when_no_example_matches() -> None:
    sandbox = SandboxTransport(["getFeed"])

    response = sandbox(httpx.Request("GET", "https://sandbox/feeds/2021-06-30/feeds/unknown-feed"))

    assert response.status_code == 404
