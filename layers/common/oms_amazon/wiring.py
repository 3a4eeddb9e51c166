"""The composition root: the one place that builds adapters and hands them to the services.

A `Container` is made from the validated `Settings` and builds each adapter and service on first use (a
cached property), so a handler's cold start imports only what its own work needs: the order-import
worker never imports the API's services, and boto3 or the SP-API client come with the first call that
uses them. One container serves a process (`container()`, made on the first invocation of a cold start);
the local stack and the tests make their own and `install` it, so nothing built for one environment
outlives it.

The dependency rule this module sits on (pyproject.toml `[tool.importlinter]`, run by `make lint`): the
domain and the pure modules import no service, adapter or API module; services import the ports and the
domain; adapters never import a service or the API; the API reaches services only through this container;
the Lambda handlers import the API or this module.
"""

from __future__ import annotations

import threading
import uuid
from dataclasses import dataclass
from datetime import timedelta
from functools import cached_property
from typing import TYPE_CHECKING

from oms_amazon.wiring_adapters import AdapterWiring

# Each handler imports the services it runs, not its neighbours' (cold start): they are imported where built.
if TYPE_CHECKING:
    from oms_amazon.ports import AmazonSeller, DeadLetterQueue
    from oms_amazon.services.accounts import AccountService, DeletedAccountSweep
    from oms_amazon.services.authorisation import AuthorisationService
    from oms_amazon.services.courier_mappings import CourierMappingService
    from oms_amazon.services.order_import.pii_purge import PiiPurge
    from oms_amazon.services.order_import.ports import OrderSource, RuleSources
    from oms_amazon.services.order_import.reevaluation import OrderReevaluation
    from oms_amazon.services.order_import.scheduler import OrderImportScheduler
    from oms_amazon.services.order_import.worker import OrderImportWorker
    from oms_amazon.services.order_import.writer import OrderWriter, OutboxRelay
    from oms_amazon.services.order_queries import OrderQueries
    from oms_amazon.services.participation import ParticipationGuard
    from oms_amazon.services.products import ProductService
    from oms_amazon.services.seller_access import AmazonFactory, SellerAccess
    from oms_amazon.services.shipments import ShipmentConfirmer, ShipmentService, ShipmentWorker
    from oms_amazon.services.sku_aliases import SkuAliasService
    from oms_amazon.services.stock_runs import StockRunQueries
    from oms_amazon.services.stock_sync.scheduler import StockSyncScheduler
    from oms_amazon.services.stock_sync.worker import StockSyncWorker
    from oms_amazon.services.write_limits import WriteLimiter


def new_id() -> str:
    return uuid.uuid4().hex


