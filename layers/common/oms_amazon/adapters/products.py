"""Products in DynamoDB.

Items (in the client's partition, so a client's catalogue is one Query and never a Scan):
- `CLIENT#<client>` / `PRODUCT#<sku>`: the product. The SKU is kept exactly (case included); a
  200-character SKU is at most 808 bytes of sort key, under DynamoDB's 1,024.
  Attributes: `sku`, `name` (absent when none), `quantity_available` (simple products only),
  `components` (bundles only: `[{sku, quantity}]`), `used_by` (a string set of the bundles that use
  this product; absent when none), `created_at`, `updated_at`, `version`.

`used_by` is what makes "which bundles use this SKU?" a key lookup. It is maintained only by bundle
writes, in the same transaction as the bundle, with conditions that also guard races:
- a component gaining a bundle (`ADD used_by`) must still exist and still be simple;
- a product written as a bundle must be used by no bundle (`attribute_not_exists(used_by)`);
- a product is deleted only while no bundle uses it.
Product writes are `UpdateItem`s that never name `used_by`, so replacing a product never clobbers it,
and each is conditional on the version it was planned against (or on not existing yet).
"""

from __future__ import annotations

import time
from collections.abc import Collection, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any, Final, Literal

from botocore.exceptions import ClientError

from oms_amazon.adapters.dynamodb import (
    cancellation_codes,
    decode_page_token,
    dynamodb_errors,
    encode_page_token,
    error_code,
    iso,
    parse_iso,
)
from oms_amazon.adapters.items import from_wire, key, to_wire
from oms_amazon.domain.errors import DependencyUnavailable
from oms_amazon.domain.products import CatalogueChanged, CatalogueProduct, ProductChange
from oms_amazon.ports import Page
from oms_amazon.stock import Component

PRODUCT_PREFIX: Final = "PRODUCT#"
# DynamoDB's limits: actions per TransactWriteItems, keys per BatchGetItem.
MAX_TRANSACTION_ACTIONS: Final = 100
MAX_BATCH_GET_KEYS: Final = 100
# BatchGetItem may leave keys unprocessed under load; they are asked again, backing off, this often.
_BATCH_GET_RETRIES: Final = 8
# Cancellation reasons that mean "someone else changed it first": re-plan, don't fail.
_RACE_REASONS: Final = frozenset({"ConditionalCheckFailed", "TransactionConflict"})
_BUSY_REASONS: Final = frozenset({"ProvisionedThroughputExceeded", "ThrottlingError", "RequestLimitExceeded"})


def client_pk(client_id: str) -> str:
    return f"CLIENT#{client_id}"


def product_sk(sku: str) -> str:
    return f"{PRODUCT_PREFIX}{sku}"


def product_to_item(product: CatalogueProduct) -> dict[str, Any]:
    """The whole item of a product (as loaded in bulk; the repository itself writes with updates)."""
    item: dict[str, Any] = {
        "PK": client_pk(product.client_id),
        "SK": product_sk(product.sku),
        **_content(product),
    }
    if product.used_in_bundles:
        item["used_by"] = set(product.used_in_bundles)
    return item


def _content(product: CatalogueProduct) -> dict[str, Any]:
    """Every attribute a product write sets; None means the attribute is removed."""
    return {
        "entity": "product",
        "client_id": product.client_id,
        "sku": product.sku,
        "name": product.name,
        "quantity_available": None if product.is_bundle else product.quantity_available,
        "components": [{"sku": c.sku, "quantity": c.quantity} for c in product.components] or None,
        "created_at": iso(product.created_at),
        "updated_at": iso(product.updated_at),
        "version": product.version,
    }


def product_from_item(item: dict[str, Any]) -> CatalogueProduct:
    return CatalogueProduct(
        client_id=item["client_id"],
        sku=item["sku"],
        name=item.get("name"),
        quantity_available=int(item.get("quantity_available", 0)),
        components=tuple(Component(c["sku"], int(c["quantity"])) for c in item.get("components") or ()),
        used_in_bundles=frozenset(item.get("used_by") or ()),
        created_at=parse_iso(item["created_at"]),
        updated_at=parse_iso(item["updated_at"]),
        version=int(item["version"]),
    )


# --- transactions (pure request builders) -----------------------------------------------------------

_Kind = Literal["write", "join", "leave"]


