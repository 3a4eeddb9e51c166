"""Which DEFAULT-channel quantity a fulfillment-availability patch sets, and which patches Amazon refuses."""

from __future__ import annotations

from typing import Any

import pytest

from local.simulator.feeds import CODE_INVALID_VALUE, CODE_MISSING_VALUE, PatchProblem, quantity_from_patch

pytestmark = pytest.mark.unit

PATH = "/attributes/fulfillment_availability"


def patch(value: Any, op: str = "replace", path: str = PATH) -> dict[str, Any]:
    return {"op": op, "path": path, "value": value}


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


@pytest.mark.parametrize("value", [None, [], [{"quantity": 1}], ["DEFAULT"]])
def test_a_missing_channel_or_value_is_reported_as_missing(value: Any) -> None:
    with pytest.raises(PatchProblem) as problem:
        quantity_from_patch(patch(value))
    assert problem.value.code == CODE_MISSING_VALUE
