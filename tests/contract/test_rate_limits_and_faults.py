"""Amazon's token buckets when enforced (time-scaled), and injected failures and delays."""

from __future__ import annotations

import time

import httpx
import pytest

from tests.contract.conftest import SELLER_ID, UK, Amazon, v0_order
from tests.polling import eventually

pytestmark = pytest.mark.integration

# The usage plans of the SP-API reference README §5 and §8 (rate per second, burst), for the operations the simulator serves.
README_PLANS = {
    "ordersV0.getOrders": (0.0167, 20),
    "ordersV0.getOrder": (0.5, 30),
    "ordersV0.getOrderItems": (0.5, 30),
    "ordersV0.confirmShipment": (2, 10),
    "orders_2026-01-01.searchOrders": (0.0056, 20),
    "orders_2026-01-01.getOrder": (0.5, 30),
    "feeds_2021-06-30.createFeedDocument": (0.5, 15),
    "feeds_2021-06-30.createFeed": (0.0083, 15),
    "feeds_2021-06-30.getFeed": (2, 15),
    "feeds_2021-06-30.getFeedDocument": (0.0222, 10),
    "listingsItems_2021-08-01.getListingsItem": (5, 10),
    "listingsItems_2021-08-01.patchListingsItem": (5, 5),
    "listingsItems_2021-08-01.searchListingsItems": (5, 5),
    "sellers.getMarketplaceParticipations": (0.016, 15),
    "reports_2021-06-30.createReport": (0.0167, 15),
    "reports_2021-06-30.getReport": (2, 15),
    "reports_2021-06-30.getReportDocument": (0.0167, 15),
}

PARTICIPATIONS = ("sellers", "getMarketplaceParticipations", "GET", "/sellers/v1/marketplaceParticipations")


def test_the_enforced_usage_plans_are_those_amazon_documents(amazon: Amazon) -> None:
    plans = amazon.control("GET", "/_sim/rate-limits")["plans"]
    assert {key: (plans[key]["rate"], plans[key]["burst"]) for key in README_PLANS} == README_PLANS


def test_without_enforcement_nothing_is_throttled(seller: Amazon) -> None:
    for _ in range(20):
        seller.sp(*PARTICIPATIONS, expect=200)


def test_an_empty_bucket_answers_429_after_the_burst(seller: Amazon) -> None:
    seller.control("POST", "/_sim/rate-limits", {"enforce": True, "speedup": 1})
    for _ in range(15):
        seller.sp(*PARTICIPATIONS, expect=200)
    throttled = seller.sp(*PARTICIPATIONS, expect=429)
    assert throttled.json()["errors"][0]["code"] == "QuotaExceeded"
    calls = seller.calls()
    assert calls["throttled"] == 1
    assert calls["counts"]["getMarketplaceParticipations"] == 16


def test_buckets_are_per_operation_and_per_seller(seller: Amazon) -> None:
    seller.add_seller("A2OTHERSELLER9", "Atzr|local-contract-test-refresh-token-02", ("UK",))
    other = seller.token_for("Atzr|local-contract-test-refresh-token-02")
    seller.control("POST", "/_sim/rate-limits", {"enforce": True, "speedup": 1})
    for _ in range(15):
        seller.sp(*PARTICIPATIONS, expect=200)
    seller.sp(*PARTICIPATIONS, expect=429)
    seller.sp(*PARTICIPATIONS, expect=200, token=other)
    seller.sp(
        "ordersV0",
        "getOrders",
        "GET",
        "/orders/v0/orders",
        expect=200,
        params={"MarketplaceIds": UK, "CreatedAfter": "2025-01-01T00:00:00Z"},
    )


def test_buckets_refill_at_the_documented_rate_in_simulated_time(seller: Amazon) -> None:
    # getMarketplaceParticipations: 0.016 per second, burst 15: a token takes 62.5 Amazon seconds. The burst is
    # spent at speedup 1 (no token can come back however slow the machine), Amazon's clock then runs 100 times
    # faster until a token's worth has passed, and slows to 1 again before the calls that count it.
    seller.control("POST", "/_sim/rate-limits", {"enforce": True, "speedup": 1})
    for _ in range(15):
        seller.sp(*PARTICIPATIONS, expect=200)
    seller.sp(*PARTICIPATIONS, expect=429)
    seller.control("POST", "/_sim/rate-limits", {"enforce": True, "speedup": 100})
    eventually(lambda: seller.calls()["simulated_seconds"] >= 63, what="a token's worth of Amazon seconds")
    seller.control("POST", "/_sim/rate-limits", {"enforce": True, "speedup": 1})
    seller.sp(*PARTICIPATIONS, expect=200)
    seller.sp(*PARTICIPATIONS, expect=429)
    calls = seller.calls()
    assert 62.5 <= calls["simulated_seconds"] < 125, "one token's worth, not two"
    assert calls["throttled"] == 2


