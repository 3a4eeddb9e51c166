"""Domain objects rendered as API bodies."""

from __future__ import annotations

from oms_amazon.api.schemas import AccountOut, MarketplaceOut
from oms_amazon.domain.accounts import Account
from oms_amazon.domain.marketplaces import Marketplace


def account_view(account: Account) -> AccountOut:
    return AccountOut.model_validate(account, from_attributes=True)


def marketplace_view(marketplace: Marketplace) -> MarketplaceOut:
    return MarketplaceOut(
        code=marketplace.code,
        name=marketplace.name,
        marketplace_id=marketplace.marketplace_id,
        region=marketplace.region,
        country_code=marketplace.country_code,
        currency=marketplace.currency,
    )
