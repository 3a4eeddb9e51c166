"""Job messages are strict pydantic models: what the producers send parses back to the same message; a
missing key, a key of no job, a value of the wrong type or an unknown job kind is refused, and the
refusal names the place, never the value (oms_amazon.batch logs it)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from oms_amazon.batch import problems
from oms_amazon.domain.jobs import ImportJob, Job
from oms_amazon.services.shipments import ShipmentJob
from pydantic import BaseModel, ValidationError

pytestmark = pytest.mark.unit

NOW = datetime.now(UTC)
CANARY = "Atzr|IwEBI-job-message-canary-never-logged"

STOCK_SYNC = {"job": "stock_sync", "client_id": "acme", "account_id": "acc-1", "run_id": "20260101T000000-abc123"}
IMPORT = {
    "job": "order_import",
    "client_id": "acme",
    "merchant_id": "A2SELLERUK01",
    "region": "eu",
    "trigger": "schedule",
}
SHIPMENT = {
    "job": "confirm_shipment",
    "client_id": "acme",
    "amazon_order_id": "202-0000000-0000001",
    "sequence": 1,
    "token": "5f2b8c9d0e1a2b3c",
    "attempt": 2,
}
MODELS: list[tuple[type[BaseModel], dict[str, Any]]] = [(Job, STOCK_SYNC), (ImportJob, IMPORT), (ShipmentJob, SHIPMENT)]
IDS = ["stock_sync", "order_import", "confirm_shipment"]


def parse(model: type[BaseModel], body: dict[str, Any]) -> Any:
    """As the worker does: from the message's text."""
    return model.model_validate_json(json.dumps(body))


def refusal(model: type[BaseModel], body: dict[str, Any]) -> list[str]:
    with pytest.raises(ValidationError) as refused:
        parse(model, body)
    return problems(refused.value)


@pytest.mark.parametrize(("model", "body"), MODELS, ids=IDS)
def test_a_valid_message_parses_back_to_what_the_producer_sent(model: type[BaseModel], body: dict[str, Any]) -> None:
    assert parse(model, body).to_message() == body


@pytest.mark.parametrize(("model", "body"), MODELS, ids=IDS)
@pytest.mark.parametrize("key", ["job", "client_id"])
def test_a_message_missing_a_key_is_refused(model: type[BaseModel], body: dict[str, Any], key: str) -> None:
    assert refusal(model, {k: v for k, v in body.items() if k != key}) == [f"{key}: Field required"]


@pytest.mark.parametrize(
    ("model", "body", "key"),
    [(Job, STOCK_SYNC, "account_id"), (ShipmentJob, SHIPMENT, "sequence"), (ImportJob, IMPORT, "trigger")],
)
def test_each_jobs_own_required_keys_are_required(model: type[BaseModel], body: dict[str, Any], key: str) -> None:
    assert refusal(model, {k: v for k, v in body.items() if k != key}) == [f"{key}: Field required"]


@pytest.mark.parametrize(("model", "body"), MODELS, ids=IDS)
def test_a_message_with_a_key_of_no_job_is_refused_naming_the_key_not_its_value(
    model: type[BaseModel], body: dict[str, Any]
) -> None:
    found = refusal(model, {**body, "refresh_token": CANARY})

    assert found == ["refresh_token: Extra inputs are not permitted"]
    assert CANARY not in " ".join(found)


@pytest.mark.parametrize(
    ("model", "body", "key", "value"),
    [
        (Job, STOCK_SYNC, "account_id", 17),
        (Job, STOCK_SYNC, "run_id", ["20260101T000000-abc123"]),
        (ImportJob, IMPORT, "order_ids", "202-0000000-0000001"),
        (ImportJob, IMPORT, "account_id", False),
        (ShipmentJob, SHIPMENT, "sequence", "1"),
        (ShipmentJob, SHIPMENT, "attempt", 2.5),
        (ShipmentJob, SHIPMENT, "client_id", None),
    ],
)
def test_a_value_of_the_wrong_type_is_refused_not_coerced(
    model: type[BaseModel], body: dict[str, Any], key: str, value: Any
) -> None:
    (problem,) = refusal(model, {**body, key: value})

    assert problem.startswith(f"{key}: Input should be a valid ")


@pytest.mark.parametrize(("model", "body"), MODELS, ids=IDS)
def test_a_job_kind_the_worker_does_not_take_is_refused(model: type[BaseModel], body: dict[str, Any]) -> None:
    (problem,) = refusal(model, {**body, "job": "delete_everything"})

    assert problem.startswith("job: Input should be ")


def test_the_stock_sync_worker_takes_its_three_kinds_of_job() -> None:
    for kind in ("stock_sync", "reconcile", "refresh_listings"):
        assert parse(Job, {**STOCK_SYNC, "job": kind, "run_id": None}).kind == kind


def test_an_import_job_of_the_older_per_account_shape_still_parses() -> None:
    job = parse(ImportJob, {"job": "order_import", "client_id": "acme", "account_id": "acc-1", "trigger": "manual"})

    assert (job.merchant_id, job.region, job.account_id) == ("", "", "acc-1")


@pytest.mark.parametrize(
    "changes",
    [{"region": ""}, {"merchant_id": ""}, {"region": "europe"}],
    ids=["no region", "no seller", "no such region"],
)
def test_an_import_job_names_its_seller_and_region(changes: dict[str, str]) -> None:
    refusal(ImportJob, {**IMPORT, **changes})


def test_a_backfill_window_round_trips_and_must_name_its_time_zone() -> None:
    since, until = NOW - timedelta(days=3), NOW - timedelta(minutes=2)
    body = {
        **IMPORT,
        "trigger": "backfill",
        "account_id": "acc-1",
        "since": since.isoformat(),
        "until": until.isoformat(),
    }

    job = parse(ImportJob, body)

    assert (job.since, job.until) == (since, until)
    assert job.to_message() == body
    naive = {**body, "since": since.replace(tzinfo=None).isoformat()}
    assert refusal(ImportJob, naive) == ["since: Input should have timezone info"]


def test_a_refusal_shows_no_value_even_as_text() -> None:
    with pytest.raises(ValidationError) as refused:
        parse(ShipmentJob, {**SHIPMENT, "token": 12345, "client_id": CANARY, "note": CANARY})

    assert CANARY not in str(refused.value)
    assert "12345" not in str(refused.value)


def test_jobs_are_values_that_do_not_change() -> None:
    job = parse(Job, STOCK_SYNC)

    with pytest.raises(ValidationError):
        job.client_id = "another"  # type: ignore[misc]
