"""Product batches in DynamoDB: many products made visible by one write.

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

Every read first reads the head, then the products: a product staged by a batch that had not
committed by then reads as it was (or not at all when new), one staged by a batch that had, as
staged; a product rolled forward by a batch that committed after the head was read makes the read
start again. So no read — one product, a page, the whole catalogue — shows part of a batch, whether
it is staging, failed half-way, or being rolled forward. Single writes and deletes are conditional on
`attribute_not_exists(staged_by)`: a staged item is held by its batch until it is rolled forward or
cleared (`settle`, which also aborts a batch left pending past its expiry).
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Final

from botocore.exceptions import ClientError

from oms_amazon.adapters.dynamodb import dynamodb_errors, error_code, iso, parse_iso
from oms_amazon.adapters.items import from_wire, key, to_wire
from oms_amazon.adapters.product_items import (
    INDEX_ATTRIBUTES,
    PRODUCT_PREFIX,
    STAGED,
    STAGED_BY,
    WRITTEN_SEQ,
    client_pk,
    index_keys,
    product_content,
    product_from_item,
    product_sk,
    product_to_item,
)
from oms_amazon.domain.products import CatalogueChanged, CatalogueProduct, StagedProduct
from oms_amazon.observability import logger

# The client's batch head: `seq` counts committed batches, `batches` maps each unfinished batch to
# "pending <expires_at>", its commit number, or "aborted".
BATCH_HEAD_SK: Final = "PRODUCT_BATCHES"
# A batch still pending this long after it started was abandoned (the API function stops at 29 s):
# a writer that meets its staged items aborts it and clears them.
BATCH_EXPIRY: Final = timedelta(minutes=5)
# Staging and rolling forward are one conditional UpdateItem per product, this many at a time.
BATCH_WORKERS: Final = 8


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
        return int(item.get(WRITTEN_SEQ, 0)) <= self.seq


def visible_product(item: dict[str, Any], view: BatchHeadView) -> CatalogueProduct | None:
    """What a reader with `view` sees of a product item."""
    batch = item.get(STAGED_BY)
    if batch is not None and view.committed(batch):
        return staged_product(item)
    if "sku" not in item:
        return None  # only staged, by a batch that had not committed: not a product yet
    return product_from_item(item)


# --- batches (pure request builders) ----------------------------------------------------------------


def stage_request(table: str, batch_id: str, staged: StagedProduct) -> dict[str, Any]:
    """Park a product's new state on its item under the batch's marker, if the item is still what the
    batch was planned against and no other batch holds it. Nothing a reader sees changes."""
    product = staged.product
    keys = index_keys(product)
    names = {"#staged_by": STAGED_BY, "#staged": STAGED} | {f"#{name}": name for name in keys}
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
        **product_content(product),
        **index_keys(product),
        "used_by": set(product.used_in_bundles) or None,
        WRITTEN_SEQ: seq,
    }
    names = {f"#{name}": name for name in content} | {"#staged_by": STAGED_BY, "#staged": STAGED}
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
        k: v for k, v in product_to_item(staged.product).items() if k not in ("PK", "SK", "used_by", *INDEX_ATTRIBUTES)
    }
    now_used = staged.product.used_in_bundles
    state["joins"] = sorted(now_used - staged.expected_used_in_bundles)
    state["leaves"] = sorted(staged.expected_used_in_bundles - now_used)
    return {k: v for k, v in state.items() if v is not None}


def staged_product(item: dict[str, Any]) -> CatalogueProduct:
    """The state a batch staged on an item."""
    staged = item[STAGED]
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


# --- the writer --------------------------------------------------------------------------------------


class ProductBatches:
    """The batch head of each client and the batches written through it, for the product repository."""

    def __init__(self, client: Any, table_name: str, *, workers: int = BATCH_WORKERS) -> None:
        self._db = client
        self._table = table_name
        self._workers = workers

    def view(self, client_id: str) -> BatchHeadView:
        with dynamodb_errors("read product batches"):
            response = self._db.get_item(
                TableName=self._table, Key=key(client_pk(client_id), BATCH_HEAD_SK), ConsistentRead=True
            )
        head = from_wire(response.get("Item") or {})
        return BatchHeadView(seq=int(head.get("seq", 0)), batches=dict(head.get("batches") or {}))

    def apply(self, client_id: str, staged: Sequence[StagedProduct], *, now: datetime) -> None:
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
            seq = self.view(client_id).batches.get(batch_id)
        if not isinstance(seq, int):  # another writer found the batch expired and aborted it
            self._clear(batch_id, staging.staged)
            raise CatalogueChanged()
        if self._roll_forward(batch_id, seq, [s.product for s in staging.staged]):
            self._forget(client_id, batch_id, seq)

    def settle(self, client_id: str, items: Sequence[dict[str, Any]], *, now: datetime) -> None:
        """Release the product `items` (as read, before the head) that batches hold and no longer need:
        roll forward those of committed batches, clear those of aborted ones, and abort batches pending
        past their expiry. Products of a batch still in progress stay held."""
        items = [item for item in items if STAGED_BY in item]
        # The head is read after the items: every batch whose marker they show entered the head before
        # staging, so one missing from it was forgotten once its markers were gone (ours are stale: skip).
        view = self.view(client_id)
        statuses: dict[str, Any] = {}
        for batch in {item[STAGED_BY] for item in items}:
            status = view.batches.get(batch)
            if isinstance(status, str) and status.startswith("pending ") and parse_iso(status[8:]) <= now:
                status = "aborted" if self._finish(client_id, batch, status, commit=False) is not None else None
            statuses[batch] = status
        for item in items:
            batch, status = item[STAGED_BY], statuses[item[STAGED_BY]]
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

        for_each(self._workers, stage_one, staged)
        return staging

    def _abandon(self, client_id: str, batch_id: str, pending: str, staged: Sequence[StagedProduct]) -> None:
        try:
            self._finish(client_id, batch_id, pending, commit=False)
            self._clear(batch_id, staged)
            self._forget(client_id, batch_id, "aborted")
        except Exception:  # the caller reports the first failure; markers left hide nothing
            logger.warning("product batch not cleared", extra={"client_id": client_id, "batch_id": batch_id})

    def _clear(self, batch_id: str, staged: Sequence[StagedProduct]) -> None:
        for_each(
            self._workers,
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
                        ExpressionAttributeNames={"#staged_by": STAGED_BY, "#staged": STAGED},
                    )
                else:
                    self._db.delete_item(**request, ExpressionAttributeNames={"#staged_by": STAGED_BY})
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
            for_each(self._workers, roll, products)
        except Exception:  # the batch is committed and visible; only the tidying failed
            logger.warning("product batch not rolled forward", extra={"batch_id": batch_id})
            return False
        return True


def for_each[T](workers: int, action: Callable[[T], None], items: Sequence[T]) -> None:
    """`action` on every item, `workers` at a time."""
    if workers <= 1 or len(items) <= 1:
        for item in items:
            action(item)
        return
    with ThreadPoolExecutor(max_workers=workers) as pool:
        for _ in pool.map(action, items):
            pass


def _is_condition_failure(error: BaseException) -> bool:
    return isinstance(error, ClientError) and error_code(error) == "ConditionalCheckFailedException"
