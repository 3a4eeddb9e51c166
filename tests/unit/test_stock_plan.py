"""What a stock-sync run sends (SPEC §5.2 to §5.5), as a pure plan."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from oms_amazon.domain.accounts import Account
from oms_amazon.stock import Component, LastSent, Product, StockRules
from oms_amazon.stock_plan import plan_push

from tests import builders

pytestmark = pytest.mark.unit

NOW = datetime(2026, 11, 29, 12, 0, tzinfo=UTC)
UK, DE = "A1F83G8C2ARO7P", "A1PA6795UKMFR9"


def account(account_id: str = "uk", marketplace: str = "UK", **changes: object) -> Account:
    return builders.account(account_id, marketplace, at=NOW, **changes)


PRODUCTS = [
    Product("TENT-2P", 7),
    Product("MAT-BLUE", 3),
    Product("stove-mini", 12),
    Product("LAMP", -4),
    Product("CAMP-KIT", 0, (Component("TENT-2P", 1), Component("MAT-BLUE", 2))),
    Product("NOT-LISTED", 9),
]
LISTED = {"TENT-2P": "TENT", "MAT-BLUE": "PRODUCT", "STOVE-MINI": "PRODUCT", "LAMP": "PRODUCT", "CAMP-KIT": "PRODUCT"}


def test_only_exactly_listed_skus_are_sent_and_the_rest_are_skipped_with_reasons():
    uk = account()
    plan = plan_push(uk, [uk], PRODUCTS, {"uk": LISTED}, {}, NOW)

    assert {p.sku: p.quantity for p in plan.pushes} == {"TENT-2P": 7, "MAT-BLUE": 3, "LAMP": 0}
    assert plan.skipped == {"sku_case_mismatch": 1, "bundle_excluded": 1, "not_on_amazon": 1}
    assert plan.skipped_skus["sku_case_mismatch"] == ["stove-mini"]
    assert next(p for p in plan.pushes if p.sku == "TENT-2P").product_type == "TENT"
    assert plan.considered == 6


def test_bundles_are_sent_when_the_account_asks_for_them():
    uk = account(include_bundles_in_stock_sync=True)
    plan = plan_push(uk, [uk], PRODUCTS, {"uk": LISTED}, {}, NOW)
    assert {p.sku: p.quantity for p in plan.pushes}["CAMP-KIT"] == 1  # min(7/1, 3/2)


def test_stock_rules_apply_per_account():
    uk = account(stock_rules=StockRules(buffer=2, max_quantity=4, zero_at_or_below=1))
    plan = plan_push(uk, [uk], PRODUCTS, {"uk": LISTED}, {}, NOW)
    assert {p.sku: p.quantity for p in plan.pushes} == {"TENT-2P": 4, "MAT-BLUE": 0, "LAMP": 0}


def test_unchanged_skus_cost_nothing_until_a_day_has_passed():
    uk = account()
    sent = {
        "TENT-2P": LastSent(7, NOW - timedelta(hours=1), "accepted"),
        "MAT-BLUE": LastSent(3, NOW - timedelta(hours=25), "accepted"),
        "LAMP": LastSent(0, NOW - timedelta(hours=1), "rejected"),
    }
    plan = plan_push(uk, [uk], PRODUCTS, {"uk": LISTED}, sent, NOW)
    assert sorted(p.sku for p in plan.pushes) == ["LAMP", "MAT-BLUE"]
    assert plan.unchanged == 1


def test_two_marketplaces_of_one_seller_get_the_same_lowest_figure_one_submission_each():
    uk, de = account(stock_rules=StockRules(max_quantity=5)), account("de", "DE")
    plan = plan_push(uk, [uk, de], PRODUCTS, {"uk": LISTED, "de": {"TENT-2P": "TENT", "MAT-BLUE": "PRODUCT"}}, {}, NOW)

    pushes = {p.sku: p for p in plan.pushes}
    assert pushes["TENT-2P"].quantity == 5 and pushes["TENT-2P"].marketplace_ids == (UK, DE)
    assert pushes["LAMP"].marketplace_ids == (UK,)
    assert plan.conflicts == (
        {"sku": "TENT-2P", "code": "conflicting_quantity", "quantities": {"uk": 5, "de": 7}, "sent": 5},
    )
    assert plan.skipped["conflicting_quantity"] == 1
    per_marketplace = plan.by_marketplace()
    assert list(per_marketplace) == [UK, DE], "one submission per marketplace: Amazon takes one per feed"
    assert {p.sku: p.quantity for p in per_marketplace[DE]} == {"TENT-2P": 5, "MAT-BLUE": 3}
    assert "LAMP" in {p.sku for p in per_marketplace[UK]} and "LAMP" not in {p.sku for p in per_marketplace[DE]}


def test_a_sku_amazon_fulfils_is_skipped_and_never_gets_a_merchant_quantity():
    uk = account()
    listed = {sku: kind for sku, kind in LISTED.items() if sku != "MAT-BLUE"}

    plan = plan_push(uk, [uk], PRODUCTS, {"uk": listed}, {}, NOW, {"uk": {"MAT-BLUE"}})

    assert "MAT-BLUE" not in {p.sku for p in plan.pushes}
    assert plan.skipped["fulfilled_by_amazon"] == 1
    assert plan.skipped_skus["fulfilled_by_amazon"] == ["MAT-BLUE"]


def test_an_alias_sends_the_oms_skus_figure_to_the_linked_amazon_sku_and_clears_its_case_mismatch():
    uk = account()
    listed = {**LISTED, "OLD-TENT": "TENT"}

    plan = plan_push(
        uk, [uk], PRODUCTS, {"uk": listed}, {}, NOW, aliases={"uk": {"STOVE-MINI": "stove-mini", "OLD-TENT": "TENT-2P"}}
    )

    sent = {p.sku: p.quantity for p in plan.pushes}
    assert sent == {"TENT-2P": 7, "OLD-TENT": 7, "MAT-BLUE": 3, "LAMP": 0, "STOVE-MINI": 12}
    assert "sku_case_mismatch" not in plan.skipped
    assert next(p for p in plan.pushes if p.sku == "OLD-TENT").product_type == "TENT"


def test_an_alias_never_overrides_an_amazon_sku_that_is_itself_an_oms_sku_nor_reaches_other_accounts():
    uk, de = account(), account("de", "DE")
    listed = {**LISTED, "NOT-LISTED": "PRODUCT"}

    plan = plan_push(
        uk,
        [uk, de],
        PRODUCTS,
        {"uk": listed, "de": {"NOT-LISTED": "PRODUCT"}},
        {},
        NOW,
        aliases={"uk": {"NOT-LISTED": "TENT-2P"}, "de": {}},
    )

    assert {p.sku: p.quantity for p in plan.pushes}["NOT-LISTED"] == 9


def test_an_alias_to_an_fba_listing_is_skipped_as_fulfilled_by_amazon():
    uk = account()
    listed = {sku: kind for sku, kind in LISTED.items() if sku != "STOVE-MINI"}

    plan = plan_push(
        uk, [uk], PRODUCTS, {"uk": listed}, {}, NOW, {"uk": {"STOVE-MINI"}}, {"uk": {"STOVE-MINI": "stove-mini"}}
    )

    assert "STOVE-MINI" not in {p.sku for p in plan.pushes}
    assert plan.skipped_skus["fulfilled_by_amazon"] == ["stove-mini"]
