"""Shipping terms (SPEC §6.3) and courier-mapping resolution (§6.4): examples from the seed help page
and from what Amazon's two Orders APIs really send."""

from __future__ import annotations

import dataclasses

import pytest
from oms_amazon.domain.errors import InvalidInput
from oms_amazon.shipping import CourierMapping, Resolution, resolve, without_zone
from oms_amazon.shipping_catalogue import standard_terms
from oms_amazon.shipping_terms import ShippingTerm, canonical_mapping_term, derive_term, parse_term
from oms_amazon.shipping_text import MAX_TERM_LENGTH, canonical_text

pytestmark = pytest.mark.unit

SEED_MARKETPLACES = ("UK", "DE", "FR", "IT", "ES")


def seed_terms(cc: str) -> list[str]:
    """Every form of term the help page shows, for one marketplace."""
    return [
        f"STD {cc} DOM",
        f"STD {cc} INT",
        f"EXP {cc} INT",
        f"EXP {cc} DOM_1",
        f"EXP {cc} DOM_2",
        f"STD {cc} DOM_1-PRIME",
        f"STD {cc} DOM_2-PRIME",
        f"STD {cc} DOM-PRIME",
        f"{cc} NEXT",
        f"{cc} SECOND",
        f"{cc} NEXT-PRIME",
        f"{cc} SECOND-PRIME",
    ]


SEED_CASES = [(cc, term) for cc in SEED_MARKETPLACES for term in seed_terms(cc)]


def level(marketplace: str, ship_service_level: str, **kwargs: object) -> ShippingTerm:
    return derive_term(marketplace, ship_service_level=ship_service_level, **kwargs)  # type: ignore[arg-type]


# --- The help page's terms ----------------------------------------------------------------------


@pytest.mark.parametrize(("marketplace", "term"), SEED_CASES)
def test_every_help_page_term_sent_as_a_level_is_recognized_and_kept_verbatim(marketplace: str, term: str) -> None:
    derived = level(marketplace, term)

    assert derived.text == term
    assert derived.recognized is True
    assert derived.is_prime is term.endswith("-PRIME")
    assert derived.is_premium is (" NEXT" in term or " SECOND" in term)
    assert derived.country == marketplace


@pytest.mark.parametrize(("marketplace", "term"), SEED_CASES)
def test_every_help_page_term_typed_in_any_case_is_stored_as_the_term_derive_produces(
    marketplace: str, term: str
) -> None:
    typed = "  " + term.lower().replace(" ", "  ").replace("-prime", " - Prime") + " "

    assert canonical_mapping_term(typed) == term
    assert canonical_mapping_term(typed) == level(marketplace, typed).text


@pytest.mark.parametrize(("marketplace", "term"), SEED_CASES)
def test_a_help_page_term_already_carrying_prime_is_not_suffixed_twice(marketplace: str, term: str) -> None:
    derived = level(marketplace, term, is_prime=True)

    assert derived.text.count("-PRIME") == 1
    assert derived.is_prime is True


def test_a_zoned_term_exposes_its_parts() -> None:
    derived = level("UK", "Std UK Dom_2")

    assert (derived.speed, derived.country, derived.scope, derived.zone) == ("STD", "UK", "DOM", 2)
    assert derived.premium is None
    assert derived.d2d is False
    assert derived.derived_from == "ship_service_level"


def test_a_premium_term_exposes_its_parts() -> None:
    derived = level("DE", "DE Second Day")

    assert derived.text == "DE SECOND"
    assert (derived.premium, derived.country, derived.speed, derived.scope) == ("SECOND", "DE", None, None)
    assert derived.is_premium is True


# --- What Amazon's v0 ShipServiceLevel really looks like ----------------------------------------


