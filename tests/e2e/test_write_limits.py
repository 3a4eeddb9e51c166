"""Fairness over HTTP (api.fairness): one client's flood of writes, fired from many threads at once through the
local gateway, is held to its bucket — the burst, plus what refills while it lasts — and refused with 429
`rate_limited` and `Retry-After`, writing nothing; another client writing at the same time is never refused."""

from __future__ import annotations

import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest

from local.stack import LocalStack, install_container

pytestmark = pytest.mark.e2e

FLOODER, NEIGHBOUR = "acme-outdoor", "bluebird-gifts"
BURST = 5
PER_SECOND = 0.2  # one token every 5 seconds
FLOOD = 40
NEIGHBOUR_WRITES = 4  # within its own burst


@pytest.fixture
def small_allowance(stack: LocalStack, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """The API function's warm containers built again with a small allowance per client."""
    monkeypatch.setenv("CLIENT_WRITE_BURST", str(BURST))
    monkeypatch.setenv("CLIENT_WRITE_RATE_PER_SECOND", str(PER_SECOND))
    install_container()
    yield
    monkeypatch.undo()
    install_container()


def test_a_flood_from_one_client_is_held_to_its_burst_while_another_client_writes_untouched(
    stack: LocalStack, http: httpx.Client, small_allowance: None
) -> None:
    def put(client_id: str, sku: str) -> tuple[str, str, httpx.Response]:
        response = httpx.put(
            f"{stack.api_url}/products/{sku}",
            json={"quantity_available": 3},
            headers={"X-Client-Id": client_id},
            timeout=60,
        )
        return client_id, sku, response

    requests = [(FLOODER, f"FLOOD-{n}") for n in range(FLOOD)]
    for n in range(NEIGHBOUR_WRITES):  # the neighbour's writes go out in the thick of the flood
        requests.insert(5 + 8 * n, (NEIGHBOUR, f"CALM-{n}"))

    started = time.monotonic()
    with ThreadPoolExecutor(max_workers=16) as pool:
        answers = list(pool.map(lambda request: put(*request), requests))
    elapsed = time.monotonic() - started

    flood = [(sku, r) for client, sku, r in answers if client == FLOODER]
    accepted = sorted(sku for sku, r in flood if r.status_code == 201)
    refused = [r for _, r in flood if r.status_code == 429]
    assert len(accepted) + len(refused) == FLOOD, [r.text for _, r in flood if r.status_code not in (201, 429)]
    assert len(accepted) <= BURST + int(PER_SECOND * elapsed), f"{len(accepted)} admitted in {elapsed:.1f} s"
    assert len(accepted) >= BURST, "a full bucket admits its burst"
    for response in refused:
        assert response.json() == {
            "error": {"code": "rate_limited", "message": response.json()["error"]["message"], "details": []}
        }
        # A token's interval, rounded up; one second more when a request that read the clock a moment earlier
        # met the bucket after a later one had moved it.
        assert 1 <= int(response.headers["Retry-After"]) <= 1 / PER_SECOND + 1

    neighbour = [(sku, r.status_code) for client, sku, r in answers if client == NEIGHBOUR]
    assert [status for _, status in neighbour] == [201] * NEIGHBOUR_WRITES, neighbour

    # Nothing of a refused request was written: the flooder's catalogue is exactly what was admitted.
    listed = http.get("/products", params={"limit": 100}, headers={"X-Client-Id": FLOODER}).json()["items"]
    assert sorted(p["sku"] for p in listed) == accepted
    listed = http.get("/products", params={"limit": 100}, headers={"X-Client-Id": NEIGHBOUR}).json()["items"]
    assert sorted(p["sku"] for p in listed) == [f"CALM-{n}" for n in range(NEIGHBOUR_WRITES)]
