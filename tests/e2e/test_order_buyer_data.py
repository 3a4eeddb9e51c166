"""Orders a warehouse can ship (SPEC §6.6, §6.8, issue "the whole order"), end to end on the local
stack against the simulator playing Amazon's buyer-data rules, in both Orders APIs: the full order
comes back from `GET /orders/{id}`; the list and the bus carry none of the buyer's data; a seller
whose app lacks the Direct-to-Consumer Delivery role gets orders held `address_unavailable` with the
cause; pending orders are completed once Amazon adds the address; Easy Ship and in-store pickup are
`not_for_us`; a shipped order's buyer data is deleted after the retention period."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import httpx
import pytest
import time_machine

from local.stack import LocalStack, install_container
from local.template import schedules
from tests.e2e.conftest import SELLER, SELLER_TOKEN
from tests.e2e.test_order_import import ACME, UK, import_now, put_orders

pytestmark = pytest.mark.e2e

ORDER = "202-0000000-0000001"
ADDRESS = {
    "Name": "Jane Smith",
    "CompanyName": "Smith Camping Ltd",
    "AddressLine1": "1 High Street",
    "AddressLine2": "Unit 4",
    "City": "London",
    "County": "Greater London",
    "PostalCode": "SW1A 1AA",
    "CountryCode": "GB",
    "Phone": "+44 20 7946 0000",
    "AddressType": "Commercial",
}
BUYER = {
    "BuyerName": "Jane Smith",
    "BuyerEmail": "x7k2q@marketplace.amazon.co.uk",
    "BuyerCompanyName": "Smith Camping Ltd",
    "PurchaseOrderNumber": "PO-4471",
}
GIFT = "Happy camping, Tom!"


def full_order(n: int = 1, **changes: Any) -> dict[str, Any]:
    moment = (datetime.now(UTC) - timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    order: dict[str, Any] = {
        "AmazonOrderId": f"202-0000000-{n:07d}",
        "PurchaseDate": moment,
        "LastUpdateDate": moment,
        "MarketplaceId": UK,
        "FulfillmentChannel": "MFN",
        "ShipServiceLevel": "Std UK Dom_1",
        "ShipmentServiceLevelCategory": "Standard",
        "OrderStatus": "Unshipped",
        "IsBusinessOrder": True,
        "OrderTotal": {"CurrencyCode": "GBP", "Amount": "43.98"},
        "ShippingAddress": ADDRESS,
        "BuyerInfo": BUYER,
        "OrderItems": [
            {
                "OrderItemId": f"{n:014d}",
                "SellerSKU": "TENT-2P",
                "ASIN": "B0TENT0002",
                "Title": "Trailhead two-person tent",
                "ConditionId": "New",
                "QuantityOrdered": 2,
                "ItemPrice": {"CurrencyCode": "GBP", "Amount": "39.98"},
                "ItemTax": {"CurrencyCode": "GBP", "Amount": "6.66"},
                "ShippingPrice": {"CurrencyCode": "GBP", "Amount": "4.00"},
                "IsGift": True,
                "BuyerInfo": {"GiftMessageText": GIFT, "GiftWrapLevel": "Classic"},
            }
        ],
    }
    order.update(changes)
    return order


def connect(http: httpx.Client, seller: str = SELLER, token: str = SELLER_TOKEN) -> dict[str, Any]:
    response = http.post(
        "/accounts",
        json={
            "merchant_id": seller,
            "marketplace": "UK",
            "auth_token": token,
            "active": True,
            "default_courier_service": "Royal Mail 48",
        },
        headers=ACME,
    )
    assert response.status_code == 201, response.text
    assert http.put("/products/TENT-2P", json={"quantity_available": 5}, headers=ACME).status_code in (200, 201)
    return dict(response.json())


def bus_queue(stack: LocalStack) -> tuple[Any, str]:
    events, sqs = boto3.client("events"), boto3.client("sqs")
    url = sqs.create_queue(QueueName="buyer-data-events")["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    bus = stack.names["ConnectorBus"]
    events.put_rule(Name="all-to-queue", EventBusName=bus, EventPattern=json.dumps({"source": [{"prefix": ""}]}))
    events.put_targets(Rule="all-to-queue", EventBusName=bus, Targets=[{"Id": "q", "Arn": arn}])
    return sqs, url


def drained(sqs: Any, url: str) -> str:
    bodies = []
    while batch := sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=1).get("Messages", []):
        bodies.extend(m["Body"] for m in batch)
        for m in batch:
            sqs.delete_message(QueueUrl=url, ReceiptHandle=m["ReceiptHandle"])
    return "\n".join(bodies)


def test_the_order_comes_back_whole_and_nothing_else_carries_the_buyers_data(stack, http, sim, api_version):
    sqs, url = bus_queue(stack)
    account = connect(http)
    put_orders(sim, [full_order()])

    import_now(stack, http, account)

    order = http.get(f"/orders/{ORDER}", headers=ACME).json()
    assert order["status"] == "ready", order
    ship_to = order["ship_to"]
    assert (ship_to["name"], ship_to["address_line_1"], ship_to["address_line_2"]) == (
        "Jane Smith",
        "1 High Street",
        "Unit 4",
    )
    assert (ship_to["city"], ship_to["postal_code"], ship_to["country_code"]) == ("London", "SW1A 1AA", "GB")
    assert (ship_to["company"], ship_to["phone"]) == ("Smith Camping Ltd", "+44 20 7946 0000")
    assert order["buyer"]["email"] == BUYER["BuyerEmail"]
    assert order["buyer"]["name"] == "Jane Smith"
    (line,) = order["lines"]
    assert (line["title"], line["asin"], line["condition"], line["quantity"]) == (
        "Trailhead two-person tent",
        "B0TENT0002",
        "New",
        2,
    )
    assert (line["is_gift"], line["gift_message"], line["gift_wrap_level"]) == (True, GIFT, "Classic")
    assert line["unit_price"] == {"amount": "19.99", "currency": "GBP"}
    assert order["is_business_order"] is True
    assert order["order_total"] == {"amount": "43.98", "currency": "GBP"}

    listed = http.get("/orders", headers=ACME).text
    events = drained(sqs, url)
    assert ORDER in listed and ORDER in events
    for private in ("Jane Smith", "1 High Street", "SW1A 1AA", BUYER["BuyerEmail"], GIFT, "+44 20 7946 0000"):
        assert private not in listed, f"{private!r} in GET /orders"
        assert private not in events, f"{private!r} in an event"


def test_v0_asks_for_one_restricted_data_token_and_reuses_it(stack, http, sim, monkeypatch):
    from oms_amazon import wiring

    monkeypatch.setenv("ORDERS_API_VERSION", "v0")
    install_container()
    account = connect(http)
    put_orders(sim, [full_order(n) for n in range(1, 4)])
    import_now(stack, http, account)
    put_orders(sim, [full_order(4, LastUpdateDate=datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"))])
    import_now(stack, http, account)

    counts = sim.get("/_sim/calls").json()["counts"]
    assert counts["createRestrictedDataToken"] == 1
    assert counts["getOrderItems"] == 4
    assert all(http.get(f"/orders/202-0000000-{n:07d}", headers=ACME).json()["ship_to"] for n in range(1, 5))
    wiring.install(None)  # the next use makes one for the environment as it is then, restored


def test_a_seller_whose_app_lacks_the_delivery_role_gets_orders_held_with_the_cause(stack, http, sim, api_version):
    seller, token = "A3NOROLESELLER1", "Atzr|IwEBI-e2e-role-less-seller-token-0001"
    roles = ["INVENTORY_AND_ORDER_TRACKING", "PRODUCT_LISTING"]
    registered = sim.post(
        "/_sim/sellers", json={"seller_id": seller, "refresh_token": token, "marketplaces": ["UK"], "roles": roles}
    )
    assert registered.status_code in (200, 201), registered.text
    account = connect(http, seller, token)
    response = sim.post(f"/_sim/sellers/{seller}/orders", json={"orders": [full_order()]})
    assert response.status_code in (200, 201), response.text

    import_now(stack, http, account)

    order = http.get(f"/orders/{ORDER}", headers=ACME).json()
    assert order["status"] == "on_hold"
    (hold,) = order["hold_reasons"]
    assert hold["code"] == "address_unavailable"
    assert ("Restricted Data Token" if api_version == "v0" else "Direct-to-Consumer Delivery") in hold["message"]
    assert order["ship_to"] is None or not order["ship_to"]["name"]
    despatch = http.post(
        f"/orders/{ORDER}/shipments",
        json={
            "carrier_code": "Royal Mail",
            "shipping_method": "Tracked 48",
            "tracking_number": "RM1",
            "ship_date": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        },
        headers=ACME,
    )
    assert (despatch.status_code, despatch.json()["error"]["code"]) == (409, "order_not_ready")


def test_a_pending_order_waits_then_arrives_with_its_address(stack, http, sim, api_version):
    account = connect(http)
    put_orders(sim, [full_order(OrderStatus="Pending")])
    import_now(stack, http, account)
    pending = http.get(f"/orders/{ORDER}", headers=ACME).json()
    assert [h["code"] for h in pending["hold_reasons"]] == ["amazon_pending"]
    assert pending["ship_to"] is None

    updated = (datetime.now(UTC) - timedelta(minutes=3)).strftime("%Y-%m-%dT%H:%M:%SZ")
    put_orders(sim, [full_order(OrderStatus="Unshipped", LastUpdateDate=updated)])
    import_now(stack, http, account)

    ready = http.get(f"/orders/{ORDER}", headers=ACME).json()
    assert (ready["status"], ready["ship_to"]["name"]) == ("ready", "Jane Smith")


def test_orders_the_warehouse_does_not_ship_are_stored_not_for_us_without_buyer_data(stack, http, sim, api_version):
    account = connect(http)
    put_orders(
        sim,
        [
            full_order(1, EasyShipShipmentStatus="PendingPickUp"),
            full_order(2, IsISPU=True),
            full_order(3, IsReplacementOrder=True, ReplacedOrderId="202-9999999-9999999"),
        ],
    )
    import_now(stack, http, account)

    easy, pickup, replacement = (http.get(f"/orders/202-0000000-{n:07d}", headers=ACME).json() for n in (1, 2, 3))
    assert (easy["status"], easy["not_for_us_reason"]["code"], easy["ship_to"]) == (
        "not_for_us",
        "amazon_handles_delivery",
        None,
    )
    assert (pickup["status"], pickup["not_for_us_reason"]["code"]) == ("not_for_us", "in_store_pickup")
    assert (replacement["status"], replacement["is_replacement"]) == ("ready", True)


def test_a_shipped_orders_buyer_data_is_gone_after_the_retention_period(stack, http, sim, api_version):
    account = connect(http)
    put_orders(sim, [full_order()])
    import_now(stack, http, account)
    updated = (datetime.now(UTC) - timedelta(minutes=3)).strftime("%Y-%m-%dT%H:%M:%SZ")
    put_orders(sim, [full_order(OrderStatus="Shipped", LastUpdateDate=updated)])
    import_now(stack, http, account)
    shipped = http.get(f"/orders/{ORDER}", headers=ACME).json()
    assert (shipped["status"], shipped["ship_to"]["name"]) == ("shipped", "Jane Smith")
    assert shipped["pii_expires_at"] is not None

    (tick,) = [s for s in schedules() if s.function == "OrderImportTickFunction"]
    with time_machine.travel(datetime.now(UTC) + timedelta(days=31), tick=True):
        stack.runner.fire(tick)
        purged = http.get(f"/orders/{ORDER}", headers=ACME).json()

    assert (purged["status"], purged["ship_to"], purged["buyer"]) == ("shipped", None, None)
    assert purged["lines"][0]["gift_message"] is None
    assert purged["pii_purged_at"] is not None