@pytest.mark.parametrize(
    ("marketplace", "ship_service_level", "expected"),
    [
        ("UK", "Std UK Dom_1", "STD UK DOM_1"),
        ("UK", "std uk dom_1", "STD UK DOM_1"),
        ("UK", "  Std   UK\tDom_1  ", "STD UK DOM_1"),
        ("UK", "Exp UK Int", "EXP UK INT"),
        ("DE", "Std DE Dom_3", "STD DE DOM_3"),
        ("UK", "NextDay", "UK NEXT"),
        ("UK", "nextday", "UK NEXT"),
        ("UK", "Next Day", "UK NEXT"),
        ("UK", "NEXT_DAY", "UK NEXT"),
        ("FR", "SecondDay", "FR SECOND"),
        ("FR", "Second Day", "FR SECOND"),
        ("UK", "UK NextDay", "UK NEXT"),
        ("UK", "uk  next day", "UK NEXT"),
        ("IT", "IT SecondDay", "IT SECOND"),
        ("UK", "UK NEXT", "UK NEXT"),
        ("US", "Std US D2D Dom", "STD US D2D DOM"),
        ("US", "Exp US D2D Dom", "EXP US D2D DOM"),
        ("US", "Next US D2D Dom", "US NEXT"),
        ("US", "Second US D2D Dom", "US SECOND"),
        ("UK", "Std UK Dom_1-PRIME", "STD UK DOM_1-PRIME"),
        ("UK", "Std UK Dom_1 - Prime", "STD UK DOM_1-PRIME"),
        ("UK", "Std UK Dom_1-prime", "STD UK DOM_1-PRIME"),
        ("UK", "Std UK Dom_1 Prime", "STD UK DOM_1-PRIME"),
        ("UK", "NextDay-Prime", "UK NEXT-PRIME"),
    ],
)
def test_a_recognisable_level_becomes_its_canonical_term(
    marketplace: str, ship_service_level: str, expected: str
) -> None:
    derived = level(marketplace, ship_service_level)

    assert derived.text == expected
    assert derived.recognized is True


@pytest.mark.parametrize(
    ("ship_service_level", "ship_to_country", "expected"),
    [
        ("Standard", "GB", "STD UK DOM"),
        ("Standard", "FR", "STD UK INT"),
        ("Standard", None, "STD UK DOM"),
        ("FreeEconomy", "GB", "STD UK DOM"),
        ("Free Economy", "GB", "STD UK DOM"),
        ("Expedited", "GB", "EXP UK DOM"),
        ("Expedited", "DE", "EXP UK INT"),
        ("Priority", "GB", "EXP UK DOM"),
        ("SecondDay", "FR", "UK SECOND"),
    ],
)
def test_a_level_that_is_a_bare_category_word_is_treated_as_that_category(
    ship_service_level: str, ship_to_country: str | None, expected: str
) -> None:
    derived = level("UK", ship_service_level, ship_to_country=ship_to_country)

    assert derived.text == expected
    assert derived.recognized is True


@pytest.mark.parametrize(
    ("ship_service_level", "expected"),
    [
        ("SameDay", "UK SAME_DAY"),
        ("Same Day", "UK SAME_DAY"),
        ("Scheduled", "UK SCHEDULED"),
    ],
)
def test_a_level_naming_a_category_outside_the_grammar_is_unrecognized(ship_service_level: str, expected: str) -> None:
    derived = level("UK", ship_service_level)

    assert derived.text == expected
    assert derived.recognized is False


@pytest.mark.parametrize(
    ("ship_service_level", "expected"),
    [
        ("Std Cont US Street Addr", "STD CONT US STREET ADDR"),
        ("  Royal   Mail 24 ", "ROYAL MAIL 24"),
        ("Std GB Dom", "STD GB DOM"),
        ("Std UK Dom_0", "STD UK DOM_0"),
        ("Std UK Local", "STD UK LOCAL"),
        ("XX NextDay", "XX NEXTDAY"),
    ],
)
def test_a_level_that_fits_no_rule_is_kept_canonical_and_unrecognized(ship_service_level: str, expected: str) -> None:
    derived = level("UK", ship_service_level)

    assert derived.text == expected
    assert derived.recognized is False
    assert derived.derived_from == "ship_service_level"


def test_an_unrecognized_level_can_still_be_mapped_by_exact_match() -> None:
    mapping = CourierMapping("m1", canonical_mapping_term("royal mail 24"), "RM24")

    resolution = resolve(level("UK", "Royal  Mail 24"), [mapping], account_id=None, default_courier_service=None)

    assert (resolution.status, resolution.courier_service, resolution.recognized) == ("mapped", "RM24", False)


def test_control_characters_in_amazons_level_are_blanked_instead_of_failing_the_import() -> None:
    assert level("UK", "Std\x00UK\u202eDom").text == "STD UK DOM"


def test_a_level_too_long_to_be_mapped_falls_back_to_the_category() -> None:
    derived = derive_term("UK", ship_service_level="X" * 200, service_level_category="Standard")

    assert derived.text == "STD UK DOM"


def test_a_level_too_long_to_be_mapped_and_no_category_is_an_unknown_term() -> None:
    derived = derive_term("UK", ship_service_level="X" * 200)

    assert derived.text == "UK UNKNOWN"
    assert derived.derived_from == "missing"


