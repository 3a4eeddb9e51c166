"""Fairness through the API function (api.fairness, over moto): every POST, PUT, PATCH and DELETE — manual actions
included — draws on a token bucket of the client it acts for, kept in the table; over it, 429 `rate_limited`
with `Retry-After` and nothing written. Reads are free, other clients untouched, coalescing kept. Then the
DynamoDB bucket itself, two containers at a time, against the rule it implements."""

from __future__ import annotations

import json
import os
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.conftest import CANARY_REFRESH_TOKEN, ApiCaller, all_items, install_container

pytestmark = pytest.mark.integration

A, B = "acme-outdoor", "bluebird-gifts"
SELLER = "A2SELLERUK01"
BURST = 3
SECONDS_PER_TOKEN = 1000


@pytest.fixture
def limited(api: ApiCaller, monkeypatch: pytest.MonkeyPatch) -> ApiCaller:
    """The API with a small allowance: 3 writes at once, then one every 1,000 seconds."""
    monkeypatch.setenv("CLIENT_WRITE_BURST", str(BURST))
    monkeypatch.setenv("CLIENT_WRITE_RATE_PER_SECOND", str(1 / SECONDS_PER_TOKEN))
    install_container()
    return api


def everything() -> list[dict[str, Any]]:
    """Every item, the write buckets too."""
    return all_items(boto3.client("dynamodb"), os.environ["TABLE_NAME"], write_buckets=True)


def assert_rate_limited(api: ApiCaller, status: int, body: Any) -> None:
    assert status == 429, body
    assert set(body) == {"error"} and body["error"]["code"] == "rate_limited", body
    assert body["error"]["details"] == [] and "Retry after" in body["error"]["message"], body
    assert 1 <= int(api.headers["retry-after"]) <= SECONDS_PER_TOKEN


def put_product(api: ApiCaller, sku: str, **kwargs: Any) -> tuple[int, Any]:
    return api("PUT", f"/products/{sku}", {"quantity_available": 5}, **kwargs)


def test_writes_over_the_burst_are_429_rate_limited_with_retry_after_and_write_nothing_at_all(limited):
    assert [put_product(limited, f"SKU-{n}")[0] for n in range(BURST)] == [201] * BURST
    before = everything()

    status, body = put_product(limited, "SKU-over")

    assert_rate_limited(limited, status, body)
    assert limited.headers["retry-after"] == str(SECONDS_PER_TOKEN)  # the next token, a whole interval away
    assert everything() == before, "a refused request changes nothing, its client's bucket included"
    assert limited("GET", "/products/SKU-over")[0] == 404


def test_reads_are_never_limited(limited):
    for n in range(BURST):
        put_product(limited, f"SKU-{n}")

    answers = [limited("GET", "/products")[0] for _ in range(10)] + [limited("GET", "/products/SKU-0")[0]]

    assert answers == [200] * 11


def test_one_clients_spent_allowance_leaves_another_clients_whole(limited):
    for n in range(BURST + 5):
        put_product(limited, f"SKU-{n}", client_id=A)

    assert [put_product(limited, f"SKU-{n}", client_id=B)[0] for n in range(BURST)] == [201] * BURST
    assert_rate_limited(limited, *put_product(limited, "SKU-late", client_id=B))


def test_manual_actions_draw_on_the_same_allowance_and_still_coalesce(limited):
    status, account = limited(
        "POST",
        "/accounts",
        {
            "merchant_id": SELLER,
            "marketplace": "UK",
            "auth_token": CANARY_REFRESH_TOKEN,
            "active": True,
            "sync_stock": True,
        },
    )
    assert status == 201, account
    path = f"/accounts/{account['id']}"

    first_status, first = limited("POST", f"{path}/stock-sync")
    again_status, again = limited("POST", f"{path}/stock-sync")

    assert (first_status, again_status) == (202, 202)
    assert (again["run_id"], again["coalesced"]) == (first["run_id"], True)
    since = (datetime.now(UTC) - timedelta(days=1)).isoformat()
    for method, action, body in [
        ("POST", "stock-sync", None),
        ("POST", "listings/refresh", None),
        ("POST", "order-import", {"since": since}),
        ("POST", f"orders/{'026-1234567-1234567'}/import", None),
        ("POST", "verify", None),
        ("POST", "authorisation-links", None),
        ("PATCH", "", {"name": "renamed"}),
        ("DELETE", "", None),
    ]:
        assert_rate_limited(limited, *limited(method, f"{path}/{action}".rstrip("/"), body))
    sqs = boto3.client("sqs")
    queued = sqs.receive_message(QueueUrl=os.environ["STOCK_SYNC_QUEUE_URL"], MaxNumberOfMessages=10)
    assert [json.loads(m["Body"])["run_id"] for m in queued.get("Messages", [])] == [first["run_id"]]
    assert limited("GET", path)[1]["name"] == account["name"]


