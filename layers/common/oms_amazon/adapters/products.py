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

A batch (`apply_batch`, up to 1,000 products and the components they join or leave) is made visible
by one write, not by 1,000:
- `CLIENT#<client>` / `PRODUCT_BATCHES`: the client's batch head. `seq` counts committed batches;
  `batches` maps each unfinished batch to `pending <expires_at>`, its commit number, or `aborted`.
- each product the batch changes is first *staged*: its new state goes in `staged` (`used_by` as the
  bundles it gains and loses) and the batch id in `staged_by`, leaving its visible attributes as
  they were. The staging write is conditional on the version and `used_by` the batch was planned
  against and on no other batch holding the item. A product the batch creates is, until then, an
  item with only `staged`.
- giving the batch the next commit number in the head is the one write that makes it visible; each
  item is then rolled forward (`staged` becomes the item, the marker goes, `written_seq` keeps the
  commit number) and the batch leaves the head — tidying only.
Two indexes find products without reading the catalogue (SPEC §5.4, §6.5); both keys are set by every
write of the product's content and by staging, so a product's index entries move with it:
- `GSI1` (all attributes), `GSI1PK = PRODUCTS#<client>`, `GSI1SK = <updated_at>#<sku>`: the products
  changed since a moment, one Query (`changed_since`). The key is the change's own time, set before
  the change is visible (a batch sets it when staging, up to the API's 29 s before its commit), and the
  index trails the table by about a second: a reader that asks from its previous read less a few minutes
  misses nothing. Joining or leaving a bundle leaves it alone: that changes no quantity.
- `GSI3` (keys only), `GSI3PK = SKUFOLD#<client>#<digest of the case-folded SKU>`: the SKUs that equal
  one ignoring letter case (`skus_matching`). A digest, because a 200-character SKU can fold to three
  times its length, past a partition key's 2,048 bytes; candidates are read back by their own key.
Products stored before these indexes have neither key. Changes need none (a reader with no earlier
read reads the whole catalogue); the folded key is written by a whole read asked to (`index_missing`,
the stock sync's full pass) or by the first SKU lookup that needs it, which then reads the catalogue
once and marks the client's catalogue indexed in `CLIENT#<client>` / `PRODUCT_INDEXES`.

Every read first reads the head, then the products: a product staged by a batch that had not
committed by then reads as it was (or not at all when new), one staged by a batch that had, as
staged; a product rolled forward by a batch that committed after the head was read makes the read
start again. So no read — one product, a page, the whole catalogue — shows part of a batch, whether
it is staging, failed half-way, or being rolled forward. Single writes and deletes are conditional on
`attribute_not_exists(staged_by)`: a staged item is held by its batch until it is rolled forward or
cleared (`settle`, which also aborts a batch left pending past its expiry).
"""

from __future__ import annotations

import hashlib
import threading
import time
import uuid
from collections.abc import Callable, Collection, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timedelta
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
from oms_amazon.domain.products import CatalogueChanged, CatalogueProduct, ProductChange, StagedProduct
from oms_amazon.observability import logger
from oms_amazon.ports import Page
from oms_amazon.sku import caseless_key
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


# The client's batch head: `seq` counts committed batches, `batches` maps each unfinished batch to
# "pending <expires_at>", its commit number, or "aborted".
BATCH_HEAD_SK: Final = "PRODUCT_BATCHES"
# A batch still pending this long after it started was abandoned (the API function stops at 29 s):
# a writer that meets its staged items aborts it and clears them.
BATCH_EXPIRY: Final = timedelta(minutes=5)
# A read that keeps meeting products of batches committed after it began gives up after this many tries.
_READ_ATTEMPTS: Final = 5
# Staging and rolling forward are one conditional UpdateItem per product, this many at a time.
BATCH_WORKERS: Final = 8
# The indexes products are found by (see the module's docstring), and the item saying that every product
# of a client carries its folded-SKU key.
CHANGES_INDEX: Final = "GSI1"
SKU_FOLD_INDEX: Final = "GSI3"
INDEXES_SK: Final = "PRODUCT_INDEXES"
_INDEX_ATTRIBUTES: Final = ("GSI1PK", "GSI1SK", "GSI3PK")
_STAGED_BY: Final = "staged_by"
_STAGED: Final = "staged"
_WRITTEN_SEQ: Final = "written_seq"


def client_pk(client_id: str) -> str:
    return f"CLIENT#{client_id}"


def product_sk(sku: str) -> str:
    return f"{PRODUCT_PREFIX}{sku}"


def changes_partition(client_id: str) -> str:
    return f"PRODUCTS#{client_id}"


def fold_partition(client_id: str, sku: str) -> str:
    digest = hashlib.sha256(caseless_key(sku).encode("utf-8", "surrogatepass")).hexdigest()[:32]
    return f"SKUFOLD#{client_id}#{digest}"


def index_keys(product: CatalogueProduct) -> dict[str, str]:
    """The product's keys in the changes index and the folded-SKU index."""
    return {
        "GSI1PK": changes_partition(product.client_id),
        "GSI1SK": f"{iso(product.updated_at)}#{product.sku}",
        "GSI3PK": fold_partition(product.client_id, product.sku),
    }


def product_to_item(product: CatalogueProduct) -> dict[str, Any]:
    """The whole item of a product (as loaded in bulk; the repository itself writes with updates)."""
    item: dict[str, Any] = {
        "PK": client_pk(product.client_id),
        "SK": product_sk(product.sku),
        **_content(product),
        **index_keys(product),
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


@dataclass(frozen=True)
class BatchHeadView:
    """The batch head as a read found it before reading products: which batches had committed, and the
    commit number they reached. A read shows each batch as of that moment, so never part of one."""

    seq: int
    batches: dict[str, Any]

    def committed(self, batch: str) -> bool:
        status = self.batches.get(batch)
        return isinstance(status, int) and status <= self.seq

    def is_current(self, item: dict[str, Any]) -> bool:
        """False when the item was rolled forward by a batch committed after the view was taken: the
        read must start again to show that batch whole."""
        return int(item.get(_WRITTEN_SEQ, 0)) <= self.seq


def visible_product(item: dict[str, Any], view: BatchHeadView) -> CatalogueProduct | None:
    """What a reader with `view` sees of a product item."""
    batch = item.get(_STAGED_BY)
    if batch is not None and view.committed(batch):
        return staged_product(item)
    if "sku" not in item:
        return None  # only staged, by a batch that had not committed: not a product yet
    return product_from_item(item)


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
                    # The component still exists, is still a simple product and no batch holds it.
                    "ConditionExpression": "attribute_exists(PK) AND attribute_not_exists(components)"
                    " AND attribute_not_exists(#staged_by)",
                    "ExpressionAttributeNames": {"#staged_by": _STAGED_BY},
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
                    "ConditionExpression": "attribute_exists(PK) AND attribute_not_exists(#staged_by)",
                    "ExpressionAttributeNames": {"#staged_by": _STAGED_BY},
                    "ExpressionAttributeValues": {":bundles": {"SS": sorted(bundles)}},
                }
            }
        )
    return actions


