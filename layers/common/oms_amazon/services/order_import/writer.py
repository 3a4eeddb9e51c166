"""A judged order stored once, with the buyer's data only while the warehouse needs it (§6.8) and the
unmapped-terms view kept in step; and the outbox relay that sends the order events to the bus."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from oms_amazon.domain.orders import Order, event_type
from oms_amazon.observability import count, logger
from oms_amazon.services.order_import.ports import EventPublisher, OrderStore, UnmappedTerms


class OutboxRelay:
    """Sends outbox events to the bus and then removes them; what a crash leaves is sent by the tick."""

    def __init__(self, orders: OrderStore, publisher: EventPublisher) -> None:
        self._orders = orders
        self._publisher = publisher

    def send(self, events: list[dict[str, Any]]) -> None:
        if not events:
            return
        self._publisher.publish(events)
        self._orders.delete_events(events)

    def relay_pending(self, *, written_before: datetime | None = None) -> int:
        sent = 0
        while True:
            events = self._orders.pending_events(100, written_before=written_before)
            if not events:
                return sent
            self.send(events)
            sent += len(events)


class OrderWriter:
    """Stores a judged order once, keeps the unmapped-terms view in step, and gives back its outbox event.

    The buyer's data goes along only while the warehouse needs it (§6.8): never for an order it does
    not ship, never again once deleted, and with a deletion time from the moment the order ships or is
    cancelled."""

    def __init__(
        self,
        orders: OrderStore,
        unmapped: UnmappedTerms,
        pii_retention: timedelta = timedelta(days=30),
    ) -> None:
        self._orders = orders
        self._unmapped = unmapped
        self._pii_retention = pii_retention

    def _with_pii_rules(self, order: Order) -> Order:
        if order.status == "not_for_us" or order.pii_purged_at is not None:
            order = order.with_changes(pii=None)
        if order.pii is not None:
            order = order.with_changes(has_pii=True)
        finished = order.is_finished or order.status == "not_for_us"
        if finished and order.has_pii and order.pii_expires_at is None:
            order = order.with_changes(pii_expires_at=order.updated_at + self._pii_retention)
        return order

    def write(
        self, order: Order, previous: Order | None, *, unless_account_deleted: bool = False
    ) -> tuple[bool, dict[str, Any] | None]:
        """`unless_account_deleted`: an import's write, refused with `AccountDeleted` once the order's account
        is deleted (an operator's release or a re-evaluation of an order that stays is not)."""
        order = self._with_pii_rules(order)
        event = event_type(previous, order)
        result = self._orders.save(order, previous=previous, event=event, unless_account_deleted=unless_account_deleted)
        if not result.saved:
            return False, None
        if order.unmapped_term:
            if self._unmapped.record_unmapped(
                order.client_id, order.marketplace, order.unmapped_term, order.amazon_order_id, order.updated_at
            ):
                count("UnmappedTerms", marketplace=order.marketplace)
        elif previous is not None and previous.unmapped_term:
            self._unmapped.clear_unmapped(order.client_id, order.amazon_order_id)
        if result.event is None:
            count("OrdersUpdated")
        elif previous is None:
            count("OrdersImported")
        for hold in order.hold_reasons if event else ():
            count("OrdersHeld", reason=hold.code)
        if event and order.status == "on_hold":
            logger.info(
                "order held",
                extra={
                    "client_id": order.client_id,
                    "account_id": order.account_id,
                    "marketplace": order.marketplace,
                    "amazon_order_id": order.amazon_order_id,
                    "hold_reasons": [hold.code for hold in order.hold_reasons],
                    "shipping_term": order.shipping_term,
                },
            )
        return True, result.event
