"""What the stock sync last sent to Amazon, per seller and region, in DynamoDB (client partition first):

- `STOCKSTATE#<seller>#<region>`: the head of what was last sent: a revision, the feeds awaiting their
  report (no SKUs), and how far runs have read the OMS catalogue (`catalogue`: when the last run began
  reading, when one last read all of it, a digest of the settings and aliases, the listing snapshots used).
  While a feed is pending the head is in the sparse `GSI1` under `STOCK_FEEDS`, so the
  tick finds work to reconcile with a Query. Under it, one small item per SKU,
  `STOCKSTATE#<seller>#<region>#S#<sku>` (quantity, epoch second, status, and while in flight the feeds
  carrying it), and each pending feed's messages in order, `…#F#<feed document>#<nnnn>` (4,000 a chunk).
  So no item nears DynamoDB's 400 KB at any catalogue size, and a save writes only the SKUs that changed
  (about 1 WCU each; an accepted feed costs no write per SKU: an in-flight SKU none of whose feeds is
  still pending reads as accepted).

The runs, claims and listing snapshots beside it: `stock_sync`.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any

from botocore.exceptions import ClientError

from oms_amazon.adapters.accounts import client_pk
from oms_amazon.adapters.blobs import ChunkedBlobs
from oms_amazon.adapters.dynamodb import batch_write, dynamodb_errors, error_code, iso, parse_iso
from oms_amazon.adapters.items import from_wire, key, to_wire
from oms_amazon.domain.errors import Conflict
from oms_amazon.domain.stock_sync import CatalogueMark, PendingFeed, SyncState
from oms_amazon.stock import LastSent

PENDING_FEEDS_PARTITION = "STOCK_FEEDS"
_STATUS_CODES = {"in_flight": "f", "accepted": "a", "rejected": "r"}
_STATUS_NAMES = {v: k for k, v in _STATUS_CODES.items()}


def state_sk(merchant_id: str, region: str) -> str:
    return f"STOCKSTATE#{merchant_id}#{region}"


def _pending_to_item(feed: PendingFeed) -> dict[str, Any]:
    return {
        "feed_id": feed.feed_id,
        "feed_document_id": feed.feed_document_id,
        "run_id": feed.run_id,
        "account_id": feed.account_id,
        "marketplace_ids": list(feed.marketplace_ids),
        # A list, in message order (a DynamoDB map keeps no order): message n is the n-th entry.
        "messages": [[sku, quantity] for sku, quantity in feed.quantities.items()],
        "submitted_at": iso(feed.submitted_at),
    }


def _pending_from_item(item: dict[str, Any]) -> PendingFeed:
    return PendingFeed(
        feed_id=item.get("feed_id"),
        feed_document_id=item["feed_document_id"],
        run_id=item["run_id"],
        account_id=item["account_id"],
        marketplace_ids=tuple(item["marketplace_ids"]),
        quantities={str(sku): int(q) for sku, q in item["messages"]}
        if "messages" in item
        else {k: int(v) for k, v in item["quantities"].items()},
        submitted_at=parse_iso(item["submitted_at"]),
    )


SKU_MARK = "#S#"
FEED_MARK = "#F#"
MESSAGES_PER_CHUNK = 4_000  # a chunk of [sku, quantity] pairs stays far below 400 KB with 40-character SKUs

# One SKU as stored: quantity, epoch second, status code, and the feeds carrying it while in flight.
_Raw = tuple[int, int, str, frozenset[str]]


@dataclass(frozen=True, slots=True)
class _Stored:
    """What the store holds for a state, as read or written: so a save writes only what changed."""

    raw: dict[str, _Raw] = field(default_factory=dict)
    pending_docs: frozenset[str] = frozenset()
    legacy_generation: bool = False


def _reads_as(entry: _Raw, pending_docs: frozenset[str]) -> _Raw:
    """An in-flight SKU none of whose feeds is still pending was accepted: its feeds' reports named no error
    for it (a rejection is written as such), so it needs no write to say so."""
    quantity, sent_at, status, feeds = entry
    if status == _STATUS_CODES["in_flight"] and not feeds & pending_docs:
        return quantity, sent_at, _STATUS_CODES["accepted"], frozenset()
    return entry


def _last_sent(entry: _Raw, pending_docs: set[str]) -> LastSent:
    quantity, sent_at, status, _ = _reads_as(entry, frozenset(pending_docs))
    return LastSent(quantity, datetime.fromtimestamp(sent_at, tz=UTC), _STATUS_NAMES[status])  # type: ignore[arg-type]


def _mark_to_item(mark: CatalogueMark | None) -> dict[str, Any] | None:
    if mark is None:
        return None
    return {
        "read_at": iso(mark.read_at),
        "full_at": iso(mark.full_at),
        "inputs": mark.inputs,
        "listings": dict(mark.listings),
    }


def _mark_from_item(item: dict[str, Any] | None) -> CatalogueMark | None:
    if not item:
        return None
    return CatalogueMark(
        read_at=parse_iso(item["read_at"]),
        full_at=parse_iso(item["full_at"]),
        inputs=item["inputs"],
        listings={str(k): str(v) for k, v in (item.get("listings") or {}).items()},
    )


def _messages_sk(head_sk: str, document_id: str, n: int) -> str:
    return f"{head_sk}{FEED_MARK}{document_id}#{n:05d}"


def _pending_meta(feed: PendingFeed) -> dict[str, Any]:
    return {
        "feed_id": feed.feed_id,
        "feed_document_id": feed.feed_document_id,
        "run_id": feed.run_id,
        "account_id": feed.account_id,
        "marketplace_ids": list(feed.marketplace_ids),
        "message_count": len(feed.quantities),
        "submitted_at": iso(feed.submitted_at),
    }


class DynamoStockStateStore:
    def __init__(self, client: Any, table_name: str) -> None:
        self._db = client
        self._table = table_name
        self._blobs = ChunkedBlobs(client, table_name)

    def state(self, client_id: str, merchant_id: str, region: str) -> SyncState:
        pk, head_sk = client_pk(client_id), state_sk(merchant_id, region)
        with dynamodb_errors("read stock state"):
            found = self._db.get_item(TableName=self._table, Key=key(pk, head_sk), ConsistentRead=True).get("Item")
        if found is None:
            return SyncState(client_id=client_id, merchant_id=merchant_id, region=region, stored=_Stored())
        head = from_wire(found)
        if head.get("generation"):  # the earlier layout: every SKU in one chunked value, feeds in the head
            return self._legacy_state(client_id, merchant_id, region, head)
        pending = tuple(self._pending_feed(pk, head_sk, meta) for meta in head.get("pending_feeds") or ())
        pending_docs = {p.feed_document_id for p in pending}
        raw: dict[str, _Raw] = {}
        request: dict[str, Any] = {
            "TableName": self._table,
            "KeyConditionExpression": "PK = :pk AND begins_with(SK, :prefix)",
            "ExpressionAttributeValues": {":pk": {"S": pk}, ":prefix": {"S": f"{head_sk}{SKU_MARK}"}},
            "ConsistentRead": True,
        }
        cut = len(head_sk) + len(SKU_MARK)
        while True:
            with dynamodb_errors("read sent quantities"):
                page = self._db.query(**request)
            for item in page.get("Items", []):
                feeds = frozenset(item["f"]["SS"]) if "f" in item else frozenset()
                raw[item["SK"]["S"][cut:]] = (int(item["q"]["N"]), int(item["t"]["N"]), item["s"]["S"], feeds)
            if "LastEvaluatedKey" not in page:
                break
            request["ExclusiveStartKey"] = page["LastEvaluatedKey"]
        last_sent = {sku: _last_sent(entry, pending_docs) for sku, entry in raw.items()}
        return SyncState(
            client_id=client_id,
            merchant_id=merchant_id,
            region=region,
            last_sent=last_sent,
            pending_feeds=pending,
            revision=int(head["revision"]),
            catalogue=_mark_from_item(head.get("catalogue")),
            stored=_Stored(raw, frozenset(pending_docs)),
        )

    def save_state(self, state: SyncState, *, reconcile_after: datetime | None) -> SyncState:
        """Store what changed since the state was read, if nobody else moved its head meanwhile (409
        `concurrent_update` otherwise). Writes go in the order a crash cannot turn into a wrong belief: a new
        feed's messages, then SKUs settled as accepted or rejected, then the head, then SKUs going in flight
        (a head naming a feed whose SKUs are not yet marked only costs a resend), then the messages of feeds
        no longer pending are deleted."""
        pk, head_sk = client_pk(state.client_id), state_sk(state.merchant_id, state.region)
        stored: _Stored = state.stored if isinstance(state.stored, _Stored) else _Stored()
        pending_docs = frozenset(p.feed_document_id for p in state.pending_feeds)
        carried: dict[str, set[str]] = {}
        for feed in state.pending_feeds:
            for sku in feed.quantities:
                carried.setdefault(sku, set()).add(feed.feed_document_id)
        settled: list[dict[str, Any]] = []
        in_flight: list[dict[str, Any]] = []
        raw = dict(stored.raw)
        for sku, sent in state.last_sent.items():
            feeds = frozenset(carried.get(sku, ())) if sent.status == "in_flight" else frozenset()
            entry: _Raw = (sent.quantity, int(sent.sent_at.timestamp()), _STATUS_CODES[sent.status], feeds)
            before = raw.get(sku)
            if before == entry or (before is not None and _reads_as(before, pending_docs) == entry):
                continue
            raw[sku] = entry
            item = {**key(pk, f"{head_sk}{SKU_MARK}{sku}"), "q": {"N": str(entry[0])}, "t": {"N": str(entry[1])}}
            item["s"] = {"S": entry[2]}
            if feeds:
                item["f"] = {"SS": sorted(feeds)}
            (in_flight if sent.status == "in_flight" else settled).append({"PutRequest": {"Item": item}})
        new_feeds = [p for p in state.pending_feeds if p.feed_document_id not in stored.pending_docs]
        gone = stored.pending_docs - pending_docs
        for feed in new_feeds:
            messages = list(feed.quantities.items())
            chunks = [messages[i : i + MESSAGES_PER_CHUNK] for i in range(0, len(messages), MESSAGES_PER_CHUNK)]
            batch_write(
                self._db,
                self._table,
                [
                    {
                        "PutRequest": {
                            "Item": {
                                **key(pk, _messages_sk(head_sk, feed.feed_document_id, n)),
                                "m": to_wire({"v": [[sku, q] for sku, q in chunk]})["v"],
                            }
                        }
                    }
                    for n, chunk in enumerate(chunks)
                ],
                "save feed messages",
            )
        batch_write(self._db, self._table, settled, "save sent quantities")
        head: dict[str, Any] = {
            "PK": pk,
            "SK": head_sk,
            "entity": "stock_state",
            "client_id": state.client_id,
            "merchant_id": state.merchant_id,
            "region": state.region,
            "pending_feeds": [_pending_meta(p) for p in state.pending_feeds],
            "sku_count": len(raw),
            "revision": state.revision + 1,
            "catalogue": _mark_to_item(state.catalogue),
        }
        if state.pending_feeds and reconcile_after is not None:
            head["account_id"] = state.pending_feeds[0].account_id
            head["GSI1PK"] = PENDING_FEEDS_PARTITION
            head["GSI1SK"] = f"{iso(reconcile_after)}#{state.client_id}#{state.merchant_id}#{state.region}"
        condition: dict[str, Any] = (
            {"ConditionExpression": "attribute_not_exists(PK) OR attribute_not_exists(revision)"}
            if not state.revision
            else {
                "ConditionExpression": "revision = :expected",
                "ExpressionAttributeValues": {":expected": {"N": str(state.revision)}},
            }
        )
        try:
            with dynamodb_errors("save stock state"):
                self._db.put_item(TableName=self._table, Item=to_wire(head), **condition)
        except ClientError as error:
            if error_code(error) == "ConditionalCheckFailedException":
                raise Conflict("Another worker changed this value meanwhile.", code="concurrent_update") from error
            raise
        batch_write(self._db, self._table, in_flight, "save sent quantities")
        if gone:
            self._delete_prefixes(pk, [f"{head_sk}{FEED_MARK}{doc}#" for doc in sorted(gone)])
        if stored.legacy_generation:
            self._delete_prefixes(pk, [f"{head_sk}#GEN#"])
        return replace(state, revision=state.revision + 1, stored=_Stored(raw, pending_docs))

    def _pending_feed(self, pk: str, head_sk: str, meta: dict[str, Any]) -> PendingFeed:
        if "messages" in meta or "quantities" in meta:  # written inline by the earlier layout
            return _pending_from_item(meta)
        document_id = meta["feed_document_id"]
        request: dict[str, Any] = {
            "TableName": self._table,
            "KeyConditionExpression": "PK = :pk AND begins_with(SK, :prefix)",
            "ExpressionAttributeValues": {
                ":pk": {"S": pk},
                ":prefix": {"S": f"{head_sk}{FEED_MARK}{document_id}#"},
            },
            "ConsistentRead": True,
        }
        messages: list[list[Any]] = []
        for item in self._query_all(request):
            messages.extend(item["m"])
        if len(messages) != int(meta["message_count"]):
            raise Conflict("A pending feed's messages are incomplete; retry.", code="incomplete_value")
        return _pending_from_item({**meta, "messages": messages})

    def _legacy_state(self, client_id: str, merchant_id: str, region: str, head: dict[str, Any]) -> SyncState:
        _, value = self._blobs.read(client_pk(client_id), state_sk(merchant_id, region))
        last_sent = {
            sku: LastSent(quantity=int(q), sent_at=datetime.fromtimestamp(int(t), tz=UTC), status=_STATUS_NAMES[s])  # type: ignore[arg-type]
            for sku, (q, t, s) in (value or {}).items()
        }
        return SyncState(
            client_id=client_id,
            merchant_id=merchant_id,
            region=region,
            last_sent=last_sent,
            pending_feeds=tuple(_pending_from_item(p) for p in head.get("pending_feeds") or ()),
            revision=int(head["revision"]),
            stored=_Stored(legacy_generation=True),
        )

    def _delete_prefixes(self, pk: str, prefixes: list[str]) -> None:
        stale: list[dict[str, Any]] = []
        for prefix in prefixes:
            request: dict[str, Any] = {
                "TableName": self._table,
                "KeyConditionExpression": "PK = :pk AND begins_with(SK, :prefix)",
                "ExpressionAttributeValues": {":pk": {"S": pk}, ":prefix": {"S": prefix}},
                "ProjectionExpression": "PK, SK",
            }
            while True:
                with dynamodb_errors("list stale items"):
                    page = self._db.query(**request)
                stale.extend(page.get("Items", []))
                if "LastEvaluatedKey" not in page:
                    break
                request["ExclusiveStartKey"] = page["LastEvaluatedKey"]
        batch_write(self._db, self._table, [{"DeleteRequest": {"Key": item}} for item in stale], "delete stale items")

    def _query_all(self, request: dict[str, Any]) -> Iterator[dict[str, Any]]:
        while True:
            with dynamodb_errors("query"):
                page = self._db.query(**request)
            yield from (from_wire(item) for item in page.get("Items", []))
            if "LastEvaluatedKey" not in page:
                return
            request["ExclusiveStartKey"] = page["LastEvaluatedKey"]
