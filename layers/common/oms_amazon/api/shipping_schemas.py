"""Request and response bodies of the shipping-term and courier-mapping routes (SPEC §7), and the
views that render domain objects as them.

Term and courier-service rules carry their own error codes (`invalid_shipping_term`, …) and live in
the domain, which the service calls; these models only fix types and bound sizes.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, StrictBool, StrictInt, StrictStr, ValidationInfo, field_validator

from oms_amazon.domain.accounts import check_text
from oms_amazon.domain.courier_mappings import CourierServiceMapping, UnmappedTerm
from oms_amazon.domain.moments import iso
from oms_amazon.services.courier_mappings import TermMapping
from oms_amazon.shipping import Resolution
from oms_amazon.shipping_text import MAX_TERM_LENGTH

ID_PATTERN = r"^[A-Za-z0-9_-]+$"
MAX_LEVEL_LENGTH = 2 * MAX_TERM_LENGTH
MAX_CATEGORY_LENGTH = 64

Source = Literal["exact", "zoneless", "account_default"]
Status = Literal["mapped", "unmapped"]

_TERM_HELP = (
    "The Amazon shipping term, in the canonical form ('STD UK DOM', 'STD UK DOM_1-PRIME', 'UK NEXT') or as Amazon "
    "spells it ('Std UK Dom_1', 'NextDay', 'Second Day', 'Expedited': a word that names no marketplace needs "
    "`marketplace`). Stored in canonical form (upper case, single spaces, '-PRIME' suffix): at most 100 characters, "
    "no control characters; a term outside Amazon's grammar needs `allow_unrecognised`."
)
_ACCOUNT_HELP = "One of this client's accounts: the mapping applies to its orders only. Absent: client-wide."


class CourierMappingWrite(BaseModel):
    model_config = ConfigDict(extra="forbid")
    amazon_term: StrictStr = Field(description=_TERM_HELP)
    courier_service: StrictStr = Field(max_length=512, description="The OMS courier service: 1-100 characters")
    account_id: StrictStr | None = Field(
        None, min_length=1, max_length=64, pattern=ID_PATTERN, description=_ACCOUNT_HELP
    )
    marketplace: StrictStr | None = Field(
        None,
        max_length=20,
        description="The marketplace (code or id) a term such as 'NextDay' is for; defaults to the account's",
    )
    allow_unrecognised: StrictBool = Field(
        False, description="Store a term outside Amazon's term grammar as typed (matched exactly)"
    )


class CourierMappingReplace(CourierMappingWrite):
    """The whole mapping: term, courier service and scope (an absent account_id makes it client-wide).
    `version`, when sent, must be the stored one."""

    version: StrictInt | None = Field(None, ge=1, le=2**53)


class CourierMappingOut(BaseModel):
    id: str
    amazon_term: str = Field(description="Canonical form")
    courier_service: str
    account_id: str | None = Field(description="None for a client-wide mapping")
    marketplace: str | None = Field(description="The marketplace code the term names, if any")
    recognized: bool = Field(description="Whether the term fits Amazon's term grammar (§6.3)")
    is_prime: bool
    is_premium: bool
    created_at: str
    updated_at: str
    version: int


class CourierMappingList(BaseModel):
    items: list[CourierMappingOut]
    next_token: str | None


class ResolveRequest(BaseModel):
    """An order's shipping as either Orders API gives it (§6.3)."""

    model_config = ConfigDict(extra="forbid")
    marketplace: StrictStr = Field(max_length=32, description="Marketplace code (UK, DE, …) or marketplace id")
    ship_service_level: StrictStr | None = Field(
        None, max_length=MAX_LEVEL_LENGTH, description="Orders v0 ShipServiceLevel, e.g. 'Std UK Dom_1'"
    )
    service_level_category: StrictStr | None = Field(
        None,
        max_length=MAX_CATEGORY_LENGTH,
        description="v0 ShipmentServiceLevelCategory or 2026-01-01 fulfillmentServiceLevel, e.g. 'NextDay'",
    )
    is_prime: StrictBool = False
    ship_to_country: StrictStr | None = Field(
        None, pattern=r"^[A-Za-z]{2}$", description="ISO country (GB) or marketplace code (UK); absent = domestic"
    )
    account_id: StrictStr | None = Field(
        None,
        min_length=1,
        max_length=64,
        pattern=ID_PATTERN,
        description="Resolve as for this account: its scoped mappings and default courier service apply",
    )

    @field_validator("ship_service_level", "service_level_category", mode="after")
    @classmethod
    def _printable(cls, value: str | None, info: ValidationInfo) -> str | None:
        field_name = info.field_name or "value"
        limit = MAX_LEVEL_LENGTH if field_name == "ship_service_level" else MAX_CATEGORY_LENGTH
        return check_text(value, field_name, limit) if value is not None else None


class ResolutionOut(BaseModel):
    term: str
    recognized: bool
    courier_service: str | None
    matched_mapping: str | None = Field(description="The id of the mapping used; None for the account default")
    source: Source | None = Field(description="exact, zoneless or account_default; None when unmapped")
    status: Status


class ShippingTermOut(BaseModel):
    term: str
    is_prime: bool
    is_premium: bool
    courier_service: str | None
    matched_mapping: str | None
    source: Source | None
    status: Status


class ShippingTermList(BaseModel):
    items: list[ShippingTermOut]
    next_token: None = None


class UnmappedTermOut(BaseModel):
    term: str
    marketplace: str
    orders_on_hold: int
    last_seen_at: str


class UnmappedTermList(BaseModel):
    items: list[UnmappedTermOut]
    next_token: str | None


def mapping_view(mapping: CourierServiceMapping) -> CourierMappingOut:
    term = mapping.term
    return CourierMappingOut(
        id=mapping.id,
        amazon_term=mapping.amazon_term,
        courier_service=mapping.courier_service,
        account_id=mapping.account_id,
        marketplace=term.country,
        recognized=term.recognized,
        is_prime=term.is_prime,
        is_premium=term.is_premium,
        created_at=iso(mapping.created_at),
        updated_at=iso(mapping.updated_at),
        version=mapping.version,
    )


def resolution_view(resolution: Resolution) -> ResolutionOut:
    return ResolutionOut(
        term=resolution.term,
        recognized=resolution.recognized,
        courier_service=resolution.courier_service,
        matched_mapping=resolution.matched_mapping,
        source=resolution.source,
        status=resolution.status,
    )


def term_view(found: TermMapping) -> ShippingTermOut:
    resolution = found.resolution
    return ShippingTermOut(
        term=found.term.text,
        is_prime=found.term.is_prime,
        is_premium=found.term.is_premium,
        courier_service=resolution.courier_service,
        matched_mapping=resolution.matched_mapping,
        source=resolution.source,
        status=resolution.status,
    )


def unmapped_view(unmapped: UnmappedTerm) -> UnmappedTermOut:
    return UnmappedTermOut(
        term=unmapped.term,
        marketplace=unmapped.marketplace,
        orders_on_hold=unmapped.orders_on_hold,
        last_seen_at=iso(unmapped.last_seen_at),
    )
