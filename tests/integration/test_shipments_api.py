"""Despatch back to Amazon through the API and shipment worker functions (SPEC §6.7, §7): moto for AWS,
and Amazon (LWA and confirmShipment) as an httpx MockTransport behind the app's own SP-API client."""

from __future__ import annotations

import json
import os
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qs

import boto3
import httpx
import pytest
from oms_amazon.domain.orders import Order

from local.functions import LambdaContext, load_handler
from local.template import function_environment, queue_triggers, resources
from local.triggers import sqs_event
from tests import builders
from tests.builders import MAT, TENT
from tests.conftest import CANARY_REFRESH_TOKEN, ApiCaller, all_items, install_container

pytestmark = pytest.mark.integration

SELLER = "A2SELLERUK01"
ORDER_ID = "202-0000000-0000001"

CONFIRM_PATH = re.compile(r"^/orders/v0/orders/(?P<order>[\d-]+)/shipmentConfirmation$")
ORDER_2026_PATH = re.compile(r"^/orders/2026-01-01/orders/(?P<order>[^/]+)$")


@dataclass
class FakeAmazon:
    """LWA and confirmShipment as Amazon answers them; `answers` script the next confirmShipment replies."""

    answers: list[tuple[int, dict[str, Any] | None]] = field(default_factory=list)
    confirmations: list[dict[str, Any]] = field(default_factory=list)
    revoked: bool = False

    def __call__(self, request: httpx.Request) -> httpx.Response:
        if request.url.path == "/auth/o2/token":
            form = parse_qs(request.content.decode())
            if self.revoked or form.get("refresh_token") != [CANARY_REFRESH_TOKEN]:
                return httpx.Response(400, json={"error": "invalid_grant", "error_description": "revoked"})
            return httpx.Response(200, json={"access_token": "Atza|access", "token_type": "bearer", "expires_in": 3600})
        match = CONFIRM_PATH.match(request.url.path)
        if match and request.method == "POST":
            status, body = self.answers.pop(0) if self.answers else (204, None)
            if status == 204:
                self.confirmations.append({"order": match["order"], **json.loads(request.content)})
                return httpx.Response(204)
            return httpx.Response(status, json=body)
        order = ORDER_2026_PATH.match(request.url.path)
        if order and request.method == "GET":
            # Orders 2026-01-01 getOrder with PACKAGES: the packages Amazon recorded (what a lost answer hid).
            packages = [
                {"packageReferenceId": c["packageDetail"]["packageReferenceId"]}
                for c in self.confirmations
                if c["order"] == order["order"]
            ]
            now = "2026-06-01T10:00:00Z"
            return httpx.Response(
                200,
                json={
                    "order": {
                        "orderId": order["order"],
                        "createdTime": now,
                        "lastUpdatedTime": now,
                        "salesChannel": {"channelName": "AMAZON", "marketplaceId": "A1F83G8C2ARO7P"},
                        "orderItems": [],
                        "packages": packages,
                    }
                },
            )
        return httpx.Response(404, json={"errors": [{"code": "NotFound", "message": "no such route"}]})


@pytest.fixture
def amazon(aws: None, monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeAmazon]:
    from oms_amazon import wiring
    from oms_amazon.adapters.sp_api import RetryPolicy, SpApiConfig, forget_amazon_state

    monkeypatch.setenv("SHIPMENT_RETRY_BASE_SECONDS", "1")
    install_container()
    forget_amazon_state()
    fake = FakeAmazon()
    connections = wiring.container().shipment_connections
    connections.http = httpx.Client(transport=httpx.MockTransport(fake))
    # One try per worker run: the retries under test are the queue's, not the client's.
    connections.config = SpApiConfig(
        endpoint_override="http://amazon.test",
        retry=RetryPolicy(time_budget=2, base_delay=0.01, max_delay=0.02, max_attempts=1),
    )
    yield fake
    forget_amazon_state()


@pytest.fixture
def account(api: ApiCaller, amazon: FakeAmazon) -> dict[str, Any]:
    status, body = api(
        "POST", "/accounts", {"merchant_id": SELLER, "marketplace": "UK", "auth_token": CANARY_REFRESH_TOKEN}
    )
    assert status == 201, body
    return body


