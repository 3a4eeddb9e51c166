"""Amazon shipping terms: the grammar, the canonical form, and the derivation of an order's term.

SPEC §6.3. The standard terms of each marketplace and the terms operators type for a mapping are
`shipping_catalogue`'s; resolving a term to a courier service (§6.4) is `shipping`'s. Pure and
table-driven: no I/O, no clock, no environment, so the order importer, the API and the re-evaluation of
held orders all agree.

The term grammar, in canonical form (upper case, single spaces)::

    term    := base [ "-PRIME" ]
    base    := speed " " cc [ " D2D" ] " " scope [ "_" zone ]  |  cc " " premium
    speed   := STD | EXP      scope := DOM | INT      premium := NEXT | SECOND
    cc      := a marketplace code (UK, not GB)      zone := 1 | 2 | 3 | ...

One parser (`_parse_base`) serves both what Amazon sends (`derive_term`) and what a user types when
creating a mapping (`canonical_mapping_term`). That is deliberate: mappings are matched by exact
string, so the two sides must produce byte-identical text for the same Amazon term.

Choices the spec leaves open, made here:

- Neither a usable `ShipServiceLevel` nor a category: the term is `<cc> UNKNOWN` (plus `-PRIME` for a
  Prime order), unrecognized. It keeps the marketplace in view on the unmapped report and can be
  mapped by exact match like any other unrecognized term; not being a standard term, it never takes
  the account default.
- A level that fits no rule but comes with a recognized category: the category wins. v0 always sends
  both, and Orders 2026-01-01 sends only the category, so this keeps the term the same whichever
  Orders API the account uses. The raw level is only kept (unrecognized) when the category does not
  help (absent, or `SameDay`/`Scheduled`/an unknown value).
- Amazon text is never rejected (an import must not fail on it): control and invisible formatting
  characters are blanked and a level too long to be stored as a mapping term is ignored. User input
  (`canonical_mapping_term`, `parse_term`) is validated and refused with `invalid_shipping_term`.
- A category other than STD/EXP/premium becomes `<cc> <CATEGORY>` in the Orders 2026-01-01 spelling
  (`UK SAME_DAY`), whichever API spelled it, so one mapping covers both APIs.
- North-American levels such as `Std US D2D Dom` keep `D2D`. Categories never add it (the spec maps
  STANDARD to plain STD), so `shipping_catalogue.standard_terms` lists the D2D domestic forms too for NA marketplaces.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Final, Literal

from oms_amazon.domain.errors import InvalidInput
from oms_amazon.domain.marketplaces import MARKETPLACES, Marketplace, find_marketplace
from oms_amazon.shipping_text import (
    HARD_INPUT_LIMIT,
    MAX_TERM_LENGTH,
    blank_forbidden,
    canonical_text,
    invalid_term,
    term_too_long,
    validated_fold,
)

__all__ = [
    "PRIME_SUFFIX",
    "UNKNOWN_WORD",
    "ShippingTerm",
    "canonical_mapping_term",
    "derive_term",
    "lenient_term",
    "operator_term",
    "parse_term",
    "require_marketplace",
]

Speed = Literal["STD", "EXP"]
Scope = Literal["DOM", "INT"]
Premium = Literal["NEXT", "SECOND"]
TermOrigin = Literal["ship_service_level", "service_level_category", "missing", "text"]

PRIME_SUFFIX: Final = "-PRIME"
UNKNOWN_WORD: Final = "UNKNOWN"
UNKNOWN_MARKETPLACE_CODE: Final = "unknown_marketplace"

_TERM_COUNTRIES: Final = frozenset(m.code for m in MARKETPLACES)

# --- Tables -------------------------------------------------------------------------------------

# Service-level categories keyed by the Orders 2026-01-01 spelling (`NEXT_DAY`). v0 spells the same
# values in CamelCase (`NextDay`); `_category_name` folds both spellings onto these keys.
_CATEGORY_SPEED: Final[dict[str, Speed]] = {
    "STANDARD": "STD",
    "FREE_ECONOMY": "STD",
    "EXPEDITED": "EXP",
    "PRIORITY": "EXP",
}
_CATEGORY_PREMIUM: Final[dict[str, Premium]] = {
    "NEXT_DAY": "NEXT",
    "SECOND_DAY": "SECOND",
}
# Known to Amazon but with no place in the grammar: they become `<cc> <CATEGORY>`, unrecognized.
_CATEGORY_OTHER: Final = frozenset({"SAME_DAY", "SCHEDULED"})
_CATEGORIES: Final = frozenset(_CATEGORY_SPEED) | frozenset(_CATEGORY_PREMIUM) | _CATEGORY_OTHER
# `NEXTDAY`, `FREEECONOMY`: what an upper-cased v0 word looks like once its CamelCase is gone.
_CATEGORY_BY_COMPACT: Final = {name.replace("_", ""): name for name in _CATEGORIES}

# Premium words as Amazon writes them in a ShipServiceLevel: `NextDay`, `Next Day`, `SECOND_DAY`.
_PREMIUM_WORDS: Final[dict[str, Premium]] = {"NEXT": "NEXT", "SECOND": "SECOND"}
_PREMIUM_WORD = "(?P<word>" + "|".join(_PREMIUM_WORDS) + ")(?:[ _]?DAY)?"

# --- Grammar ------------------------------------------------------------------------------------

# `STD UK DOM_1`, `EXP DE INT`, `STD US D2D DOM`.
_STANDARD_RE: Final = re.compile(
    r"(?P<speed>STD|EXP) (?P<cc>[A-Z]{2})(?P<d2d> D2D)? (?P<scope>DOM|INT)(?:_(?P<zone>[1-9][0-9]*))?"
)
# `UK NEXT`, `UK NextDay`, `UK Second Day`, and the bare `NextDay` (country from the marketplace).
_PREMIUM_RE: Final = re.compile(r"(?:(?P<cc>[A-Z]{2}) )?" + _PREMIUM_WORD)
# North-American premium levels put the word first: `Next US D2D Dom`, `Second US D2D Dom`.
_NA_PREMIUM_RE: Final = re.compile(_PREMIUM_WORD + r" (?P<cc>[A-Z]{2})(?: D2D)? DOM")
# `UK SAME_DAY`, `UK SameDay`: the form a non-grammar category takes, so users can type it loosely.
_COUNTRY_CATEGORY_RE: Final = re.compile(r"(?P<cc>[A-Z]{2}) (?P<word>[A-Z][A-Z_ ]*)")
# A bare category word used as a level (`Standard`, `FreeEconomy`, `Free Economy`).
_CATEGORY_WORD_RE: Final = re.compile(r"[A-Z][A-Z_ ]*")
# `-PRIME`, ` - Prime`, ` PRIME` on the already folded (upper, single-spaced) text.
_PRIME_SUFFIX_RE: Final = re.compile(r"(?: ?- ?| )PRIME$")
_CAMEL_BOUNDARY_RE: Final = re.compile(r"(?<=[a-z0-9])(?=[A-Z])")
_CATEGORY_SEPARATORS_RE: Final = re.compile(r"[\s_\-]+")


# --- Public value objects -----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ShippingTerm:
    """A shipping term in canonical form, with the parts the grammar gives it.

    `text` always ends in `-PRIME` exactly when `is_prime` is true. The parts (`speed`, `country`,
    ...) are set only where the grammar recognised them; an unrecognized term may still carry
    `country` when it was derived for a marketplace.
    """

    text: str
    recognized: bool
    is_prime: bool
    is_premium: bool
    country: str | None = None  # the term's country code (`UK`), not ISO (`GB`)
    speed: Speed | None = None
    scope: Scope | None = None
    zone: int | None = None
    premium: Premium | None = None
    d2d: bool = False
    derived_from: TermOrigin = "text"

    @property
    def base(self) -> str:
        """The term without its `-PRIME` suffix."""
        return self.text.removesuffix(PRIME_SUFFIX) if self.is_prime else self.text

    @property
    def zoneless(self) -> str | None:
        """The same term without its zone (`STD UK DOM_2-PRIME` -> `STD UK DOM-PRIME`); None if it has none."""
        if self.zone is None:
            return None
        base = self.base.rsplit("_", 1)[0]
        return base + PRIME_SUFFIX if self.is_prime else base


# --- Internal parse results ---------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Base:
    """A parsed term without its Prime suffix."""

    text: str
    recognized: bool
    country: str | None = None
    speed: Speed | None = None
    d2d: bool = False
    scope: Scope | None = None
    zone: int | None = None
    premium: Premium | None = None


@dataclass(frozen=True, slots=True)
class _CategoryWord:
    """A level that is only a category word (`Standard`): its scope depends on the ship-to country."""

    name: str  # Orders 2026-01-01 spelling


# --- Public functions ---------------------------------------------------------------------------


def derive_term(
    marketplace_code: str,
    *,
    ship_service_level: str | None = None,
    service_level_category: str | None = None,
    is_prime: bool = False,
    ship_to_country: str | None = None,
) -> ShippingTerm:
    """The shipping term of an order (§6.3), from what either Orders API gives.

    `marketplace_code` is the account's marketplace (code or marketplace id); it supplies the term's
    country for premium and category terms and the home country for the DOM/INT scope.
    `ship_service_level` is v0's free text; `service_level_category` is v0's
    `ShipmentServiceLevelCategory` or 2026-01-01's `fulfillmentServiceLevel` (either spelling).
    `is_prime` is v0 `IsPrime` or 2026-01-01 `programs` containing `PRIME`; a level already ending
    in `-PRIME` makes the term Prime as well.

    Never raises on Amazon's data; only an unknown marketplace is an error (`unknown_marketplace`).
    """
    marketplace = require_marketplace(marketplace_code)
    cc = marketplace.code
    prime = bool(is_prime)

    from_level: _Base | None = None
    if ship_service_level is not None:
        body, suffixed = _split_prime(canonical_text(blank_forbidden(ship_service_level)))
        prime = prime or suffixed
        if body:
            parsed = _parse_base(body, cc)
            if isinstance(parsed, _CategoryWord):
                parsed = _base_from_category(parsed.name, marketplace, ship_to_country)
            from_level = parsed if _fits(parsed, prime) else None

    if from_level is not None and from_level.recognized:
        return _term(from_level, prime, "ship_service_level")

    from_category: _Base | None = None
    if service_level_category is not None:
        name = _category_name(service_level_category)
        if name:
            candidate = _base_from_category(name, marketplace, ship_to_country)
            from_category = candidate if _fits(candidate, prime) else None

    if from_category is not None and (from_category.recognized or from_level is None):
        return _term(from_category, prime, "service_level_category")
    if from_level is not None:
        return _term(from_level, prime, "ship_service_level")
    return _term(_Base(f"{cc} {UNKNOWN_WORD}", False, country=cc), prime, "missing")


def parse_term(text: str, *, field: str = "amazon_term") -> ShippingTerm:
    """Validate and parse a term a user typed (or one stored); raises `InvalidInput` when unusable.

    Same rules as for a v0 `ShipServiceLevel`, except that no marketplace is known: a bare premium
    or category word (`NextDay`, `Standard`) has no country to attach, so it is kept as typed and
    unrecognized.
    """
    body, prime = _split_prime(validated_fold(text, field))
    if not body:
        raise invalid_term(f"'{PRIME_SUFFIX}' needs a term before it, e.g. 'STD UK DOM-PRIME'.", field, "prime_only")
    parsed = _parse_base(body, None)
    base = _Base(body, False) if isinstance(parsed, _CategoryWord) else parsed
    term = _term(base, prime, "text")
    if len(term.text) > MAX_TERM_LENGTH:
        raise term_too_long(len(term.text), field)
    return term


def canonical_mapping_term(text: str, *, field: str = "amazon_term") -> str:
    """The canonical form under which a courier mapping is stored and matched.

    `std uk dom_1 - prime` -> `STD UK DOM_1-PRIME`, `UK NextDay-PRIME` -> `UK NEXT-PRIME`. Idempotent,
    and equal to `derive_term(...).text` for the same Amazon term. Empty, over-long (more than
    `MAX_TERM_LENGTH` characters once canonical) or control-character input raises `InvalidInput`
    with code `invalid_shipping_term`.
    """
    return parse_term(text, field=field).text


def operator_term(
    text: str, *, marketplace: str | None = None, field: str = "amazon_term"
) -> tuple[ShippingTerm, Marketplace | None]:
    """A term as an operator types it, in Amazon's spellings, with the marketplace given (if any).

    A word that names no country (`NextDay`, `Expedited`) takes the `marketplace` given — a category
    word becomes the domestic term (`Expedited` on UK -> `EXP UK DOM`) — or is refused with
    `marketplace_required` listing its forms. The term may still be unrecognised, too long or of
    another marketplace: `shipping_catalogue.mapping_input_term` decides."""
    body, prime = _split_prime(validated_fold(text, field))
    if not body:
        raise invalid_term(f"'{PRIME_SUFFIX}' needs a term before it, e.g. 'STD UK DOM-PRIME'.", field, "prime_only")
    market = require_marketplace(marketplace) if marketplace is not None else None
    parsed = _parse_base(body, market.code if market else None)
    if isinstance(parsed, _CategoryWord):
        if market is None:
            forms = [_term(_base_from_category(parsed.name, m, None), prime, "text").text for m in MARKETPLACES]
            raise InvalidInput(
                f"{text.strip()!r} names no marketplace: send `marketplace` (e.g. UK) with it, or the full term, "
                f"e.g. {forms[0]!r}.",
                code="marketplace_required",
                details=[{"field": "marketplace", "candidates": forms}],
            )
        parsed = _base_from_category(parsed.name, market, None)
    return _term(parsed, prime, "text"), market


# --- Helpers ------------------------------------------------------------------------------------


def require_marketplace(marketplace_code: str) -> Marketplace:
    marketplace = find_marketplace(marketplace_code) if isinstance(marketplace_code, str) else None
    if marketplace is None:
        shown = marketplace_code[:20] if isinstance(marketplace_code, str) else type(marketplace_code).__name__
        raise InvalidInput(
            f"Unknown marketplace {shown!r}: use a marketplace code such as UK or DE, or its marketplace id.",
            code=UNKNOWN_MARKETPLACE_CODE,
            details=[{"field": "marketplace", "issue": "unknown"}],
        )
    return marketplace


def _split_prime(folded: str) -> tuple[str, bool]:
    """Strip every Prime suffix variant from folded text: (body, had a suffix).

    Repeated so that a term suffixed twice (`X-PRIME-PRIME`) is not kept half-suffixed.
    """
    body, prime = folded, False
    while (match := _PRIME_SUFFIX_RE.search(body)) is not None:
        body, prime = body[: match.start()].rstrip(), True
    return body, prime


def _parse_base(body: str, default_cc: str | None) -> _Base | _CategoryWord:
    """Parse folded text without its Prime suffix. `default_cc` is the marketplace code, if known."""
    if (m := _STANDARD_RE.fullmatch(body)) is not None:
        cc = m["cc"]
        if cc in _TERM_COUNTRIES:
            zone = m["zone"]
            return _Base(
                body,
                True,
                country=cc,
                speed=_speed(m["speed"]),
                d2d=m["d2d"] is not None,
                scope=_scope(m["scope"]),
                zone=int(zone) if zone is not None else None,
            )
        return _Base(body, False)

    premium_match = _PREMIUM_RE.fullmatch(body) or _NA_PREMIUM_RE.fullmatch(body)
    if premium_match is not None:
        cc = premium_match["cc"] or default_cc
        if cc is not None and cc in _TERM_COUNTRIES:
            premium = _PREMIUM_WORDS[premium_match["word"]]
            return _Base(f"{cc} {premium}", True, country=cc, premium=premium)
        if premium_match["cc"] is not None:
            return _Base(body, False)

    if (m := _COUNTRY_CATEGORY_RE.fullmatch(body)) is not None and m["cc"] in _TERM_COUNTRIES:
        name = _lookup_category(m["word"])
        if name in _CATEGORY_OTHER:
            return _Base(f"{m['cc']} {name}", False, country=m["cc"])

    if _CATEGORY_WORD_RE.fullmatch(body) is not None:
        name = _lookup_category(body)
        if name is not None:
            return _CategoryWord(name)
    return _Base(body, False)


def _base_from_category(name: str, marketplace: Marketplace, ship_to_country: str | None) -> _Base:
    """A category (2026-01-01 spelling) as a term of `marketplace` for an order shipped to `ship_to_country`."""
    cc = marketplace.code
    if (speed := _CATEGORY_SPEED.get(name)) is not None:
        scope = _scope_for(marketplace, ship_to_country)
        return _Base(f"{speed} {cc} {scope}", True, country=cc, speed=speed, scope=scope)
    if (premium := _CATEGORY_PREMIUM.get(name)) is not None:
        return _Base(f"{cc} {premium}", True, country=cc, premium=premium)
    # Unknown to the grammar. Parsed once more so that the text is exactly what `parse_term` makes of
    # it (an odd value such as `Next` then reads as the premium term it spells).
    text = f"{cc} {name}"
    parsed = _parse_base(text, cc)
    if isinstance(parsed, _CategoryWord):
        return _Base(text, False, country=cc)
    return parsed if parsed.recognized else _Base(parsed.text, False, country=cc)


def _scope_for(marketplace: Marketplace, ship_to_country: str | None) -> Scope:
    """DOM when shipped within the marketplace's country or when that is unknown, else INT.

    The marketplace code is accepted beside the ISO code because `UK` is what people (and some
    feeds) write for `GB`.
    """
    if ship_to_country is None:
        return "DOM"
    country = ship_to_country.strip().upper()
    if not country or country in (marketplace.country_code, marketplace.code):
        return "DOM"
    return "INT"


def _category_name(value: str) -> str | None:
    """Fold either API's spelling (`NextDay`, `NEXT_DAY`, `Next Day`) to the 2026-01-01 one.

    An unknown value keeps its words, joined by underscores, so that it still forms one token of
    the `<cc> <CATEGORY>` term. Returns None when nothing is left.
    """
    cleaned = blank_forbidden(value).strip()
    snake = _CATEGORY_SEPARATORS_RE.sub("_", _CAMEL_BOUNDARY_RE.sub("_", cleaned)).strip("_").upper()
    if not snake:
        return None
    return _lookup_category(snake) or snake


def _lookup_category(word: str) -> str | None:
    """The category a word names, or None. Without separators (`FREEECONOMY`, the upper-cased v0
    spelling) it is looked up compactly; with them, the words must be the category's own."""
    name = _CATEGORY_SEPARATORS_RE.sub("_", word.strip()).upper()
    if name in _CATEGORIES:
        return name
    if "_" not in name:
        return _CATEGORY_BY_COMPACT.get(name)
    return None


