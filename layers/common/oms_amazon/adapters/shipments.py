"""Shipments in DynamoDB, under their order in the client's partition, and their queue.

- `CLIENT#<client>` / `ORDER#<order>#SHIPMENTS`: the order's shipment ledger: `count` (the last
  sequence given) and `references` (package reference -> sequence). Every new shipment rewrites it on
  the condition that it is unchanged since it was read, so concurrent POSTs are serialised per order
  and a package reference is taken once.
- `CLIENT#<client>` / `ORDER#<order>#SHIPMENT#<sequence, 4 digits>`: a shipment; a Query on the
  prefix lists an order's audit trail in submission order.
- `CLIENT#<client>` / `OUTBOX#SHIPMENT#<order>#<sequence>`: the event of a final status, written in
  the same transaction as the status and listed in `GSI1` under `OUTBOX`, where the orders' outbox
  relay (`OutboxRelay`) finds, sends and deletes it.
"""

from __future__ import annotations

import json
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

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
from oms_amazon.adapters.orders import OUTBOX_PARTITION, order_sk
from oms_amazon.domain.errors import DependencyUnavailable
from oms_amazon.domain.shipments import (
    EventType,
    Reason,
    SavedShipment,
    Shipment,
    ShipmentLedger,
    ShipmentLine,
)
from oms_amazon.ports import Page


def ledger_sk(order_id: str) -> str:
    return f"{order_sk(order_id)}#SHIPMENTS"


def shipments_prefix(order_id: str) -> str:
    return f"{order_sk(order_id)}#SHIPMENT#"


def shipment_sk(order_id: str, sequence: int) -> str:
    return f"{shipments_prefix(order_id)}{sequence:04d}"


def _optional_iso(moment: Any) -> str | None:
    return iso(moment) if moment is not None else None


def shipment_to_item(shipment: Shipment) -> dict[str, Any]:
    return {
        "PK": client_pk(shipment.client_id),
        "SK": shipment_sk(shipment.amazon_order_id, shipment.sequence),
        "entity": "shipment",
        "client_id": shipment.client_id,
        "amazon_order_id": shipment.amazon_order_id,
        "sequence": shipment.sequence,
        "account_id": shipment.account_id,
        "marketplace": shipment.marketplace,
        "package_reference_id": shipment.package_reference_id,
        "carrier_code": shipment.carrier_code,
        "carrier_name": shipment.carrier_name,
        "requested_carrier_code": shipment.requested_carrier_code,
        "shipping_method": shipment.shipping_method,
        "tracking_number": shipment.tracking_number,
        "ship_date": shipment.ship_date.isoformat(),
        "lines": [line.to_dict() for line in shipment.lines],
        "reference": shipment.reference,
        "fingerprint": shipment.fingerprint,
        "status": shipment.status,
        "reason": shipment.reason.to_dict() if shipment.reason else None,
        "attempts": shipment.attempts,
        "job_token": shipment.job_token,
        "created_at": iso(shipment.created_at),
        "updated_at": iso(shipment.updated_at),
        "last_attempt_at": _optional_iso(shipment.last_attempt_at),
        "next_attempt_at": _optional_iso(shipment.next_attempt_at),
        "completed_at": _optional_iso(shipment.completed_at),
    }


def _optional_moment(item: dict[str, Any], name: str) -> Any:
    return parse_iso(item[name]) if item.get(name) else None


