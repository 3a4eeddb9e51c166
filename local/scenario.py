"""`make run`: the connector's main job played on the local stack through the public API only, as
an OMS would call it, with the SP-API simulator standing in for Amazon (its control API plays the
seller's and Amazon's side). Prints readable tables; exits non-zero on the first step that does not
behave as the product promises."""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx

from local.stack import LocalStack, Ports
from local.template import schedules

CLIENT = "acme-outdoor"
OTHER_CLIENT = "bluebird-gifts"
SELLER = "A2SELLERUK01"
LEGACY_MWS_TOKEN = "amzn.mws.4ea38b7b-f563-7709-4bae-87aea1b2c3d4"
# The simulator's record of the seller's authorisation (local only; Amazon issues real ones).
SELLER_REFRESH_TOKEN = "Atzr|IwEBI-local-scenario-seller-token-0001"
UK, DE = "A1F83G8C2ARO7P", "A1PA6795UKMFR9"


class ScenarioFailed(Exception):
    pass


@dataclass
class World:
    api: httpx.Client
    sim: httpx.Client
    stack: LocalStack
    state: dict[str, Any] = field(default_factory=dict)

    def call(
        self, method: str, path: str, body: Any = None, *, client_id: str = CLIENT, **params: Any
    ) -> httpx.Response:
        return self.api.request(method, path, json=body, headers={"X-Client-Id": client_id}, params=params or None)

    def expect(self, status: int, method: str, path: str, body: Any = None, **kwargs: Any) -> Any:
        response = self.call(method, path, body, **kwargs)
        if response.status_code != status:
            raise ScenarioFailed(
                f"{method} {path}: expected {status}, got {response.status_code}: {response.text[:400]}"
            )
        return response.json() if response.content else {}

    def amazon(self, method: str, path: str, body: Any = None, **params: Any) -> Any:
        response = self.sim.request(method, path, json=body, params=params or None)
        if response.status_code >= 400:
            raise ScenarioFailed(f"simulator {method} {path}: {response.status_code} {response.text[:300]}")
        return response.json() if response.content else {}

    def settle(self, what: str) -> None:
        say(f"    … waiting for the {what} (SQS worker)")
        if not self.stack.runner.wait_idle(180):
            raise ScenarioFailed(f"the {what} did not finish in time")


def table(headers: list[str], rows: list[list[Any]]) -> str:
    cells = [[str(h) for h in headers]] + [["" if v is None else str(v) for v in row] for row in rows]
    widths = [max(len(row[i]) for row in cells) for i in range(len(headers))]
    lines = ["  ".join(value.ljust(widths[i]) for i, value in enumerate(row)).rstrip() for row in cells]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join("    " + line for line in lines)


def say(text: str) -> None:
    print(text, flush=True)


def check(condition: bool, message: str) -> None:
    if not condition:
        raise ScenarioFailed(message)


STEPS: list[tuple[str, Callable[[World], None]]] = []


def step(title: str) -> Callable[[Callable[[World], None]], Callable[[World], None]]:
    def register(function: Callable[[World], None]) -> Callable[[World], None]:
        STEPS.append((title, function))
        return function

    return register


@step("Amazon side: a seller on UK and DE with its listings (SKUs exactly as Seller Central holds them)")
def amazon_seller(world: World) -> None:
    world.amazon(
        "POST",
        "/_sim/sellers",
        {"seller_id": SELLER, "refresh_token": SELLER_REFRESH_TOKEN, "marketplaces": ["UK", "DE"]},
    )
    listings = {
        "TENT-2P": "TENT",
        "MAT-BLUE": "SLEEPING_MAT",
        "STOVE-MINI": "STOVE",
        "LAMP-LED": "LAMP",
        "CAMP-KIT": "KIT",
    }
    for marketplace in ("UK", "DE"):
        items = [{"sku": sku, "product_type": kind, "quantity": 0} for sku, kind in listings.items()]
        world.amazon("PUT", f"/_sim/sellers/{SELLER}/listings", {"marketplace": marketplace, "items": items})
    say(table(["seller", "marketplaces", "listed SKUs"], [[SELLER, "UK, DE", ", ".join(listings)]]))


