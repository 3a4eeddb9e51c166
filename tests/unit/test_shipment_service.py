"""Despatch back to Amazon (SPEC §6.7) with recording fakes: what is stored, queued and sent to
Amazon for each request and each answer Amazon gives."""

from __future__ import annotations

import json
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from oms_amazon.adapters.sp_api import (
    AmazonUnavailable,
    AuthorisationRejected,
    InvalidRequest,
    OutcomeUnknown,
    Throttled,
)
from oms_amazon.domain.accounts import Account, SellerToken
from oms_amazon.domain.errors import Conflict, DependencyUnavailable, InvalidInput, NotFound
from oms_amazon.domain.orders import Order
from oms_amazon.domain.shipments import (
    RetrySchedule,
    SavedShipment,
    Shipment,
    ShipmentLedger,
    ShipmentLine,
    package_reference_id,
)
from oms_amazon.ports import Page
from oms_amazon.services.seller_access import SellerAccess
from oms_amazon.services.shipments import ShipmentDraft, ShipmentJob, ShipmentService, ShipmentWorker

from fakes import FakeAccounts, FakeOrders, FakeRejections, FakeSecrets
from tests import builders
from tests.builders import MAT, TENT

pytestmark = pytest.mark.unit

NOW = datetime(2026, 11, 29, 12, 0, tzinfo=UTC)
ORDER_ID = "202-0000000-0000001"
TOKEN = SellerToken("Atzr|IwEBIUnitTestRefreshToken000000001", "sp_api_refresh_token")


def order(**changes: Any) -> Order:
    return builders.order(ORDER_ID, at=NOW, **changes)


def account(**changes: Any) -> Account:
    return builders.account(at=NOW, **{"sync_stock": False, **changes})


def draft(**changes: Any) -> ShipmentDraft:
    base = ShipmentDraft(
        carrier_code="Royal Mail",
        carrier_name=None,
        shipping_method="Tracked 48",
        tracking_number="JD014600006281230071",
        ship_date="2026-11-29T10:30:00Z",
    )
    return replace(base, **changes)


@dataclass
class FakeShipments:
    """In memory, with the repository's conditions: the ledger and the job token."""

    ledgers: dict[tuple[str, str], ShipmentLedger] = field(default_factory=dict)
    items: dict[tuple[str, str, int], Shipment] = field(default_factory=dict)
    outbox: list[dict[str, Any]] = field(default_factory=list)
    concurrent_creates: int = 0  # how many creates another writer wins first
    twin_moves_the_token_first: bool = False  # a twin delivery records its attempt just before this one

    def ledger(self, client_id: str, order_id: str) -> ShipmentLedger:
        return self.ledgers.get((client_id, order_id), ShipmentLedger())

    def get(self, client_id: str, order_id: str, sequence: int) -> Shipment | None:
        return self.items.get((client_id, order_id, sequence))

    def of_order(self, client_id: str, order_id: str) -> list[Shipment]:
        return [s for (c, o, _), s in sorted(self.items.items()) if (c, o) == (client_id, order_id)]

    def page(self, client_id: str, order_id: str, *, limit: int, next_token: str | None) -> Page[Shipment]:
        return Page(items=self.of_order(client_id, order_id)[:limit], next_token=None)

    def create(self, shipment: Shipment, *, ledger: ShipmentLedger) -> bool:
        if self.concurrent_creates:
            self.concurrent_creates -= 1
            self._another_writer_ships(shipment)
            return False
        stored = self.ledger(shipment.client_id, shipment.amazon_order_id)
        if stored.count != ledger.count - 1:
            return False
        self.ledgers[(shipment.client_id, shipment.amazon_order_id)] = ledger
        self.items[(shipment.client_id, shipment.amazon_order_id, shipment.sequence)] = shipment
        return True

    def _another_writer_ships(self, shipment: Shipment) -> None:
        other = replace(shipment, package_reference_id="99", lines=(ShipmentLine(MAT, 1),), fingerprint="other")
        stored = self.ledger(shipment.client_id, shipment.amazon_order_id)
        self.create(other, ledger=stored.with_shipment("99", shipment.sequence))

    def _owned(self, shipment: Shipment, token: str) -> bool:
        current = self.get(shipment.client_id, shipment.amazon_order_id, shipment.sequence)
        return current is not None and current.job_token == token and current.status == "submitted"

    def record_attempt(self, shipment: Shipment, *, token: str) -> bool:
        if self.twin_moves_the_token_first:
            self.twin_moves_the_token_first = False
            key = (shipment.client_id, shipment.amazon_order_id, shipment.sequence)
            self.items[key] = replace(shipment, job_token="twin")
        if not self._owned(shipment, token):
            return False
        self.items[(shipment.client_id, shipment.amazon_order_id, shipment.sequence)] = shipment
        return True

    def finish(self, shipment: Shipment, *, token: str, event: Any) -> SavedShipment:
        if not self._owned(shipment, token):
            return SavedShipment(False, None)
        self.items[(shipment.client_id, shipment.amazon_order_id, shipment.sequence)] = shipment
        item = {"detail_type": event, "detail": {"shipment_id": shipment.shipment_id, "status": shipment.status}}
        self.outbox.append(item)
        return SavedShipment(True, item)

    def only(self) -> Shipment:
        (shipment,) = self.items.values()
        return shipment