def test_a_usage_plan_can_be_overridden_for_a_test(seller: Amazon) -> None:
    seller.control(
        "POST",
        "/_sim/rate-limits",
        {"enforce": True, "overrides": {"getMarketplaceParticipations": {"rate": 0.001, "burst": 1}}},
    )
    seller.sp(*PARTICIPATIONS, expect=200)
    response = seller.sp(*PARTICIPATIONS, expect=429)
    assert "x-amzn-RateLimit-Limit" not in response.headers


def test_an_injected_500_fails_the_named_operation_the_given_number_of_times(seller: Amazon) -> None:
    seller.control(
        "POST",
        "/_sim/faults",
        {"operation": "getMarketplaceParticipations", "status": 500, "rate": 1, "count": 2},
        expect=201,
    )
    body = seller.sp(*PARTICIPATIONS, expect=500).json()
    assert body["errors"][0]["code"] == "InternalFailure"
    seller.sp(*PARTICIPATIONS, expect=500)
    seller.sp(*PARTICIPATIONS, expect=200)
    assert seller.control("GET", "/_sim/faults")["faults"] == []


@pytest.mark.parametrize("status", [429, 500, 503])
def test_injected_failures_have_amazons_error_shape_for_every_model(seller: Amazon, status: int) -> None:
    seller.add_orders(v0_order())
    seller.control("POST", "/_sim/faults", {"operation": "*", "status": status, "rate": 1}, expect=201)
    seller.sp("ordersV0", "getOrder", "GET", "/orders/v0/orders/202-0000001-0000001", expect=status)
    seller.sp("orders_2026-01-01", "getOrder", "GET", "/orders/2026-01-01/orders/202-0000001-0000001", expect=status)
    seller.sp("feeds_2021-06-30", "getFeed", "GET", "/feeds/2021-06-30/feeds/1", expect=status)
    seller.sp(
        "listingsItems_2021-08-01",
        "getListingsItem",
        "GET",
        f"/listings/2021-08-01/items/{SELLER_ID}/X",
        expect=status,
        params={"marketplaceIds": UK},
    )
    seller.sp(*PARTICIPATIONS, expect=status)


def test_a_qualified_operation_name_targets_one_api(seller: Amazon) -> None:
    seller.add_orders(v0_order())
    seller.control("POST", "/_sim/faults", {"operation": "orders_2026-01-01.getOrder", "status": 503}, expect=201)
    seller.sp("ordersV0", "getOrder", "GET", "/orders/v0/orders/202-0000001-0000001", expect=200)
    seller.sp("orders_2026-01-01", "getOrder", "GET", "/orders/2026-01-01/orders/202-0000001-0000001", expect=503)


def test_a_fault_rate_of_zero_never_fires(seller: Amazon) -> None:
    seller.control("POST", "/_sim/faults", {"operation": "*", "status": 500, "rate": 0}, expect=201)
    for _ in range(10):
        seller.sp(*PARTICIPATIONS, expect=200)


def test_a_seeded_partial_fault_rate_fails_some_calls(seller: Amazon) -> None:
    seller.config(fault_seed=7)
    seller.control("POST", "/_sim/faults", {"operation": "*", "status": 503, "rate": 0.5}, expect=201)
    statuses = [
        seller.client.get(
            "/sellers/v1/marketplaceParticipations", headers={"x-amz-access-token": seller.access_token}
        ).status_code
        for _ in range(40)
    ]
    assert 5 < statuses.count(503) < 35
    assert set(statuses) == {200, 503}


def test_a_seed_set_after_the_faults_makes_the_draws_repeatable_too(seller: Amazon) -> None:
    seller.control("POST", "/_sim/faults", {"operation": "*", "status": 503, "rate": 0.5}, expect=201)

    def draws() -> list[int]:
        seller.config(fault_seed=11)
        headers = {"x-amz-access-token": seller.access_token}
        return [
            seller.client.get("/sellers/v1/marketplaceParticipations", headers=headers).status_code for _ in range(20)
        ]

    first = draws()
    assert set(first) == {200, 503}
    assert draws() == first


