"""Orders routes (SPEC §6, §7): the imported orders, re-evaluation, and importing now."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Path, Query
from pydantic import BaseModel

from oms_amazon import wiring
from oms_amazon.adapters.dynamodb import iso
from oms_amazon.api.identity import acting_client
from oms_amazon.domain.errors import InvalidInput, NotFound
from oms_amazon.domain.orders import Order

router = Router()

# Amazon order ids are 3-7-7 digits; anything else cannot name an order.
OrderId = Annotated[str, Path(min_length=19, max_length=19, pattern=r"^\d{3}-\d{7}-\d{7}$")]
AccountId = Annotated[str, Path(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_-]+$")]


class OrderOut(BaseModel):
    amazon_order_id: str
    account_id: str
    client_id: str
    marketplace: str
    purchase_date: str
    last_update_date: str
    amazon_status: str
    fulfillment_channel: str
    is_prime: bool
    is_premium: bool
    ship_service_level: str | None
    service_level_category: str | None
    shipping_term: str
    term_recognized: bool
    courier_service: str | None
    matched_mapping: str | None
    status: Literal["ready", "on_hold", "cancelled"]
    hold_reasons: list[dict[str, Any]]
    lines: list[dict[str, Any]]
    ship_by: str | None
    imported_at: str
    updated_at: str


class OrderList(BaseModel):
    items: list[OrderOut]
    next_token: str | None


def order_view(order: Order) -> OrderOut:
    return OrderOut(
        amazon_order_id=order.amazon_order_id,
        account_id=order.account_id,
        client_id=order.client_id,
        marketplace=order.marketplace,
        purchase_date=iso(order.purchase_date),
        last_update_date=iso(order.last_update_date),
        amazon_status=order.amazon_status,
        fulfillment_channel=order.fulfillment_channel,
        is_prime=order.is_prime,
        is_premium=order.is_premium,
        ship_service_level=order.ship_service_level,
        service_level_category=order.service_level_category,
        shipping_term=order.shipping_term,
        term_recognized=order.term_recognized,
        courier_service=order.courier_service,
        matched_mapping=order.matched_mapping,
        status=order.status,
        hold_reasons=[h.to_dict() for h in order.hold_reasons],
        lines=[line.to_dict() for line in order.lines],
        ship_by=iso(order.ship_by) if order.ship_by else None,
        imported_at=iso(order.imported_at),
        updated_at=iso(order.updated_at),
    )


def _client() -> str:
    return acting_client(router.current_event.raw_event)


@router.get("/orders", tags=["orders"])
def list_orders(
    account_id: Annotated[str | None, Query(max_length=64, pattern=r"^[A-Za-z0-9_-]+$")] = None,
    status: Annotated[Literal["ready", "on_hold", "cancelled"] | None, Query()] = None,
    since: Annotated[str | None, Query(max_length=40, description="ISO 8601: orders Amazon updated since")] = None,
    limit: Annotated[int, Query(ge=1, le=100)] = 50,
    next_token: Annotated[str | None, Query(max_length=2048)] = None,
) -> OrderList:
    client_id = _client()
    moment = _parse_since(since)
    page = wiring.order_store().page(
        client_id, account_id=account_id, status=status, since=moment, limit=limit, next_token=next_token
    )
    return OrderList(items=[order_view(o) for o in page.items], next_token=page.next_token)


@router.get("/orders/<order_id>", tags=["orders"])
def get_order(order_id: OrderId) -> OrderOut:
    order = wiring.order_store().get(_client(), order_id)
    if order is None:
        raise NotFound(f"No order {order_id}.", code="order_not_found")
    return order_view(order)


@router.post("/orders/<order_id>/reevaluate", tags=["orders"])
def reevaluate_order(order_id: OrderId) -> OrderOut:
    return order_view(wiring.order_reevaluation().reevaluate(_client(), order_id))


@router.post("/accounts/<account_id>/order-import", tags=["orders"])
def import_orders_now(account_id: AccountId) -> Response[dict[str, str]]:
    wiring.order_import_scheduler().run_now(_client(), account_id)
    return Response(status_code=202, content_type="application/json", body={"status": "queued"})


def _parse_since(text: str | None) -> datetime | None:
    if text is None:
        return None
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError as error:
        raise InvalidInput(
            "since must be an ISO 8601 date-time.", details=[{"field": "since", "reason": "format"}]
        ) from error
    if moment.tzinfo is None:
        raise InvalidInput(
            "since needs a time zone (e.g. 2026-11-29T10:00:00Z).", details=[{"field": "since", "reason": "timezone"}]
        )
    return moment