@dataclass
class FakeQueue:
    sent: list[tuple[dict[str, Any], int]] = field(default_factory=list)
    fail: bool = False

    def send(self, body: dict[str, Any], *, delay_seconds: int) -> None:
        if self.fail:
            raise DependencyUnavailable("queue down")
        self.sent.append((body, delay_seconds))

    def jobs(self) -> list[ShipmentJob]:
        return [ShipmentJob.model_validate_json(json.dumps(body)) for body, _ in self.sent]


@dataclass
class FakeRelay:
    sent: list[dict[str, Any]] = field(default_factory=list)
    fail: bool = False

    def send(self, events: list[dict[str, Any]]) -> None:
        if self.fail:
            raise DependencyUnavailable("bus down")
        self.sent.extend(events)


@dataclass
class FakeAmazon:
    """Answers confirmShipment with the scripted outcomes in turn (None: 204), recording each package."""

    answers: list[Exception | None] = field(default_factory=list)
    confirmed: list[tuple[str, str, str]] = field(default_factory=list)
    built_for: list[tuple[str, str, str]] = field(default_factory=list)
    # Packages Amazon recorded though its answer never arrived (a lost answer), by package reference.
    recorded_silently: set[str] = field(default_factory=set)
    lookups: int = 0

    def __call__(self, marketplace: Any, merchant_id: str, refresh_token: str) -> FakeAmazon:
        self.built_for.append((marketplace.code, merchant_id, refresh_token))
        return self

    def confirm_shipment(self, shipment: Shipment, marketplace_id: str) -> None:
        answer = self.answers.pop(0) if self.answers else None
        if answer is not None:
            raise answer
        self.confirmed.append((shipment.amazon_order_id, shipment.package_reference_id, marketplace_id))

    def confirmed_packages(self, order_id: str) -> set[str]:
        self.lookups += 1
        return {reference for order, reference, _ in self.confirmed if order == order_id} | self.recorded_silently


class Clock:
    def __init__(self) -> None:
        self.now = NOW

    def __call__(self) -> datetime:
        return self.now


@dataclass
class World:
    orders: FakeOrders
    shipments: FakeShipments
    queue: FakeQueue
    relay: FakeRelay
    amazon: FakeAmazon
    accounts: FakeAccounts
    secrets: FakeSecrets
    rejections: FakeRejections
    clock: Clock
    service: ShipmentService
    worker: ShipmentWorker

    def submit(self, **changes: Any) -> Shipment:
        return self.service.submit("acme", ORDER_ID, draft(**changes)).shipment

    def run_next_job(self) -> str:
        body, _ = self.queue.sent.pop(0)
        return self.worker.handle(ShipmentJob.model_validate_json(json.dumps(body)))


@pytest.fixture
def world() -> World:
    orders = FakeOrders({("acme", ORDER_ID): order()})
    shipments, queue, relay, amazon, clock = FakeShipments(), FakeQueue(), FakeRelay(), FakeAmazon(), Clock()
    accounts = FakeAccounts({("acme", "acc1"): account()})
    secrets = FakeSecrets({("acme", "A2SELLERUK01"): TOKEN})
    rejections = FakeRejections(accounts)
    counter = iter(range(1, 10_000))
    service = ShipmentService(
        orders=orders, shipments=shipments, queue=queue, clock=clock, tokens=lambda: f"t{next(counter)}"
    )
    worker = ShipmentWorker(
        accounts=accounts,
        shipments=shipments,
        queue=queue,
        relay=relay,
        access=SellerAccess(secrets, amazon, rejections),
        clock=clock,
        schedule=RetrySchedule(base_seconds=30),
        tokens=lambda: f"t{next(counter)}",
        jitter=lambda: 0.0,
    )
    return World(orders, shipments, queue, relay, amazon, accounts, secrets, rejections, clock, service, worker)


