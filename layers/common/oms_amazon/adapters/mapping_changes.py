"""When a client's courier mappings or SKU aliases last changed, in DynamoDB (`services.order_import.judge`).

- `CLIENT#<client>` / `MAPPINGCHANGES`: `revision` (+1 per change) and `changed_at`. The order import
  reads it once per page before it stores a held order, and loads the mappings again when it moved.
- In `GSI1` under `MAPPINGCHANGES`, by `sweep_until` (the end of the sweep's window): the
  order-import tick finds the clients whose held orders to judge again with one Query, no scan.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from oms_amazon.adapters.accounts import client_pk
from oms_amazon.adapters.dynamodb import dynamodb_errors, iso
from oms_amazon.adapters.items import from_wire, key

CHANGES_SK = "MAPPINGCHANGES"
SWEEP_PARTITION = "MAPPINGCHANGES"


class DynamoMappingChanges:
    def __init__(self, client: Any, table_name: str) -> None:
        self._db = client
        self._table = table_name

    def revision(self, client_id: str) -> int:
        with dynamodb_errors("read mapping changes"):
            response = self._db.get_item(
                TableName=self._table,
                Key=key(client_pk(client_id), CHANGES_SK),
                ConsistentRead=True,
                ProjectionExpression="revision",
            )
        return int(from_wire(response.get("Item") or {}).get("revision", 0))

    def changed(self, client_id: str, at: datetime, *, sweep_until: datetime) -> None:
        with dynamodb_errors("record a mapping change"):
            self._db.update_item(
                TableName=self._table,
                Key=key(client_pk(client_id), CHANGES_SK),
                UpdateExpression="ADD revision :one SET changed_at = :at, client_id = :client, "
                "GSI1PK = :partition, GSI1SK = :until",
                ExpressionAttributeValues={
                    ":one": {"N": "1"},
                    ":at": {"S": iso(at)},
                    ":client": {"S": client_id},
                    ":partition": {"S": SWEEP_PARTITION},
                    ":until": {"S": f"{iso(sweep_until)}#{client_id}"},
                },
            )

    def changed_recently(self, now: datetime) -> list[str]:
        request: dict[str, Any] = {
            "TableName": self._table,
            "IndexName": "GSI1",
            "KeyConditionExpression": "GSI1PK = :p AND GSI1SK >= :now",
            "ExpressionAttributeValues": {":p": {"S": SWEEP_PARTITION}, ":now": {"S": iso(now)}},
        }
        clients: list[str] = []
        while True:
            with dynamodb_errors("clients with new mappings"):
                page = self._db.query(**request)
            clients.extend(from_wire(item)["client_id"] for item in page.get("Items", []))
            if "LastEvaluatedKey" not in page:
                return clients
            request["ExclusiveStartKey"] = page["LastEvaluatedKey"]
