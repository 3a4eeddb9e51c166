"""`make bench` at tiny sizes: the real workers and the naive connector against the in-process simulator
on a virtual clock (no sockets), the main cases on the real DynamoDB adapters over moto with Lambda's cut
and SQS's redelivery, the capacity accounting, the lower-bound arithmetic, and the results file's shape."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bench.__main__ import main, targets
from bench.cases import order_case, stock_case
from bench.footprint import parse_importtime
from bench.harness import Amazon, InvocationCut
from bench.lower_bound import order_import_bound, stock_sync_bound
from bench.realistic import Lambda, Options, order_cases, stock_cases

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
    # Amazon's processing: the report before any push, then the feeds' own limit, then the last feed's processing.
    big = stock_sync_bound(250_000, needs_listing_report=True, processing=60)
    assert big.seconds == pytest.approx(60 + (10 - 5) * 60 + 60)
    assert stock_sync_bound(3, needs_listing_report=False, processing=60).seconds == 0  # patches: no processing
    # Half-empty buckets: the burst is half.
    assert order_import_bound(1000, "v0", fill=0.5).seconds == pytest.approx((1000 - 15) / 0.5)


def test_lambda_cuts_an_invocation_at_its_timeout_and_sqs_delivers_it_again() -> None:
    amazon = Amazon()
    try:
        lam = Lambda(amazon, timeout=900, visibility=5400, max_receives=5)
        calls: list[float] = []

        def handler(time_left: object) -> str:
            calls.append(amazon.clock.now)
            if len(calls) == 1:
                amazon.clock.sleep(1000)  # past the timeout: cut at 900 s
            return "done"

        assert lam.deliver(handler) == "done"
        assert calls == [0.0, 5400.0] and (lam.invocations, lam.cut) == (2, 1)
        amazon.clock.deadline = amazon.clock.now + 1
        with pytest.raises(InvocationCut):
            amazon.clock.sleep(2)
    finally:
        amazon.close()


def test_the_main_cases_run_on_the_real_adapters_and_count_capacity() -> None:
    full, delta = stock_cases(300, 0.01, Options(processing_seconds=60))
    assert full["correct"] and delta["correct"] and delta["changed"] == 3
    assert full["invocations"] == 1 and full["our_cpu_s"] > 0
    # every SKU's last-sent figure is one small item: about 1 WCU a SKU; the run's records come on top
    assert 1 <= full["wcu_per_changed_sku"] <= 2 and full["dynamodb"]["rcu"] > 0
    assert full["connector"]["seconds"] <= 1.25 * full["lower_bound"]["seconds"] + 900

    orders = order_cases(120, "2026-01-01", Options())
    assert orders["correct"] and orders["checked"]["events_repeated"] == 0
    assert orders["connector"]["calls"] == orders["lower_bound"]["calls"] == 2


def test_a_cancelled_transaction_in_moto_leaves_every_item_as_it_was() -> None:
    import boto3
    from botocore.exceptions import ClientError

    from bench.aws import Aws

    aws = Aws()
    try:
        db, table = aws.dynamodb, aws.table
        db.put_item(TableName=table, Item={"PK": {"S": "P"}, "SK": {"S": "a"}, "v": {"N": "1"}})
        with pytest.raises(ClientError):
            db.transact_write_items(
                TransactItems=[
                    {"Put": {"TableName": table, "Item": {"PK": {"S": "P"}, "SK": {"S": "a"}, "v": {"N": "2"}}}},
                    {"Put": {"TableName": table, "Item": {"PK": {"S": "P"}, "SK": {"S": "b"}}}},
                    {
                        "ConditionCheck": {
                            "TableName": table,
                            "Key": {"PK": {"S": "P"}, "SK": {"S": "missing"}},
                            "ConditionExpression": "attribute_exists(PK)",
                        }
                    },
                ]
            )
        items = boto3.client("dynamodb").query(
            TableName=table,
            KeyConditionExpression="PK = :p",
            ExpressionAttributeValues={":p": {"S": "P"}},
        )["Items"]
        assert items == [{"PK": {"S": "P"}, "SK": {"S": "a"}, "v": {"N": "1"}}]
        # one item of under 1 KB written: one WCU; the cancelled transaction still cost 2 per item
        assert aws.capacity.wcu == 1 + 3 * 2
    finally:
        aws.close()


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
    arguments = ["--skus", "200", "--orders", "20", "--orders-per-run", "10", "--no-footprint", "--output", str(output)]
    assert main(arguments) == 0
    results = json.loads(output.read_text())
    (stock, delta) = results["stock_sync"]
    assert {"case", "skus", "changed", "connector", "naive", "lower_bound"} <= stock.keys()
    assert {"correct", "invocations", "our_cpu_s", "peak_rss_mb", "dynamodb"} <= stock.keys()
    assert stock["correct"] and results["order_import"][0]["correct"]
    assert {"rcu", "wcu"} == results["order_import"][0]["dynamodb"].keys()
    assert {"calls", "seconds"} <= stock["connector"].keys() and (stock["skus"], delta["changed"]) == (200, 2)
    assert [(o["orders"], o["api_version"]) for o in results["order_import"]] == [(20, "v0"), (20, "2026-01-01")]
    assert all(ok is not False for ok, _ in targets(results))
    assert len(results["with_processing_time"]) == 4
    v0, v2026 = results["order_import_next_run"]
    assert v0["connector"]["calls"] >= v0["lower_bound"]["calls"] == 11 and v2026["connector"]["calls"] == 1


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


def test_the_benchs_fast_moto_query_answers_as_motos_own() -> None:
    import random

    from bench import moto_query
    from bench.aws import Aws
    from bench.moto_query import motos_own

    aws = Aws()
    try:
        db, table = aws.dynamodb, aws.table
        shuffle = random.Random(7)
        writes = []
        for n in range(240):
            item = {"PK": {"S": f"P{n % 3}"}, "SK": {"S": f"{'ab'[n % 2]}#{shuffle.randrange(10**6):07d}"}}
            if n % 4:
                item |= {"GSI1PK": {"S": f"G{n % 2}"}, "GSI1SK": {"S": f"{shuffle.randrange(12):03d}"}}
            if n % 5 == 0:
                item |= {"GSI3PK": {"S": "F"}, "big": {"S": "x" * shuffle.randrange(60_000)}}
            writes.append({"PutRequest": {"Item": item}})
        for start in range(0, len(writes), 25):
            db.batch_write_item(RequestItems={table: writes[start : start + 25]})

        kinds: list[dict] = [
            {"KeyConditionExpression": "PK = :p", "ExpressionAttributeValues": {":p": {"S": "P1"}}},
            {
                "KeyConditionExpression": "PK = :p AND begins_with(SK, :b)",
                "ExpressionAttributeValues": {":p": {"S": "P0"}, ":b": {"S": "b#"}},
            },
            {
                "KeyConditionExpression": "PK = :p AND SK BETWEEN :l AND :h",
                "ExpressionAttributeValues": {":p": {"S": "P2"}, ":l": {"S": "a#0200000"}, ":h": {"S": "b#05"}},
                "FilterExpression": "attribute_exists(GSI1PK)",
            },
            {
                "IndexName": "GSI1",
                "KeyConditionExpression": "GSI1PK = :g AND GSI1SK >= :s",
                "ExpressionAttributeValues": {":g": {"S": "G1"}, ":s": {"S": "004"}},
            },
            {
                "IndexName": "GSI3",
                "KeyConditionExpression": "GSI3PK = :f",
                "ExpressionAttributeValues": {":f": {"S": "F"}},
            },
            {"KeyConditionExpression": "PK = :p", "ExpressionAttributeValues": {":p": {"S": "none"}}},
            {
                "KeyConditionExpression": "PK = :p AND SK < :s",
                "ExpressionAttributeValues": {":p": {"S": "P1"}, ":s": {"S": "b#03"}},
            },
            {
                "KeyConditionExpression": "PK = :p AND SK <= :s",
                "ExpressionAttributeValues": {":p": {"S": "P2"}, ":s": {"S": "a#05"}},
            },
            {
                "KeyConditionExpression": "PK = :p AND SK > :s",
                "ExpressionAttributeValues": {":p": {"S": "P1"}, ":s": {"S": "a#06"}},
            },
            {
                "IndexName": "GSI1",
                "KeyConditionExpression": "GSI1PK = :g AND GSI1SK = :s",
                "ExpressionAttributeValues": {":g": {"S": "G0"}, ":s": {"S": "007"}},
            },
        ]
        pagings = [
            {"ScanIndexForward": forward} | ({"Limit": limit} if limit else {})
            for forward in (True, False)
            for limit in (None, 1, 4, 50)
        ]
        queries = [kind | paging for kind in kinds for paging in pagings]

        def pages(query: dict) -> list[dict]:
            found, start = [], None
            while True:
                page = db.query(TableName=table, **query, **({"ExclusiveStartKey": start} if start else {}))
                page.pop("ResponseMetadata")
                found.append(page)
                start = page.get("LastEvaluatedKey")
                if not start:
                    return found

        before = moto_query.passed_to_moto
        fast = [pages(query) for query in queries]
        assert moto_query.passed_to_moto == before  # every page was the fast Query's
        with motos_own():
            own = [pages(query) for query in queries]
        assert fast == own
        assert max(len(found) for found in fast) > 40  # pages were walked, with start keys
    finally:
        aws.close()
