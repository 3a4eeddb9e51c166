"""Courier service mappings and unmapped-term counters in DynamoDB.

Items (all in the client's partition, `PK = CLIENT#<client>`):

- `MAPPING#<id>`: a mapping (`amazon_term` canonical, `courier_service`, `account_id` when scoped,
  `marketplace` = the code the term names, for the list filter). Resolution reads them all with one
  Query on `begins_with(SK, "MAPPING#")`.
- `MAPPINGTERM#<scope>#<term>`: the uniqueness guard of a term within its scope (`*` client-wide,
  else the account id), holding `mapping_id`. Written, moved and removed in the same transaction as
  the mapping, conditionally, so two concurrent creates of one term cannot both succeed.
- `UNMAPPED#<marketplace>#<term>`: one counter per term that held orders wait on, with
  `orders_on_hold` and `last_seen_at` (ISO-8601 UTC, milliseconds, so strings compare in time order).
  `GET /courier-mappings/unmapped` is one Query on `begins_with(SK, "UNMAPPED#[<marketplace>#]")`.
- `UNMAPPEDORDER#<amazon order id>`: the order importer's per-order marker (`marketplace`, `term`),
  which makes `record_unmapped`/`clear_unmapped` idempotent: a counter only moves in the same
  transaction as its order's marker appears, changes term or disappears. A marker item per order,
  rather than a set of order ids on the counter, keeps the counter small however many orders wait
  on one term (an item is at most 400 KB).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Final

from botocore.exceptions import ClientError

from oms_amazon.adapters.accounts import account_sk, client_pk
from oms_amazon.adapters.dynamodb import (
    cancellation_codes,
    dynamodb_errors,
    error_code,
    iso,
    parse_iso,
)
from oms_amazon.adapters.items import from_wire, key, prefix_query, query_page, to_wire
from oms_amazon.domain.courier_mappings import CourierServiceMapping, UnmappedTerm
from oms_amazon.domain.errors import Conflict, DependencyUnavailable, NotFound
from oms_amazon.ports import MappingFilter, Page

MAPPING_PREFIX: Final = "MAPPING#"
UNMAPPED_PREFIX: Final = "UNMAPPED#"
CLIENT_WIDE_SCOPE: Final = "*"
CONDITION_FAILED: Final = "ConditionalCheckFailed"
# Counter updates race only with other orders of the same client and term; a few retries settle them.
MAX_COUNTER_ATTEMPTS: Final = 5


def mapping_sk(mapping_id: str) -> str:
    return f"{MAPPING_PREFIX}{mapping_id}"


def mapping_term_sk(account_id: str | None, term: str) -> str:
    return f"MAPPINGTERM#{account_id or CLIENT_WIDE_SCOPE}#{term}"


def unmapped_sk(marketplace: str, term: str) -> str:
    return f"{UNMAPPED_PREFIX}{marketplace}#{term}"


def unmapped_order_sk(order_id: str) -> str:
    return f"UNMAPPEDORDER#{order_id}"


def mapping_to_item(mapping: CourierServiceMapping) -> dict[str, Any]:
    return {
        "PK": client_pk(mapping.client_id),
        "SK": mapping_sk(mapping.id),
        "entity": "courier_mapping",
        "id": mapping.id,
        "client_id": mapping.client_id,
        "amazon_term": mapping.amazon_term,
        "courier_service": mapping.courier_service,
        "account_id": mapping.account_id,
        "marketplace": mapping.marketplace,
        "created_at": iso(mapping.created_at),
        "updated_at": iso(mapping.updated_at),
        "version": mapping.version,
    }


def mapping_from_item(item: dict[str, Any]) -> CourierServiceMapping:
    return CourierServiceMapping(
        id=item["id"],
        client_id=item["client_id"],
        amazon_term=item["amazon_term"],
        courier_service=item["courier_service"],
        account_id=item.get("account_id"),
        created_at=parse_iso(item["created_at"]),
        updated_at=parse_iso(item["updated_at"]),
        version=int(item["version"]),
    )


def guard_item(mapping: CourierServiceMapping) -> dict[str, Any]:
    return {
        "PK": client_pk(mapping.client_id),
        "SK": mapping_term_sk(mapping.account_id, mapping.amazon_term),
        "entity": "courier_mapping_key",
        "mapping_id": mapping.id,
    }


def unmapped_from_item(item: dict[str, Any]) -> UnmappedTerm:
    return UnmappedTerm(
        marketplace=item["marketplace"],
        term=item["term"],
        orders_on_hold=int(item["orders_on_hold"]),
        last_seen_at=parse_iso(item["last_seen_at"]),
    )


class DynamoCourierMappingRepository:
    def __init__(self, client: Any, table_name: str) -> None:
        self._db = client
        self._table = table_name

    def get(self, client_id: str, mapping_id: str) -> CourierServiceMapping | None:
        with dynamodb_errors("get courier mapping"):
            response = self._db.get_item(
                TableName=self._table, Key=key(client_pk(client_id), mapping_sk(mapping_id)), ConsistentRead=True
            )
        item = response.get("Item")
        return mapping_from_item(from_wire(item)) if item else None

    def page(
        self, client_id: str, where: MappingFilter, *, limit: int, next_token: str | None
    ) -> Page[CourierServiceMapping]:
        partition = client_pk(client_id)
        values: dict[str, Any] = {":pk": {"S": partition}, ":prefix": {"S": MAPPING_PREFIX}}
        request: dict[str, Any] = {
            "TableName": self._table,
            "KeyConditionExpression": "PK = :pk AND begins_with(SK, :prefix)",
            "ExpressionAttributeValues": values,
            "Limit": limit,
        }
        filters, names = [], {}
        for field, value in (("account_id", where.account_id), ("marketplace", where.marketplace)):
            if value is not None:
                filters.append(f"#{field} = :{field}")
                names[f"#{field}"] = field
                values[f":{field}"] = {"S": value}
        if filters:
            request["FilterExpression"] = " AND ".join(filters)
            request["ExpressionAttributeNames"] = names
        items, token = query_page(
            self._db,
            request,
            partition=partition,
            sk_prefix=MAPPING_PREFIX,
            next_token=next_token,
            operation="list courier mappings",
        )
        return Page(items=[mapping_from_item(item) for item in items], next_token=token)

    def all_of_client(self, client_id: str) -> list[CourierServiceMapping]:
        request: dict[str, Any] = {
            "TableName": self._table,
            "KeyConditionExpression": "PK = :pk AND begins_with(SK, :prefix)",
            "ExpressionAttributeValues": {":pk": {"S": client_pk(client_id)}, ":prefix": {"S": MAPPING_PREFIX}},
        }
        mappings: list[CourierServiceMapping] = []
        while True:
            with dynamodb_errors("read courier mappings"):
                response = self._db.query(**request)
            mappings.extend(mapping_from_item(from_wire(item)) for item in response.get("Items", []))
            last = response.get("LastEvaluatedKey")
            if not last:
                return mappings
            request["ExclusiveStartKey"] = last

    def create(self, mapping: CourierServiceMapping) -> None:
        items = [self._put_new(mapping_to_item(mapping)), self._put_new(guard_item(mapping))]
        if mapping.account_id is not None:
            items.append(self._account_exists(mapping.client_id, mapping.account_id))
        codes = self._transact(items, "create courier mapping")
        if not codes:
            return
        if codes[1] == CONDITION_FAILED:
            raise _mapping_exists(mapping)
        if len(codes) > 2 and codes[2] == CONDITION_FAILED:
            raise _account_not_found(mapping)
        raise Conflict("A courier mapping with this id already exists; retry.", code="mapping_id_taken")

    def replace(self, mapping: CourierServiceMapping, *, previous: CourierServiceMapping) -> None:
        items = [
            {
                "Put": {
                    "TableName": self._table,
                    "Item": to_wire(mapping_to_item(mapping)),
                    "ConditionExpression": "attribute_exists(PK) AND version = :expected",
                    "ExpressionAttributeValues": {":expected": {"N": str(previous.version)}},
                }
            }
        ]
        guard_at: int | None = None
        if mapping.scope != previous.scope:
            items.append(self._delete_guard(previous))
            guard_at = len(items)
            items.append(self._put_new(guard_item(mapping)))
        account_at: int | None = None
        if mapping.account_id is not None:
            account_at = len(items)
            items.append(self._account_exists(mapping.client_id, mapping.account_id))
        codes = self._transact(items, "replace courier mapping")
        if not codes:
            return
        if codes[0] == CONDITION_FAILED:
            raise Conflict(
                "The courier mapping changed while this request was applied; read it again and retry.",
                code="version_conflict",
            )
        if account_at is not None and codes[account_at] == CONDITION_FAILED:
            raise _account_not_found(mapping)
        if guard_at is not None and codes[guard_at] == CONDITION_FAILED:
            raise _mapping_exists(mapping)
        raise Conflict("The courier mapping's term key is held by another mapping.", code="version_conflict")

    def delete(self, mapping: CourierServiceMapping) -> None:
        # Conditional on the version read, so the guard deleted is the one that mapping version holds.
        items = [
            {
                "Delete": {
                    "TableName": self._table,
                    "Key": key(client_pk(mapping.client_id), mapping_sk(mapping.id)),
                    "ConditionExpression": "version = :expected",
                    "ExpressionAttributeValues": {":expected": {"N": str(mapping.version)}},
                }
            },
            self._delete_guard(mapping),
        ]
        if self._transact(items, "delete courier mapping"):
            if self.get(mapping.client_id, mapping.id) is None:
                raise NotFound(f"No courier mapping {mapping.id}.", code="mapping_not_found")
            raise Conflict(
                "The courier mapping changed while it was being deleted; read it again and retry.",
                code="version_conflict",
            )

    def _transact(self, items: list[dict[str, Any]], operation: str) -> list[str]:
        """Run a transaction; the per-item cancellation codes when a condition failed, else []."""
        try:
            with dynamodb_errors(operation):
                self._db.transact_write_items(TransactItems=items)
        except ClientError as error:
            if error_code(error) != "TransactionCanceledException":
                raise
            codes = cancellation_codes(error)
            if CONDITION_FAILED not in codes:
                raise DependencyUnavailable(
                    f"The data store refused the write ({operation}); retry shortly."
                ) from error
            return codes + ["None"] * (len(items) - len(codes))
        return []

    def _put_new(self, item: dict[str, Any]) -> dict[str, Any]:
        return {
            "Put": {"TableName": self._table, "Item": to_wire(item), "ConditionExpression": "attribute_not_exists(PK)"}
        }

    def _delete_guard(self, mapping: CourierServiceMapping) -> dict[str, Any]:
        return {
            "Delete": {
                "TableName": self._table,
                "Key": key(client_pk(mapping.client_id), mapping_term_sk(mapping.account_id, mapping.amazon_term)),
                "ConditionExpression": "attribute_not_exists(PK) OR mapping_id = :id",
                "ExpressionAttributeValues": {":id": {"S": mapping.id}},
            }
        }

    def _account_exists(self, client_id: str, account_id: str) -> dict[str, Any]:
        """The scoped account must still exist when the mapping is written (it may be deleted meanwhile)."""
        return {
            "ConditionCheck": {
                "TableName": self._table,
                "Key": key(client_pk(client_id), account_sk(account_id)),
                "ConditionExpression": "attribute_exists(PK)",
            }
        }


def _mapping_exists(mapping: CourierServiceMapping) -> Conflict:
    scope = f"account {mapping.account_id}" if mapping.account_id else "this client (client-wide)"
    return Conflict(
        f"A courier mapping for {mapping.amazon_term!r} already exists for {scope}; change that mapping instead.",
        code="mapping_exists",
        details=[{"field": "amazon_term", "reason": "already mapped in this scope", "term": mapping.amazon_term}],
    )


def _account_not_found(mapping: CourierServiceMapping) -> NotFound:
    return NotFound(f"No account {mapping.account_id}.", code="account_not_found")


class DynamoUnmappedTermRepository:
    def __init__(self, client: Any, table_name: str) -> None:
        self._db = client
        self._table = table_name

    def page(
        self, client_id: str, *, marketplace: str | None, limit: int, next_token: str | None
    ) -> Page[UnmappedTerm]:
        partition = client_pk(client_id)
        prefix = f"{UNMAPPED_PREFIX}{marketplace}#" if marketplace else UNMAPPED_PREFIX
        items, token = query_page(
            self._db,
            prefix_query(self._table, partition, prefix, Limit=limit),
            partition=partition,
            sk_prefix=prefix,
            next_token=next_token,
            operation="list unmapped terms",
        )
        return Page(items=[unmapped_from_item(item) for item in items], next_token=token)

    def record_unmapped(self, client_id: str, marketplace: str, term: str, order_id: str, seen_at: datetime) -> bool:
        seen = iso(seen_at)
        for _ in range(MAX_COUNTER_ATTEMPTS):
            marker = self._marker(client_id, order_id)
            if marker is not None and (marker["marketplace"], marker["term"]) == (marketplace, term):
                self._advance_last_seen(client_id, marketplace, term, seen)
                return False
            items = [
                self._put_marker(client_id, marketplace, term, order_id, seen, previous=marker),
                self._count(client_id, marketplace, term, seen),
            ]
            if marker is not None:
                items.append(self._uncount(client_id, marker))
            if self._transact(items, "record unmapped term"):
                self._advance_last_seen(client_id, marketplace, term, seen)
                return True
        raise DependencyUnavailable("The unmapped-term counters are busy; retry shortly.")

    def clear_unmapped(self, client_id: str, order_id: str) -> bool:
        for _ in range(MAX_COUNTER_ATTEMPTS):
            marker = self._marker(client_id, order_id)
            if marker is None:
                return False
            items = [
                {
                    "Delete": {
                        "TableName": self._table,
                        "Key": key(client_pk(client_id), unmapped_order_sk(order_id)),
                        **_marker_unchanged(marker),
                    }
                },
                self._uncount(client_id, marker),
            ]
            if self._transact(items, "clear unmapped term"):
                return True
        raise DependencyUnavailable("The unmapped-term counters are busy; retry shortly.")

    def _marker(self, client_id: str, order_id: str) -> dict[str, Any] | None:
        with dynamodb_errors("read unmapped order"):
            response = self._db.get_item(
                TableName=self._table, Key=key(client_pk(client_id), unmapped_order_sk(order_id)), ConsistentRead=True
            )
        item = response.get("Item")
        return from_wire(item) if item else None

    def _counter(self, client_id: str, marketplace: str, term: str) -> int:
        with dynamodb_errors("read unmapped term"):
            response = self._db.get_item(
                TableName=self._table,
                Key=key(client_pk(client_id), unmapped_sk(marketplace, term)),
                ConsistentRead=True,
                ProjectionExpression="orders_on_hold",
            )
        return int(from_wire(response.get("Item") or {}).get("orders_on_hold", 0))

    def _put_marker(
        self, client_id: str, marketplace: str, term: str, order_id: str, seen: str, *, previous: dict[str, Any] | None
    ) -> dict[str, Any]:
        item = {
            "PK": client_pk(client_id),
            "SK": unmapped_order_sk(order_id),
            "entity": "unmapped_order",
            "order_id": order_id,
            "marketplace": marketplace,
            "term": term,
            "seen_at": seen,
        }
        condition = (
            {"ConditionExpression": "attribute_not_exists(PK)"} if previous is None else _marker_unchanged(previous)
        )
        return {"Put": {"TableName": self._table, "Item": to_wire(item), **condition}}

    def _count(self, client_id: str, marketplace: str, term: str, seen: str) -> dict[str, Any]:
        return {
            "Update": {
                "TableName": self._table,
                "Key": key(client_pk(client_id), unmapped_sk(marketplace, term)),
                "UpdateExpression": "SET #entity = :entity, #marketplace = :marketplace, #term = :term, "
                "#last = if_not_exists(#last, :seen) ADD #count :one",
                "ExpressionAttributeNames": {
                    "#entity": "entity",
                    "#marketplace": "marketplace",
                    "#term": "term",
                    "#last": "last_seen_at",
                    "#count": "orders_on_hold",
                },
                "ExpressionAttributeValues": {
                    ":entity": {"S": "unmapped_term"},
                    ":marketplace": {"S": marketplace},
                    ":term": {"S": term},
                    ":seen": {"S": seen},
                    ":one": {"N": "1"},
                },
            }
        }

    def _uncount(self, client_id: str, marker: dict[str, Any]) -> dict[str, Any]:
        """Take one order off its term's counter, removing the counter with its last order.

        Which of the two writes applies is decided on a fresh read and made conditional on it, so a
        concurrent change cancels the transaction and the caller retries.
        """
        counter_key = key(client_pk(client_id), unmapped_sk(marker["marketplace"], marker["term"]))
        count = self._counter(client_id, marker["marketplace"], marker["term"])
        if count <= 1:
            return {
                "Delete": {
                    "TableName": self._table,
                    "Key": counter_key,
                    "ConditionExpression": "attribute_not_exists(PK) OR orders_on_hold <= :one",
                    "ExpressionAttributeValues": {":one": {"N": "1"}},
                }
            }
        return {
            "Update": {
                "TableName": self._table,
                "Key": counter_key,
                "UpdateExpression": "ADD orders_on_hold :minus_one",
                "ConditionExpression": "orders_on_hold > :one",
                "ExpressionAttributeValues": {":minus_one": {"N": "-1"}, ":one": {"N": "1"}},
            }
        }

    def _advance_last_seen(self, client_id: str, marketplace: str, term: str, seen: str) -> None:
        """`last_seen_at` only moves forward, whatever order the importer sees orders in."""
        try:
            with dynamodb_errors("advance unmapped term"):
                self._db.update_item(
                    TableName=self._table,
                    Key=key(client_pk(client_id), unmapped_sk(marketplace, term)),
                    UpdateExpression="SET last_seen_at = :seen",
                    ConditionExpression="attribute_exists(PK) AND last_seen_at < :seen",
                    ExpressionAttributeValues={":seen": {"S": seen}},
                )
        except ClientError as error:
            if error_code(error) != "ConditionalCheckFailedException":
                raise

    def _transact(self, items: list[dict[str, Any]], operation: str) -> bool:
        """True when the transaction applied; False when a condition failed (read again and retry)."""
        try:
            with dynamodb_errors(operation):
                self._db.transact_write_items(TransactItems=items)
        except ClientError as error:
            if error_code(error) != "TransactionCanceledException":
                raise
            if CONDITION_FAILED not in cancellation_codes(error):
                raise DependencyUnavailable(
                    f"The data store refused the write ({operation}); retry shortly."
                ) from error
            return False
        return True


def _marker_unchanged(marker: dict[str, Any]) -> dict[str, Any]:
    return {
        "ConditionExpression": "#marketplace = :old_marketplace AND #term = :old_term",
        "ExpressionAttributeNames": {"#marketplace": "marketplace", "#term": "term"},
        "ExpressionAttributeValues": {
            ":old_marketplace": {"S": marker["marketplace"]},
            ":old_term": {"S": marker["term"]},
        },
    }


def _refused(operation: str) -> DependencyUnavailable:
    """A transaction cancelled for another reason than a condition (e.g. a concurrent transaction)."""
    return DependencyUnavailable(f"The data store refused the write ({operation}); retry shortly.")
