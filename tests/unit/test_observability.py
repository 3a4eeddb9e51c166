"""What the AWS console shows: JSON logs that never carry a token, EMF counts of Amazon's throttles and
errors by operation, and X-Ray only where it can be received (the SDK is never imported elsewhere)."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from oms_amazon import observability
from oms_amazon.adapters.amazon_connections import AmazonConnections, count_amazon_call
from oms_amazon.adapters.sp_api import ManualClock, RetryPolicy, SpApiConfig
from oms_amazon.domain.marketplaces import marketplace_by_code
from oms_amazon.observability import logger, metrics, redact

from local.template import ROOT, resources
from tests.unit.test_sp_api_support import json_response, make_client, responses

pytestmark = pytest.mark.unit

REFRESH_TOKEN = "Atzr|IwEBIObservabilityCanaryRefresh-must-never-leak-0001"
ACCESS_TOKEN = "Atza|IwEBIObservabilityCanaryAccess-must-never-leak-0002"
MWS_TOKEN = "amzn.mws.4ea38b7b-f563-7709-4bae-87aea1b2c3d4"
CLIENT_SECRET = "amzn1.oa2-cs.v1.0123456789abcdef0123456789abcdef"
CANARIES = (REFRESH_TOKEN, ACCESS_TOKEN, MWS_TOKEN, CLIENT_SECRET)
UK = marketplace_by_code("UK")


@pytest.fixture
def log_lines() -> Iterator[io.StringIO]:
    """The real logger's handler, writing into a buffer instead of stdout."""
    buffer = io.StringIO()
    handler: Any = logger.registered_handler
    previous_stream = handler.setStream(buffer)
    previous_level = logger.log_level
    logger.setLevel("DEBUG")
    try:
        yield buffer
    finally:
        handler.setStream(previous_stream)
        logger.setLevel(previous_level)
        logger.clear_state()


