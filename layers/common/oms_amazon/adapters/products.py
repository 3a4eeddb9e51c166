"""Products in DynamoDB: the repository.

How a product is stored and indexed, and the transactions that write it: `product_items`. How a batch of
products is made visible at once, and how every read here shows each batch whole: `product_batches`.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Collection, Iterator, Sequence
from datetime import datetime
from typing import Any, Final

from botocore.exceptions import ClientError

from oms_amazon.adapters.dynamodb import (
    cancellation_codes,
    decode_page_token,
    dynamodb_errors,
    encode_page_token,
    error_code,
    iso,
)
from oms_amazon.adapters.items import from_wire, key, to_wire
from oms_amazon.adapters.product_batches import BATCH_WORKERS, ProductBatches, for_each, visible_product
from oms_amazon.adapters.product_items import (
    CHANGES_INDEX,
    INDEXES_SK,
    PRODUCT_PREFIX,
    SKU_FOLD_INDEX,
    STAGED_BY,
    Transaction,
    changes_partition,
    client_pk,
    fold_partition,
    pack_transactions,
    product_sk,
    transaction_actions,
)
from oms_amazon.domain.errors import DependencyUnavailable
from oms_amazon.domain.products import CatalogueChanged, CatalogueProduct, ProductChange, StagedProduct
from oms_amazon.observability import logger
from oms_amazon.ports import Page
from oms_amazon.sku import caseless_key

# DynamoDB's limit of keys per BatchGetItem.
MAX_BATCH_GET_KEYS: Final = 100
# BatchGetItem may leave keys unprocessed under load; they are asked again, backing off, this often.
_BATCH_GET_RETRIES: Final = 8
# Cancellation reasons that mean "someone else changed it first": re-plan, don't fail.
_RACE_REASONS: Final = frozenset({"ConditionalCheckFailed", "TransactionConflict"})
_BUSY_REASONS: Final = frozenset({"ProvisionedThroughputExceeded", "ThrottlingError", "RequestLimitExceeded"})
# A read that keeps meeting products of batches committed after it began gives up after this many tries.
_READ_ATTEMPTS: Final = 5


class DynamoProductRepository:
    def __init__(self, client: Any, table_name: str, *, workers: int = BATCH_WORKERS) -> None:
        self._db = client
        self._table = table_name
        self._workers = workers
        self._batches = ProductBatches(client, table_name, workers=workers)
        # Clients whose every product carries its folded-SKU key (once so, always so).
        self._indexed: set[str] = set()

    def get(self, client_id: str, sku: str) -> CatalogueProduct | None:
        view = self._batches.view(client_id)
        with dynamodb_errors("get product"):
            response = self._db.get_item(
                TableName=self._table, Key=key(client_pk(client_id), product_sk(sku)), ConsistentRead=True
            )
        item = response.get("Item")
        return visible_product(from_wire(item), view) if item else None

    def get_many(self, client_id: str, skus: Collection[str]) -> dict[str, CatalogueProduct]:
        def read() -> list[dict[str, Any]]:
            return self._raw_many(client_id, skus)

        return {p.sku: p for p in self._consistent_read(client_id, read)}

    def _consistent_read(self, client_id: str, read: Callable[[], list[dict[str, Any]]]) -> list[CatalogueProduct]:
        """`read`'s items as of one moment of the batch head: read again when it met a product rolled
        forward by a batch that committed after that moment (a commit during the read)."""
        for _ in range(_READ_ATTEMPTS):
            view = self._batches.view(client_id)
            items = read()
            if all(view.is_current(item) for item in items):
                return [product for item in items if (product := visible_product(item, view)) is not None]
        raise DependencyUnavailable("The catalogue kept changing while it was read; retry shortly.")

    def _raw_many(self, client_id: str, skus: Collection[str]) -> list[dict[str, Any]]:
        pk = client_pk(client_id)
        keys = [key(pk, product_sk(sku)) for sku in sorted(set(skus))]
        items: list[dict[str, Any]] = []
        for start in range(0, len(keys), MAX_BATCH_GET_KEYS):
            items += [from_wire(item) for item in self._batch_get(keys[start : start + MAX_BATCH_GET_KEYS])]
        return items

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
        last: dict[str, Any] | None = None

        def read() -> list[dict[str, Any]]:
            nonlocal last
            with dynamodb_errors("list products"):
                response = self._db.query(**request)
            last = response.get("LastEvaluatedKey")
            return [from_wire(item) for item in response.get("Items", [])]

        items = self._consistent_read(client_id, read)
        return Page(items=items, next_token=encode_page_token(from_wire(last) if last else None))

    def iter_catalogue(self, client_id: str, *, index_missing: bool = False) -> Iterator[CatalogueProduct]:
        """Every product of the client, in SKU (byte) order: Query pages of up to 1 MB over the client's
        partition, strongly consistent, all read before the first is yielded (a full stock-sync pass
        holds the whole catalogue anyway), so that the pass shows each batch whole: as of one moment of
        the batch head, read again if a batch committed meanwhile.

        `index_missing`: also give the products stored before the folded-SKU index their key, and once
        all have it, mark the client's catalogue indexed (see `skus_matching`).

        Measured under moto with the items `test_products_repository` loads (about 200 bytes each):
        20,000 products take 5 Query calls; 100,000 take 21 (and one GetItem of the batch head; no Scan).
        """
        raw: list[dict[str, Any]] = []

        def read() -> list[dict[str, Any]]:
            request = self._catalogue_query(client_pk(client_id))
            request["ConsistentRead"] = True
            raw.clear()
            while True:
                with dynamodb_errors("read catalogue"):
                    response = self._db.query(**request)
                raw.extend(from_wire(item) for item in response.get("Items", []))
                last = response.get("LastEvaluatedKey")
                if not last:
                    return raw
                request["ExclusiveStartKey"] = last

        products = self._consistent_read(client_id, read)
        if index_missing:
            self._index_missing(client_id, raw)
        return iter(products)

    def changed_since(self, client_id: str, since: datetime) -> list[CatalogueProduct]:
        """The products whose content changed at or after `since` (by their `updated_at`), from the changes
        index: one Query whose cost grows with the products changed, not the catalogue. The index trails
        the table by about a second, so a caller reads from its previous read less a margin; what it reads
        is shown as of one moment of the batch head, like every read here."""

        def read() -> list[dict[str, Any]]:
            request: dict[str, Any] = {
                "TableName": self._table,
                "IndexName": CHANGES_INDEX,
                "KeyConditionExpression": "GSI1PK = :p AND GSI1SK >= :since",
                "ExpressionAttributeValues": {
                    ":p": {"S": changes_partition(client_id)},
                    ":since": {"S": iso(since)},
                },
            }
            items: list[dict[str, Any]] = []
            while True:
                with dynamodb_errors("read changed products"):
                    response = self._db.query(**request)
                items += [from_wire(item) for item in response.get("Items", [])]
                last = response.get("LastEvaluatedKey")
                if not last:
                    return items
                request["ExclusiveStartKey"] = last

        return self._consistent_read(client_id, read)

    def skus_matching(self, client_id: str, skus: Collection[str]) -> set[str]:
        """The client's SKUs equal to one of `skus`, or equal to one when letter case is ignored (SPEC
        §6.5): a BatchGetItem of `skus` by key, then, for each one that is not a product, a Query of the
        folded-SKU index and a read of what it names by key. A catalogue with products stored before that
        index is read whole once instead, which indexes them."""
        wanted = set(skus)
        found = set(self.get_many(client_id, wanted)) if wanted else set()
        missing = wanted - found
        if not missing:
            return found
        if not self._fold_indexed(client_id):
            from oms_amazon.sku import skus_matching

            return skus_matching((p.sku for p in self.iter_catalogue(client_id, index_missing=True)), wanted)
        candidates: set[str] = set()
        for sku in missing:
            candidates |= self._fold_candidates(client_id, sku)
        folds = {caseless_key(m) for m in missing}
        candidates = {c for c in candidates - found if caseless_key(c) in folds}
        if candidates:
            found |= set(self.get_many(client_id, candidates))  # the index lags: only what exists now
        return found

    def _fold_candidates(self, client_id: str, sku: str) -> set[str]:
        request: dict[str, Any] = {
            "TableName": self._table,
            "IndexName": SKU_FOLD_INDEX,
            "KeyConditionExpression": "GSI3PK = :p",
            "ExpressionAttributeValues": {":p": {"S": fold_partition(client_id, sku)}},
        }
        found: set[str] = set()
        while True:
            with dynamodb_errors("look up SKUs ignoring case"):
                response = self._db.query(**request)
            found |= {item["SK"]["S"][len(PRODUCT_PREFIX) :] for item in response.get("Items", [])}
            last = response.get("LastEvaluatedKey")
            if not last:
                return found
            request["ExclusiveStartKey"] = last

    def _fold_indexed(self, client_id: str) -> bool:
        if client_id in self._indexed:
            return True
        with dynamodb_errors("read product indexes"):
            found = self._db.get_item(TableName=self._table, Key=key(client_pk(client_id), INDEXES_SK)).get("Item")
        if found is not None:
            self._indexed.add(client_id)
        return found is not None

    def _index_missing(self, client_id: str, items: Sequence[dict[str, Any]]) -> None:
        """Give every product item without a folded-SKU key its key (a function of the SKU alone, so any
        writer writes the same), then mark the catalogue indexed. Best effort: a failure leaves the
        lookups reading the whole catalogue until the next pass finishes it."""
        pk = client_pk(client_id)
        lacking = [item["SK"][len(PRODUCT_PREFIX) :] for item in items if "GSI3PK" not in item]

        def index(sku: str) -> None:
            try:
                with dynamodb_errors("index products"):
                    self._db.update_item(
                        TableName=self._table,
                        Key=key(pk, product_sk(sku)),
                        UpdateExpression="SET GSI3PK = :p",
                        # Never bring back as a key-only item a product deleted since the read.
                        ConditionExpression="attribute_exists(PK)",
                        ExpressionAttributeValues={":p": {"S": fold_partition(client_id, sku)}},
                    )
            except ClientError as error:
                if error_code(error) != "ConditionalCheckFailedException":
                    raise

        try:
            for_each(self._workers, index, lacking)
            if client_id not in self._indexed:
                with dynamodb_errors("mark products indexed"):
                    self._db.put_item(
                        TableName=self._table,
                        Item=to_wire({"PK": pk, "SK": INDEXES_SK, "entity": "product_indexes", "sku_fold": True}),
                    )
                self._indexed.add(client_id)
        except Exception:
            logger.warning("products not indexed", extra={"client_id": client_id, "products": len(lacking)})
            return
        if lacking:
            logger.info("products indexed", extra={"client_id": client_id, "products": len(lacking)})

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

    def apply_batch(self, client_id: str, staged: Sequence[StagedProduct], *, now: datetime) -> None:
        """Make every product of `staged` visible at once, or none of them (`ProductBatches.apply`)."""
        self._batches.apply(client_id, staged, now=now)

    def settle(self, client_id: str, skus: Collection[str], *, now: datetime) -> None:
        """Release the products among `skus` that batches hold and no longer need: roll forward those
        of committed batches, clear those of aborted ones, and abort batches pending past their
        expiry. Products of a batch still in progress stay held."""
        # The items are read before the head (see `ProductBatches.settle`).
        self._batches.settle(client_id, self._raw_many(client_id, skus), now=now)

    def delete(self, product: CatalogueProduct) -> None:
        pk = client_pk(product.client_id)
        actions: list[dict[str, Any]] = [
            {
                "Delete": {
                    "TableName": self._table,
                    "Key": key(pk, product_sk(product.sku)),
                    "ConditionExpression": "#version = :expected AND attribute_not_exists(used_by)"
                    " AND attribute_not_exists(#staged_by)",
                    "ExpressionAttributeNames": {"#version": "version", "#staged_by": STAGED_BY},
                    "ExpressionAttributeValues": {":expected": {"N": str(product.version)}},
                }
            }
        ]
        if product.components:
            leaving = Transaction(leaves={c.sku: [product.sku] for c in product.components})
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