def shipment_from_item(item: dict[str, Any]) -> Shipment:
    reason = item.get("reason")
    return Shipment(
        client_id=item["client_id"],
        amazon_order_id=item["amazon_order_id"],
        sequence=int(item["sequence"]),
        account_id=item["account_id"],
        marketplace=item["marketplace"],
        package_reference_id=item["package_reference_id"],
        carrier_code=item["carrier_code"],
        carrier_name=item.get("carrier_name"),
        requested_carrier_code=item["requested_carrier_code"],
        shipping_method=item["shipping_method"],
        tracking_number=item["tracking_number"],
        ship_date=parse_iso(item["ship_date"]),
        lines=tuple(ShipmentLine(line["order_item_id"], int(line["quantity"])) for line in item["lines"]),
        reference=item.get("reference"),
        fingerprint=item["fingerprint"],
        status=item["status"],
        reason=Reason(reason["code"], reason["message"], reason.get("amazon_status")) if reason else None,
        attempts=int(item["attempts"]),
        job_token=item["job_token"],
        created_at=parse_iso(item["created_at"]),
        updated_at=parse_iso(item["updated_at"]),
        last_attempt_at=_optional_moment(item, "last_attempt_at"),
        next_attempt_at=_optional_moment(item, "next_attempt_at"),
        completed_at=_optional_moment(item, "completed_at"),
    )


def event_detail(shipment: Shipment, event: EventType) -> dict[str, Any]:
    return {
        "event_id": f"{shipment.shipment_id}:{shipment.status}",
        "detail_type": event,
        "shipment_id": shipment.shipment_id,
        "amazon_order_id": shipment.amazon_order_id,
        "client_id": shipment.client_id,
        "account_id": shipment.account_id,
        "marketplace": shipment.marketplace,
        "package_reference_id": shipment.package_reference_id,
        "status": shipment.status,
        "reason": shipment.reason.to_dict() if shipment.reason else None,
        "carrier_code": shipment.carrier_code,
        "carrier_name": shipment.carrier_name,
        "tracking_number": shipment.tracking_number,
        "lines": [line.to_dict() for line in shipment.lines],
        "attempts": shipment.attempts,
    }


