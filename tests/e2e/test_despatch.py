"""Despatch back to Amazon end to end (SPEC §6.7) on the local stack: the API, the shipment queue and
worker wired from template.yaml, and the SP-API simulator recording what Amazon was told."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest

from local.stack import install_container
from tests.e2e.conftest import SELLER, SELLER_TOKEN
from tests.e2e.test_order_import import ACME, amazon_order, import_now, put_orders

pytestmark = pytest.mark.e2e

ORDER = "202-0000000-0000001"
ITEM = "00000000000001"  # the order's one line: 2 units of TENT-2P


@pytest.fixture
def fast_retries(monkeypatch: pytest.MonkeyPatch, stack) -> Iterator[None]:
    """The first retry after one second instead of thirty (the template's ShipmentRetryBaseSeconds)."""
    from oms_amazon import wiring

    monkeypatch.setenv("SHIPMENT_RETRY_BASE_SECONDS", "1")
    install_container()
    yield
    wiring.install(None)  # the next use makes one for the environment as it is then, restored


@pytest.fixture
def order(stack, http, sim, fast_retries) -> dict[str, Any]:
    """An imported, unshipped order of two units, ready to ship (its standard term falls to the
    account's default courier)."""
    response = http.post(
        "/accounts",
        json={
            "merchant_id": SELLER,
            "marketplace": "UK",
            "auth_token": SELLER_TOKEN,
            "active": True,
            "default_courier_service": "Royal Mail 48",
        },
        headers=ACME,
    )
    assert response.status_code == 201, response.text
    assert http.put("/products/TENT-2P", json={"quantity_available": 5}, headers=ACME).status_code in (200, 201)
    put_orders(sim, [amazon_order(1, "Std UK Dom_1", "Standard")])
    import_now(stack, http, response.json())
    imported = http.get(f"/orders/{ORDER}", headers=ACME)
    assert imported.status_code == 200, imported.text
    assert imported.json()["status"] == "ready", imported.text
    return dict(imported.json())


def despatch(http: httpx.Client, **changes: Any) -> httpx.Response:
    body: dict[str, Any] = {
        "carrier_code": "Royal Mail",
        "shipping_method": "Tracked 48",
        "tracking_number": "JD014600006281230071",
        "ship_date": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() - 600)),
    }
    body.update(changes)
    return http.post(f"/orders/{ORDER}/shipments", json=body, headers=ACME)


def settled(http: httpx.Client, timeout: float = 30) -> list[dict[str, Any]]:
    """The order's shipments once none is waiting for Amazon any more."""
    deadline = time.monotonic() + timeout
    while True:
        items: list[dict[str, Any]] = http.get(f"/orders/{ORDER}/shipments", headers=ACME).json()["items"]
        if all(s["status"] != "submitted" for s in items) or time.monotonic() > deadline:
            return items
        time.sleep(0.3)


def amazon_side(sim: httpx.Client) -> dict[str, Any]:
    response = sim.get(f"/_sim/sellers/{SELLER}/orders/{ORDER}")
    assert response.status_code == 200, response.text
    return dict(response.json())


def confirm_calls(sim: httpx.Client) -> int:
    return int(sim.get("/_sim/calls").json()["counts"].get("confirmShipment", 0))


def test_a_partial_then_the_remaining_shipment_reach_amazon_as_two_packages(http, sim, order):
    first = despatch(http, lines=[{"order_item_id": ITEM, "quantity": 1}])
    assert first.status_code == 202, first.text
    assert [s["status"] for s in settled(http)] == ["confirmed"]
    assert amazon_side(sim)["OrderStatus"] == "PartiallyShipped"

    rest = despatch(http, carrier_code="dpd", tracking_number="15501234567890")
    assert rest.status_code == 202, rest.text
    assert rest.json()["lines"] == [{"order_item_id": ITEM, "quantity": 1}]

    shipments = settled(http)
    assert [(s["status"], s["carrier_code"]) for s in shipments] == [("confirmed", "Royal Mail"), ("confirmed", "DPD")]
    amazon = amazon_side(sim)
    assert amazon["OrderStatus"] == "Shipped"
    assert [(p["packageReferenceId"], p["trackingNumber"], p["orderItems"]) for p in amazon["Shipments"]] == [
        (s["package_reference_id"], s["tracking_number"], [{"orderItemId": ITEM, "quantity": 1}]) for s in shipments
    ]
    nothing_left = despatch(http, tracking_number="JD999")
    assert (nothing_left.status_code, nothing_left.json()["error"]["code"]) == (409, "nothing_left_to_ship")