@pytest.fixture
def emf(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> Iterator[Any]:
    """The EMF blobs printed to stdout, flat counts included (flushed on read)."""
    monkeypatch.setenv("POWERTOOLS_METRICS_DISABLED", "false")
    metrics.clear_metrics()
    capsys.readouterr()

    def read() -> list[dict[str, Any]]:
        if metrics.metric_set:
            metrics.flush_metrics()
        return [json.loads(line) for line in capsys.readouterr().out.splitlines() if '"_aws"' in line]

    yield read
    metrics.clear_metrics()


def emitted(blobs: list[dict[str, Any]], name: str) -> list[dict[str, Any]]:
    """Each blob carrying metric `name`, as {dimension: value, ..., "value": n}."""
    found = []
    for blob in blobs:
        (directive,) = blob["_aws"]["CloudWatchMetrics"]
        if any(m["Name"] == name for m in directive["Metrics"]):
            values = blob[name] if isinstance(blob[name], list) else [blob[name]]
            dimensions = {d: blob[d] for d in directive["Dimensions"][0]}
            found.append({**dimensions, "value": sum(values), "namespace": directive["Namespace"]})
    return found


# --------------------------------------------------------------------------------------------- logging


def test_no_token_reaches_the_log_wherever_it_is_put(log_lines: io.StringIO) -> None:
    class Credentials:
        def __str__(self) -> str:
            return f"Credentials(refresh={REFRESH_TOKEN})"

    logger.append_keys(client_id="acme-outdoor", seller_token=ACCESS_TOKEN)
    logger.info(f"exchanging refresh token {REFRESH_TOKEN} for an access token")
    logger.info("got %s back, and the legacy %s", ACCESS_TOKEN, MWS_TOKEN)
    logger.warning("account update", extra={"auth_token": MWS_TOKEN, "nested": {"tokens": [REFRESH_TOKEN]}})
    logger.debug("app", extra={"credentials": Credentials(), "client_secret": CLIENT_SECRET})
    logger.info(f"callback /oauth/callback?spapi_oauth_code=ANWxvUWHCqzZWkLs&refresh_token={REFRESH_TOKEN}")
    logger.info("form body grant_type=refresh_token&refresh_token=Atzr%7CIwEBIUrlEncodedCanary")
    logger.info(f'quoted "{ACCESS_TOKEN}" and on its own line\n{REFRESH_TOKEN}\tend')
    try:
        raise RuntimeError(f"LWA refused {REFRESH_TOKEN}")
    except RuntimeError:
        logger.exception("token exchange failed")

    output = log_lines.getvalue()
    records = [json.loads(line) for line in output.splitlines()]

    assert len(records) == 8, "every line is still valid JSON"
    for canary in (*CANARIES, "Atzr%7CIwEBIUrlEncodedCanary", "ANWxvUWHCqzZWkLs"):
        assert canary not in output
    assert records[0]["message"] == "exchanging refresh token *** for an access token"
    assert records[0]["client_id"] == "acme-outdoor", "the keys around a token survive"
    assert records[0]["seller_token"] == "***"
    assert records[2]["nested"] == {"tokens": ["***"]}
    assert records[6]["message"] == 'quoted "***" and on its own line\n***\tend'
    assert "***" in records[7]["exception"]
    assert records[7]["exception_name"] == "RuntimeError"


def test_redact_keeps_what_is_not_token_shaped() -> None:
    text = "seller A3SELLER0001 in UK, run 20260101T000000000000-abc123, term STD UK DOM_1-PRIME"

    assert redact(text) == text
    assert redact(f"{ACCESS_TOKEN}, next") == "***, next"


def test_a_job_log_line_carries_its_correlation_id_and_account_keys(log_lines: io.StringIO) -> None:
    logger.set_correlation_id("20260101T000000000000-abc123")
    logger.append_keys(client_id="acme-outdoor", account_id="acc-1", merchant_id="A3SELLER0001", marketplace="UK")
    logger.info("stock sync run finished")

    (record,) = [json.loads(line) for line in log_lines.getvalue().splitlines()]
    assert record["correlation_id"] == "20260101T000000000000-abc123"
    assert {k: record[k] for k in ("client_id", "account_id", "merchant_id", "marketplace", "service")} == {
        "client_id": "acme-outdoor",
        "account_id": "acc-1",
        "merchant_id": "A3SELLER0001",
        "marketplace": "UK",
        "service": "oms-amazon-connector",
    }


# --------------------------------------------------------------------------------------------- metrics


def test_amazon_throttles_and_errors_are_counted_by_operation(emf: Any) -> None:
    throttled = {"errors": [{"code": "QuotaExceeded", "message": "You exceeded your quota."}]}
    unavailable = {"errors": [{"code": "InternalFailure", "message": "We encountered an internal error."}]}
    accepted = {"sku": "SKU-1", "status": "ACCEPTED", "submissionId": "sub-1", "issues": []}
    amazon = responses(json_response(429, throttled), json_response(503, unavailable), json_response(200, accepted))
    client = make_client(amazon, clock=ManualClock(), metrics=count_amazon_call, seller_id="A3METRICS0001")

    client.patch_listing_quantity(sku="SKU-1", marketplace_ids=[UK.marketplace_id], quantity=3)

    blobs = emf()
    assert emitted(blobs, "AmazonThrottles") == [
        {
            "service": "oms-amazon-connector",
            "operation": "patchListingsItem",
            "value": 1,
            "namespace": "OmsAmazonConnector",
        }
    ]
    assert emitted(blobs, "AmazonErrors") == [
        {
            "service": "oms-amazon-connector",
            "operation": "patchListingsItem",
            "kind": "server_error",
            "value": 1,
            "namespace": "OmsAmazonConnector",
        }
    ]
    assert [m["value"] for m in emitted(blobs, "AmazonCalls")] == [3]
    assert [m["value"] for m in emitted(blobs, "AmazonServerErrors")] == [1]


def test_a_call_that_gives_up_is_an_error_of_its_operation_but_not_another_call(emf: Any) -> None:
    from oms_amazon.adapters.sp_api import SpApiCallEvent

    count_amazon_call(SpApiCallEvent("createFeed", "gave_up", "A3SELLER0001", "eu", attempt=4, status=503))

    blobs = emf()
    assert [(m["operation"], m["kind"]) for m in emitted(blobs, "AmazonErrors")] == [("createFeed", "gave_up")]
    assert emitted(blobs, "AmazonCalls") == []


class _AppSecret:
    def get_secret_value(self, SecretId: str) -> dict[str, str]:
        return {"SecretString": json.dumps({"client_id": "app", "client_secret": CLIENT_SECRET})}


def test_the_workers_amazon_clients_report_to_the_metrics_hook(emf: Any) -> None:
    def amazon(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/auth/o2/token":
            return json_response(200, {"access_token": ACCESS_TOKEN, "token_type": "bearer", "expires_in": 3600})
        return json_response(429, {"errors": [{"code": "QuotaExceeded", "message": "Slow down."}]})

    connections = AmazonConnections(
        _AppSecret(),
        "app-secret",
        endpoint_override="https://sp-api.test",
        lwa_token_url="https://lwa.test/auth/o2/token",
    )
    connections.__dict__["http"] = httpx.Client(transport=httpx.MockTransport(amazon))
    connections.__dict__["config"] = SpApiConfig(
        endpoint_override="https://sp-api.test", retry=RetryPolicy(time_budget=0.05, base_delay=0.01, max_delay=0.01)
    )
    seller = connections.seller(UK, "A3METRICS0002", REFRESH_TOKEN)

    with pytest.raises(Exception, match=r"quota|Slow down|budget"):
        seller.request_listings_report(UK.marketplace_id)

    throttles = emitted(emf(), "AmazonThrottles")
    assert throttles
    assert {m["operation"] for m in throttles} == {"createReport"}


def test_metrics_stay_silent_when_disabled(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("POWERTOOLS_METRICS_DISABLED", "true")
    metrics.clear_metrics()

    for _ in range(150):
        observability.count("AmazonCalls")
    observability.count("AmazonThrottles", operation="createFeed")

    assert metrics.metric_set == {}
    assert '"_aws"' not in capsys.readouterr().out


# --------------------------------------------------------------------------------------------- tracing

HANDLER_MODULES = sorted(
    {(r["Properties"]["CodeUri"], r["Properties"]["Handler"]) for r in resources("AWS::Serverless::Function").values()}
)


def _import_handlers_in_a_fresh_interpreter(environment: dict[str, str]) -> dict[str, Any]:
    """Imports every handler as Lambda would and reports what got loaded."""
    script = """
import importlib.util, json, sys
handlers = json.loads(sys.argv[1])
wrapped = {}
for code_uri, handler in handlers:
    module_file, name = handler.rsplit(".", 1)
    spec = importlib.util.spec_from_file_location("h" + str(len(wrapped)), code_uri + module_file + ".py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    fn = getattr(module, name)
    # Follow the decorators down to the handler's own function; count X-Ray's wrapper on the way.
    layers = []
    while hasattr(fn, "__wrapped__"):
        layers.append(fn.__code__.co_filename)
        fn = fn.__wrapped__
    wrapped[code_uri + handler] = any("tracing" in layer for layer in layers)
from oms_amazon import observability
def patched():
    return sorted(sys.modules["aws_xray_sdk.core.patcher"]._PATCHED_MODULES) if "aws_xray_sdk" in sys.modules else []
at_import = patched()
imported = sorted(m for m in ("httpx", "botocore.session") if m in sys.modules)
# The first AWS client and the first call to Amazon, as a worker's first job makes them.
import boto3, httpx
boto3.client("sqs", region_name="eu-west-2")
print(json.dumps({"xray": "aws_xray_sdk" in sys.modules, "traced": wrapped, "patched_at_import": at_import,
                  "imported": imported, "patched": patched(), "instrumented_httpx": httpx.Client.__name__,
                  "tracer_built": observability.tracer.cache_info().currsize}))
"""
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in {"POWERTOOLS_TRACE_DISABLED", "LAMBDA_TASK_ROOT", "AWS_SAM_LOCAL"}
    }
    env.update({"PYTHONPATH": f"{ROOT / 'layers' / 'common'}{os.pathsep}{ROOT}", "AWS_DEFAULT_REGION": "eu-west-2"})
    env.update(environment)
    done = subprocess.run(
        [sys.executable, "-c", script, json.dumps(HANDLER_MODULES)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


@pytest.mark.parametrize(
    "environment",
    [
        {"POWERTOOLS_TRACE_DISABLED": "true", "LAMBDA_TASK_ROOT": "/var/task"},
        {"LAMBDA_TASK_ROOT": "/var/task", "AWS_SAM_LOCAL": "true"},
        {},
    ],
    ids=["trace-disabled", "sam-local", "outside-lambda"],
)
def test_where_tracing_is_off_no_handler_imports_the_xray_sdk(environment: dict[str, str]) -> None:
    loaded = _import_handlers_in_a_fresh_interpreter(environment)

    assert loaded["xray"] is False
    assert loaded["tracer_built"] == 0
    assert not any(loaded["traced"].values())


def test_in_lambda_every_handler_is_traced_by_one_shared_tracer() -> None:
    loaded = _import_handlers_in_a_fresh_interpreter(
        {
            "LAMBDA_TASK_ROOT": "/var/task",
            "AWS_LAMBDA_FUNCTION_NAME": "oms-amazon-test",
            "AWS_XRAY_CONTEXT_MISSING": "IGNORE_ERROR",
        }
    )

    assert loaded["xray"] is True
    assert loaded["tracer_built"] == 1
    assert loaded["patched"] == ["botocore", "httpx"], "AWS and Amazon calls become subsegments, nothing else"
    assert loaded["instrumented_httpx"] != "Client"


def test_in_lambda_botocore_and_httpx_are_patched_when_first_imported_not_at_init() -> None:
    loaded = _import_handlers_in_a_fresh_interpreter(
        {"LAMBDA_TASK_ROOT": "/var/task", "AWS_XRAY_CONTEXT_MISSING": "IGNORE_ERROR"}
    )

    # Patching imports the module: done at init, every handler would pay for both.
    assert loaded["imported"] == loaded["patched_at_import"] == []
    assert loaded["patched"] == ["botocore", "httpx"]
    assert all(loaded["traced"].values()), loaded["traced"]
    assert len(loaded["traced"]) == len(HANDLER_MODULES)
