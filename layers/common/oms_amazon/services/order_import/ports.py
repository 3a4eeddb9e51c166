"""What the order import needs from outside, as Protocols in its words: the stored orders and their
outbox, the import's claims, watermarks and checkpoints, Amazon's orders, the client's SKUs and courier
mappings, the event bus and the unmapped-terms view. The adapters and `fakes` implement them."""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Protocol

from oms_amazon.domain.accounts import Account
from oms_amazon.domain.orders import AmazonOrder, ImportCheckpoint, Order, OrderPage, OrderPii
from oms_amazon.domain.sku_aliases import AliasSource, no_aliases
from oms_amazon.shipping import CourierMapping


class OrderStore(Protocol):
    def get(self, client_id: str, order_id: str) -> Order | None: ...

    def get_many(self, client_id: str, order_ids: list[str]) -> dict[str, Order]: ...

    def save(
        self, order: Order, *, previous: Order | None, event: Any, unless_account_deleted: bool = False
    ) -> Any: ...

    def held_for_term(self, client_id: str, term: str) -> list[Order]: ...

    def held(self, client_id: str) -> list[Order]: ...

    def open_pii(self, order: Order) -> OrderPii | None: ...

    def expiring_pii(self, now: datetime, limit: int = 100) -> list[tuple[str, str]]: ...

    def purge_pii(self, client_id: str, order_id: str, now: datetime) -> bool: ...

    def pending_events(self, limit: int = 100, *, written_before: datetime | None = None) -> list[dict[str, Any]]: ...

    def delete_events(self, events: list[dict[str, Any]]) -> None: ...


class ImportState(Protocol):
    def import_accounts(self) -> Iterator[Account]: ...

    def claim(self, account: Account, now: datetime, *, cutoff: datetime | None) -> bool: ...

    def advance_watermark(self, account: Account, new: datetime) -> bool: ...

    def checkpoint(self, client_id: str, merchant_id: str, region: str) -> ImportCheckpoint | None: ...

    def save_checkpoint(self, client_id: str, merchant_id: str, region: str, checkpoint: ImportCheckpoint) -> None: ...

    def clear_checkpoint(self, client_id: str, merchant_id: str, region: str) -> None: ...


class DeletedSweep(Protocol):
    def sweep(self, now: datetime) -> int: ...


class HeldOrderSweep(Protocol):
    def sweep(self, now: datetime | None = None) -> int: ...


class EventPublisher(Protocol):
    def publish(self, events: list[dict[str, Any]]) -> None: ...


class UnmappedTerms(Protocol):
    def record_unmapped(
        self, client_id: str, marketplace: str, term: str, order_id: str, seen_at: datetime
    ) -> bool: ...

    def clear_unmapped(self, client_id: str, order_id: str) -> bool: ...


# Amazon's order search looks no later than two minutes ago; a window never ends later than that.
AMAZON_LAG = timedelta(minutes=2)


class OrderSource(Protocol):
    def orders_since(
        self,
        marketplace_ids: list[str],
        since: datetime,
        api_version: str,
        already_stored: Callable[[list[tuple[str, datetime]]], set[str]] | None = None,
        *,
        recover_levels: bool = False,
        until: datetime | None = None,
        resume_token: str | None = None,
    ) -> Iterator[OrderPage]: ...

    def order_by_id(self, order_id: str, api_version: str) -> AmazonOrder: ...


MappingSource = Callable[[str], list[CourierMapping]]
# (client, SKUs) -> the client's OMS SKUs equal to one of them, or equal to one ignoring letter case: all
# that the checks of order lines with those SKUs need (§6.5), read by key, never the whole catalogue.
SkuSource = Callable[[str, Collection[str]], Collection[str]]


@dataclass(frozen=True, slots=True)
class RuleSources:
    """Where an order's judge reads the client's rules: its OMS SKUs, courier mappings and SKU aliases."""

    skus: SkuSource
    mappings: MappingSource
    aliases: AliasSource = no_aliases