def test_a_batch_costs_one_token_per_hundred_items_begun(limited):
    products = [{"sku": f"SKU-{n}", "quantity_available": 1} for n in range(201)]

    status, body = limited("POST", "/products/batch", {"products": products})

    assert status == 200, body
    assert_rate_limited(limited, *put_product(limited, "SKU-after"))


def test_an_admin_acting_for_a_client_draws_on_that_clients_allowance(limited):
    as_admin = [put_product(limited, f"SKU-{n}", client_id=None, admin=True, query={"client_id": A}) for n in range(3)]

    assert [status for status, _ in as_admin] == [201] * BURST
    assert_rate_limited(limited, *put_product(limited, "SKU-own", client_id=A))
    assert put_product(limited, "SKU-other", client_id=B)[0] == 201


def test_a_request_refused_before_its_route_costs_nothing(limited):
    for _ in range(5):
        assert put_product(limited, "SKU-1", raw_body='{"quantity_available": "many"}')[0] == 400
        assert limited("PUT", "/products/SKU-1", raw_body="not json")[0] == 400
        assert put_product(limited, "SKU-1", query={"client_id": B})[0] == 403
        assert put_product(limited, "SKU-1", client_id=None)[0] == 401

    assert [put_product(limited, f"SKU-{n}")[0] for n in range(BURST)] == [201] * BURST


def test_the_bucket_is_one_item_in_the_clients_partition_that_expires_once_it_is_full_again(limited):
    start = datetime.now(UTC)
    for n in range(2):
        put_product(limited, f"SKU-{n}")

    (bucket,) = [i for i in everything() if i["SK"]["S"].startswith("RATELIMIT#")]

    assert (bucket["PK"]["S"], bucket["SK"]["S"]) == (f"CLIENT#{A}", "RATELIMIT#writes")
    full_again = int(bucket["tat"]["N"]) / 1_000_000
    assert start.timestamp() + 2 * SECONDS_PER_TOKEN <= full_again <= datetime.now(UTC).timestamp() + 2000
    assert full_again + 3600 <= int(bucket["ttl"]["N"]) <= full_again + BURST * SECONDS_PER_TOKEN + 3601


# ---- the DynamoDB bucket against the rule (domain.write_limits.admit)

T0 = datetime.now(UTC).replace(microsecond=0)  # the test clock: a bucket's TTL is a real time


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    per_second=st.sampled_from([0.5, 2, 9]),
    burst=st.integers(1, 12),
    requests=st.lists(
        st.tuples(st.integers(0, 1), st.integers(0, 2_500_000), st.integers(1, 15)), min_size=1, max_size=40
    ),
)
def test_two_containers_sharing_a_bucket_admit_exactly_what_the_rule_admits(
    aws: None, per_second: float, burst: int, requests: list[tuple[int, int, int]]
) -> None:
    """Each container keeps its own guess of the bucket; whatever it guesses, and however the other moved the
    bucket since, each charge is admitted or refused as the rule says, and a refusal names the rule's `tat`."""
    from oms_amazon.adapters.write_limits import DynamoWriteBuckets
    from oms_amazon.domain.write_limits import WriteLimit, admit

    dynamodb, table = boto3.client("dynamodb"), os.environ["TABLE_NAME"]
    containers = [DynamoWriteBuckets(dynamodb, table), DynamoWriteBuckets(dynamodb, table)]
    client_id = f"client-{uuid.uuid4().hex}"
    limit = WriteLimit(per_second=per_second, burst=burst)
    expected: int | None = None
    moment = T0
    for container, gap, cost in requests:
        moment += timedelta(microseconds=gap)
        charge = limit.charge(moment, cost)
        admitted, after = admit(expected, charge)

        refused_by = containers[container].take(client_id, charge)

        assert (refused_by is None) == admitted
        if not admitted:
            assert refused_by == expected
        expected = after


class CountingDynamoDB:
    """The DynamoDB client, counting what the bucket asks of it."""

    def __init__(self, client: Any) -> None:
        self._client = client
        self.calls: list[str] = []

    def __getattr__(self, name: str) -> Any:
        self.calls.append(name)
        return getattr(self._client, name)


def test_in_one_container_each_charge_admitted_or_refused_is_one_conditional_update_and_no_read(aws):
    from oms_amazon.adapters.write_limits import DynamoWriteBuckets
    from oms_amazon.domain.write_limits import WriteLimit

    dynamodb = CountingDynamoDB(boto3.client("dynamodb"))
    bucket = DynamoWriteBuckets(dynamodb, os.environ["TABLE_NAME"])
    limit = WriteLimit(per_second=1, burst=5)

    outcomes = [bucket.take(A, limit.charge(T0)) is None for _ in range(8)]  # a full bucket, then drawn on
    later = [bucket.take(A, limit.charge(T0 + timedelta(seconds=s))) is None for s in (1, 1, 60, 60)]

    assert outcomes == [True] * 5 + [False] * 3
    assert later == [True, False, True, True], "refilled by one, then idle and full again"
    assert dynamodb.calls == ["update_item"] * 12
