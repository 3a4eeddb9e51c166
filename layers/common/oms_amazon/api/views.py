"""Domain objects rendered as API bodies."""

from __future__ import annotations

from oms_amazon.api.schemas import AccountOut, Authorisation, MarketplaceOut, StockRulesBody
from oms_amazon.domain.accounts import Account
from oms_amazon.domain.marketplaces import Marketplace
from oms_amazon.domain.moments import iso


def account_view(account: Account) -> AccountOut:
    rules = account.stock_rules
    due = account.next_stock_sync_at
    return AccountOut(
        id=account.id,
        client_id=account.client_id,
        name=account.name,
        merchant_id=account.merchant_id,
        marketplace=account.marketplace,
        marketplace_id=account.marketplace_id,
        region=account.market.region,
        active=account.active,
        sync_stock=account.sync_stock,
        stock_sync_delay_minutes=account.stock_sync_delay_minutes,
        include_bundles_in_stock_sync=account.include_bundles_in_stock_sync,
        import_orders=account.import_orders,
        default_courier_service=account.default_courier_service,
        stock_rules=StockRulesBody(
            buffer=rules.buffer, max_quantity=rules.max_quantity, zero_at_or_below=rules.zero_at_or_below
        )
        if rules
        else None,
        authorisation=Authorisation(
            type=account.authorisation.type, status=account.authorisation.status, hint=account.authorisation.hint
        ),
        last_stock_sync=account.last_stock_sync,
        next_stock_sync_at=iso(due) if due else None,
        last_order_import_at=iso(account.last_order_import_at) if account.last_order_import_at else None,
        created_at=iso(account.created_at),
        updated_at=iso(account.updated_at),
        version=account.version,
    )


def marketplace_view(marketplace: Marketplace) -> MarketplaceOut:
    return MarketplaceOut(
        code=marketplace.code,
        name=marketplace.name,
        marketplace_id=marketplace.marketplace_id,
        region=marketplace.region,
        country_code=marketplace.country_code,
        currency=marketplace.currency,
    )
