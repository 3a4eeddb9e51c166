"""Marketplaces (SPEC §4.3): the 23 Amazon marketplaces a connection can target."""

from __future__ import annotations

from aws_lambda_powertools.event_handler.api_gateway import Router

from oms_amazon.api.identity import client_of
from oms_amazon.api.schemas import MarketplaceList
from oms_amazon.api.views import marketplace_view
from oms_amazon.domain.marketplaces import MARKETPLACES

router = Router()


@router.get("/marketplaces", tags=["marketplaces"])
def list_marketplaces() -> MarketplaceList:
    client_of(router)
    return MarketplaceList(items=[marketplace_view(m) for m in MARKETPLACES])
