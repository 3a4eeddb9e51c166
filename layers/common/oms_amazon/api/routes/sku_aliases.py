"""SKU alias routes (SPEC §7 `/sku-aliases`): an Amazon seller SKU linked to an OMS SKU, client-wide or
for one account (`account_id`), used by the stock sync, order lines and the SKU report.

As with products, the Amazon SKU in the path arrives percent-decoded and is used exactly as it is, so
`/sku-aliases/KIT%2F2` is the Amazon SKU `KIT/2`.
"""

from __future__ import annotations

from typing import Annotated
from urllib.parse import quote

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Body, Path, Query
from aws_lambda_powertools.event_handler.openapi.types import OpenAPIResponse
from pydantic import BaseModel, ConfigDict, Field, StrictStr

from oms_amazon.api.errors import documented_errors
from oms_amazon.api.identity import client_of
from oms_amazon.api.paging import PagedList
from oms_amazon.domain.errors import InvalidInput
from oms_amazon.domain.moments import iso
from oms_amazon.domain.sku_aliases import MAX_BATCH, SkuAlias
from oms_amazon.services.sku_aliases import NewAlias
from oms_amazon.wiring import container

router = Router()

PREFIX = "/sku-aliases/"
# As `/products/<sku>`: Powertools' `<amazon_sku>` stops at "/" and a few characters a SKU may hold, so
# undocumented twins take any SKU after the documented routes.
ANY_SKU = r"/sku-aliases/([\s\S]+)"

AmazonSku = Annotated[str, Path(description="The Amazon seller SKU exactly (case-sensitive); percent-encode / # ? %")]
AccountScope = Annotated[
    str | None,
    Query(max_length=64, description="The account whose own alias this is; omitted: the client-wide alias"),
]
ERRORS: dict[int, OpenAPIResponse] = documented_errors(
    {
        400: "Bad input",
        404: "No such alias or account",
    }
)


class SkuAliasIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    oms_sku: StrictStr = Field(description="An existing OMS product SKU, exactly")
    account_id: StrictStr | None = Field(None, max_length=64, description="For this account only; omitted: client-wide")


class SkuAliasBatchItem(SkuAliasIn):
    amazon_sku: StrictStr = Field(description="The Amazon seller SKU, exactly (at most 40 characters)")


class SkuAliasBatchIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    aliases: list[SkuAliasBatchItem] = Field(min_length=1, max_length=MAX_BATCH)


class SkuAliasOut(BaseModel):
    amazon_sku: str
    oms_sku: str
    account_id: str | None = Field(description="null: client-wide")
    created_at: str
    updated_at: str
    version: int


class SkuAliasList(BaseModel):
    items: list[SkuAliasOut]
    next_token: str | None


class SkuAliasBatchOut(BaseModel):
    aliases: list[SkuAliasOut]


def _view(alias: SkuAlias) -> SkuAliasOut:
    return SkuAliasOut(
        amazon_sku=alias.amazon_sku,
        oms_sku=alias.oms_sku,
        account_id=alias.account_id,
        created_at=iso(alias.created_at),
        updated_at=iso(alias.updated_at),
        version=alias.version,
    )


def _sku_in_path() -> str:
    return router.current_event.path[len(PREFIX) :]


def _scope() -> str | None:
    value = (router.current_event.query_string_parameters or {}).get("account_id")
    return value or None


def _require_object_body() -> None:
    if not isinstance(router.current_event.json_body, dict):
        raise InvalidInput(
            "The request body must be a JSON object.", details=[{"field": "body", "reason": "not an object"}]
        )


@router.put(
    "/sku-aliases/<amazon_sku>",
    tags=["SKU aliases"],
    responses={200: {"description": "Replaced"}, 201: {"description": "Created"}, **ERRORS},
    description="Link an Amazon SKU to an OMS SKU, client-wide or for one account. The stock sync then sends "
    "the OMS SKU's quantity to the Amazon SKU too, and order lines with the Amazon SKU ship the OMS SKU; "
    "orders held on that Amazon SKU are judged again at once.",
)
def put_alias(amazon_sku: AmazonSku, body: Annotated[SkuAliasIn, Body()]) -> Response[SkuAliasOut]:
    return _put(body)


@router.put(ANY_SKU, include_in_schema=False)
def put_alias_any_sku(body: Annotated[SkuAliasIn, Body()]) -> Response[SkuAliasOut]:
    return _put(body)


def _put(body: SkuAliasIn) -> Response[SkuAliasOut]:
    _require_object_body()
    sku = _sku_in_path()
    alias, created = container().sku_alias_service.put(
        client_of(router), NewAlias(sku, body.oms_sku, body.account_id or None)
    )
    if created:
        return Response(
            status_code=201,
            content_type="application/json",
            body=_view(alias),
            headers={"Location": PREFIX + quote(sku, safe="")},
        )
    return Response(status_code=200, content_type="application/json", body=_view(alias))


@router.get("/sku-aliases/<amazon_sku>", tags=["SKU aliases"], responses=ERRORS)
def get_alias(amazon_sku: AmazonSku, account_id: AccountScope = None) -> SkuAliasOut:
    return _view(container().sku_alias_service.get(client_of(router), _sku_in_path(), _scope()))


@router.get(ANY_SKU, include_in_schema=False)
def get_alias_any_sku() -> SkuAliasOut:
    return _view(container().sku_alias_service.get(client_of(router), _sku_in_path(), _scope()))


@router.delete("/sku-aliases/<amazon_sku>", tags=["SKU aliases"], responses={204: {"description": "Deleted"}, **ERRORS})
def delete_alias(amazon_sku: AmazonSku, account_id: AccountScope = None) -> Response[str]:
    return _delete()


@router.delete(ANY_SKU, include_in_schema=False)
def delete_alias_any_sku() -> Response[str]:
    return _delete()


def _delete() -> Response[str]:
    container().sku_alias_service.delete(client_of(router), _sku_in_path(), _scope())
    return Response(status_code=204, content_type="application/json", body="")


@router.get("/sku-aliases", tags=["SKU aliases"], responses=ERRORS)
def list_aliases(
    account_id: Annotated[
        str | None, Query(max_length=64, description="Only this account's own aliases; omitted: every alias")
    ] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    next_token: Annotated[str | None, Query(max_length=2048)] = None,
) -> SkuAliasList:
    client_id = client_of(router)
    listed = PagedList("sku-aliases", client_id, {"account_id": account_id})
    page = container().sku_alias_service.page(
        client_id, account_id=account_id, limit=limit, next_token=listed.cursor(next_token)
    )
    return SkuAliasList(items=[_view(a) for a in page.items], next_token=listed.next_token(page.next_token))


@router.post(
    "/sku-aliases/batch",
    tags=["SKU aliases"],
    responses=ERRORS,
    description=f"Create or replace 1 to {MAX_BATCH} aliases, all or none: every item is checked first.",
)
def put_aliases(body: Annotated[SkuAliasBatchIn, Body()]) -> SkuAliasBatchOut:
    _require_object_body()
    items = [NewAlias(item.amazon_sku, item.oms_sku, item.account_id or None) for item in body.aliases]
    return SkuAliasBatchOut(
        aliases=[_view(a) for a in container().sku_alias_service.put_batch(client_of(router), items)]
    )
