"""Orders: searchOrders and getOrder (Orders 2026-01-01), and the Orders v0 reads, with the buyer's data
behind a Restricted Data Token (`with_pii`). Paged reads go through `pagination.paginate`."""

from __future__ import annotations

from collections.abc import Sequence

from oms_amazon.adapters.sp_api import builders
from oms_amazon.adapters.sp_api.builders import DateTimeLike
from oms_amazon.adapters.sp_api.models import (
    GetOrderItemsPage,
    GetOrdersPage,
    Order2026,
    OrderItemV0,
    OrderV0,
    SearchOrdersPage,
)
from oms_amazon.adapters.sp_api.pagination import paginate
from oms_amazon.adapters.sp_api.responses import parse, payload
from oms_amazon.adapters.sp_api.transport import Operations


def _v0_restricted(with_pii: bool) -> tuple[builders.RestrictedResource, ...]:
    return builders.V0_ORDER_PII if with_pii else ()


class OrdersApi(Operations):
    def search_orders(
        self,
        *,
        marketplace_ids: Sequence[str],
        last_updated_after: DateTimeLike | None = None,
        created_after: DateTimeLike | None = None,
        last_updated_before: DateTimeLike | None = None,
        fulfilled_by: Sequence[str] | None = None,
        fulfillment_statuses: Sequence[str] | None = None,
        included_data: Sequence[str] | None = None,
        max_results_per_page: int = builders.MAX_ORDERS_PER_PAGE,
        pagination_token: str | None = None,
    ) -> SearchOrdersPage:
        """One page of orders (Orders 2026-01-01); the filters stay the same on every page of a series."""
        request = builders.search_orders(
            marketplace_ids=marketplace_ids,
            last_updated_after=last_updated_after,
            created_after=created_after,
            last_updated_before=last_updated_before,
            fulfilled_by=fulfilled_by,
            fulfillment_statuses=fulfillment_statuses,
            included_data=included_data,
            max_results_per_page=max_results_per_page,
            pagination_token=pagination_token,
        )
        return parse(SearchOrdersPage, self._transport.send(request))

    def get_order(self, order_id: str, *, included_data: Sequence[str] | None = None) -> Order2026:
        """One order (Orders 2026-01-01), e.g. with `PACKAGES`: the shipments Amazon has on record."""
        answer = self._transport.send(builders.get_order_2026(order_id, included_data=included_data))
        body = answer.body.get("order") if isinstance(answer.body, dict) else None
        return parse(Order2026, body, "getOrder")

    def get_orders(
        self,
        *,
        marketplace_ids: Sequence[str],
        last_updated_after: DateTimeLike | None = None,
        created_after: DateTimeLike | None = None,
        last_updated_before: DateTimeLike | None = None,
        fulfillment_channels: Sequence[str] | None = None,
        order_statuses: Sequence[str] | None = None,
        max_results_per_page: int = builders.MAX_ORDERS_PER_PAGE,
        next_token: str | None = None,
        with_pii: bool = False,
        amazon_order_ids: Sequence[str] | None = None,
    ) -> GetOrdersPage:
        """One page of orders (Orders v0). `with_pii`: ask for a Restricted Data Token first, so the
        address and buyer come along."""
        request = builders.get_orders(
            marketplace_ids=marketplace_ids,
            last_updated_after=last_updated_after,
            created_after=created_after,
            last_updated_before=last_updated_before,
            fulfillment_channels=fulfillment_channels,
            order_statuses=order_statuses,
            max_results_per_page=max_results_per_page,
            next_token=next_token,
            restricted=_v0_restricted(with_pii),
            amazon_order_ids=amazon_order_ids,
        )
        return parse(GetOrdersPage, payload(self._transport.send(request)), request.operation)

    def get_order_v0(self, order_id: str, *, with_pii: bool = False) -> OrderV0:
        """One order (Orders v0 getOrder), with its address and buyer when `with_pii`."""
        request = builders.get_order_v0(order_id, restricted=_v0_restricted(with_pii))
        return parse(OrderV0, payload(self._transport.send(request)), request.operation)

    def get_order_items(
        self, order_id: str, *, next_token: str | None = None, with_pii: bool = False
    ) -> GetOrderItemsPage:
        request = builders.get_order_items(order_id, next_token=next_token, restricted=_v0_restricted(with_pii))
        return parse(GetOrderItemsPage, payload(self._transport.send(request)), request.operation)

    def list_order_items(self, order_id: str, *, with_pii: bool = False) -> list[OrderItemV0]:
        """Every item of an order (getOrderItems pages through long orders with NextToken)."""
        pages = paginate(lambda token: self.get_order_items(order_id, next_token=token, with_pii=with_pii))
        return [item for page in pages for item in page.order_items]
