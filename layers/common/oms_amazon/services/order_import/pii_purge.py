"""The buyer's data deleted once its retention has passed (§6.8), by the order-import tick or by a
reader that finds it due first."""

from __future__ import annotations

from datetime import datetime

from oms_amazon.domain.orders import Order
from oms_amazon.observability import count, logger
from oms_amazon.ports import Clock
from oms_amazon.services.order_import.ports import OrderStore


class PiiPurge:
    """Deletes the buyer data whose time has come (§6.8): run by the order-import tick, and by a
    reader that finds it due before the tick did. DynamoDB's TTL deletes the items too, eventually;
    this makes the deletion happen within a tick and records it on the order."""

    def __init__(self, orders: OrderStore, clock: Clock) -> None:
        self._orders = orders
        self._clock = clock

    def sweep(self, now: datetime | None = None, *, limit: int = 1000) -> int:
        now = now or self._clock()
        purged = 0
        while purged < limit:
            due = self._orders.expiring_pii(now, min(100, limit - purged))
            if not due:
                break
            for client_id, order_id in due:
                self._orders.purge_pii(client_id, order_id, now)
                purged += 1
        if purged:
            count("OrdersPiiPurged", purged)
            logger.info("buyer data deleted after the retention period", extra={"orders": purged})
        return purged

    def opened(self, order: Order) -> Order:
        """The order with its buyer data opened for one caller, or deleted first if its time has come."""
        now = self._clock()
        if order.has_pii and order.pii_expires_at is not None and order.pii_expires_at <= now:
            self._orders.purge_pii(order.client_id, order.amazon_order_id, now)
            purged = self._orders.get(order.client_id, order.amazon_order_id)
            return purged or order.with_changes(has_pii=False, pii_purged_at=now)
        return order.with_changes(pii=self._orders.open_pii(order))
