"""Shared fixtures: AWS through moto with tables built from template.yaml, the API function driven
by the event catalogue in events/, and a canary token that must never leak.

`OMS_TEST_CLOCK_SHIFT_DAYS=N` runs the whole session N days in the future (every clock of the
process, threads included): `make test` runs the unit and integration tests once more a year ahead,
so a date written into a test that the code compares with now fails the day it is written, not the
day it expires (see tests/README.md)."""

from __future__ import annotations

import copy
import json
import os
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from local.functions import LambdaContext, load_handler
from local.moto_threads import guard_secretsmanager
from local.stack import aws_environment, create_resources, function_environments, local_parameters, physical_names

ROOT = Path(__file__).resolve().parent.parent
EVENTS = ROOT / "events"

CANARY_REFRESH_TOKEN = "Atzr|IwEBICanaryRefreshToken-must-never-leak-0001"


def _share_aws_models_across_sessions() -> None:
    """Every `mock_aws()` starts a fresh boto3 session, and each session's loader reads botocore's
    service models and endpoint rules from disk again: about 0.15 s of CPU per test that creates the
    template's resources and clients, a third of the in-process suite's time. The models are the same
    files for the whole run, so every session here shares one loader (its caches included). Lambda
    builds one session per container, so this changes nothing the connector does."""
    import botocore.loaders
    import botocore.session

    build = botocore.loaders.create_loader
    loaders: dict[Any, botocore.loaders.Loader] = {}

    def shared_loader(search_path_string: Any = None) -> botocore.loaders.Loader:
        if search_path_string not in loaders:
            loaders[search_path_string] = build(search_path_string)
        return loaders[search_path_string]

    botocore.session.create_loader = shared_loader


def _one_filler_key_for_symmetric_kms_keys() -> None:
    """moto generates a 2048-bit RSA key pair for every KMS key, symmetric ones included, where nothing
    uses it (their material is separate): 20 to 150 ms per test that creates the template's key. Keys
    of an asymmetric spec still get their own pair."""
    import moto.kms.models
    from moto.kms.utils import KeySpec

    generate = moto.kms.models.generate_private_key
    filler = generate("SYMMETRIC_DEFAULT")
    asymmetric = {KeySpec.RSA_2048, KeySpec.RSA_3072, KeySpec.RSA_4096, *KeySpec.ecc_key_specs()}

    def private_key(key_spec: str) -> Any:
        return generate(key_spec) if key_spec in asymmetric else filler

    moto.kms.models.generate_private_key = private_key


_share_aws_models_across_sessions()
_one_filler_key_for_symmetric_kms_keys()

CLOCK_SHIFT = "OMS_TEST_CLOCK_SHIFT_DAYS"
_TRAVEL = pytest.StashKey[Any]()


def pytest_configure(config: pytest.Config) -> None:
    days = os.environ.get(CLOCK_SHIFT)
    if days:
        import time_machine

        destination = datetime.now(UTC) + timedelta(days=int(days))
        config.stash[_TRAVEL] = time_machine.travel(destination, tick=True)
        config.stash[_TRAVEL].start()


def pytest_unconfigure(config: pytest.Config) -> None:
    travel = config.stash.get(_TRAVEL, None)
    if travel is not None:
        travel.stop()


def pytest_report_header(config: pytest.Config) -> str | None:
    travel = config.stash.get(_TRAVEL, None)
    return f"clock moved {os.environ[CLOCK_SHIFT]} days ahead: now is {datetime.now(UTC):%Y-%m-%d}" if travel else None


def load_event(name: str) -> dict[str, Any]:
    """A sample from the event catalogue (the same files the console and `make invoke` use)."""
    event: dict[str, Any] = json.loads((EVENTS / name).read_text())
    return event


@pytest.fixture(autouse=True)
def local_stack_machinery_never_fails(request: pytest.FixtureRequest) -> Iterator[None]:
    """A test on a local stack fails if the stack's own pollers or schedules hit an error (a queue
    gone under them, say): functions' errors are their outcome; the machinery's are never expected."""
    yield
    if "stack" in request.fixturenames:
        faults = request.getfixturevalue("stack").take_faults()
        assert not faults, f"the local stack's triggers failed during the test: {faults}"