def throttled() -> Throttled:
    return Throttled("You exceeded your quota", operation="confirmShipment", status=429, code="QuotaExceeded")


def unavailable() -> AmazonUnavailable:
    return AmazonUnavailable(
        "We encountered an internal error", operation="confirmShipment", status=503, code="InternalFailure"
    )


# ---------------------------------------------------------------------------------------------- submitting


def test_a_shipment_is_stored_submitted_with_a_numeric_package_reference_and_queued_once(world):
    shipment = world.submit(lines=(ShipmentLine(TENT, 1),))

    assert shipment.status == "submitted" and shipment.attempts == 0
    assert shipment.package_reference_id.isdigit() and int(shipment.package_reference_id) > 0
    assert shipment.shipment_id == f"{ORDER_ID}-S1"
    assert world.shipments.only() == shipment
    assert [
        (job.sequence, job.token, delay) for job, (_, delay) in zip(world.queue.jobs(), world.queue.sent, strict=True)
    ] == [(1, shipment.job_token, 0)]


def test_without_lines_a_shipment_holds_everything_left_to_ship(world):
    first = world.submit(lines=(ShipmentLine(TENT, 1),))
    rest = world.submit(tracking_number="JD014600006281230072")

    assert first.lines == (ShipmentLine(TENT, 1),)
    assert rest.lines == (ShipmentLine(TENT, 1), ShipmentLine(MAT, 1))
    assert rest.sequence == 2


def test_when_everything_is_in_shipments_another_one_is_a_conflict(world):
    world.submit()

    with pytest.raises(Conflict) as refused:
        world.submit(tracking_number="JD014600006281230072")

    assert refused.value.code == "nothing_left_to_ship"
    assert len(world.shipments.items) == 1


def test_a_quantity_above_what_is_left_is_refused_and_nothing_is_stored_or_queued(world):
    world.submit(lines=(ShipmentLine(TENT, 1),))

    with pytest.raises(InvalidInput) as refused:
        world.submit(lines=(ShipmentLine(TENT, 2),), tracking_number="JD014600006281230072")

    assert refused.value.code == "quantity_exceeds_remaining"
    assert refused.value.details[0]["left"] == 1
    assert len(world.shipments.items) == 1 and len(world.queue.sent) == 1


@pytest.mark.parametrize(
    ("lines", "code"),
    [
        ((ShipmentLine("99999999999999", 1),), "unknown_order_item"),
        ((ShipmentLine(TENT, 1), ShipmentLine(TENT, 1)), "duplicate_order_item"),
        ((ShipmentLine(TENT, 0),), "invalid_quantity"),
    ],
)
def test_lines_must_name_the_orders_items_once_with_at_least_one_unit(world, lines, code):
    with pytest.raises(InvalidInput) as refused:
        world.submit(lines=lines)

    assert refused.value.code == code
    assert world.shipments.items == {} and world.queue.sent == []


def test_units_of_failed_and_rejected_shipments_can_ship_again(world):
    first = world.submit(lines=(ShipmentLine(TENT, 2),))
    key = ("acme", ORDER_ID, first.sequence)
    world.shipments.items[key] = replace(first, status="rejected")

    again = world.submit(lines=(ShipmentLine(TENT, 2),), tracking_number="JD014600006281230072")

    assert again.sequence == 2 and again.lines == (ShipmentLine(TENT, 2),)


def test_the_same_request_again_returns_the_stored_shipment_and_confirms_nothing_twice(world):
    first = world.service.submit("acme", ORDER_ID, draft(lines=(ShipmentLine(TENT, 1),)))
    world.run_next_job()

    again = world.service.submit("acme", ORDER_ID, draft(lines=(ShipmentLine(TENT, 1),)))

    assert first.created and not again.created
    assert again.shipment.shipment_id == first.shipment.shipment_id
    assert again.shipment.status == "confirmed"
    assert len(world.amazon.confirmed) == 1 and world.queue.sent == []


def test_a_repeat_before_any_attempt_queues_the_shipment_again_in_case_its_message_was_lost(world):
    world.queue.fail = True
    with pytest.raises(DependencyUnavailable):
        world.submit()
    world.queue.fail = False

    world.submit()

    assert len(world.shipments.items) == 1
    assert len(world.queue.sent) == 1
    assert world.run_next_job() == "confirmed"


