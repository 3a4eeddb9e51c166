"""The order events an OMS subscribes to (events/bus/): each sample has exactly the shape the
connector emits, together they cover every order status and event type, and none carries buyer data
(SPEC §6.6: events are notifications; fetch `GET /orders/{id}` for the full order)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
from oms_amazon.adapters.events import SOURCE
from oms_amazon.domain.orders import ORDER_STATUSES, event_detail

from local.template import ROOT
from tests import builders

pytestmark = pytest.mark.unit

SAMPLES = sorted((ROOT / "events" / "bus").glob("*.json"))
NOW = datetime(2026, 6, 1, tzinfo=UTC)


def emitted_keys() -> set[str]:
    order = builders.order(
        account_id="a",
        client_id="c",
        at=NOW,
        purchase_date=NOW,
        last_update_date=NOW,
        ship_service_level=None,
        shipping_term="STD UK DOM",
        courier_service=None,
        lines=(),
    )
    return set(event_detail(order, "Amazon Order Imported", None))


@pytest.mark.parametrize("path", SAMPLES, ids=lambda p: p.name)
def test_each_sample_is_an_event_the_connector_emits(path: Path) -> None:
    event = json.loads(path.read_text())

    assert event["source"] == SOURCE
    assert set(event["detail"]) == emitted_keys()
    assert event["detail"]["detail_type"] == event["detail-type"]
    assert event["detail"]["status"] in ORDER_STATUSES
    assert path.name in (ROOT / "events" / "README.md").read_text()


def test_the_samples_cover_every_status_and_event_type() -> None:
    events = [json.loads(path.read_text()) for path in SAMPLES]

    assert {e["detail"]["status"] for e in events} == set(ORDER_STATUSES)
    assert {e["detail-type"] for e in events} == {
        "Amazon Order Imported",
        "Amazon Order Updated",
        "Amazon Order Cancelled",
    }


def test_no_event_carries_buyer_data() -> None:
    forbidden = {"ship_to", "buyer", "gift_message", "name", "email", "address_line_1", "postal_code", "phone"}

    assert not forbidden & emitted_keys()