@step("Connect the client's UK account with the seed's field names and its old MWS token")
def connect_uk(world: World) -> None:
    account = world.expect(
        201, "POST", "/accounts", {"merchantId": SELLER.lower(), "marketplace": "UK", "MWSAuthToken": LEGACY_MWS_TOKEN}
    )
    world.state["uk"] = account
    auth = account["authorisation"]
    say(
        table(
            ["account", "seller", "marketplace", "active", "authorisation"],
            [
                [
                    account["id"][:8],
                    account["merchant_id"],
                    "UK",
                    account["active"],
                    f"{auth['type']} / {auth['status']}",
                ]
            ],
        )
    )
    check(
        auth["status"] == "authorisation_required" and not account["active"], "an MWS token must wait for authorisation"
    )
    refused = world.expect(409, "PATCH", f"/accounts/{account['id']}", {"active": True})
    say(f"    activating it now: 409 {refused['error']['code']} — {refused['error']['message'][:110]}…")


@step("Refuse custom AWS access keys (both set, then one left set)")
def refuse_keys(world: World) -> None:
    base = {"merchant_id": SELLER, "marketplace": "DE"}
    both = world.expect(400, "POST", "/accounts", {**base, "AccessKey": "AKIAEXAMPLE", "SecretAccessKey": "secret"})
    one = world.expect(400, "POST", "/accounts", {**base, "AccessKey": "", "SecretAccessKey": "secret"})
    say(
        table(
            ["keys sent", "status", "code"],
            [
                ["AccessKey + SecretAccessKey", 400, both["error"]["code"]],
                ["SecretAccessKey only", 400, one["error"]["code"]],
            ],
        )
    )
    say(f"    {both['error']['message'][:150]}…")
    check(world.expect(200, "GET", "/accounts", marketplace="DE")["items"] == [], "a refused create must store nothing")


@step("Authorise Now: the seller consents on Seller Central, Amazon redirects to the connector")
def authorise(world: World) -> None:
    account = world.state["uk"]
    consent = world.expect(200, "GET", f"/accounts/{account['id']}/authorise")
    query = parse_qs(urlsplit(consent["consent_url"]).query)
    say(f"    consent URL: {consent['consent_url'].split('?')[0]}?application_id={query['application_id'][0]}&state=…")
    code = world.amazon("POST", "/_sim/oauth/codes", {"seller_id": SELLER})["code"]
    callback = world.api.get(
        "/oauth/callback", params={"state": consent["state"], "spapi_oauth_code": code, "selling_partner_id": SELLER}
    )
    check(callback.status_code == 200, f"the OAuth callback answered {callback.status_code}")
    replay = world.api.get(
        "/oauth/callback", params={"state": consent["state"], "spapi_oauth_code": code, "selling_partner_id": SELLER}
    )
    verified = world.expect(200, "POST", f"/accounts/{account['id']}/verify")
    world.state["uk"] = world.expect(200, "GET", f"/accounts/{account['id']}")
    say(
        table(
            ["step", "result"],
            [
                ["callback", f"{callback.status_code} (HTML page)"],
                ["same state again", f"{replay.status_code} (single use)"],
                ["verify", f"participating={verified['participating']} store={verified['store_name']}"],
                ["authorisation", world.state["uk"]["authorisation"]["status"]],
            ],
        )
    )
    check(
        world.state["uk"]["authorisation"]["status"] == "ok" and replay.status_code >= 400,
        "authorisation must succeed once",
    )


@step("Connect DE for the same seller: one authorisation serves every marketplace")
def connect_de(world: World) -> None:
    account = world.expect(
        201, "POST", "/accounts", {"merchant_id": SELLER, "marketplace": DE, "default_courier_service": "DHL Paket"}
    )
    world.state["de"] = account
    say(
        table(
            ["marketplace", "marketplace_id", "authorisation"],
            [
                [a["marketplace"], a["marketplace_id"], a["authorisation"]["status"]]
                for a in (world.state["uk"], account)
            ],
        )
    )
    check(account["authorisation"]["status"] == "ok", "the seller's authorisation must carry over")


