"""Adapters and services for the scheduled functions, built once per container on first use."""

from __future__ import annotations

from collections.abc import Iterator
from functools import cache

from oms_amazon.api.deps import aws_client, utc_now
from oms_amazon.domain.marketplaces import Marketplace
from oms_amazon.ports import AmazonSeller
from oms_amazon.services.stock_sync import StockSyncScheduler, StockSyncWorker
from oms_amazon.settings import settings
from oms_amazon.stock import Product


@cache
def amazon_connections():  # type: ignore[no-untyped-def]
    from oms_amazon.adapters.amazon import AmazonConnections

    config = settings()
    return AmazonConnections(
        aws_client("secretsmanager"),
        config.app_credentials_secret,
        endpoint_override=config.sp_api_endpoint,
        lwa_token_url=config.lwa_token_url,
    )


def seller_amazon(marketplace: Marketplace, merchant_id: str, refresh_token: str) -> AmazonSeller:
    seller: AmazonSeller = amazon_connections().seller(marketplace, merchant_id, refresh_token)
    return seller


@cache
def _accounts():  # type: ignore[no-untyped-def]
    from oms_amazon.adapters.accounts import DynamoAccountRepository

    return DynamoAccountRepository(aws_client("dynamodb"), settings().table_name)


@cache
def stock_store():  # type: ignore[no-untyped-def]
    from oms_amazon.adapters.stock_sync import DynamoStockSyncStore

    return DynamoStockSyncStore(aws_client("dynamodb"), settings().table_name)


def catalogue(client_id: str) -> Iterator[Product]:
    from oms_amazon.adapters.products import DynamoProductRepository

    repository = DynamoProductRepository(aws_client("dynamodb"), settings().table_name)
    return (product.as_stock() for product in repository.iter_catalogue(client_id))


@cache
def stock_sync_scheduler() -> StockSyncScheduler:
    from oms_amazon.adapters.queues import SqsJobQueue

    return StockSyncScheduler(
        _accounts(), stock_store(), SqsJobQueue(aws_client("sqs"), settings().stock_sync_queue_url), utc_now
    )


@cache
def stock_sync_worker() -> StockSyncWorker:
    from oms_amazon.adapters.accounts import DynamoAuthorisationRejections
    from oms_amazon.adapters.secrets import SecretsManagerSellerSecrets

    config = settings()
    return StockSyncWorker(
        accounts=_accounts(),
        store=stock_store(),
        secrets=SecretsManagerSellerSecrets(aws_client("secretsmanager"), config.secret_prefix),
        products=catalogue,
        amazon=seller_amazon,
        rejections=DynamoAuthorisationRejections(aws_client("dynamodb"), config.table_name, _accounts()),
        clock=utc_now,
    )


def reset() -> None:
    for cached in (amazon_connections, _accounts, stock_store, stock_sync_scheduler, stock_sync_worker):
        cached.cache_clear()
