"""One simulator per test session, reset before every test; every SP-API answer checked against the model."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from local.simulator import LWA_CLIENT_ID, LWA_CLIENT_SECRET, SimulatorServer
from tests.contract.model_contract import contract

SELLER_ID = "A1SIMSELLER01"
REFRESH_TOKEN = "Atzr|local-contract-test-refresh-token-01"
OTHER_SELLER_ID = "A2OTHERSELLER9"
OTHER_REFRESH_TOKEN = "Atzr|local-contract-test-refresh-token-02"
UK = "A1F83G8C2ARO7P"
DE = "A1PA6795UKMFR9"
FR = "A13V1IB3VIYZZH"
US = "ATVPDKIKX0DER"
RATE_LIMIT_HEADER = "x-amzn-RateLimit-Limit"


class Amazon:
    """A test's view of the simulated Amazon: control calls, LWA, and model-checked SP-API calls."""

    def __init__(self, client: httpx.Client, server: SimulatorServer) -> None:
        self.client = client
        self.server = server
        self.access_token: str | None = None

    # --- control API ---------------------------------------------------------------------------------------

    def control(self, method: str, path: str, body: Any = None, *, expect: int = 200, **kwargs: Any) -> Any:
        response = self.client.request(method, path, json=body, **kwargs)
        assert response.status_code == expect, f"{method} {path}: {response.status_code} {response.text}"
        assert response.headers.get("x-amzn-RequestId")
        return response.json()

    def add_seller(
        self,
        seller_id: str = SELLER_ID,
        refresh_token: str = REFRESH_TOKEN,
        marketplaces: tuple[str, ...] = ("UK", "DE"),
        roles: list[str] | None = None,
        expect: int = 201,
    ) -> Any:
        body: dict[str, Any] = {
            "seller_id": seller_id,
            "refresh_token": refresh_token,
            "marketplaces": list(marketplaces),
        }
        if roles is not None:
            body["roles"] = roles
        return self.control("POST", "/_sim/sellers", body, expect=expect)

    def put_listings(self, marketplace: str, items: list[dict[str, Any]], seller_id: str = SELLER_ID) -> Any:
        return self.control("PUT", f"/_sim/sellers/{seller_id}/listings", {"marketplace": marketplace, "items": items})

    def listings(self, marketplace: str, seller_id: str = SELLER_ID) -> dict[str, int]:
        items = self.control("GET", f"/_sim/sellers/{seller_id}/listings", params={"marketplace": marketplace})["items"]
        return {item["sku"]: item["quantity"] for item in items}

    def add_orders(self, *orders: dict[str, Any], seller_id: str = SELLER_ID) -> Any:
        return self.control("POST", f"/_sim/sellers/{seller_id}/orders", {"orders": list(orders)})

    def order(self, order_id: str, seller_id: str = SELLER_ID) -> Any:
        return self.control("GET", f"/_sim/sellers/{seller_id}/orders/{order_id}")

    def config(self, **changes: Any) -> Any:
        return self.control("POST", "/_sim/config", changes)

    def calls(self) -> Any:
        return self.control("GET", "/_sim/calls")

    # --- LWA --------------------------------------------------------------------------------------------------

    def lwa(self, **form: str) -> httpx.Response:
        data = {"client_id": LWA_CLIENT_ID, "client_secret": LWA_CLIENT_SECRET, **form}
        response = self.client.post("/auth/o2/token", data=data)
        assert response.headers.get("x-amzn-RequestId")
        return response

    def token_for(self, refresh_token: str = REFRESH_TOKEN) -> str:
        response = self.lwa(grant_type="refresh_token", refresh_token=refresh_token)
        assert response.status_code == 200, response.text
        return str(response.json()["access_token"])

    # --- SP-API -----------------------------------------------------------------------------------------------

    def request_rdt(self, *resources: dict[str, Any], expect: int = 200, **kwargs: Any) -> httpx.Response:
        """createRestrictedDataToken for `{method, path, dataElements?}` resources, checked against the model."""
        body = kwargs.pop("json", {"restrictedResources": list(resources)})
        return self.sp(
            "tokens_2021-03-01",
            "createRestrictedDataToken",
            "POST",
            "/tokens/2021-03-01/restrictedDataToken",
            expect=expect,
            json=body,
            **kwargs,
        )

    def rdt(self, *resources: dict[str, Any]) -> str:
        return str(self.request_rdt(*resources).json()["restrictedDataToken"])

    def sp(
        self,
        model: str,
        operation_id: str,
        method: str,
        path: str,
        *,
        expect: int,
        token: str | None = None,
        with_token: bool = True,
        **kwargs: Any,
    ) -> httpx.Response:
        """Calls an SP-API route and checks the answer against Amazon's model for (operation, status)."""
        headers = dict(kwargs.pop("headers", {}))
        if with_token:
            headers["x-amz-access-token"] = token or self.access_token or ""
        response = self.client.request(method, path, headers=headers, **kwargs)
        assert response.status_code == expect, (
            f"{operation_id}: expected {expect}, got {response.status_code} {response.text}"
        )
        body = response.json() if response.content else None
        contract(model).assert_valid(operation_id, response.status_code, body)
        assert_amazon_headers(response, model, operation_id)
        return response