@step("Refuse a duplicate, a 14-minute stock delay and another client's look")
def refusals(world: World) -> None:
    uk = world.state["uk"]
    duplicate = world.expect(409, "POST", "/accounts", {"merchant_id": SELLER, "marketplace": "UK"})
    delay = world.expect(400, "PATCH", f"/accounts/{uk['id']}", {"stock_sync_delay_minutes": 14})
    other = world.expect(404, "GET", f"/accounts/{uk['id']}", client_id=OTHER_CLIENT)
    say(
        table(
            ["attempt", "status", "code"],
            [
                ["same seller + marketplace again", 409, duplicate["error"]["code"]],
                ["stock_sync_delay_minutes = 14", 400, delay["error"]["code"]],
                [f"{OTHER_CLIENT} reads {CLIENT}'s account", 404, other["error"]["code"]],
            ],
        )
    )


@step("Activate both accounts: stock sync every 15 minutes, bundles included, order import on")
def activate(world: World) -> None:
    rows = []
    for key, extra in (
        ("uk", {"default_courier_service": "Royal Mail 48"}),
        ("de", {"stock_rules": {"max_quantity": 10}}),
    ):
        body = {
            "active": True,
            "sync_stock": True,
            "include_bundles_in_stock_sync": True,
            "stock_sync_delay_minutes": 15,
            **extra,
        }
        account = world.expect(200, "PATCH", f"/accounts/{world.state[key]['id']}", body)
        world.state[key] = account
        rows.append(
            [
                account["marketplace"],
                account["active"],
                account["sync_stock"],
                account["include_bundles_in_stock_sync"],
                account["stock_rules"],
                account["default_courier_service"],
            ]
        )
    say(table(["marketplace", "active", "sync_stock", "bundles", "stock_rules", "default courier"], rows))


@step("Courier service mappings (Shipping > Courier Service Mappings)")
def mappings(world: World) -> None:
    wanted = [
        ("STD UK DOM", "Royal Mail 48"),
        ("std uk dom - prime", "DPD Next Day"),
        ("EXP UK INT", "DHL Express"),
        ("STD DE DOM", "DHL Paket"),
    ]
    rows = []
    for term, courier in wanted:
        mapping = world.expect(201, "POST", "/courier-mappings", {"amazon_term": term, "courier_service": courier})
        rows.append([term, "", mapping["amazon_term"], courier])
    # Amazon's own wording, with the marketplace it belongs to: a zone (Dom_2) gets its own courier.
    zone = {"amazon_term": "Std UK Dom_2", "marketplace": "UK", "courier_service": "Royal Mail 24"}
    mapping = world.expect(201, "POST", "/courier-mappings", zone)
    rows.append([zone["amazon_term"], "UK", mapping["amazon_term"], zone["courier_service"]])
    say(table(["typed", "marketplace", "stored (canonical)", "courier service"], rows))
    vague = world.call("POST", "/courier-mappings", {"amazon_term": "NextDay", "courier_service": "DPD Next Day"})
    check(vague.status_code == 400, "a level without its marketplace must be refused")
    error = vague.json()["error"]
    say(f"    'NextDay' without a marketplace → {vague.status_code} {error['code']}: {error['message']}")
    resolved = world.expect(
        200,
        "POST",
        "/shipping-terms/resolve",
        {"marketplace": "UK", "ship_service_level": "Std UK Dom_2", "is_prime": True},
    )
    say(
        f"    'Std UK Dom_2' on a Prime order → {resolved['term']} → {resolved['courier_service']} (via {resolved['source']})"
    )


@step("OMS products and a bundle (one all-or-nothing batch)")
def products(world: World) -> None:
    catalogue: list[dict[str, Any]] = [
        {"sku": "TENT-2P", "name": "Two-person tent", "quantity_available": 14},
        {"sku": "MAT-BLUE", "name": "Sleeping mat", "quantity_available": 9},
        {"sku": "stove-mini", "name": "Mini stove (case differs from Amazon)", "quantity_available": 30},
        {"sku": "LAMP-LED", "name": "LED lamp", "quantity_available": -2},
        {
            "sku": "CAMP-KIT",
            "name": "Tent + two mats",
            "components": [{"sku": "TENT-2P", "quantity": 1}, {"sku": "MAT-BLUE", "quantity": 2}],
        },
    ]
    bad = world.call(
        "POST", "/products/batch", {"products": [*catalogue, {"sku": " padded ", "quantity_available": 1}]}
    )
    check(bad.status_code == 400, "a batch with one bad SKU must be refused whole")
    world.expect(200, "POST", "/products/batch", {"products": catalogue})
    say(
        table(
            ["sku", "available", "components"],
            [
                [
                    p["sku"],
                    p.get("quantity_available", "—"),
                    ", ".join(f"{c['quantity']}×{c['sku']}" for c in p.get("components", [])),
                ]
                for p in catalogue
            ],
        )
    )
    say("    a batch with one padded SKU was refused whole (400) before this one was stored")