# --- Categories (Orders 2026-01-01 fulfillmentServiceLevel, v0 ShipmentServiceLevelCategory) ----


@pytest.mark.parametrize(
    ("category", "ship_to_country", "expected"),
    [
        ("STANDARD", "GB", "STD UK DOM"),
        ("Standard", "GB", "STD UK DOM"),
        ("STANDARD", "FR", "STD UK INT"),
        ("Standard", "FR", "STD UK INT"),
        ("STANDARD", None, "STD UK DOM"),
        ("STANDARD", "", "STD UK DOM"),
        ("STANDARD", "gb", "STD UK DOM"),
        ("STANDARD", "UK", "STD UK DOM"),
        ("FREE_ECONOMY", "GB", "STD UK DOM"),
        ("FreeEconomy", "FR", "STD UK INT"),
        ("EXPEDITED", "GB", "EXP UK DOM"),
        ("Expedited", "FR", "EXP UK INT"),
        ("PRIORITY", "GB", "EXP UK DOM"),
        ("Priority", "US", "EXP UK INT"),
        ("NEXT_DAY", "GB", "UK NEXT"),
        ("NextDay", "GB", "UK NEXT"),
        ("NEXT_DAY", "FR", "UK NEXT"),
        ("SECOND_DAY", "GB", "UK SECOND"),
        ("SecondDay", "GB", "UK SECOND"),
    ],
)
def test_a_category_in_either_api_spelling_becomes_the_term_of_the_marketplace(
    category: str, ship_to_country: str | None, expected: str
) -> None:
    derived = derive_term("UK", service_level_category=category, ship_to_country=ship_to_country)

    assert derived.text == expected
    assert derived.recognized is True
    assert derived.derived_from == "service_level_category"


@pytest.mark.parametrize(
    ("marketplace", "ship_to_country", "expected"),
    [
        ("DE", "DE", "STD DE DOM"),
        ("DE", "AT", "STD DE INT"),
        ("US", "US", "STD US DOM"),
        ("US", "CA", "STD US INT"),
        ("ES", "ES", "STD ES DOM"),
    ],
)
def test_the_scope_is_domestic_only_within_the_marketplaces_own_country(
    marketplace: str, ship_to_country: str, expected: str
) -> None:
    assert derive_term(marketplace, service_level_category="STANDARD", ship_to_country=ship_to_country).text == expected


@pytest.mark.parametrize(
    ("category", "expected"),
    [
        ("SAME_DAY", "UK SAME_DAY"),
        ("SameDay", "UK SAME_DAY"),
        ("SCHEDULED", "UK SCHEDULED"),
        ("Scheduled", "UK SCHEDULED"),
        ("HOVERCRAFT", "UK HOVERCRAFT"),
        ("SuperFast", "UK SUPER_FAST"),
    ],
)
def test_any_other_category_becomes_country_plus_category_unrecognized(category: str, expected: str) -> None:
    derived = derive_term("UK", service_level_category=category)

    assert derived.text == expected
    assert derived.recognized is False


def test_both_api_spellings_of_an_unrecognized_category_give_one_mappable_term() -> None:
    v0 = derive_term("UK", service_level_category="SameDay")
    v2026 = derive_term("UK", service_level_category="SAME_DAY")

    assert v0.text == v2026.text == canonical_mapping_term("uk sameday")


# --- Which source wins ---------------------------------------------------------------------------


def test_a_recognisable_level_wins_over_the_category() -> None:
    derived = derive_term("UK", ship_service_level="Std UK Dom_2", service_level_category="Expedited")

    assert derived.text == "STD UK DOM_2"
    assert derived.derived_from == "ship_service_level"


def test_an_unrecognisable_level_gives_way_to_a_recognized_category() -> None:
    derived = derive_term(
        "UK", ship_service_level="Std Cont UK Street Addr", service_level_category="Standard", ship_to_country="FR"
    )

    assert derived.text == "STD UK INT"
    assert derived.recognized is True
    assert derived.derived_from == "service_level_category"


def test_an_unrecognisable_level_is_kept_when_the_category_does_not_help_either() -> None:
    derived = derive_term("UK", ship_service_level="Royal Mail 24", service_level_category="SameDay")

    assert derived.text == "ROYAL MAIL 24"
    assert derived.recognized is False