def test_a_repeated_post_returns_the_same_shipment_and_amazon_records_it_once(http, sim, order):
    first = despatch(http)
    settled(http)
    again = despatch(http)

    assert (first.status_code, again.status_code) == (202, 200)
    assert again.json()["shipment_id"] == first.json()["shipment_id"]
    assert again.json()["status"] == "confirmed"
    assert len(amazon_side(sim)["Shipments"]) == 1
    assert confirm_calls(sim) == 1


def test_a_throttled_and_failing_amazon_is_retried_with_back_off_until_it_confirms(http, sim, order):
    for status in (429, 503):
        response = sim.post(
            "/_sim/faults", json={"operation": "confirmShipment", "status": status, "rate": 1, "count": 3}
        )
        assert response.status_code == 201, response.text

    assert despatch(http).status_code == 202

    (shipment,) = settled(http, timeout=45)
    assert shipment["status"] == "confirmed"
    assert shipment["attempts"] >= 2, "at least one retry went through the queue"
    assert shipment["reason"] is None
    assert len(amazon_side(sim)["Shipments"]) == 1
    assert confirm_calls(sim) == 7  # six refused, one recorded


def test_an_answer_lost_after_amazon_recorded_the_package_is_settled_by_amazons_record_not_sent_again(http, sim, order):
    sim.post(
        "/_sim/faults", json={"operation": "confirmShipment", "status": 503, "rate": 1, "count": 1, "phase": "after"}
    )

    assert despatch(http).status_code == 202

    (shipment,) = settled(http)
    assert shipment["status"] == "confirmed"
    (package,) = amazon_side(sim)["Shipments"]
    assert package["packageReferenceId"] == shipment["package_reference_id"]
    assert package["repeatedConfirmations"] == 0, "the order's packages on Amazon decided; nothing was resent"
    calls = sim.get("/_sim/calls").json()["counts_by_api"]
    assert calls["orders_2026-01-01"]["getOrder"] == 1


def test_a_refused_carrier_is_a_400_and_nothing_reaches_amazon(http, sim, order):
    refused = despatch(http, carrier_code="Bobs Couriers")

    assert refused.status_code == 400
    assert refused.json()["error"]["code"] == "carrier_name_required"
    assert http.get(f"/orders/{ORDER}/shipments", headers=ACME).json()["items"] == []

    named = despatch(http, carrier_code="Bobs Couriers", carrier_name="Bob's Couriers")
    assert named.status_code == 202
    settled(http)
    (package,) = amazon_side(sim)["Shipments"]
    assert (package["carrierCode"], package["carrierName"]) == ("Other", "Bob's Couriers")


def test_over_shipping_is_refused_before_amazon_is_asked(http, sim, order):
    refused = despatch(http, lines=[{"order_item_id": ITEM, "quantity": 3}])

    assert refused.status_code == 400
    assert refused.json()["error"]["code"] == "quantity_exceeds_remaining"
    assert http.get(f"/orders/{ORDER}/shipments", headers=ACME).json()["items"] == []
    assert confirm_calls(sim) == 0


def test_amazon_refusing_the_package_marks_it_rejected_with_amazons_reason(http, sim, order):
    put_orders(sim, [amazon_order(1, "Std UK Dom_1", "Standard", status="Canceled")])  # cancelled since the import

    assert despatch(http).status_code == 202

    (shipment,) = settled(http)
    assert shipment["status"] == "rejected"
    assert shipment["reason"]["amazon_status"] == 400
    assert "cancelled" in shipment["reason"]["message"]
    assert amazon_side(sim)["Shipments"] == []


def test_another_client_can_neither_despatch_nor_see_the_order(http, sim, order):
    other = {"X-Client-Id": "globex"}
    despatch(http)

    refused = http.post(
        f"/orders/{ORDER}/shipments",
        json={
            "carrier_code": "DPD",
            "shipping_method": "Next Day",
            "tracking_number": "1",
            "ship_date": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        },
        headers=other,
    )
    assert refused.status_code == 404
    assert http.get(f"/orders/{ORDER}/shipments", headers=other).status_code == 404
    assert len(settled(http)) == 1
