"""Large values (a listing snapshot, what was last sent for 100k SKUs) kept as gzip-compressed
chunks under a generation: readers follow the generation named by the head item, writers write a
new generation and then move the head with a conditional write, so a reader never sees half of a
write and a writer never overwrites another's."""

from __future__ import annotations

import gzip
import json
import uuid
from typing import Any

from botocore.exceptions import ClientError

from oms_amazon.adapters.dynamodb import batch_write, dynamodb_errors, error_code
from oms_amazon.adapters.items import from_wire, key, to_wire
from oms_amazon.domain.errors import Conflict

CHUNK_BYTES = 350_000  # DynamoDB items stop at 400 KB


class ChunkedBlobs:
    def __init__(self, client: Any, table_name: str) -> None:
        self._db = client
        self._table = table_name

    def read(self, pk: str, head_sk: str) -> tuple[dict[str, Any] | None, Any]:
        """The head item and the decoded value it points to (None when absent)."""
        with dynamodb_errors("read head"):
            response = self._db.get_item(TableName=self._table, Key=key(pk, head_sk), ConsistentRead=True)
        if "Item" not in response:
            return None, None
        head = from_wire(response["Item"])
        generation = head.get("generation")
        if not generation:
            return head, None
        parts: list[bytes] = []
        request: dict[str, Any] = {
            "TableName": self._table,
            "KeyConditionExpression": "PK = :pk AND begins_with(SK, :prefix)",
            "ExpressionAttributeValues": {":pk": {"S": pk}, ":prefix": {"S": f"{head_sk}#GEN#{generation}#"}},
            "ConsistentRead": True,
        }
        while True:
            with dynamodb_errors("read chunks"):
                page = self._db.query(**request)
            parts.extend(item["data"]["B"] for item in page.get("Items", []))
            if "LastEvaluatedKey" not in page:
                break
            request["ExclusiveStartKey"] = page["LastEvaluatedKey"]
        if len(parts) != int(head.get("chunks", 0)):
            raise Conflict("A stored value is incomplete; retry.", code="incomplete_value")
        return head, json.loads(gzip.decompress(b"".join(parts)))

    def write(self, pk: str, head_sk: str, head: dict[str, Any], value: Any, *, expected_revision: int | None) -> int:
        """Store `value` under a new generation and move the head to it; returns the new revision.
        `expected_revision` None means the head must not exist yet."""
        raw = gzip.compress(json.dumps(value, separators=(",", ":")).encode(), compresslevel=6)
        generation = uuid.uuid4().hex[:12]
        chunks = [raw[i : i + CHUNK_BYTES] for i in range(0, len(raw), CHUNK_BYTES)] or [b""]
        for index, data in enumerate(chunks):
            with dynamodb_errors("write chunk"):
                self._db.put_item(
                    TableName=self._table,
                    Item={**key(pk, f"{head_sk}#GEN#{generation}#{index:04d}"), "data": {"B": data}},
                )
        revision = (expected_revision or 0) + 1
        item = {**head, "PK": pk, "SK": head_sk, "generation": generation, "chunks": len(chunks), "revision": revision}
        condition: dict[str, Any] = (
            {"ConditionExpression": "attribute_not_exists(PK)"}
            if expected_revision is None
            else {
                "ConditionExpression": "revision = :expected",
                "ExpressionAttributeValues": {":expected": {"N": str(expected_revision)}},
            }
        )
        try:
            with dynamodb_errors("move head"):
                self._db.put_item(TableName=self._table, Item=to_wire(item), **condition)
        except ClientError as error:
            self._delete_generations(pk, head_sk, keep=None, only=generation)
            if error_code(error) == "ConditionalCheckFailedException":
                raise Conflict("Another worker changed this value meanwhile.", code="concurrent_update") from error
            raise
        self._delete_generations(pk, head_sk, keep=generation)
        return revision

    def update_head(self, pk: str, head_sk: str, changes: dict[str, Any], *, expected_revision: int) -> int:
        """Change head attributes only (the value stays); returns the new revision."""
        names = {f"#a{i}": name for i, name in enumerate(changes)}
        values = {f":v{i}": to_wire({"v": value})["v"] for i, value in enumerate(changes.values()) if value is not None}
        sets = [f"#a{i} = :v{i}" for i, value in enumerate(changes.values()) if value is not None]
        removes = [f"#a{i}" for i, value in enumerate(changes.values()) if value is None]
        expression = "SET revision = :next" + "".join(f", {s}" for s in sets)
        if removes:
            expression += " REMOVE " + ", ".join(removes)
        try:
            with dynamodb_errors("update head"):
                self._db.update_item(
                    TableName=self._table,
                    Key=key(pk, head_sk),
                    UpdateExpression=expression,
                    ConditionExpression="revision = :expected",
                    ExpressionAttributeNames=names or None,
                    ExpressionAttributeValues={
                        **values,
                        ":expected": {"N": str(expected_revision)},
                        ":next": {"N": str(expected_revision + 1)},
                    },
                )
        except ClientError as error:
            if error_code(error) == "ConditionalCheckFailedException":
                raise Conflict("Another worker changed this value meanwhile.", code="concurrent_update") from error
            raise
        return expected_revision + 1

    def _delete_generations(self, pk: str, head_sk: str, *, keep: str | None, only: str | None = None) -> None:
        prefix = f"{head_sk}#GEN#{only}#" if only else f"{head_sk}#GEN#"
        request: dict[str, Any] = {
            "TableName": self._table,
            "KeyConditionExpression": "PK = :pk AND begins_with(SK, :prefix)",
            "ExpressionAttributeValues": {":pk": {"S": pk}, ":prefix": {"S": prefix}},
            "ProjectionExpression": "PK, SK",
        }
        stale: list[dict[str, Any]] = []
        while True:
            with dynamodb_errors("list chunks"):
                page = self._db.query(**request)
            stale.extend(i for i in page.get("Items", []) if keep is None or f"#GEN#{keep}#" not in i["SK"]["S"])
            if "LastEvaluatedKey" not in page:
                break
            request["ExclusiveStartKey"] = page["LastEvaluatedKey"]
        batch_write(self._db, self._table, [{"DeleteRequest": {"Key": item}} for item in stale], "delete chunks")
