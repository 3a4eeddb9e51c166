"""SKU validation and matching — pure.

Amazon matches seller SKUs case-sensitively. The OMS vendor's help page warns ("Case Sensitive!")
that OMS `ABC-1` never updates Amazon's `abc-1`, and the old connector let that fail silently. Here
a SKU is kept exactly as given and every match is exact; a case-insensitive comparison is used only
to *explain* a miss (hold `sku_case_mismatch`, list it in the SKU report), never to resolve one,
because a guessed match would send stock to, or ship, the wrong product.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any, Final, Literal, NamedTuple

from oms_amazon.domain.errors import InvalidInput

MAX_SKU_LENGTH: Final = 200
AMAZON_MAX_SKU_LENGTH: Final = 40

# Long enough to recognise a SKU, short enough that a 1 MB "SKU" never ends up in a response or a log.
_QUOTE_LIMIT: Final = 60
# An ambiguous hold names this many candidates in its message; the full list is in `oms_skus`.
_MESSAGE_CANDIDATES: Final = 5

# Cc: C0/C1 controls, NUL, tab, newline. Cf: invisible format characters (bidi overrides such as
# U+202E, zero-width spaces and joiners, soft hyphen) that make two SKUs look identical while
# differing. Cs: lone surrogates, which JSON can carry ("\ud800") but UTF-8 cannot encode, so the
# write to DynamoDB would fail much later. Zl/Zp: line and paragraph separators break flat files.
_FORBIDDEN_CATEGORIES: Final = frozenset({"Cc", "Cf", "Cs", "Zl", "Zp"})


def quote_sku(value: str) -> str:
    """A SKU as it may appear in a message: quoted, invisible characters escaped, length bounded."""
    if len(value) <= _QUOTE_LIMIT:
        return repr(value)
    return f"{value[:_QUOTE_LIMIT]!r}… ({len(value)} characters)"


def _invalid_sku(field: str, reason: str, value: str | None) -> InvalidInput:
    shown = f" {quote_sku(value)}" if value is not None else ""
    return InvalidInput(
        f"Invalid SKU{shown}: {reason}",
        code="invalid_sku",
        details=[{"field": field, "reason": reason}],
    )


def _forbidden_character(value: str) -> tuple[int, str] | None:
    if value.isprintable():
        # Every forbidden category is non-printable, so the common case skips the per-character scan.
        return None
    for position, char in enumerate(value):
        if unicodedata.category(char) in _FORBIDDEN_CATEGORIES:
            return position, char
    return None


def validate_sku(value: object, *, field: str = "sku") -> str:
    """Return `value` unchanged if it is a valid OMS SKU, else raise `InvalidInput` (`invalid_sku`).

    A valid SKU is a string of 1 to 200 characters with no leading or trailing whitespace and no
    control, invisible-format or surrogate character. It is never stripped or re-cased: SKUs are
    exact, and silently "fixing" one would hide the very mismatch this module exists to expose.
    """
    if not isinstance(value, str):
        raise _invalid_sku(field, f"must be a string, not {type(value).__name__}", None)
    if not value:
        raise _invalid_sku(field, "must not be empty", None)
    if len(value) > MAX_SKU_LENGTH:
        raise _invalid_sku(field, f"must be at most {MAX_SKU_LENGTH} characters, got {len(value)}", value)
    if value != value.strip():
        raise _invalid_sku(field, "must not start or end with whitespace", value)
    forbidden = _forbidden_character(value)
    if forbidden is not None:
        position, char = forbidden
        name = unicodedata.name(char, "")
        label = f"U+{ord(char):04X}" + (f" {name}" if name else "")
        raise _invalid_sku(field, f"must not contain control or invisible characters ({label} at {position})", value)
    return value


def is_too_long_for_amazon(sku: str) -> bool:
    """Amazon caps a seller SKU at 40 characters; a longer OMS SKU can never match a listing."""
    return len(sku) > AMAZON_MAX_SKU_LENGTH


def caseless_key(sku: str) -> str:
    """The key under which SKUs that differ only by letter case collide.

    `casefold()` rather than `lower()`: it is Unicode's caseless-matching fold, so `STRASSE` meets
    `straße` and `ΣΑΣ` meets `σας`, pairs `lower()` keeps apart. A wider net is safe here because
    the key never decides a match — it only turns "unknown SKU" into a more useful explanation.
    """
    return sku.casefold()


MatchKind = Literal["exact", "case_mismatch", "ambiguous", "unknown"]


@dataclass(frozen=True, slots=True)
class SkuMatch:
    """How a SKU looked up in a `SkuIndex` relates to the indexed SKUs.

    `oms_sku` is the exact match, or the single case-insensitive one (`case_mismatch`); `candidates`
    holds every case-insensitive match (`case_mismatch`, `ambiguous`), sorted.
    """

    kind: MatchKind
    oms_sku: str | None = None
    candidates: tuple[str, ...] = ()


class SkuIndex:
    """A client's SKUs, built once, answering each lookup in O(1) (order lines, 100k-SKU stock syncs).

    Usually it holds OMS SKUs and is asked about Amazon SKUs; the stock sync also builds one over the
    Amazon listing snapshot and asks about OMS SKUs (`listing_skip_reason`).
    """

    __slots__ = ("_by_key", "_exact")

    def __init__(self, skus: Iterable[str], /) -> None:
        exact = frozenset(skus)
        groups: dict[str, list[str]] = {}
        for sku in exact:
            groups.setdefault(caseless_key(sku), []).append(sku)
        self._exact = exact
        self._by_key = {key: tuple(sorted(group)) for key, group in groups.items()}

    def __contains__(self, sku: object) -> bool:
        return sku in self._exact

    def __len__(self) -> int:
        return len(self._exact)

    def __iter__(self) -> Iterator[str]:
        return iter(self._exact)

    def match(self, sku: str) -> SkuMatch:
        # An exact match wins even when other indexed SKUs differ from it only by case: Amazon
        # itself treats those as distinct products.
        if sku in self._exact:
            return SkuMatch("exact", sku)
        candidates = self._by_key.get(caseless_key(sku), ())
        if not candidates:
            return SkuMatch("unknown")
        if len(candidates) == 1:
            return SkuMatch("case_mismatch", candidates[0], candidates)
        return SkuMatch("ambiguous", None, candidates)


def skus_matching(oms_skus: Iterable[str], wanted: Iterable[str]) -> set[str]:
    """The OMS SKUs equal to one of `wanted`, or equal to one when letter case is ignored: a `SkuIndex`
    over them answers every lookup of a `wanted` SKU as one over the whole catalogue would."""
    keys = {caseless_key(sku) for sku in wanted}
    return {sku for sku in oms_skus if caseless_key(sku) in keys}


SkuHoldCode = Literal["sku_case_mismatch", "sku_ambiguous", "unknown_sku"]


@dataclass(frozen=True, slots=True)
class SkuHoldReason:
    """Why an order line cannot be released (SPEC §6.5); the order is held, never dropped."""

    code: SkuHoldCode
    message: str
    amazon_sku: str
    oms_sku: str | None = None
    oms_skus: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        body: dict[str, Any] = {"code": self.code, "message": self.message, "amazon_sku": self.amazon_sku}
        if self.code == "sku_case_mismatch":
            body["oms_sku"] = self.oms_sku
        elif self.code == "sku_ambiguous":
            body["oms_skus"] = list(self.oms_skus)
        return body


def line_check(seller_sku: str, index: SkuIndex) -> SkuHoldReason | None:
    """None when the order line's `SellerSKU` is exactly an OMS SKU, else the reason to hold it."""
    found = index.match(seller_sku)
    amazon = quote_sku(seller_sku)
    if found.kind == "exact":
        return None
    if found.kind == "case_mismatch":
        (oms_sku,) = found.candidates
        oms = quote_sku(oms_sku)
        return SkuHoldReason(
            "sku_case_mismatch",
            f"Amazon SKU {amazon} matches OMS SKU {oms} only when letter case is ignored; SKUs are "
            f"case-sensitive, so link the two with a SKU alias (PUT /sku-aliases/{{amazon_sku}} with "
            f"oms_sku {oms}) or change the OMS SKU to {amazon} exactly (Amazon SKUs cannot be changed)",
            seller_sku,
            oms_sku=oms_sku,
        )
    if found.kind == "ambiguous":
        shown = ", ".join(quote_sku(sku) for sku in found.candidates[:_MESSAGE_CANDIDATES])
        more = len(found.candidates) - _MESSAGE_CANDIDATES
        if more > 0:
            shown += f" and {more} more"
        return SkuHoldReason(
            "sku_ambiguous",
            f"Amazon SKU {amazon} has no exact OMS match and matches {len(found.candidates)} OMS SKUs when "
            f"letter case is ignored ({shown}); SKUs are case-sensitive, so one OMS SKU must equal {amazon} exactly",
            seller_sku,
            oms_skus=found.candidates,
        )
    return SkuHoldReason(
        "unknown_sku",
        f"Amazon SKU {amazon} is not an OMS product SKU, even ignoring letter case",
        seller_sku,
    )


