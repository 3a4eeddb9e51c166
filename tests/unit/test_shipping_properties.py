"""Properties of shipping terms and resolution that must hold for any input, not just the examples."""

from __future__ import annotations

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st
from oms_amazon.domain.errors import InvalidInput
from oms_amazon.domain.marketplaces import MARKETPLACES
from oms_amazon.shipping import CourierMapping, resolve, without_zone
from oms_amazon.shipping_terms import PRIME_SUFFIX, ShippingTerm, canonical_mapping_term, derive_term, parse_term
from oms_amazon.shipping_text import MAX_TERM_LENGTH, canonical_text

pytestmark = pytest.mark.unit

CODES = [m.code for m in MARKETPLACES]

# Pieces of real and almost-real terms, so that generated strings hit the grammar's edges rather
# than being random noise the parser rejects at once.
TOKENS = st.sampled_from(
    [
        "STD", "Std", "std", "EXP", "Exp", "UK", "uk", "DE", "US", "GB", "XX", "D2D", "d2d", "DOM", "Dom",
        "INT", "int", "DOM_1", "Dom_2", "_1", "_0", "_12", "NEXT", "Next", "Day", "DAY", "NextDay", "NEXT_DAY",
        "SECOND", "SecondDay", "Second", "-PRIME", "-prime", " - Prime", "PRIME", "Standard", "FreeEconomy",
        "SameDay", "Same", "Scheduled", "UNKNOWN", "-", "_", "ß", "ﬁ", "\u00a0", "\t", "\x00", "\u202e",
    ]
)  # fmt: skip
SEPARATORS = st.sampled_from(["", " ", "  ", "\t", "-", "_", " - "])


@st.composite
def term_like(draw: st.DrawFn) -> str:
    tokens = draw(st.lists(TOKENS, min_size=1, max_size=7))
    text = tokens[0]
    for token in tokens[1:]:
        text += draw(SEPARATORS) + token
    return draw(SEPARATORS) + text + draw(SEPARATORS)


ANY_TEXT = st.one_of(term_like(), st.text(max_size=MAX_TERM_LENGTH + 20))
MAYBE_TEXT = st.one_of(st.none(), ANY_TEXT)
# Both spellings of every category Amazon documents (v0 CamelCase, 2026-01-01 upper snake case).
KNOWN_CATEGORIES = [
    "Standard",
    "STANDARD",
    "FreeEconomy",
    "FREE_ECONOMY",
    "Expedited",
    "EXPEDITED",
    "Priority",
    "PRIORITY",
    "NextDay",
    "NEXT_DAY",
    "SecondDay",
    "SECOND_DAY",
    "SameDay",
    "SAME_DAY",
    "Scheduled",
    "SCHEDULED",
]
CATEGORIES = st.one_of(st.none(), st.sampled_from(KNOWN_CATEGORIES), st.text(max_size=30))
SHIP_TO = st.one_of(st.none(), st.sampled_from(["GB", "gb", "FR", "DE", "US", "", "UK"]), st.text(max_size=3))


@st.composite
def derived_terms(draw: st.DrawFn) -> ShippingTerm:
    return derive_term(
        draw(st.sampled_from(CODES)),
        ship_service_level=draw(MAYBE_TEXT),
        service_level_category=draw(CATEGORIES),
        is_prime=draw(st.booleans()),
        ship_to_country=draw(SHIP_TO),
    )


def accepted(text: str) -> str | None:
    """The canonical mapping term, or None when it is refused (always as `invalid_shipping_term`)."""
    try:
        return canonical_mapping_term(text)
    except InvalidInput as error:
        if error.code != "invalid_shipping_term":
            raise
        return None


# --- Canonicalisation -------------------------------------------------------------------------------


@given(ANY_TEXT)
def test_canonical_text_is_idempotent(text: str) -> None:
    once = canonical_text(text)

    assert canonical_text(once) == once


@given(ANY_TEXT)
def test_canonical_mapping_term_is_idempotent_whenever_it_accepts_the_input(text: str) -> None:
    once = accepted(text)
    assume(once is not None)
    assert once is not None

    assert canonical_mapping_term(once) == once
    assert 0 < len(once) <= MAX_TERM_LENGTH
    assert not once.endswith(PRIME_SUFFIX + PRIME_SUFFIX)


@given(ANY_TEXT)
def test_a_parsed_term_carries_prime_exactly_when_its_text_ends_in_the_suffix(text: str) -> None:
    assume(accepted(text) is not None)
    term = parse_term(text)

    assert term.is_prime is term.text.endswith(PRIME_SUFFIX)


@given(st.sampled_from(CODES), ANY_TEXT, st.booleans())
def test_level_canonicalisation_is_idempotent(marketplace: str, ship_service_level: str, is_prime: bool) -> None:
    once = derive_term(marketplace, ship_service_level=ship_service_level, is_prime=is_prime)
    twice = derive_term(marketplace, ship_service_level=once.text, is_prime=is_prime)

    assert twice.text == once.text
    assert twice.recognized == once.recognized


@given(derived_terms())
def test_derived_terms_always_re_canonicalise_to_themselves(term: ShippingTerm) -> None:
    reparsed = parse_term(term.text)

    assert canonical_mapping_term(term.text) == term.text
    assert reparsed.text == term.text
    assert reparsed.recognized == term.recognized
    assert reparsed.is_prime == term.is_prime
    assert reparsed.zone == term.zone


