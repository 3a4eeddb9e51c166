"""The security suite's local stack and its instruments: what a refused request must leave untouched
(the table, the sellers' secrets, as seen through moto's own endpoint) and everything a secret could
leak into (responses, log lines, exceptions, events, items).

The stack is this suite's own, on free ports, with its schedules idle: the tests fire imports and
syncs through the API and wait for the queue workers."""

from __future__ import annotations

import io
import json
import logging
import re
import threading
import traceback
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

import boto3
import httpx
import pytest

from local.stack import REGION, LocalStack, Ports, install_container
from tests.security.strict_dynamodb import StartKeys, strict_start_keys


def _forget_cached_adapters() -> None:
    """Adapters are built once per warm container; a new stack means new endpoints and queue urls."""
    from oms_amazon.adapters.sp_api import forget_amazon_state

    install_container()
    forget_amazon_state()


# The suite aims hundreds of writes a minute at the routes themselves, as one client: at the deployed allowance
# (5 a second, 50 at once) a fuzz pass has about a fifth of them refused 429 `rate_limited` before their route
# runs. The allowance is raised here so that every request reaches its route; the limit itself is tested in
# tests/unit/test_write_limits.py, tests/integration/test_write_limits_api.py and tests/e2e/test_write_limits.py.
WRITE_ALLOWANCE = {"CLIENT_WRITE_BURST": "100000", "CLIENT_WRITE_RATE_PER_SECOND": "1000"}


@pytest.fixture(scope="package")
def start_keys() -> Iterator[StartKeys]:
    """The functions' DynamoDB client, for the whole suite, is the strict stand-in (tests/security/strict_dynamodb.py):
    a route that pages from a start key DynamoDB did not return fails here as it would on AWS."""
    with strict_start_keys() as keys:
        yield keys


@pytest.fixture(scope="package")
def stack(start_keys: StartKeys) -> Iterator[LocalStack]:
    with pytest.MonkeyPatch.context() as environment:
        running = LocalStack(ports=Ports(gateway=0, simulator=0, moto=0), log_level="INFO", schedule_speedup=0.0001)
        running.start()
        for name, value in WRITE_ALLOWANCE.items():
            environment.setenv(name, value)
        _forget_cached_adapters()
        yield running
        running.stop()
    _forget_cached_adapters()


def reset(stack: LocalStack) -> None:
    """An empty stack: every table, queue and the simulator (the processes keep running)."""
    assert stack.runner.wait_idle(60)
    stack.reset()
    _forget_cached_adapters()


def moto(stack: LocalStack, service: str) -> Any:
    """A client of moto's own endpoint: what is really stored, not what the API says."""
    return boto3.client(
        service,
        endpoint_url=stack.moto_url,
        region_name=REGION,
        aws_access_key_id="local",
        aws_secret_access_key="local",
    )


def table_items(stack: LocalStack) -> list[dict[str, Any]]:
    dynamodb = moto(stack, "dynamodb")
    items: list[dict[str, Any]] = []
    kwargs: dict[str, Any] = {"TableName": stack.names["ConnectorTable"]}
    while True:
        page = dynamodb.scan(**kwargs)
        items.extend(page["Items"])
        if "LastEvaluatedKey" not in page:
            return items
        kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]


def seller_secrets(stack: LocalStack) -> dict[str, str]:
    """Every seller secret and its value (the app's own secrets excluded)."""
    client = moto(stack, "secretsmanager")
    prefix = f"{stack.names['AWS::StackName']}/sellers/"
    names = [s["Name"] for s in client.list_secrets()["SecretList"] if s["Name"].startswith(prefix)]
    return {name: client.get_secret_value(SecretId=name)["SecretString"] for name in sorted(names)}


def is_write_bucket(item: dict[str, Any], client_id: str | None = None) -> bool:
    """A client's write bucket (api.fairness): every write request is charged to it before its route refuses
    it or not, and it holds no data. `client_id`: only that client's."""
    from oms_amazon.adapters.write_limits import write_bucket_sk

    return item["SK"]["S"] == write_bucket_sk() and (client_id is None or item["PK"]["S"] == f"CLIENT#{client_id}")


def stored_state(stack: LocalStack) -> dict[str, Any]:
    """Everything a request can write: the table's items (but the write buckets) and the sellers' secrets."""
    items = sorted(
        json.dumps(item, sort_keys=True, default=repr) for item in table_items(stack) if not is_write_bucket(item)
    )
    return {"items": items, "secrets": seller_secrets(stack)}


@pytest.fixture
def api(stack: LocalStack) -> Iterator[httpx.Client]:
    """An HTTP client of the local gateway, no identity by default."""
    with httpx.Client(base_url=stack.api_url, timeout=60) as client:
        yield client


@pytest.fixture
def simulator(stack: LocalStack) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=stack.simulator_url, timeout=30) as client:
        yield client


# ------------------------------------------------------------------------------------- leak capture