def test_the_package_reference_follows_the_lines_and_the_tracking_number(world):
    assert package_reference_id(ORDER_ID, "a") == package_reference_id(ORDER_ID, "a")
    assert package_reference_id(ORDER_ID, "a") != package_reference_id(ORDER_ID, "b")
    assert package_reference_id(ORDER_ID, "a") != package_reference_id("202-0000000-0000002", "a")
    one = world.submit(lines=(ShipmentLine(TENT, 1),))
    other = world.submit(lines=(ShipmentLine(TENT, 1),), tracking_number="JD014600006281230072")

    assert one.package_reference_id != other.package_reference_id


def test_an_idempotency_reference_names_the_shipment_and_a_different_content_under_it_is_a_conflict(world):
    first = world.submit(lines=(ShipmentLine(TENT, 1),), reference="despatch-1")
    same = world.submit(lines=(ShipmentLine(TENT, 1),), reference="despatch-1")
    second_box = world.submit(lines=(ShipmentLine(TENT, 1),), reference="despatch-2")

    assert same.shipment_id == first.shipment_id
    assert second_box.sequence == 2
    with pytest.raises(Conflict) as refused:
        world.submit(lines=(ShipmentLine(MAT, 1),), reference="despatch-1")
    assert refused.value.code == "shipment_reference_conflict"


def test_the_same_lines_and_tracking_number_with_other_details_are_a_conflict(world):
    world.submit(lines=(ShipmentLine(TENT, 1),))

    with pytest.raises(Conflict) as refused:
        world.submit(lines=(ShipmentLine(TENT, 1),), carrier_code="DPD")

    assert refused.value.code == "shipment_reference_conflict"


def test_a_retry_that_restamps_the_ship_date_gets_the_stored_shipment(world):
    first = world.submit(ship_date="2026-11-29T10:30:00Z")

    again = world.submit(ship_date="2026-11-29T10:31:07Z", shipping_method="Tracked 48 (retry)")

    assert again == first
    assert len(world.shipments.items) == 1


def test_a_concurrent_shipment_is_taken_into_account_before_the_write_is_retried(world):
    world.shipments.concurrent_creates = 1

    shipment = world.submit(lines=(ShipmentLine(TENT, 2),))

    assert shipment.sequence == 2
    assert [s.sequence for s in world.shipments.of_order("acme", ORDER_ID)] == [1, 2]


def test_a_concurrent_shipment_of_the_last_units_makes_the_request_fail_instead_of_overshipping(world):
    world.shipments.concurrent_creates = 1  # the other writer ships the mat

    with pytest.raises(InvalidInput) as refused:
        world.submit(lines=(ShipmentLine(MAT, 1),))

    assert refused.value.code == "quantity_exceeds_remaining"


def test_a_cancelled_order_cannot_be_shipped(world):
    world.orders.orders[("acme", ORDER_ID)] = order(status="cancelled", amazon_status="Canceled")

    with pytest.raises(Conflict) as refused:
        world.submit()

    assert refused.value.code == "order_not_ready"
    assert world.shipments.items == {}


def test_another_clients_order_is_not_found(world):
    with pytest.raises(NotFound):
        world.service.submit("other-client", ORDER_ID, draft())
    with pytest.raises(NotFound):
        world.service.list("other-client", ORDER_ID, limit=10, next_token=None)


@pytest.mark.parametrize(
    ("changes", "code"),
    [
        ({"ship_date": "2026-11-29T10:30:00"}, "invalid_ship_date"),
        ({"ship_date": "29/11/2026"}, "invalid_ship_date"),
        ({"ship_date": "2026-12-09T10:30:00Z"}, "invalid_ship_date"),
        ({"ship_date": "2026-11-01T10:30:00Z"}, "invalid_ship_date"),
        ({"tracking_number": "JD01\n46000"}, "invalid_tracking_number"),
        ({"tracking_number": "   "}, "invalid_tracking_number"),
        ({"shipping_method": "x" * 101}, "invalid_shipping_method"),
        ({"carrier_code": "Bobs Couriers"}, "carrier_name_required"),
        ({"carrier_code": "Other"}, "carrier_name_required"),
        ({"reference": "has space"}, "invalid_shipment_reference"),
    ],
)
def test_bad_input_is_refused_with_a_specific_code_and_nothing_is_written(world, changes, code):
    with pytest.raises(InvalidInput) as refused:
        world.submit(**changes)

    assert refused.value.code == code
    assert world.shipments.items == {} and world.queue.sent == []


