"""The local stack, started once for the end-to-end tests on free ports and stopped when they are done, with its schedules idle
(the tests fire ticks and drain queues themselves)."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from local.stack import LocalStack, Ports, install_container

SELLER = "A2SELLERUK01"
SELLER_TOKEN = "Atzr|IwEBI-e2e-seller-refresh-token-0001"


@pytest.fixture(scope="package")
def stack() -> Iterator[LocalStack]:
    running = LocalStack(
        ports=Ports(gateway=0, simulator=0, moto=0), log_level="WARNING", schedule_speedup=0.0001
    ).start()
    yield running
    running.stop()


@pytest.fixture
def http(stack: LocalStack) -> Iterator[httpx.Client]:
    from oms_amazon.adapters.sp_api import forget_amazon_state

    stack.reset()
    # A fresh Amazon: the workers' warm containers forget its tokens and rate-limit state too.
    forget_amazon_state()
    with httpx.Client(base_url=stack.api_url, timeout=30) as client:
        yield client


@pytest.fixture
def sim(stack: LocalStack, http: httpx.Client) -> Iterator[httpx.Client]:
    """The SP-API simulator's control API, with one seller authorised for UK and DE."""
    with httpx.Client(base_url=stack.simulator_url, timeout=30) as client:
        response = client.post(
            "/_sim/sellers", json={"seller_id": SELLER, "refresh_token": SELLER_TOKEN, "marketplaces": ["UK", "DE"]}
        )
        assert response.status_code in (200, 201), response.text
        yield client


@pytest.fixture(params=["v0", "2026-01-01"])
def api_version(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch, stack: LocalStack) -> Iterator[str]:
    """The test runs once per Amazon Orders API the importer can read (template `OrdersApiVersion`)."""
    from oms_amazon import wiring

    monkeypatch.setenv("ORDERS_API_VERSION", request.param)
    install_container()
    yield request.param
    wiring.install(None)  # the next use makes one for the environment as it is then, restored
