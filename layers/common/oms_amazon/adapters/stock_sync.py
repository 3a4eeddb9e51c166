"""Stock-sync storage in DynamoDB (client partition first):

- `STOCKRUN#<account>#<run_id>`: one item per run; run ids sort by time, so a reverse Query lists
  the newest first. Written only while the account is not deleted (a condition on its tombstone in the
  same transaction, `adapters.accounts.unless_deleted`), so a run under way when its account is deleted
  leaves no record behind.
- `LISTINGS#<seller>#<marketplace>`: the Amazon listing snapshot (head + gzip chunks, see blobs).
- `STOCKSTATE#<seller>#<region>`: what was last sent, per SKU (see `stock_state`). While a feed is
  pending its head is in the sparse `GSI1` under `STOCK_FEEDS`, so the tick finds work to reconcile with
  a Query.
- Claims are conditional updates of the account item (its `GSI1SK` must be what the tick read),
  written in one transaction with the new run, so two overlapping ticks never run one account twice.
- `RUNNOW#<account>`: the account's latest run, written in the claim's transaction. A manual run
  replaces exactly the latest run it read (a conditional write) or joins that run while it waits in the
  queue, so of concurrent run-now calls one queues a run and the others find it.
- `LISTINGSREFRESH#<seller>#<marketplace>`: when a listings refresh was last queued; a conditional put
  queues another only once the last is old enough, so concurrent refreshes queue one.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any

from botocore.exceptions import ClientError

from oms_amazon.adapters.accounts import (
    STOCK_SYNC_INDEX,
    STOCK_SYNC_PARTITION,
    account_from_item,
    account_sk,
    client_pk,
    unless_deleted,
)
from oms_amazon.adapters.blobs import ChunkedBlobs
from oms_amazon.adapters.dynamodb import (
    batch_write,
    cancellation_codes,
    dynamodb_errors,
    error_code,
    iso,
    parse_iso,
)
from oms_amazon.adapters.items import from_wire, key, prefix_query, query_page, to_wire
from oms_amazon.adapters.stock_state import PENDING_FEEDS_PARTITION, DynamoStockStateStore
from oms_amazon.domain.accounts import Account
from oms_amazon.domain.errors import AccountDeleted, Conflict, DependencyUnavailable
from oms_amazon.domain.stock_sync import (
    ERRORS_INLINE,
    ListingSnapshot,
    ListingsRefresh,
    ManualRun,
    SkuError,
    StockRun,
    SyncState,
)
from oms_amazon.ports import Page

# In a listing snapshot's blob an FBA SKU maps to "@" + Amazon's channel (a product type never starts so).
FBA_MARK = "@"
# Concurrent run-now calls settle in two rounds (one queues, the rest find its run); more rounds mean
# the latest run keeps changing under the caller, which a retry of the request resolves.
MANUAL_CLAIM_ROUNDS = 5
# The markers outlive their use (a waiting run, a 15-minute window) by far; DynamoDB's TTL removes them.
MARKER_TTL = timedelta(days=2)


class _LatestRunMoved(Exception):
    """A manual claim lost to another: the account's latest run is no longer the one it read."""


def run_sk(account_id: str, run_id: str = "") -> str:
    return f"STOCKRUN#{account_id}#{run_id}"


def run_error_sk(account_id: str, run_id: str = "", number: int | None = None) -> str:
    """One per-SKU error of a run, numbered in the order the run found them."""
    return f"STOCKRUNERR#{account_id}#{run_id}" + ("" if number is None else f"#{number:07d}")


def listings_sk(merchant_id: str, marketplace: str) -> str:
    return f"LISTINGS#{merchant_id}#{marketplace}"


def latest_run_sk(account_id: str) -> str:
    return f"RUNNOW#{account_id}"


def listings_refresh_sk(merchant_id: str, marketplace: str) -> str:
    return f"LISTINGSREFRESH#{merchant_id}#{marketplace}"


def _ttl(moment: datetime) -> dict[str, str]:
    return {"N": str(int((moment + MARKER_TTL).timestamp()))}


