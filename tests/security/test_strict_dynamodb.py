"""The suite's DynamoDB is strict about start keys where moto is not (tests/security/strict_dynamodb.py): moto
pages from keys DynamoDB refuses, the stand-in refuses them as DynamoDB does, and the functions the suite drives
reach DynamoDB through it — so the fuzz's 0 5xx on `next_token` cannot rest on moto's leniency."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from botocore.exceptions import ClientError

from local.stack import LocalStack
from tests.security.conftest import moto
from tests.security.strict_dynamodb import INVALID_START_KEY, StartKeys, StrictDynamoDB

pytestmark = [pytest.mark.e2e, pytest.mark.security]

PARTITION = "STRICTSTARTKEYS#test"
# Start keys DynamoDB refuses for a Query of PARTITION, and moto pages from.
REFUSED_BY_DYNAMODB = {
    "another partition's key": {"PK": {"S": "CLIENT#someone-else"}, "SK": {"S": "ITEM#0"}},
    "an attribute too many": {"PK": {"S": PARTITION}, "SK": {"S": "ITEM#0"}, "GSI1PK": {"S": "x"}},
}


@pytest.fixture
def table(stack: LocalStack) -> Iterator[tuple[Any, str]]:
    """Three items in a partition of their own, in the stack's table, as moto's own endpoint serves it."""
    client, name = moto(stack, "dynamodb"), stack.names["ConnectorTable"]
    keys = [{"PK": {"S": PARTITION}, "SK": {"S": f"ITEM#{n}"}} for n in range(3)]
    for key in keys:
        client.put_item(TableName=name, Item=key)
    yield client, name
    for key in keys:
        client.delete_item(TableName=name, Key=key)


def query(name: str, **extra: Any) -> dict[str, Any]:
    return {
        "TableName": name,
        "KeyConditionExpression": "PK = :pk",
        "ExpressionAttributeValues": {":pk": {"S": PARTITION}},
        **extra,
    }


@pytest.mark.parametrize("start", REFUSED_BY_DYNAMODB.values(), ids=REFUSED_BY_DYNAMODB)
def test_moto_pages_from_a_start_key_dynamodb_refuses_and_the_stand_in_refuses_it_as_dynamodb_does(
    table: tuple[Any, str], start: dict[str, Any]
) -> None:
    client, name = table
    strict = StartKeys().around(client)

    moto_answers = client.query(**query(name, ExclusiveStartKey=start))
    with pytest.raises(ClientError) as refused:
        strict.query(**query(name, ExclusiveStartKey=start))

    assert "Items" in moto_answers, "moto is lenient here: that is why the suite does not rely on it"
    assert refused.value.response["Error"] == {"Code": "ValidationException", "Message": INVALID_START_KEY}


def test_the_stand_in_pages_on_from_the_keys_it_returned_for_that_table_and_index_only(
    table: tuple[Any, str],
) -> None:
    client, name = table
    keys = StartKeys()
    strict = keys.around(client)

    seen, start = [], None
    while True:
        page = strict.query(**query(name, Limit=1, **({"ExclusiveStartKey": start} if start else {})))
        seen += [item["SK"]["S"] for item in page["Items"]]
        start = page.get("LastEvaluatedKey")
        if not start:
            break
    returned = {"PK": {"S": PARTITION}, "SK": {"S": "ITEM#0"}}
    with pytest.raises(ClientError):
        strict.query(**query(name, IndexName="GSI1", ExclusiveStartKey=returned))
    with pytest.raises(ClientError):  # the same key, its type changed
        strict.query(**query(name, ExclusiveStartKey={"PK": {"S": PARTITION}, "SK": {"B": b"ITEM#0"}}))

    assert seen == ["ITEM#0", "ITEM#1", "ITEM#2"]
    assert keys.checked == 4 and len(keys.refused) == 2


def test_the_functions_the_suite_drives_reach_dynamodb_through_the_stand_in(
    stack: LocalStack, start_keys: StartKeys
) -> None:
    from oms_amazon import wiring

    assert isinstance(wiring.container().client("dynamodb"), StrictDynamoDB)
    headers = {"X-Client-Id": "strict-start-keys"}
    with httpx.Client(base_url=stack.api_url, timeout=60, headers=headers) as api:
        for sku in ("A-1", "A-2"):
            assert api.put(f"/products/{sku}", json={"quantity_available": 1}).status_code == 201
        checked = start_keys.checked
        first = api.get("/products", params={"limit": 1}).json()
        second = api.get("/products", params={"limit": 1, "next_token": first["next_token"]})
        for sku in ("A-1", "A-2"):
            assert api.delete(f"/products/{sku}").status_code == 204

    assert second.status_code == 200 and [p["sku"] for p in second.json()["items"]] == ["A-2"]
    assert start_keys.checked > checked and start_keys.refused == []