def line_sku(seller_sku: str, index: SkuIndex, aliases: Mapping[str, str]) -> tuple[str | None, SkuHoldReason | None]:
    """The OMS SKU an order line ships (§6.5): its `SellerSKU` when that is an OMS SKU exactly, else the
    OMS SKU a SKU alias links it to; otherwise no SKU and the reason to hold the order."""
    if seller_sku in index:
        return seller_sku, None
    linked = aliases.get(seller_sku)
    if linked is not None and linked in index:
        return linked, None
    return None, line_check(seller_sku, index)


ListingSkipReason = Literal["sku_case_mismatch", "not_on_amazon"]


def listing_skip_reason(oms_sku: str, amazon_listings: SkuIndex) -> ListingSkipReason | None:
    """None when the OMS SKU is on the Amazon listing snapshot with exactly the same case (§5.4).

    A SKU whose case differs from one or more listings is `sku_case_mismatch`: sending it would
    create nothing and update nothing, which is exactly the help page's silent failure.
    """
    found = amazon_listings.match(oms_sku)
    if found.kind == "exact":
        return None
    if found.kind == "unknown":
        return "not_on_amazon"
    return "sku_case_mismatch"


class CaseMismatch(NamedTuple):
    amazon_sku: str
    oms_sku: str


class AmbiguousSku(NamedTuple):
    amazon_sku: str
    oms_skus: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class SkuReport:
    """Amazon's SKUs beside the OMS's (`GET /accounts/{id}/sku-report`). Every list is sorted.

    Each Amazon SKU is in exactly one of `matched`, `aliased`, `case_mismatches`, `ambiguous`,
    `missing_in_oms`; each case mismatch comes with the SKU alias that would settle it.
    """

    matched: tuple[str, ...]
    aliased: tuple[CaseMismatch, ...]
    case_mismatches: tuple[CaseMismatch, ...]
    ambiguous: tuple[AmbiguousSku, ...]
    missing_in_oms: tuple[str, ...]
    missing_on_amazon: tuple[str, ...]
    too_long_for_amazon: tuple[str, ...]

    def to_dict(self) -> dict[str, Any]:
        return {
            "matched": list(self.matched),
            "aliased": [{"amazon_sku": a, "oms_sku": o} for a, o in self.aliased],
            "case_mismatches": [
                {"amazon_sku": a, "oms_sku": o, "proposed_alias": {"amazon_sku": a, "oms_sku": o}}
                for a, o in self.case_mismatches
            ],
            "ambiguous": [{"amazon_sku": a, "oms_skus": list(o)} for a, o in self.ambiguous],
            "missing_in_oms": list(self.missing_in_oms),
            "missing_on_amazon": list(self.missing_on_amazon),
            "too_long_for_amazon": list(self.too_long_for_amazon),
        }

    def summary(self) -> dict[str, int]:
        return {
            "matched": len(self.matched),
            "aliased": len(self.aliased),
            "case_mismatches": len(self.case_mismatches),
            "ambiguous": len(self.ambiguous),
            "missing_in_oms": len(self.missing_in_oms),
            "missing_on_amazon": len(self.missing_on_amazon),
            "too_long_for_amazon": len(self.too_long_for_amazon),
        }