def _write_action(table: str, change: ProductChange) -> dict[str, Any]:
    product = change.product
    content = {**_content(product), **index_keys(product)}
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
    condition += " AND attribute_not_exists(#staged_by)"
    names["#staged_by"] = _STAGED_BY
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


# --- batches (pure request builders) ----------------------------------------------------------------


def stage_request(table: str, batch_id: str, staged: StagedProduct) -> dict[str, Any]:
    """Park a product's new state on its item under the batch's marker, if the item is still what the
    batch was planned against and no other batch holds it. Nothing a reader sees changes."""
    product = staged.product
    keys = index_keys(product)
    names = {"#staged_by": _STAGED_BY, "#staged": _STAGED} | {f"#{name}": name for name in keys}
    values: dict[str, Any] = to_wire(
        {":batch": batch_id, ":staged": _staged_state(staged)} | {f":{name}": value for name, value in keys.items()}
    )
    if staged.expected_version is None:
        condition = "attribute_not_exists(PK)"
    else:
        condition = "#version = :expected"
        names["#version"] = "version"
        values[":expected"] = {"N": str(staged.expected_version)}
    if staged.expected_used_in_bundles:
        condition += " AND used_by = :used_by"
        values[":used_by"] = {"SS": sorted(staged.expected_used_in_bundles)}
    else:
        condition += " AND attribute_not_exists(used_by)"
    return {
        "TableName": table,
        "Key": key(client_pk(product.client_id), product_sk(product.sku)),
        # The index keys move now, before the commit makes the change visible: a reader of the changes
        # since its last read then cannot miss a batch that committed after that read.
        "UpdateExpression": "SET #staged_by = :batch, #staged = :staged, "
        + ", ".join(f"#{name} = :{name}" for name in keys),
        "ConditionExpression": condition + " AND attribute_not_exists(#staged_by)",
        "ExpressionAttributeNames": names,
        "ExpressionAttributeValues": values,
    }