def assert_amazon_headers(response: httpx.Response, model: str, operation_id: str) -> None:
    status = response.status_code
    assert response.headers.get("x-amzn-RequestId"), "every answer carries x-amzn-RequestId"
    if 200 <= status < 300 or status in (400, 404):
        assert response.headers.get(RATE_LIMIT_HEADER), f"{status} should carry {RATE_LIMIT_HEADER}"
        assert RATE_LIMIT_HEADER in contract(model).declared_headers(operation_id, status)
    else:
        assert RATE_LIMIT_HEADER not in response.headers, f"{status} must not carry {RATE_LIMIT_HEADER}"


@pytest.fixture(scope="package")
def simulator_server() -> Iterator[SimulatorServer]:
    server = SimulatorServer(port=0).start()
    yield server
    server.stop()


@pytest.fixture
def amazon(simulator_server: SimulatorServer) -> Iterator[Amazon]:
    with httpx.Client(base_url=simulator_server.url, timeout=10) as client:
        client.post("/_sim/reset").raise_for_status()
        # The simulator also checks its own answers; any slip shows up in /_sim/calls.
        client.post("/_sim/config", json={"validate_responses": True}).raise_for_status()
        yield Amazon(client, simulator_server)
        violations = client.get("/_sim/calls").json()["contract_violations"]
        assert violations == [], json.dumps(violations, indent=1)


@pytest.fixture
def seller(amazon: Amazon) -> Amazon:
    """A seller in UK and DE, with an access token the SP-API calls use."""
    amazon.add_seller()
    amazon.access_token = amazon.token_for()
    return amazon


def v0_order(order_id: str = "202-0000001-0000001", **overrides: Any) -> dict[str, Any]:
    order: dict[str, Any] = {
        "AmazonOrderId": order_id,
        "PurchaseDate": "2025-03-01T09:00:00Z",
        "LastUpdateDate": "2025-03-01T09:30:00Z",
        "MarketplaceId": "UK",
        "FulfillmentChannel": "MFN",
        "ShipServiceLevel": "Std UK Dom_1",
        "ShipmentServiceLevelCategory": "Standard",
        "IsPrime": False,
        "OrderStatus": "Unshipped",
        "ShippingAddress": {"CountryCode": "GB"},
        "OrderItems": [
            {
                "OrderItemId": "10000000000001",
                "SellerSKU": "SKU-A",
                "QuantityOrdered": 2,
                "ItemPrice": {"CurrencyCode": "GBP", "Amount": "19.98"},
            }
        ],
    }
    order.update(overrides)
    return order


# An order with every piece of buyer data Amazon can hold, for the PII rules.
FULL_ADDRESS = {
    "Name": "Jane Doe",
    "CompanyName": "Doe Ltd",
    "AddressLine1": "1 High Street",
    "AddressLine2": "Flat 2",
    "AddressLine3": "Old Town",
    "City": "LEEDS",
    "County": "West Yorkshire",
    "StateOrRegion": "England",
    "Municipality": "Leeds",
    "PostalCode": "LS1 1AA",
    "CountryCode": "GB",
    "Phone": "+44 113 496 0000",
    "AddressType": "Residential",
}
FULL_BUYER = {
    "BuyerEmail": "abc123@marketplace.amazon.co.uk",
    "BuyerName": "John Doe",
    "BuyerCompanyName": "Doe Holdings",
    "PurchaseOrderNumber": "PO-77",
}
GIFT = {"GiftMessageText": "Happy birthday!", "GiftWrapLevel": "Classic"}


def pii_order(order_id: str = "202-0000001-0000001", **overrides: Any) -> dict[str, Any]:
    """A v0 order with a full address, buyer, delivery instruction and a gift line; delivery still ahead."""
    latest_delivery = (datetime.now(UTC) + timedelta(days=30)).strftime("%Y-%m-%dT%H:%M:%SZ")
    order = v0_order(
        order_id,
        ShippingAddress=dict(FULL_ADDRESS),
        BuyerInfo=dict(FULL_BUYER),
        DeliveryPreferences={"AddressInstructions": "Leave with the neighbour at no. 3"},
        LatestDeliveryDate=latest_delivery,
        OrderItems=[
            {
                "OrderItemId": "10000000000001",
                "SellerSKU": "SKU-A",
                "QuantityOrdered": 2,
                "ItemPrice": {"CurrencyCode": "GBP", "Amount": "19.98"},
                "IsGift": True,
                "BuyerInfo": dict(GIFT),
            }
        ],
    )
    order.update(overrides)
    return order