@pytest.mark.parametrize("blank", [None, "", "   "])
def test_an_absent_or_blank_level_falls_back_to_the_category(blank: str | None) -> None:
    derived = derive_term("UK", ship_service_level=blank, service_level_category="NEXT_DAY")

    assert derived.text == "UK NEXT"


def test_neither_level_nor_category_gives_an_unrecognized_unknown_term_of_the_marketplace() -> None:
    derived = derive_term("DE")

    assert derived.text == "DE UNKNOWN"
    assert derived.recognized is False
    assert derived.country == "DE"
    assert derived.derived_from == "missing"


def test_an_unknown_prime_order_keeps_its_prime_marker() -> None:
    assert derive_term("UK", is_prime=True).text == "UK UNKNOWN-PRIME"


def test_a_marketplace_may_be_given_by_its_marketplace_id() -> None:
    assert derive_term("A1PA6795UKMFR9", service_level_category="NEXT_DAY").text == "DE NEXT"


@pytest.mark.parametrize("marketplace", ["XX", "GB", "", "A1F83G8C2ARO7Q"])
def test_an_unknown_marketplace_is_refused(marketplace: str) -> None:
    with pytest.raises(InvalidInput) as raised:
        derive_term(marketplace, service_level_category="STANDARD")

    assert raised.value.code == "unknown_marketplace"


# --- Prime ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kwargs", "expected"),
    [
        ({"ship_service_level": "Std UK Dom_1"}, "STD UK DOM_1-PRIME"),
        ({"ship_service_level": "Std UK Dom_1-PRIME"}, "STD UK DOM_1-PRIME"),
        ({"ship_service_level": "NextDay"}, "UK NEXT-PRIME"),
        ({"service_level_category": "NEXT_DAY"}, "UK NEXT-PRIME"),
        ({"service_level_category": "STANDARD", "ship_to_country": "GB"}, "STD UK DOM-PRIME"),
        ({"service_level_category": "SameDay"}, "UK SAME_DAY-PRIME"),
    ],
)
def test_a_prime_order_gets_exactly_one_prime_suffix(kwargs: dict[str, str], expected: str) -> None:
    derived = derive_term("UK", is_prime=True, **kwargs)

    assert derived.text == expected
    assert derived.is_prime is True


def test_a_term_already_marked_prime_is_prime_even_when_the_order_flag_says_otherwise() -> None:
    derived = derive_term("UK", ship_service_level="Std UK Dom_1-PRIME", is_prime=False)

    assert derived.is_prime is True
    assert derived.base == "STD UK DOM_1"


def test_a_prime_suffixed_level_makes_the_term_prime_even_when_the_category_wins() -> None:
    derived = derive_term("UK", ship_service_level="Mystery-PRIME", service_level_category="Standard")

    assert derived.text == "STD UK DOM-PRIME"


def test_a_non_prime_order_gets_no_suffix() -> None:
    assert derive_term("UK", ship_service_level="Std UK Dom", is_prime=False).text == "STD UK DOM"


# --- Mapping terms typed by users ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("typed", "stored"),
    [
        ("std uk dom_1 - prime", "STD UK DOM_1-PRIME"),
        ("UK NextDay-PRIME", "UK NEXT-PRIME"),
        ("uk next day", "UK NEXT"),
        ("UK Second Day - Prime", "UK SECOND-PRIME"),
        ("Std US D2D Dom", "STD US D2D DOM"),
        ("exp de int", "EXP DE INT"),
        ("STD UK DOM-PRIME-PRIME", "STD UK DOM-PRIME"),
        ("uk same day", "UK SAME_DAY"),
        ("Royal Mail 24", "ROYAL MAIL 24"),
        ("NextDay", "NEXTDAY"),
        ("\tSTD UK DOM\n", "STD UK DOM"),
        ("STD\u00a0UK DOM", "STD UK DOM"),
    ],
)
def test_a_typed_mapping_term_is_stored_canonical(typed: str, stored: str) -> None:
    assert canonical_mapping_term(typed) == stored


def test_a_bare_premium_word_has_no_country_so_parses_as_unrecognized() -> None:
    assert parse_term("NextDay").recognized is False


@pytest.mark.parametrize(
    ("marketplace", "ship_service_level"),
    [
        ("UK", "Std UK Dom_1"),
        ("UK", "UK NextDay - Prime"),
        ("US", "Std US D2D Dom"),
        ("US", "Next US D2D Dom"),
        ("UK", "Royal Mail 24"),
        ("UK", "UK Same Day"),
    ],
)
def test_a_mapping_typed_as_amazon_writes_the_level_matches_what_derive_produces(
    marketplace: str, ship_service_level: str
) -> None:
    assert canonical_mapping_term(ship_service_level) == level(marketplace, ship_service_level).text


