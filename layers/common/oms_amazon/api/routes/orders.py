"""Orders routes (SPEC §6, §7): the imported orders, re-evaluation, and importing now."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Body, Path, Query
from pydantic import BaseModel, ConfigDict, Field, StrictStr

from oms_amazon.api.identity import client_of, operator_of
from oms_amazon.api.paging import PagedList
from oms_amazon.domain.errors import InvalidInput
from oms_amazon.domain.moments import iso
from oms_amazon.domain.orders import NOT_FOR_US_MESSAGES, Money, Order, OrderLine, OrderStatus
from oms_amazon.wiring import container

router = Router()

# Amazon order ids are 3-7-7 digits; anything else cannot name an order.
OrderId = Annotated[str, Path(min_length=19, max_length=19, pattern=r"^\d{3}-\d{7}-\d{7}$")]
AccountId = Annotated[str, Path(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_-]+$")]


class MoneyOut(BaseModel):
    amount: str
    currency: str


class ShipToOut(BaseModel):
    name: str | None
    company: str | None
    address_line_1: str | None
    address_line_2: str | None
    address_line_3: str | None
    city: str | None
    district: str | None
    state_or_region: str | None
    postal_code: str | None
    country_code: str | None
    phone: str | None
    address_type: str | None
    delivery_instructions: str | None


class BuyerOut(BaseModel):
    name: str | None
    email: str | None = Field(description="Amazon's anonymised relay address")
    company: str | None
    purchase_order_number: str | None


class LineSummaryOut(BaseModel):
    order_item_id: str
    seller_sku: str
    oms_sku: str | None
    asin: str | None
    title: str | None
    condition: str | None
    quantity: int
    unit_price: MoneyOut | None
    item_tax: MoneyOut | None
    promotion_discount: MoneyOut | None
    is_gift: bool


class LineOut(LineSummaryOut):
    gift_message: str | None
    gift_wrap_level: str | None


class NotForUsOut(BaseModel):
    code: str
    message: str


class _OrderFields(BaseModel):
    amazon_order_id: str
    account_id: str
    client_id: str
    marketplace: str
    purchase_date: str
    last_update_date: str
    amazon_status: str
    fulfillment_channel: str
    sales_channel: str | None
    is_prime: bool
    is_premium: bool
    is_business_order: bool
    is_replacement: bool
    programs: list[str]
    ship_service_level: str | None
    service_level_category: str | None
    shipping_term: str
    term_recognized: bool
    courier_service: str | None
    matched_mapping: str | None
    status: OrderStatus
    hold_reasons: list[dict[str, Any]]
    not_for_us_reason: NotForUsOut | None
    release: dict[str, Any] | None = Field(description="An operator's override of the holds: who, when, why")
    history: list[dict[str, Any]]
    order_total: MoneyOut | None
    shipping_price: MoneyOut | None
    earliest_ship_date: str | None
    ship_by: str | None
    deliver_by: str | None
    address_available: bool
    pii_expires_at: str | None = Field(
        description="when the buyer data is deleted (set once the order ships or is cancelled)"
    )
    pii_purged_at: str | None
    imported_at: str
    updated_at: str


class OrderSummaryOut(_OrderFields):
    """An order without the buyer's data: what lists, events and logs may carry."""

    lines: list[LineSummaryOut]


class OrderOut(_OrderFields):
    """The order a warehouse ships from: with the delivery address, the buyer and gift messages while
    the connector keeps them (`null` after `pii_purged_at`)."""

    ship_to: ShipToOut | None
    buyer: BuyerOut | None
    lines: list[LineOut]


class OrderList(BaseModel):
    items: list[OrderSummaryOut]
    next_token: str | None


def _money(money: Money | None) -> MoneyOut | None:
    return MoneyOut(amount=str(money.amount), currency=money.currency) if money else None


def _moment(moment: datetime | None) -> str | None:
    return iso(moment) if moment else None


def _summary_fields(order: Order) -> dict[str, Any]:
    reason = order.not_for_us_reason
    return {
        "amazon_order_id": order.amazon_order_id,
        "account_id": order.account_id,
        "client_id": order.client_id,
        "marketplace": order.marketplace,
        "purchase_date": iso(order.purchase_date),
        "last_update_date": iso(order.last_update_date),
        "amazon_status": order.amazon_status,
        "fulfillment_channel": order.fulfillment_channel,
        "sales_channel": order.sales_channel,
        "is_prime": order.is_prime,
        "is_premium": order.is_premium,
        "is_business_order": order.is_business_order,
        "is_replacement": order.is_replacement,
        "programs": list(order.programs),
        "ship_service_level": order.ship_service_level,
        "service_level_category": order.service_level_category,
        "shipping_term": order.shipping_term,
        "term_recognized": order.term_recognized,
        "courier_service": order.courier_service,
        "matched_mapping": order.matched_mapping,
        "status": order.status,
        "hold_reasons": [h.to_dict() for h in order.hold_reasons],
        "not_for_us_reason": NotForUsOut(code=reason, message=NOT_FOR_US_MESSAGES[reason]) if reason else None,
        "release": order.release.to_dict() if order.release else None,
        "history": list(order.history),
        "order_total": _money(order.order_total),
        "shipping_price": _money(order.shipping_price),
        "earliest_ship_date": _moment(order.earliest_ship_date),
        "ship_by": _moment(order.ship_by),
        "deliver_by": _moment(order.deliver_by),
        "address_available": order.address_available,
        "pii_expires_at": _moment(order.pii_expires_at),
        "pii_purged_at": _moment(order.pii_purged_at),
        "imported_at": iso(order.imported_at),
        "updated_at": iso(order.updated_at),
    }


