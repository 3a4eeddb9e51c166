"""Quantities, bundles, stock rules, the delta rule and the seller-region merge (SPEC §5.2 to §5.5)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from oms_amazon.domain.errors import InvalidInput
from oms_amazon.stock import (
    MAX_BUNDLE_COMPONENTS,
    MAX_COMPONENT_QUANTITY,
    MAX_RULE_VALUE,
    Component,
    LastSent,
    MergeResult,
    Product,
    QuantityConflict,
    QuantityDecision,
    StockRules,
    apply_rules,
    bundle_quantity,
    decide_quantity,
    merge_quantities,
    needs_push,
    simple_quantity,
    validate_bundle,
    validate_stock_rules,
)

pytestmark = pytest.mark.unit

NOW = datetime(2026, 5, 1, 12, 0, tzinfo=UTC)


# --- value objects ---------------------------------------------------------------------------------


def test_a_product_with_components_is_a_bundle() -> None:
    assert Product("KIT", 0, (Component("A", 1),)).is_bundle
    assert not Product("A", 5).is_bundle


@pytest.mark.parametrize("quantity", [0, -1, True])
def test_a_component_needs_a_quantity_of_at_least_one(quantity: int) -> None:
    with pytest.raises(ValueError, match="component quantity"):
        Component("A", quantity)


@pytest.mark.parametrize("rules", [{"buffer": -1}, {"max_quantity": -5}, {"zero_at_or_below": True}])
def test_stock_rules_cannot_be_built_negative_or_boolean(rules: dict[str, Any]) -> None:
    with pytest.raises(ValueError, match="stock rule"):
        StockRules(**rules)


# --- validate_stock_rules --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (None, StockRules()),
        ({}, StockRules()),
        ({"buffer": 2}, StockRules(buffer=2)),
        ({"max_quantity": 0}, StockRules(max_quantity=0)),
        ({"zero_at_or_below": 3, "buffer": None}, StockRules(zero_at_or_below=3)),
        (
            {"buffer": 1, "max_quantity": MAX_RULE_VALUE, "zero_at_or_below": 0},
            StockRules(buffer=1, max_quantity=MAX_RULE_VALUE, zero_at_or_below=0),
        ),
    ],
)
def test_valid_stock_rules_are_accepted(raw: object, expected: StockRules) -> None:
    assert validate_stock_rules(raw) == expected


@pytest.mark.parametrize(
    ("raw", "field", "reason_fragment"),
    [
        ([], "stock_rules", "must be an object"),
        ("buffer=2", "stock_rules", "must be an object"),
        (5, "stock_rules", "must be an object"),
        ({"buffer": -1}, "stock_rules.buffer", "at least 0"),
        ({"buffer": True}, "stock_rules.buffer", "not bool"),
        ({"buffer": False}, "stock_rules.buffer", "not bool"),
        ({"buffer": 2.0}, "stock_rules.buffer", "not float"),
        ({"buffer": "2"}, "stock_rules.buffer", "not str"),
        ({"max_quantity": MAX_RULE_VALUE + 1}, "stock_rules.max_quantity", "at most"),
        ({"max_quantity": 10**40}, "stock_rules.max_quantity", "at most"),
        ({"zero_at_or_below": [1]}, "stock_rules.zero_at_or_below", "not list"),
        ({"minimum": 1}, "stock_rules.minimum", "unknown rule"),
        ({"Buffer": 1}, "stock_rules.Buffer", "unknown rule"),
    ],
)
def test_invalid_stock_rules_are_rejected_per_field(raw: object, field: str, reason_fragment: str) -> None:
    with pytest.raises(InvalidInput) as raised:
        validate_stock_rules(raw)

    assert raised.value.code == "invalid_stock_rules"
    assert len(raised.value.details) == 1
    assert raised.value.details[0]["field"] == field
    assert reason_fragment in raised.value.details[0]["reason"]


def test_every_bad_stock_rule_is_reported_at_once() -> None:
    with pytest.raises(InvalidInput) as raised:
        validate_stock_rules({"buffer": -1, "max_quantity": "x", "zero_at_or_below": 2, "extra": 0})

    assert sorted(d["field"] for d in raised.value.details) == [
        "stock_rules.buffer",
        "stock_rules.extra",
        "stock_rules.max_quantity",
    ]


def test_an_absurdly_long_unknown_rule_name_is_not_echoed() -> None:
    with pytest.raises(InvalidInput) as raised:
        validate_stock_rules({"k" * 10_000: 1})

    assert len(raised.value.details[0]["field"]) < 100
    assert len(raised.value.message) < 300


# --- validate_bundle -------------------------------------------------------------------------------

CATALOGUE = {
    "A": Product("A", 10),
    "B": Product("B", 4),
    "C": Product("C", 0),
    "KIT-2": Product("KIT-2", 0, (Component("A", 1),)),
}


def _lookup(sku: str) -> Product | None:
    return CATALOGUE.get(sku)


def test_a_valid_bundle_returns_its_components() -> None:
    components = validate_bundle("KIT", [{"sku": "A", "quantity": 2}, {"sku": "B", "quantity": 1}], _lookup)

    assert components == (Component("A", 2), Component("B", 1))


def test_components_may_be_given_as_component_objects() -> None:
    assert validate_bundle("KIT", (Component("C", 3),), _lookup) == (Component("C", 3),)


def test_a_bundle_may_have_the_maximum_number_of_components() -> None:
    catalogue = {f"P{n}": Product(f"P{n}", 1) for n in range(MAX_BUNDLE_COMPONENTS)}
    raw = [{"sku": sku, "quantity": 1} for sku in catalogue]

    assert len(validate_bundle("KIT", raw, catalogue.get)) == MAX_BUNDLE_COMPONENTS


@pytest.mark.parametrize(
    ("components", "code", "field"),
    [
        ([{"sku": "KIT", "quantity": 1}], "bundle_contains_itself", "components[0].sku"),
        ([{"sku": "NOPE", "quantity": 1}], "component_not_found", "components[0].sku"),
        ([{"sku": "a", "quantity": 1}], "component_not_found", "components[0].sku"),
        ([{"sku": "KIT-2", "quantity": 1}], "component_is_bundle", "components[0].sku"),
        ([{"sku": "A", "quantity": 0}], "invalid_component_quantity", "components[0].quantity"),
        ([{"sku": "A", "quantity": -2}], "invalid_component_quantity", "components[0].quantity"),
        ([{"sku": "A", "quantity": 1.5}], "invalid_component_quantity", "components[0].quantity"),
        ([{"sku": "A", "quantity": "2"}], "invalid_component_quantity", "components[0].quantity"),
        ([{"sku": "A", "quantity": True}], "invalid_component_quantity", "components[0].quantity"),
        ([{"sku": "A"}], "invalid_component_quantity", "components[0].quantity"),
        (
            [{"sku": "A", "quantity": MAX_COMPONENT_QUANTITY + 1}],
            "invalid_component_quantity",
            "components[0].quantity",
        ),
        (
            [{"sku": "A", "quantity": 1}, {"sku": "A", "quantity": 2}],
            "duplicate_component",
            "components[1].sku",
        ),
        ([{"sku": " A", "quantity": 1}], "invalid_sku", "components[0].sku"),
        ([{"sku": 7, "quantity": 1}], "invalid_sku", "components[0].sku"),
        ([{"quantity": 1}], "invalid_sku", "components[0].sku"),
        ([{"sku": "A", "quantity": 1, "price": 3}], "invalid_components", "components[0]"),
        (["A"], "invalid_components", "components[0]"),
        ([], "invalid_components", "components"),
        ({"sku": "A", "quantity": 1}, "invalid_components", "components"),
        ("A", "invalid_components", "components"),
        (None, "invalid_components", "components"),
        (
            [{"sku": f"P{n}", "quantity": 1} for n in range(MAX_BUNDLE_COMPONENTS + 1)],
            "invalid_components",
            "components",
        ),
    ],
)
def test_an_invalid_bundle_is_rejected_with_a_specific_code(components: object, code: str, field: str) -> None:
    with pytest.raises(InvalidInput) as raised:
        validate_bundle("KIT", components, _lookup)

    assert raised.value.code == code
    assert raised.value.details[0]["field"] == field
    assert raised.value.details[0]["code"] == code


def test_every_bad_component_is_reported_and_the_first_names_the_error() -> None:
    components = [
        {"sku": "A", "quantity": 1},
        {"sku": "NOPE", "quantity": 0},
        {"sku": "KIT", "quantity": 1},
        {"sku": "A", "quantity": 1},
    ]

    with pytest.raises(InvalidInput) as raised:
        validate_bundle("KIT", components, _lookup)

    assert raised.value.code == "invalid_component_quantity"
    assert [(d["field"], d["code"]) for d in raised.value.details] == [
        ("components[1].quantity", "invalid_component_quantity"),
        ("components[1].sku", "component_not_found"),
        ("components[2].sku", "bundle_contains_itself"),
        ("components[3].sku", "duplicate_component"),
    ]
    assert "and 3 more" in raised.value.message


def test_a_component_differing_from_the_bundle_only_by_case_is_another_product() -> None:
    catalogue = {"kit": Product("kit", 3)}

    assert validate_bundle("KIT", [{"sku": "kit", "quantity": 1}], catalogue.get) == (Component("kit", 1),)


def test_an_invalid_bundle_sku_is_rejected() -> None:
    with pytest.raises(InvalidInput) as raised:
        validate_bundle("", [{"sku": "A", "quantity": 1}], _lookup)

    assert raised.value.code == "invalid_sku"


def test_components_are_looked_up_once_each_and_not_after_a_self_reference() -> None:
    looked_up: list[str] = []

    def recording_lookup(sku: str) -> Product | None:
        looked_up.append(sku)
        return CATALOGUE.get(sku)

    with pytest.raises(InvalidInput):
        validate_bundle(
            "KIT",
            [{"sku": "A", "quantity": 1}, {"sku": "KIT", "quantity": 1}, {"sku": "A", "quantity": 1}],
            recording_lookup,
        )

    assert looked_up == ["A"]


# --- quantities (§5.2) -----------------------------------------------------------------------------


@pytest.mark.parametrize(("available", "sent"), [(5, 5), (0, 0), (-3, 0)])
def test_a_simple_product_sends_its_available_quantity_never_below_zero(available: int, sent: int) -> None:
    assert simple_quantity(Product("A", available)) == sent


@pytest.mark.parametrize(
    ("components", "available", "expected"),
    [
        ((Component("A", 1),), {"A": 7}, 7),
        ((Component("A", 2),), {"A": 7}, 3),
        ((Component("A", 2), Component("B", 3)), {"A": 10, "B": 9}, 3),
        ((Component("A", 2), Component("B", 3)), {"A": 3, "B": 9}, 1),
        ((Component("A", 2), Component("B", 3)), {"A": 10, "B": 2}, 0),
        ((Component("A", 1), Component("B", 1)), {"A": 10, "B": -4}, 0),
        ((Component("A", 1), Component("B", 1)), {"A": 10}, 0),
        ((Component("A", 5),), {"A": 4}, 0),
    ],
)
def test_a_bundle_sends_what_its_scarcest_component_makes_up(
    components: tuple[Component, ...], available: dict[str, int], expected: int
) -> None:
    assert bundle_quantity(Product("KIT", 999, components), available) == expected


def test_a_bundle_ignores_its_own_available_quantity() -> None:
    assert bundle_quantity(Product("KIT", 500, (Component("A", 1),)), {"A": 2, "KIT": 500}) == 2


def test_the_bundle_quantity_of_a_simple_product_is_a_programming_error() -> None:
    with pytest.raises(ValueError, match="not a bundle"):
        bundle_quantity(Product("A", 3), {"A": 3})


# --- stock rules (§5.3) ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("quantity", "rules", "expected"),
    [
        (10, StockRules(), 10),
        (0, StockRules(), 0),
        (-4, StockRules(), 0),
        (10, StockRules(buffer=3), 7),
        (2, StockRules(buffer=3), 0),
        (3, StockRules(buffer=3), 0),
        (10, StockRules(buffer=0), 10),
        (5, StockRules(zero_at_or_below=5), 0),
        (6, StockRules(zero_at_or_below=5), 6),
        (0, StockRules(zero_at_or_below=0), 0),
        (1, StockRules(zero_at_or_below=0), 1),
        (50, StockRules(max_quantity=20), 20),
        (20, StockRules(max_quantity=20), 20),
        (5, StockRules(max_quantity=20), 5),
        (5, StockRules(max_quantity=0), 0),
        # buffer first, then zero-at-or-below on what is left: 8 - 3 = 5 ≤ 5
        (8, StockRules(buffer=3, zero_at_or_below=5), 0),
        (9, StockRules(buffer=3, zero_at_or_below=5), 6),
        # the cap comes last: 30 - 2 = 28 > 5 survives the zero rule, then is capped
        (30, StockRules(buffer=2, zero_at_or_below=5, max_quantity=10), 10),
        # a cap at or below the zero threshold cannot rescue a low figure
        (7, StockRules(buffer=2, zero_at_or_below=5, max_quantity=3), 0),
        (9, StockRules(buffer=2, zero_at_or_below=5, max_quantity=3), 3),
    ],
)
def test_stock_rules_apply_buffer_then_zero_threshold_then_cap(quantity: int, rules: StockRules, expected: int) -> None:
    assert apply_rules(quantity, rules) == expected


# --- decide_quantity -------------------------------------------------------------------------------


def test_a_simple_product_is_sent_after_the_rules() -> None:
    decision = decide_quantity(Product("A", 10), {}, StockRules(buffer=2), include_bundles=False)

    assert decision == QuantityDecision(8, None)


def test_a_bundle_is_skipped_when_the_account_excludes_bundles() -> None:
    kit = Product("KIT", 0, (Component("A", 1),))

    assert decide_quantity(kit, {"A": 10}, StockRules(), include_bundles=False) == QuantityDecision(
        None, "bundle_excluded"
    )


def test_a_bundle_is_sent_after_the_rules_when_the_account_includes_bundles() -> None:
    kit = Product("KIT", 0, (Component("A", 2), Component("B", 1)))

    decision = decide_quantity(kit, {"A": 20, "B": 7}, StockRules(max_quantity=5), include_bundles=True)

    assert decision == QuantityDecision(5, None)


# --- delta rule (§5.4) -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("new_quantity", "last_sent", "expected"),
    [
        (5, None, True),
        (5, LastSent(5, NOW - timedelta(minutes=15), "accepted"), False),
        (5, LastSent(5, NOW - timedelta(minutes=15), "in_flight"), False),
        (5, LastSent(5, NOW - timedelta(minutes=15), "rejected"), True),
        (6, LastSent(5, NOW - timedelta(minutes=15), "accepted"), True),
        (6, LastSent(5, NOW - timedelta(minutes=15), "in_flight"), True),
        (0, LastSent(5, NOW - timedelta(minutes=15), "accepted"), True),
        (5, LastSent(5, NOW - timedelta(hours=24), "accepted"), False),
        (5, LastSent(5, NOW - timedelta(hours=24, seconds=1), "accepted"), True),
        (5, LastSent(5, NOW - timedelta(days=3), "in_flight"), True),
        (5, LastSent(5, NOW + timedelta(minutes=5), "accepted"), False),
    ],
)
def test_a_sku_is_pushed_only_when_new_rejected_changed_or_a_day_old(
    new_quantity: int, last_sent: LastSent | None, expected: bool
) -> None:
    assert needs_push(new_quantity, last_sent, NOW) is expected


# --- seller-region merge (§5.5) --------------------------------------------------------------------


def test_one_account_merges_to_itself_without_conflicts() -> None:
    assert merge_quantities({"acc-uk": {"A": 3, "B": 0}}) == MergeResult({"A": 3, "B": 0}, ())


def test_accounts_agreeing_on_a_sku_send_it_once_without_conflict() -> None:
    result = merge_quantities({"acc-uk": {"A": 3}, "acc-de": {"A": 3}})

    assert result == MergeResult({"A": 3}, ())


def test_accounts_disagreeing_send_the_lowest_and_report_a_conflict() -> None:
    result = merge_quantities(
        {
            "acc-uk": {"A": 10, "B": 4, "C": 1},
            "acc-de": {"A": 7, "B": 4},
            "acc-fr": {"A": 12, "D": 9},
        }
    )

    assert result.quantities == {"A": 7, "B": 4, "C": 1, "D": 9}
    assert result.conflicts == (QuantityConflict("A", {"acc-de": 7, "acc-fr": 12, "acc-uk": 10}, 7),)
    assert result.conflicting_skus == ("A",)
    assert result.conflicts[0].to_dict() == {
        "sku": "A",
        "code": "conflicting_quantity",
        "quantities": {"acc-de": 7, "acc-fr": 12, "acc-uk": 10},
        "sent": 7,
    }


def test_a_sku_only_one_account_sends_is_not_a_conflict() -> None:
    result = merge_quantities({"acc-uk": {"KIT": 4}, "acc-de": {}})

    assert result == MergeResult({"KIT": 4}, ())


def test_skus_differing_only_by_case_are_merged_as_different_skus() -> None:
    result = merge_quantities({"acc-uk": {"abc": 1}, "acc-de": {"ABC": 2}})

    assert result == MergeResult({"ABC": 2, "abc": 1}, ())


def test_no_accounts_merge_to_nothing() -> None:
    assert merge_quantities({}) == MergeResult({}, ())


def test_merged_output_is_ordered_by_sku_and_conflicts_by_account() -> None:
    result = merge_quantities({"z": {"B": 1, "A": 2}, "a": {"B": 3, "A": 2}})

    assert list(result.quantities) == ["A", "B"]
    assert list(result.conflicts[0].quantities) == ["a", "z"]