@pytest.mark.parametrize(
    ("bad", "issue"),
    [
        ("", "required"),
        ("   \t ", "required"),
        ("S" * (MAX_TERM_LENGTH + 1), "too_long"),
        ("x" * 5_000_000, "too_long"),
        ("STD\x00UK DOM", "control_character"),
        ("STD UK\x1b[31m DOM", "control_character"),
        ("STD UK DOM\u202e", "control_character"),
        ("STD\u200bUK DOM", "control_character"),
        ("STD UK\nDOM", "control_character"),
        ("-PRIME", "prime_only"),
        (" - prime ", "prime_only"),
    ],
)
def test_an_unusable_mapping_term_is_refused_with_a_helpful_error(bad: str, issue: str) -> None:
    with pytest.raises(InvalidInput) as raised:
        canonical_mapping_term(bad)

    error = raised.value
    assert error.code == "invalid_shipping_term"
    assert error.details == [{"field": "amazon_term", "issue": issue}]
    assert len(error.message) < 200


def test_a_refused_term_is_not_echoed_back() -> None:
    with pytest.raises(InvalidInput) as raised:
        canonical_mapping_term("A" * 5_000)

    assert "AAAA" not in raised.value.message


def test_a_control_character_is_named_by_code_point_and_position() -> None:
    with pytest.raises(InvalidInput) as raised:
        canonical_mapping_term("STD\x00UK")

    assert "U+0000" in raised.value.message
    assert "position 3" in raised.value.message


def test_a_term_of_exactly_the_maximum_length_is_accepted() -> None:
    term = "X" * MAX_TERM_LENGTH

    assert canonical_mapping_term(term) == term


def test_the_error_can_name_the_field_it_came_from() -> None:
    with pytest.raises(InvalidInput) as raised:
        canonical_mapping_term("", field="term")

    assert raised.value.details == [{"field": "term", "issue": "required"}]


def test_canonical_text_trims_collapses_and_upper_cases() -> None:
    assert canonical_text("  std \t uk\n\ndom_1 ") == "STD UK DOM_1"


# --- Zones ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("term", "expected"),
    [
        ("STD UK DOM_2-PRIME", "STD UK DOM-PRIME"),
        ("EXP UK DOM_1", "EXP UK DOM"),
        ("STD DE INT_12", "STD DE INT"),
        ("STD US D2D DOM_3", "STD US D2D DOM"),
        ("std uk dom_2 - prime", "STD UK DOM-PRIME"),
        ("STD UK DOM", None),
        ("STD UK DOM-PRIME", None),
        ("UK NEXT", None),
        ("ROYAL_MAIL_2", None),
    ],
)
def test_without_zone_drops_only_a_zone(term: str, expected: str | None) -> None:
    assert without_zone(term) == expected


# --- The standard catalogue -----------------------------------------------------------------------


def test_the_uk_catalogue_lists_every_standard_term_with_and_without_prime() -> None:
    assert standard_terms("UK") == [
        "STD UK DOM",
        "STD UK DOM-PRIME",
        "STD UK INT",
        "STD UK INT-PRIME",
        "EXP UK DOM",
        "EXP UK DOM-PRIME",
        "EXP UK INT",
        "EXP UK INT-PRIME",
        "UK NEXT",
        "UK NEXT-PRIME",
        "UK SECOND",
        "UK SECOND-PRIME",
    ]


@pytest.mark.parametrize("marketplace", SEED_MARKETPLACES)
def test_the_catalogue_contains_the_help_pages_unzoned_terms(marketplace: str) -> None:
    catalogue = standard_terms(marketplace)

    unzoned = [term for term in seed_terms(marketplace) if "_" not in term]
    assert set(unzoned) <= set(catalogue)


@pytest.mark.parametrize("marketplace", ["US", "CA", "MX", "BR"])
def test_a_north_american_catalogue_adds_the_d2d_domestic_forms(marketplace: str) -> None:
    catalogue = standard_terms(marketplace)

    assert f"STD {marketplace} D2D DOM" in catalogue
    assert f"EXP {marketplace} D2D DOM-PRIME" in catalogue
    assert len(catalogue) == 16


def test_a_catalogue_term_is_already_canonical_and_recognized() -> None:
    for marketplace in ("UK", "US", "JP"):
        for term in standard_terms(marketplace):
            parsed = parse_term(term)
            assert (parsed.text, parsed.recognized) == (term, True)