@dataclass
class _Transaction:
    """Whole product changes packed into one TransactWriteItems call.

    DynamoDB allows one action per item in a transaction, and an update cannot both ADD to and
    DELETE from `used_by`. So components that several bundles of the transaction join are one ADD of
    all of them (likewise for leaving), and a change is put in the next transaction when it would
    touch an item already touched here in another way.
    """

    changes: list[ProductChange] = field(default_factory=list)
    kinds: dict[str, _Kind] = field(default_factory=dict)
    joins: dict[str, list[str]] = field(default_factory=dict)
    leaves: dict[str, list[str]] = field(default_factory=dict)

    def admits(self, change: ProductChange) -> bool:
        touched = _touched(change)
        if any(sku in self.kinds and (kind == "write" or self.kinds[sku] != kind) for sku, kind in touched.items()):
            return False
        return len(self.kinds.keys() | touched.keys()) <= MAX_TRANSACTION_ACTIONS

    def add(self, change: ProductChange) -> None:
        self.changes.append(change)
        for sku, kind in _touched(change).items():
            self.kinds[sku] = kind
        for component in change.joins:
            self.joins.setdefault(component, []).append(change.product.sku)
        for component in change.leaves:
            self.leaves.setdefault(component, []).append(change.product.sku)


def _touched(change: ProductChange) -> dict[str, _Kind]:
    touched: dict[str, _Kind] = {change.product.sku: "write"}
    touched.update(dict.fromkeys(change.joins, "join"))
    touched.update(dict.fromkeys(change.leaves, "leave"))
    return touched


def pack_transactions(changes: Sequence[ProductChange]) -> list[_Transaction]:
    """Consecutive changes, in order, in as few transactions as the rules allow. Order is kept (a
    change never moves ahead of an earlier one), which is what lets the caller put simple products
    before the bundles that use them."""
    packed: list[_Transaction] = []
    for change in changes:
        if not packed or not packed[-1].admits(change):
            packed.append(_Transaction())
        if not packed[-1].admits(change):
            raise ValueError(f"a change of {len(_touched(change))} items does not fit one transaction")
        packed[-1].add(change)
    return packed


def transaction_actions(table: str, client_id: str, transaction: _Transaction) -> list[dict[str, Any]]:
    actions = [_write_action(table, change) for change in transaction.changes]
    pk = client_pk(client_id)
    for component, bundles in transaction.joins.items():
        actions.append(
            {
                "Update": {
                    "TableName": table,
                    "Key": key(pk, product_sk(component)),
                    "UpdateExpression": "ADD used_by :bundles",
                    # The component still exists and is still a simple product.
                    "ConditionExpression": "attribute_exists(PK) AND attribute_not_exists(components)",
                    "ExpressionAttributeValues": {":bundles": {"SS": sorted(bundles)}},
                }
            }
        )
    for component, bundles in transaction.leaves.items():
        actions.append(
            {
                "Update": {
                    "TableName": table,
                    "Key": key(pk, product_sk(component)),
                    "UpdateExpression": "DELETE used_by :bundles",
                    # Without it, an update of a missing item would create a key-only item.
                    "ConditionExpression": "attribute_exists(PK)",
                    "ExpressionAttributeValues": {":bundles": {"SS": sorted(bundles)}},
                }
            }
        )
    return actions


def _write_action(table: str, change: ProductChange) -> dict[str, Any]:
    product = change.product
    content = _content(product)
    names = {f"#{name}": name for name in content}
    values = to_wire({f":{name}": value for name, value in content.items()})
    sets = [f"#{name} = :{name}" for name, value in content.items() if value is not None]
    removes = [f"#{name}" for name, value in content.items() if value is None]
    expression = "SET " + ", ".join(sets) + (" REMOVE " + ", ".join(removes) if removes else "")
    if change.expected_version is None:
        condition = "attribute_not_exists(PK)"
    else:
        condition = "#version = :expected"
        values[":expected"] = {"N": str(change.expected_version)}
    if product.is_bundle:
        # Bundles do not nest: a product some bundle uses cannot become one.
        condition += " AND attribute_not_exists(used_by)"
    return {
        "Update": {
            "TableName": table,
            "Key": key(client_pk(product.client_id), product_sk(product.sku)),
            "UpdateExpression": expression,
            "ConditionExpression": condition,
            "ExpressionAttributeNames": names,
            "ExpressionAttributeValues": values,
        }
    }


# --- the repository ----------------------------------------------------------------------------------