@pytest.fixture
def aws(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """moto in process, with the template's tables and the functions' template environment."""
    from moto import mock_aws

    names = physical_names(local_parameters("http://127.0.0.1:8100"))
    for name, value in {**aws_environment("unused"), **function_environments(names)}.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    monkeypatch.setenv("POWERTOOLS_LOG_LEVEL", "INFO")
    from oms_amazon import wiring

    install_container()
    guard_secretsmanager()  # Secrets Manager's current version as AWS keeps it (see local/moto_threads.py)
    with mock_aws():
        create_resources(names)
        yield
    wiring.install(None)


def install_container(**attributes: Any) -> Any:
    """A container of the test's own for the current environment, installed for the functions' handlers:
    every seller sells on every marketplace (no Amazon in process; the activation guard meets the simulator
    in e2e), and `attributes` (a clock, a stand-in for Amazon) are set before anything is built."""
    from oms_amazon import wiring

    container = wiring.Container.from_environment()
    container.participation_source = EveryMarketplace()
    for name, value in attributes.items():
        setattr(container, name, value)
    wiring.install(container)
    return container


class EveryMarketplace:
    def participations(self, marketplace: Any, merchant_id: str, refresh_token: str) -> list[Any]:
        from oms_amazon.domain.authorisation import MarketplaceParticipation
        from oms_amazon.domain.marketplaces import MARKETPLACES

        return [
            MarketplaceParticipation(m.marketplace_id, True, None)
            for m in MARKETPLACES
            if m.region == marketplace.region
        ]


class ApiCaller:
    """Calls the API function as API Gateway would, starting from the catalogue's sample event."""

    def __init__(self) -> None:
        self.handler = load_handler("ApiFunction")
        self.headers: dict[str, str] = {}  # the last response's, names in lower case

    def __call__(
        self,
        method: str,
        path: str,
        body: Any = None,
        *,
        client_id: str | None = "acme-outdoor",
        admin: bool = False,
        query: dict[str, str] | None = None,
        raw_body: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> tuple[int, Any]:
        event = copy.deepcopy(load_event("api-create-account.json"))
        event["httpMethod"] = method
        event["path"] = path
        event["requestContext"]["httpMethod"] = method
        event["requestContext"]["path"] = f"/dev{path}"
        event["pathParameters"] = {"proxy": path.lstrip("/")}
        event["body"] = raw_body if raw_body is not None else (json.dumps(body) if body is not None else None)
        event["queryStringParameters"] = query
        event["multiValueQueryStringParameters"] = {k: [v] for k, v in query.items()} if query else None
        if headers is not None:
            event["headers"] = headers
            event["multiValueHeaders"] = {k: [v] for k, v in headers.items()}
        claims: dict[str, str] = {"sub": "user-1"}
        if client_id is not None:
            claims["custom:client_id"] = client_id
        if admin:
            claims["cognito:groups"] = "admins"
        event["requestContext"]["authorizer"] = {"claims": claims} if (client_id or admin) else None
        response = self.handler(event, LambdaContext(function_name="ApiFunction"))
        self.headers = {k.lower(): v for k, v in (response.get("headers") or {}).items()}
        for name, values in (response.get("multiValueHeaders") or {}).items():
            self.headers[name.lower()] = ", ".join(values)
        text = response.get("body") or ""
        return response["statusCode"], json.loads(text) if text else None


@pytest.fixture
def api(aws: None) -> ApiCaller:
    return ApiCaller()


@pytest.fixture
def dynamodb(aws: None) -> Any:
    import boto3

    return boto3.client("dynamodb")


@pytest.fixture
def table_name() -> str:
    return os.environ["TABLE_NAME"]


def all_items(dynamodb: Any, table: str, *, write_buckets: bool = False) -> list[dict[str, Any]]:
    """Every item of the table — for asserting that a refused request wrote nothing. The clients' write buckets
    (api.fairness) are left out unless asked for: a write request draws on its client's bucket before its route
    refuses it, and the bucket holds no data (tests/integration/test_write_limits_api.py checks them)."""
    from oms_amazon.adapters.write_limits import write_bucket_sk

    items: list[dict[str, Any]] = []
    kwargs: dict[str, Any] = {"TableName": table}
    while True:
        page = dynamodb.scan(**kwargs)
        items.extend(i for i in page["Items"] if write_buckets or i["SK"]["S"] != write_bucket_sk())
        if "LastEvaluatedKey" not in page:
            return items
        kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]


def all_secrets() -> list[str]:
    """The sellers' secrets (the app's own LWA credentials are always there)."""
    import boto3

    names = [s["Name"] for s in boto3.client("secretsmanager").list_secrets()["SecretList"]]
    return [name for name in names if name.startswith(os.environ["SECRET_PREFIX"])]
