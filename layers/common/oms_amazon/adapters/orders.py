"""Orders in DynamoDB, with their events in a transactional outbox.

- `CLIENT#<client>` / `ORDER#<amazon order id>`: the order. Written with a condition on what the
  writer read (absent, or the same last-update time and state version), so a re-import never
  overwrites a newer copy and two imports never both win; an import's write also on its account not
  being deleted (`adapters.accounts.unless_deleted`), so no order is stored after the account's DELETE.
- In `GSI1` under `ORDERS#<client>`, by last-update time: `GET /orders`, newest first.
- In `GSI2` under `HELD#<client>` while on hold: a new mapping or SKU alias finds the orders it may
  release with one Query over the client's held orders (a handful, not its order history).
- `CLIENT#<client>` / `OUTBOX#<order>#<state version>`: the event of a state change, written in the
  same transaction as the order (no dual write can lose one); in `GSI1` under `OUTBOX` until sent.
- `CLIENT#<client>` / `ORDERPII#<order>`: the buyer's data, sealed with KMS (`adapters.pii`), written
  in the same transaction as the order. Once the order ships or is cancelled it gets a deletion time:
  DynamoDB's TTL (`ttl`) and, within a tick, the order-import tick's sweep (in `GSI1` under
  `PIIEXPIRY`, by that time) delete it, and the order records `pii_purged_at`. Nothing else holds it:
  the order item, the order list (`GSI1`), events and the outbox never do.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from botocore.exceptions import ClientError

from oms_amazon.adapters.accounts import client_pk, unless_deleted
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
from oms_amazon.domain.errors import AccountDeleted
from oms_amazon.domain.orders import EventType, HoldReason, Money, Order, OrderLine, OrderPii, Release, event_detail
from oms_amazon.ports import Page, PiiVault
from oms_amazon.shipping import without_zone

OUTBOX_PARTITION = "OUTBOX"
PII_EXPIRY_PARTITION = "PIIEXPIRY"


@dataclass(frozen=True, slots=True)
class SavedOrder:
    saved: bool
    event: dict[str, Any] | None  # the outbox item written with the order, to publish now


def order_sk(order_id: str) -> str:
    return f"ORDER#{order_id}"


def pii_sk(order_id: str) -> str:
    return f"ORDERPII#{order_id}"


def _optional_iso(moment: datetime | None) -> str | None:
    return iso(moment) if moment else None


def _optional_moment(text: str | None) -> datetime | None:
    return parse_iso(text) if text else None


def held_partition(client_id: str) -> str:
    return f"HELD#{client_id}"


def _zone_less(term: str) -> str:
    return without_zone(term) or term


def order_to_item(order: Order) -> dict[str, Any]:
    item: dict[str, Any] = {
        "PK": client_pk(order.client_id),
        "SK": order_sk(order.amazon_order_id),
        "entity": "order",
        "amazon_order_id": order.amazon_order_id,
        "account_id": order.account_id,
        "client_id": order.client_id,
        "marketplace": order.marketplace,
        "purchase_date": iso(order.purchase_date),
        "last_update_date": iso(order.last_update_date),
        "amazon_status": order.amazon_status,
        "fulfillment_channel": order.fulfillment_channel,
        "is_prime": order.is_prime,
        "is_premium": order.is_premium,
        "ship_service_level": order.ship_service_level,
        "service_level_category": order.service_level_category,
        "ship_to_country": order.ship_to_country,
        "shipping_term": order.shipping_term,
        "term_recognized": order.term_recognized,
        "courier_service": order.courier_service,
        "matched_mapping": order.matched_mapping,
        "status": order.status,
        "hold_reasons": [h.to_dict() for h in order.hold_reasons],
        "lines": [line.to_dict() for line in order.lines],
        "ship_by": _optional_iso(order.ship_by),
        "imported_at": iso(order.imported_at),
        "updated_at": iso(order.updated_at),
        "state_version": order.state_version,
        "is_business_order": order.is_business_order,
        "is_replacement": order.is_replacement,
        "programs": list(order.programs),
        "order_total": order.order_total.to_dict() if order.order_total else None,
        "shipping_price": order.shipping_price.to_dict() if order.shipping_price else None,
        "earliest_ship_date": _optional_iso(order.earliest_ship_date),
        "deliver_by": _optional_iso(order.deliver_by),
        "sales_channel": order.sales_channel,
        "amazon_handles_delivery": order.amazon_handles_delivery,
        "in_store_pickup": order.in_store_pickup,
        "not_for_us_reason": order.not_for_us_reason,
        "address_available": order.address_available,
        "has_pii": order.has_pii,
        "pii_expires_at": _optional_iso(order.pii_expires_at),
        "pii_purged_at": _optional_iso(order.pii_purged_at),
        "release": order.release.to_dict() if order.release else None,
        "history": list(order.history),
        "GSI1PK": f"ORDERS#{order.client_id}",
        "GSI1SK": f"{iso(order.last_update_date)}#{order.amazon_order_id}",
    }
    if order.status == "on_hold":
        item["GSI2PK"] = held_partition(order.client_id)
        item["GSI2SK"] = order.amazon_order_id
    return item


def order_from_item(item: dict[str, Any]) -> Order:
    return Order(
        amazon_order_id=item["amazon_order_id"],
        account_id=item["account_id"],
        client_id=item["client_id"],
        marketplace=item["marketplace"],
        purchase_date=parse_iso(item["purchase_date"]),
        last_update_date=parse_iso(item["last_update_date"]),
        amazon_status=item["amazon_status"],
        fulfillment_channel=item["fulfillment_channel"],
        is_prime=bool(item["is_prime"]),
        is_premium=bool(item["is_premium"]),
        ship_service_level=item.get("ship_service_level"),
        service_level_category=item.get("service_level_category"),
        ship_to_country=item.get("ship_to_country"),
        shipping_term=item["shipping_term"],
        term_recognized=bool(item["term_recognized"]),
        courier_service=item.get("courier_service"),
        matched_mapping=item.get("matched_mapping"),
        status=item["status"],
        hold_reasons=tuple(
            HoldReason(h["code"], h["message"], {k: v for k, v in h.items() if k not in ("code", "message")})
            for h in item.get("hold_reasons") or ()
        ),
        lines=tuple(OrderLine.from_dict(line) for line in item.get("lines") or ()),
        ship_by=_optional_moment(item.get("ship_by")),
        imported_at=parse_iso(item["imported_at"]),
        updated_at=parse_iso(item["updated_at"]),
        state_version=int(item.get("state_version", 1)),
        is_business_order=bool(item.get("is_business_order", False)),
        is_replacement=bool(item.get("is_replacement", False)),
        programs=tuple(item.get("programs") or ()),
        order_total=Money.from_dict(item.get("order_total")),
        shipping_price=Money.from_dict(item.get("shipping_price")),
        earliest_ship_date=_optional_moment(item.get("earliest_ship_date")),
        deliver_by=_optional_moment(item.get("deliver_by")),
        sales_channel=item.get("sales_channel"),
        amazon_handles_delivery=bool(item.get("amazon_handles_delivery", False)),
        in_store_pickup=bool(item.get("in_store_pickup", False)),
        not_for_us_reason=item.get("not_for_us_reason"),
        address_available=bool(item.get("address_available", False)),
        has_pii=bool(item.get("has_pii", False)),
        pii_expires_at=_optional_moment(item.get("pii_expires_at")),
        pii_purged_at=_optional_moment(item.get("pii_purged_at")),
        release=Release.from_dict(item["release"]) if item.get("release") else None,
        history=tuple(item.get("history") or ()),
    )


def _expiry_fields(order: Order) -> dict[str, Any]:
    """What makes a sealed-data item go at the order's deletion time: DynamoDB's TTL and the sweep's index."""
    if order.pii_expires_at is None:
        return {}
    return {
        "ttl": int(order.pii_expires_at.timestamp()),
        "GSI1PK": PII_EXPIRY_PARTITION,
        "GSI1SK": f"{iso(order.pii_expires_at)}#{order.client_id}#{order.amazon_order_id}",
    }


