"""Connections: one Amazon account per client, seller and marketplace (SPEC §4).

Pure rules only. The refresh token itself never enters an `Account`: it lives in Secrets Manager,
and the account keeps only what kind of authorisation it has and its last four characters.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any, Literal

from oms_amazon.domain.errors import Conflict, InvalidInput
from oms_amazon.domain.marketplaces import Marketplace, find_marketplace, marketplace_by_code, marketplace_codes
from oms_amazon.stock import StockRules

AuthorisationType = Literal["sp_api_refresh_token", "mws_auth_token"]
AuthorisationStatus = Literal["ok", "authorisation_required", "rejected"]

MIN_STOCK_SYNC_DELAY = 15
MAX_STOCK_SYNC_DELAY = 1440
MAX_NAME_LENGTH = 100
MAX_COURIER_SERVICE_LENGTH = 100

# The field names a caller might use for AWS keys. Amazon never accepted third-party keys for a
# seller's data, and SP-API needs none: a connection carrying either is refused outright.
PROHIBITED_KEY_FIELDS = (
    "access_key",
    "secret_access_key",
    "AccessKey",
    "SecretAccessKey",
    "aws_access_key_id",
    "aws_secret_access_key",
)

_MERCHANT_ID = re.compile(r"[A-Z0-9]{8,20}")
# An LWA refresh token: `Atzr|` then at least 20 printable, non-space ASCII characters.
_REFRESH_TOKEN = re.compile(r"Atzr\|[\x21-\x7e]{20,}")
_MWS_TOKEN = re.compile(r"amzn\.mws\.[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")
MAX_TOKEN_LENGTH = 2048


@dataclass(frozen=True, slots=True)
class Authorisation:
    type: AuthorisationType | None
    status: AuthorisationStatus
    hint: str | None

    @classmethod
    def none(cls) -> Authorisation:
        return cls(type=None, status="authorisation_required", hint=None)

    def to_dict(self) -> dict[str, str | None]:
        return {"type": self.type, "status": self.status, "hint": self.hint}


@dataclass(frozen=True, slots=True)
class SellerToken:
    """A token as the caller gave it: classified, never printed."""

    value: str = field(repr=False)
    type: AuthorisationType

    @property
    def authorisation(self) -> Authorisation:
        status: AuthorisationStatus = "ok" if self.type == "sp_api_refresh_token" else "authorisation_required"
        return Authorisation(type=self.type, status=status, hint="…" + self.value[-4:])


def classify_token(value: str) -> SellerToken:
    """An SP-API refresh token or a legacy MWS auth token; any other shape is refused without echoing it."""
    if len(value) <= MAX_TOKEN_LENGTH:
        if _REFRESH_TOKEN.fullmatch(value):
            return SellerToken(value=value, type="sp_api_refresh_token")
        if _MWS_TOKEN.fullmatch(value):
            return SellerToken(value=value, type="mws_auth_token")
    raise InvalidInput(
        "auth_token is not an SP-API refresh token ('Atzr|…') or an MWS auth token ('amzn.mws.<uuid>'). "
        "Use Authorise Now to connect the seller.",
        code="invalid_auth_token",
        details=[{"field": "auth_token", "reason": "unrecognised token format"}],
    )


def check_no_custom_access_keys(body: dict[str, Any]) -> None:
    """Refuse any AWS key field with a value: both keys must be removed, one left set still fails."""
    offending = [name for name in PROHIBITED_KEY_FIELDS if _has_value(body.get(name))]
    if offending:
        raise InvalidInput(
            "Custom Amazon AccessKeys/SecretAccessKeys are prohibited. Remove both the AccessKey and the "
            "SecretAccessKey from this connection and connect with the seller's authorisation instead "
            "(Authorise Now, or the seller's SP-API refresh token in auth_token).",
            code="custom_access_keys_prohibited",
            details=[{"field": name, "reason": "prohibited"} for name in offending],
        )


def _has_value(value: object) -> bool:
    if value is None:
        return False
    if isinstance(value, str):
        return value.strip() != ""
    return True


def normalise_merchant_id(value: str) -> str:
    merchant_id = value.strip().upper()
    if not _MERCHANT_ID.fullmatch(merchant_id):
        raise InvalidInput(
            "merchant_id must be the Seller ID: 8 to 20 letters and digits.",
            code="invalid_merchant_id",
            details=[{"field": "merchant_id", "reason": "expected 8-20 uppercase letters or digits"}],
        )
    return merchant_id


def resolve_marketplace(value: str) -> Marketplace:
    marketplace = find_marketplace(value)
    if marketplace is None:
        raise InvalidInput(
            "marketplace must be a marketplace code (UK, DE, FR, …) or an Amazon marketplace id.",
            code="unknown_marketplace",
            details=[{"field": "marketplace", "reason": "unknown", "allowed": marketplace_codes()}],
        )
    return marketplace


def check_text(value: str, field_name: str, max_length: int) -> str:
    """Short free text: trimmed, 1..max_length characters, no control or bidi-format characters."""
    text = value.strip()
    if not 1 <= len(text) <= max_length:
        raise InvalidInput(
            f"{field_name} must be 1 to {max_length} characters.",
            details=[{"field": field_name, "reason": "length"}],
        )
    if any(unicodedata.category(ch) in ("Cc", "Cf") for ch in text):
        raise InvalidInput(
            f"{field_name} must not contain control or formatting characters.",
            details=[{"field": field_name, "reason": "control characters"}],
        )
    return text


def check_stock_sync_delay(value: int) -> int:
    if not MIN_STOCK_SYNC_DELAY <= value <= MAX_STOCK_SYNC_DELAY:
        raise InvalidInput(
            f"stock_sync_delay_minutes must be between {MIN_STOCK_SYNC_DELAY} and {MAX_STOCK_SYNC_DELAY}: "
            "Amazon stock is pushed at most every 15 minutes.",
            code="invalid_stock_sync_delay",
            details=[{"field": "stock_sync_delay_minutes", "reason": "out of range", "min": 15, "max": 1440}],
        )
    return value


@dataclass(frozen=True, slots=True)
class Account:
    id: str
    client_id: str
    merchant_id: str
    marketplace: str  # the code, e.g. "UK"
    name: str
    active: bool
    sync_stock: bool
    stock_sync_delay_minutes: int
    include_bundles_in_stock_sync: bool
    import_orders: bool
    default_courier_service: str | None
    stock_rules: StockRules | None
    authorisation: Authorisation
    created_at: datetime
    updated_at: datetime
    version: int = 1  # user-visible: +1 per change a caller makes
    # Every write, the scheduler's bookkeeping included, bumps `revision`; replacing the item is
    # conditional on it, so a caller's change never overwrites a claim made meanwhile.
    revision: int = 1
    last_stock_sync: dict[str, Any] | None = None
    last_stock_sync_started_at: datetime | None = None
    last_order_import_at: datetime | None = None
    # The version of the seller's secret that holds this account's token (None before any was stored).
    secret_version: str | None = None

    @property
    def market(self) -> Marketplace:
        return marketplace_by_code(self.marketplace)

    @property
    def marketplace_id(self) -> str:
        return self.market.marketplace_id

    @property
    def region(self) -> str:
        return self.market.region

    @property
    def stock_sync_enabled(self) -> bool:
        return self.active and self.sync_stock and self.authorisation.status == "ok"

    @property
    def next_stock_sync_at(self) -> datetime | None:
        """When the schedule will next push this account's stock; None while it cannot sync."""
        if not self.stock_sync_enabled:
            return None
        if self.last_stock_sync_started_at is None:
            return self.updated_at
        return self.last_stock_sync_started_at + timedelta(minutes=self.stock_sync_delay_minutes)

    def check_can_activate(self) -> None:
        if not self.active or self.authorisation.status == "ok":
            return
        if self.authorisation.status == "rejected":
            raise Conflict(
                "Amazon rejected this seller's authorisation. Authorise the connection again (Authorise Now) "
                "before activating it.",
                code="authorisation_required",
            )
        raise Conflict(
            "This connection has no SP-API authorisation. MWS auth tokens stopped working when Amazon retired "
            "MWS, so the seller must authorise the connector again: call GET /accounts/{id}/authorise and open "
            "the consent URL as the seller (Authorise Now), or supply the seller's SP-API refresh token.",
            code="authorisation_required",
        )

    def check_can_run(self, job: Literal["stock_sync", "order_import"]) -> None:
        """Why a job cannot run for this account now (409), if it cannot: inactive, the job switched
        off, or the seller not authorised."""
        what = "sync stock" if job == "stock_sync" else "import orders"
        if not self.active:
            raise Conflict(f"The account is inactive; activate it to {what}.", code="account_inactive")
        if job == "stock_sync" and not self.sync_stock:
            raise Conflict("Stock sync is off for this account (sync_stock is false).", code="stock_sync_disabled")
        if job == "order_import" and not self.import_orders:
            raise Conflict(
                "Order import is off for this account (import_orders is false).", code="order_import_disabled"
            )
        if self.authorisation.status != "ok":
            raise Conflict(
                f"The seller must authorise the connector before you can {what}.", code="authorisation_required"
            )

    def with_changes(self, **changes: Any) -> Account:
        return replace(self, **changes)
