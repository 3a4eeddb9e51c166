"""Canary secrets through every flow (SPEC §2, §4, §9): accounts created and patched with a canary
refresh token (under each alias), a legacy MWS token, prohibited AWS keys, Authorise Now's callback,
verify, stock sync, order import, a shipment confirmed with Amazon and a token Amazon rejects, all
against the SP-API simulator for a seller whose refresh token is the canary.

The canaries, every access token (`Atza|`) and refresh token (`Atzr|`) Amazon issued and every OAuth
code must never appear in a response body or header, a log line (the connector's Powertools JSON at
DEBUG, and every other logger), stdout/stderr, an exception (with its causes), a job message, an
EventBridge event (a rule on the connector's bus feeds an SQS queue in moto) or a DynamoDB item. They
are in Secrets Manager, which proves the flows really carried them."""

from __future__ import annotations

import io
import json
import logging
import re
from collections import Counter
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from local.stack import LocalStack
from tests.conftest import CANARY_REFRESH_TOKEN
from tests.security.conftest import Capture, moto, record_responses, reset, seller_secrets, table_items
from tests.security.world import amazon_order, expect, register_seller

CLIENT = "canary-client"
SELLER = "A2CANARYSELLER1"
REJECTED_SELLER = "A2CANARYREJECT1"
MWS_SELLER = "A2CANARYMWS0001"
SECOND_CANARY = "Atzr|IwEBISecondCanaryRefreshToken-must-never-leak-0002"
REJECTED_CANARY = "Atzr|IwEBIRejectedCanaryRefreshToken-must-never-leak-0003"
MWS_CANARY = "amzn.mws.c4a77a7e-0000-4ca7-a7e0-ca7a7e000004"
SHORT_CANARY = "Atzr|CanaryShort05"  # not a valid refresh token: refused, and never echoed
AWS_KEY_CANARY = "AKIACANARY0000000006"
AWS_SECRET_CANARY = "wJalrXUtnFEMI/K7MDENG/CanaryAwsSecretKey07"
CANARIES = [CANARY_REFRESH_TOKEN, SECOND_CANARY, REJECTED_CANARY, MWS_CANARY, SHORT_CANARY, AWS_KEY_CANARY]
CANARIES.append(AWS_SECRET_CANARY)
# The buyer's data (SPEC §6.8): only `GET /orders/{id}` may show it.
PII_CANARIES = {
    "ShippingAddress": {
        "Name": "Canary Recipient-Name",
        "AddressLine1": "1 Canary Wharf Lane",
        "City": "London",
        "PostalCode": "CA9 9NY",
        "CountryCode": "GB",
        "Phone": "+44 20 7946 0999",
    },
    "BuyerInfo": {"BuyerName": "Canary Buyer-Name", "BuyerEmail": "canary-buyer@marketplace.amazon.test"},
}
PII_GIFT = "Canary gift wording"
PII_TEXTS = ["Canary Recipient-Name", "1 Canary Wharf Lane", "CA9 9NY", "canary-buyer@marketplace.amazon.test"]
PII_TEXTS += ["Canary Buyer-Name", PII_GIFT]
ORDER_ROUTE = re.compile(r"^(response|result:ApiFunction):GET /orders/\d{3}-\d{7}-\d{7}$")
# Any LWA token (access `Atza|`, refresh `Atzr|`, also URL-encoded), whoever issued it.
TOKEN_SHAPE = re.compile(r"Atz[ar](?:\||%7[cC])[A-Za-z0-9_\-.~+/=]{8,}")


