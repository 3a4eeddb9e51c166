"""The local stack, started once for the end-to-end tests on free ports."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from local.stack import LocalStack, Ports


@pytest.fixture(scope="session")
def stack() -> Iterator[LocalStack]:
    running = LocalStack(ports=Ports(gateway=0, simulator=0, moto=0), log_level="WARNING").start()
    yield running
    running.stop()


@pytest.fixture
def http(stack: LocalStack) -> Iterator[httpx.Client]:
    stack.reset()
    with httpx.Client(base_url=stack.api_url, timeout=30) as client:
        yield client