@given(derived_terms())
def test_a_derived_term_is_prime_exactly_when_it_ends_in_one_prime_suffix(term: ShippingTerm) -> None:
    assert term.is_prime is term.text.endswith(PRIME_SUFFIX)
    assert not term.text.endswith(PRIME_SUFFIX + PRIME_SUFFIX)


@given(st.sampled_from(CODES), MAYBE_TEXT, CATEGORIES, SHIP_TO)
def test_a_prime_order_always_gets_a_prime_term(
    marketplace: str, ship_service_level: str | None, category: str | None, ship_to: str | None
) -> None:
    term = derive_term(
        marketplace,
        ship_service_level=ship_service_level,
        service_level_category=category,
        is_prime=True,
        ship_to_country=ship_to,
    )

    assert term.is_prime
    assert term.text.endswith(PRIME_SUFFIX)


@given(derived_terms())
def test_a_zoneless_form_is_the_same_term_without_the_zone(term: ShippingTerm) -> None:
    zoneless = without_zone(term.text)

    if term.zone is None:
        assert zoneless is None
    else:
        assert zoneless is not None
        assert parse_term(zoneless).zone is None
        assert parse_term(zoneless).is_prime == term.is_prime


# --- Resolution -----------------------------------------------------------------------------------

ACCOUNTS = st.sampled_from([None, "acc-1", "acc-2"])
MAPPED_TERMS = st.sampled_from(
    [
        "STD UK DOM", "STD UK DOM_1", "STD UK DOM_2", "EXP UK INT", "UK NEXT", "UK SECOND", "UK UNKNOWN",
        "UK SAME_DAY", "STD US D2D DOM", "ROYAL MAIL 24",
    ]
)  # fmt: skip


@st.composite
def mappings(draw: st.DrawFn) -> list[CourierMapping]:
    rows = draw(st.lists(st.tuples(MAPPED_TERMS, st.booleans(), ACCOUNTS), max_size=12))
    return [
        CourierMapping(f"m{index}", term + (PRIME_SUFFIX if prime else ""), f"courier-{index}", account)
        for index, (term, prime, account) in enumerate(rows)
    ]


@st.composite
def resolvable_terms(draw: st.DrawFn) -> ShippingTerm:
    if draw(st.booleans()):
        return draw(derived_terms())
    return derive_term("UK", ship_service_level=draw(MAPPED_TERMS), is_prime=draw(st.booleans()))


@given(resolvable_terms(), mappings(), ACCOUNTS, st.one_of(st.none(), st.just("default-courier")))
def test_resolution_never_crosses_prime(
    term: ShippingTerm, rows: list[CourierMapping], account_id: str | None, default: str | None
) -> None:
    resolution = resolve(term, rows, account_id=account_id, default_courier_service=default)

    if resolution.matched_mapping is not None:
        matched = next(m for m in rows if m.mapping_id == resolution.matched_mapping)
        assert matched.amazon_term.endswith(PRIME_SUFFIX) is term.is_prime
    if term.is_prime:
        assert resolution.source != "account_default"
        assert resolution.status == "unmapped" or resolution.matched_mapping is not None


@given(resolvable_terms(), mappings(), ACCOUNTS, st.one_of(st.none(), st.just("default-courier")))
def test_resolution_follows_the_documented_order(
    term: ShippingTerm, rows: list[CourierMapping], account_id: str | None, default: str | None
) -> None:
    resolution = resolve(term, rows, account_id=account_id, default_courier_service=default)
    visible = [m for m in rows if m.account_id is None or m.account_id == account_id]
    exact = [m for m in visible if m.amazon_term == term.text]
    zoneless = without_zone(term.text)
    by_zoneless = [m for m in visible if zoneless is not None and m.amazon_term == zoneless]

    assert resolution.term == term.text
    if resolution.matched_mapping is not None:
        matched = next(m for m in rows if m.mapping_id == resolution.matched_mapping)
        assert matched in visible
        assert matched.courier_service == resolution.courier_service
        zone_mappings = [m for m in visible if without_zone(m.amazon_term) == term.text]
        candidates = {"exact": exact, "zoneless": by_zoneless, "zone_consensus": zone_mappings}[resolution.source]
        assert matched in candidates
        if matched.account_id is None and account_id is not None:
            assert all(m.account_id is None for m in candidates)
        if resolution.source == "zoneless":
            assert exact == []
        if resolution.source == "zone_consensus":
            assert exact == by_zoneless == [] and term.zone is None
            assert {m.courier_service for m in zone_mappings if m.account_id == matched.account_id} == {
                matched.courier_service
            }
    elif resolution.status == "mapped":
        assert (resolution.source, resolution.courier_service) == ("account_default", default)
        assert exact == by_zoneless == []
        assert term.speed == "STD" and not term.is_prime and not term.is_premium
    else:
        assert exact == by_zoneless == []
        assert term.is_prime or default is None or term.speed != "STD" or resolution.zone_unknown


@given(resolvable_terms(), st.data())
def test_resolution_does_not_depend_on_the_order_of_the_mappings(term: ShippingTerm, data: st.DataObject) -> None:
    rows = data.draw(mappings())
    shuffled = data.draw(st.permutations(rows))

    assume(rows)
    assert resolve(term, rows, account_id="acc-1", default_courier_service=None) == resolve(
        term, shuffled, account_id="acc-1", default_courier_service=None
    )