def test_the_catalogue_accepts_a_lower_case_code() -> None:
    assert standard_terms("de")[0] == "STD DE DOM"


def test_the_catalogue_of_an_unknown_marketplace_is_refused() -> None:
    with pytest.raises(InvalidInput) as raised:
        standard_terms("ZZ")

    assert raised.value.code == "unknown_marketplace"


# --- Resolution (§6.4) ----------------------------------------------------------------------------

ACCOUNT = "acc-1"
OTHER_ACCOUNT = "acc-2"


def mapping(mapping_id: str, term: str, courier: str, account_id: str | None = None) -> CourierMapping:
    return CourierMapping(mapping_id, canonical_mapping_term(term), courier, account_id)


def test_an_exact_client_wide_mapping_resolves_the_term() -> None:
    resolution = resolve(
        level("UK", "Std UK Dom_1"),
        [mapping("m1", "STD UK DOM_1", "DPD")],
        account_id=ACCOUNT,
        default_courier_service=None,
    )

    assert resolution == Resolution("STD UK DOM_1", True, "DPD", "m1", "exact", "mapped")


def test_an_account_scoped_mapping_beats_a_client_wide_one() -> None:
    mappings = [mapping("wide", "STD UK DOM", "Royal Mail"), mapping("mine", "STD UK DOM", "DPD", ACCOUNT)]

    resolution = resolve(level("UK", "Std UK Dom"), mappings, account_id=ACCOUNT, default_courier_service=None)

    assert (resolution.matched_mapping, resolution.courier_service) == ("mine", "DPD")


def test_another_accounts_mapping_is_ignored() -> None:
    mappings = [mapping("theirs", "STD UK DOM", "DPD", OTHER_ACCOUNT)]

    resolution = resolve(level("UK", "Std UK Dom"), mappings, account_id=ACCOUNT, default_courier_service=None)

    assert resolution.status == "unmapped"


def test_without_an_account_only_client_wide_mappings_count() -> None:
    mappings = [mapping("scoped", "STD UK DOM", "DPD", ACCOUNT), mapping("wide", "STD UK DOM", "Royal Mail")]

    resolution = resolve(level("UK", "Std UK Dom"), mappings, account_id=None, default_courier_service=None)

    assert resolution.matched_mapping == "wide"


def test_another_accounts_mapping_is_ignored_even_when_a_client_wide_one_exists() -> None:
    mappings = [mapping("theirs", "STD UK DOM", "DPD", OTHER_ACCOUNT), mapping("wide", "STD UK DOM", "Royal Mail")]

    resolution = resolve(level("UK", "Std UK Dom"), mappings, account_id=ACCOUNT, default_courier_service=None)

    assert resolution.matched_mapping == "wide"


def test_a_zoned_term_falls_back_to_the_same_term_without_its_zone() -> None:
    mappings = [mapping("zoneless", "STD UK DOM-PRIME", "DPD Prime")]

    resolution = resolve(level("UK", "Std UK Dom_2-PRIME"), mappings, account_id=ACCOUNT, default_courier_service=None)

    assert resolution == Resolution("STD UK DOM_2-PRIME", True, "DPD Prime", "zoneless", "zoneless", "mapped")


def test_an_exact_client_wide_mapping_beats_an_account_scoped_zoneless_one() -> None:
    mappings = [mapping("scoped-zoneless", "STD UK DOM", "A", ACCOUNT), mapping("wide-exact", "STD UK DOM_2", "B")]

    resolution = resolve(level("UK", "Std UK Dom_2"), mappings, account_id=ACCOUNT, default_courier_service=None)

    assert (resolution.matched_mapping, resolution.source) == ("wide-exact", "exact")


def test_the_zoneless_fallback_also_prefers_the_accounts_mapping() -> None:
    mappings = [mapping("wide", "STD UK DOM", "A"), mapping("scoped", "STD UK DOM", "B", ACCOUNT)]

    resolution = resolve(level("UK", "Std UK Dom_3"), mappings, account_id=ACCOUNT, default_courier_service=None)

    assert (resolution.matched_mapping, resolution.source) == ("scoped", "zoneless")


def test_a_zoneless_term_does_not_match_a_zoned_mapping() -> None:
    mappings = [mapping("zoned", "STD UK DOM_1", "DPD")]

    resolution = resolve(level("UK", "Std UK Dom"), mappings, account_id=ACCOUNT, default_courier_service=None)

    assert resolution.status == "unmapped"