def run_to_item(run: StockRun) -> dict[str, Any]:
    return {
        "PK": client_pk(run.client_id),
        "SK": run_sk(run.account_id, run.run_id),
        "entity": "stock_run",
        "run_id": run.run_id,
        "client_id": run.client_id,
        "account_id": run.account_id,
        "status": run.status,
        "trigger": run.trigger,
        "queued_at": iso(run.queued_at),
        "started_at": iso(run.started_at) if run.started_at else None,
        "finished_at": iso(run.finished_at) if run.finished_at else None,
        "skus_considered": run.skus_considered,
        "skus_sent": run.skus_sent,
        "skus_unchanged": run.skus_unchanged,
        "skipped": run.skipped,
        "skipped_skus": run.skipped_skus,
        "feed_ids": list(run.feed_ids),
        "transport": run.transport,
        "errors": [e.to_dict() for e in run.errors[:ERRORS_INLINE]],
        "error_count": run.error_count,
        "conflicts": list(run.conflicts[:ERRORS_INLINE]),
        "reason": run.reason,
        "catalogue_read": run.catalogue_read,
    }


def run_from_item(item: dict[str, Any]) -> StockRun:
    return StockRun(
        run_id=item["run_id"],
        client_id=item["client_id"],
        account_id=item["account_id"],
        status=item["status"],
        trigger=item["trigger"],
        queued_at=parse_iso(item["queued_at"]),
        started_at=parse_iso(item["started_at"]) if item.get("started_at") else None,
        finished_at=parse_iso(item["finished_at"]) if item.get("finished_at") else None,
        skus_considered=item.get("skus_considered", 0),
        skus_sent=item.get("skus_sent", 0),
        skus_unchanged=item.get("skus_unchanged", 0),
        skipped=item.get("skipped") or {},
        skipped_skus=item.get("skipped_skus") or {},
        feed_ids=tuple(item.get("feed_ids") or ()),
        transport=item.get("transport"),
        errors=tuple(SkuError(**e) for e in item.get("errors") or ()),
        conflicts=tuple(item.get("conflicts") or ()),
        reason=item.get("reason"),
        error_count=int(item.get("error_count", len(item.get("errors") or ()))),
        catalogue_read=item.get("catalogue_read"),
    )


