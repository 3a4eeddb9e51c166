"""Request and response bodies of the HTTP API (SPEC §7). These models are the OpenAPI document's
source; field rules that carry a specific error code live in the domain and are called from here."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import AliasChoices, BaseModel, ConfigDict, Field, StrictBool, StrictInt, field_validator, model_validator

from oms_amazon.domain.accounts import (
    MAX_COURIER_SERVICE_LENGTH,
    MAX_NAME_LENGTH,
    MAX_STOCK_SYNC_DELAY,
    MIN_STOCK_SYNC_DELAY,
    PROHIBITED_KEY_FIELDS,
    SellerToken,
    check_no_custom_access_keys,
    check_text,
    classify_token,
    normalise_merchant_id,
    resolve_marketplace,
)
from oms_amazon.domain.errors import InvalidInput
from oms_amazon.domain.moments import iso
from oms_amazon.stock import StockRules

MAX_QUANTITY_FIGURE = 1_000_000_000

# Field -> the names a caller may use for it (the seed's OMS used merchantId and MWSAuthToken).
ALIASES = {
    "merchant_id": ("merchant_id", "merchantId"),
    "auth_token": ("auth_token", "MWSAuthToken", "mws_auth_token", "refresh_token"),
}


class ErrorBody(BaseModel):
    code: str
    message: str
    details: list[dict[str, Any]] = Field(default_factory=list)


class ErrorResponse(BaseModel):
    error: ErrorBody


class StockRulesBody(BaseModel):
    """Applied after the quantity is computed, in this order: buffer, zero_at_or_below, max_quantity."""

    model_config = ConfigDict(extra="forbid")
    buffer: StrictInt | None = Field(None, ge=0, le=MAX_QUANTITY_FIGURE, description="Subtract N (floor 0)")
    zero_at_or_below: StrictInt | None = Field(None, ge=0, le=MAX_QUANTITY_FIGURE, description="Send 0 when ≤ N")
    max_quantity: StrictInt | None = Field(None, ge=0, le=MAX_QUANTITY_FIGURE, description="Cap at N")

    def to_domain(self) -> StockRules:
        return StockRules(buffer=self.buffer, max_quantity=self.max_quantity, zero_at_or_below=self.zero_at_or_below)


def _reject_keys_and_alias_clashes(data: Any) -> Any:
    if not isinstance(data, dict):
        return data
    check_no_custom_access_keys(data)
    for field_name, names in ALIASES.items():
        given = [n for n in names if n in data]
        if len(given) > 1:
            raise InvalidInput(
                f"Give {field_name} once: {', '.join(given)} name the same field.",
                details=[{"field": field_name, "reason": "given under several names", "names": given}],
            )
    # Emptied key fields are what the help page asks for ("remove both keys"): accepted and dropped.
    return {k: v for k, v in data.items() if k not in PROHIBITED_KEY_FIELDS}


class AccountSettings(BaseModel):
    """What a caller sets on an account, declared once: creating takes these (with these defaults),
    a PATCH changes those it sends, and the view returns them all. A new setting is a field here and
    on `Account` (and in the table's item when it is stored); no route, service or view lists them."""

    name: str | None = Field(None, max_length=512, description="Defaults to '<merchant_id> <marketplace>'")
    active: StrictBool = Field(False, description="Set to false until the client is ready")
    sync_stock: StrictBool = False
    stock_sync_delay_minutes: StrictInt = Field(15, ge=MIN_STOCK_SYNC_DELAY, le=MAX_STOCK_SYNC_DELAY)
    include_bundles_in_stock_sync: StrictBool = False
    import_orders: StrictBool = True
    default_courier_service: str | None = Field(None, max_length=512)
    stock_rules: StockRulesBody | None = None

    def settings(self, *, sent_only: bool = False) -> dict[str, Any]:
        """The settings as the domain holds them: all of them, or only those the caller sent."""
        names = [n for n in AccountSettings.model_fields if not sent_only or n in self.model_fields_set]
        return {name: _to_domain(getattr(self, name)) for name in names}


def _to_domain(value: Any) -> Any:
    return value.to_domain() if isinstance(value, StockRulesBody) else value


class _AccountInput(BaseModel):
    """The rules every account body keeps, whatever fields it has."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    @model_validator(mode="before")
    @classmethod
    def _prechecks(cls, data: Any) -> Any:
        return _reject_keys_and_alias_clashes(data)

    @field_validator("merchant_id", mode="after", check_fields=False)
    @classmethod
    def _merchant(cls, value: str | None) -> str | None:
        return normalise_merchant_id(value) if value is not None else None

    @field_validator("marketplace", mode="after", check_fields=False)
    @classmethod
    def _marketplace(cls, value: str | None) -> str | None:
        return resolve_marketplace(value).code if value is not None else None

    @field_validator("name", mode="after", check_fields=False)
    @classmethod
    def _name(cls, value: str | None) -> str | None:
        return check_text(value, "name", MAX_NAME_LENGTH) if value is not None else None

    @field_validator("default_courier_service", mode="after", check_fields=False)
    @classmethod
    def _courier(cls, value: str | None) -> str | None:
        return check_text(value, "default_courier_service", MAX_COURIER_SERVICE_LENGTH) if value is not None else None

    def token(self) -> SellerToken | None:
        raw: str | None = getattr(self, "auth_token", None)
        return classify_token(raw) if raw is not None else None


_AUTH_FIELD_HELP = (
    "Write-only. The seller's SP-API refresh token (Atzr|…) or a legacy MWS auth token (amzn.mws.<uuid>); "
    "aliases MWSAuthToken, mws_auth_token, refresh_token. Stored in Secrets Manager, never returned."
)


class AccountCreate(_AccountInput, AccountSettings):
    merchant_id: str = Field(
        validation_alias=AliasChoices(*ALIASES["merchant_id"]),
        max_length=64,
        description="The Seller ID (8-20 letters and digits); alias merchantId",
    )
    marketplace: str = Field(max_length=32, description="Marketplace code (UK, DE, …) or marketplace id")
    auth_token: str | None = Field(
        None, validation_alias=AliasChoices(*ALIASES["auth_token"]), max_length=4096, description=_AUTH_FIELD_HELP
    )


def _sent_fields_only(schema: dict[str, Any]) -> None:
    # A PATCH changes only what it sends: the settings' creation defaults are not a PATCH's.
    for field_schema in schema.get("properties", {}).values():
        field_schema.pop("default", None)


class AccountUpdate(_AccountInput, AccountSettings):
    """Only the fields sent change; a setting that may not be null refuses null. `version`, when sent,
    must be the stored one."""

    model_config = ConfigDict(json_schema_extra=_sent_fields_only)

    merchant_id: str | None = Field(None, validation_alias=AliasChoices(*ALIASES["merchant_id"]), max_length=64)
    marketplace: str | None = Field(None, max_length=32)
    auth_token: str | None = Field(
        None, validation_alias=AliasChoices(*ALIASES["auth_token"]), max_length=4096, description=_AUTH_FIELD_HELP
    )
    version: StrictInt | None = Field(None, ge=1, le=2**53)

    @model_validator(mode="after")
    def _no_null_identity(self) -> AccountUpdate:
        nulls = [
            f
            for f in ("merchant_id", "marketplace", "auth_token")
            if f in self.model_fields_set and getattr(self, f) is None
        ]
        if nulls:
            raise InvalidInput(
                "These fields cannot be null: " + ", ".join(nulls) + ".",
                details=[{"field": f, "reason": "null"} for f in nulls],
            )
        return self

    def immutable(self) -> dict[str, Any]:
        """The fields fixed at creation that the caller sent (to check they did not change)."""
        return {f: getattr(self, f) for f in ("merchant_id", "marketplace") if f in self.model_fields_set}


class Authorisation(BaseModel):
    type: Literal["sp_api_refresh_token", "mws_auth_token"] | None
    status: Literal["ok", "authorisation_required", "rejected"]
    hint: str | None = Field(description="The token's last four characters")


def _every_field_returned(schema: dict[str, Any]) -> None:
    # A response carries every field, settings included: their creation defaults are not the response's.
    _sent_fields_only(schema)
    schema["required"] = list(schema.get("properties", {}))


class AccountOut(AccountSettings):
    """An account: its settings and what the connector keeps about it."""

    # Read from the domain `Account`'s attributes, so a setting is returned as soon as it is declared.
    model_config = ConfigDict(from_attributes=True, json_schema_extra=_every_field_returned)

    id: str
    client_id: str
    name: str
    merchant_id: str
    marketplace: str
    marketplace_id: str
    region: Literal["na", "eu", "fe"]
    authorisation: Authorisation
    last_stock_sync: dict[str, Any] | None
    next_stock_sync_at: str | None
    last_order_import_at: str | None
    created_at: str
    updated_at: str
    version: int

    @field_validator("next_stock_sync_at", "last_order_import_at", "created_at", "updated_at", mode="before")
    @classmethod
    def _iso(cls, value: Any) -> Any:
        return iso(value) if isinstance(value, datetime) else value


class AccountList(BaseModel):
    items: list[AccountOut]
    next_token: str | None


class MarketplaceOut(BaseModel):
    code: str
    name: str
    marketplace_id: str
    region: Literal["na", "eu", "fe"]
    country_code: str
    currency: str


class MarketplaceList(BaseModel):
    items: list[MarketplaceOut]
    next_token: None = None