class DynamoShipmentRepository:
    def __init__(self, client: Any, table_name: str) -> None:
        self._db = client
        self._table = table_name

    def ledger(self, client_id: str, order_id: str) -> ShipmentLedger:
        with dynamodb_errors("get shipment ledger"):
            response = self._db.get_item(
                TableName=self._table, Key=key(client_pk(client_id), ledger_sk(order_id)), ConsistentRead=True
            )
        if "Item" not in response:
            return ShipmentLedger()
        item = from_wire(response["Item"])
        return ShipmentLedger(int(item["count"]), {k: int(v) for k, v in (item.get("references") or {}).items()})

    def get(self, client_id: str, order_id: str, sequence: int) -> Shipment | None:
        with dynamodb_errors("get shipment"):
            response = self._db.get_item(
                TableName=self._table,
                Key=key(client_pk(client_id), shipment_sk(order_id, sequence)),
                ConsistentRead=True,
            )
        return shipment_from_item(from_wire(response["Item"])) if "Item" in response else None

    def _query(self, client_id: str, order_id: str, *, limit: int | None, start: dict[str, Any] | None) -> Any:
        request: dict[str, Any] = {
            "TableName": self._table,
            "KeyConditionExpression": "PK = :pk AND begins_with(SK, :prefix)",
            "ExpressionAttributeValues": {
                ":pk": {"S": client_pk(client_id)},
                ":prefix": {"S": shipments_prefix(order_id)},
            },
            "ConsistentRead": True,
        }
        if limit is not None:
            request["Limit"] = limit
        if start:
            request["ExclusiveStartKey"] = start
        with dynamodb_errors("list shipments"):
            return self._db.query(**request)

    def of_order(self, client_id: str, order_id: str) -> list[Shipment]:
        shipments: list[Shipment] = []
        start: dict[str, Any] | None = None
        while True:
            response = self._query(client_id, order_id, limit=None, start=start)
            shipments.extend(shipment_from_item(from_wire(item)) for item in response.get("Items", []))
            start = response.get("LastEvaluatedKey")
            if not start:
                return shipments

    def page(self, client_id: str, order_id: str, *, limit: int, next_token: str | None) -> Page[Shipment]:
        start = decode_page_token(next_token, partition=client_pk(client_id), sk_prefix=shipments_prefix(order_id))
        response = self._query(
            client_id, order_id, limit=limit, start={k: {"S": v} for k, v in start.items()} if start else None
        )
        last = response.get("LastEvaluatedKey")
        return Page(
            items=[shipment_from_item(from_wire(item)) for item in response.get("Items", [])],
            next_token=encode_page_token(from_wire(last) if last else None),
        )

    def create(self, shipment: Shipment, *, ledger: ShipmentLedger) -> bool:
        previous = ledger.count - 1
        ledger_item = {
            "PK": client_pk(shipment.client_id),
            "SK": ledger_sk(shipment.amazon_order_id),
            "entity": "shipment_ledger",
            "count": ledger.count,
            "references": dict(ledger.references or {}),
        }
        ledger_put: dict[str, Any] = {"TableName": self._table, "Item": to_wire(ledger_item)}
        if previous == 0:
            ledger_put["ConditionExpression"] = "attribute_not_exists(PK)"
        else:
            ledger_put["ConditionExpression"] = "#count = :previous"
            ledger_put["ExpressionAttributeNames"] = {"#count": "count"}
            ledger_put["ExpressionAttributeValues"] = {":previous": {"N": str(previous)}}
        items = [
            {
                "Put": {
                    "TableName": self._table,
                    "Item": to_wire(shipment_to_item(shipment)),
                    "ConditionExpression": "attribute_not_exists(PK)",
                }
            },
            {"Put": ledger_put},
        ]
        return self._transact(items, "create shipment")

    def record_attempt(self, shipment: Shipment, *, token: str) -> bool:
        try:
            with dynamodb_errors("record shipment attempt"):
                self._db.put_item(
                    TableName=self._table, Item=to_wire(shipment_to_item(shipment)), **self._still_owned(token)
                )
        except ClientError as error:
            if error_code(error) == "ConditionalCheckFailedException":
                return False
            raise
        return True

    def finish(self, shipment: Shipment, *, token: str, event: EventType) -> SavedShipment:
        outbox = {
            "PK": client_pk(shipment.client_id),
            "SK": f"OUTBOX#SHIPMENT#{shipment.amazon_order_id}#{shipment.sequence:04d}",
            "entity": "outbox",
            "detail_type": event,
            "detail": event_detail(shipment, event),
            "GSI1PK": OUTBOX_PARTITION,
            "GSI1SK": f"{iso(shipment.updated_at)}#{shipment.client_id}#{shipment.shipment_id}",
        }
        items = [
            {
                "Put": {
                    "TableName": self._table,
                    "Item": to_wire(shipment_to_item(shipment)),
                    **self._still_owned(token),
                }
            },
            {"Put": {"TableName": self._table, "Item": to_wire(outbox)}},
        ]
        if not self._transact(items, "finish shipment"):
            return SavedShipment(saved=False, event=None)
        return SavedShipment(saved=True, event=outbox)

    @staticmethod
    def _still_owned(token: str) -> dict[str, Any]:
        return {
            "ConditionExpression": "job_token = :token AND #status = :submitted",
            "ExpressionAttributeNames": {"#status": "status"},
            "ExpressionAttributeValues": {":token": {"S": token}, ":submitted": {"S": "submitted"}},
        }

    def _transact(self, items: list[dict[str, Any]], operation: str) -> bool:
        try:
            with dynamodb_errors(operation):
                self._db.transact_write_items(TransactItems=items)
        except ClientError as error:
            if error_code(error) == "TransactionCanceledException":
                return False
            raise
        return True


class SqsShipmentQueue:
    """A standard queue: per-message `DelaySeconds` (FIFO queues have none) spaces the retries."""

    def __init__(self, client: Any, queue_url: str) -> None:
        self._sqs = client
        self._url = queue_url

    def send(self, body: dict[str, Any], *, delay_seconds: int) -> None:
        try:
            self._sqs.send_message(
                QueueUrl=self._url,
                MessageBody=json.dumps(body, separators=(",", ":")),
                DelaySeconds=max(0, min(900, delay_seconds)),
            )
        except (ClientError, BotoCoreError) as error:
            raise DependencyUnavailable("The shipment could not be queued; retry shortly.") from error