@step("Stock sync: one merged push for the seller's UK and DE listings")
def stock_sync(world: World) -> None:
    uk = world.state["uk"]
    queued = world.expect(202, "POST", f"/accounts/{uk['id']}/stock-sync")
    world.settle("stock sync")
    run = world.expect(200, "GET", f"/accounts/{uk['id']}/stock-sync-runs/{queued['run_id']}")
    say(
        table(
            ["run", "status", "sent", "transport", "skipped", "conflicts"],
            [
                [
                    run["run_id"][-6:],
                    run["status"],
                    run["skus_sent"],
                    run["transport"],
                    run["skipped"],
                    [c["sku"] for c in run["conflicts"]],
                ]
            ],
        )
    )
    rows = []
    for marketplace in ("UK", "DE"):
        held = {
            i["sku"]: i["quantity"]
            for i in world.amazon("GET", f"/_sim/sellers/{SELLER}/listings", marketplace=marketplace)["items"]
        }
        rows.append(
            [marketplace, *(held[sku] for sku in ("TENT-2P", "MAT-BLUE", "STOVE-MINI", "LAMP-LED", "CAMP-KIT"))]
        )
    say(table(["Amazon now", "TENT-2P", "MAT-BLUE", "STOVE-MINI", "LAMP-LED", "CAMP-KIT"], rows))
    report = world.expect(200, "GET", f"/accounts/{uk['id']}/sku-report")
    say(
        table(
            ["Amazon SKU", "OMS SKU", "finding"],
            [
                [m["amazon_sku"], m["oms_sku"], "case differs: not synced (sku_case_mismatch)"]
                for m in report["case_mismatches"]
            ],
        )
    )
    check(run["status"] == "done" and report["case_mismatches"], "the case mismatch must be reported")
    before = world.amazon("GET", "/_sim/calls")["counts"]
    again = world.expect(202, "POST", f"/accounts/{uk['id']}/stock-sync")
    world.settle("second stock sync")
    after = world.amazon("GET", "/_sim/calls")["counts"]
    second = world.expect(200, "GET", f"/accounts/{uk['id']}/stock-sync-runs/{again['run_id']}")
    extra = {k: after[k] - before.get(k, 0) for k in after if after[k] != before.get(k, 0)}
    say(
        f"    run again with nothing changed: {second['skus_sent']} sent, {second['skus_unchanged']} unchanged, Amazon calls made: {extra or 'none'}"
    )


BUYERS = [
    "Jane Smith",
    "Arjun Patel",
    "Olivia Brown",
    "Tom Evans",
    "Marie Dubois",
    "Sam Jones",
    "Lena Vogel",
    "Ada Wong",
]


def _order(n: int, level: str | None, category: str, **extra: Any) -> dict[str, Any]:
    moment = (datetime.now(UTC) - timedelta(minutes=30)).strftime("%Y-%m-%dT%H:%M:%SZ")
    sku = extra.pop("sku", "TENT-2P")
    buyer = BUYERS[(n - 1) % len(BUYERS)]
    country = extra.pop("country", "GB")
    item: dict[str, Any] = {
        "OrderItemId": f"{n:014d}",
        "SellerSKU": sku,
        "ASIN": "B0TENT0002",
        "Title": "Trailhead two-person tent",
        "ConditionId": "New",
        "QuantityOrdered": 1,
        "ItemPrice": {"CurrencyCode": "GBP", "Amount": "89.00"},
        "ItemTax": {"CurrencyCode": "GBP", "Amount": "14.83"},
    }
    if "gift" in extra:
        item["IsGift"] = True
        item["BuyerInfo"] = {"GiftMessageText": extra.pop("gift"), "GiftWrapLevel": "Classic"}
    order = {
        "AmazonOrderId": f"202-5550000-{n:07d}",
        "PurchaseDate": moment,
        "LastUpdateDate": moment,
        "MarketplaceId": extra.pop("marketplace_id", UK),
        "FulfillmentChannel": extra.pop("channel", "MFN"),
        "ShipmentServiceLevelCategory": category,
        "IsPrime": extra.pop("prime", False),
        "OrderStatus": extra.pop("status", "Unshipped"),
        "ShippingAddress": {
            "Name": buyer,
            "AddressLine1": f"{n} High Street",
            "City": "London" if country == "GB" else "Paris",
            "PostalCode": "SW1A 1AA" if country == "GB" else "75001",
            "CountryCode": country,
            "Phone": "+44 20 7946 0000",
            "AddressType": "Residential",
        },
        "BuyerInfo": {"BuyerName": buyer, "BuyerEmail": f"buyer{n}@marketplace.amazon.co.uk"},
        "OrderTotal": {"CurrencyCode": "GBP", "Amount": "89.00"},
        "OrderItems": [item],
    }
    if level:
        order["ShipServiceLevel"] = level
    return order


