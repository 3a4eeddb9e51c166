"""Domain objects as the fakes hold them, for tests and the benchmark: a working connection unless
told otherwise."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from oms_amazon.domain.accounts import Account, Authorisation

CLIENT = "acme"
SELLER = "A2SELLERUK01"


def account(
    account_id: str = "acc1",
    marketplace: str = "UK",
    *,
    client_id: str = CLIENT,
    merchant_id: str = SELLER,
    at: datetime | None = None,
    **changes: Any,
) -> Account:
    """An active account, authorised with an SP-API refresh token, syncing stock every 15 minutes and
    importing orders; created and last changed `at` (default: now)."""
    now = at or datetime.now(UTC)
    return Account(
        id=account_id,
        client_id=client_id,
        merchant_id=merchant_id,
        marketplace=marketplace,
        name=f"{merchant_id} {marketplace}",
        active=True,
        sync_stock=True,
        stock_sync_delay_minutes=15,
        include_bundles_in_stock_sync=False,
        import_orders=True,
        default_courier_service=None,
        stock_rules=None,
        authorisation=Authorisation("sp_api_refresh_token", "ok", "…0001"),
        created_at=now,
        updated_at=now,
    ).with_changes(**changes)