def _term(base: _Base, prime: bool, origin: TermOrigin) -> ShippingTerm:
    return ShippingTerm(
        text=base.text + PRIME_SUFFIX if prime else base.text,
        recognized=base.recognized,
        is_prime=prime,
        is_premium=base.premium is not None,
        country=base.country,
        speed=base.speed,
        scope=base.scope,
        zone=base.zone,
        premium=base.premium,
        d2d=base.d2d,
        derived_from=origin,
    )


def _fits(base: _Base, prime: bool) -> bool:
    """Whether the term can also be stored as a mapping term (so it can be mapped at all)."""
    return len(base.text) + (len(PRIME_SUFFIX) if prime else 0) <= MAX_TERM_LENGTH


def lenient_term(text: str, prime: bool) -> ShippingTerm | None:
    """A stored or hand-built term brought to canonical form without raising; None if it is empty."""
    if len(text) > HARD_INPUT_LIMIT:
        return None
    body, suffixed = _split_prime(canonical_text(blank_forbidden(text)))
    if not body:
        return None
    parsed = _parse_base(body, None)
    base = _Base(body, False) if isinstance(parsed, _CategoryWord) else parsed
    return _term(base, prime or suffixed, "text")


def _speed(value: str) -> Speed:
    return "STD" if value == "STD" else "EXP"


def _scope(value: str) -> Scope:
    return "DOM" if value == "DOM" else "INT"