@dataclass(eq=False)
class Container(AdapterWiring):
    """Every adapter and service of one environment, each built once, when first used: the adapters (and the
    settings, the clock and the AWS clients) from `AdapterWiring`, the services and workers here.

    A test or the local stack may set an attribute before its first use (`container.participation_source =
    ...`, or `clock=`): whatever is built after that is built with it."""

    # ---- the API's services
    @cached_property
    def activation_guard(self) -> ParticipationGuard:
        from oms_amazon.adapters.participations import DynamoParticipationStore
        from oms_amazon.services.participation import ParticipationGuard

        store = DynamoParticipationStore(self._dynamodb, self.settings.table_name)
        return ParticipationGuard(store, self.participation_source, self.clock)

    @cached_property
    def account_service(self) -> AccountService:
        from oms_amazon.adapters.account_data import DynamoAccountData
        from oms_amazon.services.accounts import AccountService

        return AccountService(
            accounts=self.accounts,
            secrets=self.seller_secrets,
            clock=self.clock,
            new_id=new_id,
            data=DynamoAccountData(self._dynamodb, self.settings.table_name),
            activation=self.activation_guard,
        )

    @cached_property
    def courier_mapping_service(self) -> CourierMappingService:
        from oms_amazon.services.courier_mappings import CourierMappingService

        return CourierMappingService(
            mappings=self.courier_mappings,
            unmapped=self.unmapped_terms,
            accounts=self.accounts,
            clock=self.clock,
            new_id=new_id,
            held_orders=self.order_reevaluation,
        )

    @cached_property
    def product_service(self) -> ProductService:
        from oms_amazon.services.products import ProductService

        return ProductService(products=self.product_repository, clock=self.clock)

    @cached_property
    def authorisation_service(self) -> AuthorisationService:
        from oms_amazon.adapters.amazon_authorisation import SpApiSellerAuthorisation
        from oms_amazon.adapters.oauth_states import DynamoUsedStates, SecretsManagerStateKey
        from oms_amazon.services.authorisation import AuthorisationService

        config = self.settings
        return AuthorisationService(
            accounts=self.account_service,
            secrets=self.seller_secrets,
            amazon=SpApiSellerAuthorisation(self.amazon_connections),
            state_key=SecretsManagerStateKey(self.client("secretsmanager"), config.oauth_state_key_secret),
            used_states=DynamoUsedStates(self._dynamodb, config.table_name),
            rejections=self.rejections,
            clock=self.clock,
            seller_central_url=config.seller_central_url,
        )

    @cached_property
    def sku_alias_service(self) -> SkuAliasService:
        from oms_amazon.services.sku_aliases import SkuAliasService

        return SkuAliasService(
            aliases=self.sku_alias_store,
            products=self.product_repository,
            accounts=self.accounts,
            clock=self.clock,
            held_orders=self.order_reevaluation,
        )

    @cached_property
    def stock_runs(self) -> StockRunQueries:
        from oms_amazon.services.stock_runs import StockRunQueries

        return StockRunQueries(
            accounts=self.account_service,
            store=self.stock_store,
            catalogue=self.catalogue,
            aliases=self.sku_aliases,
        )

    @cached_property
    def write_limiter(self) -> WriteLimiter:
        from oms_amazon.adapters.write_limits import DynamoWriteBuckets
        from oms_amazon.domain.write_limits import WriteLimit
        from oms_amazon.services.write_limits import WriteLimiter

        config = self.settings
        return WriteLimiter(
            DynamoWriteBuckets(self._dynamodb, config.table_name),
            WriteLimit(per_second=config.client_write_rate_per_second, burst=config.client_write_burst),
            clock=self.clock,
        )

    @cached_property
    def console_sign_in(self) -> dict[str, str]:
        """How the web console signs in: locally with the gateway's identity headers (`?as=<client_id>`), in
        AWS with the user pool's hosted UI (the client id is an SSM parameter; see template.yaml)."""
        config = self.settings
        if config.stage == "local":
            return {"sign_in": "local"}
        from oms_amazon.adapters.parameters import parameter_value

        client_id = parameter_value(
            self.client("ssm"), config.console_client_id_parameter, what="The console's sign-in settings"
        )
        return {"sign_in": "cognito", "url": config.console_sign_in_url, "client_id": client_id}

    # ---- each worker's way to a seller's Amazon: its own factory, the sellers' secrets and their rejections
    def _seller_access[AmazonT](self, amazon: AmazonFactory[AmazonT]) -> SellerAccess[AmazonT]:
        from oms_amazon.services.seller_access import SellerAccess

        return SellerAccess(self.seller_secrets, amazon, self.rejections)

    # ---- stock sync
    @cached_property
    def stock_sync_scheduler(self) -> StockSyncScheduler:
        from oms_amazon.adapters.queues import SqsJobQueue
        from oms_amazon.services.stock_sync.scheduler import StockSyncScheduler

        queue = SqsJobQueue(self.client("sqs"), self.settings.stock_sync_queue_url)
        return StockSyncScheduler(self.accounts, self.stock_store, queue, self.clock)

    @cached_property
    def stock_sync_access(self) -> SellerAccess[AmazonSeller]:
        return self._seller_access(self.seller_amazon)

    @cached_property
    def stock_sync_worker(self) -> StockSyncWorker:
        from oms_amazon.services.stock_sync.worker import StockSyncWorker

        return StockSyncWorker(
            accounts=self.accounts,
            store=self.stock_store,
            access=self.stock_sync_access,
            products=self.product_repository,
            clock=self.clock,
            aliases=self.sku_aliases,
        )

    # ---- orders
    @cached_property
    def order_queries(self) -> OrderQueries:
        from oms_amazon.services.order_queries import OrderQueries

        return OrderQueries(self.order_store, self.pii_purge)

    @cached_property
    def pii_purge(self) -> PiiPurge:
        from oms_amazon.services.order_import.pii_purge import PiiPurge

        return PiiPurge(self.order_store, self.clock)

    @cached_property
    def relay(self) -> OutboxRelay:
        from oms_amazon.adapters.events import EventBridgePublisher
        from oms_amazon.services.order_import.writer import OutboxRelay

        return OutboxRelay(self.order_store, EventBridgePublisher(self.client("events"), self.settings.event_bus_name))

    @cached_property
    def order_writer(self) -> OrderWriter:
        from oms_amazon.services.order_import.writer import OrderWriter

        return OrderWriter(
            self.order_store, self.unmapped_terms, pii_retention=timedelta(days=self.settings.pii_retention_days)
        )

    @cached_property
    def deleted_accounts(self) -> DeletedAccountSweep:
        from oms_amazon.adapters.account_data import DynamoAccountData
        from oms_amazon.services.accounts import DeletedAccountSweep

        return DeletedAccountSweep(self.accounts, DynamoAccountData(self._dynamodb, self.settings.table_name))

    @cached_property
    def order_import_scheduler(self) -> OrderImportScheduler:
        from oms_amazon.adapters.queues import SqsJobQueue
        from oms_amazon.services.order_import.scheduler import OrderImportScheduler

        return OrderImportScheduler(
            self.accounts,
            self.import_state,
            SqsJobQueue(self.client("sqs"), self.settings.order_import_queue_url),
            self.relay,
            self.clock,
            self.pii_purge,
            held=self.order_reevaluation,
            deleted=self.deleted_accounts,
        )

    @cached_property
    def order_import_access(self) -> SellerAccess[OrderSource]:
        return self._seller_access(self.order_amazon)

    @cached_property
    def order_import_worker(self) -> OrderImportWorker:
        from oms_amazon.services.order_import.worker import OrderImportWorker

        return OrderImportWorker(
            accounts=self.accounts,
            state=self.import_state,
            orders=self.order_store,
            writer=self.order_writer,
            relay=self.relay,
            access=self.order_import_access,
            rules=self.order_rules,
            clock=self.clock,
            api_version=self.settings.orders_api_version,
            changes=self.mapping_changes,
        )

    @cached_property
    def order_reevaluation(self) -> OrderReevaluation:
        from oms_amazon.services.order_import.reevaluation import OrderReevaluation

        return OrderReevaluation(
            self.accounts,
            self.order_store,
            self.order_writer,
            self.relay,
            self.order_rules,
            self.clock,
            changes=self.mapping_changes,
        )

    @cached_property
    def order_rules(self) -> RuleSources:
        from oms_amazon.services.order_import.ports import RuleSources

        return RuleSources(self._skus, self._mappings, self.sku_aliases)

    # ---- shipments
    @cached_property
    def shipment_service(self) -> ShipmentService:
        from oms_amazon.services.shipments import ShipmentService

        return ShipmentService(
            orders=self.order_store, shipments=self.shipment_store, queue=self.shipment_queue, clock=self.clock
        )

    @cached_property
    def shipment_access(self) -> SellerAccess[ShipmentConfirmer]:
        return self._seller_access(self.shipment_amazon)

    @cached_property
    def shipment_worker(self) -> ShipmentWorker:
        from oms_amazon.domain.shipments import RetrySchedule
        from oms_amazon.services.shipments import ShipmentWorker

        return ShipmentWorker(
            accounts=self.accounts,
            shipments=self.shipment_store,
            queue=self.shipment_queue,
            relay=self.relay,
            access=self.shipment_access,
            clock=self.clock,
            schedule=RetrySchedule(base_seconds=self.settings.shipment_retry_base_seconds),
            orders=self.order_store,
            despatched=self.order_reevaluation,
        )

    # ---- each worker's dead-letter queue, for the job messages it cannot parse (oms_amazon.batch)
    def _dead_letters(self, queue_url: str) -> DeadLetterQueue:
        from oms_amazon.adapters.queues import SqsDeadLetterQueue

        return SqsDeadLetterQueue(self.client("sqs"), queue_url)

    @cached_property
    def stock_sync_dead_letters(self) -> DeadLetterQueue:
        return self._dead_letters(self.settings.stock_sync_dlq_url)

    @cached_property
    def order_import_dead_letters(self) -> DeadLetterQueue:
        return self._dead_letters(self.settings.order_import_dlq_url)

    @cached_property
    def shipment_dead_letters(self) -> DeadLetterQueue:
        return self._dead_letters(self.settings.shipment_dlq_url)


_installed: Container | None = None
_making = threading.Lock()


def container() -> Container:
    """This process's container: the one installed, else one made from the environment now (the first
    invocation of a Lambda's cold start), kept for the container's life."""
    global _installed
    current = _installed
    if current is not None:
        return current
    with _making:
        if _installed is None:
            _installed = Container.from_environment()
        return _installed


def install(replacement: Container | None) -> None:
    """Serve `replacement` from now on (the local stack and the tests, per environment); None: make one from
    the environment on the next use."""
    global _installed
    with _making:
        _installed = replacement