def test_an_unmapped_non_prime_term_takes_the_accounts_default() -> None:
    resolution = resolve(level("UK", "Std UK Dom_1"), [], account_id=ACCOUNT, default_courier_service="Royal Mail 48")

    assert resolution == Resolution("STD UK DOM_1", True, "Royal Mail 48", None, "account_default", "mapped")


def test_a_mapping_beats_the_accounts_default() -> None:
    mappings = [mapping("m1", "STD UK DOM", "DPD")]

    resolution = resolve(level("UK", "Std UK Dom"), mappings, account_id=ACCOUNT, default_courier_service="Fallback")

    assert resolution.courier_service == "DPD"


def test_an_unrecognized_term_never_takes_the_default_it_is_not_a_standard_term() -> None:
    resolution = resolve(derive_term("UK"), [], account_id=ACCOUNT, default_courier_service="Royal Mail 48")

    assert (resolution.term, resolution.recognized, resolution.status) == ("UK UNKNOWN", False, "unmapped")


@pytest.mark.parametrize(
    "order",
    [
        {"ship_service_level": "NextDay"},
        {"ship_service_level": "SecondDay"},
        {"ship_service_level": "Exp UK Int"},
        {"service_level_category": "Expedited"},
        {"service_level_category": "NextDay"},
    ],
    ids=["next day", "second day", "expedited level", "expedited category", "next day category"],
)
def test_a_faster_than_standard_order_never_falls_to_the_accounts_default(order: dict[str, str]) -> None:
    resolution = resolve(derive_term("UK", **order), [], account_id=ACCOUNT, default_courier_service="Royal Mail 48")

    assert (resolution.status, resolution.courier_service) == ("unmapped", None)


def test_a_standard_order_takes_the_default() -> None:
    resolution = resolve(
        derive_term("UK", service_level_category="Standard"), [], account_id=ACCOUNT, default_courier_service="RM48"
    )

    assert (resolution.status, resolution.source, resolution.courier_service) == ("mapped", "account_default", "RM48")


ZONES = [
    CourierMapping("z1", "STD UK DOM_1", "Royal Mail 48"),
    CourierMapping("z2", "STD UK DOM_2", "Royal Mail 48"),
]


def test_without_a_zone_from_amazon_the_zone_mappings_decide_when_they_agree() -> None:
    term = derive_term("UK", service_level_category="Standard")

    resolution = resolve(term, ZONES, account_id=ACCOUNT, default_courier_service=None)

    assert (resolution.status, resolution.source, resolution.courier_service) == (
        "mapped",
        "zone_consensus",
        "Royal Mail 48",
    )


def test_without_a_zone_from_amazon_disagreeing_zone_mappings_leave_it_unmapped_naming_them() -> None:
    term = derive_term("UK", service_level_category="Standard")
    rows = [*ZONES, CourierMapping("z3", "STD UK DOM_3", "DPD")]

    resolution = resolve(term, rows, account_id=ACCOUNT, default_courier_service="Royal Mail 48")

    assert resolution.status == "unmapped" and resolution.zone_unknown
    assert [m.mapping_id for m in resolution.zone_candidates] == ["z1", "z2", "z3"]


def test_a_level_without_a_zone_is_not_a_zone_unknown_it_is_the_zoneless_term() -> None:
    term = derive_term("UK", ship_service_level="Std UK Dom")

    resolution = resolve(term, ZONES, account_id=ACCOUNT, default_courier_service=None)

    assert (resolution.status, resolution.zone_unknown) == ("unmapped", False)


def test_a_prime_term_never_takes_the_accounts_default() -> None:
    resolution = resolve(level("UK", "Std UK Dom-PRIME"), [], account_id=ACCOUNT, default_courier_service="Royal Mail")

    assert resolution == Resolution("STD UK DOM-PRIME", True, None, None, None, "unmapped")


@pytest.mark.parametrize("blank_default", [None, "", "  "])
def test_no_usable_default_leaves_the_term_unmapped(blank_default: str | None) -> None:
    resolution = resolve(level("UK", "Std UK Dom"), [], account_id=ACCOUNT, default_courier_service=blank_default)

    assert resolution.status == "unmapped"


def test_a_prime_term_never_resolves_to_a_non_prime_mapping() -> None:
    mappings = [mapping("plain", "STD UK DOM_1", "DPD"), mapping("plain-zoneless", "STD UK DOM", "DPD")]

    resolution = resolve(
        level("UK", "Std UK Dom_1", is_prime=True), mappings, account_id=ACCOUNT, default_courier_service=None
    )

    assert resolution.status == "unmapped"