def roll_forward_request(table: str, batch_id: str, seq: int, product: CatalogueProduct) -> dict[str, Any]:
    """Make a committed batch's staged state the item itself and drop the marker (only if the marker is
    still this batch's: rolling forward twice is harmless). The batch's commit number stays on the item,
    so that a read that began before the commit knows to read again."""
    content = {
        **_content(product),
        **index_keys(product),
        "used_by": set(product.used_in_bundles) or None,
        _WRITTEN_SEQ: seq,
    }
    names = {f"#{name}": name for name in content} | {"#staged_by": _STAGED_BY, "#staged": _STAGED}
    values = to_wire({f":{name}": value for name, value in content.items()} | {":batch": batch_id})
    sets = [f"#{name} = :{name}" for name, value in content.items() if value is not None]
    removes = [f"#{name}" for name, value in content.items() if value is None] + ["#staged_by", "#staged"]
    return {
        "TableName": table,
        "Key": key(client_pk(product.client_id), product_sk(product.sku)),
        "UpdateExpression": "SET " + ", ".join(sets) + " REMOVE " + ", ".join(removes),
        "ConditionExpression": "#staged_by = :batch",
        "ExpressionAttributeNames": names,
        "ExpressionAttributeValues": values,
    }


def _staged_state(staged: StagedProduct) -> dict[str, Any]:
    """The product's new state, with `used_by` as the bundles it gains and loses: the whole set beside
    the item's own could take it past DynamoDB's 400 KB (the item is held, so its own set stays put)."""
    state = {
        k: v for k, v in product_to_item(staged.product).items() if k not in ("PK", "SK", "used_by", *_INDEX_ATTRIBUTES)
    }
    now_used = staged.product.used_in_bundles
    state["joins"] = sorted(now_used - staged.expected_used_in_bundles)
    state["leaves"] = sorted(staged.expected_used_in_bundles - now_used)
    return {k: v for k, v in state.items() if v is not None}


def staged_product(item: dict[str, Any]) -> CatalogueProduct:
    """The state a batch staged on an item."""
    staged = item[_STAGED]
    used = (set(item.get("used_by") or ()) | set(staged.get("joins") or ())) - set(staged.get("leaves") or ())
    state = {k: v for k, v in staged.items() if k not in ("joins", "leaves")}
    return product_from_item({**state, "used_by": used})


@dataclass
class _Staging:
    """What one batch managed to stage, and the first failure that stopped it."""

    staged: list[StagedProduct] = field(default_factory=list)
    failure: BaseException | None = None
    lock: threading.Lock = field(default_factory=threading.Lock)
    stop: threading.Event = field(default_factory=threading.Event)


# --- the repository ----------------------------------------------------------------------------------


