"""Orders, the order import's state and the event bus (`OrderStore`, `ImportState`, `EventPublisher`)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from oms_amazon.adapters.orders import SavedOrder
from oms_amazon.domain.accounts import Account
from oms_amazon.domain.orders import ImportCheckpoint, Order, OrderPii

from fakes.accounts import FakeAccounts


@dataclass
class FakeOrders:
    """Orders stored once per version (a save conditional on the previous one) and their outbox."""

    orders: dict[tuple[str, str], Order] = field(default_factory=dict)
    outbox: list[dict[str, Any]] = field(default_factory=list)

    def get(self, client_id: str, order_id: str) -> Order | None:
        return self.orders.get((client_id, order_id))

    def get_many(self, client_id: str, order_ids: list[str]) -> dict[str, Order]:
        return {i: o for i in order_ids if (o := self.orders.get((client_id, i))) is not None}

    def save(
        self, order: Order, *, previous: Order | None, event: Any, unless_account_deleted: bool = False
    ) -> SavedOrder:
        # No account is deleted under these fakes: `unless_account_deleted` never refuses here.
        if self.orders.get((order.client_id, order.amazon_order_id)) != previous:
            return SavedOrder(False, None)
        self.orders[(order.client_id, order.amazon_order_id)] = order
        item = {"type": event, "order_id": order.amazon_order_id, "client_id": order.client_id} if event else None
        if item is not None:
            self.outbox.append(item)
        return SavedOrder(True, item)

    def held_for_term(self, client_id: str, term: str) -> list[Order]:
        return [o for (c, _), o in self.orders.items() if c == client_id and o.unmapped_term == term]

    def held(self, client_id: str) -> list[Order]:
        return [o for (c, _), o in self.orders.items() if c == client_id and o.status == "on_hold"]

    def open_pii(self, order: Order) -> OrderPii | None:
        return order.pii

    def expiring_pii(self, now: datetime, limit: int = 100) -> list[tuple[str, str]]:
        return []

    def purge_pii(self, client_id: str, order_id: str, now: datetime) -> bool:
        return False

    def pending_events(self, limit: int = 100, *, written_before: datetime | None = None) -> list[dict[str, Any]]:
        return self.outbox[:limit]

    def delete_events(self, events: list[dict[str, Any]]) -> None:
        sent = {id(e) for e in events}
        self.outbox = [e for e in self.outbox if id(e) not in sent]


@dataclass
class FakeImportState:
    """Every account imports; its watermark is kept on the account, checkpoints by seller and region."""

    accounts: FakeAccounts
    checkpoints: dict[tuple[str, str, str], ImportCheckpoint] = field(default_factory=dict)

    def import_accounts(self) -> Iterator[Account]:
        return iter(list(self.accounts.accounts.values()))

    def claim(self, account: Account, now: datetime, *, cutoff: datetime | None) -> bool:
        return True

    def advance_watermark(self, account: Account, new: datetime) -> bool:
        current = self.accounts.get(account.client_id, account.id)
        if current is None:
            return False
        self.accounts.add(current.with_changes(last_order_import_at=new))
        return True

    def checkpoint(self, client_id: str, merchant_id: str, region: str) -> ImportCheckpoint | None:
        return self.checkpoints.get((client_id, merchant_id, region))

    def save_checkpoint(self, client_id: str, merchant_id: str, region: str, checkpoint: ImportCheckpoint) -> None:
        self.checkpoints[(client_id, merchant_id, region)] = checkpoint

    def clear_checkpoint(self, client_id: str, merchant_id: str, region: str) -> None:
        self.checkpoints.pop((client_id, merchant_id, region), None)


@dataclass
class CountingPublisher:
    published: int = 0

    def publish(self, events: list[dict[str, Any]]) -> None:
        self.published += len(events)
