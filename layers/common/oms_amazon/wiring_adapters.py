"""The adapters of one environment, built on first use: the base of the composition root (`wiring.Container`).

Each is a cached property that imports its module when first built, so a handler's cold start imports
only what its own work needs (boto3 and the SP-API client come with the first call that uses them).
"""

from __future__ import annotations

import threading
from collections.abc import Collection, Iterator
from dataclasses import dataclass
from functools import cached_property
from typing import TYPE_CHECKING, Any, Self

from oms_amazon.adapters.aws import new_client, utc_now
from oms_amazon.ports import Clock
from oms_amazon.settings import Settings

if TYPE_CHECKING:
    from oms_amazon.adapters.accounts import DynamoAccountRepository, DynamoAuthorisationRejections
    from oms_amazon.adapters.amazon_connections import AmazonConnections
    from oms_amazon.adapters.courier_mappings import DynamoCourierMappingRepository, DynamoUnmappedTermRepository
    from oms_amazon.adapters.mapping_changes import DynamoMappingChanges
    from oms_amazon.adapters.order_import import DynamoImportState
    from oms_amazon.adapters.orders import DynamoOrderRepository
    from oms_amazon.adapters.secrets import SecretsManagerSellerSecrets
    from oms_amazon.adapters.shipments import DynamoShipmentRepository
    from oms_amazon.adapters.sku_aliases import DynamoSkuAliasRepository
    from oms_amazon.adapters.stock_sync import DynamoStockSyncStore
    from oms_amazon.domain.marketplaces import Marketplace
    from oms_amazon.domain.sku_aliases import SkuAlias
    from oms_amazon.ports import AmazonSeller, ProductRepository
    from oms_amazon.services.order_import.ports import OrderSource
    from oms_amazon.services.participation import ParticipationSource
    from oms_amazon.services.shipments import ShipmentConfirmer, ShipmentQueue
    from oms_amazon.shipping import CourierMapping
    from oms_amazon.stock import Product


# What one SP-API call of the stock-sync and order-import workers may take in all (waiting for a token,
# retries, back-off): well inside their 900 s invocations.
WORKER_CALL_BUDGET_SECONDS = 300.0