class DynamoOrderRepository:
    def __init__(self, client: Any, table_name: str, vault: PiiVault | None = None) -> None:
        self._db = client
        self._table = table_name
        self._vault = vault

    def _pii_write(self, order: Order, previous: Order | None) -> dict[str, Any] | None:
        """The transaction item that keeps the sealed buyer data in step with `order`, if one is needed."""
        if order.pii_purged_at is not None:
            return None
        if order.pii is not None:
            if self._vault is None:
                raise RuntimeError("an order with buyer data needs a PII vault")
            item = {
                "PK": client_pk(order.client_id),
                "SK": pii_sk(order.amazon_order_id),
                "entity": "order_pii",
                "client_id": order.client_id,
                "amazon_order_id": order.amazon_order_id,
                "sealed": self._vault.seal(order.client_id, order.amazon_order_id, order.pii),
                **_expiry_fields(order),
            }
            return {"Put": {"TableName": self._table, "Item": to_wire(item)}}
        newly_expiring = order.pii_expires_at is not None and (
            previous is None or previous.pii_expires_at != order.pii_expires_at
        )
        if order.has_pii and newly_expiring:
            fields = _expiry_fields(order)
            return {
                "Update": {
                    "TableName": self._table,
                    "Key": key(client_pk(order.client_id), pii_sk(order.amazon_order_id)),
                    "UpdateExpression": "SET #ttl = :ttl, GSI1PK = :gpk, GSI1SK = :gsk",
                    "ConditionExpression": "attribute_exists(PK)",
                    "ExpressionAttributeNames": {"#ttl": "ttl"},
                    "ExpressionAttributeValues": {
                        ":ttl": {"N": str(fields["ttl"])},
                        ":gpk": {"S": fields["GSI1PK"]},
                        ":gsk": {"S": fields["GSI1SK"]},
                    },
                }
            }
        return None

    def get(self, client_id: str, order_id: str) -> Order | None:
        with dynamodb_errors("get order"):
            response = self._db.get_item(
                TableName=self._table, Key=key(client_pk(client_id), order_sk(order_id)), ConsistentRead=True
            )
        return order_from_item(from_wire(response["Item"])) if "Item" in response else None

    def get_many(self, client_id: str, order_ids: Sequence[str]) -> dict[str, Order]:
        found: dict[str, Order] = {}
        unique = list(dict.fromkeys(order_ids))
        for start in range(0, len(unique), 100):
            keys = [key(client_pk(client_id), order_sk(o)) for o in unique[start : start + 100]]
            request: dict[str, Any] = {self._table: {"Keys": keys, "ConsistentRead": True}}
            while request:
                with dynamodb_errors("get orders"):
                    response = self._db.batch_get_item(RequestItems=request)
                for item in response.get("Responses", {}).get(self._table, []):
                    order = order_from_item(from_wire(item))
                    found[order.amazon_order_id] = order
                request = response.get("UnprocessedKeys") or {}
        return found

    def save(
        self, order: Order, *, previous: Order | None, event: EventType | None, unless_account_deleted: bool = False
    ) -> SavedOrder:
        """Write `order` if the stored copy is still `previous` (absent when None), with its event in
        the outbox; `saved` False when another writer got there first. `unless_account_deleted` (an import):
        not once the order's account is deleted either (`AccountDeleted`)."""
        put: dict[str, Any] = {"TableName": self._table, "Item": to_wire(order_to_item(order))}
        if previous is None:
            put["ConditionExpression"] = "attribute_not_exists(PK)"
        else:
            # The sweep may have deleted the buyer data meanwhile (it sets `pii_purged_at` only).
            purged = (
                "pii_purged_at = :ppa"
                if previous.pii_purged_at
                else "(attribute_not_exists(pii_purged_at) OR attribute_type(pii_purged_at, :null))"
            )
            put["ConditionExpression"] = (
                f"last_update_date = :lud AND state_version = :sv AND updated_at = :ua AND {purged}"
            )
            put["ExpressionAttributeValues"] = {
                ":lud": {"S": iso(previous.last_update_date)},
                ":sv": {"N": str(previous.state_version)},
                ":ua": {"S": iso(previous.updated_at)},
                **(
                    {":ppa": {"S": iso(previous.pii_purged_at)}} if previous.pii_purged_at else {":null": {"S": "NULL"}}
                ),
            }
        items: list[dict[str, Any]] = [{"Put": put}]
        pii = self._pii_write(order, previous)
        if pii is not None:
            items.append(pii)
        outbox: dict[str, Any] | None = None
        if event is not None:
            detail = event_detail(order, event, previous)
            version = f"{order.state_version:06d}"
            outbox = {
                "PK": client_pk(order.client_id),
                "SK": f"OUTBOX#{order.amazon_order_id}#{version}",
                "entity": "outbox",
                "detail_type": event,
                "detail": detail,
                "GSI1PK": OUTBOX_PARTITION,
                "GSI1SK": f"{iso(order.updated_at)}#{order.client_id}#{order.amazon_order_id}#{version}",
            }
            items.append({"Put": {"TableName": self._table, "Item": to_wire(outbox)}})
        if unless_account_deleted:
            items.append(unless_deleted(self._table, order.client_id, order.account_id))
        try:
            with dynamodb_errors("save order"):
                self._db.transact_write_items(TransactItems=items)
        except ClientError as error:
            if error_code(error) != "TransactionCanceledException":
                raise
            if unless_account_deleted and cancellation_codes(error)[-1:] == ["ConditionalCheckFailed"]:
                raise AccountDeleted(f"No account {order.account_id}: it was deleted.") from error
            return SavedOrder(saved=False, event=None)
        return SavedOrder(saved=True, event=outbox)

    # ---- the buyer's data
    def open_pii(self, order: Order) -> OrderPii | None:
        """The order's sealed buyer data, opened (None when the connector holds none)."""
        if not order.has_pii or order.pii_purged_at is not None:
            return None
        with dynamodb_errors("get buyer data"):
            response = self._db.get_item(
                TableName=self._table,
                Key=key(client_pk(order.client_id), pii_sk(order.amazon_order_id)),
                ConsistentRead=True,
            )
        if "Item" not in response:
            return None
        if self._vault is None:
            raise RuntimeError("opening buyer data needs a PII vault")
        sealed = [bytes(blob["B"]) for blob in response["Item"]["sealed"]["L"]]
        return self._vault.open(order.client_id, order.amazon_order_id, sealed)

    def expiring_pii(self, now: datetime, limit: int = 100) -> list[tuple[str, str]]:
        """(client, order) of sealed buyer data whose deletion time has come, oldest first."""
        with dynamodb_errors("expired buyer data"):
            response = self._db.query(
                TableName=self._table,
                IndexName="GSI1",
                KeyConditionExpression="GSI1PK = :p AND GSI1SK < :now",
                ExpressionAttributeValues={":p": {"S": PII_EXPIRY_PARTITION}, ":now": {"S": iso(now)}},
                ProjectionExpression="client_id, amazon_order_id",
                Limit=limit,
            )
        return [(item["client_id"]["S"], item["amazon_order_id"]["S"]) for item in response.get("Items", [])]

    def purge_pii(self, client_id: str, order_id: str, now: datetime) -> bool:
        """Delete an order's buyer data and record when, in one transaction; False if that was done
        before. (DynamoDB's TTL may have deleted the item already: the order still records it.)"""
        try:
            with dynamodb_errors("delete buyer data"):
                self._db.transact_write_items(
                    TransactItems=[
                        {"Delete": {"TableName": self._table, "Key": key(client_pk(client_id), pii_sk(order_id))}},
                        {
                            "Update": {
                                "TableName": self._table,
                                "Key": key(client_pk(client_id), order_sk(order_id)),
                                "UpdateExpression": "SET pii_purged_at = :now, has_pii = :false",
                                "ConditionExpression": "attribute_exists(PK) AND (attribute_not_exists(pii_purged_at)"
                                " OR attribute_type(pii_purged_at, :null))",
                                "ExpressionAttributeValues": {
                                    ":now": {"S": iso(now)},
                                    ":false": {"BOOL": False},
                                    ":null": {"S": "NULL"},
                                },
                            }
                        },
                    ]
                )
        except ClientError as error:
            if error_code(error) != "TransactionCanceledException":
                raise
            # Recorded before (or the order is gone): the data still goes.
            with dynamodb_errors("delete buyer data"):
                self._db.delete_item(TableName=self._table, Key=key(client_pk(client_id), pii_sk(order_id)))
            return False
        return True

    def page(
        self,
        client_id: str,
        *,
        account_id: str | None,
        status: str | None,
        since: datetime | None,
        limit: int,
        next_token: str | None,
    ) -> Page[Order]:
        partition = client_pk(client_id)
        request: dict[str, Any] = {
            "TableName": self._table,
            "IndexName": "GSI1",
            "KeyConditionExpression": "GSI1PK = :p" + (" AND GSI1SK >= :since" if since else ""),
            "ExpressionAttributeValues": {":p": {"S": f"ORDERS#{client_id}"}},
            "ScanIndexForward": False,
            "Limit": limit,
        }
        if since:
            request["ExpressionAttributeValues"][":since"] = {"S": iso(since)}
        filters, names = [], {}
        if account_id:
            filters.append("account_id = :account")
            request["ExpressionAttributeValues"][":account"] = {"S": account_id}
        if status:
            filters.append("#status = :status")
            names["#status"] = "status"
            request["ExpressionAttributeValues"][":status"] = {"S": status}
        if filters:
            request["FilterExpression"] = " AND ".join(filters)
        if names:
            request["ExpressionAttributeNames"] = names
        start = decode_page_token(
            next_token,
            partition=partition,
            sk_prefix="ORDER#",
            also={"GSI1PK": f"ORDERS#{client_id}"},
            keys=("PK", "SK", "GSI1PK", "GSI1SK"),
        )
        if start:
            request["ExclusiveStartKey"] = {k: {"S": v} for k, v in start.items()}
        with dynamodb_errors("list orders"):
            response = self._db.query(**request)
        last = response.get("LastEvaluatedKey")
        return Page(
            items=[order_from_item(from_wire(item)) for item in response.get("Items", [])],
            next_token=encode_page_token(from_wire(last) if last else None),
        )

    def held_for_term(self, client_id: str, term: str) -> list[Order]:
        """Held orders whose shipping term is unmapped and, zone aside, this one."""
        wanted = _zone_less(term)
        return [o for o in self.held(client_id) if o.unmapped_term and _zone_less(o.unmapped_term) == wanted]

    def held(self, client_id: str) -> list[Order]:
        request: dict[str, Any] = {
            "TableName": self._table,
            "IndexName": "GSI2",
            "KeyConditionExpression": "GSI2PK = :p",
            "ExpressionAttributeValues": {":p": {"S": held_partition(client_id)}},
        }
        orders: list[Order] = []
        while True:
            with dynamodb_errors("held orders"):
                page = self._db.query(**request)
            orders.extend(order_from_item(from_wire(item)) for item in page.get("Items", []))
            if "LastEvaluatedKey" not in page:
                return orders
            request["ExclusiveStartKey"] = page["LastEvaluatedKey"]

    # ---- the outbox
    def pending_events(self, limit: int = 100, *, written_before: datetime | None = None) -> list[dict[str, Any]]:
        """Unsent events, oldest first (`GSI1SK` starts with the time they were written)."""
        condition, values = "GSI1PK = :p", {":p": {"S": OUTBOX_PARTITION}}
        if written_before is not None:
            condition += " AND GSI1SK < :before"
            values[":before"] = {"S": iso(written_before)}
        with dynamodb_errors("outbox"):
            response = self._db.query(
                TableName=self._table,
                IndexName="GSI1",
                KeyConditionExpression=condition,
                ExpressionAttributeValues=values,
                Limit=limit,
            )
        return [from_wire(item) for item in response.get("Items", [])]

    def events_of(self, client_id: str, order_ids: Sequence[str]) -> Iterator[dict[str, Any]]:
        for order_id in dict.fromkeys(order_ids):
            with dynamodb_errors("outbox"):
                response = self._db.query(
                    TableName=self._table,
                    KeyConditionExpression="PK = :pk AND begins_with(SK, :prefix)",
                    ExpressionAttributeValues={
                        ":pk": {"S": client_pk(client_id)},
                        ":prefix": {"S": f"OUTBOX#{order_id}#"},
                    },
                    ConsistentRead=True,
                )
            yield from (from_wire(item) for item in response.get("Items", []))

    def delete_events(self, events: Sequence[dict[str, Any]]) -> None:
        from oms_amazon.adapters.dynamodb import batch_write

        requests = [{"DeleteRequest": {"Key": key(e["PK"], e["SK"])}} for e in events]
        batch_write(self._db, self._table, requests, "delete sent events")
