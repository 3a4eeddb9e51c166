"""A seller's marketplace participations as Amazon last gave them: `CLIENT#<client>` /
`PARTICIPATION#<seller>#<region>`, with a TTL two days on (the answer is kept one day)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from oms_amazon.adapters.accounts import client_pk
from oms_amazon.adapters.dynamodb import dynamodb_errors, iso, parse_iso
from oms_amazon.adapters.items import from_wire, key, to_wire
from oms_amazon.domain.authorisation import Participations

EXPIRES_AFTER = timedelta(days=2)


def participation_sk(merchant_id: str, region: str) -> str:
    return f"PARTICIPATION#{merchant_id}#{region}"


class DynamoParticipationStore:
    def __init__(self, client: Any, table_name: str) -> None:
        self._db = client
        self._table = table_name

    def get(self, client_id: str, merchant_id: str, region: str) -> Participations | None:
        with dynamodb_errors("marketplace participations"):
            response = self._db.get_item(
                TableName=self._table, Key=key(client_pk(client_id), participation_sk(merchant_id, region))
            )
        if "Item" not in response:
            return None
        item = from_wire(response["Item"])
        return Participations(frozenset(item.get("marketplace_ids") or ()), parse_iso(item["checked_at"]))

    def put(self, client_id: str, merchant_id: str, region: str, participations: Participations) -> None:
        item: dict[str, Any] = {
            "PK": client_pk(client_id),
            "SK": participation_sk(merchant_id, region),
            "entity": "participations",
            "marketplace_ids": sorted(participations.marketplace_ids),
            "checked_at": iso(participations.checked_at),
            "ttl": int((participations.checked_at + EXPIRES_AFTER).timestamp()),
        }
        with dynamodb_errors("save marketplace participations"):
            self._db.put_item(TableName=self._table, Item=to_wire(item))
