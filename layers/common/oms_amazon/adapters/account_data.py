"""What an account leaves behind when it is deleted (SPEC §4.2): its stock-sync runs (and their errors)
and the marker of its latest, its listing snapshot and when a refresh of it was last asked for, the
courier mappings scoped to it, and — with the seller's last account in the region — what was last sent
to Amazon, the seller's marketplace participations and an unfinished order search's checkpoint.
Imported orders stay."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from oms_amazon.adapters.accounts import client_pk
from oms_amazon.adapters.courier_mappings import mapping_sk, mapping_term_sk
from oms_amazon.adapters.dynamodb import batch_write, dynamodb_errors
from oms_amazon.adapters.items import from_wire, key
from oms_amazon.adapters.order_import import checkpoint_sk
from oms_amazon.adapters.participations import participation_sk
from oms_amazon.adapters.stock_state import state_sk
from oms_amazon.adapters.stock_sync import (
    latest_run_sk,
    listings_refresh_sk,
    listings_sk,
    run_error_sk,
    run_sk,
)
from oms_amazon.domain.accounts import Account


class DynamoAccountData:
    def __init__(self, client: Any, table_name: str) -> None:
        self._db = client
        self._table = table_name

    def remove(self, account: Account, remaining: Sequence[Account]) -> int:
        """Delete the account's own data; `remaining` are the client's other accounts of the seller."""
        pk = client_pk(account.client_id)
        keys = self._keys(pk, run_sk(account.id)) + self._keys(pk, run_error_sk(account.id))
        keys += self._keys(pk, listings_sk(account.merchant_id, account.marketplace))
        keys += [
            key(pk, latest_run_sk(account.id)),
            key(pk, listings_refresh_sk(account.merchant_id, account.marketplace)),
        ]
        for guard in self._items(pk, mapping_term_sk(account.id, "")):
            keys += [key(pk, guard["SK"]), key(pk, mapping_sk(guard["mapping_id"]))]
        if not any(other.region == account.region for other in remaining):
            keys += self._keys(pk, state_sk(account.merchant_id, account.region))
            keys += self._keys(pk, participation_sk(account.merchant_id, account.region))
            keys += self._keys(pk, checkpoint_sk(account.merchant_id, account.region))
        batch_write(self._db, self._table, [{"DeleteRequest": {"Key": k}} for k in keys], "delete account data")
        return len(keys)

    def _keys(self, pk: str, prefix: str) -> list[dict[str, Any]]:
        return [key(pk, item["SK"]) for item in self._items(pk, prefix)]

    def _items(self, pk: str, prefix: str) -> list[dict[str, Any]]:
        request: dict[str, Any] = {
            "TableName": self._table,
            "KeyConditionExpression": "PK = :pk AND begins_with(SK, :prefix)",
            "ExpressionAttributeValues": {":pk": {"S": pk}, ":prefix": {"S": prefix}},
        }
        items: list[dict[str, Any]] = []
        while True:
            with dynamodb_errors("account data"):
                page = self._db.query(**request)
            items.extend(from_wire(item) for item in page.get("Items", []))
            if "LastEvaluatedKey" not in page:
                return items
            request["ExclusiveStartKey"] = page["LastEvaluatedKey"]
