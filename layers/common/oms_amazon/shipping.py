"""Courier mappings and the resolution of a shipping term to a courier service (SPEC §6.4).

Pure: no I/O, no clock, no environment, so the order importer, the API and the re-evaluation of held
orders all agree. The terms themselves (grammar, canonical form, derivation from an order) are
`shipping_terms`'s; mapping terms are stored in that canonical form and matched by exact string.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

from oms_amazon.shipping_terms import PRIME_SUFFIX, ShippingTerm, lenient_term, parse_term

__all__ = ["CourierMapping", "Resolution", "resolve", "without_zone"]

ResolutionSource = Literal["exact", "zoneless", "zone_consensus", "account_default"]
ResolutionStatus = Literal["mapped", "unmapped"]


@dataclass(frozen=True, slots=True)
class CourierMapping:
    """An Amazon term mapped to an OMS courier service; `account_id` None means client-wide."""

    mapping_id: str
    amazon_term: str  # canonical, as returned by `canonical_mapping_term`
    courier_service: str
    account_id: str | None = None


@dataclass(frozen=True, slots=True)
class Resolution:
    """What a term resolves to (§6.4). `source` says which rule matched; None when unmapped."""

    term: str
    recognized: bool
    courier_service: str | None
    matched_mapping: str | None
    source: ResolutionSource | None
    status: ResolutionStatus
    # Unmapped because Amazon gave no zone and the zone mappings of the term disagree (§6.4 step 3):
    # those mappings, for the operator to choose from.
    zone_candidates: tuple[CourierMapping, ...] = ()

    @property
    def zone_unknown(self) -> bool:
        return bool(self.zone_candidates)

    def to_dict(self) -> dict[str, str | bool | None]:
        """The `POST /shipping-terms/resolve` response shape (§7), plus `source`."""
        return {
            "term": self.term,
            "recognized": self.recognized,
            "courier_service": self.courier_service,
            "matched_mapping": self.matched_mapping,
            "source": self.source,
            "status": self.status,
        }


def without_zone(term: str) -> str | None:
    """`STD UK DOM_2-PRIME` -> `STD UK DOM-PRIME`; None when the term has no zone."""
    return parse_term(term).zoneless


def resolve(
    term: ShippingTerm,
    mappings: Iterable[CourierMapping],
    *,
    account_id: str | None,
    default_courier_service: str | None,
) -> Resolution:
    """Resolve a term to a courier service (§6.4).

    1. exact term: a mapping scoped to `account_id` first, then a client-wide one (mappings of other
       accounts are ignored); 2. the same term without its zone, in the same scope order; 3. a term
    whose zone is unknown (derived from a category: Amazon gave no level) takes the zone mappings of
    that base when they all name the same courier service, and otherwise stays unmapped with them as
    `zone_candidates`; 4. the account's `default_courier_service`, only for a standard (`STD`) term
    that is neither Prime nor premium — a next-day or expedited order never falls to a slower
    service; 5. unmapped.

    Both the term and every mapping term are brought to canonical form first (so a mapping stored
    before canonicalisation still matches), and `-PRIME` is part of the compared text: a Prime term
    therefore only ever meets Prime mappings, and a non-Prime term only non-Prime ones. Among
    duplicate mappings in one scope the smallest `mapping_id` wins, so the answer does not depend on
    the order the repository returns them in.
    """
    prime = term.is_prime or term.text.endswith(PRIME_SUFFIX)
    key = lenient_term(term.text, prime)
    zoneless = key.zoneless if key is not None else None
    term_text = key.text if key is not None else term.text

    # Best candidate per (term text, scope); scope 0 = this account, 1 = client-wide.
    best: dict[tuple[str, int], CourierMapping] = {}
    zoned: dict[int, dict[str, CourierMapping]] = {0: {}, 1: {}}  # zone mappings of this term, by scope
    for mapping in mappings:
        if mapping.account_id is None:
            scope = 1
        elif account_id is not None and mapping.account_id == account_id:
            scope = 0
        else:
            continue
        mapped = lenient_term(mapping.amazon_term, False)
        if mapped is None:
            continue
        slot = (mapped.text, scope)
        current = best.get(slot)
        if current is None or mapping.mapping_id < current.mapping_id:
            best[slot] = mapping
        if mapped.zoneless is not None and mapped.zoneless == term_text:
            kept = zoned[scope].get(mapped.text)
            if kept is None or mapping.mapping_id < kept.mapping_id:
                zoned[scope][mapped.text] = mapping

    steps: list[tuple[str | None, ResolutionSource]] = [(term_text, "exact"), (zoneless, "zoneless")]
    for text, source in steps:
        if text is None:
            continue
        for scope in (0, 1):
            found = best.get((text, scope))
            if found is not None:
                return Resolution(term_text, term.recognized, found.courier_service, found.mapping_id, source, "mapped")

    candidates: tuple[CourierMapping, ...] = ()
    zone_unknown = term.zone is None and term.derived_from in ("service_level_category", "missing")
    if zone_unknown and key is not None and key.speed is not None:
        for scope in (0, 1):
            found_zones = sorted(zoned[scope].values(), key=lambda m: m.amazon_term)
            if not found_zones:
                continue
            services = {m.courier_service for m in found_zones}
            if len(services) == 1:
                first = min(found_zones, key=lambda m: m.mapping_id)
                return Resolution(
                    term_text, term.recognized, first.courier_service, first.mapping_id, "zone_consensus", "mapped"
                )
            candidates = tuple(found_zones)
            break

    standard = key is not None and key.speed == "STD" and not key.is_premium
    if not prime and standard and not candidates and default_courier_service and default_courier_service.strip():
        return Resolution(term_text, term.recognized, default_courier_service, None, "account_default", "mapped")
    return Resolution(term_text, term.recognized, None, None, None, "unmapped", candidates)
