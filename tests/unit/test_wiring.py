"""The composition root (oms_amazon.wiring): one container per environment, each adapter and service built
once and only when first asked for, and nothing of one container reused by another."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from oms_amazon import wiring
from oms_amazon.settings import Settings
from oms_amazon.wiring import Container

from local.stack import aws_environment, function_environments, local_parameters, physical_names

pytestmark = pytest.mark.unit


@pytest.fixture
def environment(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    names = physical_names(local_parameters("http://127.0.0.1:8100"), endpoint="http://127.0.0.1:5999")
    for name, value in {**aws_environment("http://127.0.0.1:5999"), **function_environments(names)}.items():
        monkeypatch.setenv(name, value)
    installed = wiring._installed
    yield
    wiring.install(installed)


def test_a_new_container_has_built_nothing_and_builds_each_service_once(environment: None) -> None:
    container = Container.from_environment()

    assert not {"stock_store", "account_service", "order_import_worker", "amazon_connections"} & set(vars(container))
    worker = container.order_import_worker
    assert container.order_import_worker is worker
    assert container.order_reevaluation is container.order_reevaluation
    # Built for the worker, shared with what else needs it.
    assert {"accounts", "order_store", "relay", "order_writer"} <= set(vars(container))
    assert "stock_sync_worker" not in vars(container)


def test_two_containers_share_no_adapter_or_aws_client(environment: None) -> None:
    first, second = Container.from_environment(), Container.from_environment()

    assert first.stock_store is not second.stock_store
    assert first.client("sqs") is not second.client("sqs")
    assert first.client("sqs") is first.client("sqs")


def test_what_is_set_before_first_use_is_what_the_services_are_built_with(environment: None) -> None:
    moment = datetime.now(UTC) - timedelta(days=3)
    stand_in = object()
    container = Container(Settings.from_env(), clock=lambda: moment)
    container.participation_source = stand_in  # type: ignore[assignment]

    assert container.pii_purge._clock() == moment
    assert container.activation_guard._amazon is stand_in


def test_the_installed_container_serves_until_another_is_installed(environment: None) -> None:
    mine = Container.from_environment()
    wiring.install(mine)
    assert wiring.container() is mine

    wiring.install(None)
    made = wiring.container()
    assert made is not mine
    assert wiring.container() is made, "made once, then kept"


def test_a_missing_setting_fails_when_the_container_is_made(environment: None, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("TABLE_NAME")
    wiring.install(None)

    with pytest.raises(ValueError, match="TABLE_NAME"):
        wiring.container()