def test_a_ship_date_with_an_offset_is_kept_as_that_moment(world):
    shipment = world.submit(ship_date="2026-11-29T11:30:00+01:00")

    assert shipment.ship_date == datetime(2026, 11, 29, 10, 30, tzinfo=UTC)


def test_an_unknown_carrier_with_a_name_is_stored_as_other(world):
    shipment = world.submit(carrier_code="BOBS", carrier_name="Bob's Couriers")

    assert (shipment.carrier_code, shipment.carrier_name, shipment.requested_carrier_code) == (
        "Other",
        "Bob's Couriers",
        "BOBS",
    )


# ------------------------------------------------------------------------------------------------ the worker


def test_the_worker_confirms_with_the_orders_marketplace_and_emits_one_confirmed_event(world):
    shipment = world.submit()

    assert world.run_next_job() == "confirmed"

    stored = world.shipments.only()
    assert stored.status == "confirmed" and stored.attempts == 1 and stored.completed_at == NOW
    assert world.amazon.confirmed == [(ORDER_ID, shipment.package_reference_id, "A1F83G8C2ARO7P")]
    assert world.amazon.built_for == [("UK", "A2SELLERUK01", TOKEN.value)]
    assert [e["detail_type"] for e in world.relay.sent] == ["Amazon Shipment Confirmed"]
    assert world.queue.sent == []


def test_a_throttled_amazon_is_retried_later_through_the_queue_with_amazons_reason(world):
    world.submit()
    world.amazon.answers = [throttled()]

    assert world.run_next_job() == "retrying"

    stored = world.shipments.only()
    assert stored.status == "submitted" and stored.attempts == 1
    assert stored.reason is not None and (stored.reason.code, stored.reason.amazon_status) == ("QuotaExceeded", 429)
    ((body, delay),) = world.queue.sent
    assert delay == 15  # half of the 30 s base with no jitter
    assert body["token"] == stored.job_token and body["attempt"] == 2
    assert stored.next_attempt_at == NOW + timedelta(seconds=15)
    assert world.relay.sent == []


def test_amazons_retry_after_is_respected_when_it_is_longer_than_the_back_off(world):
    world.submit()
    error = throttled()
    error.retry_after = 120.0
    world.amazon.answers = [error]

    world.run_next_job()

    assert world.queue.sent[0][1] == 120


def test_retries_back_off_exponentially_up_to_sqss_fifteen_minutes(world):
    world.submit()
    world.amazon.answers = [unavailable() for _ in range(8)]
    delays = []
    for _ in range(8):
        world.run_next_job()
        delays.append(world.queue.sent[0][1])
        world.clock.now += timedelta(seconds=delays[-1])

    assert delays == [15, 30, 60, 120, 240, 450, 450, 450]
    assert world.shipments.only().attempts == 8


def test_after_twenty_four_hours_of_outage_the_shipment_fails_with_amazons_last_reason(world):
    world.submit()
    world.amazon.answers = [unavailable()]
    world.run_next_job()
    world.clock.now = NOW + timedelta(hours=23, minutes=59, seconds=50)
    world.amazon.answers = [unavailable()]

    assert world.run_next_job() == "failed"

    stored = world.shipments.only()
    assert stored.status == "failed" and stored.attempts == 2
    assert stored.reason is not None and stored.reason.code == "InternalFailure"
    assert stored.reason.message == "We encountered an internal error"
    assert [e["detail_type"] for e in world.relay.sent] == ["Amazon Shipment Failed"]
    assert world.queue.sent == []


def test_amazon_refusing_the_package_rejects_it_with_amazons_message_and_never_retries(world):
    world.submit()
    world.amazon.answers = [
        InvalidRequest(
            "Quantity 2 for OrderItemId 1 exceeds the quantity left to ship (0).",
            operation="confirmShipment",
            status=400,
            code="InvalidInput",
        )
    ]

    assert world.run_next_job() == "rejected"

    stored = world.shipments.only()
    assert stored.status == "rejected"
    assert stored.reason is not None and stored.reason.message.startswith("Quantity 2 for OrderItemId")
    assert [e["detail_type"] for e in world.relay.sent] == ["Amazon Shipment Rejected"]
    assert world.queue.sent == []


def lost_answer() -> OutcomeUnknown:
    return OutcomeUnknown(
        "Service temporarily unavailable", operation="confirmShipment", status=500, code="InternalFailure"
    )


