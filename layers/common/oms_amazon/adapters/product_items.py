"""Product items in DynamoDB: their layout, their index keys, and the transactions that write them.

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

A batch (`product_batches`) stages a product's new state on its item before one write makes it visible;
the repository (`products`) reads and writes through both.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Final, Literal

from oms_amazon.adapters.dynamodb import iso, parse_iso
from oms_amazon.adapters.items import key, to_wire
from oms_amazon.domain.products import CatalogueProduct, ProductChange
from oms_amazon.sku import caseless_key
from oms_amazon.stock import Component

PRODUCT_PREFIX: Final = "PRODUCT#"
# DynamoDB's limit of actions per TransactWriteItems.
MAX_TRANSACTION_ACTIONS: Final = 100
# The indexes products are found by (see the module's docstring), and the item saying that every product
# of a client carries its folded-SKU key.
CHANGES_INDEX: Final = "GSI1"
SKU_FOLD_INDEX: Final = "GSI3"
INDEXES_SK: Final = "PRODUCT_INDEXES"
INDEX_ATTRIBUTES: Final = ("GSI1PK", "GSI1SK", "GSI3PK")
# A batch's marker on the items it staged, the state it staged, and the commit number an item was last
# rolled forward at (`product_batches`).
STAGED_BY: Final = "staged_by"
STAGED: Final = "staged"
WRITTEN_SEQ: Final = "written_seq"


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
        **product_content(product),
        **index_keys(product),
    }
    if product.used_in_bundles:
        item["used_by"] = set(product.used_in_bundles)
    return item


def product_content(product: CatalogueProduct) -> dict[str, Any]:
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
class Transaction:
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


def pack_transactions(changes: Sequence[ProductChange]) -> list[Transaction]:
    """Consecutive changes, in order, in as few transactions as the rules allow. Order is kept (a
    change never moves ahead of an earlier one), which is what lets the caller put simple products
    before the bundles that use them."""
    packed: list[Transaction] = []
    for change in changes:
        if not packed or not packed[-1].admits(change):
            packed.append(Transaction())
        if not packed[-1].admits(change):
            raise ValueError(f"a change of {len(_touched(change))} items does not fit one transaction")
        packed[-1].add(change)
    return packed


def transaction_actions(table: str, client_id: str, transaction: Transaction) -> list[dict[str, Any]]:
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
                    "ExpressionAttributeNames": {"#staged_by": STAGED_BY},
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
                    "ExpressionAttributeNames": {"#staged_by": STAGED_BY},
                    "ExpressionAttributeValues": {":bundles": {"SS": sorted(bundles)}},
                }
            }
        )
    return actions


def _write_action(table: str, change: ProductChange) -> dict[str, Any]:
    product = change.product
    content = {**product_content(product), **index_keys(product)}
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
    names["#staged_by"] = STAGED_BY
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
