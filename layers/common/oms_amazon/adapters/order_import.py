"""Order-import scheduling state on the account item: who imports (the sparse `GSI2`), the tick's
claim, and the watermark — each a conditional update, so overlapping ticks or imports never both
win and the watermark never moves backwards or past what another import recorded. Beside them, one
item per client, seller and region: the checkpoint of an unfinished search (`IMPORT#<seller>#<region>`)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import Any

from botocore.exceptions import ClientError

from oms_amazon.adapters.accounts import (
    ORDER_IMPORT_INDEX,
    ORDER_IMPORT_PARTITION,
    account_from_item,
    account_sk,
    client_pk,
)
from oms_amazon.adapters.dynamodb import dynamodb_errors, error_code, iso, parse_iso
from oms_amazon.adapters.items import from_wire, key
from oms_amazon.domain.accounts import Account
from oms_amazon.domain.orders import ImportCheckpoint


def checkpoint_sk(merchant_id: str, region: str) -> str:
    return f"IMPORT#{merchant_id}#{region}"


class DynamoImportState:
    def __init__(self, client: Any, table_name: str) -> None:
        self._db = client
        self._table = table_name

    def import_accounts(self) -> Iterator[Account]:
        request: dict[str, Any] = {
            "TableName": self._table,
            "IndexName": ORDER_IMPORT_INDEX,
            "KeyConditionExpression": "GSI2PK = :p",
            "ExpressionAttributeValues": {":p": {"S": ORDER_IMPORT_PARTITION}},
        }
        while True:
            with dynamodb_errors("import accounts"):
                page = self._db.query(**request)
            yield from (account_from_item(from_wire(item)) for item in page.get("Items", []))
            if "LastEvaluatedKey" not in page:
                return
            request["ExclusiveStartKey"] = page["LastEvaluatedKey"]

    def claim(self, account: Account, now: datetime, *, cutoff: datetime | None) -> bool:
        values: dict[str, Any] = {":now": {"S": iso(now)}, ":one": {"N": "1"}}
        condition = "attribute_exists(PK)"
        if cutoff is not None:
            condition += " AND (attribute_not_exists(order_import_claimed_at) OR order_import_claimed_at < :cutoff)"
            values[":cutoff"] = {"S": iso(cutoff)}
        return self._update(
            account,
            "SET order_import_claimed_at = :now, revision = revision + :one",
            condition,
            values,
        )

    def advance_watermark(self, account: Account, new: datetime) -> bool:
        values: dict[str, Any] = {":new": {"S": iso(new)}, ":one": {"N": "1"}}
        return self._update(
            account,
            "SET last_order_import_at = :new, revision = revision + :one",
            "attribute_exists(PK) AND (attribute_not_exists(last_order_import_at) OR "
            "attribute_type(last_order_import_at, :null) OR last_order_import_at < :new)",
            {**values, ":null": {"S": "NULL"}},
        )

    def _update(self, account: Account, expression: str, condition: str, values: dict[str, Any]) -> bool:
        try:
            with dynamodb_errors("update account schedule"):
                self._db.update_item(
                    TableName=self._table,
                    Key=key(client_pk(account.client_id), account_sk(account.id)),
                    UpdateExpression=expression,
                    ConditionExpression=condition,
                    ExpressionAttributeValues=values,
                )
        except ClientError as error:
            if error_code(error) == "ConditionalCheckFailedException":
                return False
            raise
        return True

    # ---- the checkpoint of an unfinished search
    def checkpoint(self, client_id: str, merchant_id: str, region: str) -> ImportCheckpoint | None:
        with dynamodb_errors("read import checkpoint"):
            found = self._db.get_item(
                TableName=self._table,
                Key=key(client_pk(client_id), checkpoint_sk(merchant_id, region)),
                ConsistentRead=True,
            ).get("Item")
        if found is None:
            return None
        item = from_wire(found)
        return ImportCheckpoint(
            since=parse_iso(item["since"]),
            marketplace_ids=tuple(item["marketplace_ids"]),
            api_version=item["api_version"],
            next_token=item["next_token"],
            bound=parse_iso(item["bound"]) if item.get("bound") else None,
            pages=int(item["pages"]),
            saved_at=parse_iso(item["saved_at"]),
        )

    def save_checkpoint(self, client_id: str, merchant_id: str, region: str, checkpoint: ImportCheckpoint) -> None:
        item = {
            **key(client_pk(client_id), checkpoint_sk(merchant_id, region)),
            "since": {"S": iso(checkpoint.since)},
            "marketplace_ids": {"L": [{"S": m} for m in checkpoint.marketplace_ids]},
            "api_version": {"S": checkpoint.api_version},
            "next_token": {"S": checkpoint.next_token},
            "pages": {"N": str(checkpoint.pages)},
            "saved_at": {"S": iso(checkpoint.saved_at)},
        }
        if checkpoint.bound is not None:
            item["bound"] = {"S": iso(checkpoint.bound)}
        with dynamodb_errors("save import checkpoint"):
            self._db.put_item(TableName=self._table, Item=item)

    def clear_checkpoint(self, client_id: str, merchant_id: str, region: str) -> None:
        with dynamodb_errors("clear import checkpoint"):
            self._db.delete_item(
                TableName=self._table, Key=key(client_pk(client_id), checkpoint_sk(merchant_id, region))
            )
