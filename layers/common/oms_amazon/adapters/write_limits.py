"""Each client's write bucket (domain.write_limits) in DynamoDB.

One item per client, in its partition: `CLIENT#<client>` / `RATELIMIT#writes`, holding `tat` (the bucket's
theoretical arrival time, microseconds since the epoch) and `ttl` (Unix seconds, an hour after the bucket is
full again, when the item means no more than its absence; DynamoDB's TTL removes idle buckets).

A charge is one conditional UpdateItem, never a read first. Which of two it is depends on the bucket:

- *idle* (no item, or `tat <= now`): `SET tat = now + cost`, on condition that it still is;
- *drawn on* (`now < tat <= ceiling`): `SET tat = tat + cost`, on condition that it still is.

DynamoDB's expressions have no `max`, so one update cannot serve both. The container guesses from the `tat`
it last saw for the client; a wrong guess fails its condition, and the failure returns the item as it is
(`ReturnValuesOnConditionCheckFailure`), which settles it: over the limit is a refusal with nothing
written, else the other write. So a refused request costs one failed conditional write and an admitted
one a single write, a second only when another container moved the bucket since this one last saw it.
Both conditions hold only for one state of the item, so concurrent charges never admit more than the
bucket holds.
"""

from __future__ import annotations

import math
from typing import Any

from botocore.exceptions import ClientError

from oms_amazon.adapters.accounts import client_pk
from oms_amazon.adapters.dynamodb import dynamodb_errors, error_code
from oms_amazon.domain.errors import DependencyUnavailable
from oms_amazon.domain.write_limits import MICROSECONDS, Charge

KEPT_AFTER_FULL_SECONDS = 3600
# A charge meets a changed bucket at most once per other container's write in between; past this many
# rounds the item is contended beyond anything the API's own throttle lets through.
MAX_ATTEMPTS = 4
# The last `tat` seen per client, only to guess which write to try first; bounded per container.
MAX_REMEMBERED = 10_000


def write_bucket_sk() -> str:
    return "RATELIMIT#writes"


class DynamoWriteBuckets:
    def __init__(self, client: Any, table_name: str) -> None:
        self._db = client
        self._table = table_name
        self._last_seen: dict[str, int] = {}

    def take(self, client_id: str, charge: Charge) -> int | None:
        drawn_on = self._last_seen.get(client_id, 0) > charge.now
        for _ in range(MAX_ATTEMPTS):
            try:
                taken = self._draw(client_id, charge) if drawn_on else self._refill(client_id, charge)
            except _BucketMoved as moved:
                if moved.tat is not None and not charge.admits(moved.tat):
                    self._remember(client_id, moved.tat)
                    return moved.tat
                drawn_on = moved.tat is not None and moved.tat > charge.now
                continue
            self._remember(client_id, taken)
            return None
        raise DependencyUnavailable("The client's write allowance is too contended to check; retry shortly.")

    def _refill(self, client_id: str, charge: Charge) -> int:
        return self._update(
            client_id,
            charge,
            "SET tat = :fresh, #ttl = :ttl",
            "attribute_not_exists(tat) OR tat <= :now",
            {":fresh": charge.now + charge.increment, ":now": charge.now},
        )

    def _draw(self, client_id: str, charge: Charge) -> int:
        return self._update(
            client_id,
            charge,
            "SET tat = tat + :cost, #ttl = :ttl",
            "tat > :now AND tat <= :ceiling",
            {":cost": charge.increment, ":now": charge.now, ":ceiling": charge.ceiling},
        )

    def _update(self, client_id: str, charge: Charge, update: str, condition: str, values: dict[str, int]) -> int:
        expires = math.ceil(charge.full_by / MICROSECONDS) + KEPT_AFTER_FULL_SECONDS
        try:
            with dynamodb_errors("charge write allowance"):
                response = self._db.update_item(
                    TableName=self._table,
                    Key={"PK": {"S": client_pk(client_id)}, "SK": {"S": write_bucket_sk()}},
                    UpdateExpression=update,
                    ConditionExpression=condition,
                    ExpressionAttributeNames={"#ttl": "ttl"},
                    ExpressionAttributeValues={
                        **{name: {"N": str(value)} for name, value in values.items()},
                        ":ttl": {"N": str(expires)},
                    },
                    ReturnValues="UPDATED_NEW",
                    ReturnValuesOnConditionCheckFailure="ALL_OLD",
                )
        except ClientError as error:
            if error_code(error) != "ConditionalCheckFailedException":
                raise
            old = (error.response.get("Item") or {}).get("tat")
            raise _BucketMoved(int(old["N"]) if old else None) from error
        return int(response["Attributes"]["tat"]["N"])

    def _remember(self, client_id: str, tat: int) -> None:
        if len(self._last_seen) >= MAX_REMEMBERED:
            self._last_seen.clear()
        self._last_seen[client_id] = tat


class _BucketMoved(Exception):
    """The bucket was not in the state the write assumed; `tat` is what it is (None: no bucket yet)."""

    def __init__(self, tat: int | None) -> None:
        super().__init__("write bucket moved")
        self.tat = tat