class DynamoProductRepository:
    def __init__(self, client: Any, table_name: str, *, workers: int = BATCH_WORKERS) -> None:
        self._db = client
        self._table = table_name
        self._workers = workers
        # Clients whose every product carries its folded-SKU key (once so, always so).
        self._indexed: set[str] = set()

    def get(self, client_id: str, sku: str) -> CatalogueProduct | None:
        view = self._view(client_id)
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
            view = self._view(client_id)
            items = read()
            if all(view.is_current(item) for item in items):
                return [product for item in items if (product := visible_product(item, view)) is not None]
        raise DependencyUnavailable("The catalogue kept changing while it was read; retry shortly.")

    def _view(self, client_id: str) -> BatchHeadView:
        with dynamodb_errors("read product batches"):
            response = self._db.get_item(
                TableName=self._table, Key=key(client_pk(client_id), BATCH_HEAD_SK), ConsistentRead=True
            )
        head = from_wire(response.get("Item") or {})
        return BatchHeadView(seq=int(head.get("seq", 0)), batches=dict(head.get("batches") or {}))

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
            self._each(index, lacking)
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
        """Make every product of `staged` visible at once, or none of them: enter the batch in the head
        (pending), stage each product, then commit it in the head — the one write readers go by — and
        roll forward. A lost race while staging raises `CatalogueChanged`, any other failure
        propagates; either way the batch is aborted first and what it staged cleared (as far as the
        data store lets us: what an aborted or pending batch staged hides nothing from readers, and the
        next writer that meets it clears it)."""
        if not staged:
            return
        batch_id = uuid.uuid4().hex
        pending = f"pending {iso(now + BATCH_EXPIRY)}"
        self._start(client_id, batch_id, pending)
        staging = self._stage(batch_id, staged)
        if staging.failure is not None:
            self._abandon(client_id, batch_id, pending, staging.staged)
            if _is_condition_failure(staging.failure):
                raise CatalogueChanged() from staging.failure
            raise staging.failure
        try:
            seq = self._finish(client_id, batch_id, pending, commit=True)
        except Exception:
            # The outcome is unknown; aborting settles it (a committed batch refuses the abort).
            if self._finish(client_id, batch_id, pending, commit=False) is not None:
                self._clear(batch_id, staging.staged)
                raise
            seq = self._view(client_id).batches.get(batch_id)
        if not isinstance(seq, int):  # another writer found the batch expired and aborted it
            self._clear(batch_id, staging.staged)
            raise CatalogueChanged()
        if self._roll_forward(batch_id, seq, [s.product for s in staging.staged]):
            self._forget(client_id, batch_id, seq)

    def settle(self, client_id: str, skus: Collection[str], *, now: datetime) -> None:
        """Release the products among `skus` that batches hold and no longer need: roll forward those
        of committed batches, clear those of aborted ones, and abort batches pending past their
        expiry. Products of a batch still in progress stay held."""
        items = [item for item in self._raw_many(client_id, skus) if _STAGED_BY in item]
        # The head is read after the items: every batch whose marker they show entered the head before
        # staging, so one missing from it was forgotten once its markers were gone (ours are stale: skip).
        view = self._view(client_id)
        statuses: dict[str, Any] = {}
        for batch in {item[_STAGED_BY] for item in items}:
            status = view.batches.get(batch)
            if isinstance(status, str) and status.startswith("pending ") and parse_iso(status[8:]) <= now:
                status = "aborted" if self._finish(client_id, batch, status, commit=False) is not None else None
            statuses[batch] = status
        for item in items:
            batch, status = item[_STAGED_BY], statuses[item[_STAGED_BY]]
            sku = item["SK"][len(PRODUCT_PREFIX) :]
            if isinstance(status, int):
                self._roll_forward(batch, status, [staged_product(item)])
            elif status == "aborted":
                self._clear_item(batch, client_id, sku, has_content="sku" in item)

    def _head_request(self, client_id: str, expression: str, values: dict[str, Any], **extra: Any) -> dict[str, Any]:
        names = {"#seq": "seq", "#batches": "batches", **extra.pop("names", {})}
        said = expression + extra.get("ConditionExpression", "")
        return {
            "TableName": self._table,
            "Key": key(client_pk(client_id), BATCH_HEAD_SK),
            "UpdateExpression": expression,
            # DynamoDB refuses a name or value the expressions do not use.
            "ExpressionAttributeNames": {k: v for k, v in names.items() if k in said},
            "ExpressionAttributeValues": to_wire({k: v for k, v in values.items() if k in said}),
            **extra,
        }

    def _start(self, client_id: str, batch_id: str, pending: str) -> None:
        with dynamodb_errors("start product batch"):
            # A map entry can only be set in a map that exists: the first batch of a client makes the head.
            self._db.update_item(
                **self._head_request(
                    client_id,
                    "SET #seq = if_not_exists(#seq, :zero), #batches = if_not_exists(#batches, :none)",
                    {":zero": 0, ":none": {}},
                )
            )
            self._db.update_item(
                **self._head_request(
                    client_id,
                    "SET #batches.#batch = :pending",
                    {":pending": pending},
                    names={"#batch": batch_id},
                    ConditionExpression="attribute_not_exists(#batches.#batch)",
                )
            )

    def _finish(self, client_id: str, batch_id: str, pending: str, *, commit: bool) -> int | str | None:
        """Commit (the next commit number) or abort a batch still `pending`; None when it was not."""
        expression = (
            "SET #seq = #seq + :one, #batches.#batch = #seq + :one" if commit else "SET #batches.#batch = :aborted"
        )
        values = {":pending": pending, ":one": 1} if commit else {":pending": pending, ":aborted": "aborted"}
        try:
            with dynamodb_errors("finish product batch"):
                response = self._db.update_item(
                    **self._head_request(
                        client_id,
                        expression,
                        values,
                        names={"#batch": batch_id},
                        ConditionExpression="#batches.#batch = :pending",
                        ReturnValues="UPDATED_NEW",
                    )
                )
        except ClientError as error:
            if error_code(error) == "ConditionalCheckFailedException":
                return None
            raise
        status = from_wire(response.get("Attributes", {})).get("batches", {}).get(batch_id)
        return status if isinstance(status, int | str) else None

    def _forget(self, client_id: str, batch_id: str, status: int | str) -> None:
        """Drop a finished batch from the head once no product carries its marker (best effort: a
        leftover entry costs a few bytes of the head and nothing else)."""
        try:
            with dynamodb_errors("forget product batch"):
                self._db.update_item(
                    **self._head_request(
                        client_id,
                        "REMOVE #batches.#batch",
                        {":status": status},
                        names={"#batch": batch_id},
                        ConditionExpression="#batches.#batch = :status",
                    )
                )
        except Exception:  # the batch's work is done either way
            logger.warning("product batch not forgotten", extra={"client_id": client_id, "batch_id": batch_id})

    def _stage(self, batch_id: str, staged: Sequence[StagedProduct]) -> _Staging:
        staging = _Staging()

        def stage_one(item: StagedProduct) -> None:
            if staging.stop.is_set():
                return
            try:
                with dynamodb_errors("stage products"):
                    self._db.update_item(**stage_request(self._table, batch_id, item))
            except Exception as error:  # any failure stops the batch; apply_batch re-raises it
                with staging.lock:
                    staging.failure = staging.failure or error
                staging.stop.set()
                return
            with staging.lock:
                staging.staged.append(item)

        self._each(stage_one, staged)
        return staging

    def _abandon(self, client_id: str, batch_id: str, pending: str, staged: Sequence[StagedProduct]) -> None:
        try:
            self._finish(client_id, batch_id, pending, commit=False)
            self._clear(batch_id, staged)
            self._forget(client_id, batch_id, "aborted")
        except Exception:  # the caller reports the first failure; markers left hide nothing
            logger.warning("product batch not cleared", extra={"client_id": client_id, "batch_id": batch_id})

    def _clear(self, batch_id: str, staged: Sequence[StagedProduct]) -> None:
        self._each(
            lambda s: self._clear_item(
                batch_id, s.product.client_id, s.product.sku, has_content=s.expected_version is not None
            ),
            staged,
        )

    def _clear_item(self, batch_id: str, client_id: str, sku: str, *, has_content: bool) -> None:
        request: dict[str, Any] = {
            "TableName": self._table,
            "Key": key(client_pk(client_id), product_sk(sku)),
            "ConditionExpression": "#staged_by = :batch",
            "ExpressionAttributeValues": {":batch": {"S": batch_id}},
        }
        try:
            with dynamodb_errors("clear staged product"):
                if has_content:
                    self._db.update_item(
                        **request,
                        UpdateExpression="REMOVE #staged_by, #staged",
                        ExpressionAttributeNames={"#staged_by": _STAGED_BY, "#staged": _STAGED},
                    )
                else:
                    self._db.delete_item(**request, ExpressionAttributeNames={"#staged_by": _STAGED_BY})
        except ClientError as error:
            if error_code(error) != "ConditionalCheckFailedException":
                raise

    def _roll_forward(self, batch_id: str, seq: int, products: Sequence[CatalogueProduct]) -> bool:
        """After the commit: readers already see the batch, so a failure here only leaves markers for the
        next writer (`settle`) to roll forward. True when every product was rolled forward."""

        def roll(product: CatalogueProduct) -> None:
            try:
                with dynamodb_errors("roll forward products"):
                    self._db.update_item(**roll_forward_request(self._table, batch_id, seq, product))
            except ClientError as error:
                if error_code(error) != "ConditionalCheckFailedException":
                    raise

        try:
            self._each(roll, products)
        except Exception:  # the batch is committed and visible; only the tidying failed
            logger.warning("product batch not rolled forward", extra={"batch_id": batch_id})
            return False
        return True

    def _each[T](self, action: Callable[[T], None], items: Sequence[T]) -> None:
        if self._workers <= 1 or len(items) <= 1:
            for item in items:
                action(item)
            return
        with ThreadPoolExecutor(max_workers=self._workers) as pool:
            for _ in pool.map(action, items):
                pass

    def delete(self, product: CatalogueProduct) -> None:
        pk = client_pk(product.client_id)
        actions: list[dict[str, Any]] = [
            {
                "Delete": {
                    "TableName": self._table,
                    "Key": key(pk, product_sk(product.sku)),
                    "ConditionExpression": "#version = :expected AND attribute_not_exists(used_by)"
                    " AND attribute_not_exists(#staged_by)",
                    "ExpressionAttributeNames": {"#version": "version", "#staged_by": _STAGED_BY},
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


def _is_condition_failure(error: BaseException) -> bool:
    return isinstance(error, ClientError) and error_code(error) == "ConditionalCheckFailedException"