def masked(text: str | None) -> str:
    """A name as the scenario prints it: `Jane Smith` -> `J*** S****` (the demo shows there is one)."""
    return " ".join(word[0] + "*" * (len(word) - 1) for word in (text or "").split()) or "-"


@step("Order import: orders of every term kind (v0 levels, zones, Prime, NEXT, international, FBA, cancelled)")
def order_import(world: World) -> None:
    orders = [
        _order(1, "Std UK Dom_1", "Standard"),
        _order(2, "Std UK Dom_2", "Standard", prime=True, gift="Happy birthday, love from us all"),
        _order(3, "NextDay", "NextDay"),
        _order(4, "NextDay", "NextDay", prime=True),
        _order(5, "Exp UK Int", "Expedited", country="FR"),
        _order(6, "Std UK Dom_1", "Standard", sku="STOVE-MINI"),
        _order(7, "Std UK Dom_1", "Standard", sku="GHOST-1"),
        _order(8, "Std UK Dom_1", "Standard", status="Canceled"),
        _order(9, "Std UK Dom_1", "Standard", channel="AFN"),
        _order(10, "Std UK Dom_2", "Standard"),
    ]
    world.amazon("POST", f"/_sim/sellers/{SELLER}/orders", {"orders": orders})
    world.expect(202, "POST", f"/accounts/{world.state['uk']['id']}/order-import")
    world.settle("order import")
    found = world.expect(200, "GET", "/orders", limit=100)["items"]
    rows = [
        [
            o["amazon_order_id"][-2:],
            o["ship_service_level"] or o["service_level_category"],
            o["shipping_term"],
            o["courier_service"],
            o["status"],
            ", ".join(h["code"] for h in o["hold_reasons"]),
        ]
        for o in sorted(found, key=lambda o: o["amazon_order_id"])
    ]
    say(table(["order", "Amazon level", "term", "courier service", "status", "hold reasons"], rows))
    say("    order 09 is fulfilled by Amazon (FBA): not the warehouse's, not imported")
    say("    order 10's zone (Dom_2) found its own mapping: Orders API 2026-01-01 gives only a category, so the")
    say("    level is read from Orders v0 until v0's reads retire (2027-03-27)")
    say("    order 03 (NextDay) is held, not given the account's default courier: a default covers standard terms only")
    world.state["orders"] = orders_by_id = {o["amazon_order_id"][-2:]: o for o in found}
    check(len(found) == 9 and "09" not in orders_by_id, "every merchant-fulfilled order must be stored once")
    check(orders_by_id["10"]["courier_service"] == "Royal Mail 24", "the zone mapping must match on the default API")
    check(orders_by_id["03"]["status"] == "on_hold", "a NextDay order must be held, not defaulted")


