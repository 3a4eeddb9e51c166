"""Properties of the quantity pipeline that must hold for every input, not just the tabled ones."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st
from oms_amazon.stock import (
    MAX_RULE_VALUE,
    Component,
    LastSent,
    Product,
    PushStatus,
    StockRules,
    apply_rules,
    bundle_quantity,
    decide_quantity,
    merge_quantities,
    needs_push,
)

pytestmark = pytest.mark.unit

quantities = st.integers(min_value=-1_000, max_value=10**6)
rule_values = st.none() | st.integers(min_value=0, max_value=2_000)
stock_rules = st.builds(StockRules, buffer=rule_values, max_quantity=rule_values, zero_at_or_below=rule_values)
skus = st.sampled_from(["A", "B", "C", "a", "D-1", "kit"])


@st.composite
def bundles_with_stock(draw: st.DrawFn) -> tuple[Product, dict[str, int]]:
    component_skus = draw(st.lists(skus, min_size=1, max_size=5, unique=True))
    components = tuple(Component(sku, draw(st.integers(min_value=1, max_value=50))) for sku in component_skus)
    # Some components are deliberately absent from the stock map: absent means none available.
    available = draw(st.dictionaries(skus, quantities, max_size=6))
    return Product("BUNDLE", draw(quantities), components), available


@given(bundles_with_stock())
def test_a_bundle_never_exceeds_any_components_share_and_is_never_negative(
    bundle_and_stock: tuple[Product, dict[str, int]],
) -> None:
    bundle, available = bundle_and_stock

    made = bundle_quantity(bundle, available)

    assert made >= 0
    for component in bundle.components:
        share = max(0, available.get(component.sku, 0)) // component.quantity
        assert made <= share
        # Making the bundles never uses more of a component than there is.
        assert made * component.quantity <= max(0, available.get(component.sku, 0))
    assert any(made == max(0, available.get(c.sku, 0)) // c.quantity for c in bundle.components)


@given(quantities, stock_rules)
def test_rules_never_send_a_negative_quantity_nor_more_than_the_input(quantity: int, rules: StockRules) -> None:
    assert 0 <= apply_rules(quantity, rules) <= max(0, quantity)


@given(quantities, stock_rules)
def test_the_cap_is_always_respected(quantity: int, rules: StockRules) -> None:
    if rules.max_quantity is not None:
        assert apply_rules(quantity, rules) <= rules.max_quantity


@given(quantities, stock_rules)
def test_zero_is_sent_whenever_what_the_buffer_leaves_is_at_or_below_the_threshold(
    quantity: int, rules: StockRules
) -> None:
    after_buffer = max(0, max(0, quantity) - (rules.buffer or 0))

    if rules.zero_at_or_below is not None and after_buffer <= rules.zero_at_or_below:
        assert apply_rules(quantity, rules) == 0
    else:
        expected = after_buffer if rules.max_quantity is None else min(after_buffer, rules.max_quantity)
        assert apply_rules(quantity, rules) == expected


@given(quantities, quantities, stock_rules)
def test_more_stock_never_sends_less(first: int, second: int, rules: StockRules) -> None:
    low, high = sorted((first, second))

    assert apply_rules(low, rules) <= apply_rules(high, rules)


@given(quantities, st.integers(min_value=0, max_value=MAX_RULE_VALUE))
def test_each_rule_alone_behaves_as_specified(quantity: int, n: int) -> None:
    base = max(0, quantity)

    assert apply_rules(quantity, StockRules()) == base
    assert apply_rules(quantity, StockRules(buffer=n)) == max(0, base - n)
    assert apply_rules(quantity, StockRules(zero_at_or_below=n)) == (0 if base <= n else base)
    assert apply_rules(quantity, StockRules(max_quantity=n)) == min(base, n)


@given(bundles_with_stock(), stock_rules)
def test_an_included_bundle_is_its_component_quantity_after_the_rules(
    bundle_and_stock: tuple[Product, dict[str, int]], rules: StockRules
) -> None:
    bundle, available = bundle_and_stock

    included = decide_quantity(bundle, available, rules, include_bundles=True)
    excluded = decide_quantity(bundle, available, rules, include_bundles=False)

    assert included.quantity == apply_rules(bundle_quantity(bundle, available), rules)
    assert included.skip_reason is None
    assert (excluded.quantity, excluded.skip_reason) == (None, "bundle_excluded")


NOW = datetime(2026, 5, 1, 12, 0, tzinfo=UTC)


@given(
    new_quantity=st.integers(min_value=0, max_value=100),
    sent_quantity=st.integers(min_value=0, max_value=100),
    age=st.timedeltas(min_value=timedelta(0), max_value=timedelta(days=3)),
    status=st.sampled_from(["in_flight", "accepted", "rejected"]),
)
def test_an_unchanged_recent_unrejected_quantity_is_the_only_thing_not_pushed(
    new_quantity: int, sent_quantity: int, age: timedelta, status: PushStatus
) -> None:
    last = LastSent(sent_quantity, NOW - age, status)

    skipped = not needs_push(new_quantity, last, NOW)

    assert skipped == (status != "rejected" and new_quantity == sent_quantity and age <= timedelta(hours=24))


per_account_quantities = st.dictionaries(
    st.sampled_from(["acc-uk", "acc-de", "acc-fr", "acc-it"]),
    st.dictionaries(skus, st.integers(min_value=0, max_value=500), max_size=6),
    max_size=4,
)


@given(per_account_quantities)
def test_the_merge_never_sends_more_than_any_account_would(per_account: dict[str, dict[str, int]]) -> None:
    result = merge_quantities(per_account)

    for account_quantities in per_account.values():
        for sku, quantity in account_quantities.items():
            assert result.quantities[sku] <= quantity
    sent_by_someone = {(sku, q) for account in per_account.values() for sku, q in account.items()}
    assert all((sku, q) in sent_by_someone for sku, q in result.quantities.items())


@given(per_account_quantities)
def test_a_conflict_is_reported_exactly_when_accounts_disagree(per_account: dict[str, dict[str, int]]) -> None:
    result = merge_quantities(per_account)

    disagreeing = {
        sku
        for sku in result.quantities
        if len({account[sku] for account in per_account.values() if sku in account}) > 1
    }
    assert set(result.conflicting_skus) == disagreeing
    for conflict in result.conflicts:
        assert conflict.sent == min(conflict.quantities.values()) == result.quantities[conflict.sku]
        assert conflict.quantities == {a: q[conflict.sku] for a, q in per_account.items() if conflict.sku in q}
