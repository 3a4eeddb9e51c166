"""Low-level DynamoDB item (de)serialisation for the client API, which transactions need, and the one page of
a Query that a listing serves from a client's cursor."""

from __future__ import annotations

from typing import Any

from boto3.dynamodb.types import TypeDeserializer, TypeSerializer

from oms_amazon.adapters.dynamodb import decode_page_token, dynamodb_errors, encode_page_token, plain

_serializer = TypeSerializer()
_deserializer = TypeDeserializer()


def to_wire(item: dict[str, Any]) -> dict[str, Any]:
    return {k: _serializer.serialize(v) for k, v in item.items() if v is not None}


def from_wire(item: dict[str, Any]) -> dict[str, Any]:
    return {k: plain(_deserializer.deserialize(v)) for k, v in item.items()}


def key(pk: str, sk: str) -> dict[str, Any]:
    return {"PK": {"S": pk}, "SK": {"S": sk}}


def prefix_query(table: str, partition: str, sk_prefix: str, **extra: Any) -> dict[str, Any]:
    """A Query of the items of `partition` whose sort key starts with `sk_prefix`."""
    return {
        "TableName": table,
        "KeyConditionExpression": "PK = :pk AND begins_with(SK, :prefix)",
        "ExpressionAttributeValues": {":pk": {"S": partition}, ":prefix": {"S": sk_prefix}},
        **extra,
    }


def query_page(
    db: Any, request: dict[str, Any], *, partition: str, sk_prefix: str, next_token: str | None, operation: str
) -> tuple[list[dict[str, Any]], str | None]:
    """One page of `request` (a Query of `partition` within `sk_prefix`), from the cursor a previous page
    gave (`next_token`, checked: a 400 when it is not one of this query's): its items, and the cursor of
    the next page (None after the last)."""
    start = decode_page_token(next_token, partition=partition, sk_prefix=sk_prefix)
    if start:
        request = {**request, "ExclusiveStartKey": {k: {"S": v} for k, v in start.items()}}
    with dynamodb_errors(operation):
        response = db.query(**request)
    last = response.get("LastEvaluatedKey")
    return [from_wire(item) for item in response.get("Items", [])], encode_page_token(from_wire(last) if last else None)
