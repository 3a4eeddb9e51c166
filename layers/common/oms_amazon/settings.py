"""Environment settings, validated once. Only the composition root (`oms_amazon.wiring`) reads them.

A missing required variable fails the cold start loudly instead of surfacing later as a confusing
error (no `os.getenv(name, "")` defaults for required values).
"""

from __future__ import annotations

import os
from datetime import date
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field


class Settings(BaseModel):
    model_config = ConfigDict(frozen=True)

    stage: Literal["dev", "prod", "local"] = Field(alias="STAGE")
    table_name: str = Field(alias="TABLE_NAME", min_length=3)
    secret_prefix: str = Field(alias="SECRET_PREFIX", min_length=1, pattern=r"^[A-Za-z0-9/_+=.@-]+/$")
    app_credentials_secret: str = Field(alias="APP_CREDENTIALS_SECRET", min_length=1)
    oauth_state_key_secret: str = Field(alias="OAUTH_STATE_KEY_SECRET", min_length=1)
    sp_api_endpoint: str = Field(alias="SP_API_ENDPOINT", description="empty: Amazon's production host by region")
    lwa_token_url: str = Field(alias="LWA_TOKEN_URL", min_length=8)
    orders_api_version: Literal["v0", "2026-01-01"] = Field(alias="ORDERS_API_VERSION")
    stock_sync_queue_url: str = Field(alias="STOCK_SYNC_QUEUE_URL", min_length=8)
    order_import_queue_url: str = Field(alias="ORDER_IMPORT_QUEUE_URL", min_length=8)
    shipment_queue_url: str = Field(alias="SHIPMENT_QUEUE_URL", min_length=8)
    # Where a worker sends a job message it cannot parse, at once rather than after five deliveries.
    stock_sync_dlq_url: str = Field(alias="STOCK_SYNC_DLQ_URL", min_length=8)
    order_import_dlq_url: str = Field(alias="ORDER_IMPORT_DLQ_URL", min_length=8)
    shipment_dlq_url: str = Field(alias="SHIPMENT_DLQ_URL", min_length=8)
    # First retry delay of a shipment confirmation; doubles per attempt up to SQS's 900 s (tests: 1).
    shipment_retry_base_seconds: int = Field(alias="SHIPMENT_RETRY_BASE_SECONDS", ge=1, le=900)
    event_bus_name: str = Field(alias="EVENT_BUS_NAME", min_length=1)
    # The customer-managed KMS key (an alias or ARN) that seals the buyer's data, and how many days
    # after an order ships or is cancelled that data is deleted (SPEC §6.8).
    pii_key_id: str = Field(alias="PII_KEY_ID", min_length=1)
    pii_retention_days: int = Field(alias="PII_RETENTION_DAYS", ge=0, le=3650)
    # Seller Central for consent pages and the Appstore workflow's callback: empty is Amazon's host per
    # marketplace (https only); the local stack points it at the simulator, which plays Seller Central.
    seller_central_url: str = Field(alias="SELLER_CENTRAL_URL", pattern=r"^$|^https?://[A-Za-z0-9.-]+(:[0-9]{1,5})?$")
    # The console's sign-in: the Cognito hosted UI's base URL and the SSM parameter that holds the user
    # pool client id (a parameter, since the client's callback URL names the API that serves the console).
    console_sign_in_url: str = Field(alias="CONSOLE_SIGN_IN_URL", min_length=8)
    console_client_id_parameter: str = Field(alias="CONSOLE_CLIENT_ID_PARAMETER", min_length=2)
    # Orders v0's reads retire on this day (Amazon's deprecation schedule); until then a 2026-01-01
    # import recovers the shipping level (and its zone) from v0.
    orders_v0_retires_on: date = Field(date(2027, 3, 27), alias="ORDERS_V0_RETIRES_ON")
    # Fairness: each client's writes and manual actions through the API (every POST, PUT, PATCH, DELETE) draw
    # on a token bucket of its own that refills this many tokens a second, up to the burst (api.fairness).
    client_write_rate_per_second: float = Field(
        5.0, alias="CLIENT_WRITE_RATE_PER_SECOND", gt=0, le=1000, allow_inf_nan=False
    )
    client_write_burst: int = Field(50, alias="CLIENT_WRITE_BURST", ge=1, le=100_000)

    @classmethod
    def from_env(cls) -> Settings:
        return cls.model_validate(dict(os.environ))
