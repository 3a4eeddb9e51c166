"""Order-import scheduling state on the account item: who imports (the sparse `GSI2`), the tick's
claim, and the watermark — each a conditional update, so overlapping ticks or imports never both
win and the watermark never moves backwards or past what another import recorded."""

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
from oms_amazon.adapters.dynamodb import dynamodb_errors, error_code, iso
from oms_amazon.adapters.items import from_wire, key
from oms_amazon.domain.accounts import Account


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
