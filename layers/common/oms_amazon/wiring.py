"""Adapters and services for the scheduled functions, built once per container on first use."""

from __future__ import annotations

from collections.abc import Collection, Iterator
from datetime import timedelta
from functools import cache
from typing import TYPE_CHECKING

from oms_amazon.adapters.aws import aws_client, utc_now
from oms_amazon.settings import settings

# Each handler imports the services it runs, not its neighbours' (cold start): they are imported where built.
if TYPE_CHECKING:
    from oms_amazon.batch import DeadLetterQueue
    from oms_amazon.domain.marketplaces import Marketplace
    from oms_amazon.domain.sku_aliases import SkuAlias
    from oms_amazon.ports import AmazonSeller, ProductRepository
    from oms_amazon.services.accounts import DeletedAccountSweep
    from oms_amazon.services.order_import import (
        OrderImportScheduler,
        OrderImportWorker,
        OrderReevaluation,
        OrderWriter,
        OutboxRelay,
        PiiPurge,
    )
    from oms_amazon.services.shipments import ShipmentConfirmer, ShipmentQueue, ShipmentService, ShipmentWorker
    from oms_amazon.services.sku_aliases import SkuAliasService
    from oms_amazon.services.stock_sync import StockSyncScheduler, StockSyncWorker
    from oms_amazon.shipping import CourierMapping
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
        time_budget=300.0,
        v0_levels_until=config.orders_v0_retires_on,
    )


def seller_amazon(marketplace: Marketplace, merchant_id: str, refresh_token: str) -> AmazonSeller:
    seller: AmazonSeller = amazon_connections().seller(marketplace, merchant_id, refresh_token)
    return seller


@cache
def page_token_key() -> bytes:
    """The key that signs the API's page tokens: derived from the OAuth state key's secret, read once per container
    and only when a list has a next page (domain.page_tokens)."""
    from oms_amazon.adapters.oauth_states import SecretsManagerStateKey
    from oms_amazon.domain.page_tokens import derive_key

    secret = SecretsManagerStateKey(
        aws_client("secretsmanager"), settings().oauth_state_key_secret, purpose="page-token signing key"
    )
    return derive_key(secret.key())


@cache
def _accounts():  # type: ignore[no-untyped-def]
    from oms_amazon.adapters.accounts import DynamoAccountRepository

    return DynamoAccountRepository(aws_client("dynamodb"), settings().table_name)


@cache
def stock_store():  # type: ignore[no-untyped-def]
    from oms_amazon.adapters.stock_sync import DynamoStockSyncStore

    return DynamoStockSyncStore(aws_client("dynamodb"), settings().table_name)


@cache
def product_repository() -> ProductRepository:
    from oms_amazon.adapters.products import DynamoProductRepository

    return DynamoProductRepository(aws_client("dynamodb"), settings().table_name)


def catalogue(client_id: str) -> Iterator[Product]:
    """The client's whole catalogue (the SKU report compares all of it with Amazon's listings)."""
    return (product.as_stock() for product in product_repository().iter_catalogue(client_id))


@cache
def stock_sync_scheduler() -> StockSyncScheduler:
    from oms_amazon.adapters.queues import SqsJobQueue
    from oms_amazon.services.stock_sync import StockSyncScheduler

    return StockSyncScheduler(
        _accounts(), stock_store(), SqsJobQueue(aws_client("sqs"), settings().stock_sync_queue_url), utc_now
    )


@cache
def stock_sync_worker() -> StockSyncWorker:
    from oms_amazon.adapters.accounts import DynamoAuthorisationRejections
    from oms_amazon.adapters.secrets import SecretsManagerSellerSecrets
    from oms_amazon.services.stock_sync import StockSyncWorker

    config = settings()
    return StockSyncWorker(
        accounts=_accounts(),
        store=stock_store(),
        secrets=SecretsManagerSellerSecrets(aws_client("secretsmanager"), config.secret_prefix),
        products=product_repository(),
        amazon=seller_amazon,
        rejections=DynamoAuthorisationRejections(aws_client("dynamodb"), config.table_name, _accounts()),
        clock=utc_now,
        aliases=sku_aliases,
    )


def _mappings(client_id: str) -> list[CourierMapping]:
    from oms_amazon.adapters.courier_mappings import DynamoCourierMappingRepository

    repository = DynamoCourierMappingRepository(aws_client("dynamodb"), settings().table_name)
    return [mapping.as_rule() for mapping in repository.all_of_client(client_id)]