@pytest.fixture
def bus_queue(stack: LocalStack) -> str:
    """A rule on the connector's bus sending every connector event to an SQS queue (in moto)."""
    sqs, events = moto(stack, "sqs"), moto(stack, "events")
    url = sqs.create_queue(QueueName="security-canary-events")["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    bus = stack.names["ConnectorBus"]
    events.put_rule(Name="security-canary", EventBusName=bus, EventPattern=json.dumps({"source": [{"prefix": ""}]}))
    events.put_targets(Rule="security-canary", EventBusName=bus, Targets=[{"Id": "queue", "Arn": arn}])
    return str(url)


def drain(stack: LocalStack, url: str) -> list[str]:
    sqs, bodies = moto(stack, "sqs"), []
    while messages := sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", []):
        for message in messages:
            bodies.append(message["Body"])
            sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
    return bodies


@pytest.fixture
def fresh(stack: LocalStack) -> None:
    reset(stack)


def canary_order(order: dict[str, Any]) -> dict[str, Any]:
    """Amazon's order carrying the canary buyer data, with a gift message on its line."""
    lines = [{**line, "IsGift": True, "BuyerInfo": {"GiftMessageText": PII_GIFT}} for line in order["OrderItems"]]
    return {**order, **PII_CANARIES, "OrderItems": lines}


def _authorise_now(api: httpx.Client, simulator: httpx.Client, account_id: str, codes: list[str]) -> httpx.Response:
    consent = expect(api.get(f"/accounts/{account_id}/authorise", headers={"X-Client-Id": CLIENT}), 200)
    code = expect(simulator.post("/_sim/oauth/codes", json={"seller_id": SELLER}), 201)["code"]
    codes.append(code)
    return api.get(
        "/oauth/callback", params={"state": consent["state"], "spapi_oauth_code": code, "selling_partner_id": SELLER}
    )


def test_no_secret_leaves_the_connector_by_any_way_out(
    fresh: None, stack: LocalStack, simulator: httpx.Client, capture: Capture, bus_queue: str
) -> None:
    me = {"X-Client-Id": CLIENT}
    codes: list[str] = []
    with httpx.Client(base_url=stack.api_url, timeout=60) as api:
        record_responses(api, capture)
        register_seller(simulator, SELLER, CANARY_REFRESH_TOKEN, ("UK", "DE", "IT", "ES"))
        expect(
            simulator.put(
                f"/_sim/sellers/{SELLER}/listings",
                json={"marketplace": "UK", "items": [{"sku": "TENT-2P", "product_type": "PRODUCT", "quantity": 0}]},
            ),
            200,
        )

        # Accounts: the canary under each alias, a second canary patched in, refused shapes and keys.
        account = expect(
            api.post(
                "/accounts",
                json={
                    "merchant_id": SELLER,
                    "marketplace": "UK",
                    "auth_token": CANARY_REFRESH_TOKEN,
                    "active": True,
                    "sync_stock": True,
                    "default_courier_service": "Royal Mail 48",
                },
                headers=me,
            ),
            201,
        )
        expect(
            api.post(
                "/accounts",
                json={"merchantId": SELLER, "marketplace": "DE", "refresh_token": CANARY_REFRESH_TOKEN},
                headers=me,
            ),
            201,
        )
        expect(
            api.post(
                "/accounts",
                json={"merchant_id": MWS_SELLER, "marketplace": "FR", "MWSAuthToken": MWS_CANARY},
                headers=me,
            ),
            201,
        )
        expect(
            api.post(
                "/accounts", json={"merchant_id": SELLER, "marketplace": "IT", "auth_token": SHORT_CANARY}, headers=me
            ),
            400,
        )
        expect(
            api.post(
                "/accounts",
                json={
                    "merchant_id": SELLER,
                    "marketplace": "ES",
                    "AccessKey": AWS_KEY_CANARY,
                    "SecretAccessKey": AWS_SECRET_CANARY,
                },
                headers=me,
            ),
            400,
        )
        expect(api.patch(f"/accounts/{account['id']}", json={"auth_token": AWS_SECRET_CANARY}, headers=me), 400)
        expect(api.patch(f"/accounts/{account['id']}", json={"mws_auth_token": SECOND_CANARY}, headers=me), 200)
        assert SECOND_CANARY in json.dumps(seller_secrets(stack)), "the patched token is stored"

        # Authorise Now gives the seller's refresh token (the canary) back to the connector.
        page = _authorise_now(api, simulator, account["id"], codes)
        assert page.status_code == 200, page.text
        expect(api.post(f"/accounts/{account['id']}/verify", headers=me), 200)

        # Stock sync, order import and a shipment, each against Amazon with the canary.
        expect(api.put("/products/TENT-2P", json={"quantity_available": 4}, headers=me), 201)
        run = expect(api.post(f"/accounts/{account['id']}/stock-sync", headers=me), 202)
        assert stack.runner.wait_idle(120)
        expect(
            simulator.post(
                f"/_sim/sellers/{SELLER}/orders",
                json={
                    "orders": [
                        canary_order(amazon_order(11, "Std UK Dom_1", "Standard")),
                        canary_order(amazon_order(12, "NextDay", "NextDay", prime=True)),
                    ]
                },
            ),
            200,
            201,
        )
        expect(api.post(f"/accounts/{account['id']}/order-import", headers=me), 202)
        assert stack.runner.wait_idle(120)
        orders = expect(api.get("/orders", headers=me), 200)["items"]
        assert len(orders) == 2
        (ready,) = [o for o in orders if o["status"] == "ready"]
        expect(
            api.post(
                f"/orders/{ready['amazon_order_id']}/shipments",
                json={
                    "carrier_code": "Royal Mail",
                    "shipping_method": "Tracked 48",
                    "tracking_number": "RM123456785GB",
                    "ship_date": ready["purchase_date"],
                },
                headers=me,
            ),
            202,
        )
        assert stack.runner.wait_idle(120)

        # A token Amazon rejects: the rejected path logs and records, but never the token.
        register_seller(simulator, REJECTED_SELLER, REJECTED_CANARY)
        rejected = expect(
            api.post(
                "/accounts",
                json={
                    "merchant_id": REJECTED_SELLER,
                    "marketplace": "UK",
                    "auth_token": REJECTED_CANARY,
                    "active": True,
                    "sync_stock": True,
                },
                headers=me,
            ),
            201,
        )
        expect(simulator.post(f"/_sim/sellers/{REJECTED_SELLER}/revoke", json={"revoke_access_tokens": True}), 200, 204)
        api.post(f"/accounts/{rejected['id']}/stock-sync", headers=me)
        api.post(f"/accounts/{rejected['id']}/order-import", headers=me)
        assert stack.runner.wait_idle(120)
        api.post(f"/accounts/{rejected['id']}/verify", headers=me)
        # A replayed OAuth code and a replayed state are refused without echoing either.
        replay = api.get(
            "/oauth/callback", params={"state": "x" * 40, "spapi_oauth_code": codes[0], "selling_partner_id": SELLER}
        )
        assert replay.status_code in (400, 409)

        # Everything the client can read back.
        for path in ["/accounts", f"/accounts/{account['id']}", f"/accounts/{rejected['id']}", "/orders", "/products"]:
            expect(api.get(path, headers=me), 200)
        expect(api.get(f"/accounts/{account['id']}/stock-sync-runs/{run['run_id']}", headers=me), 200)
        for order in orders:
            expect(api.get(f"/orders/{order['amazon_order_id']}", headers=me), 200)

    capture.collect()
    events = drain(stack, bus_queue)
    for event in events:
        capture.add("eventbridge", event)
    for item in table_items(stack):
        capture.add("dynamodb", json.dumps(item, default=repr))

    # The flows really ran with the canaries (or this test would prove nothing) ...
    stored = json.dumps(seller_secrets(stack))
    assert CANARY_REFRESH_TOKEN in stored, "the canary is in Secrets Manager, where it belongs"
    assert MWS_CANARY in stored, "a legacy MWS token is kept (write-only) until Authorise Now replaces it"
    calls = simulator.get("/_sim/calls").json()["counts"]
    assert calls.get("lwaToken", 0) >= 2 and calls.get("searchOrders", 0) + calls.get("getOrders", 0) >= 1, calls
    assert events, "order events reached the bus"
    assert capture.where("log:oms-amazon-connector"), "the connector's log lines were captured"
    assert (
        expect(httpx.get(f"{stack.api_url}/accounts/{rejected['id']}", headers=me), 200)["authorisation"]["status"]
        == "rejected"
    )

    # ... and not one of them, nor any token Amazon issued, nor an OAuth code, got out.
    leaks = capture.leaks([*CANARIES, *codes], [TOKEN_SHAPE])
    assert leaks == [], "\n".join(f"{where}: {secret!r} in …{excerpt}…" for where, secret, excerpt in leaks[:20])

    # The buyer's data reached the warehouse's view of the order, and nothing else: no log line, list,
    # event, job message, run record, exception or item in clear (it is sealed in the table).
    opened = [text for where, text in capture.texts if ORDER_ROUTE.match(where)]
    assert any(PII_GIFT in text and "Canary Recipient-Name" in text for text in opened), "GET /orders/{id} shows it"
    pii_leaks = [(w, s, e) for w, s, e in capture.leaks(PII_TEXTS) if not ORDER_ROUTE.match(w)]
    assert pii_leaks == [], "\n".join(f"{where}: {pii!r} in …{excerpt}…" for where, pii, excerpt in pii_leaks[:20])
    sources = Counter(where.split(":")[0] for where, _ in capture.texts)
    assert {"response", "log", "eventbridge", "dynamodb", "stdout", "stderr"} <= set(sources), sources
    print(f"\nsecrets: {len(CANARIES) + len(codes)} canaries and codes + the LWA token shape, in {dict(sources)}")


@pytest.fixture
def log_output() -> Iterator[io.StringIO]:
    from oms_amazon.observability import logger

    buffer = io.StringIO()
    handler = logger.registered_handler
    assert isinstance(handler, logging.StreamHandler)
    previous = handler.setStream(buffer)
    level = logger.log_level
    logger.setLevel("DEBUG")
    try:
        yield buffer
    finally:
        handler.setStream(previous)
        logger.setLevel(level)
        logger.clear_state()


@pytest.mark.unit
@pytest.mark.security
def test_the_logger_redacts_a_canary_however_it_is_logged(log_output: io.StringIO) -> None:
    from oms_amazon.observability import logger

    access = "Atza|IwEBICanaryAccessToken-must-never-leak-0008"
    logger.append_keys(token=CANARY_REFRESH_TOKEN)
    logger.info(f"refreshing {CANARY_REFRESH_TOKEN}")
    logger.info("exchanged %s for %s", CANARY_REFRESH_TOKEN, access, extra={"body": {"refresh_token": SECOND_CANARY}})
    logger.warning(
        "legacy", extra={"auth_token": MWS_CANARY, "url": "/oauth/callback?spapi_oauth_code=ANdNcanary09&x=1"}
    )
    try:
        raise ValueError(f"LWA said invalid_grant for {REJECTED_CANARY}")
    except ValueError:
        logger.exception("refresh failed")

    output = log_output.getvalue()

    assert len(output.splitlines()) == 4 and all(json.loads(line) for line in output.splitlines())
    for secret in (CANARY_REFRESH_TOKEN, SECOND_CANARY, REJECTED_CANARY, MWS_CANARY, access, "ANdNcanary09"):
        assert secret not in output, secret
    assert "***" in output
