"""`make bench` at tiny sizes: the real workers and the naive connector against the in-process simulator
on a virtual clock (no sockets, no AWS), the lower-bound arithmetic, and the results file's shape."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bench.__main__ import main, targets
from bench.cases import order_case, stock_case
from bench.footprint import parse_importtime
from bench.lower_bound import order_import_bound, stock_sync_bound

pytestmark = pytest.mark.unit


def test_the_lower_bound_follows_rate_and_burst() -> None:
    v0 = order_import_bound(1000, "v0")
    assert v0.calls == 1011  # 10 pages, 1,000 item reads, one Restricted Data Token
    assert v0.seconds == pytest.approx((1000 - 30) / 0.5)
    assert order_import_bound(1000, "2026-01-01").plan == {"searchOrders": 10}
    assert order_import_bound(2500, "2026-01-01").seconds == pytest.approx((25 - 20) / 0.0056)
    full = stock_sync_bound(100_000, needs_listing_report=True)
    assert (full.calls, full.seconds) == (3 + 4 * 4, 0.0)
    assert stock_sync_bound(3, needs_listing_report=False).plan == {"patchListingsItem": 3}
    assert stock_sync_bound(100, needs_listing_report=False).calls == 4


def test_a_full_sync_and_a_delta_cost_what_the_bound_says_and_reach_amazon() -> None:
    full = stock_case(300, None)
    assert full["connector"]["calls"] == full["lower_bound"]["calls"] == 7
    assert full["naive"]["calls"] == 300 and full["connector"]["throttled"] == 0
    assert full["naive"]["seconds"] == pytest.approx((300 - 5) / 5, abs=0.1)  # patchListingsItem: 5/s, burst 5

    delta = stock_case(300, 0.01)
    assert delta["changed"] == 3 and delta["transport"] == "patch"
    assert delta["connector"]["calls"] == 3


@pytest.mark.parametrize("api_version", ["v0", "2026-01-01"])
def test_order_import_is_throttled_like_amazon(api_version: str) -> None:
    result = order_case(120, api_version)
    # two pages and a call per order; on v0 a Restricted Data Token for the addresses too
    assert result["naive"]["calls"] == (123 if api_version == "v0" else 122)
    assert result["connector"]["calls"] == result["lower_bound"]["calls"]
    assert result["connector"]["seconds"] <= 1.25 * result["lower_bound"]["seconds"] + 5


def test_the_runner_writes_results_in_the_agreed_shape(tmp_path: Path) -> None:
    output = tmp_path / "results.json"
    assert main(["--skus", "200", "--orders", "110", "--jobs", "1", "--no-footprint", "--output", str(output)]) == 0
    results = json.loads(output.read_text())
    (stock, delta) = results["stock_sync"]
    assert {"case", "skus", "changed", "connector", "naive", "lower_bound"} <= stock.keys()
    assert {"calls", "seconds"} <= stock["connector"].keys() and (stock["skus"], delta["changed"]) == (200, 2)
    assert [(o["orders"], o["api_version"]) for o in results["order_import"]] == [(110, "v0"), (110, "2026-01-01")]
    assert all(ok is not False for ok, _ in targets(results))
    assert len(results["with_processing_time"]) == 4
    v0, v2026 = results["order_import_next_run"]
    assert v0["connector"]["calls"] >= v0["lower_bound"]["calls"] == 51 and v2026["connector"]["calls"] == 1


def test_import_times_are_read_from_python_x_importtime() -> None:
    stderr = "\n".join(
        [
            "import time: self [us] | cumulative | imported package",
            "import time:       120 |        120 |   json.decoder",
            "import time:      2000 |       2120 | json",
            "import time:       500 |      90500 |   oms_amazon.wiring",
            "import time:        50 |         50 |     oms_amazon.settings",
            "import time:      4000 |     300000 | app",
        ]
    )
    total, children = parse_importtime(stderr)
    assert total == 300.0
    assert children == [("oms_amazon.wiring", 90.5)]
