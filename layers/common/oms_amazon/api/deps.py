"""Adapters for the API, built once per container on first use (never at import time)."""

from __future__ import annotations

import uuid
from functools import cache

from oms_amazon.adapters.aws import aws_client, utc_now
from oms_amazon.services.accounts import AccountService
from oms_amazon.services.authorisation import AuthorisationService
from oms_amazon.services.courier_mappings import CourierMappingService
from oms_amazon.services.products import ProductService
from oms_amazon.services.write_limits import WriteLimiter
from oms_amazon.settings import settings


def new_id() -> str:
    return uuid.uuid4().hex


@cache
def account_service() -> AccountService:
    from oms_amazon.adapters.account_data import DynamoAccountData
    from oms_amazon.adapters.accounts import DynamoAccountRepository
    from oms_amazon.adapters.secrets import SecretsManagerSellerSecrets

    config = settings()
    return AccountService(
        accounts=DynamoAccountRepository(aws_client("dynamodb"), config.table_name),
        secrets=SecretsManagerSellerSecrets(aws_client("secretsmanager"), config.secret_prefix),
        clock=utc_now,
        new_id=new_id,
        data=DynamoAccountData(aws_client("dynamodb"), config.table_name),
        activation=_activation_guard(),
    )


def participation_source():  # type: ignore[no-untyped-def]
    """Amazon's getMarketplaceParticipations for a seller (the tests without a simulator stand in)."""
    from oms_amazon import wiring
    from oms_amazon.adapters.amazon_authorisation import SpApiSellerAuthorisation

    return SpApiSellerAuthorisation(wiring.amazon_connections())


def _activation_guard():  # type: ignore[no-untyped-def]
    from oms_amazon.adapters.participations import DynamoParticipationStore
    from oms_amazon.services.participation import ParticipationGuard

    store = DynamoParticipationStore(aws_client("dynamodb"), settings().table_name)
    return ParticipationGuard(store, participation_source(), utc_now)


@cache
def courier_mapping_service() -> CourierMappingService:
    from oms_amazon.adapters.accounts import DynamoAccountRepository
    from oms_amazon.adapters.courier_mappings import DynamoCourierMappingRepository, DynamoUnmappedTermRepository

    table = settings().table_name
    dynamodb = aws_client("dynamodb")
    from oms_amazon import wiring

    return CourierMappingService(
        mappings=DynamoCourierMappingRepository(dynamodb, table),
        unmapped=DynamoUnmappedTermRepository(dynamodb, table),
        accounts=DynamoAccountRepository(dynamodb, table),
        clock=utc_now,
        new_id=new_id,
        held_orders=wiring.order_reevaluation(),
    )


@cache
def product_service() -> ProductService:
    from oms_amazon.adapters.products import DynamoProductRepository

    products = DynamoProductRepository(aws_client("dynamodb"), settings().table_name)
    return ProductService(products=products, clock=utc_now)


@cache
def authorisation_service() -> AuthorisationService:
    from oms_amazon import wiring
    from oms_amazon.adapters.accounts import DynamoAccountRepository, DynamoAuthorisationRejections
    from oms_amazon.adapters.amazon_authorisation import SpApiSellerAuthorisation
    from oms_amazon.adapters.oauth_states import DynamoUsedStates, SecretsManagerStateKey
    from oms_amazon.adapters.secrets import SecretsManagerSellerSecrets

    config = settings()
    dynamodb, secretsmanager = aws_client("dynamodb"), aws_client("secretsmanager")
    return AuthorisationService(
        accounts=account_service(),
        secrets=SecretsManagerSellerSecrets(secretsmanager, config.secret_prefix),
        amazon=SpApiSellerAuthorisation(wiring.amazon_connections()),
        state_key=SecretsManagerStateKey(secretsmanager, config.oauth_state_key_secret),
        used_states=DynamoUsedStates(dynamodb, config.table_name),
        rejections=DynamoAuthorisationRejections(
            dynamodb, config.table_name, DynamoAccountRepository(dynamodb, config.table_name)
        ),
        clock=utc_now,
        seller_central_url=config.seller_central_url,
    )


@cache
def write_limiter() -> WriteLimiter:
    from oms_amazon.adapters.write_limits import DynamoWriteBuckets
    from oms_amazon.domain.write_limits import WriteLimit

    config = settings()
    return WriteLimiter(
        DynamoWriteBuckets(aws_client("dynamodb"), config.table_name),
        WriteLimit(per_second=config.client_write_rate_per_second, burst=config.client_write_burst),
        clock=utc_now,
    )


def seller_central_url() -> str:
    """Seller Central's base URL when the stack overrides it (the simulator locally); empty in production."""
    return settings().seller_central_url


def console_sign_in_origin() -> str:
    """The hosted UI's origin, which the console's page may call (its token endpoint)."""
    return settings().console_sign_in_url


def is_local() -> bool:
    """The embedded local stack: no Cognito (the gateway fills the claims) and plain http on 127.0.0.1."""
    return settings().stage == "local"


@cache
def console_sign_in() -> dict[str, str]:
    """How the web console signs in: locally with the gateway's identity headers (`?as=<client_id>`), in
    AWS with the user pool's hosted UI (the client id is an SSM parameter; see template.yaml)."""
    from botocore.exceptions import BotoCoreError, ClientError

    from oms_amazon.domain.errors import DependencyUnavailable

    config = settings()
    if config.stage == "local":
        return {"sign_in": "local"}
    try:
        parameter = aws_client("ssm").get_parameter(Name=config.console_client_id_parameter)
    except (ClientError, BotoCoreError) as error:
        raise DependencyUnavailable("The console's sign-in settings could not be read; retry shortly.") from error
    return {"sign_in": "cognito", "url": config.console_sign_in_url, "client_id": parameter["Parameter"]["Value"]}


def reset() -> None:
    """Forget every cached adapter (tests switch environments between cases)."""
    settings.cache_clear()
    aws_client.cache_clear()
    account_service.cache_clear()
    product_service.cache_clear()
    courier_mapping_service.cache_clear()
    authorisation_service.cache_clear()
    write_limiter.cache_clear()
    console_sign_in.cache_clear()
