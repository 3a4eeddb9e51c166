"""Shipments routes (SPEC §6.7, §7): despatch an imported order back to Amazon, and its audit trail."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Body, Query
from aws_lambda_powertools.event_handler.openapi.types import OpenAPIResponse
from pydantic import BaseModel, ConfigDict, Field, StrictInt

from oms_amazon.api.errors import documented_errors
from oms_amazon.api.identity import client_of
from oms_amazon.api.paging import PagedList
from oms_amazon.api.routes.orders import OrderId
from oms_amazon.domain.errors import InvalidInput
from oms_amazon.domain.moments import iso
from oms_amazon.domain.shipments import MAX_TEXT, Shipment, ShipmentLine
from oms_amazon.services.shipments import ShipmentDraft
from oms_amazon.wiring import container

router = Router()

IDEMPOTENCY_HEADER = "Idempotency-Key"
MAX_LINES = 100
ERRORS: dict[int, OpenAPIResponse] = documented_errors(
    {
        400: "Bad input, nothing stored: carrier_name_required, unknown_order_item, "
        "quantity_exceeds_remaining, invalid_ship_date, invalid_tracking_number, duplicate_order_item, …",
        404: "No such order for this client",
        409: "order_not_ready (held, cancelled or not this warehouse's), nothing_left_to_ship, "
        "shipment_reference_conflict",
    }
)


class ShipmentLineIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    order_item_id: str = Field(min_length=1, max_length=64, description="Amazon's OrderItemId of a line of the order")
    quantity: StrictInt = Field(ge=1, le=100_000, description="Units of it in this package")


class ShipmentIn(BaseModel):
    """One despatched package. Without lines it holds everything of the order still left to ship."""

    model_config = ConfigDict(extra="forbid")
    carrier_code: str = Field(
        min_length=1,
        max_length=MAX_TEXT,
        description="Amazon's carrier code (Royal Mail, DPD, Evri, Yodel, Parcelforce, DHL, UPS, FedEx, …; "
        "any case or spacing). Another carrier needs carrier_name and is confirmed as Other.",
    )
    carrier_name: str | None = Field(
        None, min_length=1, max_length=MAX_TEXT, description="The carrier's name; required with Other"
    )
    shipping_method: str = Field(min_length=1, max_length=MAX_TEXT, description="e.g. Tracked 48, Next Day")
    tracking_number: str = Field(min_length=1, max_length=MAX_TEXT, description="1-100 printable characters")
    ship_date: str = Field(
        min_length=1,
        max_length=40,
        description="ISO 8601 with a time zone, at most two days ahead, e.g. 2026-11-29T16:30:00Z",
    )
    lines: list[ShipmentLineIn] | None = Field(
        None, min_length=1, max_length=MAX_LINES, description="The order items and units in this package"
    )
    shipment_reference: str | None = Field(
        None,
        min_length=1,
        max_length=MAX_TEXT,
        description="Your idempotency reference (or the Idempotency-Key header): a repeat with the same one "
        "returns the stored shipment. Without it, a repeat is recognised by its lines and tracking number.",
    )


class ShipmentLineOut(BaseModel):
    order_item_id: str
    quantity: int


class ReasonOut(BaseModel):
    code: str
    message: str
    amazon_status: int | None


class ShipmentOut(BaseModel):
    shipment_id: str
    amazon_order_id: str
    package_reference_id: str
    status: Literal["submitted", "confirmed", "failed", "rejected"]
    reason: ReasonOut | None
    carrier_code: str
    carrier_name: str | None
    requested_carrier_code: str
    shipping_method: str
    tracking_number: str
    ship_date: str
    lines: list[ShipmentLineOut]
    shipment_reference: str | None
    attempts: int
    created_at: str
    updated_at: str
    last_attempt_at: str | None
    next_attempt_at: str | None
    completed_at: str | None


class ShipmentList(BaseModel):
    items: list[ShipmentOut]
    next_token: str | None


def _optional(moment: Any) -> str | None:
    return iso(moment) if moment is not None else None


def shipment_view(shipment: Shipment) -> ShipmentOut:
    reason = shipment.reason
    return ShipmentOut(
        shipment_id=shipment.shipment_id,
        amazon_order_id=shipment.amazon_order_id,
        package_reference_id=shipment.package_reference_id,
        status=shipment.status,
        reason=ReasonOut(code=reason.code, message=reason.message, amazon_status=reason.amazon_status)
        if reason
        else None,
        carrier_code=shipment.carrier_code,
        carrier_name=shipment.carrier_name,
        requested_carrier_code=shipment.requested_carrier_code,
        shipping_method=shipment.shipping_method,
        tracking_number=shipment.tracking_number,
        ship_date=iso(shipment.ship_date),
        lines=[ShipmentLineOut(order_item_id=line.order_item_id, quantity=line.quantity) for line in shipment.lines],
        shipment_reference=shipment.reference,
        attempts=shipment.attempts,
        created_at=iso(shipment.created_at),
        updated_at=iso(shipment.updated_at),
        last_attempt_at=_optional(shipment.last_attempt_at),
        next_attempt_at=_optional(shipment.next_attempt_at),
        completed_at=_optional(shipment.completed_at),
    )


def _reference(body: ShipmentIn) -> str | None:
    header = router.current_event.headers.get(IDEMPOTENCY_HEADER.lower())
    if header is not None and body.shipment_reference is not None and header != body.shipment_reference:
        raise InvalidInput(
            "The Idempotency-Key header and shipment_reference differ; send one of them, or the same value.",
            code="idempotency_key_mismatch",
            details=[{"field": "shipment_reference", "reason": "differs from the Idempotency-Key header"}],
        )
    return header if header is not None else body.shipment_reference


@router.post(
    "/orders/<order_id>/shipments",
    tags=["shipments"],
    responses={
        202: {"description": "Stored and queued for confirmation with Amazon", "content": {"application/json": {}}},
        200: {"description": "The same shipment was submitted before; it is returned as stored"},
        **ERRORS,
    },
    description="Tell Amazon an order (or part of it) has shipped. The package is confirmed asynchronously with "
    "Amazon's confirmShipment; follow it in GET /orders/{order_id}/shipments. An optional Idempotency-Key header "
    "names the request; a repeat returns the stored shipment (200) and never confirms twice.",
)
def create_shipment(order_id: OrderId, body: Annotated[ShipmentIn, Body()]) -> Response[ShipmentOut]:
    client_id = client_of(router)
    if not isinstance(router.current_event.json_body, dict):
        raise InvalidInput("The request body must be a JSON object.", details=[{"field": "body", "reason": "object"}])
    draft = ShipmentDraft(
        carrier_code=body.carrier_code,
        carrier_name=body.carrier_name,
        shipping_method=body.shipping_method,
        tracking_number=body.tracking_number,
        ship_date=body.ship_date,
        lines=tuple(ShipmentLine(line.order_item_id, line.quantity) for line in body.lines) if body.lines else None,
        reference=_reference(body),
    )
    submitted = container().shipment_service.submit(client_id, order_id, draft)
    return Response(
        status_code=202 if submitted.created else 200,
        content_type="application/json",
        body=shipment_view(submitted.shipment),
    )


@router.get("/orders/<order_id>/shipments", tags=["shipments"], responses={404: ERRORS[404]})
def list_shipments(
    order_id: OrderId,
    limit: Annotated[int, Query(ge=1, le=100)] = 50,
    next_token: Annotated[str | None, Query(max_length=2048)] = None,
) -> ShipmentList:
    client_id = client_of(router)
    listed = PagedList("shipments", client_id, {"order_id": order_id})
    page = container().shipment_service.list(client_id, order_id, limit=limit, next_token=listed.cursor(next_token))
    return ShipmentList(items=[shipment_view(s) for s in page.items], next_token=listed.next_token(page.next_token))
