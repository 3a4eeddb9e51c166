"""What a fulfillment-availability patch sets, which patches Amazon refuses, and `merge` against `replace`."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest

from local.simulator.availability import (
    CODE_INVALID_VALUE,
    CODE_MISSING_VALUE,
    CODE_TOO_FEW_VALUES,
    MissingChannelCode,
    PatchProblem,
    apply_availability,
    availability_patch,
    quantity_from_patch,
)
from local.simulator.marketplaces import by_code_or_id
from local.simulator.state import ChannelAvailability, Listing

pytestmark = pytest.mark.unit

PATH = "/attributes/fulfillment_availability"
NOW = datetime(2026, 1, 5, tzinfo=UTC)


def patch(value: Any, op: str = "replace", path: str = PATH) -> dict[str, Any]:
    return {"op": op, "path": path, "value": value}


def listing(channel: str = "DEFAULT", **merchant: Any) -> Listing:
    marketplace = by_code_or_id("UK")
    assert marketplace is not None
    own = ChannelAvailability(**merchant) if channel == "DEFAULT" else ChannelAvailability(quantity=40)
    return Listing(
        sku="SKU-A",
        marketplace=marketplace,
        product_type="PRODUCT",
        asin="B000000001",
        item_name="Item",
        price=Decimal("9.99"),
        created=NOW,
        updated=NOW,
        listing_id="L1",
        fulfillment_channel=channel,
        availability={channel: own},
    )


def test_a_default_channel_entry_sets_the_quantity() -> None:
    assert quantity_from_patch(patch([{"fulfillment_channel_code": "DEFAULT", "quantity": 7}])) == 7


def test_amazon_fulfilled_channels_are_not_the_sellers_quantity() -> None:
    assert quantity_from_patch(patch([{"fulfillment_channel_code": "AMAZON_EU", "quantity": 7}])) is None


def test_other_attributes_do_not_touch_the_quantity() -> None:
    assert quantity_from_patch(patch([{"value": "x"}], path="/attributes/item_name")) is None


def test_deleting_the_attribute_leaves_nothing_to_sell() -> None:
    assert quantity_from_patch({"op": "delete", "path": PATH}) == 0


@pytest.mark.parametrize("quantity", [-1, 1.5, "3", True, None])
def test_a_quantity_that_is_not_a_whole_number_of_at_least_zero_is_invalid(quantity: Any) -> None:
    with pytest.raises(PatchProblem) as problem:
        quantity_from_patch(patch([{"fulfillment_channel_code": "DEFAULT", "quantity": quantity}]))
    assert problem.value.code == CODE_INVALID_VALUE


@pytest.mark.parametrize("value", [None, []])
def test_a_missing_value_is_reported_as_missing(value: Any) -> None:
    with pytest.raises(PatchProblem) as problem:
        quantity_from_patch(patch(value))
    assert problem.value.code == CODE_MISSING_VALUE


@pytest.mark.parametrize("value", [[{"quantity": 1}], ["DEFAULT"], [{"fulfillment_channel_code": ""}]])
def test_an_entry_without_its_channel_has_too_few_values(value: Any) -> None:
    with pytest.raises(MissingChannelCode) as problem:
        quantity_from_patch(patch(value))
    assert problem.value.code == CODE_TOO_FEW_VALUES
    assert "'fulfillment_channel_code'" in problem.value.text


@pytest.mark.parametrize(
    "entry", [{"lead_time_to_ship_max_days": -1}, {"lead_time_to_ship_max_days": "2"}, {"restock_date": "soon"}]
)
def test_a_bad_handling_time_or_restock_date_is_invalid(entry: dict[str, Any]) -> None:
    with pytest.raises(PatchProblem) as problem:
        availability_patch(patch([{"fulfillment_channel_code": "DEFAULT", "quantity": 1, **entry}]))
    assert problem.value.code == CODE_INVALID_VALUE


def test_merge_may_leave_the_quantity_out() -> None:
    parsed = availability_patch(patch([{"fulfillment_channel_code": "DEFAULT", "restock_date": "2026-02-01"}], "merge"))
    assert parsed is not None
    assert parsed.quantity() is None


def test_merge_changes_the_quantity_and_keeps_handling_time_and_restock_date() -> None:
    item = listing(quantity=3, lead_time_to_ship_max_days=4, restock_date="2026-02-01")
    parsed = availability_patch(patch([{"fulfillment_channel_code": "DEFAULT", "quantity": 9}], "merge"))
    assert parsed is not None
    apply_availability(item, parsed)
    assert item.merchant == ChannelAvailability(quantity=9, lead_time_to_ship_max_days=4, restock_date="2026-02-01")


@pytest.mark.parametrize("op", ["replace", "add"])
def test_replace_wipes_what_it_does_not_name(op: str) -> None:
    item = listing(quantity=3, lead_time_to_ship_max_days=4, restock_date="2026-02-01")
    parsed = availability_patch(patch([{"fulfillment_channel_code": "DEFAULT", "quantity": 9}], op))
    assert parsed is not None
    apply_availability(item, parsed)
    assert item.merchant == ChannelAvailability(quantity=9)


def test_a_default_quantity_sent_to_an_fba_listing_is_recorded_beside_amazons_channel() -> None:
    item = listing("AMAZON_EU")
    parsed = availability_patch(patch([{"fulfillment_channel_code": "DEFAULT", "quantity": 5}]))
    assert parsed is not None
    apply_availability(item, parsed)
    assert list(item.availability) == ["AMAZON_EU", "DEFAULT"]
    assert (item.quantity, item.merchant) == (40, ChannelAvailability(quantity=5))


def test_delete_leaves_a_merchant_listing_nothing_to_sell() -> None:
    item = listing(quantity=3, lead_time_to_ship_max_days=4)
    parsed = availability_patch({"op": "delete", "path": PATH})
    assert parsed is not None
    apply_availability(item, parsed)
    assert item.merchant == ChannelAvailability(quantity=0)
