"""Orders in DynamoDB, with their events in a transactional outbox.

- `CLIENT#<client>` / `ORDER#<amazon order id>`: the order. Written with a condition on what the
  writer read (absent, or the same last-update time and state version), so a re-import never
  overwrites a newer copy and two imports never both win.
- In `GSI1` under `ORDERS#<client>`, by last-update time: `GET /orders`, newest first.
- In `GSI2` under `HELDTERM#<client>#<zone-less term>` while held for an unmapped shipping term: a
  new mapping finds the orders it may release with a Query.
- `CLIENT#<client>` / `OUTBOX#<order>#<state version>`: the event of a state change, written in the
  same transaction as the order (no dual write can lose one); in `GSI1` under `OUTBOX` until sent.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from botocore.exceptions import ClientError

from oms_amazon.adapters.accounts import client_pk
from oms_amazon.adapters.dynamodb import (
    decode_page_token,
    dynamodb_errors,
    encode_page_token,
    error_code,
    iso,
    parse_iso,
)
from oms_amazon.adapters.items import from_wire, key, to_wire
from oms_amazon.domain.orders import EventType, HoldReason, Money, Order, OrderLine
from oms_amazon.ports import Page
from oms_amazon.shipping import without_zone

OUTBOX_PARTITION = "OUTBOX"


@dataclass(frozen=True, slots=True)
class SavedOrder:
    saved: bool
    event: dict[str, Any] | None  # the outbox item written with the order, to publish now


def order_sk(order_id: str) -> str:
    return f"ORDER#{order_id}"


def held_term_partition(client_id: str, term: str) -> str:
    return f"HELDTERM#{client_id}#{without_zone(term) or term}"


def _money(raw: dict[str, str] | None) -> Money | None:
    return Money(Decimal(raw["amount"]), raw["currency"]) if raw else None


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
        "ship_by": iso(order.ship_by) if order.ship_by else None,
        "imported_at": iso(order.imported_at),
        "updated_at": iso(order.updated_at),
        "state_version": order.state_version,
        "GSI1PK": f"ORDERS#{order.client_id}",
        "GSI1SK": f"{iso(order.last_update_date)}#{order.amazon_order_id}",
    }
    if order.unmapped_term:
        item["GSI2PK"] = held_term_partition(order.client_id, order.unmapped_term)
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
        lines=tuple(
            OrderLine(
                line["order_item_id"],
                line["seller_sku"],
                line.get("oms_sku"),
                int(line["quantity"]),
                _money(line.get("unit_price")),
            )
            for line in item.get("lines") or ()
        ),
        ship_by=parse_iso(item["ship_by"]) if item.get("ship_by") else None,
        imported_at=parse_iso(item["imported_at"]),
        updated_at=parse_iso(item["updated_at"]),
        state_version=int(item.get("state_version", 1)),
    )


def event_detail(order: Order, event: EventType, previous: Order | None) -> dict[str, Any]:
    return {
        "event_id": f"{order.amazon_order_id}:{order.state_version}",
        "amazon_order_id": order.amazon_order_id,
        "client_id": order.client_id,
        "account_id": order.account_id,
        "marketplace": order.marketplace,
        "status": order.status,
        "previous_status": previous.status if previous else None,
        "courier_service": order.courier_service,
        "hold_reasons": [h.code for h in order.hold_reasons],
        "detail_type": event,
    }


class DynamoOrderRepository:
    def __init__(self, client: Any, table_name: str) -> None:
        self._db = client
        self._table = table_name

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

    def save(self, order: Order, *, previous: Order | None, event: EventType | None) -> SavedOrder:
        """Write `order` if the stored copy is still `previous` (absent when None), with its event in
        the outbox; `saved` False when another writer got there first."""
        put: dict[str, Any] = {"TableName": self._table, "Item": to_wire(order_to_item(order))}
        if previous is None:
            put["ConditionExpression"] = "attribute_not_exists(PK)"
        else:
            put["ConditionExpression"] = "last_update_date = :lud AND state_version = :sv AND updated_at = :ua"
            put["ExpressionAttributeValues"] = {
                ":lud": {"S": iso(previous.last_update_date)},
                ":sv": {"N": str(previous.state_version)},
                ":ua": {"S": iso(previous.updated_at)},
            }
        items: list[dict[str, Any]] = [{"Put": put}]
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
        try:
            with dynamodb_errors("save order"):
                self._db.transact_write_items(TransactItems=items)
        except ClientError as error:
            if error_code(error) == "TransactionCanceledException":
                return SavedOrder(saved=False, event=None)
            raise
        return SavedOrder(saved=True, event=outbox)

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
            next_token, partition=partition, sk_prefix="ORDER#", also={"GSI1PK": f"ORDERS#{client_id}"}
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
        request: dict[str, Any] = {
            "TableName": self._table,
            "IndexName": "GSI2",
            "KeyConditionExpression": "GSI2PK = :p",
            "ExpressionAttributeValues": {":p": {"S": held_term_partition(client_id, term)}},
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