def compare_sku_sets(
    amazon_skus: Iterable[str], oms_skus: Iterable[str], aliases: Mapping[str, str] | None = None
) -> SkuReport:
    """Compare an account's Amazon listing SKUs with the client's OMS SKUs, in linear time.

    `missing_on_amazon` holds OMS SKUs with no Amazon SKU even ignoring case; an OMS SKU whose
    case-insensitive twin on Amazon is already matched exactly by another OMS SKU is therefore in
    none of the lists (Amazon's SKU is accounted for, and the stock sync reports the twin as
    `sku_case_mismatch`).
    """
    amazon = frozenset(amazon_skus)
    oms = SkuIndex(oms_skus)
    links = aliases or {}

    matched: list[str] = []
    aliased: list[CaseMismatch] = []
    case_mismatches: list[CaseMismatch] = []
    ambiguous: list[AmbiguousSku] = []
    missing_in_oms: list[str] = []
    for sku in amazon:
        found = oms.match(sku)
        if found.kind == "exact":
            matched.append(sku)
        elif links.get(sku) in oms:
            aliased.append(CaseMismatch(sku, links[sku]))
        elif found.kind == "case_mismatch":
            case_mismatches.append(CaseMismatch(sku, found.candidates[0]))
        elif found.kind == "ambiguous":
            ambiguous.append(AmbiguousSku(sku, found.candidates))
        else:
            missing_in_oms.append(sku)

    amazon_keys = {caseless_key(sku) for sku in amazon}
    reached = {oms_sku for _, oms_sku in aliased}
    missing_on_amazon = [sku for sku in oms if caseless_key(sku) not in amazon_keys and sku not in reached]
    too_long = [sku for sku in oms if is_too_long_for_amazon(sku)]

    return SkuReport(
        matched=tuple(sorted(matched)),
        aliased=tuple(sorted(aliased)),
        case_mismatches=tuple(sorted(case_mismatches)),
        ambiguous=tuple(sorted(ambiguous)),
        missing_in_oms=tuple(sorted(missing_in_oms)),
        missing_on_amazon=tuple(sorted(missing_on_amazon)),
        too_long_for_amazon=tuple(sorted(too_long)),
    )
