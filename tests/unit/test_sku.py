"""SKU validation, case-sensitive matching, order-line holds and the SKU report (SPEC §6.5, §7)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st
from oms_amazon.domain.errors import InvalidInput
from oms_amazon.sku import (
    AMAZON_MAX_SKU_LENGTH,
    MAX_SKU_LENGTH,
    AmbiguousSku,
    CaseMismatch,
    SkuIndex,
    SkuMatch,
    caseless_key,
    compare_sku_sets,
    is_too_long_for_amazon,
    line_check,
    line_sku,
    listing_skip_reason,
    quote_sku,
    validate_sku,
)

pytestmark = pytest.mark.unit


# --- validate_sku ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "sku",
    [
        "A",
        "ABC-1",
        "abc-1",
        "SKU with inner spaces",
        "straße/Größe_42",
        "日本語-SKU",
        "x" * MAX_SKU_LENGTH,
        "emoji-📦",
    ],
)
def test_a_valid_sku_is_returned_exactly_as_given(sku: str) -> None:
    assert validate_sku(sku) is sku


@pytest.mark.parametrize(
    ("value", "reason_fragment"),
    [
        (None, "must be a string"),
        (42, "must be a string"),
        (b"ABC", "must be a string"),
        (["ABC"], "must be a string"),
        ("", "must not be empty"),
        ("x" * (MAX_SKU_LENGTH + 1), "at most 200 characters"),
        (" ABC", "whitespace"),
        ("ABC ", "whitespace"),
        ("ABC\n", "whitespace"),
        ("\tABC", "whitespace"),
        ("ABC\u00a0", "whitespace"),
        ("ABC\u3000", "whitespace"),
        ("AB\x00C", "U+0000"),
        ("AB\tC", "U+0009"),
        ("AB\nC", "U+000A"),
        ("AB\x7fC", "U+007F"),
        ("AB\x9bC", "U+009B"),
        ("AB\u202eC", "U+202E RIGHT-TO-LEFT OVERRIDE"),
        ("AB\u200bC", "U+200B ZERO WIDTH SPACE"),
        ("AB\u200dC", "U+200D ZERO WIDTH JOINER"),
        ("AB\ufeffC", "U+FEFF"),
        ("AB\u00adC", "U+00AD SOFT HYPHEN"),
        ("AB\u2028C", "U+2028 LINE SEPARATOR"),
        ("AB\ud800C", "U+D800"),
    ],
)
def test_an_invalid_sku_is_rejected_with_a_reason(value: object, reason_fragment: str) -> None:
    with pytest.raises(InvalidInput) as raised:
        validate_sku(value)

    assert raised.value.code == "invalid_sku"
    assert len(raised.value.details) == 1
    detail = raised.value.details[0]
    assert detail["field"] == "sku"
    assert reason_fragment in detail["reason"]
    assert reason_fragment in raised.value.message


def test_the_position_of_a_forbidden_character_is_reported() -> None:
    with pytest.raises(InvalidInput) as raised:
        validate_sku("ABC\u202e1-CBA")

    assert "at 3" in raised.value.details[0]["reason"]


def test_a_field_name_can_be_given_for_nested_skus() -> None:
    with pytest.raises(InvalidInput) as raised:
        validate_sku("", field="components[2].sku")

    assert raised.value.details == [{"field": "components[2].sku", "reason": "must not be empty"}]


def test_a_huge_sku_is_never_echoed_in_full() -> None:
    huge = "Z" * 1_000_000

    with pytest.raises(InvalidInput) as raised:
        validate_sku(huge)

    assert len(raised.value.message) < 200
    assert "1000000 characters" in raised.value.message
    assert all(len(str(v)) < 200 for v in raised.value.details[0].values())


def test_invisible_characters_are_escaped_in_the_message() -> None:
    with pytest.raises(InvalidInput) as raised:
        validate_sku("ABC\u202e-1")

    assert "\u202e" not in raised.value.message
    assert "\\u202e" in raised.value.message


def test_a_non_string_value_is_not_echoed() -> None:
    with pytest.raises(InvalidInput) as raised:
        validate_sku({"secret": "x" * 500})

    assert "xxx" not in raised.value.message
    assert "dict" in raised.value.message


@pytest.mark.parametrize(
    ("sku", "expected"),
    [
        ("short", "'short'"),
        ("x" * 60, repr("x" * 60)),
        ("x" * 61, repr("x" * 60) + "… (61 characters)"),
        ("a\x00b", "'a\\x00b'"),
    ],
)
def test_a_quoted_sku_is_bounded_and_escaped(sku: str, expected: str) -> None:
    assert quote_sku(sku) == expected


@pytest.mark.parametrize(
    ("sku", "too_long"),
    [("x" * AMAZON_MAX_SKU_LENGTH, False), ("x" * (AMAZON_MAX_SKU_LENGTH + 1), True), ("A", False)],
)
def test_amazon_accepts_skus_of_at_most_40_characters(sku: str, too_long: bool) -> None:
    assert is_too_long_for_amazon(sku) is too_long


# --- caseless key ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("left", "right"),
    [
        ("ABC-1", "abc-1"),
        ("STRASSE", "straße"),  # lower() keeps these apart
        ("ΣΑΣ", "σας"),  # final sigma: lower() keeps these apart
        ("Ǆ-1", "ǆ-1"),
    ],
)
def test_skus_differing_only_by_letter_case_share_a_caseless_key(left: str, right: str) -> None:
    assert caseless_key(left) == caseless_key(right)


def test_the_caseless_key_does_not_merge_different_skus() -> None:
    assert caseless_key("ABC-1") != caseless_key("ABC_1")


# --- SkuIndex --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("oms_skus", "lookup", "expected"),
    [
        (["ABC-1"], "ABC-1", SkuMatch("exact", "ABC-1")),
        (["ABC-1"], "abc-1", SkuMatch("case_mismatch", "ABC-1", ("ABC-1",))),
        (["abc-1"], "ABC-1", SkuMatch("case_mismatch", "abc-1", ("abc-1",))),
        (["ABC-1", "Abc-1"], "abc-1", SkuMatch("ambiguous", None, ("ABC-1", "Abc-1"))),
        (["ABC-1", "abc-1", "Abc-1"], "abc-1", SkuMatch("exact", "abc-1")),
        (["ABC-1"], "ABC-2", SkuMatch("unknown")),
        ([], "ABC-1", SkuMatch("unknown")),
        (["STRASSE"], "straße", SkuMatch("case_mismatch", "STRASSE", ("STRASSE",))),
        (["ABC-1"], "ABC-1 ", SkuMatch("unknown")),
    ],
)
def test_a_sku_is_matched_exactly_first_then_explained_ignoring_case(
    oms_skus: list[str], lookup: str, expected: SkuMatch
) -> None:
    assert SkuIndex(oms_skus).match(lookup) == expected


def test_an_index_ignores_duplicate_skus() -> None:
    index = SkuIndex(["ABC-1", "ABC-1", "abc-1"])

    assert len(index) == 2
    assert "ABC-1" in index
    assert "Abc-1" not in index
    assert sorted(index) == ["ABC-1", "abc-1"]


def test_an_index_can_be_built_from_a_one_shot_iterator() -> None:
    index = SkuIndex(sku for sku in ["A", "b"])

    assert index.match("a").kind == "case_mismatch"
    assert index.match("b").kind == "exact"


def test_an_index_of_100k_skus_finds_every_case_variant() -> None:
    skus = [f"SKU-{n:06d}-x" for n in range(100_000)]

    index = SkuIndex(skus)
    kinds = [index.match(sku.upper()).kind for sku in skus]

    assert set(kinds) == {"case_mismatch"}


_SKU_ALPHABET = "aAbBsS\u00df-1\u03c3\u03c2\u03a3"  # ß and the three sigmas fold in surprising ways
_skus = st.text(alphabet=_SKU_ALPHABET, min_size=1, max_size=4)


def _brute_force_match(oms_skus: list[str], sku: str) -> SkuMatch:
    if sku in oms_skus:
        return SkuMatch("exact", sku)
    candidates = tuple(sorted({o for o in oms_skus if o.casefold() == sku.casefold()}))
    if not candidates:
        return SkuMatch("unknown")
    if len(candidates) == 1:
        return SkuMatch("case_mismatch", candidates[0], candidates)
    return SkuMatch("ambiguous", None, candidates)


@given(oms_skus=st.lists(_skus, max_size=30), lookups=st.lists(_skus, min_size=1, max_size=20))
def test_index_matching_agrees_with_a_brute_force_search(oms_skus: list[str], lookups: list[str]) -> None:
    index = SkuIndex(oms_skus)

    for sku in lookups:
        assert index.match(sku) == _brute_force_match(oms_skus, sku)


# --- order-line holds ------------------------------------------------------------------------------


def test_an_exactly_matching_order_line_is_not_held() -> None:
    assert line_check("ABC-1", SkuIndex(["ABC-1", "abc-1"])) is None


def test_a_case_only_mismatch_holds_the_line_naming_both_skus() -> None:
    hold = line_check("abc-1", SkuIndex(["ABC-1", "XYZ"]))

    assert hold is not None
    assert hold.code == "sku_case_mismatch"
    assert "'abc-1'" in hold.message
    assert "'ABC-1'" in hold.message
    assert hold.to_dict() == {
        "code": "sku_case_mismatch",
        "message": hold.message,
        "amazon_sku": "abc-1",
        "oms_sku": "ABC-1",
    }


def test_several_case_insensitive_matches_hold_the_line_as_ambiguous() -> None:
    hold = line_check("abc-1", SkuIndex(["Abc-1", "ABC-1", "XYZ"]))

    assert hold is not None
    assert hold.code == "sku_ambiguous"
    assert "'ABC-1'" in hold.message
    assert "'Abc-1'" in hold.message
    assert hold.to_dict() == {
        "code": "sku_ambiguous",
        "message": hold.message,
        "amazon_sku": "abc-1",
        "oms_skus": ["ABC-1", "Abc-1"],
    }


def test_an_ambiguous_message_names_a_bounded_number_of_candidates() -> None:
    variants = ["abcd", "Abcd", "aBcd", "abCd", "abcD", "ABcd", "ABCd", "ABCD"]
    hold = line_check("aBCD", SkuIndex(variants))

    assert hold is not None
    assert hold.code == "sku_ambiguous"
    assert len(hold.oms_skus) == len(variants)
    assert "and 3 more" in hold.message


def test_an_unknown_sku_holds_the_line() -> None:
    hold = line_check("NOPE", SkuIndex(["ABC-1"]))

    assert hold is not None
    assert hold.code == "unknown_sku"
    assert "'NOPE'" in hold.message
    assert hold.to_dict() == {"code": "unknown_sku", "message": hold.message, "amazon_sku": "NOPE"}


def test_a_hold_message_never_echoes_a_huge_amazon_sku() -> None:
    hold = line_check("Q" * 10_000, SkuIndex(["ABC-1"]))

    assert hold is not None
    assert len(hold.message) < 300


# --- stock sync: OMS SKU against the Amazon listing snapshot ---------------------------------------


@pytest.mark.parametrize(
    ("oms_sku", "amazon_skus", "expected"),
    [
        ("ABC-1", ["ABC-1"], None),
        ("ABC-1", ["ABC-1", "abc-1"], None),
        ("ABC-1", ["abc-1"], "sku_case_mismatch"),
        ("ABC-1", ["abc-1", "Abc-1"], "sku_case_mismatch"),
        ("ABC-1", ["XYZ"], "not_on_amazon"),
        ("ABC-1", [], "not_on_amazon"),
    ],
)
def test_only_skus_on_amazon_with_exactly_the_same_case_are_sent(
    oms_sku: str, amazon_skus: list[str], expected: str | None
) -> None:
    assert listing_skip_reason(oms_sku, SkuIndex(amazon_skus)) == expected


# --- SKU report ------------------------------------------------------------------------------------


def test_the_sku_report_sorts_every_amazon_and_oms_sku_into_its_finding() -> None:
    long_sku = "L" * (AMAZON_MAX_SKU_LENGTH + 1)
    amazon = ["ABC-1", "abc-2", "dup", "only-on-amazon", "B-9"]
    oms = ["ABC-1", "ABC-2", "DUP", "Dup", "only-in-oms", long_sku, "B-9"]

    report = compare_sku_sets(amazon, oms)

    assert report.matched == ("ABC-1", "B-9")
    assert report.case_mismatches == (CaseMismatch("abc-2", "ABC-2"),)
    assert report.ambiguous == (AmbiguousSku("dup", ("DUP", "Dup")),)
    assert report.missing_in_oms == ("only-on-amazon",)
    assert report.missing_on_amazon == (long_sku, "only-in-oms")
    assert report.too_long_for_amazon == (long_sku,)


def test_the_sku_report_has_the_api_shape_and_counts() -> None:
    report = compare_sku_sets(["abc", "dup", "ok", "gone"], ["ABC", "DUP", "Dup", "ok", "new"])

    assert report.to_dict() == {
        "matched": ["ok"],
        "aliased": [],
        "case_mismatches": [
            {"amazon_sku": "abc", "oms_sku": "ABC", "proposed_alias": {"amazon_sku": "abc", "oms_sku": "ABC"}}
        ],
        "ambiguous": [{"amazon_sku": "dup", "oms_skus": ["DUP", "Dup"]}],
        "missing_in_oms": ["gone"],
        "missing_on_amazon": ["new"],
        "too_long_for_amazon": [],
    }
    assert report.summary() == {
        "matched": 1,
        "aliased": 0,
        "case_mismatches": 1,
        "ambiguous": 1,
        "missing_in_oms": 1,
        "missing_on_amazon": 1,
        "too_long_for_amazon": 0,
    }


def test_an_oms_sku_whose_amazon_twin_is_matched_exactly_is_not_missing_on_amazon() -> None:
    report = compare_sku_sets(["abc"], ["abc", "ABC"])

    assert report.matched == ("abc",)
    assert report.missing_on_amazon == ()


def test_the_sku_report_is_the_same_whatever_the_input_order() -> None:
    amazon = ["b", "A", "c", "dd", "Dd"]
    oms = ["a", "B", "DD", "e"]

    assert compare_sku_sets(amazon, oms) == compare_sku_sets(reversed(amazon), reversed(oms))


def test_the_sku_report_of_two_empty_catalogues_is_empty() -> None:
    assert all(count == 0 for count in compare_sku_sets([], []).summary().values())


def test_the_sku_report_handles_100k_skus_each_side() -> None:
    oms = [f"SKU-{n:06d}" for n in range(100_000)]
    amazon = [f"sku-{n:06d}" if n % 10 == 0 else f"SKU-{n:06d}" for n in range(50_000, 150_000)]

    report = compare_sku_sets(amazon, oms)

    assert report.summary() == {
        "matched": 45_000,
        "aliased": 0,
        "case_mismatches": 5_000,
        "ambiguous": 0,
        "missing_in_oms": 50_000,
        "missing_on_amazon": 50_000,
        "too_long_for_amazon": 0,
    }


@given(amazon=st.lists(_skus, max_size=30), oms=st.lists(_skus, max_size=30))
def test_the_sku_report_puts_every_amazon_sku_in_exactly_one_finding(amazon: list[str], oms: list[str]) -> None:
    report = compare_sku_sets(amazon, oms)

    placed = [
        *report.matched,
        *(m.amazon_sku for m in report.case_mismatches),
        *(a.amazon_sku for a in report.ambiguous),
        *report.missing_in_oms,
    ]
    assert sorted(placed) == sorted(set(amazon))
    assert set(report.matched) == set(amazon) & set(oms)
    amazon_keys = {sku.casefold() for sku in amazon}
    assert set(report.missing_on_amazon) == {sku for sku in oms if sku.casefold() not in amazon_keys}
    assert all(m.amazon_sku.casefold() == m.oms_sku.casefold() for m in report.case_mismatches)
    assert all(m.amazon_sku != m.oms_sku for m in report.case_mismatches)
    assert all(len(a.oms_skus) > 1 for a in report.ambiguous)


def test_an_alias_settles_a_case_mismatch_in_the_sku_report_and_its_oms_sku_is_no_longer_missing() -> None:
    report = compare_sku_sets(
        ["abc-2", "OLD-CODE", "ok"], ["ABC-2", "NEW-CODE", "ok"], {"abc-2": "ABC-2", "OLD-CODE": "NEW-CODE"}
    )

    assert report.aliased == (CaseMismatch("OLD-CODE", "NEW-CODE"), CaseMismatch("abc-2", "ABC-2"))
    assert report.case_mismatches == ()
    assert report.missing_in_oms == ()
    assert report.missing_on_amazon == ()


def test_an_alias_to_an_oms_sku_that_no_longer_exists_settles_nothing() -> None:
    report = compare_sku_sets(["abc-2"], ["ABC-2"], {"abc-2": "deleted"})

    assert report.aliased == ()
    assert report.case_mismatches == (CaseMismatch("abc-2", "ABC-2"),)


def test_an_order_line_ships_the_oms_sku_its_alias_names_and_an_exact_sku_wins_over_an_alias() -> None:
    index = SkuIndex(["ABC-2", "abc-3", "NEW"])
    aliases = {"abc-2": "ABC-2", "abc-3": "NEW", "gone": "MISSING"}

    assert line_sku("abc-2", index, aliases) == ("ABC-2", None)
    assert line_sku("abc-3", index, aliases) == ("abc-3", None)
    sku, problem = line_sku("gone", index, aliases)
    assert sku is None and problem is not None and problem.code == "unknown_sku"


def test_a_case_mismatch_hold_proposes_the_alias_that_settles_it() -> None:
    problem = line_check("abc-2", SkuIndex(["ABC-2"]))

    assert problem is not None and problem.code == "sku_case_mismatch"
    assert "PUT /sku-aliases/" in problem.message and "'ABC-2'" in problem.message