class DynamoStockSyncStore:
    def __init__(self, client: Any, table_name: str) -> None:
        self._db = client
        self._table = table_name
        self._blobs = ChunkedBlobs(client, table_name)
        self._states = DynamoStockStateStore(client, table_name)

    # ---- scheduling
    def due_accounts(self, now: datetime) -> Iterator[Account]:
        """Accounts whose stock sync is enabled and due (a Query on the sparse GSI1, never a Scan)."""
        request: dict[str, Any] = {
            "TableName": self._table,
            "IndexName": STOCK_SYNC_INDEX,
            "KeyConditionExpression": "GSI1PK = :p AND GSI1SK <= :now",
            "ExpressionAttributeValues": {":p": {"S": STOCK_SYNC_PARTITION}, ":now": {"S": iso(now) + "~"}},
        }
        yield from (account_from_item(item) for item in self._query_all(request))

    def feeds_to_reconcile(self, now: datetime) -> Iterator[dict[str, str]]:
        """Seller states holding feeds whose report is due to be read."""
        request: dict[str, Any] = {
            "TableName": self._table,
            "IndexName": STOCK_SYNC_INDEX,
            "KeyConditionExpression": "GSI1PK = :p AND GSI1SK <= :now",
            "ExpressionAttributeValues": {":p": {"S": PENDING_FEEDS_PARTITION}, ":now": {"S": iso(now) + "~"}},
        }
        for item in self._query_all(request):
            yield {
                "client_id": item["client_id"],
                "merchant_id": item["merchant_id"],
                "region": item["region"],
                "account_id": item["account_id"],
            }

    def claim(self, account: Account, run: StockRun, *, seen_due_key: str | None) -> bool:
        """Start a run for `account` unless another tick (or a changed setting) got there first.
        `seen_due_key` None claims whatever the schedule says (see `claim_manual` for run-now)."""
        return self._claim(account, run, seen_due_key=seen_due_key, seen_latest=None)

    def claim_manual(self, account: Account, run: StockRun, *, join_since: datetime) -> ManualRun | None:
        """`run` for `account`, or the account's latest run instead while it waits in the queue (queued
        since `join_since`, no worker on it yet). None: the account is gone."""
        pk = client_pk(account.client_id)
        for _ in range(MANUAL_CLAIM_ROUNDS):
            with dynamodb_errors("read latest run"):
                found = self._db.get_item(
                    TableName=self._table, Key=key(pk, latest_run_sk(account.id)), ConsistentRead=True
                ).get("Item")
            latest_id = found["run_id"]["S"] if found else ""
            latest = self.get_run(account.client_id, account.id, latest_id) if latest_id else None
            if latest is not None and latest.waits_in_queue(join_since):
                return ManualRun(latest, joined=True)
            try:
                if self._claim(account, run, seen_due_key=None, seen_latest=latest_id):
                    return ManualRun(run)
            except _LatestRunMoved:
                continue  # another call (or the tick) claimed a run meanwhile: look at that one
            return None
        raise Conflict("Runs of this account kept being queued while this one was; retry.", code="concurrent_update")

    def _claim(self, account: Account, run: StockRun, *, seen_due_key: str | None, seen_latest: str | None) -> bool:
        """The account's claim, the run and the account's latest run in one transaction. `seen_latest`
        (a run id, "" for none) makes it conditional on the latest run being the one the caller read."""
        next_due = run.queued_at + timedelta(minutes=account.stock_sync_delay_minutes)
        update: dict[str, Any] = {
            "TableName": self._table,
            "Key": key(client_pk(account.client_id), account_sk(account.id)),
            "UpdateExpression": "SET last_stock_sync_started_at = :now, revision = revision + :one"
            + (", GSI1SK = :next" if account.stock_sync_enabled else ""),
            "ExpressionAttributeValues": {
                ":now": {"S": iso(run.queued_at)},
                ":one": {"N": "1"},
                **(
                    {":next": {"S": f"{iso(next_due)}#{account.client_id}#{account.id}"}}
                    if account.stock_sync_enabled
                    else {}
                ),
            },
            "ConditionExpression": "attribute_exists(PK)",
        }
        if seen_due_key is not None:
            update["ConditionExpression"] = "GSI1SK = :seen"
            update["ExpressionAttributeValues"][":seen"] = {"S": seen_due_key}
        latest: dict[str, Any] = {
            "TableName": self._table,
            "Item": {
                **key(client_pk(account.client_id), latest_run_sk(account.id)),
                "entity": {"S": "latest_stock_run"},
                "run_id": {"S": run.run_id},
                "ttl": _ttl(run.queued_at),
            },
        }
        if seen_latest is not None:
            latest["ConditionExpression"] = "attribute_not_exists(PK)" if not seen_latest else "run_id = :seen_run"
            if seen_latest:
                latest["ExpressionAttributeValues"] = {":seen_run": {"S": seen_latest}}
        try:
            with dynamodb_errors("claim account"):
                self._db.transact_write_items(
                    TransactItems=[
                        {"Update": update},
                        {
                            "Put": {
                                "TableName": self._table,
                                "Item": to_wire(run_to_item(run)),
                                "ConditionExpression": "attribute_not_exists(PK)",
                            }
                        },
                        {"Put": latest},
                    ]
                )
        except ClientError as error:
            if error_code(error) != "TransactionCanceledException":
                raise
            codes = cancellation_codes(error)
            if seen_latest is not None and (len(codes) < 3 or codes[0] != "ConditionalCheckFailed"):
                # Not the account gone: the latest run moved, or DynamoDB saw a concurrent transaction.
                raise _LatestRunMoved from error
            return False
        return True

    def claim_listings_refresh(
        self, client_id: str, merchant_id: str, marketplace: str, *, at: datetime, unless_since: datetime
    ) -> ListingsRefresh:
        """Record a listings refresh requested `at`, unless one was requested since `unless_since`: that
        one then stands (`joined`). One conditional put, so of concurrent requests one is recorded."""
        item_key = key(client_pk(client_id), listings_refresh_sk(merchant_id, marketplace))
        for _ in range(MANUAL_CLAIM_ROUNDS):
            try:
                with dynamodb_errors("claim listings refresh"):
                    self._db.put_item(
                        TableName=self._table,
                        Item={
                            **item_key,
                            "entity": {"S": "listings_refresh"},
                            "requested_at": {"S": iso(at)},
                            "ttl": _ttl(at),
                        },
                        ConditionExpression="attribute_not_exists(PK) OR requested_at < :since",
                        ExpressionAttributeValues={":since": {"S": iso(unless_since)}},
                    )
            except ClientError as error:
                if error_code(error) != "ConditionalCheckFailedException":
                    raise
                with dynamodb_errors("read listings refresh"):
                    found = self._db.get_item(TableName=self._table, Key=item_key, ConsistentRead=True).get("Item")
                if found is None:  # withdrawn meanwhile (its job could not be queued): try again
                    continue
                return ListingsRefresh(parse_iso(found["requested_at"]["S"]), joined=True)
            return ListingsRefresh(parse_iso(iso(at)))  # as stored (to the millisecond)
        raise Conflict("Listings refreshes kept changing while this one was queued; retry.", code="concurrent_update")

    def withdraw_listings_refresh(
        self, client_id: str, merchant_id: str, marketplace: str, requested_at: datetime
    ) -> None:
        """Forget the refresh requested at `requested_at` (its job could not be queued), not a later one."""
        try:
            with dynamodb_errors("withdraw listings refresh"):
                self._db.delete_item(
                    TableName=self._table,
                    Key=key(client_pk(client_id), listings_refresh_sk(merchant_id, marketplace)),
                    ConditionExpression="requested_at = :at",
                    ExpressionAttributeValues={":at": {"S": iso(requested_at)}},
                )
        except ClientError as error:
            if error_code(error) != "ConditionalCheckFailedException":
                raise

    def record_summary(self, account: Account, run: StockRun) -> None:
        with dynamodb_errors("record run summary"):
            try:
                self._db.update_item(
                    TableName=self._table,
                    Key=key(client_pk(account.client_id), account_sk(account.id)),
                    UpdateExpression="SET last_stock_sync = :summary, revision = revision + :one",
                    ConditionExpression="attribute_exists(PK)",
                    ExpressionAttributeValues={":summary": to_wire({"v": run.summary()})["v"], ":one": {"N": "1"}},
                )
            except ClientError as error:
                if error_code(error) != "ConditionalCheckFailedException":  # the account was deleted meanwhile
                    raise

    # ---- runs
    def save_run(self, run: StockRun) -> None:
        """The run record, after the errors it added (each an item of its own, written once), unless the
        account was deleted meanwhile: `AccountDeleted`, and the errors just written are taken back."""
        pk = client_pk(run.client_id)
        errors = [key(pk, run_error_sk(run.account_id, run.run_id, number)) for number, _ in run.unsaved_errors]
        batch_write(
            self._db,
            self._table,
            [
                {"PutRequest": {"Item": {**error_key, **to_wire(error.to_dict())}}}
                for error_key, (_, error) in zip(errors, run.unsaved_errors, strict=True)
            ],
            "save run errors",
        )
        try:
            with dynamodb_errors("save run"):
                self._db.transact_write_items(
                    TransactItems=[
                        {"Put": {"TableName": self._table, "Item": to_wire(run_to_item(run))}},
                        unless_deleted(self._table, run.client_id, run.account_id),
                    ]
                )
        except ClientError as error:
            if error_code(error) != "TransactionCanceledException":
                raise
            if cancellation_codes(error)[1:] != ["ConditionalCheckFailed"]:
                # A transaction in flight on the run or the tombstone: nothing was written; the job retries.
                raise DependencyUnavailable("The data store is busy (save run); retry shortly.") from error
            batch_write(self._db, self._table, [{"DeleteRequest": {"Key": k}} for k in errors], "take back run errors")
            raise AccountDeleted(f"No account {run.account_id}: it was deleted.") from error

    def run_errors(
        self, client_id: str, account_id: str, run_id: str, *, limit: int, next_token: str | None
    ) -> Page[SkuError]:
        """Every per-SKU error of a run, in the order it found them."""
        partition, prefix = client_pk(client_id), run_error_sk(account_id, run_id) + "#"
        items, token = query_page(
            self._db,
            prefix_query(self._table, partition, prefix, Limit=limit),
            partition=partition,
            sk_prefix=prefix,
            next_token=next_token,
            operation="list run errors",
        )
        return Page(items=[SkuError(i["sku"], i["code"], i["message"]) for i in items], next_token=token)

    def get_run(self, client_id: str, account_id: str, run_id: str) -> StockRun | None:
        with dynamodb_errors("get run"):
            response = self._db.get_item(
                TableName=self._table, Key=key(client_pk(client_id), run_sk(account_id, run_id)), ConsistentRead=True
            )
        return run_from_item(from_wire(response["Item"])) if "Item" in response else None

    def runs(self, client_id: str, account_id: str, *, limit: int, next_token: str | None) -> Page[StockRun]:
        partition, prefix = client_pk(client_id), run_sk(account_id)
        items, token = query_page(
            self._db,
            prefix_query(self._table, partition, prefix, ScanIndexForward=False, Limit=limit),
            partition=partition,
            sk_prefix=prefix,
            next_token=next_token,
            operation="list runs",
        )
        return Page(items=[run_from_item(item) for item in items], next_token=token)

    # ---- listing snapshots
    def snapshot(self, client_id: str, merchant_id: str, marketplace: str) -> ListingSnapshot | None:
        head, value = self._blobs.read(client_pk(client_id), listings_sk(merchant_id, marketplace))
        if head is None:
            return None
        rows: dict[str, str] = value or {}
        return ListingSnapshot(
            merchant_id=merchant_id,
            marketplace=marketplace,
            taken_at=parse_iso(head["taken_at"]) if head.get("taken_at") else None,
            product_types={sku: kind for sku, kind in rows.items() if not kind.startswith(FBA_MARK)},
            pending_report_id=head.get("pending_report_id"),
            fulfilled_by_amazon={sku: kind[1:] for sku, kind in rows.items() if kind.startswith(FBA_MARK)},
        )

    def save_snapshot(self, client_id: str, snapshot: ListingSnapshot) -> None:
        pk, sk = client_pk(client_id), listings_sk(snapshot.merchant_id, snapshot.marketplace)
        head, _ = self._blobs.read(pk, sk)
        meta = {
            "entity": "listing_snapshot",
            "taken_at": iso(snapshot.taken_at) if snapshot.taken_at else None,
            "pending_report_id": snapshot.pending_report_id,
            "sku_count": len(snapshot.product_types),
            "fba_sku_count": len(snapshot.fulfilled_by_amazon),
        }
        rows = {**snapshot.product_types, **{sku: FBA_MARK + c for sku, c in snapshot.fulfilled_by_amazon.items()}}
        self._blobs.write(pk, sk, meta, rows, expected_revision=head["revision"] if head else None)

    # ---- what was last sent
    def state(self, client_id: str, merchant_id: str, region: str) -> SyncState:
        return self._states.state(client_id, merchant_id, region)

    def save_state(self, state: SyncState, *, reconcile_after: datetime | None) -> SyncState:
        """Store what changed since the state was read (see `DynamoStockStateStore.save_state`)."""
        return self._states.save_state(state, reconcile_after=reconcile_after)

    def _query_all(self, request: dict[str, Any]) -> Iterator[dict[str, Any]]:
        while True:
            with dynamodb_errors("query"):
                page = self._db.query(**request)
            yield from (from_wire(item) for item in page.get("Items", []))
            if "LastEvaluatedKey" not in page:
                return
            request["ExclusiveStartKey"] = page["LastEvaluatedKey"]
