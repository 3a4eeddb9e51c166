"""Order import end to end (SPEC §6) on the local stack against the SP-API simulator, in both
Amazon order APIs."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from local.stack import install_container
from local.template import schedules
from tests.builders import ship_to
from tests.e2e.conftest import SELLER, SELLER_TOKEN

pytestmark = pytest.mark.e2e

ACME = {"X-Client-Id": "acme-outdoor"}
UK = "A1F83G8C2ARO7P"


def amazon_order(
    n: int,
    level: str | None,
    category: str,
    *,
    prime: bool = False,
    status: str = "Unshipped",
    sku: str = "TENT-2P",
    channel: str = "MFN",
    country: str = "GB",
    updated: datetime | None = None,
) -> dict[str, Any]:
    moment = (updated or datetime.now(UTC) - timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    order: dict[str, Any] = {
        "AmazonOrderId": f"202-0000000-{n:07d}",
        "PurchaseDate": moment,
        "LastUpdateDate": moment,
        "MarketplaceId": UK,
        "FulfillmentChannel": channel,
        "ShipmentServiceLevelCategory": category,
        "IsPrime": prime,
        "OrderStatus": status,
        "ShippingAddress": ship_to(country, n),
        "OrderItems": [
            {
                "OrderItemId": f"{n:014d}",
                "SellerSKU": sku,
                "QuantityOrdered": 2,
                "ItemPrice": {"CurrencyCode": "GBP", "Amount": "20.00"},
            }
        ],
    }
    if level is not None:
        order["ShipServiceLevel"] = level
    return order


@pytest.fixture
def account(http, sim) -> dict[str, Any]:
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
    for sku in ("TENT-2P", "MAT-BLUE"):
        assert http.put(f"/products/{sku}", json={"quantity_available": 5}, headers=ACME).status_code in (200, 201)
    return response.json()


def put_orders(sim: httpx.Client, orders: list[dict[str, Any]]) -> None:
    response = sim.post(f"/_sim/sellers/{SELLER}/orders", json={"orders": orders})
    assert response.status_code in (200, 201), response.text


def import_now(stack, http: httpx.Client, account: dict[str, Any]) -> None:
    assert http.post(f"/accounts/{account['id']}/order-import", headers=ACME).status_code == 202
    assert stack.runner.wait_idle(120)


def orders(http: httpx.Client) -> dict[str, dict[str, Any]]:
    items = http.get("/orders", params={"limit": 100}, headers=ACME).json()["items"]
    return {o["amazon_order_id"][-2:]: o for o in items}


def test_orders_of_every_kind_import_with_couriers_and_holds(stack, http, sim, account, api_version):
    http.post(
        "/courier-mappings", json={"amazon_term": "STD UK DOM-PRIME", "courier_service": "DPD Next Day"}, headers=ACME
    )
    http.post("/courier-mappings", json={"amazon_term": "EXP UK INT", "courier_service": "DHL Express"}, headers=ACME)
    put_orders(
        sim,
        [
            amazon_order(1, "Std UK Dom_1", "Standard"),
            amazon_order(2, "Std UK Dom_2", "Standard", prime=True),
            amazon_order(3, "NextDay", "NextDay", prime=True),
            amazon_order(4, "Std UK Dom_1", "Standard", sku="tent-2p"),
            amazon_order(5, "Std UK Dom_1", "Standard", sku="GHOST-SKU"),
            amazon_order(6, "Std UK Dom_1", "Standard", status="Canceled"),
            amazon_order(7, "Std UK Dom_1", "Standard", channel="AFN"),
            amazon_order(8, "Exp UK Int", "Expedited", country="FR"),
        ],
    )

    import_now(stack, http, account)

    found = orders(http)
    assert "07" not in found, "Amazon-fulfilled orders are not the warehouse's"
    assert (found["01"]["status"], found["01"]["courier_service"]) == ("ready", "Royal Mail 48")
    assert (found["02"]["status"], found["02"]["courier_service"]) == ("ready", "DPD Next Day")
    assert found["02"]["shipping_term"].endswith("-PRIME")
    assert found["03"]["status"] == "on_hold" and found["03"]["shipping_term"] == "UK NEXT-PRIME"
    assert [h["code"] for h in found["03"]["hold_reasons"]] == ["unmapped_shipping_term"]
    assert [h["code"] for h in found["04"]["hold_reasons"]] == ["sku_case_mismatch"]
    assert found["04"]["hold_reasons"][0]["oms_sku"] == "TENT-2P"
    assert [h["code"] for h in found["05"]["hold_reasons"]] == ["unknown_sku"]
    assert found["06"]["status"] == "cancelled"
    assert (found["08"]["shipping_term"], found["08"]["courier_service"]) == ("EXP UK INT", "DHL Express")
    if api_version == "v0":
        assert found["01"]["shipping_term"] == "STD UK DOM_1"
    else:
        assert found["01"]["shipping_term"] == "STD UK DOM"
    unmapped = http.get("/courier-mappings/unmapped", headers=ACME).json()["items"]
    assert [(u["term"], u["orders_on_hold"]) for u in unmapped] == [("UK NEXT-PRIME", 1)]


def test_a_new_mapping_releases_the_orders_held_for_its_term(stack, http, sim, account, api_version):
    put_orders(sim, [amazon_order(3, "NextDay", "NextDay", prime=True)])
    import_now(stack, http, account)
    assert orders(http)["03"]["status"] == "on_hold"

    http.post("/courier-mappings", json={"amazon_term": "UK NEXT-PRIME", "courier_service": "DPD 10:30"}, headers=ACME)

    released = http.get("/orders/202-0000000-0000003", headers=ACME).json()
    assert (released["status"], released["courier_service"]) == ("ready", "DPD 10:30")
    assert http.get("/courier-mappings/unmapped", headers=ACME).json()["items"] == []


def test_a_reimport_stores_each_order_once_and_a_newer_amazon_update_wins(stack, http, sim, account, api_version):
    put_orders(sim, [amazon_order(1, "Std UK Dom_1", "Standard")])
    import_now(stack, http, account)
    first = http.get("/orders/202-0000000-0000001", headers=ACME).json()
    import_now(stack, http, account)
    assert http.get("/orders/202-0000000-0000001", headers=ACME).json() == first

    put_orders(
        sim,
        [
            amazon_order(
                1, "Std UK Dom_1", "Standard", status="Canceled", updated=datetime.now(UTC) - timedelta(minutes=3)
            )
        ],
    )
    import_now(stack, http, account)

    assert http.get("/orders/202-0000000-0000001", headers=ACME).json()["status"] == "cancelled"
    assert len(http.get("/orders", headers=ACME).json()["items"]) == 1


def test_reevaluate_picks_up_a_fixed_sku(stack, http, sim, account, api_version):
    put_orders(sim, [amazon_order(4, "Std UK Dom_1", "Standard", sku="tent-2p")])
    import_now(stack, http, account)
    http.put("/products/tent-2p", json={"quantity_available": 1}, headers=ACME)

    response = http.post("/orders/202-0000000-0000004/reevaluate", headers=ACME)

    assert response.status_code == 200
    assert (response.json()["status"], response.json()["lines"][0]["oms_sku"]) == ("ready", "tent-2p")


def test_the_scheduled_tick_imports_and_overlapping_ticks_import_once(stack, http, sim, account, api_version):
    put_orders(sim, [amazon_order(1, "Std UK Dom_1", "Standard")])
    (tick,) = [s for s in schedules() if s.function == "OrderImportTickFunction"]

    stack.runner.fire(tick)
    stack.runner.fire(tick)
    assert stack.runner.wait_idle(120)

    calls = sim.get("/_sim/calls").json()["counts"]
    assert calls.get("getOrders", 0) + calls.get("searchOrders", 0) == 1
    assert orders(http)["01"]["status"] == "ready"
    assert http.get(f"/accounts/{account['id']}", headers=ACME).json()["last_order_import_at"] is not None


def test_throttled_amazon_loses_no_order(stack, http, sim, account, api_version):
    put_orders(sim, [amazon_order(n, "Std UK Dom_1", "Standard") for n in range(1, 6)])
    for operation in ("getOrders", "searchOrders", "getOrderItems"):
        sim.post("/_sim/faults", json={"operation": operation, "status": 503, "rate": 0.5, "count": 3})

    import_now(stack, http, account)

    assert sorted(orders(http)) == ["01", "02", "03", "04", "05"]


@pytest.mark.parametrize(("path", "code"), [("/orders/not-an-order", 400), ("/orders/202-0000000-9999999", 404)])
def test_unknown_or_malformed_order_ids(http, sim, account, api_version, path, code):
    assert http.get(path, headers=ACME).status_code == code


def test_another_client_sees_none_of_the_orders(stack, http, sim, account, api_version):
    put_orders(sim, [amazon_order(1, "Std UK Dom_1", "Standard")])
    import_now(stack, http, account)
    other = {"X-Client-Id": "bluebird-gifts"}
    assert http.get("/orders", headers=other).json()["items"] == []
    assert http.get("/orders/202-0000000-0000001", headers=other).status_code == 404
    assert http.post("/orders/202-0000000-0000001/reevaluate", headers=other).status_code == 404
    assert http.post(f"/accounts/{account['id']}/order-import", headers=other).status_code == 404


def test_each_new_order_and_each_status_change_is_one_event_on_the_bus(stack, http, sim, account, api_version):
    import json

    import boto3

    events, sqs = boto3.client("events"), boto3.client("sqs")
    queue = sqs.create_queue(QueueName=f"order-events-{api_version.replace('.', '')}")["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    bus = stack.names["ConnectorBus"]
    events.put_rule(
        Name="orders-to-queue", EventBusName=bus, EventPattern=json.dumps({"source": ["oms.amazon-connector"]})
    )
    events.put_targets(Rule="orders-to-queue", EventBusName=bus, Targets=[{"Id": "queue", "Arn": arn}])

    put_orders(sim, [amazon_order(1, "Std UK Dom_1", "Standard"), amazon_order(3, "NextDay", "NextDay", prime=True)])
    import_now(stack, http, account)
    import_now(stack, http, account)  # nothing new: no event
    put_orders(
        sim,
        [
            amazon_order(
                1, "Std UK Dom_1", "Standard", status="Canceled", updated=datetime.now(UTC) - timedelta(minutes=3)
            )
        ],
    )
    import_now(stack, http, account)
    http.post("/courier-mappings", json={"amazon_term": "UK NEXT-PRIME", "courier_service": "DPD 10:30"}, headers=ACME)

    received = []
    while batch := sqs.receive_message(QueueUrl=queue, MaxNumberOfMessages=10, WaitTimeSeconds=1).get("Messages", []):
        received.extend(json.loads(m["Body"]) for m in batch)
        sqs.delete_message_batch(
            QueueUrl=queue, Entries=[{"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(batch)]
        )
    seen = sorted((e["detail"]["amazon_order_id"][-2:], e["detail-type"]) for e in received)
    assert seen == [
        ("01", "Amazon Order Cancelled"),
        ("01", "Amazon Order Imported"),
        ("03", "Amazon Order Imported"),
        ("03", "Amazon Order Updated"),
    ]
    assert all(e["detail"]["client_id"] == "acme-outdoor" for e in received)
    assert len({e["detail"]["event_id"] for e in received}) == 4


def test_one_job_searches_all_of_a_sellers_marketplaces_at_once_and_files_each_order_under_its_account(
    stack, http, sim, account, api_version
):
    de = http.post(
        "/accounts",
        json={"merchant_id": SELLER, "marketplace": "DE", "auth_token": SELLER_TOKEN, "active": True},
        headers=ACME,
    ).json()
    german = amazon_order(2, "Std DE Dom", "Standard", country="DE")
    german["MarketplaceId"] = "A1PA6795UKMFR9"
    german["OrderItems"][0]["ItemPrice"]["CurrencyCode"] = "EUR"
    put_orders(sim, [amazon_order(1, "Std UK Dom_1", "Standard"), german])
    sim.delete("/_sim/calls")
    (tick,) = [s for s in schedules() if s.function == "OrderImportTickFunction"]

    stack.runner.fire(tick)
    stack.runner.fire(tick)  # an overlapping tick queues nothing more
    assert stack.runner.wait_idle(120)

    counts = sim.get("/_sim/calls").json()["counts"]
    assert counts.get("searchOrders", 0) + counts.get("getOrders", 0) == 1, counts
    stored = orders(http)
    assert (stored["01"]["account_id"], stored["02"]["account_id"]) == (account["id"], de["id"])
    assert stored["02"]["marketplace"] == "DE"
    for marketplace_account in (account, de):
        assert http.get(f"/accounts/{marketplace_account['id']}", headers=ACME).json()["last_order_import_at"]


def test_zone_mappings_work_on_the_default_orders_api_through_v0s_levels(stack, http, sim, account):
    http.post("/courier-mappings", json={"amazon_term": "STD UK DOM_1", "courier_service": "RM 48"}, headers=ACME)
    http.post("/courier-mappings", json={"amazon_term": "Std UK Dom_2", "courier_service": "Evri 72"}, headers=ACME)
    put_orders(sim, [amazon_order(1, "Std UK Dom_2", "Standard"), amazon_order(2, "Std UK Dom_1", "Standard")])
    sim.delete("/_sim/calls")

    import_now(stack, http, account)

    stored = orders(http)
    assert (stored["01"]["shipping_term"], stored["01"]["courier_service"]) == ("STD UK DOM_2", "Evri 72")
    assert (stored["02"]["shipping_term"], stored["02"]["courier_service"]) == ("STD UK DOM_1", "RM 48")
    counts = sim.get("/_sim/calls").json()["counts_by_api"]
    assert counts["orders_2026-01-01"]["searchOrders"] == 1 and counts["ordersV0"]["getOrders"] == 1


def test_without_v0_disagreeing_zone_mappings_hold_the_order_and_name_them(stack, http, sim, account, monkeypatch):
    monkeypatch.setenv("ORDERS_V0_RETIRES_ON", "2020-01-01")  # as after v0's retirement
    install_container()
    http.post("/courier-mappings", json={"amazon_term": "STD UK DOM_1", "courier_service": "RM 48"}, headers=ACME)
    http.post("/courier-mappings", json={"amazon_term": "STD UK DOM_2", "courier_service": "Evri 72"}, headers=ACME)
    put_orders(sim, [amazon_order(1, "Std UK Dom_2", "Standard")])

    import_now(stack, http, account)

    (hold,) = orders(http)["01"]["hold_reasons"]
    assert hold["code"] == "shipping_zone_unknown"
    assert {c["amazon_term"] for c in hold["candidates"]} == {"STD UK DOM_1", "STD UK DOM_2"}
    http.post("/courier-mappings", json={"amazon_term": "STD UK DOM", "courier_service": "RM 48"}, headers=ACME)
    assert orders(http)["01"]["status"] == "ready", "a zone-less mapping releases it"
    monkeypatch.delenv("ORDERS_V0_RETIRES_ON")
    install_container()


def test_a_next_day_order_is_held_rather_than_sent_by_the_accounts_default_courier(stack, http, sim, account):
    put_orders(sim, [amazon_order(1, "NextDay", "NextDay")])

    import_now(stack, http, account)

    order = orders(http)["01"]
    assert (order["status"], order["courier_service"]) == ("on_hold", None)
    assert order["hold_reasons"][0]["code"] == "unmapped_shipping_term"


# ---- the operator's fixes (SPEC §6.1, §6.6)


def test_an_operator_releases_a_held_order_with_a_reason_and_it_stays_released(stack, http, sim, account):
    put_orders(sim, [amazon_order(1, "NextDay", "NextDay")])
    import_now(stack, http, account)
    assert orders(http)["01"]["status"] == "on_hold"
    order_id = orders(http)["01"]["amazon_order_id"]

    refused = http.post(f"/orders/{order_id}/release", json={"reason": "customer called"}, headers=ACME)
    assert (refused.status_code, refused.json()["error"]["code"]) == (400, "courier_service_required")
    released = http.post(
        f"/orders/{order_id}/release",
        json={"reason": "customer called", "courier_service": "DPD Next Day"},
        headers={**ACME, "X-Client-Id": "acme-outdoor"},
    )

    assert released.status_code == 200, released.text
    body = released.json()
    assert (body["status"], body["courier_service"], body["hold_reasons"]) == ("ready", "DPD Next Day", [])
    assert body["release"]["reason"] == "customer called" and body["release"]["holds"] == ["unmapped_shipping_term"]
    assert [h["action"] for h in body["history"]] == ["released"]
    later = (datetime.now(UTC) - timedelta(minutes=3)).strftime("%Y-%m-%dT%H:%M:%SZ")
    put_orders(sim, [{**amazon_order(1, "NextDay", "NextDay"), "LastUpdateDate": later}])
    import_now(stack, http, account)
    assert (orders(http)["01"]["status"], orders(http)["01"]["courier_service"]) == ("ready", "DPD Next Day")
    again = http.post(f"/orders/{order_id}/release", json={"reason": "twice"}, headers=ACME)
    assert (again.status_code, again.json()["error"]["code"]) == (409, "order_not_held")


def test_an_order_older_than_the_watermarks_window_comes_in_by_id(stack, http, sim, account):
    old = datetime.now(UTC) - timedelta(days=3)
    put_orders(sim, [amazon_order(1, "Std UK Dom_1", "Standard", updated=old)])
    import_now(stack, http, account)
    assert orders(http) == {}

    queued = http.post(f"/accounts/{account['id']}/orders/202-0000000-0000001/import", headers=ACME)
    assert queued.status_code == 202, queued.text
    assert stack.runner.wait_idle(120)

    order = http.get("/orders/202-0000000-0000001", headers=ACME).json()
    assert (order["status"], order["courier_service"]) == ("ready", "Royal Mail 48")
    assert order["ship_to"]["name"], "with its address, as any import"


def test_a_backfill_imports_a_past_window_and_leaves_the_watermark_alone(stack, http, sim, account):
    import_now(stack, http, account)
    watermark = http.get(f"/accounts/{account['id']}", headers=ACME).json()["last_order_import_at"]
    ten_days_ago = datetime.now(UTC) - timedelta(days=10)
    put_orders(sim, [amazon_order(1, "Std UK Dom_1", "Standard", updated=ten_days_ago)])
    since = (ten_days_ago - timedelta(days=1)).strftime("%Y-%m-%dT%H:%M:%SZ")

    queued = http.post(f"/accounts/{account['id']}/order-import", json={"since": since}, headers=ACME)
    assert queued.status_code == 202, queued.text
    assert stack.runner.wait_idle(120)

    assert "01" in orders(http)
    assert http.get(f"/accounts/{account['id']}", headers=ACME).json()["last_order_import_at"] == watermark
    too_long = (datetime.now(UTC) - timedelta(days=40)).strftime("%Y-%m-%dT%H:%M:%SZ")
    refused = http.post(f"/accounts/{account['id']}/order-import", json={"since": too_long}, headers=ACME)
    assert (refused.status_code, refused.json()["error"]["code"]) == (400, "invalid_window")
    for bad, reason in (("yesterday", "format"), (since.rstrip("Z"), "timezone")):
        refused = http.post(
            f"/accounts/{account['id']}/order-import", json={"since": since, "until": bad}, headers=ACME
        )
        error = refused.json()["error"]
        assert (refused.status_code, error["details"]) == (400, [{"field": "until", "reason": reason}])
        assert error["message"].startswith("until ")


def test_an_alias_clears_a_case_mismatch_hold_at_once(stack, http, sim, account, api_version):
    put_orders(sim, [amazon_order(4, "Std UK Dom_1", "Standard", sku="tent-2p")])
    import_now(stack, http, account)
    held = orders(http)["04"]
    assert [h["code"] for h in held["hold_reasons"]] == ["sku_case_mismatch"]
    assert "/sku-aliases/" in held["hold_reasons"][0]["message"]

    linked = http.put("/sku-aliases/tent-2p", json={"oms_sku": "TENT-2P"}, headers=ACME)
    assert linked.status_code == 201, linked.text

    order = http.get("/orders/202-0000000-0000004", headers=ACME).json()
    assert (order["status"], order["courier_service"]) == ("ready", "Royal Mail 48")
    assert (order["lines"][0]["seller_sku"], order["lines"][0]["oms_sku"]) == ("tent-2p", "TENT-2P")
    import_now(stack, http, account)
    assert orders(http)["04"]["status"] == "ready", "the next import keeps it ready through the alias"


def test_a_backlog_goes_on_from_its_checkpoint_across_jobs_cut_by_time_without_reading_again(
    stack, http, sim, account, monkeypatch
):
    from oms_amazon import wiring
    from oms_amazon.domain.jobs import ImportJob

    monkeypatch.setenv("ORDERS_API_VERSION", "2026-01-01")
    install_container()
    put_orders(sim, [amazon_order(n, "Std UK Dom_1", "Standard") for n in range(1, 251)])  # 3 pages of 100
    job = ImportJob(job="order_import", client_id="acme-outdoor", trigger="manual", account_id=account["id"])
    worker = wiring.container().order_import_worker

    def searches() -> int:
        return int(sim.get("/_sim/calls").json()["counts"].get("searchOrders", 0))

    def stored() -> int:
        listed, token = 0, None
        while True:
            page = http.get("/orders", params={"limit": 100, **({"next_token": token} if token else {})}, headers=ACME)
            listed += len(page.json()["items"])
            token = page.json()["next_token"]
            if not token:
                return listed

    def watermark() -> str | None:
        return http.get(f"/accounts/{account['id']}", headers=ACME).json()["last_order_import_at"]

    # Each invocation has time left for one page only (under the 360 s a page may need).
    first = worker.handle(job, time_left=lambda: 300.0)
    assert (first["pages"], first["new"], first.get("continues")) == (1, 100, 1)
    assert (stored(), watermark(), searches()) == (100, None, 1), "the watermark waits for the series to end"

    second = worker.handle(job, time_left=lambda: 300.0)
    assert (second["pages"], second["new"], second.get("resumed"), second.get("continues")) == (1, 100, 1, 1)

    # Amazon no longer takes the saved token (its validity is not documented): the search starts again
    # from its window, which costs a reread and no order.
    import boto3

    table = boto3.client("dynamodb").scan(TableName=stack.names["ConnectorTable"])["Items"]
    (saved,) = [item for item in table if item["SK"]["S"].startswith("IMPORT#")]
    boto3.client("dynamodb").update_item(
        TableName=stack.names["ConnectorTable"],
        Key={"PK": saved["PK"], "SK": saved["SK"]},
        UpdateExpression="SET next_token = :t",
        ExpressionAttributeValues={":t": {"S": "a-token-amazon-forgot"}},
    )
    last = worker.handle(job)

    assert (last["new"], last["unchanged"], "continues" in last) == (50, 200, False)
    assert stored() == 250 and watermark() is not None
    assert searches() == 2 + 1 + 3, "two pages, the refused token, then the whole series again"
    after = boto3.client("dynamodb").scan(TableName=stack.names["ConnectorTable"])["Items"]
    assert not [item for item in after if item["SK"]["S"].startswith("IMPORT#")], "the finished series forgets it"
