"""Stock sync end to end (SPEC §5): the API, the tick, the FIFO queue and the worker on the local
stack, against the SP-API simulator."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from local.template import schedules
from tests.e2e.conftest import SELLER, SELLER_TOKEN

pytestmark = pytest.mark.e2e

ACME = {"X-Client-Id": "acme-outdoor"}


def listed(sim: httpx.Client, marketplace: str, skus: dict[str, int]) -> None:
    items = [{"sku": sku, "product_type": "PRODUCT", "quantity": quantity} for sku, quantity in skus.items()]
    response = sim.put(f"/_sim/sellers/{SELLER}/listings", json={"marketplace": marketplace, "items": items})
    assert response.status_code == 200, response.text


def amazon_quantities(sim: httpx.Client, marketplace: str) -> dict[str, int]:
    items = sim.get(f"/_sim/sellers/{SELLER}/listings", params={"marketplace": marketplace}).json()["items"]
    return {item["sku"]: item["quantity"] for item in items}


def connect(http: httpx.Client, marketplace: str = "UK", **fields: Any) -> dict[str, Any]:
    body = {
        "merchant_id": SELLER,
        "marketplace": marketplace,
        "auth_token": SELLER_TOKEN,
        "active": True,
        "sync_stock": True,
        **fields,
    }
    response = http.post("/accounts", json=body, headers=ACME)
    assert response.status_code == 201, response.text
    return response.json()


def products(http: httpx.Client, items: list[dict[str, Any]]) -> None:
    response = http.post("/products/batch", json={"products": items}, headers=ACME)
    assert response.status_code in (200, 201), response.text


def sync(stack, http: httpx.Client, account: dict[str, Any]) -> dict[str, Any]:
    queued = http.post(f"/accounts/{account['id']}/stock-sync", headers=ACME)
    assert queued.status_code == 202, queued.text
    assert stack.runner.wait_idle(120)
    run = http.get(f"/accounts/{account['id']}/stock-sync-runs/{queued.json()['run_id']}", headers=ACME)
    assert run.status_code == 200, run.text
    return run.json()


def calls(sim: httpx.Client) -> dict[str, int]:
    return sim.get("/_sim/calls").json()["counts"]


CATALOGUE = [
    {"sku": "TENT-2P", "quantity_available": 7},
    {"sku": "MAT-BLUE", "quantity_available": 3},
    {"sku": "stove-mini", "quantity_available": 12},
    {"sku": "LAMP", "quantity_available": -2},
    {"sku": "CAMP-KIT", "components": [{"sku": "TENT-2P", "quantity": 1}, {"sku": "MAT-BLUE", "quantity": 2}]},
]
LISTINGS = {"TENT-2P": 0, "MAT-BLUE": 0, "STOVE-MINI": 0, "LAMP": 5, "CAMP-KIT": 0}


def test_a_clients_products_reach_amazon_and_the_case_mismatch_is_reported(stack, http, sim):
    listed(sim, "UK", LISTINGS)
    account = connect(http, include_bundles_in_stock_sync=True)
    products(http, CATALOGUE)

    run = sync(stack, http, account)

    assert run["status"] == "done"
    assert amazon_quantities(sim, "UK") == {"TENT-2P": 7, "MAT-BLUE": 3, "STOVE-MINI": 0, "LAMP": 0, "CAMP-KIT": 1}
    assert run["skipped"] == {"sku_case_mismatch": 1}
    assert run["skipped_skus"]["sku_case_mismatch"] == ["stove-mini"]
    report = http.get(f"/accounts/{account['id']}/sku-report", headers=ACME).json()
    assert report["case_mismatches"] == [
        {
            "amazon_sku": "STOVE-MINI",
            "oms_sku": "stove-mini",
            "proposed_alias": {"amazon_sku": "STOVE-MINI", "oms_sku": "stove-mini"},
        }
    ]
    assert http.get(f"/accounts/{account['id']}", headers=ACME).json()["last_stock_sync"]["run_id"] == run["run_id"]


def test_bundles_stay_out_unless_asked_for_and_rules_shape_the_figures(stack, http, sim):
    listed(sim, "UK", LISTINGS)
    account = connect(http, stock_rules={"buffer": 1, "zero_at_or_below": 2, "max_quantity": 5})
    products(http, CATALOGUE)

    run = sync(stack, http, account)

    assert run["skipped"]["bundle_excluded"] == 1
    assert amazon_quantities(sim, "UK")["CAMP-KIT"] == 0, "an excluded bundle is left untouched"
    assert amazon_quantities(sim, "UK")["TENT-2P"] == 5  # 7 - 1 buffer, capped at 5
    assert amazon_quantities(sim, "UK")["MAT-BLUE"] == 0  # 3 - 1 = 2, at or below 2


def test_unchanged_skus_cost_no_amazon_call(stack, http, sim):
    listed(sim, "UK", LISTINGS)
    account = connect(http)
    products(http, CATALOGUE)
    sync(stack, http, account)
    before = calls(sim)

    again = sync(stack, http, account)

    assert again["skus_sent"] == 0 and again["skus_unchanged"] == 3
    assert calls(sim) == before


def test_a_small_change_goes_by_patch_and_a_large_one_by_one_feed(stack, http, sim):
    listed(sim, "UK", LISTINGS)
    account = connect(http)
    products(http, CATALOGUE)
    sync(stack, http, account)
    http.put("/products/TENT-2P", json={"quantity_available": 2}, headers=ACME)
    before = calls(sim)

    run = sync(stack, http, account)

    after = calls(sim)
    assert run["transport"] == "patch" and run["skus_sent"] == 1
    assert after.get("patchListingsItem", 0) - before.get("patchListingsItem", 0) == 1
    assert after.get("createFeed", 0) == before.get("createFeed", 0)
    assert amazon_quantities(sim, "UK")["TENT-2P"] == 2


def test_two_marketplace_accounts_of_one_seller_get_the_lowest_figure_one_feed_each(stack, http, sim):
    extra = {f"PEG-{n}": 0 for n in range(5)}
    listed(sim, "UK", {**LISTINGS, **extra})
    listed(sim, "DE", {"TENT-2P": 0, "MAT-BLUE": 0, "LAMP": 0, "CAMP-KIT": 0, **extra})
    uk = connect(http)
    connect(http, "DE", stock_rules={"max_quantity": 4})
    products(http, [*CATALOGUE, *({"sku": sku, "quantity_available": 1} for sku in extra)])

    run = sync(stack, http, uk)

    assert calls(sim)["createFeed"] == 2, "one feed per marketplace: Amazon refuses a feed naming two"
    feeds = sim.get(f"/_sim/sellers/{SELLER}/feeds").json()["feeds"]
    assert sorted(tuple(f["marketplaceIds"]) for f in feeds) == [("A1F83G8C2ARO7P",), ("A1PA6795UKMFR9",)]
    assert amazon_quantities(sim, "UK")["TENT-2P"] == amazon_quantities(sim, "DE")["TENT-2P"] == 4
    assert [c["sku"] for c in run["conflicts"]] == ["TENT-2P"]


def test_the_scheduled_tick_syncs_due_accounts_once_even_when_ticks_overlap(stack, http, sim):
    listed(sim, "UK", LISTINGS)
    account = connect(http)
    connect(http, "DE", active=False)
    products(http, CATALOGUE)
    (tick,) = [s for s in schedules() if s.function == "StockSyncTickFunction"]

    stack.runner.fire(tick)
    stack.runner.fire(tick)
    assert stack.runner.wait_idle(120)

    runs = http.get(f"/accounts/{account['id']}/stock-sync-runs", headers=ACME).json()["items"]
    assert [r["trigger"] for r in runs] == ["schedule"]
    assert (runs[0]["status"], runs[0]["skus_sent"]) == ("done", 3)


def test_amazon_throttling_and_errors_are_retried_and_no_push_is_lost(stack, http, sim):
    listed(sim, "UK", LISTINGS)
    account = connect(http)
    products(http, CATALOGUE)
    # 429s on the operations Amazon refills quickly; createReport refills once a minute.
    for operation in ("getReport", "createFeedDocument", "getFeed"):
        sim.post("/_sim/faults", json={"operation": operation, "status": 429, "rate": 0.5, "count": 3})
    sim.post("/_sim/faults", json={"operation": "createFeed", "status": 503, "rate": 1, "count": 2})

    run = sync(stack, http, account)

    assert run["status"] == "done", run
    assert amazon_quantities(sim, "UK")["TENT-2P"] == 7


def test_a_rejected_authorisation_pauses_the_sellers_accounts(stack, http, sim):
    listed(sim, "UK", LISTINGS)
    account = connect(http)
    products(http, CATALOGUE)
    # Activation asked Amazon for the seller's marketplaces, so an access token is cached: revoke it too.
    sim.post(f"/_sim/sellers/{SELLER}/revoke", json={"revoke_access_tokens": True})

    run = sync(stack, http, account)

    assert (run["status"], run["reason"]) == ("failed", "authorisation_rejected")
    now = http.get(f"/accounts/{account['id']}", headers=ACME).json()
    assert now["authorisation"]["status"] == "rejected" and now["next_stock_sync_at"] is None
    assert http.post(f"/accounts/{account['id']}/stock-sync", headers=ACME).status_code == 409


@pytest.mark.parametrize(
    ("fields", "code"), [({"active": False}, "account_inactive"), ({"sync_stock": False}, "stock_sync_disabled")]
)
def test_an_account_that_cannot_sync_is_refused(http, sim, fields, code):
    account = connect(http, **fields)
    response = http.post(f"/accounts/{account['id']}/stock-sync", headers=ACME)
    assert (response.status_code, response.json()["error"]["code"]) == (409, code)


def test_another_clients_runs_are_invisible(stack, http, sim):
    listed(sim, "UK", LISTINGS)
    account = connect(http)
    run = sync(stack, http, account)
    other = {"X-Client-Id": "bluebird-gifts"}
    assert http.get(f"/accounts/{account['id']}/stock-sync-runs/{run['run_id']}", headers=other).status_code == 404
    assert http.post(f"/accounts/{account['id']}/stock-sync", headers=other).status_code == 404
    assert http.get(f"/accounts/{account['id']}/sku-report", headers=other).status_code == 404


def test_deleting_an_account_removes_its_runs_snapshot_scoped_mappings_and_sent_state(stack, http, sim):
    import boto3

    listed(sim, "UK", LISTINGS)
    account = connect(http)
    products(http, CATALOGUE)
    sync(stack, http, account)
    http.post(
        "/courier-mappings",
        json={"amazon_term": "STD UK DOM", "courier_service": "Royal Mail 48", "account_id": account["id"]},
        headers=ACME,
    )
    http.post("/courier-mappings", json={"amazon_term": "STD UK DOM", "courier_service": "Evri"}, headers=ACME)

    assert http.delete(f"/accounts/{account['id']}", headers=ACME).status_code == 204

    table = stack.names["ConnectorTable"]
    items = boto3.client("dynamodb").query(
        TableName=table,
        KeyConditionExpression="PK = :pk",
        ExpressionAttributeValues={":pk": {"S": "CLIENT#acme-outdoor"}},
    )["Items"]
    kinds = sorted({item["SK"]["S"].split("#")[0] for item in items})
    assert kinds == [
        "DELETEDACCOUNT",
        "MAPPING",
        "MAPPINGCHANGES",
        "MAPPINGTERM",
        "PRODUCT",
        "PRODUCT_BATCHES",
        "RATELIMIT",
    ], (
        "only the client-wide mapping (and its change marker), the products (with their batch head), the client's "
        "write bucket and the account's tombstone (until the tick's sweep) remain"
    )
    assert [m["courier_service"] for m in http.get("/courier-mappings", headers=ACME).json()["items"]] == ["Evri"]


# ---- what Amazon refuses and what it produces (SPEC §1.1, §5.4)


def test_amazon_fulfilled_skus_are_skipped_reported_and_never_sent_a_merchant_quantity(stack, http, sim):
    items = [
        {"sku": "TENT-2P", "product_type": "PRODUCT", "quantity": 0},
        {"sku": "MAT-BLUE", "product_type": "PRODUCT", "fulfillment_channel": "AMAZON_EU"},
    ]
    assert sim.put(f"/_sim/sellers/{SELLER}/listings", json={"marketplace": "UK", "items": items}).status_code == 200
    account = connect(http)
    products(http, CATALOGUE[:2])

    run = sync(stack, http, account)

    assert (run["status"], run["skus_sent"], run["skipped"]["fulfilled_by_amazon"]) == ("done", 1, 1)
    listing = sim.get(f"/_sim/sellers/{SELLER}/listings", params={"marketplace": "UK"}).json()["items"]
    mat = next(item for item in listing if item["sku"] == "MAT-BLUE")
    assert [a["fulfillment_channel_code"] for a in mat["fulfillment_availability"]] == ["AMAZON_EU"]
    report = http.get(f"/accounts/{account['id']}/sku-report", headers=ACME).json()
    assert report["fulfilled_by_amazon"] == [{"amazon_sku": "MAT-BLUE", "channel": "AMAZON_EU"}]


def test_the_quantity_is_merged_and_the_sellers_handling_time_survives(stack, http, sim):
    items = [
        {"sku": sku, "product_type": "PRODUCT", "quantity": 0, "lead_time_to_ship_max_days": 4}
        for sku in ("TENT-2P", "MAT-BLUE", "LAMP", "CAMP-KIT", "PEG-1")
    ]
    assert sim.put(f"/_sim/sellers/{SELLER}/listings", json={"marketplace": "UK", "items": items}).status_code == 200
    account = connect(http)
    products(
        http, [*CATALOGUE[:2], {"sku": "LAMP", "quantity_available": 2}, {"sku": "PEG-1", "quantity_available": 9}]
    )

    run = sync(stack, http, account)

    assert run["status"] == "done" and run["transport"] == "feed"
    listing = sim.get(f"/_sim/sellers/{SELLER}/listings", params={"marketplace": "UK"}).json()["items"]
    held = {item["sku"]: item for item in listing}
    assert held["TENT-2P"]["quantity"] == 7 and held["PEG-1"]["quantity"] == 9
    assert {held[sku]["lead_time_to_ship_max_days"] for sku in ("TENT-2P", "MAT-BLUE", "LAMP", "PEG-1")} == {4}


def test_a_seller_with_no_listings_gets_an_empty_snapshot_not_a_dead_letter(stack, http, sim):
    account = connect(http)
    products(http, CATALOGUE[:2])

    run = sync(stack, http, account)

    assert (run["status"], run["skus_sent"], run["skipped"]) == ("done", 0, {"not_on_amazon": 2})
    report = http.get(f"/accounts/{account['id']}/sku-report", headers=ACME).json()
    assert report["listings_taken_at"] is not None and report["missing_on_amazon"] == ["MAT-BLUE", "TENT-2P"]
    dlq = stack.names["StockSyncDLQ"]
    import boto3

    depth = boto3.client("sqs").get_queue_attributes(QueueUrl=dlq, AttributeNames=["ApproximateNumberOfMessages"])
    assert depth["Attributes"]["ApproximateNumberOfMessages"] == "0"


def test_a_fatal_listings_report_fails_the_run_with_amazons_reason_and_keeps_the_last_snapshot(stack, http, sim):
    listed(sim, "UK", LISTINGS)
    account = connect(http)
    products(http, CATALOGUE[:2])
    first = sync(stack, http, account)
    assert first["status"] == "done"
    taken = http.get(f"/accounts/{account['id']}/sku-report", headers=ACME).json()["listings_taken_at"]
    sim.post("/_sim/faults", json={"operation": "createReport", "kind": "fatal", "message": "Seller data unavailable"})

    refresh = http.post(f"/accounts/{account['id']}/listings/refresh", headers=ACME)
    assert refresh.status_code == 202
    assert stack.runner.wait_idle(120)
    later = sync(stack, http, account)

    assert later["status"] == "done", "the previous snapshot still serves"
    report = http.get(f"/accounts/{account['id']}/sku-report", headers=ACME).json()
    assert (report["listings_taken_at"], report["matched"]) == (taken, ["MAT-BLUE", "TENT-2P"])


def test_a_first_fatal_listings_report_fails_the_run_with_amazons_reason(stack, http, sim):
    listed(sim, "UK", LISTINGS)
    account = connect(http)
    products(http, CATALOGUE[:2])
    sim.post("/_sim/faults", json={"operation": "createReport", "kind": "fatal", "message": "Seller data unavailable"})

    run = sync(stack, http, account)

    assert run["status"] == "failed"
    assert run["reason"].startswith("listings_report_failed") and "Seller data unavailable" in run["reason"]


def test_a_report_still_in_preparation_is_polled_by_the_next_run_not_asked_for_again(stack, http, sim, monkeypatch):
    from oms_amazon import wiring

    listed(sim, "UK", LISTINGS)
    account = connect(http)
    products(http, CATALOGUE[:2])
    sim.post("/_sim/config", json={"report_polls_before_done": 2})  # two polls in progress, DONE on the third
    # The listings report is read once a run, not waited for.
    monkeypatch.setattr(wiring.container().stock_sync_worker._snapshots, "_poll_seconds", 0.0)

    first = sync(stack, http, account)
    second = sync(stack, http, account)
    third = sync(stack, http, account)

    assert first["status"] == "failed" and first["reason"].startswith("listings_report_pending")
    assert (second["status"], third["status"]) == ("failed", "done")
    assert calls(sim)["createReport"] == 1


def test_an_alias_makes_a_case_mismatched_sku_sync_and_the_report_lists_the_link(stack, http, sim):
    listed(sim, "UK", {**LISTINGS, "OLD-TENT": 0})
    account = connect(http)
    products(http, CATALOGUE)
    assert sync(stack, http, account)["skipped"]["sku_case_mismatch"] == 1

    proposed = http.get(f"/accounts/{account['id']}/sku-report", headers=ACME).json()["case_mismatches"][0]
    linked = http.put(
        f"/sku-aliases/{proposed['proposed_alias']['amazon_sku']}",
        json={"oms_sku": proposed["proposed_alias"]["oms_sku"]},
        headers=ACME,
    )
    assert linked.status_code == 201, linked.text
    old = http.put("/sku-aliases/OLD-TENT", json={"oms_sku": "TENT-2P", "account_id": account["id"]}, headers=ACME)
    assert old.status_code == 201, old.text
    run = sync(stack, http, account)

    assert "sku_case_mismatch" not in run["skipped"]
    quantities = amazon_quantities(sim, "UK")
    assert (quantities["STOVE-MINI"], quantities["OLD-TENT"], quantities["TENT-2P"]) == (12, 7, 7)
    report = http.get(f"/accounts/{account['id']}/sku-report", headers=ACME).json()
    assert report["case_mismatches"] == []
    assert report["aliased"] == [
        {"amazon_sku": "OLD-TENT", "oms_sku": "TENT-2P"},
        {"amazon_sku": "STOVE-MINI", "oms_sku": "stove-mini"},
    ]


def test_a_sku_amazon_does_not_list_asks_for_new_listings_at_most_hourly_so_a_new_listing_syncs_within_the_hour(
    stack, http, sim, monkeypatch
):
    from datetime import timedelta

    from oms_amazon import wiring
    from oms_amazon.adapters.aws import utc_now

    listed(sim, "UK", {"TENT-2P": 0})
    account = connect(http)
    products(http, CATALOGUE[:2])
    first = sync(stack, http, account)
    assert (first["skus_sent"], first["skipped"]) == (1, {"not_on_amazon": 1})
    listed(sim, "UK", {"TENT-2P": 7, "MAT-BLUE": 0})  # the seller lists MAT-BLUE on Amazon

    within_the_hour = sync(stack, http, account)
    assert within_the_hour["skipped"] == {"not_on_amazon": 1}
    assert calls(sim)["createReport"] == 1, "a report at most hourly per seller and marketplace"

    container = wiring.container()
    monkeypatch.setattr(container, "clock", lambda: utc_now() + timedelta(minutes=61))
    monkeypatch.delitem(vars(container), "stock_sync_worker")  # built again on first use, on that clock
    an_hour_later = sync(stack, http, account)

    assert (an_hour_later["skus_sent"], an_hour_later["skipped"]) == (1, {})
    assert amazon_quantities(sim, "UK")["MAT-BLUE"] == 3
    assert calls(sim)["createReport"] == 2
    again = sync(stack, http, account)  # nothing missing now: no report asked for
    assert (again["skipped"], calls(sim)["createReport"]) == ({}, 2)


def test_ten_run_now_calls_and_ten_listings_refreshes_cost_one_run_and_one_listings_report(stack, http, sim):
    from concurrent.futures import ThreadPoolExecutor

    listed(sim, "UK", LISTINGS)
    account = connect(http)
    products(http, CATALOGUE[:2])
    first = sync(stack, http, account)
    sim.delete("/_sim/calls")

    def post(path: str) -> dict[str, Any]:
        response = http.post(f"/accounts/{account['id']}/{path}", headers=ACME)
        assert response.status_code == 202, response.text
        return dict(response.json())

    # The workers wait until every call is answered, so none has started the run the calls coalesce on.
    with stack.runner.paused(), ThreadPoolExecutor(max_workers=10) as pool:
        runs = list(pool.map(post, ["stock-sync"] * 10))
        refreshes = list(pool.map(post, ["listings/refresh"] * 10))

    (run_id,) = {run["run_id"] for run in runs}
    assert sorted(run["coalesced"] for run in runs) == [False] + [True] * 9
    assert sorted(refresh["coalesced"] for refresh in refreshes) == [False] + [True] * 9
    assert stack.runner.wait_idle(120)
    listed_runs = http.get(f"/accounts/{account['id']}/stock-sync-runs", headers=ACME).json()["items"]
    assert [(run["run_id"], run["status"]) for run in listed_runs] == [(run_id, "done"), (first["run_id"], "done")]
    assert calls(sim).get("createReport") == 1, "one listings report for ten refreshes"
