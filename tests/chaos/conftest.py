"""The chaos suite's own local stack, on free ports, with its schedules idle (the tests fire ticks
and runs themselves), started once for the package and stopped when it is done. Each test gets an
empty stack, the simulator's control API, the gateway, and the functions' invocations watched."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import httpx
import pytest

from local.stack import LocalStack, Ports
from tests.chaos.support import Amazon, Invocations, settle


def _forget_cached_adapters() -> None:
    """Adapters are built once per warm container; a new stack or an emptied Amazon means new
    endpoints, queue urls, tokens and rate-limit state."""
    from oms_amazon import wiring
    from oms_amazon.adapters.sp_api import forget_amazon_state
    from oms_amazon.api import deps

    deps.reset()
    wiring.reset()
    forget_amazon_state()


@contextmanager
def one_fifo_receive_at_a_time() -> Iterator[None]:
    """moto decides which FIFO message groups are busy once per long poll, so two pollers waiting on
    one queue can both take a message of the same group, which SQS never allows (and the connector
    relies on: one worker per seller at a time). The chaos test polls each queue from two containers,
    so moto's receives run one at a time, without waiting inside the lock; the wait happens outside."""
    from moto.sqs.models import SQSBackend

    receive = SQSBackend.receive_message
    lock = threading.Lock()

    def receive_message(
        self: SQSBackend,
        queue_name: str,
        count: int,
        wait_seconds_timeout: int,
        visibility_timeout: int,
        message_attribute_names: list[str] | None = None,
    ) -> Any:
        deadline = time.monotonic() + wait_seconds_timeout
        while True:
            with lock:
                found = receive(self, queue_name, count, 0, visibility_timeout, message_attribute_names)
            if found or time.monotonic() >= deadline:
                return found
            time.sleep(0.05)

    SQSBackend.receive_message = receive_message  # type: ignore[method-assign]
    try:
        yield
    finally:
        SQSBackend.receive_message = receive  # type: ignore[method-assign]


@pytest.fixture(scope="package")
def stack() -> Iterator[LocalStack]:
    running = LocalStack(ports=Ports(gateway=0, simulator=0, moto=0), log_level="ERROR", schedule_speedup=0.0001)
    with one_fifo_receive_at_a_time():
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