def store_order(account: dict[str, Any], order_id: str = ORDER_ID, **changes: Any) -> Order:
    from oms_amazon import wiring

    at = datetime.now(UTC) - timedelta(hours=3)
    order = builders.order(order_id, account_id=account["id"], client_id="acme-outdoor", at=at, **changes)
    assert wiring.container().order_store.save(order, previous=None, event=None).saved
    return order


@pytest.fixture
def order(account: dict[str, Any]) -> Order:
    return store_order(account)


def shipment(**changes: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "carrier_code": "Royal Mail",
        "shipping_method": "Tracked 48",
        "tracking_number": "JD014600006281230071",
        "ship_date": (datetime.now(UTC) - timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%SZ"),
    }
    body.update(changes)
    return {k: v for k, v in body.items() if v is not None}


def queued(wait_seconds: int = 0) -> list[dict[str, Any]]:
    """Messages visible on the shipment queue (left there), waiting up to `wait_seconds` for one."""
    sqs = boto3.client("sqs")
    found = sqs.receive_message(
        QueueUrl=os.environ["SHIPMENT_QUEUE_URL"],
        MaxNumberOfMessages=10,
        VisibilityTimeout=0,
        WaitTimeSeconds=wait_seconds,
    ).get("Messages", [])
    return [json.loads(m["Body"]) for m in found]


def run_worker(*, wait_seconds: int = 0) -> list[str]:
    """Deliver what the shipment queue holds to the worker, as Lambda's SQS trigger would; the
    outcome of each job."""
    sqs = boto3.client("sqs")
    url = os.environ["SHIPMENT_QUEUE_URL"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    # With every attribute, as Lambda's event source mapping delivers them.
    messages = sqs.receive_message(
        QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=wait_seconds, AttributeNames=["All"]
    ).get("Messages", [])
    if not messages:
        return []
    handler = load_handler("ShipmentWorkerFunction")
    result = handler(sqs_event(messages, arn), LambdaContext(function_name="ShipmentWorkerFunction"))
    assert result == {"batchItemFailures": []}
    for message in messages:
        sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
    return [json.loads(m["Body"])["job"] for m in messages]


def shipments(api: ApiCaller, order_id: str = ORDER_ID, **query: str) -> list[dict[str, Any]]:
    status, body = api("GET", f"/orders/{order_id}/shipments", query=query or None)
    assert status == 200, body
    return list(body["items"])


@pytest.fixture
def bus_events(aws: None) -> Callable[[], list[dict[str, Any]]]:
    """Every event the connector puts on its bus, through a rule to a queue."""
    events, sqs = boto3.client("events"), boto3.client("sqs")
    queue = sqs.create_queue(QueueName="shipment-events")["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    bus = os.environ["EVENT_BUS_NAME"]
    events.put_rule(Name="all", EventBusName=bus, EventPattern=json.dumps({"source": ["oms.amazon-connector"]}))
    events.put_targets(Rule="all", EventBusName=bus, Targets=[{"Id": "queue", "Arn": arn}])

    def received() -> list[dict[str, Any]]:
        found = []
        while batch := sqs.receive_message(QueueUrl=queue, MaxNumberOfMessages=10).get("Messages", []):
            found.extend(json.loads(m["Body"]) for m in batch)
            for message in batch:
                sqs.delete_message(QueueUrl=queue, ReceiptHandle=message["ReceiptHandle"])
        return found

    return received


# ----------------------------------------------------------------------------------------- the happy path


def test_a_despatch_is_stored_submitted_queued_and_confirmed_with_amazon(api, amazon, order, bus_events):
    status, body = api(
        "POST", f"/orders/{ORDER_ID}/shipments", shipment(lines=[{"order_item_id": TENT, "quantity": 1}])
    )

    assert status == 202, body
    assert body["status"] == "submitted" and body["attempts"] == 0
    assert body["shipment_id"] == f"{ORDER_ID}-S1"
    assert body["package_reference_id"].isdigit()
    assert body["lines"] == [{"order_item_id": TENT, "quantity": 1}]
    assert [m["job"] for m in queued()] == ["confirm_shipment"]

    assert run_worker() == ["confirm_shipment"]

    (confirmation,) = amazon.confirmations
    assert confirmation["order"] == ORDER_ID
    assert confirmation["marketplaceId"] == "A1F83G8C2ARO7P"
    detail = confirmation["packageDetail"]
    assert detail["packageReferenceId"] == body["package_reference_id"]
    assert (detail["carrierCode"], detail["trackingNumber"], detail["shippingMethod"]) == (
        "Royal Mail",
        "JD014600006281230071",
        "Tracked 48",
    )
    assert "carrierName" not in detail
    assert detail["orderItems"] == [{"orderItemId": TENT, "quantity": 1}]
    (stored,) = shipments(api)
    assert stored["status"] == "confirmed" and stored["attempts"] == 1 and stored["completed_at"]
    events = [(e["detail-type"], e["detail"]["shipment_id"]) for e in bus_events()]
    assert events == [("Amazon Shipment Confirmed", f"{ORDER_ID}-S1")]
    assert api("GET", f"/orders/{ORDER_ID}")[1]["status"] == "ready", "two units are still to ship"


def test_a_partial_shipment_then_the_rest_ship_every_unit_once(api, amazon, order):
    api("POST", f"/orders/{ORDER_ID}/shipments", shipment(lines=[{"order_item_id": TENT, "quantity": 1}]))
    status, rest = api("POST", f"/orders/{ORDER_ID}/shipments", shipment(tracking_number="JD014600006281230072"))
    run_worker()

    assert status == 202
    assert rest["lines"] == [{"order_item_id": TENT, "quantity": 1}, {"order_item_id": MAT, "quantity": 1}]
    assert [s["status"] for s in shipments(api)] == ["confirmed", "confirmed"]
    assert len(amazon.confirmations) == 2
    assert api("GET", f"/orders/{ORDER_ID}")[1]["status"] == "shipped", "every unit is confirmed with Amazon"
    status, body = api("POST", f"/orders/{ORDER_ID}/shipments", shipment(tracking_number="JD014600006281230073"))
    assert (status, body["error"]["code"]) == (409, "nothing_left_to_ship")


def test_a_repeated_post_returns_the_stored_shipment_and_amazon_is_asked_once(api, amazon, order):
    first_status, first = api("POST", f"/orders/{ORDER_ID}/shipments", shipment())
    run_worker()

    status, again = api("POST", f"/orders/{ORDER_ID}/shipments", shipment())

    assert (first_status, status) == (202, 200)
    assert again["shipment_id"] == first["shipment_id"] and again["status"] == "confirmed"
    assert queued() == []
    assert len(amazon.confirmations) == 1 and len(shipments(api)) == 1


def test_an_idempotency_key_header_names_the_shipment(api, amazon, order):
    headers = {"Content-Type": "application/json", "Idempotency-Key": "despatch-7781-1"}
    lines = [{"order_item_id": TENT, "quantity": 1}]
    first_status, first = api("POST", f"/orders/{ORDER_ID}/shipments", shipment(lines=lines), headers=headers)
    status, again = api("POST", f"/orders/{ORDER_ID}/shipments", shipment(lines=lines), headers=headers)
    second_status, second = api(
        "POST",
        f"/orders/{ORDER_ID}/shipments",
        shipment(lines=lines),
        headers={**headers, "Idempotency-Key": "despatch-7781-2"},
    )

    assert (first_status, status, second_status) == (202, 200, 202)
    assert again["shipment_id"] == first["shipment_id"] and again["shipment_reference"] == "despatch-7781-1"
    assert second["package_reference_id"] != first["package_reference_id"]


def test_an_unknown_carrier_with_a_name_is_confirmed_as_other(api, amazon, order):
    status, body = api(
        "POST", f"/orders/{ORDER_ID}/shipments", shipment(carrier_code="BOBS", carrier_name="Bob's Couriers")
    )
    run_worker()

    assert status == 202
    assert (body["carrier_code"], body["carrier_name"], body["requested_carrier_code"]) == (
        "Other",
        "Bob's Couriers",
        "BOBS",
    )
    detail = amazon.confirmations[0]["packageDetail"]
    assert (detail["carrierCode"], detail["carrierName"]) == ("Other", "Bob's Couriers")


def test_the_oms_spelling_of_a_carrier_is_sent_in_amazons(api, amazon, order):
    _, body = api("POST", f"/orders/{ORDER_ID}/shipments", shipment(carrier_code="hermes"))

    assert body["carrier_code"] == "Evri"


# ------------------------------------------------------------------------------------------- Amazon's answers


def test_a_throttled_then_unavailable_amazon_is_retried_through_the_queue_until_it_confirms(api, amazon, order):
    amazon.answers = [
        (
            429,
            {"errors": [{"code": "QuotaExceeded", "message": "You exceeded your quota for the requested resource."}]},
        ),
        (503, {"errors": [{"code": "InternalFailure", "message": "We encountered an internal error."}]}),
    ]
    api("POST", f"/orders/{ORDER_ID}/shipments", shipment())

    run_worker()
    (waiting,) = shipments(api)
    assert waiting["status"] == "submitted" and waiting["attempts"] == 1
    assert waiting["reason"]["code"] == "QuotaExceeded" and waiting["reason"]["amazon_status"] == 429
    assert waiting["next_attempt_at"] > waiting["last_attempt_at"]

    assert run_worker(wait_seconds=5) == ["confirm_shipment"]  # delivered after its delay
    (waiting,) = shipments(api)
    assert waiting["reason"]["code"] == "InternalFailure" and waiting["attempts"] == 2

    assert run_worker(wait_seconds=5) == ["confirm_shipment"]
    (done,) = shipments(api)
    assert done["status"] == "confirmed" and done["attempts"] == 3
    assert len(amazon.confirmations) == 1


def test_amazon_refusing_a_package_rejects_it_and_gives_its_units_back(api, amazon, order, bus_events):
    refusal = "Quantity 2 for OrderItemId 00000000000001 exceeds the quantity left to ship (0)."
    amazon.answers = [(400, {"errors": [{"code": "InvalidInput", "message": refusal}]})]
    api("POST", f"/orders/{ORDER_ID}/shipments", shipment(lines=[{"order_item_id": TENT, "quantity": 2}]))

    run_worker()

    (rejected,) = shipments(api)
    assert rejected["status"] == "rejected"
    assert rejected["reason"] == {"code": "InvalidInput", "message": refusal, "amazon_status": 400}
    assert queued() == []
    assert [e["detail-type"] for e in bus_events()] == ["Amazon Shipment Rejected"]
    status, _ = api(
        "POST",
        f"/orders/{ORDER_ID}/shipments",
        shipment(lines=[{"order_item_id": TENT, "quantity": 2}], tracking_number="JD014600006281230072"),
    )
    assert status == 202


def test_a_revoked_authorisation_pauses_the_account_and_the_shipment_waits_with_a_reason(api, amazon, order, account):
    amazon.revoked = True
    api("POST", f"/orders/{ORDER_ID}/shipments", shipment())

    run_worker()

    (waiting,) = shipments(api)
    assert waiting["status"] == "submitted"
    assert waiting["reason"]["code"] == "authorisation_rejected"
    assert api("GET", f"/accounts/{account['id']}")[1]["authorisation"]["status"] == "rejected"
    assert [m["attempt"] for m in queued(wait_seconds=5)] == [2], "the shipment is tried again later"


# --------------------------------------------------------------------------------------------- refusals


def lines(*pairs: tuple[str, Any]) -> list[dict[str, Any]]:
    return [{"order_item_id": item, "quantity": quantity} for item, quantity in pairs]


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        (shipment(carrier_code="Bobs Couriers"), 400, "carrier_name_required"),
        (shipment(carrier_code="Other"), 400, "carrier_name_required"),
        (shipment(lines=lines(("99999999999999", 1))), 400, "unknown_order_item"),
        (shipment(lines=lines((TENT, 3))), 400, "quantity_exceeds_remaining"),
        (shipment(lines=lines((TENT, 1), (TENT, 1))), 400, "duplicate_order_item"),
        (shipment(lines=lines((TENT, 0))), 400, "validation_error"),
        (shipment(lines=lines((TENT, "1"))), 400, "validation_error"),
        (shipment(lines=[]), 400, "validation_error"),
        (shipment(ship_date="2026-11-29T10:30:00"), 400, "invalid_ship_date"),
        (shipment(ship_date="yesterday"), 400, "invalid_ship_date"),
        (shipment(ship_date="2099-01-01T00:00:00Z"), 400, "invalid_ship_date"),
        (shipment(tracking_number="JD01\u000746"), 400, "invalid_tracking_number"),
        (shipment(tracking_number="x" * 101), 400, "validation_error"),
        (shipment(tracking_number=""), 400, "validation_error"),
        (shipment(shipping_method=None), 400, "validation_error"),
        (shipment(carrier_name="x" * 101, carrier_code="BOBS"), 400, "validation_error"),
        (shipment(shipment_reference="two words"), 400, "invalid_shipment_reference"),
        (shipment(surprise=True), 400, "validation_error"),
    ],
)
def test_bad_input_is_refused_and_nothing_is_written_or_queued(
    api, amazon, order, dynamodb, table_name, body, status, code
):
    before = all_items(dynamodb, table_name)

    got_status, got = api("POST", f"/orders/{ORDER_ID}/shipments", body)

    assert (got_status, got["error"]["code"]) == (status, code), got
    assert all_items(dynamodb, table_name) == before
    assert queued() == []


def test_a_body_that_is_not_an_object_or_not_json_is_refused(api, amazon, order):
    assert api("POST", f"/orders/{ORDER_ID}/shipments", raw_body="[]")[0] == 400
    assert api("POST", f"/orders/{ORDER_ID}/shipments", raw_body="{")[1]["error"]["code"] == "invalid_json"


def test_an_idempotency_key_that_contradicts_the_shipment_reference_is_refused(api, amazon, order):
    status, body = api(
        "POST",
        f"/orders/{ORDER_ID}/shipments",
        shipment(shipment_reference="a"),
        headers={"Content-Type": "application/json", "Idempotency-Key": "b"},
    )

    assert (status, body["error"]["code"]) == (400, "idempotency_key_mismatch")


def test_a_cancelled_order_cannot_be_despatched(api, amazon, account, dynamodb, table_name):
    store_order(account, status="cancelled", amazon_status="Canceled")
    before = all_items(dynamodb, table_name)

    status, body = api("POST", f"/orders/{ORDER_ID}/shipments", shipment())

    assert (status, body["error"]["code"]) == (409, "order_not_ready")
    assert all_items(dynamodb, table_name) == before


def test_another_clients_order_is_not_found_and_its_shipments_are_not_shown(api, amazon, order):
    api("POST", f"/orders/{ORDER_ID}/shipments", shipment())

    assert api("POST", f"/orders/{ORDER_ID}/shipments", shipment(), client_id="globex")[0] == 404
    assert api("GET", f"/orders/{ORDER_ID}/shipments", client_id="globex")[0] == 404
    assert api("GET", "/orders/202-0000000-0000009/shipments")[0] == 404
    assert api("GET", "/orders/not-an-order/shipments")[0] == 400
    assert len(queued()) == 1


def test_an_admin_acts_for_a_client_with_client_id(api, amazon, order):
    status, body = api(
        "POST",
        f"/orders/{ORDER_ID}/shipments",
        shipment(),
        client_id=None,
        admin=True,
        query={"client_id": "acme-outdoor"},
    )

    assert status == 202 and body["status"] == "submitted"


# ------------------------------------------------------------------------------------------- the audit trail


def test_the_audit_trail_pages_in_submission_order(api, amazon, order):
    api("POST", f"/orders/{ORDER_ID}/shipments", shipment(lines=lines((TENT, 1))))
    api("POST", f"/orders/{ORDER_ID}/shipments", shipment(lines=lines((TENT, 1)), tracking_number="JD2"))
    api("POST", f"/orders/{ORDER_ID}/shipments", shipment(lines=lines((MAT, 1)), tracking_number="JD3"))

    status, first = api("GET", f"/orders/{ORDER_ID}/shipments", query={"limit": "2"})
    _, second = api("GET", f"/orders/{ORDER_ID}/shipments", query={"limit": "2", "next_token": first["next_token"]})

    assert status == 200
    ids = [s["shipment_id"][-2:] for s in first["items"] + second["items"]]
    assert ids == ["S1", "S2", "S3"]
    assert second["next_token"] is None


def test_a_next_token_of_another_orders_list_is_refused(api, amazon, account, order):
    store_order(account, "202-0000000-0000002")
    for n in (1, 2):
        api("POST", f"/orders/{ORDER_ID}/shipments", shipment(lines=lines((TENT, 1)), tracking_number=f"JD{n}"))
    _, page = api("GET", f"/orders/{ORDER_ID}/shipments", query={"limit": "1"})

    status, body = api("GET", "/orders/202-0000000-0000002/shipments", query={"next_token": page["next_token"]})

    assert (status, body["error"]["code"]) == (400, "invalid_next_token")


# ------------------------------------------------------------------------------------------------ the template


def test_the_shipment_queue_is_a_standard_queue_so_retries_can_be_delayed_per_message():
    queue = resources("AWS::SQS::Queue")["ShipmentQueue"]["Properties"]

    assert not queue.get("FifoQueue")
    assert queue["RedrivePolicy"]["deadLetterTargetArn"] == {"Fn::GetAtt": ["ShipmentDLQ", "Arn"]}
    assert (
        queue["VisibilityTimeout"]
        >= 6 * resources("AWS::Serverless::Function")["ShipmentWorkerFunction"]["Properties"]["Timeout"]
    )
    (trigger,) = [t for t in queue_triggers() if t.queue == "ShipmentQueue"]
    assert (trigger.function, trigger.reports_failures) == ("ShipmentWorkerFunction", True)


def test_only_the_api_and_the_shipment_worker_may_send_to_the_shipment_queue():
    senders = {
        logical_id
        for logical_id, function in resources("AWS::Serverless::Function").items()
        for policy in function["Properties"].get("Policies", [])
        if isinstance(policy, dict)
        for statement in policy.get("Statement", [])
        if "sqs:SendMessage" in json.dumps(statement["Action"])
        and {"Fn::GetAtt": ["ShipmentQueue", "Arn"]}
        in (statement["Resource"] if isinstance(statement["Resource"], list) else [statement["Resource"]])
    }
    assert senders == {"ApiFunction", "ShipmentWorkerFunction"}
    assert function_environment("ShipmentWorkerFunction")["SHIPMENT_QUEUE_URL"] == {"Ref": "ShipmentQueue"}


# ------------------------------------------------------------------------------------------- the repository


def test_two_shipments_written_from_the_same_ledger_cannot_both_be_stored(api, amazon, order):
    from oms_amazon import wiring

    _, body = api("POST", f"/orders/{ORDER_ID}/shipments", shipment(lines=lines((TENT, 1))))
    store = wiring.container().shipment_store
    stored = store.get("acme-outdoor", ORDER_ID, 1)
    ledger = store.ledger("acme-outdoor", ORDER_ID)
    assert ledger.sequence_of(body["package_reference_id"]) == 1

    def another(reference: str) -> Any:
        from dataclasses import replace

        return replace(stored, sequence=2, package_reference_id=reference, fingerprint=reference)

    assert store.create(another("111"), ledger=ledger.with_shipment("111", 2)) is True
    assert store.create(another("222"), ledger=ledger.with_shipment("222", 2)) is False
    assert [s.package_reference_id for s in store.of_order("acme-outdoor", ORDER_ID)][1:] == ["111"]


def test_a_final_status_from_a_message_that_lost_its_token_is_not_written_and_emits_nothing(
    api, amazon, order, dynamodb, table_name
):
    from oms_amazon import wiring

    api("POST", f"/orders/{ORDER_ID}/shipments", shipment())
    store = wiring.container().shipment_store
    stored = store.get("acme-outdoor", ORDER_ID, 1)
    done = stored.finished("confirmed", None, datetime.now(UTC))

    assert store.finish(done, token="not-the-token", event="Amazon Shipment Confirmed").saved is False
    assert store.record_attempt(done, token="not-the-token") is False
    assert store.get("acme-outdoor", ORDER_ID, 1) == stored
    assert not [i for i in all_items(dynamodb, table_name) if i["SK"]["S"].startswith("OUTBOX#")]
