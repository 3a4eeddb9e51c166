"""The chaos suite's own local stack, on free ports, with its schedules idle (the tests fire ticks
and runs themselves), started once for the package and stopped when it is done. Each test gets an
empty stack, the simulator's control API, the gateway, and the functions' invocations watched."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from local.stack import LocalStack, Ports, install_container
from tests.chaos.support import Amazon, Invocations, settle


def _forget_cached_adapters() -> None:
    """Adapters are built once per warm container; a new stack or an emptied Amazon means new
    endpoints, queue urls, tokens and rate-limit state."""
    from oms_amazon.adapters.sp_api import forget_amazon_state

    install_container()
    forget_amazon_state()


@pytest.fixture(scope="package")
def stack() -> Iterator[LocalStack]:
    running = LocalStack(ports=Ports(gateway=0, simulator=0, moto=0), log_level="ERROR", schedule_speedup=0.0001)
    running.start()
    _forget_cached_adapters()
    yield running
    running.stop()
    _forget_cached_adapters()


@pytest.fixture
def fresh(stack: LocalStack) -> LocalStack:
    """An empty stack: every table, queue and the simulator (the processes keep running)."""
    settle([stack.runner], timeout=120)
    stack.reset()
    _forget_cached_adapters()
    return stack


@pytest.fixture
def api(fresh: LocalStack) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=fresh.api_url, timeout=60) as client:
        yield client


@pytest.fixture
def amazon(fresh: LocalStack) -> Iterator[Amazon]:
    with httpx.Client(base_url=fresh.simulator_url, timeout=60) as client:
        yield Amazon(client)


@pytest.fixture
def invocations(fresh: LocalStack, monkeypatch: pytest.MonkeyPatch) -> Invocations:
    watched = Invocations()
    watched.watch(monkeypatch, fresh.functions)
    return watched


@pytest.fixture(autouse=True)
def quiet_logs() -> Iterator[None]:
    """The connector logs each retry and each order at INFO: thousands of lines under chaos."""
    from oms_amazon.observability import logger

    level = logger.log_level
    logger.setLevel("WARNING")
    yield
    logger.setLevel(level)
