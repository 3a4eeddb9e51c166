"""An Amazon order judged for the warehouse (SPEC §6.6): ready only with a label-ready address,
held `address_unavailable` with the likely cause when Amazon leaves it out, `not_for_us` for what the
warehouse does not ship, `shipped` once it is, and the hold reasons only while it is held."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

import pytest
from oms_amazon.domain.orders import AmazonLine, AmazonOrder, Money, Order, OrderPii, ShipTo
from oms_amazon.order_checks import evaluate
from oms_amazon.services.order_import.reevaluation import as_amazon
from oms_amazon.shipping import CourierMapping
from oms_amazon.sku import SkuIndex

from tests import builders
from tests.builders import account

pytestmark = pytest.mark.unit

NOW = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)
ACCOUNT = account("uk", at=NOW, sync_stock=False)
MAPPINGS = [CourierMapping("m1", "STD UK DOM_1", "Royal Mail 48")]
SKUS = SkuIndex(["TENT-2P"])
HOME = ShipTo(
    name="Jane Smith", address_line_1="1 High Street", city="London", postal_code="SW1A 1AA", country_code="GB"
)


def amazon_order(**changes: Any) -> AmazonOrder:
    return builders.amazon_order(at=NOW, **{"pii": OrderPii(ship_to=HOME), **changes})


def judge(amazon: AmazonOrder, **kwargs: Any) -> Order:
    return evaluate(amazon, ACCOUNT, SKUS, MAPPINGS, now=NOW, **kwargs)


def test_an_order_with_a_label_ready_address_is_ready():
    order = judge(amazon_order())

    assert (order.status, order.hold_reasons, order.courier_service) == ("ready", (), "Royal Mail 48")
    assert order.address_available


@pytest.mark.parametrize(
    "ship_to",
    [None, ShipTo(city="London", postal_code="SW1A 1AA", country_code="GB"), replace(HOME, address_line_1=None)],
    ids=["no address", "town and postcode only (v0 without a token)", "no street"],
)
def test_a_shippable_order_without_a_label_ready_address_is_held_with_the_likely_cause(ship_to):
    note = "Orders v0 shows the address only with a Restricted Data Token; Amazon refused one (403 Unauthorized)."
    order = judge(amazon_order(pii=OrderPii(ship_to=ship_to), pii_note=note))

    assert order.status == "on_hold"
    (hold,) = order.hold_reasons
    assert hold.code == "address_unavailable"
    assert note in hold.message


def test_a_pending_order_waits_for_amazon_and_is_not_blamed_on_its_missing_address():
    order = judge(amazon_order(amazon_status="Pending", pii=None))

    assert [h.code for h in order.hold_reasons] == ["amazon_pending"]


@pytest.mark.parametrize(
    ("changes", "reason"),
    [
        ({"fulfillment_channel": "AFN"}, "fulfilled_by_amazon"),
        ({"amazon_handles_delivery": True}, "amazon_handles_delivery"),
        ({"in_store_pickup": True}, "in_store_pickup"),
        ({"amazon_status": "Shipped"}, "shipped_before_import"),
    ],
)
def test_an_order_the_warehouse_does_not_ship_is_not_for_us_with_the_reason(changes, reason):
    order = judge(amazon_order(**changes, pii=None))

    assert (order.status, order.not_for_us_reason, order.hold_reasons) == ("not_for_us", reason, ())
    assert order.not_ready_reason()


def test_an_order_amazon_ships_after_it_was_imported_is_shipped_not_not_for_us():
    first = judge(amazon_order())

    later = judge(amazon_order(amazon_status="Shipped", last_update_date=NOW), previous=first)

    assert (later.status, later.not_for_us_reason, later.state_version) == ("shipped", None, 2)


def test_an_order_the_connector_despatched_in_full_is_shipped_and_stays_shipped():
    first = judge(amazon_order())

    shipped = judge(as_amazon(first), previous=first, despatched=True)
    again = judge(as_amazon(shipped), previous=shipped)

    assert (shipped.status, again.status) == ("shipped", "shipped")
    assert shipped.not_ready_reason() is None


def test_a_cancelled_order_is_cancelled_whatever_else_is_wrong_and_carries_no_hold():
    order = judge(amazon_order(amazon_status="Canceled", pii=None, lines=(AmazonLine("1", "tent-2p", 1, None),)))

    assert (order.status, order.hold_reasons) == ("cancelled", ())
    assert "cancelled" in (order.not_ready_reason() or "")


def test_judged_again_from_what_is_stored_an_order_keeps_its_address_and_its_status():
    stored = judge(amazon_order())

    again = judge(as_amazon(stored), previous=stored)

    assert (again.status, again.address_available, again.state_version) == ("ready", True, 1)
    assert as_amazon(stored).pii is None, "the buyer's data is not opened to judge an order again"


def test_a_held_order_names_every_reason_and_cannot_be_despatched():
    order = judge(amazon_order(pii=None, lines=(AmazonLine("1", "tent-2p", 1, None),)))

    assert [h.code for h in order.hold_reasons] == ["sku_case_mismatch", "address_unavailable"]
    assert "on hold" in (order.not_ready_reason() or "")


def test_the_orders_money_and_flags_are_kept():
    order = judge(
        amazon_order(
            is_business_order=True,
            is_replacement=True,
            programs=("AMAZON_BUSINESS",),
            order_total=Money.from_dict({"amount": "24.00", "currency": "GBP"}),
            sales_channel="Amazon.co.uk",
        )
    )

    assert (order.is_business_order, order.is_replacement, order.programs) == (True, True, ("AMAZON_BUSINESS",))
    assert order.order_total == Money.from_dict({"amount": "24.00", "currency": "GBP"})
    assert order.sales_channel == "Amazon.co.uk"