@step("The order a warehouse ships from: label address, buyer, titles, gift message (buyer data kept sealed)")
def label_ready(world: World) -> None:
    order = world.expect(200, "GET", "/orders/202-5550000-0000002")
    ship_to, buyer = order["ship_to"] or {}, order["buyer"] or {}
    line = order["lines"][0]
    say(
        table(
            ["field", "value"],
            [
                ["recipient", masked(ship_to.get("name"))],
                ["address", f"{ship_to.get('address_line_1')}, {ship_to.get('city')} {ship_to.get('postal_code')}"],
                ["country / phone", f"{ship_to.get('country_code')} / {'on file' if ship_to.get('phone') else '-'}"],
                ["buyer email", "…@" + str(buyer.get("email", "")).split("@")[-1]],
                ["line", f"{line['quantity']} × {line['title']} ({line['asin']}, {line['condition']})"],
                ["gift", f"{line['gift_wrap_level']}: “{line['gift_message']}”"],
                ["order total", f"{order['order_total']['amount']} {order['order_total']['currency']}"],
            ],
        )
    )
    listed = world.expect(200, "GET", "/orders", limit=100)["items"]
    say(
        "    (names are masked here; GET /orders/{id} returns them in full. GET /orders and the events carry none of it)"
    )
    check(ship_to.get("name") == "Arjun Patel" and line["gift_message"], "the imported order must carry its address")
    check(all("ship_to" not in o for o in listed), "the order list must carry no buyer data")


@step("Held orders: map the missing term and watch the orders release")
def release(world: World) -> None:
    unmapped = world.expect(200, "GET", "/courier-mappings/unmapped")["items"]
    say(
        table(
            ["unmapped term", "marketplace", "orders on hold"],
            [[u["term"], u["marketplace"], u["orders_on_hold"]] for u in unmapped],
        )
    )
    world.expect(201, "POST", "/courier-mappings", {"amazon_term": "UK NEXT-PRIME", "courier_service": "DPD 10:30"})
    released = world.expect(200, "GET", "/orders/202-5550000-0000004")
    say(
        f"    after mapping UK NEXT-PRIME → DPD 10:30: order 04 is {released['status']} ({released['courier_service']})"
    )
    check(released["status"] == "ready", "a new mapping must release the held order")


@step("A SKU alias settles the case mismatch: the held order ships and the stock reaches Amazon's STOVE-MINI")
def alias(world: World) -> None:
    uk = world.state["uk"]
    held = world.expect(200, "GET", "/orders/202-5550000-0000006")
    say(f"    order 06 before: {held['status']} — {held['hold_reasons'][0]['message']}")
    proposed = world.expect(200, "GET", f"/accounts/{uk['id']}/sku-report")["case_mismatches"][0]["proposed_alias"]
    world.expect(201, "PUT", f"/sku-aliases/{proposed['amazon_sku']}", {"oms_sku": proposed["oms_sku"]})
    order = world.expect(200, "GET", "/orders/202-5550000-0000006")
    queued = world.expect(202, "POST", f"/accounts/{uk['id']}/stock-sync")
    world.settle("stock sync")
    run = world.expect(200, "GET", f"/accounts/{uk['id']}/stock-sync-runs/{queued['run_id']}")
    listing = {
        i["sku"]: i["quantity"]
        for i in world.amazon("GET", f"/_sim/sellers/{SELLER}/listings", marketplace="UK")["items"]
    }
    report = world.expect(200, "GET", f"/accounts/{uk['id']}/sku-report")
    say(
        table(
            ["alias (Amazon SKU → OMS SKU)", "order 06", "line ships", "Amazon STOVE-MINI", "case mismatches left"],
            [
                [
                    f"{proposed['amazon_sku']} → {proposed['oms_sku']}",
                    f"{order['status']} ({order['courier_service']})",
                    order["lines"][0]["oms_sku"],
                    listing["STOVE-MINI"],
                    len(report["case_mismatches"]),
                ]
            ],
        )
    )
    check(order["status"] == "ready", "an alias must release the order held for the case mismatch")
    say("    (30 in the OMS; 10 on Amazon: the seller's DE account caps at 10 and one figure serves both marketplaces)")
    check(listing["STOVE-MINI"] == 10 and run["status"] == "done", "the alias must carry the stock to Amazon")


@step("An operator releases a held order with a reason (recorded in its history)")
def operator_release(world: World) -> None:
    body = {"reason": "Customer paid for next day; ship with DPD", "courier_service": "DPD Next Day"}
    order = world.expect(200, "POST", "/orders/202-5550000-0000003/release", body)
    entry = order["history"][-1]
    say(
        table(
            ["order", "status", "courier service", "released by", "reason", "holds overridden"],
            [
                [
                    "03",
                    order["status"],
                    order["courier_service"],
                    entry["by"],
                    entry["reason"],
                    ", ".join(entry["holds"]),
                ]
            ],
        )
    )
    check(order["status"] == "ready" and order["release"]["reason"] == body["reason"], "the release must be recorded")


