"""Products routes (SPEC §5.2, §7): the OMS's SKUs and bundles.

The SKU in the path arrives percent-decoded from API Gateway and is used exactly as it is (never
decoded again, trimmed or re-cased), so `/products/50%25` is the SKU `50%`.
"""

from __future__ import annotations

from typing import Annotated
from urllib.parse import quote

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Body, Path, Query
from aws_lambda_powertools.event_handler.openapi.types import OpenAPIResponse

from oms_amazon.api.errors import documented_errors
from oms_amazon.api.identity import client_of
from oms_amazon.api.paging import PagedList
from oms_amazon.api.product_schemas import (
    ProductBatchIn,
    ProductBatchOut,
    ProductIn,
    ProductList,
    ProductOut,
    parse_batch_item,
)
from oms_amazon.api.product_views import batch_view, product_view
from oms_amazon.domain.errors import InvalidInput
from oms_amazon.sku import validate_sku
from oms_amazon.wiring import container

router = Router()

PREFIX = "/products/"
# Powertools' `<sku>` stops at "/" and at a few characters a SKU may hold ("KIT/2", "A#5", "Bolt \"M6\"").
# These undocumented twins of the `/products/<sku>` routes take any SKU; the documented ones come
# first, so the twins only see paths the documented routes cannot match.
ANY_SKU = r"/products/([\s\S]+)"

Sku = Annotated[
    str,
    Path(description="The SKU exactly (case-sensitive); percent-encode reserved characters such as / # ? %"),
]
ERRORS: dict[int, OpenAPIResponse] = documented_errors(
    {
        400: "Bad input",
        404: "No such product for this client",
        409: "Conflicts with the catalogue: product_in_bundle, version_conflict",
    }
)


def _sku_in_path() -> str:
    # Also for the documented routes: the REST resolver's route regex ends in `/*$`, so `<sku>` loses a
    # SKU's trailing slashes ("KIT/" would read, replace or delete "KIT"). The path keeps them.
    return router.current_event.path[len(PREFIX) :]


def _require_object_body() -> None:
    # Powertools hands a body model the first element of a JSON array; a product is one object.
    if not isinstance(router.current_event.json_body, dict):
        raise InvalidInput(
            "The request body must be a JSON object.", details=[{"field": "body", "reason": "not an object"}]
        )


@router.put(
    "/products/<sku>",
    tags=["products"],
    responses={200: {"description": "Replaced"}, 201: {"description": "Created"}, **ERRORS},
    description="Create or replace a product. With components it is a bundle: components are existing simple "
    "products of the same client (never the bundle itself), each quantity >= 1. A product that a bundle uses "
    "cannot become a bundle (409 product_in_bundle). Replacing keeps created_at and used_in_bundles; a request "
    "that changes nothing writes nothing.",
)
def put_product(sku: Sku, body: Annotated[ProductIn, Body()]) -> Response[ProductOut]:
    return _put(_sku_in_path(), body)


@router.put(ANY_SKU, include_in_schema=False)
def put_product_any_sku(body: Annotated[ProductIn, Body()]) -> Response[ProductOut]:
    return _put(_sku_in_path(), body)


def _put(sku: str, body: ProductIn) -> Response[ProductOut]:
    client_id = client_of(router)
    _require_object_body()
    validate_sku(sku)
    if body.sku is not None and body.sku != sku:
        raise InvalidInput(
            "The sku in the body must equal the SKU in the path (SKUs are case-sensitive).",
            code="sku_mismatch",
            details=[{"field": "sku", "reason": "differs from the path"}],
        )
    saved = container().product_service.put(client_id, body.to_draft(sku))
    if saved.status == "created":
        return Response(
            status_code=201,
            content_type="application/json",
            body=product_view(saved.product),
            headers={"Location": PREFIX + quote(sku, safe="")},
        )
    return Response(status_code=200, content_type="application/json", body=product_view(saved.product))


@router.get("/products/<sku>", tags=["products"], responses=ERRORS)
def get_product(sku: Sku) -> ProductOut:
    return product_view(container().product_service.get(client_of(router), _sku_in_path()))


@router.get(ANY_SKU, include_in_schema=False)
def get_product_any_sku() -> ProductOut:
    return product_view(container().product_service.get(client_of(router), _sku_in_path()))


@router.delete(
    "/products/<sku>",
    tags=["products"],
    responses={204: {"description": "Deleted"}, **ERRORS},
    description="Delete a product. While any bundle uses it: 409 product_in_bundle naming the bundles. "
    "Deleting a bundle leaves its components in place.",
)
def delete_product(sku: Sku) -> Response[str]:
    return _delete(_sku_in_path())


@router.delete(ANY_SKU, include_in_schema=False)
def delete_product_any_sku() -> Response[str]:
    return _delete(_sku_in_path())


def _delete(sku: str) -> Response[str]:
    container().product_service.delete(client_of(router), sku)
    return Response(status_code=204, content_type="application/json", body="")


@router.get("/products", tags=["products"], responses=ERRORS)
def list_products(
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    next_token: Annotated[str | None, Query(max_length=2048)] = None,
) -> ProductList:
    client_id = client_of(router)
    listed = PagedList("products", client_id)
    page = container().product_service.page(client_id, limit=limit, next_token=listed.cursor(next_token))
    return ProductList(items=[product_view(p) for p in page.items], next_token=listed.next_token(page.next_token))


@router.post(
    "/products/batch",
    tags=["products"],
    responses=ERRORS,
    description="Create or replace 1 to 1000 products, all or none. Every item is checked first (shape, SKU "
    "rules, duplicates in the batch, bundle rules against the batch and the catalogue); if any is refused, "
    "nothing is written and the 400 invalid_batch lists each refused item as {index, sku, code, message}. "
    "Then every reader sees the whole batch at once or none of it: a batch that keeps losing races to other writes "
    "(409 version_conflict) or that the data store fails (503) leaves nothing visible (if the data store fails on "
    "the very write that commits it, the batch is wholly visible or not at all). Re-sending a batch is safe: "
    "unchanged products are skipped.",
)
def put_products(body: Annotated[ProductBatchIn, Body()]) -> ProductBatchOut:
    client_id = client_of(router)
    _require_object_body()
    items = [parse_batch_item(raw) for raw in body.products]
    return batch_view(container().product_service.put_batch(client_id, items))
