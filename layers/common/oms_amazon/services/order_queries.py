"""What the API reads of the imported orders (SPEC §6, §7): every read is of the acting client's own orders
(the repository's partition is the client), and the one read that opens the buyer's data goes through
`PiiPurge.opened`, which deletes that data first when its time has come."""

from __future__ import annotations

from datetime import datetime
from typing import Protocol

from oms_amazon.domain.errors import NotFound
from oms_amazon.domain.orders import Order
from oms_amazon.ports import Page
from oms_amazon.services.order_import.pii_purge import PiiPurge


class OrderPages(Protocol):
    def page(
        self,
        client_id: str,
        *,
        account_id: str | None,
        status: str | None,
        since: datetime | None,
        limit: int,
        next_token: str | None,
    ) -> Page[Order]: ...

    def get(self, client_id: str, order_id: str) -> Order | None: ...


class OrderQueries:
    def __init__(self, orders: OrderPages, purge: PiiPurge) -> None:
        self._orders = orders
        self._purge = purge

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
        """The client's orders, newest update first, without the buyer's data."""
        return self._orders.page(
            client_id, account_id=account_id, status=status, since=since, limit=limit, next_token=next_token
        )

    def with_buyer_data(self, client_id: str, order_id: str) -> Order:
        """The order as the warehouse ships it, its buyer data opened for this caller (404 if not the client's)."""
        order = self._orders.get(client_id, order_id)
        if order is None:
            raise NotFound(f"No order {order_id}.", code="order_not_found")
        return self._purge.opened(order)