def test_a_lost_answer_with_the_package_on_amazons_record_is_confirmed_without_asking_again(world):
    shipment = world.submit()
    world.amazon.answers = [lost_answer()]
    world.amazon.recorded_silently = {shipment.package_reference_id}

    assert world.run_next_job() == "confirmed"

    assert world.amazon.lookups == 1 and world.amazon.confirmed == []
    assert world.shipments.only().status == "confirmed"
    assert world.queue.sent == []


def test_a_lost_answer_without_the_package_on_record_is_tried_again(world):
    world.submit()
    world.amazon.answers = [lost_answer()]

    assert world.run_next_job() == "retrying"
    assert world.run_next_job() == "confirmed"

    assert world.amazon.lookups == 1 and len(world.amazon.confirmed) == 1


def test_a_refusal_of_a_package_amazon_already_recorded_confirms_it_rather_than_rejecting_it(world):
    shipment = world.submit()
    world.amazon.recorded_silently = {shipment.package_reference_id}
    world.amazon.answers = [
        InvalidRequest(
            "The package was already confirmed.", operation="confirmShipment", status=400, code="InvalidInput"
        )
    ]

    assert world.run_next_job() == "confirmed"
    assert world.shipments.only().status == "confirmed"


def test_a_revoked_authorisation_pauses_the_sellers_accounts_and_the_shipment_waits_for_consent(world):
    world.submit()
    world.amazon.answers = [
        AuthorisationRejected("invalid_grant", operation="lwaToken", status=400, code="invalid_grant")
    ]

    assert world.run_next_job() == "retrying"

    assert world.rejections.rejected == [("acme", "A2SELLERUK01")]
    stored = world.shipments.only()
    assert stored.status == "submitted" and stored.reason is not None
    assert stored.reason.code == "authorisation_rejected"

    # While the account stays rejected, attempts only look at the account: Amazon is not called.
    world.clock.now += timedelta(minutes=5)
    assert world.run_next_job() == "retrying"
    assert world.amazon.built_for == [("UK", "A2SELLERUK01", TOKEN.value)]

    # The seller authorises again: the next attempt confirms.
    world.accounts.accounts[("acme", "acc1")] = account()
    world.clock.now += timedelta(minutes=5)
    assert world.run_next_job() == "confirmed"


def test_a_shipment_of_a_deleted_account_fails_at_once(world):
    world.submit()
    world.accounts.accounts.clear()

    assert world.run_next_job() == "failed"

    stored = world.shipments.only()
    assert stored.reason is not None and stored.reason.code == "account_not_found"
    assert world.amazon.built_for == []


def test_an_old_message_whose_token_moved_on_is_dropped(world):
    world.submit()
    first = world.queue.jobs()[0]
    world.amazon.answers = [unavailable()]
    world.run_next_job()

    assert world.worker.handle(first) == "stale"  # SQS delivered the first message twice
    assert len(world.queue.sent) == 1  # still only the one retry
    assert world.amazon.confirmed == []


def test_a_message_of_a_confirmed_shipment_is_dropped_without_calling_amazon(world):
    world.submit()
    job = world.queue.jobs()[0]
    world.run_next_job()

    assert world.worker.handle(job) == "stale"
    assert len(world.amazon.confirmed) == 1 and len(world.relay.sent) == 1


def test_when_a_twin_delivery_scheduled_the_retry_first_this_ones_retry_message_is_an_orphan(world):
    world.submit()
    job = world.queue.jobs()[0]
    world.queue.sent.clear()
    world.amazon.answers = [unavailable()]
    world.shipments.twin_moves_the_token_first = True

    assert world.worker.handle(job) == "stale"

    (orphan,) = world.queue.jobs()
    assert world.shipments.only().job_token == "twin" and world.shipments.only().attempts == 1
    assert world.worker.handle(orphan) == "stale"


def test_an_unavailable_bus_leaves_the_event_in_the_outbox_without_failing_the_job(world):
    world.submit()
    world.relay.fail = True

    assert world.run_next_job() == "confirmed"

    assert world.shipments.only().status == "confirmed"
    assert len(world.shipments.outbox) == 1


def test_the_retry_schedule_doubles_from_its_base_and_stays_within_sqss_limit():
    schedule = RetrySchedule(base_seconds=1)

    assert [schedule.delay(n, 0.999) for n in range(1, 12)] == [1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 900]
    assert schedule.delay(50, 0.0) == 450
    assert schedule.delay(1, 0.0, at_least=2000.0) == 900
    with pytest.raises(ValueError, match="base_seconds"):
        RetrySchedule(base_seconds=0)