@step("Despatch: tell Amazon the order shipped, with tracking")
def despatch(world: World) -> None:
    paths = world.api.get("/openapi.json").json()["paths"]
    if "/orders/{order_id}/shipments" not in paths and not any(p.endswith("/shipments") for p in paths):
        say("    (despatch is not part of this build)")
        return
    order_id = "202-5550000-0000001"
    body = {
        "carrier_code": "Royal Mail",
        "shipping_method": "Tracked 48",
        "tracking_number": "RM123456785GB",
        "ship_date": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
    }
    created = world.call("POST", f"/orders/{order_id}/shipments", body)
    check(created.status_code in (200, 201, 202), f"shipment refused: {created.status_code} {created.text[:200]}")
    repeat = world.call("POST", f"/orders/{order_id}/shipments", body)
    world.settle("shipment confirmation")
    trail = world.expect(200, "GET", f"/orders/{order_id}/shipments")["items"]
    held = world.amazon("GET", f"/_sim/sellers/{SELLER}/orders/{order_id}")
    say(
        table(
            ["shipment", "carrier", "tracking", "status"],
            [
                [s.get("package_reference_id"), s.get("carrier_code"), s.get("tracking_number"), s.get("status")]
                for s in trail
            ],
        )
    )
    say(
        f"    repeated POST answered {repeat.status_code}; Amazon holds {len(held.get('shipments', held.get('Shipments', [])))} confirmed shipment(s)"
    )
    shipped = world.expect(200, "GET", f"/orders/{order_id}")
    say(f"    order 01 is now {shipped['status']}; its buyer data is kept until {shipped['pii_expires_at'] or '-'}")
    check(shipped["status"] == "shipped", "an order whose every unit is confirmed must be shipped")


@step("Buyer data deleted after the retention period (the scenario's clock jumps 31 days)")
def retention(world: World) -> None:
    import time_machine

    order_id = "202-5550000-0000001"
    before = world.expect(200, "GET", f"/orders/{order_id}")
    (tick,) = [s for s in schedules() if s.function == "OrderImportTickFunction"]
    # Every clock of this process moves: the connector's, moto's, the simulator's. The tick's sweep
    # deletes what is due, as it would 31 days from now.
    with time_machine.travel(datetime.now(UTC) + timedelta(days=31), tick=True):
        world.stack.runner.fire(tick)
        after = world.expect(200, "GET", f"/orders/{order_id}")
    say(
        table(
            ["", "status", "recipient", "buyer", "pii_purged_at"],
            [
                ["shipped, today", before["status"], masked((before["ship_to"] or {}).get("name")), "on file", "-"],
                ["31 days later", after["status"], str(after["ship_to"]), str(after["buyer"]), after["pii_purged_at"]],
            ],
        )
    )
    check(after["ship_to"] is None and after["pii_purged_at"], "buyer data must be deleted after the retention period")


def play(ports: Ports | None = None) -> int:
    started = time.monotonic()
    say("Starting the local stack (moto, SP-API simulator, API gateway, schedules and queue triggers)…")
    stack = LocalStack(
        ports=ports or Ports(gateway=0, simulator=0, moto=0), log_level="ERROR", schedule_speedup=0.0001
    ).start()
    world = World(
        httpx.Client(base_url=stack.api_url, timeout=60), httpx.Client(base_url=stack.simulator_url, timeout=60), stack
    )
    try:
        for number, (title, function) in enumerate(STEPS, start=1):
            say(f"\n[{number}/{len(STEPS)}] {title}")
            function(world)
    except (ScenarioFailed, httpx.HTTPError, KeyError) as error:
        say(f"\nScenario FAILED: {error!r}")
        return 1
    finally:
        world.api.close()
        world.sim.close()
        stack.stop()
    say(
        f"\nScenario complete in {time.monotonic() - started:.1f} s: every step behaved as specified. The local stack is stopped."
    )
    say(
        f"To click through the same screens in a browser: `make serve`, then open http://127.0.0.1:3000/console/?as={CLIENT} "
        "(the operator's console; the simulated Seller Central's Appstore page is "
        "http://127.0.0.1:8100/selling-partner-appstore/dp/amzn1.sp.solution.local)."
    )
    return 0


if __name__ == "__main__":
    sys.exit(play())