@dataclass
class Capture:
    """Text that left the connector, by where it went."""

    texts: list[tuple[str, str]] = field(default_factory=list)
    collectors: list[Callable[[], None]] = field(default_factory=list)

    def collect(self) -> Capture:
        """Gather what is buffered so far (log lines, stdout, stderr) once the workers are idle."""
        for collector in self.collectors:
            collector()
        return self

    def add(self, where: str, text: str) -> None:
        self.texts.append((where, text))

    def where(self, kind: str) -> list[str]:
        return [text for where, text in self.texts if where == kind]

    def leaks(self, secrets: list[str], shapes: Sequence[re.Pattern[str]] = ()) -> list[tuple[str, str, str]]:
        """(where, secret, excerpt) for every secret, or text of a secret's shape, in any captured text."""
        found = []
        for where, text in self.texts:
            spans = [(secret, text.find(secret)) for secret in secrets]
            spans += [(match.group(), match.start()) for shape in shapes for match in shape.finditer(text)]
            for secret, at in spans:
                if at >= 0:
                    found.append((where, secret, text[max(0, at - 80) : at + len(secret) + 40]))
        return found


class _RecordText(logging.Handler):
    def __init__(self, capture: Capture) -> None:
        super().__init__(level=logging.DEBUG)
        self.capture = capture
        self.test_thread = threading.get_ident()

    def emit(self, record: logging.LogRecord) -> None:
        if record.thread == self.test_thread:
            return  # the test's own HTTP clients; the connector runs in the gateway's and workers' threads
        text = record.getMessage()
        if record.exc_info:
            text += "\n" + "".join(traceback.format_exception(*record.exc_info))
        self.capture.add(f"log:{record.name}", text + " " + json.dumps(record.__dict__, default=str))


@pytest.fixture
def capture(
    stack: LocalStack, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> Iterator[Capture]:
    """Everything the connector emits while the test runs:

    - the connector's Powertools log lines, at DEBUG, exactly as its handler formats them (JSON to
      stdout in Lambda; here the same handler writes to a buffer);
    - every other logger's records (the batch processor, boto, the gateway) with their tracebacks;
    - stdout and stderr (the local gateway and triggers print a function's unhandled exception);
    - every exception a function raised or a batch record failed with, with its whole cause chain;
    - every job message (SQS event) a function was invoked with, and what every function returned."""
    from aws_lambda_powertools.utilities.batch.base import BasePartialProcessor
    from oms_amazon.observability import logger

    captured = Capture()
    buffer = io.StringIO()
    handler = logger.registered_handler
    assert isinstance(handler, logging.StreamHandler)
    previous_stream = handler.setStream(buffer)
    previous_level = logger.log_level
    logger.setLevel("DEBUG")
    records = _RecordText(captured)
    root = logging.getLogger()
    root.addHandler(records)
    previous_root_level = root.level
    root.setLevel(logging.INFO)

    invoke: Callable[[str, dict[str, Any]], Any] = stack.functions.invoke

    def recording_invoke(logical_id: str, event: dict[str, Any]) -> Any:
        if "Records" in event:  # a job message; an API event is the caller's own request
            captured.add(f"event:{logical_id}", json.dumps(event, default=str))
        try:
            result = invoke(logical_id, event)
        except BaseException as error:
            captured.add(f"exception:{logical_id}", "".join(traceback.format_exception(error)))
            raise
        route = f":{event['httpMethod']} {event['path']}" if "httpMethod" in event else ""
        captured.add(f"result:{logical_id}{route}", json.dumps(result, default=str))
        return result

    failure_handler = BasePartialProcessor.failure_handler

    def recording_failure_handler(self: Any, record: Any, exception: Any) -> Any:
        captured.add("exception:batch-record", "".join(traceback.format_exception(*exception)))
        return failure_handler(self, record, exception)

    def collect_output() -> None:
        assert stack.runner.wait_idle(120)
        for line in buffer.getvalue().splitlines():
            captured.add("log:oms-amazon-connector", line)
        buffer.seek(0)
        buffer.truncate()
        out, err = capsys.readouterr()
        captured.add("stdout", out)
        captured.add("stderr", err)

    captured.collectors.append(collect_output)
    monkeypatch.setattr(stack.functions, "invoke", recording_invoke)
    monkeypatch.setattr(BasePartialProcessor, "failure_handler", recording_failure_handler)
    try:
        yield captured
    finally:
        stack.runner.wait_idle(60)
        handler.setStream(previous_stream)
        logger.setLevel(previous_level)
        root.removeHandler(records)
        root.setLevel(previous_root_level)


def record_responses(client: httpx.Client, capture: Capture) -> None:
    """Every response the API gives this client goes into `capture`: status line, headers, body."""

    def hook(response: httpx.Response) -> None:
        response.read()
        headers = "\n".join(f"{k}: {v}" for k, v in response.headers.multi_items())
        # Not the request line: it holds what the test itself sent (an OAuth code in the callback's query).
        where = f"response:{response.request.method} {response.request.url.path}"
        capture.add(where, f"{response.status_code}\n{headers}\n\n{response.text}")

    client.event_hooks["response"].append(hook)
