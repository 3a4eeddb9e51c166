"""Courier service mappings (SPEC §6.4): an Amazon shipping term mapped to an OMS courier service.

A mapping is client-wide or scoped to one of the client's accounts; within one scope a term has at
most one mapping. The term is stored in the canonical form of `oms_amazon.shipping_terms`, the same text
`derive_term` produces for an order, so resolution is an exact string match.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from oms_amazon.domain.accounts import MAX_COURIER_SERVICE_LENGTH, check_text
from oms_amazon.shipping import CourierMapping
from oms_amazon.shipping_terms import ShippingTerm, canonical_mapping_term, parse_term

COURIER_SERVICE_FIELD = "courier_service"


def mapping_term(text: str) -> str:
    """A term as a mapping stores it (`std uk dom_1 - prime` -> `STD UK DOM_1-PRIME`); refused with
    `invalid_shipping_term` when empty, over-long or carrying control characters."""
    return canonical_mapping_term(text)


def courier_service(text: str) -> str:
    """The OMS courier service a term maps to: trimmed, 1..100 characters, no control characters."""
    return check_text(text, COURIER_SERVICE_FIELD, MAX_COURIER_SERVICE_LENGTH)


@dataclass(frozen=True, slots=True)
class CourierServiceMapping:
    """A stored mapping. `account_id` None means client-wide; `amazon_term` is canonical."""

    id: str
    client_id: str
    amazon_term: str
    courier_service: str
    account_id: str | None
    created_at: datetime
    updated_at: datetime
    version: int = 1

    @property
    def term(self) -> ShippingTerm:
        return parse_term(self.amazon_term)

    @property
    def marketplace(self) -> str | None:
        """The marketplace code the term names (`STD UK DOM` -> `UK`); None when the term names none."""
        return self.term.country

    @property
    def scope(self) -> tuple[str, str | None]:
        """What must be unique per client: the term within its scope (one account, or client-wide)."""
        return (self.amazon_term, self.account_id)

    def as_rule(self) -> CourierMapping:
        """The mapping as `shipping.resolve` reads it."""
        return CourierMapping(
            mapping_id=self.id,
            amazon_term=self.amazon_term,
            courier_service=self.courier_service,
            account_id=self.account_id,
        )

    def with_changes(self, **changes: Any) -> CourierServiceMapping:
        return replace(self, **changes)


@dataclass(frozen=True, slots=True)
class UnmappedTerm:
    """A term seen on held orders of one marketplace that no mapping covered (`GET /courier-mappings/unmapped`)."""

    marketplace: str
    term: str
    orders_on_hold: int
    last_seen_at: datetime


@dataclass(frozen=True, slots=True)
class MappingAdded:
    """A mapping now covers `amazon_term` in its scope: orders held for that term may be released (§6.4)."""

    client_id: str
    mapping_id: str
    amazon_term: str
    courier_service: str
    account_id: str | None
