"""The standard shipping terms of each marketplace, and the terms operators type for a mapping.

SPEC §7 (`GET /shipping-terms`, `POST /courier-mappings`). The grammar they follow is `shipping_terms`'s.
"""

from __future__ import annotations

import difflib
from typing import Final

from oms_amazon.domain.errors import InvalidInput
from oms_amazon.domain.marketplaces import MARKETPLACES
from oms_amazon.shipping_terms import PRIME_SUFFIX, Premium, Scope, Speed, operator_term, require_marketplace
from oms_amazon.shipping_text import MAX_TERM_LENGTH, term_too_long

__all__ = ["mapping_input_term", "standard_terms"]

_SPEEDS: Final[tuple[Speed, ...]] = ("STD", "EXP")
_SCOPES: Final[tuple[Scope, ...]] = ("DOM", "INT")
_PREMIUMS: Final[tuple[Premium, ...]] = ("NEXT", "SECOND")


def mapping_input_term(
    text: str, *, marketplace: str | None = None, allow_unrecognised: bool = False, field: str = "amazon_term"
) -> str:
    """A term as an operator types it for a mapping, in Amazon's spellings (`NextDay`, `Second Day`,
    `Expedited`, `Std UK Dom_1`), as the canonical term a mapping stores (§7).

    A word that names no country (`NextDay`, `Expedited`) takes the `marketplace` given — a category
    word becomes the domestic term (`Expedited` on UK -> `EXP UK DOM`) — or is refused with
    `marketplace_required` listing its forms. A term that fits no rule is refused with
    `unrecognised_term` and the nearest recognised terms, unless `allow_unrecognised` (an Amazon level
    outside the grammar, mapped by exact match)."""
    term, market = operator_term(text, marketplace=marketplace, field=field)
    if market is not None and term.country is not None and term.country != market.code:
        raise InvalidInput(
            f"The term {term.text!r} is for marketplace {term.country}, not {market.code}.",
            code="marketplace_mismatch",
            details=[{"field": field, "reason": "names another marketplace"}],
        )
    if not term.recognized and not allow_unrecognised:
        catalogue = standard_terms(market.code) if market else [t for m in MARKETPLACES for t in standard_terms(m.code)]
        nearest = difflib.get_close_matches(term.text, catalogue, n=3, cutoff=0.4)
        raise InvalidInput(
            f"{term.text!r} is not a shipping term Amazon sends"
            + (f"; did you mean {', '.join(repr(n) for n in nearest)}?" if nearest else ".")
            + " Send allow_unrecognised: true to map an Amazon level outside the usual grammar by exact match.",
            code="unrecognised_term",
            details=[{"field": field, "suggestions": nearest}],
        )
    if len(term.text) > MAX_TERM_LENGTH:
        raise term_too_long(len(term.text), field)
    return term.text


def standard_terms(marketplace_code: str) -> list[str]:
    """The standard catalogue of a marketplace for `GET /shipping-terms`, each term then its Prime form.

    STD/EXP x DOM/INT, `<cc> NEXT`, `<cc> SECOND`. North-American marketplaces also list
    `STD <cc> D2D DOM` and `EXP <cc> D2D DOM`, the forms their v0 levels take (`Std US D2D Dom`), so
    operators see both the level and the category spelling of a domestic order.
    """
    marketplace = require_marketplace(marketplace_code)
    cc = marketplace.code
    bases = [f"{speed} {cc} {scope}" for speed in _SPEEDS for scope in _SCOPES]
    if marketplace.region == "na":
        bases += [f"{speed} {cc} D2D DOM" for speed in _SPEEDS]
    bases += [f"{cc} {premium}" for premium in _PREMIUMS]
    return [text for base in bases for text in (base, base + PRIME_SUFFIX)]
