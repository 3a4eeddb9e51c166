"""The buyer's data as Amazon's Data Protection Policy expects (SPEC §6.6, §6.8), through the real
DynamoDB and KMS adapters over moto: sealed with the stack's key in an item of its own, opened only by
`GET /orders/{id}`, absent from the list, the outbox and the order item, and deleted — not hidden —
the retention period after the order ships or is cancelled."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import pytest
import time_machine
from botocore.exceptions import ClientError
from oms_amazon.domain.accounts import Account
from oms_amazon.domain.orders import AmazonLine, Buyer, Gift, Order, OrderPii, ShipTo
from oms_amazon.order_checks import evaluate
from oms_amazon.shipping import CourierMapping
from oms_amazon.sku import SkuIndex

from tests.builders import amazon_order, gbp
from tests.conftest import CANARY_REFRESH_TOKEN, ApiCaller, all_items

pytestmark = pytest.mark.integration

ORDER_ID = "202-0000000-0000001"
# Canaries: strings that exist only in the buyer's data, looked for everywhere else.
NAME, STREET, POSTCODE, EMAIL, GIFT = (
    "Canary Buyer-Name",
    "7 Canary Street",
    "CA1 9RY",
    "canary7@marketplace.amazon.co.uk",
    "Canary gift message",
)
CANARIES = (NAME, STREET, POSTCODE, EMAIL, GIFT)
PII = OrderPii(
    ship_to=ShipTo(name=NAME, address_line_1=STREET, city="London", postal_code=POSTCODE, country_code="GB"),
    buyer=Buyer(name=NAME, email=EMAIL),
    gifts=(("1", Gift(GIFT, "Classic")),),
)


@pytest.fixture
def account(api: ApiCaller) -> Account:
    from oms_amazon import wiring

    status, body = api(
        "POST", "/accounts", {"merchant_id": "A2SELLERUK01", "marketplace": "UK", "auth_token": CANARY_REFRESH_TOKEN}
    )
    assert status == 201, body
    account = wiring.container().accounts.get("acme-outdoor", body["id"])
    assert account is not None
    return account


def imported(account: Account, *, status: str = "Unshipped", previous: Order | None = None, **changes: Any) -> Order:
    """An order as the importer judges and writes it (the worker's own writer)."""
    from oms_amazon import wiring

    now = datetime.now(UTC)
    line = AmazonLine("1", "TENT-2P", 1, gbp("20.00"), is_gift=True)
    last_update = now - timedelta(minutes=10) if previous is None else now
    defaults = {"amazon_status": status, "last_update_date": last_update, "lines": (line,), "pii": PII}
    amazon = amazon_order(ORDER_ID, at=now, **{**defaults, **changes})
    order = evaluate(
        amazon,
        account,
        SkuIndex(["TENT-2P"]),
        [CourierMapping("m", "STD UK DOM_1", "Royal Mail 48")],
        now=now,
        previous=previous,
    )
    written, _ = wiring.container().order_writer.write(order, previous)
    assert written
    stored = wiring.container().order_store.get(account.client_id, ORDER_ID)
    assert stored is not None
    return stored


def despatch(api: ApiCaller) -> tuple[int, Any]:
    now = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    body = {"carrier_code": "Royal Mail", "shipping_method": "Tracked 48", "tracking_number": "RM1", "ship_date": now}
    return api("POST", f"/orders/{ORDER_ID}/shipments", body)


def text_of(value: Any) -> str:
    return json.dumps(value, default=lambda v: v.hex() if isinstance(v, bytes) else str(v))


def test_the_order_a_warehouse_ships_from_comes_back_whole_from_get(api, account):
    imported(account)

    status, body = api("GET", f"/orders/{ORDER_ID}")

    assert status == 200, body
    assert body["status"] == "ready"
    assert body["ship_to"]["name"] == NAME
    assert (body["ship_to"]["address_line_1"], body["ship_to"]["postal_code"]) == (STREET, POSTCODE)
    assert body["buyer"]["email"] == EMAIL
    assert (body["lines"][0]["gift_message"], body["lines"][0]["gift_wrap_level"]) == (GIFT, "Classic")
    assert body["lines"][0]["is_gift"] is True
    assert body["pii_purged_at"] is None


def test_the_list_and_the_table_outside_the_sealed_item_carry_no_buyer_data(api, account, dynamodb, table_name):
    imported(account)

    status, listed = api("GET", "/orders")

    assert status == 200
    assert listed["items"][0]["amazon_order_id"] == ORDER_ID
    assert "ship_to" not in listed["items"][0] and "buyer" not in listed["items"][0]
    assert "gift_message" not in listed["items"][0]["lines"][0]
    items = all_items(dynamodb, table_name)
    sealed = [i for i in items if i["SK"]["S"].startswith("ORDERPII#")]
    assert len(sealed) == 1 and "B" in sealed[0]["sealed"]["L"][0]
    for canary in CANARIES:
        assert canary not in text_of(listed)
        assert canary not in text_of(items), f"{canary!r} is stored in clear"


def test_the_sealed_data_opens_only_for_its_own_order_and_client(account, dynamodb, table_name):
    from oms_amazon import wiring

    imported(account)
    (item,) = [i for i in all_items(dynamodb, table_name) if i["SK"]["S"].startswith("ORDERPII#")]
    blob = bytes(item["sealed"]["L"][0]["B"])
    vault = wiring.container().order_store._vault
    kms = boto3.client("kms")

    with pytest.raises(ClientError):
        kms.decrypt(CiphertextBlob=blob)  # without the order's encryption context
    with pytest.raises(ClientError):
        vault.open("another-client", ORDER_ID, [blob])
    assert vault.open("acme-outdoor", ORDER_ID, [blob]) == PII


def test_a_shipped_orders_buyer_data_is_deleted_after_the_retention_period(api, account, dynamodb, table_name):
    from oms_amazon import wiring

    first = imported(account)
    shipped = imported(account, status="Shipped", previous=first)
    assert shipped.status == "shipped"
    assert shipped.pii_expires_at is not None
    assert shipped.pii_expires_at - shipped.updated_at == timedelta(days=30)

    assert wiring.container().pii_purge.sweep(shipped.pii_expires_at - timedelta(minutes=1)) == 0
    assert api("GET", f"/orders/{ORDER_ID}")[1]["ship_to"]["name"] == NAME

    assert wiring.container().pii_purge.sweep(shipped.pii_expires_at + timedelta(minutes=1)) == 1

    assert not [i for i in all_items(dynamodb, table_name) if i["SK"]["S"].startswith("ORDERPII#")]
    status, body = api("GET", f"/orders/{ORDER_ID}")
    assert status == 200
    assert (body["ship_to"], body["buyer"], body["lines"][0]["gift_message"]) == (None, None, None)
    assert body["pii_purged_at"] is not None
    assert body["status"] == "shipped"


def test_a_reader_after_the_deletion_time_finds_the_data_deleted_not_hidden(api, account, dynamodb, table_name):
    first = imported(account)
    cancelled = imported(account, status="Canceled", previous=first)
    assert cancelled.pii_expires_at is not None

    with time_machine.travel(cancelled.pii_expires_at + timedelta(seconds=1), tick=False):
        status, body = api("GET", f"/orders/{ORDER_ID}")

    assert status == 200
    assert (body["ship_to"], body["buyer"]) == (None, None)
    assert body["pii_purged_at"] is not None
    assert not [i for i in all_items(dynamodb, table_name) if i["SK"]["S"].startswith("ORDERPII#")]


def test_buyer_data_that_was_deleted_is_never_stored_again(account, dynamodb, table_name):
    from oms_amazon import wiring

    first = imported(account)
    shipped = imported(account, status="Shipped", previous=first)
    assert shipped.pii_expires_at is not None
    wiring.container().pii_purge.sweep(shipped.pii_expires_at + timedelta(minutes=1))
    purged = wiring.container().order_store.get(account.client_id, ORDER_ID)
    assert purged is not None and purged.pii_purged_at is not None

    later = imported(account, status="Shipped", previous=purged, last_update_date=datetime.now(UTC) + timedelta(1))

    assert later.pii_purged_at == purged.pii_purged_at
    assert not [i for i in all_items(dynamodb, table_name) if i["SK"]["S"].startswith("ORDERPII#")]


def test_an_order_the_warehouse_does_not_ship_keeps_no_buyer_data(api, account, dynamodb, table_name):
    order = imported(account, amazon_handles_delivery=True)

    assert (order.status, order.not_for_us_reason, order.has_pii) == ("not_for_us", "amazon_handles_delivery", False)
    assert not [i for i in all_items(dynamodb, table_name) if i["SK"]["S"].startswith("ORDERPII#")]
    status, body = api("GET", f"/orders/{ORDER_ID}")
    assert body["not_for_us_reason"]["code"] == "amazon_handles_delivery"
    assert (status, body["ship_to"]) == (200, None)
    status, refused = despatch(api)
    assert (status, refused["error"]["code"]) == (409, "order_not_ready")
    assert "Easy Ship" in refused["error"]["message"]


def test_an_order_held_without_an_address_cannot_be_despatched(api, account):
    imported(account, pii=OrderPii(ship_to=ShipTo(city="London", postal_code="SW1A 1AA", country_code="GB")))

    status, body = despatch(api)

    assert (status, body["error"]["code"]) == (409, "order_not_ready")
    assert "address_unavailable" in body["error"]["message"]