def test_a_non_prime_term_never_resolves_to_a_prime_mapping() -> None:
    mappings = [mapping("prime", "UK NEXT-PRIME", "DPD Prime")]

    resolution = resolve(level("UK", "NextDay"), mappings, account_id=ACCOUNT, default_courier_service=None)

    assert resolution.status == "unmapped"


def test_a_prime_term_resolves_to_its_prime_mapping() -> None:
    mappings = [mapping("plain", "UK NEXT", "DPD"), mapping("prime", "UK NEXT-PRIME", "DPD Prime")]

    resolution = resolve(
        derive_term("UK", service_level_category="NEXT_DAY", is_prime=True),
        mappings,
        account_id=ACCOUNT,
        default_courier_service="Fallback",
    )

    assert (resolution.matched_mapping, resolution.courier_service) == ("prime", "DPD Prime")


def test_a_hand_built_prime_term_without_its_suffix_still_only_meets_prime_mappings() -> None:
    term = ShippingTerm(text="STD UK DOM", recognized=True, is_prime=True, is_premium=False)
    mappings = [mapping("plain", "STD UK DOM", "DPD"), mapping("prime", "STD UK DOM-PRIME", "DPD Prime")]

    resolution = resolve(term, mappings, account_id=None, default_courier_service="Fallback")

    assert (resolution.term, resolution.matched_mapping) == ("STD UK DOM-PRIME", "prime")


def test_a_stored_mapping_term_that_is_not_canonical_still_matches() -> None:
    legacy = CourierMapping("legacy", "std uk dom - prime", "DPD Prime")

    resolution = resolve(
        level("UK", "Std UK Dom", is_prime=True), [legacy], account_id=None, default_courier_service=None
    )

    assert resolution.matched_mapping == "legacy"


def test_duplicate_mappings_in_one_scope_resolve_the_same_whatever_their_order() -> None:
    first, second = mapping("b", "STD UK DOM", "B"), mapping("a", "STD UK DOM", "A")
    term = level("UK", "Std UK Dom")

    forward = resolve(term, [first, second], account_id=None, default_courier_service=None)
    backward = resolve(term, [second, first], account_id=None, default_courier_service=None)

    assert forward == backward
    assert forward.matched_mapping == "a"


def test_resolve_accepts_any_iterable_of_mappings() -> None:
    mappings = (m for m in [mapping("m1", "UK SECOND", "DPD")])

    resolution = resolve(level("UK", "SecondDay"), mappings, account_id=None, default_courier_service=None)

    assert resolution.matched_mapping == "m1"


def test_a_resolution_has_the_api_shape() -> None:
    resolution = resolve(
        level("UK", "Std UK Dom_1"),
        [mapping("m1", "STD UK DOM", "DPD")],
        account_id=ACCOUNT,
        default_courier_service=None,
    )

    assert resolution.to_dict() == {
        "term": "STD UK DOM_1",
        "recognized": True,
        "courier_service": "DPD",
        "matched_mapping": "m1",
        "source": "zoneless",
        "status": "mapped",
    }


def test_an_unmapped_resolution_has_the_api_shape() -> None:
    resolution = resolve(
        derive_term("FR", service_level_category="SAME_DAY"), [], account_id=None, default_courier_service=None
    )

    assert resolution.to_dict() == {
        "term": "FR SAME_DAY",
        "recognized": False,
        "courier_service": None,
        "matched_mapping": None,
        "source": None,
        "status": "unmapped",
    }


# --- Value objects --------------------------------------------------------------------------------


def test_terms_mappings_and_resolutions_are_immutable() -> None:
    term = derive_term("UK")
    resolution = resolve(term, [], account_id=None, default_courier_service=None)

    with pytest.raises(dataclasses.FrozenInstanceError):
        term.text = "x"  # type: ignore[misc]
    with pytest.raises(dataclasses.FrozenInstanceError):
        CourierMapping("m", "UK NEXT", "DPD").courier_service = "x"  # type: ignore[misc]
    with pytest.raises(dataclasses.FrozenInstanceError):
        resolution.status = "mapped"  # type: ignore[misc]


def test_a_terms_zoneless_form_matches_without_zone() -> None:
    term = level("UK", "Std UK Dom_2-PRIME")

    assert term.zoneless == without_zone(term.text) == "STD UK DOM-PRIME"
