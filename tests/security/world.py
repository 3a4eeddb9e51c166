"""A client's whole world on the local stack, built through the API as a client would: an authorised
account, a product, an account-scoped courier mapping, imported orders (one ready, one held on an
unmapped term), a stock-sync run and, when the route exists, a shipment."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from local.stack import LocalStack
from tests.builders import ship_to

UK = "A1F83G8C2ARO7P"


@dataclass
class World:
    client_id: str
    seller_id: str
    refresh_token: str
    account: dict[str, Any] = field(default_factory=dict)
    sku: str = "TENT-2P"
    second_sku: str = "MAT-BLUE"
    alias_sku: str = "OLD-TENT"
    mapping: dict[str, Any] = field(default_factory=dict)
    order_ids: list[str] = field(default_factory=list)
    run_id: str = ""
    shipment: dict[str, Any] | None = None
    ids: list[str] = field(default_factory=list)

    @property
    def headers(self) -> dict[str, str]:
        return {"X-Client-Id": self.client_id}

    @property
    def account_id(self) -> str:
        return str(self.account["id"])

    @property
    def order_id(self) -> str:
        return self.order_ids[0]

    def identifiers(self) -> list[str]:
        """Strings that only this client's data contains: the ids of its accounts, mappings, orders, runs."""
        return list(self.ids)


def amazon_order(n: int, level: str, category: str, *, prime: bool = False, sku: str = "TENT-2P") -> dict[str, Any]:
    moment = (datetime.now(UTC) - timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    return {
        "AmazonOrderId": f"203-{n:07d}-{n:07d}",
        "PurchaseDate": moment,
        "LastUpdateDate": moment,
        "MarketplaceId": UK,
        "FulfillmentChannel": "MFN",
        "ShipServiceLevel": level,
        "ShipmentServiceLevelCategory": category,
        "IsPrime": prime,
        "OrderStatus": "Unshipped",
        "ShippingAddress": ship_to("GB", n),
        "OrderItems": [
            {
                "OrderItemId": f"{n:014d}",
                "SellerSKU": sku,
                "QuantityOrdered": 1,
                "ItemPrice": {"CurrencyCode": "GBP", "Amount": "20.00"},
            }
        ],
    }


def expect(response: httpx.Response, *statuses: int) -> Any:
    assert response.status_code in statuses, f"{response.request.method} {response.request.url}: {response.text}"
    return response.json() if response.content else None


def register_seller(
    simulator: httpx.Client, seller_id: str, refresh_token: str, marketplaces: tuple[str, ...] = ("UK",)
) -> None:
    expect(
        simulator.post(
            "/_sim/sellers",
            json={"seller_id": seller_id, "refresh_token": refresh_token, "marketplaces": list(marketplaces)},
        ),
        200,
        201,
    )


def build_world(
    stack: LocalStack,
    api: httpx.Client,
    simulator: httpx.Client,
    *,
    client_id: str,
    seller_id: str,
    refresh_token: str,
    first_order: int = 1,
) -> World:
    world = World(client_id=client_id, seller_id=seller_id, refresh_token=refresh_token)
    headers = world.headers
    register_seller(simulator, seller_id, refresh_token)
    expect(
        simulator.put(
            f"/_sim/sellers/{seller_id}/listings",
            json={"marketplace": "UK", "items": [{"sku": world.sku, "product_type": "PRODUCT", "quantity": 0}]},
        ),
        200,
    )
    world.account = expect(
        api.post(
            "/accounts",
            json={
                "merchant_id": seller_id,
                "marketplace": "UK",
                "auth_token": refresh_token,
                "active": True,
                "sync_stock": True,
                "default_courier_service": "Royal Mail 48",
            },
            headers=headers,
        ),
        201,
    )
    expect(api.put(f"/products/{world.sku}", json={"quantity_available": 5}, headers=headers), 201)
    # A second of everything listable, so that each list has a next page whose token another client could replay.
    expect(api.put(f"/products/{world.second_sku}", json={"quantity_available": 2}, headers=headers), 201)
    expect(api.post("/accounts", json={"merchant_id": seller_id, "marketplace": "DE"}, headers=headers), 201)
    expect(
        api.post("/courier-mappings", json={"amazon_term": "EXP UK DOM", "courier_service": "DHL"}, headers=headers),
        201,
    )
    world.mapping = expect(
        api.post(
            "/courier-mappings",
            json={"amazon_term": "STD UK DOM", "courier_service": "DPD", "account_id": world.account_id},
            headers=headers,
        ),
        201,
    )
    # SKU aliases: two client-wide (a list with a next page) and one of the account's own.
    expect(api.put(f"/sku-aliases/{world.alias_sku}", json={"oms_sku": world.sku}, headers=headers), 201)
    expect(api.put("/sku-aliases/OLD-MAT", json={"oms_sku": world.second_sku}, headers=headers), 201)
    expect(
        api.put(
            f"/sku-aliases/{world.alias_sku}",
            json={"oms_sku": world.second_sku, "account_id": world.account_id},
            headers=headers,
        ),
        201,
    )
    ready, held = first_order, first_order + 1
    expect(
        simulator.post(
            f"/_sim/sellers/{seller_id}/orders",
            json={
                "orders": [
                    amazon_order(ready, "Std UK Dom_1", "Standard"),
                    amazon_order(held, "NextDay", "NextDay", prime=True),
                ]
            },
        ),
        200,
        201,
    )
    expect(api.post(f"/accounts/{world.account_id}/order-import", headers=headers), 202)
    assert stack.runner.wait_idle(120)
    world.run_id = expect(api.post(f"/accounts/{world.account_id}/stock-sync", headers=headers), 202)["run_id"]
    assert stack.runner.wait_idle(120)
    orders = expect(api.get("/orders", headers=headers), 200)["items"]
    world.order_ids = sorted(o["amazon_order_id"] for o in orders)
    assert len(world.order_ids) == 2, orders
    run = expect(api.get(f"/accounts/{world.account_id}/stock-sync-runs/{world.run_id}", headers=headers), 200)
    assert run["status"] in ("submitted", "done"), run
    paths = expect(api.get("/openapi.json"), 200)["paths"]
    if "post" in paths.get("/orders/{order_id}/shipments", {}):
        world.shipment = expect(
            api.post(
                f"/orders/{world.order_id}/shipments",
                json={
                    "carrier_code": "Royal Mail",
                    "shipping_method": "Tracked 48",
                    "tracking_number": "RM123456785GB",
                    "ship_date": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
                },
                headers=headers,
            ),
            200,
            201,
            202,
        )
        assert stack.runner.wait_idle(120)
    accounts = expect(api.get("/accounts", headers=headers), 200)["items"]
    mappings = expect(api.get("/courier-mappings", headers=headers), 200)["items"]
    world.ids = [a["id"] for a in accounts] + [m["id"] for m in mappings] + world.order_ids + [world.run_id]
    return world
