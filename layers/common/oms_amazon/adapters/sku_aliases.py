"""SKU aliases in DynamoDB: `CLIENT#<client>` / `SKUALIAS#<scope>#<amazon sku>`, the scope being `*`
(client-wide) or an account id. The key makes an Amazon SKU link to one OMS SKU per scope; every
reader (stock sync, order import, the SKU report) takes the client's links with one Query."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Final

from oms_amazon.adapters.accounts import client_pk
from oms_amazon.adapters.dynamodb import (
    batch_write,
    dynamodb_errors,
    iso,
    parse_iso,
)
from oms_amazon.adapters.items import from_wire, key, prefix_query, query_page, to_wire
from oms_amazon.domain.sku_aliases import SkuAlias
from oms_amazon.ports import Page

PREFIX: Final = "SKUALIAS#"
CLIENT_WIDE: Final = "*"


def alias_sk(account_id: str | None, amazon_sku: str = "") -> str:
    return f"{PREFIX}{account_id or CLIENT_WIDE}#{amazon_sku}"


def alias_to_item(alias: SkuAlias) -> dict[str, Any]:
    return {
        "PK": client_pk(alias.client_id),
        "SK": alias_sk(alias.account_id, alias.amazon_sku),
        "entity": "sku_alias",
        "client_id": alias.client_id,
        "amazon_sku": alias.amazon_sku,
        "oms_sku": alias.oms_sku,
        "account_id": alias.account_id,
        "created_at": iso(alias.created_at),
        "updated_at": iso(alias.updated_at),
        "version": alias.version,
    }


def alias_from_item(item: dict[str, Any]) -> SkuAlias:
    return SkuAlias(
        client_id=item["client_id"],
        amazon_sku=item["amazon_sku"],
        oms_sku=item["oms_sku"],
        account_id=item.get("account_id"),
        created_at=parse_iso(item["created_at"]),
        updated_at=parse_iso(item["updated_at"]),
        version=int(item.get("version", 1)),
    )


class DynamoSkuAliasRepository:
    def __init__(self, client: Any, table_name: str) -> None:
        self._db = client
        self._table = table_name

    def get(self, client_id: str, amazon_sku: str, account_id: str | None) -> SkuAlias | None:
        with dynamodb_errors("get SKU alias"):
            response = self._db.get_item(
                TableName=self._table,
                Key=key(client_pk(client_id), alias_sk(account_id, amazon_sku)),
                ConsistentRead=True,
            )
        return alias_from_item(from_wire(response["Item"])) if "Item" in response else None

    def put(self, alias: SkuAlias) -> None:
        with dynamodb_errors("save SKU alias"):
            self._db.put_item(TableName=self._table, Item=to_wire(alias_to_item(alias)))

    def put_many(self, aliases: Sequence[SkuAlias]) -> None:
        requests = [{"PutRequest": {"Item": to_wire(alias_to_item(alias))}} for alias in aliases]
        batch_write(self._db, self._table, requests, "save SKU aliases")

    def delete(self, alias: SkuAlias) -> None:
        with dynamodb_errors("delete SKU alias"):
            self._db.delete_item(
                TableName=self._table, Key=key(client_pk(alias.client_id), alias_sk(alias.account_id, alias.amazon_sku))
            )

    def all_of_client(self, client_id: str) -> list[SkuAlias]:
        request: dict[str, Any] = {
            "TableName": self._table,
            "KeyConditionExpression": "PK = :pk AND begins_with(SK, :prefix)",
            "ExpressionAttributeValues": {":pk": {"S": client_pk(client_id)}, ":prefix": {"S": PREFIX}},
            "ConsistentRead": True,
        }
        found: list[SkuAlias] = []
        while True:
            with dynamodb_errors("SKU aliases"):
                page = self._db.query(**request)
            found.extend(alias_from_item(from_wire(item)) for item in page.get("Items", []))
            if "LastEvaluatedKey" not in page:
                return found
            request["ExclusiveStartKey"] = page["LastEvaluatedKey"]

    def page(self, client_id: str, *, account_id: str | None, limit: int, next_token: str | None) -> Page[SkuAlias]:
        """Client-wide links first, then each account's (`account_id`: that account's only)."""
        partition = client_pk(client_id)
        prefix = alias_sk(account_id) if account_id is not None else PREFIX
        items, token = query_page(
            self._db,
            prefix_query(self._table, partition, prefix, Limit=limit),
            partition=partition,
            sk_prefix=prefix,
            next_token=next_token,
            operation="list SKU aliases",
        )
        return Page(items=[alias_from_item(item) for item in items], next_token=token)