@dataclass(eq=False)
class AdapterWiring:
    """The settings, the clock, the AWS clients and every adapter of one environment (see `wiring.Container`,
    which builds the services on them)."""

    settings: Settings
    clock: Clock = utc_now

    @classmethod
    def from_environment(cls) -> Self:
        """The container for the process's environment (a missing or malformed variable fails here, loudly)."""
        return cls(Settings.from_env())

    def __post_init__(self) -> None:
        self._clients: dict[str, Any] = {}
        self._building = threading.Lock()

    def client(self, service: str) -> Any:
        """One boto3 client per AWS service (thread-safe once built)."""
        with self._building:
            if service not in self._clients:
                self._clients[service] = new_client(service)
            return self._clients[service]

    @property
    def is_local(self) -> bool:
        """The embedded local stack: no Cognito (the gateway fills the claims) and plain http on 127.0.0.1."""
        return self.settings.stage == "local"

    @property
    def _dynamodb(self) -> Any:
        return self.client("dynamodb")

    # ---- Amazon
    @cached_property
    def amazon_connections(self) -> AmazonConnections:
        from oms_amazon.adapters.amazon_connections import AmazonConnections

        config = self.settings
        return AmazonConnections(
            self.client("secretsmanager"),
            config.app_credentials_secret,
            endpoint_override=config.sp_api_endpoint,
            lwa_token_url=config.lwa_token_url,
            time_budget=WORKER_CALL_BUDGET_SECONDS,
            v0_levels_until=config.orders_v0_retires_on,
        )

    def seller_amazon(self, marketplace: Marketplace, merchant_id: str, refresh_token: str) -> AmazonSeller:
        return self.amazon_connections.seller(marketplace, merchant_id, refresh_token)

    def order_amazon(self, marketplace: Marketplace, merchant_id: str, refresh_token: str) -> OrderSource:
        return self.amazon_connections.seller(marketplace, merchant_id, refresh_token)

    @cached_property
    def shipment_connections(self) -> AmazonConnections:
        from oms_amazon.adapters.amazon_connections import AmazonConnections

        config = self.settings
        # A short budget per call: a throttled or unavailable Amazon is waited out in the queue (DelaySeconds),
        # not in the Lambda.
        return AmazonConnections(
            self.client("secretsmanager"),
            config.app_credentials_secret,
            endpoint_override=config.sp_api_endpoint,
            lwa_token_url=config.lwa_token_url,
            time_budget=10.0,
        )

    def shipment_amazon(self, marketplace: Marketplace, merchant_id: str, refresh_token: str) -> ShipmentConfirmer:
        return self.shipment_connections.seller(marketplace, merchant_id, refresh_token)

    @cached_property
    def participation_source(self) -> ParticipationSource:
        """Amazon's getMarketplaceParticipations for a seller (the tests without a simulator stand in)."""
        from oms_amazon.adapters.amazon_authorisation import SpApiSellerAuthorisation

        return SpApiSellerAuthorisation(self.amazon_connections)

    # ---- repositories and stores
    @cached_property
    def accounts(self) -> DynamoAccountRepository:
        from oms_amazon.adapters.accounts import DynamoAccountRepository

        return DynamoAccountRepository(self._dynamodb, self.settings.table_name)

    @cached_property
    def seller_secrets(self) -> SecretsManagerSellerSecrets:
        from oms_amazon.adapters.secrets import SecretsManagerSellerSecrets

        return SecretsManagerSellerSecrets(self.client("secretsmanager"), self.settings.secret_prefix)

    @cached_property
    def rejections(self) -> DynamoAuthorisationRejections:
        from oms_amazon.adapters.accounts import DynamoAuthorisationRejections

        return DynamoAuthorisationRejections(self._dynamodb, self.settings.table_name, self.accounts)

    @cached_property
    def stock_store(self) -> DynamoStockSyncStore:
        from oms_amazon.adapters.stock_sync import DynamoStockSyncStore

        return DynamoStockSyncStore(self._dynamodb, self.settings.table_name)

    @cached_property
    def product_repository(self) -> ProductRepository:
        from oms_amazon.adapters.products import DynamoProductRepository

        return DynamoProductRepository(self._dynamodb, self.settings.table_name)

    @cached_property
    def courier_mappings(self) -> DynamoCourierMappingRepository:
        from oms_amazon.adapters.courier_mappings import DynamoCourierMappingRepository

        return DynamoCourierMappingRepository(self._dynamodb, self.settings.table_name)

    @cached_property
    def unmapped_terms(self) -> DynamoUnmappedTermRepository:
        from oms_amazon.adapters.courier_mappings import DynamoUnmappedTermRepository

        return DynamoUnmappedTermRepository(self._dynamodb, self.settings.table_name)

    @cached_property
    def mapping_changes(self) -> DynamoMappingChanges:
        from oms_amazon.adapters.mapping_changes import DynamoMappingChanges

        return DynamoMappingChanges(self._dynamodb, self.settings.table_name)

    @cached_property
    def sku_alias_store(self) -> DynamoSkuAliasRepository:
        from oms_amazon.adapters.sku_aliases import DynamoSkuAliasRepository

        return DynamoSkuAliasRepository(self._dynamodb, self.settings.table_name)

    @cached_property
    def order_store(self) -> DynamoOrderRepository:
        from oms_amazon.adapters.orders import DynamoOrderRepository
        from oms_amazon.adapters.pii import KmsPiiVault

        config = self.settings
        return DynamoOrderRepository(
            self._dynamodb, config.table_name, KmsPiiVault(self.client("kms"), config.pii_key_id)
        )

    @cached_property
    def import_state(self) -> DynamoImportState:
        from oms_amazon.adapters.order_import import DynamoImportState

        return DynamoImportState(self._dynamodb, self.settings.table_name)

    @cached_property
    def shipment_store(self) -> DynamoShipmentRepository:
        from oms_amazon.adapters.shipments import DynamoShipmentRepository

        return DynamoShipmentRepository(self._dynamodb, self.settings.table_name)

    @cached_property
    def shipment_queue(self) -> ShipmentQueue:
        from oms_amazon.adapters.shipments import SqsShipmentQueue

        return SqsShipmentQueue(self.client("sqs"), self.settings.shipment_queue_url)

    @cached_property
    def page_token_key(self) -> bytes:
        """The key that signs the API's page tokens: derived from the OAuth state key's secret, read once per
        container and only when a list has a next page (domain.page_tokens)."""
        from oms_amazon.adapters.oauth_states import SecretsManagerStateKey
        from oms_amazon.domain.page_tokens import derive_key

        secret = SecretsManagerStateKey(
            self.client("secretsmanager"), self.settings.oauth_state_key_secret, purpose="page-token signing key"
        )
        return derive_key(secret.key())

    # ---- what the services read through plain functions
    def catalogue(self, client_id: str) -> Iterator[Product]:
        """The client's whole catalogue as stock (the SKU report compares all of it with Amazon's listings)."""
        return (product.as_stock() for product in self.product_repository.iter_catalogue(client_id))

    def sku_aliases(self, client_id: str) -> list[SkuAlias]:
        return self.sku_alias_store.all_of_client(client_id)

    def _mappings(self, client_id: str) -> list[CourierMapping]:
        return [mapping.as_rule() for mapping in self.courier_mappings.all_of_client(client_id)]

    def _skus(self, client_id: str, skus: Collection[str]) -> set[str]:
        return self.product_repository.skus_matching(client_id, skus)