class DynamoProductRepository:
    def __init__(self, client: Any, table_name: str) -> None:
        self._db = client
        self._table = table_name

    def get(self, client_id: str, sku: str) -> CatalogueProduct | None:
        with dynamodb_errors("get product"):
            response = self._db.get_item(
                TableName=self._table, Key=key(client_pk(client_id), product_sk(sku)), ConsistentRead=True
            )
        item = response.get("Item")
        return product_from_item(from_wire(item)) if item else None

    def get_many(self, client_id: str, skus: Collection[str]) -> dict[str, CatalogueProduct]:
        pk = client_pk(client_id)
        keys = [key(pk, product_sk(sku)) for sku in sorted(set(skus))]
        found: dict[str, CatalogueProduct] = {}
        for start in range(0, len(keys), MAX_BATCH_GET_KEYS):
            for item in self._batch_get(keys[start : start + MAX_BATCH_GET_KEYS]):
                product = product_from_item(from_wire(item))
                found[product.sku] = product
        return found

    def _batch_get(self, keys: list[dict[str, Any]]) -> list[dict[str, Any]]:
        items: list[dict[str, Any]] = []
        request: dict[str, Any] = {self._table: {"Keys": keys, "ConsistentRead": True}}
        for attempt in range(_BATCH_GET_RETRIES):
            with dynamodb_errors("read products"):
                response = self._db.batch_get_item(RequestItems=request)
            items.extend(response.get("Responses", {}).get(self._table, []))
            request = response.get("UnprocessedKeys") or {}
            if not request:
                return items
            time.sleep(min(0.05 * 2**attempt, 1.0))
        raise DependencyUnavailable("The data store is busy (read products); retry shortly.")

    def page(self, client_id: str, *, limit: int, next_token: str | None) -> Page[CatalogueProduct]:
        partition = client_pk(client_id)
        request = self._catalogue_query(partition)
        request["Limit"] = limit
        # Query refuses a start key outside its key condition; a forged cursor must be a 400, not a 500.
        start = decode_page_token(next_token, partition=partition, sk_prefix=PRODUCT_PREFIX)
        if start is not None:
            request["ExclusiveStartKey"] = {k: {"S": v} for k, v in start.items()}
        with dynamodb_errors("list products"):
            response = self._db.query(**request)
        items = [product_from_item(from_wire(item)) for item in response.get("Items", [])]
        last = response.get("LastEvaluatedKey")
        return Page(items=items, next_token=encode_page_token(from_wire(last) if last else None))

    def iter_catalogue(self, client_id: str) -> Iterator[CatalogueProduct]:
        """Every product of the client, in SKU (byte) order: Query pages of up to 1 MB over the client's
        partition, eventually consistent (half the read cost; a sync minutes later reads it again).

        Measured under moto with the items `test_products_repository` loads (about 200 bytes each):
        20,000 products take 5 Query calls; 100,000 take 21 (and nothing else: no Scan, no GetItem).
        """
        request = self._catalogue_query(client_pk(client_id))
        request["ConsistentRead"] = False
        while True:
            with dynamodb_errors("read catalogue"):
                response = self._db.query(**request)
            for item in response.get("Items", []):
                yield product_from_item(from_wire(item))
            last = response.get("LastEvaluatedKey")
            if not last:
                return
            request["ExclusiveStartKey"] = last

    def _catalogue_query(self, partition: str) -> dict[str, Any]:
        return {
            "TableName": self._table,
            "KeyConditionExpression": "PK = :pk AND begins_with(SK, :prefix)",
            "ExpressionAttributeValues": {":pk": {"S": partition}, ":prefix": {"S": PRODUCT_PREFIX}},
        }

    def apply(self, changes: Sequence[ProductChange]) -> None:
        committed = 0
        for transaction in pack_transactions(changes):
            if not transaction.changes:
                continue
            client_id = transaction.changes[0].product.client_id
            self._transact(transaction_actions(self._table, client_id, transaction), "write products", committed)
            committed += len(transaction.changes)

    def delete(self, product: CatalogueProduct) -> None:
        pk = client_pk(product.client_id)
        actions: list[dict[str, Any]] = [
            {
                "Delete": {
                    "TableName": self._table,
                    "Key": key(pk, product_sk(product.sku)),
                    "ConditionExpression": "#version = :expected AND attribute_not_exists(used_by)",
                    "ExpressionAttributeNames": {"#version": "version"},
                    "ExpressionAttributeValues": {":expected": {"N": str(product.version)}},
                }
            }
        ]
        if product.components:
            leaving = _Transaction(leaves={c.sku: [product.sku] for c in product.components})
            actions += transaction_actions(self._table, product.client_id, leaving)
        self._transact(actions, "delete product", 0)

    def _transact(self, actions: list[dict[str, Any]], operation: str, committed: int) -> None:
        try:
            with dynamodb_errors(operation):
                self._db.transact_write_items(TransactItems=actions)
        except ClientError as error:
            if error_code(error) != "TransactionCanceledException":
                raise
            reasons = set(cancellation_codes(error))
            if reasons & _RACE_REASONS:
                raise CatalogueChanged(committed=committed) from error
            if reasons & _BUSY_REASONS:
                raise DependencyUnavailable(f"The data store is busy ({operation}); retry shortly.") from error
            raise