def _line_fields(line: OrderLine) -> dict[str, Any]:
    return {
        "order_item_id": line.order_item_id,
        "seller_sku": line.seller_sku,
        "oms_sku": line.oms_sku,
        "asin": line.asin,
        "title": line.title,
        "condition": line.condition,
        "quantity": line.quantity,
        "unit_price": _money(line.unit_price),
        "item_tax": _money(line.item_tax),
        "promotion_discount": _money(line.promotion_discount),
        "is_gift": line.is_gift,
    }


def order_summary(order: Order) -> OrderSummaryOut:
    return OrderSummaryOut(
        **_summary_fields(order), lines=[LineSummaryOut(**_line_fields(line)) for line in order.lines]
    )


def order_view(order: Order) -> OrderOut:
    """The whole order; the buyer's data only if `order.pii` was opened for this caller."""
    pii = order.pii
    lines = []
    for line in order.lines:
        gift = pii.gift(line.order_item_id) if pii else None
        lines.append(
            LineOut(
                **_line_fields(line),
                gift_message=gift.message if gift else None,
                gift_wrap_level=gift.wrap_level if gift else None,
            )
        )
    return OrderOut(
        **_summary_fields(order),
        lines=lines,
        ship_to=ShipToOut(**pii.ship_to.to_dict()) if pii and pii.ship_to else None,
        buyer=BuyerOut(**pii.buyer.to_dict()) if pii and pii.buyer else None,
    )


@router.get("/orders", tags=["orders"])
def list_orders(
    account_id: Annotated[str | None, Query(max_length=64, pattern=r"^[A-Za-z0-9_-]+$")] = None,
    status: Annotated[OrderStatus | None, Query()] = None,
    since: Annotated[str | None, Query(max_length=40, description="ISO 8601: orders Amazon updated since")] = None,
    limit: Annotated[int, Query(ge=1, le=100)] = 50,
    next_token: Annotated[str | None, Query(max_length=2048)] = None,
) -> OrderList:
    client_id = client_of(router)
    moment = _asked_moment(since, "since") if since is not None else None
    listed = PagedList(
        "orders", client_id, {"account_id": account_id, "status": status, "since": iso(moment) if moment else None}
    )
    page = container().order_queries.page(
        client_id, account_id=account_id, status=status, since=moment, limit=limit, next_token=listed.cursor(next_token)
    )
    return OrderList(items=[order_summary(o) for o in page.items], next_token=listed.next_token(page.next_token))


@router.get("/orders/<order_id>", tags=["orders"])
def get_order(order_id: OrderId) -> OrderOut:
    """The order as the warehouse ships it: the one route that opens the buyer's data."""
    return order_view(container().order_queries.with_buyer_data(client_of(router), order_id))


@router.post("/orders/<order_id>/reevaluate", tags=["orders"])
def reevaluate_order(order_id: OrderId) -> OrderSummaryOut:
    return order_summary(container().order_reevaluation.reevaluate(client_of(router), order_id))


class ReleaseBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    reason: StrictStr = Field(min_length=1, max_length=500, description="Why the holds are overridden")
    courier_service: StrictStr | None = Field(
        None, min_length=1, max_length=100, description="Required when the order's term maps to no courier"
    )


class BackfillBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    since: StrictStr = Field(max_length=40, description="ISO 8601: orders Amazon updated from then")
    until: StrictStr | None = Field(None, max_length=40, description="ISO 8601 (default: now); at most 30 days on")


@router.post("/orders/<order_id>/release", tags=["orders"])
def release_order(order_id: OrderId, body: Annotated[ReleaseBody, Body()]) -> OrderSummaryOut:
    """An operator overrides a held order's holds, with a reason recorded in its history (§6.6)."""
    event = router.current_event.raw_event
    released = container().order_reevaluation.release(
        client_of(router),
        order_id,
        reason=body.reason.strip(),
        by=operator_of(event),
        courier_service=body.courier_service.strip() if body.courier_service else None,
    )
    return order_summary(released)


@router.post("/accounts/<account_id>/order-import", tags=["orders"])
def import_orders_now(
    account_id: AccountId, body: Annotated[BackfillBody | None, Body()] = None
) -> Response[dict[str, str]]:
    """Import now; with `{since, until?}`, a backfill of at most 30 days that leaves the watermark alone."""
    scheduler = container().order_import_scheduler
    if body is None:
        scheduler.run_now(client_of(router), account_id)
        return Response(status_code=202, content_type="application/json", body={"status": "queued"})
    since = _asked_moment(body.since, "since")
    until = _asked_moment(body.until, "until") if body.until else None
    end = scheduler.backfill(client_of(router), account_id, since, until)
    return Response(
        status_code=202,
        content_type="application/json",
        body={"status": "queued", "since": iso(since), "until": iso(end)},
    )


@router.post("/accounts/<account_id>/orders/<order_id>/import", tags=["orders"])
def import_one_order(account_id: AccountId, order_id: OrderId) -> Response[dict[str, str]]:
    """Fetch one order by id, of any age Amazon serves: `GET /orders/{id}` shows it once the job has run."""
    container().order_import_scheduler.import_order(client_of(router), account_id, order_id)
    return Response(status_code=202, content_type="application/json", body={"status": "queued"})


def _asked_moment(text: str, field: str) -> datetime:
    """A moment asked for (a list's `since`, a backfill's bounds): ISO 8601 with its time zone."""
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError as error:
        raise InvalidInput(
            f"{field} must be an ISO 8601 date-time.", details=[{"field": field, "reason": "format"}]
        ) from error
    if moment.tzinfo is None:
        raise InvalidInput(
            f"{field} needs a time zone (e.g. 2026-11-29T10:00:00Z).", details=[{"field": field, "reason": "timezone"}]
        )
    return moment