def _skus(client_id: str, skus: Collection[str]) -> set[str]:
    return product_repository().skus_matching(client_id, skus)


@cache
def sku_alias_store():  # type: ignore[no-untyped-def]
    from oms_amazon.adapters.sku_aliases import DynamoSkuAliasRepository

    return DynamoSkuAliasRepository(aws_client("dynamodb"), settings().table_name)


def sku_aliases(client_id: str) -> list[SkuAlias]:
    return sku_alias_store().all_of_client(client_id)  # type: ignore[no-any-return]


@cache
def sku_alias_service() -> SkuAliasService:
    from oms_amazon.adapters.accounts import DynamoAccountRepository
    from oms_amazon.adapters.products import DynamoProductRepository
    from oms_amazon.services.sku_aliases import SkuAliasService

    dynamodb, table = aws_client("dynamodb"), settings().table_name
    return SkuAliasService(
        aliases=sku_alias_store(),
        products=DynamoProductRepository(dynamodb, table),
        accounts=DynamoAccountRepository(dynamodb, table),
        clock=utc_now,
        held_orders=order_reevaluation(),
    )


@cache
def order_store():  # type: ignore[no-untyped-def]
    from oms_amazon.adapters.orders import DynamoOrderRepository
    from oms_amazon.adapters.pii import KmsPiiVault

    config = settings()
    return DynamoOrderRepository(
        aws_client("dynamodb"), config.table_name, KmsPiiVault(aws_client("kms"), config.pii_key_id)
    )


@cache
def pii_purge() -> PiiPurge:
    from oms_amazon.services.order_import import PiiPurge

    return PiiPurge(order_store(), utc_now)


@cache
def _relay() -> OutboxRelay:
    from oms_amazon.adapters.events import EventBridgePublisher
    from oms_amazon.services.order_import import OutboxRelay

    return OutboxRelay(order_store(), EventBridgePublisher(aws_client("events"), settings().event_bus_name))


@cache
def _writer() -> OrderWriter:
    from oms_amazon.adapters.courier_mappings import DynamoUnmappedTermRepository
    from oms_amazon.services.order_import import OrderWriter

    config = settings()
    return OrderWriter(
        order_store(),
        DynamoUnmappedTermRepository(aws_client("dynamodb"), config.table_name),
        _relay(),
        pii_retention=timedelta(days=config.pii_retention_days),
    )


@cache
def _import_state():  # type: ignore[no-untyped-def]
    from oms_amazon.adapters.order_import import DynamoImportState

    return DynamoImportState(aws_client("dynamodb"), settings().table_name)


@cache
def order_import_scheduler() -> OrderImportScheduler:
    from oms_amazon.adapters.queues import SqsJobQueue
    from oms_amazon.services.order_import import OrderImportScheduler

    queue = SqsJobQueue(aws_client("sqs"), settings().order_import_queue_url)
    return OrderImportScheduler(
        _accounts(),
        _import_state(),
        queue,
        _relay(),
        utc_now,
        pii_purge(),
        held=order_reevaluation(),
        deleted=_deleted_accounts(),
    )


def _deleted_accounts() -> DeletedAccountSweep:
    from oms_amazon.adapters.account_data import DynamoAccountData
    from oms_amazon.services.accounts import DeletedAccountSweep

    return DeletedAccountSweep(_accounts(), DynamoAccountData(aws_client("dynamodb"), settings().table_name))


@cache
def order_import_worker() -> OrderImportWorker:
    from oms_amazon.adapters.accounts import DynamoAuthorisationRejections
    from oms_amazon.adapters.secrets import SecretsManagerSellerSecrets
    from oms_amazon.services.order_import import OrderImportWorker

    config = settings()
    return OrderImportWorker(
        accounts=_accounts(),
        state=_import_state(),
        orders=order_store(),
        writer=_writer(),
        relay=_relay(),
        secrets=SecretsManagerSellerSecrets(aws_client("secretsmanager"), config.secret_prefix),
        amazon=seller_amazon,  # type: ignore[arg-type]
        skus=_skus,
        mappings=_mappings,
        rejections=DynamoAuthorisationRejections(aws_client("dynamodb"), config.table_name, _accounts()),
        clock=utc_now,
        api_version=config.orders_api_version,
        aliases=sku_aliases,
        changes=_mapping_changes(),
    )


