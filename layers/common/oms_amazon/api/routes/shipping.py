"""Shipping terms and courier service mappings (SPEC §6.3, §6.4, §7)."""

from __future__ import annotations

from typing import Annotated

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Body, Path, Query
from aws_lambda_powertools.event_handler.openapi.types import OpenAPIResponse

from oms_amazon.api.errors import documented_errors
from oms_amazon.api.identity import client_of
from oms_amazon.api.paging import PagedList
from oms_amazon.api.shipping_schemas import (
    ID_PATTERN,
    CourierMappingList,
    CourierMappingOut,
    CourierMappingReplace,
    CourierMappingWrite,
    ResolutionOut,
    ResolveRequest,
    ShippingTermList,
    UnmappedTermList,
    mapping_view,
    resolution_view,
    term_view,
    unmapped_view,
)
from oms_amazon.domain.accounts import resolve_marketplace
from oms_amazon.domain.errors import InvalidInput
from oms_amazon.ports import MappingFilter
from oms_amazon.services.courier_mappings import NewMapping, OrderShipping
from oms_amazon.wiring import container

router = Router()

MappingId = Annotated[str, Path(min_length=1, max_length=64, pattern=ID_PATTERN)]
AccountQuery = Annotated[str | None, Query(min_length=1, max_length=64, pattern=ID_PATTERN)]
MarketplaceQuery = Annotated[str | None, Query(max_length=32)]
Limit = Annotated[int, Query(ge=1, le=100)]
NextToken = Annotated[str | None, Query(max_length=2048)]

ERRORS_TEXT = {400: "Bad input", 404: "No such mapping or account for this client"}
ERRORS: dict[int, OpenAPIResponse] = documented_errors(ERRORS_TEXT)
WRITE_ERRORS: dict[int, OpenAPIResponse] = documented_errors(
    {**ERRORS_TEXT, 409: "The term is already mapped in that scope (mapping_exists), or a stale version"}
)


def _require_object_body() -> None:
    """Powertools validates the first element of a JSON array sent where an object is expected; a
    list is not a mapping, so it is refused rather than half-read."""
    if not isinstance(router.current_event.json_body, dict):
        raise InvalidInput(
            "The request body must be a JSON object.", details=[{"field": "body", "reason": "not an object"}]
        )


@router.get("/shipping-terms", tags=["shipping"], responses=ERRORS)
def list_shipping_terms(
    marketplace: Annotated[str, Query(max_length=32, description="Marketplace code (UK, DE, …) or id")],
    account_id: AccountQuery = None,
) -> ShippingTermList:
    """The marketplace's standard terms (STD/EXP x DOM/INT, NEXT, SECOND, each with and without -PRIME) and
    what each maps to now: client-wide mappings, plus the account's scoped mappings and default courier
    service when `account_id` is named."""
    found = container().courier_mapping_service.terms_of(client_of(router), marketplace, account_id=account_id)
    return ShippingTermList(items=[term_view(t) for t in found])


@router.post("/shipping-terms/resolve", tags=["shipping"], responses=ERRORS)
def resolve_shipping_term(body: Annotated[ResolveRequest, Body()]) -> ResolutionOut:
    """The term an order with this shipping gets (§6.3) and the courier service it resolves to (§6.4)."""
    _require_object_body()
    order = OrderShipping(
        marketplace=body.marketplace,
        ship_service_level=body.ship_service_level,
        service_level_category=body.service_level_category,
        is_prime=body.is_prime,
        ship_to_country=body.ship_to_country,
        account_id=body.account_id,
    )
    return resolution_view(container().courier_mapping_service.resolve(client_of(router), order))


@router.post(
    "/courier-mappings", tags=["courier mappings"], responses={201: {"description": "Created"}, **WRITE_ERRORS}
)
def create_courier_mapping(body: Annotated[CourierMappingWrite, Body()]) -> Response[CourierMappingOut]:
    _require_object_body()
    new = NewMapping(
        amazon_term=body.amazon_term,
        courier_service=body.courier_service,
        account_id=body.account_id,
        marketplace=body.marketplace,
        allow_unrecognised=body.allow_unrecognised,
    )
    mapping = container().courier_mapping_service.create(client_of(router), new)
    return Response(
        status_code=201,
        content_type="application/json",
        body=mapping_view(mapping),
        headers={"Location": f"/courier-mappings/{mapping.id}"},
    )


@router.get("/courier-mappings", tags=["courier mappings"], responses=ERRORS)
def list_courier_mappings(
    account_id: AccountQuery = None,
    marketplace: MarketplaceQuery = None,
    limit: Limit = 50,
    next_token: NextToken = None,
) -> CourierMappingList:
    client_id = client_of(router)
    where = MappingFilter(
        account_id=account_id, marketplace=resolve_marketplace(marketplace).code if marketplace else None
    )
    listed = PagedList(
        "courier-mappings", client_id, {"account_id": where.account_id, "marketplace": where.marketplace}
    )
    page = container().courier_mapping_service.page(client_id, where, limit=limit, next_token=listed.cursor(next_token))
    return CourierMappingList(
        items=[mapping_view(m) for m in page.items], next_token=listed.next_token(page.next_token)
    )


@router.get("/courier-mappings/unmapped", tags=["courier mappings"], responses=ERRORS)
def list_unmapped_terms(
    marketplace: MarketplaceQuery = None, limit: Limit = 50, next_token: NextToken = None
) -> UnmappedTermList:
    """Terms that held orders wait on, with how many orders each holds and when it was last seen."""
    client_id = client_of(router)
    code = resolve_marketplace(marketplace).code if marketplace else None
    listed = PagedList("courier-mappings/unmapped", client_id, {"marketplace": code})
    page = container().courier_mapping_service.unmapped(
        client_id, marketplace=code, limit=limit, next_token=listed.cursor(next_token)
    )
    return UnmappedTermList(items=[unmapped_view(u) for u in page.items], next_token=listed.next_token(page.next_token))


@router.get("/courier-mappings/<mapping_id>", tags=["courier mappings"], responses=ERRORS)
def get_courier_mapping(mapping_id: MappingId) -> CourierMappingOut:
    return mapping_view(container().courier_mapping_service.get(client_of(router), mapping_id))


@router.put("/courier-mappings/<mapping_id>", tags=["courier mappings"], responses=WRITE_ERRORS)
def replace_courier_mapping(mapping_id: MappingId, body: Annotated[CourierMappingReplace, Body()]) -> CourierMappingOut:
    """Replace the whole mapping: an absent `account_id` makes it client-wide."""
    _require_object_body()
    new = NewMapping(
        amazon_term=body.amazon_term,
        courier_service=body.courier_service,
        account_id=body.account_id,
        marketplace=body.marketplace,
        allow_unrecognised=body.allow_unrecognised,
    )
    mapping = container().courier_mapping_service.replace(client_of(router), mapping_id, new, version=body.version)
    return mapping_view(mapping)


@router.delete(
    "/courier-mappings/<mapping_id>", tags=["courier mappings"], responses={204: {"description": "Deleted"}, **ERRORS}
)
def delete_courier_mapping(mapping_id: MappingId) -> Response[str]:
    container().courier_mapping_service.delete(client_of(router), mapping_id)
    return Response(status_code=204, content_type="application/json", body="")