def test_a_fault_after_processing_loses_the_answer_but_keeps_the_effect(seller: Amazon) -> None:
    seller.add_orders(v0_order())
    seller.control(
        "POST",
        "/_sim/faults",
        {"operation": "confirmShipment", "status": 500, "count": 1, "phase": "after"},
        expect=201,
    )
    body = {
        "marketplaceId": UK,
        "packageDetail": {
            "packageReferenceId": "1",
            "carrierCode": "DPD",
            "trackingNumber": "T1",
            "shipDate": "2025-03-02T10:00:00Z",
            "orderItems": [{"orderItemId": "10000000000001", "quantity": 2}],
        },
    }
    path = "/orders/v0/orders/202-0000001-0000001/shipmentConfirmation"
    seller.sp("ordersV0", "confirmShipment", "POST", path, expect=500, json=body)
    assert len(seller.order("202-0000001-0000001")["Shipments"]) == 1
    seller.sp("ordersV0", "confirmShipment", "POST", path, expect=204, json=body)  # the retry is harmless
    assert len(seller.order("202-0000001-0000001")["Shipments"]) == 1


def test_a_delay_slows_the_answer_like_a_timeout(seller: Amazon) -> None:
    seller.control(
        "POST",
        "/_sim/faults",
        {"operation": "getMarketplaceParticipations", "delay_seconds": 0.3, "count": 1},
        expect=201,
    )
    started = time.monotonic()
    seller.sp(*PARTICIPATIONS, expect=200)
    assert time.monotonic() - started >= 0.3
    seller.control(
        "POST",
        "/_sim/faults",
        {"operation": "getMarketplaceParticipations", "delay_seconds": 0.5, "count": 1},
        expect=201,
    )
    with httpx.Client(base_url=seller.server.url, timeout=0.1) as impatient, pytest.raises(httpx.ReadTimeout):
        impatient.get(
            "/sellers/v1/marketplaceParticipations", headers={"x-amz-access-token": seller.access_token or ""}
        )


def test_lwa_can_be_made_to_fail(amazon: Amazon) -> None:
    amazon.add_seller()
    amazon.control("POST", "/_sim/faults", {"operation": "lwaToken", "status": 503, "count": 1}, expect=201)
    failed = amazon.lwa(grant_type="refresh_token", refresh_token="Atzr|local-contract-test-refresh-token-01")
    assert failed.status_code == 503
    assert amazon.token_for()


def test_star_faults_leave_lwa_alone(amazon: Amazon) -> None:
    amazon.add_seller()
    amazon.control("POST", "/_sim/faults", {"operation": "*", "status": 500}, expect=201)
    assert amazon.token_for()


def test_faults_can_be_cleared(seller: Amazon) -> None:
    seller.control("POST", "/_sim/faults", {"operation": "*", "status": 500}, expect=201)
    seller.control("DELETE", "/_sim/faults")
    seller.sp(*PARTICIPATIONS, expect=200)


@pytest.mark.parametrize(
    "fault",
    [
        {"operation": "getEverything", "status": 500},
        {"operation": "*", "status": 404},
        {"operation": "*", "status": 500, "rate": 2},
        {"operation": "*", "status": 500, "count": 0},
        {"operation": "*"},
        {"operation": "*", "status": 500, "phase": "during"},
        {"operation": "*", "delay_seconds": -1},
        ["not", "an", "object"],
        {"operation": "getOrders", "kind": "fatal"},
        {"operation": "*", "kind": "fatal"},
        {"operation": "createFeed", "kind": "fatal", "status": 500},
        {"operation": "createFeed", "kind": "fatal", "phase": "after"},
        {"operation": "createReport", "kind": "fatal", "message": " "},
        {"operation": "createReport", "kind": "broken"},
        {"operation": "createReport", "status": 500, "message": "why"},
    ],
)
def test_a_malformed_fault_is_refused_with_a_message(amazon: Amazon, fault: object) -> None:
    body = amazon.control("POST", "/_sim/faults", fault, expect=400)
    assert body["error"]["message"]


def test_a_fatal_fault_is_listed_with_its_kind_and_reason(amazon: Amazon) -> None:
    fault = {"operation": "createReport", "kind": "fatal", "message": "No data.", "count": 2}
    created = amazon.control("POST", "/_sim/faults", fault, expect=201)
    assert (created["kind"], created["message"], created["remaining"], created["status"]) == (
        "fatal",
        "No data.",
        2,
        None,
    )
    assert amazon.control("GET", "/_sim/faults")["faults"] == [created]