@cache
def order_reevaluation() -> OrderReevaluation:
    from oms_amazon.services.order_import import OrderReevaluation

    return OrderReevaluation(
        _accounts(),
        order_store(),
        _writer(),
        _relay(),
        _skus,
        _mappings,
        utc_now,
        aliases=sku_aliases,
        changes=_mapping_changes(),
    )


@cache
def _mapping_changes():  # type: ignore[no-untyped-def]
    from oms_amazon.adapters.mapping_changes import DynamoMappingChanges

    return DynamoMappingChanges(aws_client("dynamodb"), settings().table_name)


@cache
def shipment_store():  # type: ignore[no-untyped-def]
    from oms_amazon.adapters.shipments import DynamoShipmentRepository

    return DynamoShipmentRepository(aws_client("dynamodb"), settings().table_name)


def _shipment_queue() -> ShipmentQueue:
    from oms_amazon.adapters.shipments import SqsShipmentQueue

    return SqsShipmentQueue(aws_client("sqs"), settings().shipment_queue_url)


@cache
def shipment_service() -> ShipmentService:
    from oms_amazon.services.shipments import ShipmentService

    return ShipmentService(orders=order_store(), shipments=shipment_store(), queue=_shipment_queue(), clock=utc_now)


@cache
def _shipment_connections():  # type: ignore[no-untyped-def]
    from oms_amazon.adapters.amazon import AmazonConnections

    config = settings()
    # A short budget per call: a throttled or unavailable Amazon is waited out in the queue (DelaySeconds),
    # not in the Lambda.
    return AmazonConnections(
        aws_client("secretsmanager"),
        config.app_credentials_secret,
        endpoint_override=config.sp_api_endpoint,
        lwa_token_url=config.lwa_token_url,
        time_budget=10.0,
    )


def shipment_amazon(marketplace: Marketplace, merchant_id: str, refresh_token: str) -> ShipmentConfirmer:
    seller: ShipmentConfirmer = _shipment_connections().seller(marketplace, merchant_id, refresh_token)
    return seller


@cache
def shipment_worker() -> ShipmentWorker:
    from oms_amazon.adapters.accounts import DynamoAuthorisationRejections
    from oms_amazon.adapters.secrets import SecretsManagerSellerSecrets
    from oms_amazon.domain.shipments import RetrySchedule
    from oms_amazon.services.shipments import ShipmentWorker

    config = settings()
    return ShipmentWorker(
        accounts=_accounts(),
        shipments=shipment_store(),
        queue=_shipment_queue(),
        relay=_relay(),
        secrets=SecretsManagerSellerSecrets(aws_client("secretsmanager"), config.secret_prefix),
        amazon=shipment_amazon,
        rejections=DynamoAuthorisationRejections(aws_client("dynamodb"), config.table_name, _accounts()),
        clock=utc_now,
        schedule=RetrySchedule(base_seconds=config.shipment_retry_base_seconds),
        orders=order_store(),
        despatched=order_reevaluation(),
    )


@cache
def _dead_letters(queue_url: str) -> DeadLetterQueue:
    from oms_amazon.adapters.queues import SqsDeadLetterQueue

    return SqsDeadLetterQueue(aws_client("sqs"), queue_url)


# Each worker's dead-letter queue, for the job messages it cannot parse (oms_amazon.batch).
def stock_sync_dead_letters() -> DeadLetterQueue:
    return _dead_letters(settings().stock_sync_dlq_url)


def order_import_dead_letters() -> DeadLetterQueue:
    return _dead_letters(settings().order_import_dlq_url)


def shipment_dead_letters() -> DeadLetterQueue:
    return _dead_letters(settings().shipment_dlq_url)


def reset() -> None:
    for cached in (
        amazon_connections,
        page_token_key,
        _accounts,
        product_repository,
        stock_store,
        stock_sync_scheduler,
        stock_sync_worker,
        order_store,
        pii_purge,
        _relay,
        _writer,
        _import_state,
        order_import_scheduler,
        order_import_worker,
        order_reevaluation,
        _mapping_changes,
        sku_alias_store,
        sku_alias_service,
        shipment_store,
        shipment_service,
        _shipment_connections,
        shipment_worker,
        _dead_letters,
    ):
        cached.cache_clear()
