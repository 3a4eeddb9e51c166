"""Accounts routes (SPEC §4, §7)."""

from __future__ import annotations

from typing import Annotated

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Body, Path, Query
from aws_lambda_powertools.event_handler.openapi.types import OpenAPIResponse

from oms_amazon.api.errors import documented_errors
from oms_amazon.api.identity import client_of
from oms_amazon.api.paging import PagedList
from oms_amazon.api.schemas import AccountCreate, AccountList, AccountOut, AccountUpdate
from oms_amazon.api.views import account_view
from oms_amazon.domain.accounts import normalise_merchant_id, resolve_marketplace
from oms_amazon.ports import AccountFilter
from oms_amazon.services.accounts import AccountChanges, NewAccount
from oms_amazon.wiring import container

router = Router()

AccountId = Annotated[str, Path(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_-]+$")]
ERRORS: dict[int, OpenAPIResponse] = documented_errors(
    {
        400: "Bad input",
        404: "No such account for this client",
        409: "Conflicts with the current state",
    }
)


@router.post("/accounts", tags=["accounts"], responses={201: {"description": "Created"}, **ERRORS})
def create_account(body: Annotated[AccountCreate, Body()]) -> Response[AccountOut]:
    client_id = client_of(router)
    new = NewAccount(
        merchant_id=body.merchant_id, marketplace=body.marketplace, token=body.token(), settings=body.settings()
    )
    account = container().account_service.create(client_id, new)
    return Response(
        status_code=201,
        content_type="application/json",
        body=account_view(account),
        headers={"Location": f"/accounts/{account.id}"},
    )


@router.get("/accounts", tags=["accounts"], responses=ERRORS)
def list_accounts(
    marketplace: Annotated[str | None, Query(max_length=32)] = None,
    merchant_id: Annotated[str | None, Query(max_length=64)] = None,
    active: Annotated[bool | None, Query()] = None,
    limit: Annotated[int, Query(ge=1, le=100)] = 50,
    next_token: Annotated[str | None, Query(max_length=2048)] = None,
) -> AccountList:
    client_id = client_of(router)
    where = AccountFilter(
        marketplace=resolve_marketplace(marketplace).code if marketplace else None,
        merchant_id=normalise_merchant_id(merchant_id) if merchant_id else None,
        active=active,
    )
    listed = PagedList(
        "accounts",
        client_id,
        {"marketplace": where.marketplace, "merchant_id": where.merchant_id, "active": where.active},
    )
    page = container().account_service.page(client_id, where, limit=limit, next_token=listed.cursor(next_token))
    return AccountList(items=[account_view(a) for a in page.items], next_token=listed.next_token(page.next_token))


@router.get("/accounts/<account_id>", tags=["accounts"], responses=ERRORS)
def get_account(account_id: AccountId) -> AccountOut:
    return account_view(container().account_service.get(client_of(router), account_id))


@router.patch("/accounts/<account_id>", tags=["accounts"], responses=ERRORS)
def update_account(account_id: AccountId, body: Annotated[AccountUpdate, Body()]) -> AccountOut:
    client_id = client_of(router)
    changes = AccountChanges(
        values=body.settings(sent_only=True),
        token=body.token() if "auth_token" in body.model_fields_set else None,
        version=body.version,
        immutable=body.immutable(),
    )
    return account_view(container().account_service.update(client_id, account_id, changes))


@router.delete("/accounts/<account_id>", tags=["accounts"], responses={204: {"description": "Deleted"}, **ERRORS})
def delete_account(account_id: AccountId) -> Response[str]:
    container().account_service.delete(client_of(router), account_id)
    return Response(status_code=204, content_type="application/json", body="")
