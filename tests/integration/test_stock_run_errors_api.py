"""A stock-sync run's per-SKU errors (SPEC §5, §7) through the API function with moto: the run record keeps
the first 100 and their count, however many Amazon found, and every error is paged, in order, under the
run's `/errors`, to its own client only."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from oms_amazon import wiring
from oms_amazon.domain.stock_sync import SkuError, StockRun
from oms_amazon.services.stock_sync.scheduler import new_run_id

from tests.conftest import ApiCaller

pytestmark = pytest.mark.integration

# From the test clock (whole seconds: what was sent is stored to the second), never a written date.
T0 = datetime.now(UTC).replace(microsecond=0) - timedelta(hours=1)


def run_with_errors(api: ApiCaller, n: int) -> tuple[str, StockRun]:
    status, account = api("POST", "/accounts", {"merchant_id": "A2SELLERUK01", "marketplace": "UK"})
    assert status == 201, account
    store = wiring.container().stock_store
    run = StockRun(new_run_id(T0), "acme-outdoor", account["id"], "submitted", "manual", T0)
    first = run.adding_errors([SkuError(f"SKU-{i:05d}", "90220", f"Amazon refused message {i}") for i in range(n // 2)])
    store.save_run(first)
    # The report of a later feed adds the rest, to the record as read back.
    again = store.get_run("acme-outdoor", account["id"], run.run_id)
    assert again is not None
    rest = [SkuError(f"SKU-{i:05d}", "90220", f"Amazon refused message {i}") for i in range(n // 2, n)]
    store.save_run(again.adding_errors(rest).with_changes(status="done"))
    return account["id"], run


def test_a_run_keeps_its_first_100_errors_and_pages_every_one_in_order(api):
    account_id, run = run_with_errors(api, 250)

    status, record = api("GET", f"/accounts/{account_id}/stock-sync-runs/{run.run_id}")
    assert status == 200, record
    assert (len(record["errors"]), record["error_count"]) == (100, 250)
    assert record["errors"][0]["sku"] == "SKU-00000"

    seen: list[str] = []
    token = None
    while True:
        query = {"limit": "100", **({"next_token": token} if token else {})}
        status, page = api("GET", f"/accounts/{account_id}/stock-sync-runs/{run.run_id}/errors", query=query)
        assert status == 200, page
        seen += [e["sku"] for e in page["items"]]
        token = page["next_token"]
        if not token:
            break
    assert seen == [f"SKU-{i:05d}" for i in range(250)]


def test_another_clients_or_an_unknown_runs_errors_are_404(api):
    account_id, run = run_with_errors(api, 3)

    assert (
        api("GET", f"/accounts/{account_id}/stock-sync-runs/{run.run_id}/errors", client_id="bluebird-gifts")[0] == 404
    )
    status, body = api("GET", f"/accounts/{account_id}/stock-sync-runs/20261129T000000000000-000000/errors")
    assert (status, body["error"]["code"]) == (404, "run_not_found")
