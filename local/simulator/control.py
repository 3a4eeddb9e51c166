"""The simulator's control API (`/_sim/...`, SPEC §8.1): set Amazon's side up, inject trouble, read what happened.

Every handler takes the simulator, the parsed JSON body (or None), the query and the path arguments,
and returns (status, body). Bad input raises `ControlError`: 400 with a message that says what to fix.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any

from .core import Simulator
from .errors import ControlError
from .listings import listing_view
from .marketplaces import by_code_or_id
from .orders import EVERYTHING, order_2026, order_item_v0, order_v0
from .ratelimit import FEED_TYPE_PLANS, UsagePlan
from .roles import roles_from_input
from .spapi import settle_seller
from .state import Order, Seller, listing_from_input, marketplace_of, order_from_input

SELLER_ID = re.compile(r"^[A-Z0-9]{8,20}$")
REFRESH_TOKEN = re.compile(r"^Atzr\|[!-~]{20,}$")
# Every 2026-01-01 data set the simulator fills, for checking a new order against the model.
ALL_2026_DATA = {"FULFILLMENT", "RECIPIENT", "BUYER", "PROCEEDS", "PROMOTION", "PACKAGES"}

ControlHandler = Callable[[Simulator, Any, dict[str, list[str]], dict[str, str]], tuple[int, Any]]


def _object(body: Any, what: str) -> dict[str, Any]:
    if not isinstance(body, dict):
        raise ControlError(f"the body must be a JSON object: {what}")
    return body


def seller_view(seller: Seller) -> dict[str, Any]:
    return {
        "seller_id": seller.seller_id,
        "marketplaces": [m.code for m in seller.marketplaces],
        "marketplace_ids": [m.marketplace_id for m in seller.marketplaces],
        "store_name": seller.store_name,
        "revoked": seller.revoked,
        "roles": sorted(seller.roles),
    }


def reset(sim: Simulator, body: Any, query: dict[str, list[str]], args: dict[str, str]) -> tuple[int, Any]:
    sim.reset()
    return 200, {"ok": True}


def health(sim: Simulator, body: Any, query: dict[str, list[str]], args: dict[str, str]) -> tuple[int, Any]:
    return 200, {"ok": True}


def add_seller(sim: Simulator, body: Any, query: dict[str, list[str]], args: dict[str, str]) -> tuple[int, Any]:
    spec = _object(body, '{seller_id, refresh_token, marketplaces: ["UK", ...], store_name?, roles?}')
    seller_id = spec.get("seller_id")
    if not isinstance(seller_id, str) or not SELLER_ID.match(seller_id):
        raise ControlError("seller_id must be 8-20 upper-case letters and digits, like Amazon's seller ids")
    token = spec.get("refresh_token")
    if not isinstance(token, str) or not REFRESH_TOKEN.match(token):
        raise ControlError(
            "refresh_token must look like an LWA refresh token: 'Atzr|' then at least 20 printable characters"
        )
    owner = next((s for s in sim.sellers.values() if s.refresh_token == token and s.seller_id != seller_id), None)
    if owner is not None:
        raise ControlError(f"that refresh_token already belongs to seller {owner.seller_id}")
    codes = spec.get("marketplaces")
    if not isinstance(codes, list) or not codes:
        raise ControlError('marketplaces must be a non-empty list of marketplace codes ("UK", "DE", ...) or ids')
    marketplaces = []
    for code in codes:
        marketplace = by_code_or_id(code) if isinstance(code, str) else None
        if marketplace is None:
            raise ControlError(f"unknown marketplace {code!r}")
        if marketplace not in marketplaces:
            marketplaces.append(marketplace)
    store_name = spec.get("store_name", f"Store {seller_id}")
    if not isinstance(store_name, str) or not store_name:
        raise ControlError("store_name must be a non-empty string")
    roles = roles_from_input(spec.get("roles"))
    created = seller_id not in sim.sellers
    sim.sellers[seller_id] = Seller(seller_id, token, marketplaces, store_name, roles=roles)
    return (201 if created else 200), seller_view(sim.sellers[seller_id])


def list_sellers(sim: Simulator, body: Any, query: dict[str, list[str]], args: dict[str, str]) -> tuple[int, Any]:
    return 200, {"sellers": [seller_view(s) for s in sim.sellers.values()]}


def get_seller(sim: Simulator, body: Any, query: dict[str, list[str]], args: dict[str, str]) -> tuple[int, Any]:
    return 200, seller_view(sim.seller(args["seller_id"]))


def revoke_seller(sim: Simulator, body: Any, query: dict[str, list[str]], args: dict[str, str]) -> tuple[int, Any]:
    spec = _object(body or {}, "{revoke_access_tokens?: bool}")
    access = spec.get("revoke_access_tokens", False)
    if not isinstance(access, bool):
        raise ControlError("revoke_access_tokens must be true or false")
    sim.revoke(args["seller_id"], access_tokens=access)
    return 200, seller_view(sim.seller(args["seller_id"]))


def put_listings(sim: Simulator, body: Any, query: dict[str, list[str]], args: dict[str, str]) -> tuple[int, Any]:
    seller = sim.seller(args["seller_id"])
    spec = _object(body, "{marketplace, items: [{sku, product_type, quantity}], replace?: bool}")
    marketplace = marketplace_of(spec.get("marketplace"), seller)
    items = spec.get("items")
    if not isinstance(items, list):
        raise ControlError("items must be a list of {sku, product_type, quantity}")
    replace = spec.get("replace", True)
    if not isinstance(replace, bool):
        raise ControlError("replace must be true or false")
    settle_seller(sim, seller.seller_id)
    now = sim.now()
    current = sim.book.marketplace(seller.seller_id, marketplace.marketplace_id)
    listings = [
        listing_from_input(raw, marketplace, now, current.get(raw.get("sku", ""))) for raw in items if _is_obj(raw)
    ]
    if len(listings) != len(items):
        raise ControlError("each listing item must be an object {sku, product_type, quantity}")
    skus = [listing.sku for listing in listings]
    if len(set(skus)) != len(skus):
        raise ControlError("a SKU appears twice in items (SKUs are case-sensitive: 'a' and 'A' are two SKUs)")
    sim.book.put(seller.seller_id, listings, replace=replace, marketplace_id=marketplace.marketplace_id)
    return 200, {
        "marketplace": marketplace.code,
        "count": len(sim.book.marketplace(seller.seller_id, marketplace.marketplace_id)),
    }


def _is_obj(value: Any) -> bool:
    return isinstance(value, dict)


def get_listings(sim: Simulator, body: Any, query: dict[str, list[str]], args: dict[str, str]) -> tuple[int, Any]:
    seller = sim.seller(args["seller_id"])
    settle_seller(sim, seller.seller_id)
    wanted = query.get("marketplace")
    marketplaces = [marketplace_of(wanted[0], seller)] if wanted else seller.marketplaces
    items = [
        listing_view(listing)
        for marketplace in marketplaces
        for listing in sim.book.marketplace(seller.seller_id, marketplace.marketplace_id).values()
    ]
    return 200, {"seller_id": seller.seller_id, "items": items}


def upsert_orders(sim: Simulator, body: Any, query: dict[str, list[str]], args: dict[str, str]) -> tuple[int, Any]:
    seller = sim.seller(args["seller_id"])
    spec = _object(body, "{orders: [...v0 orders]}")
    orders_in = spec.get("orders")
    if not isinstance(orders_in, list) or not orders_in:
        raise ControlError("orders must be a non-empty list of orders in the Orders v0 shape")
    book = sim.orders.setdefault(seller.seller_id, {})
    now = sim.now()
    orders: list[Order] = []
    for raw in orders_in:
        order_id = raw.get("AmazonOrderId") if isinstance(raw, dict) else None
        previous = book.get(order_id) if isinstance(order_id, str) else None
        order = order_from_input(raw, seller, now, previous)
        _check_against_models(sim, order)
        orders.append(order)
    ids = [o.amazon_order_id for o in orders]
    if len(set(ids)) != len(ids):
        raise ControlError("an AmazonOrderId appears twice in orders")
    for order in orders:
        book[order.amazon_order_id] = order
    return 200, {"upserted": len(orders), "order_ids": ids}


def _check_against_models(sim: Simulator, order: Order) -> None:
    """An order Amazon could hold serves valid answers in both order APIs, buyer data and all."""
    shapes = (
        ("ordersV0", "Order", order_v0(order, EVERYTHING), "Orders v0 order"),
        *(
            ("ordersV0", "OrderItem", order_item_v0(order, item, EVERYTHING), f"Orders v0 item {item.order_item_id}")
            for item in order.items
        ),
        ("orders_2026-01-01", "Order", order_2026(order, ALL_2026_DATA, EVERYTHING), "Orders 2026-01-01 order"),
    )
    for api, definition, body, what in shapes:
        validator = sim.catalog.apis[api].validator({"$ref": f"#/definitions/{definition}"})
        first = next(validator.iter_errors(body), None)
        if first is not None:
            where = ".".join(str(p) for p in first.absolute_path)
            raise ControlError(f"{order.amazon_order_id}: would not be a valid {what}: {where} {first.message}".strip())


def order_view(order: Order) -> dict[str, Any]:
    """The order as Amazon holds it, buyer data included: the v0 shape plus what v0 serves elsewhere
    (the buyer's company and the delivery preferences, both from getOrderAddress)."""
    view = order_v0(order, EVERYTHING)
    if order.buyer:
        view["BuyerInfo"] = dict(order.buyer)
    if order.delivery_preferences:
        view["DeliveryPreferences"] = dict(order.delivery_preferences)
    return {
        **view,
        "OrderItems": [order_item_v0(order, item, EVERYTHING) for item in order.items],
        "Shipments": [s.to_json() for s in order.shipments],
    }


def list_orders(sim: Simulator, body: Any, query: dict[str, list[str]], args: dict[str, str]) -> tuple[int, Any]:
    seller = sim.seller(args["seller_id"])
    return 200, {"orders": [order_view(o) for o in sim.orders.get(seller.seller_id, {}).values()]}


def get_order(sim: Simulator, body: Any, query: dict[str, list[str]], args: dict[str, str]) -> tuple[int, Any]:
    seller = sim.seller(args["seller_id"])
    order = sim.orders.get(seller.seller_id, {}).get(args["order_id"])
    if order is None:
        raise ControlError(f"seller {seller.seller_id} has no order '{args['order_id']}'", status=404)
    return 200, order_view(order)


def list_feeds(sim: Simulator, body: Any, query: dict[str, list[str]], args: dict[str, str]) -> tuple[int, Any]:
    seller = sim.seller(args["seller_id"])
    settle_seller(sim, seller.seller_id)
    feeds = []
    for feed in sorted((f for f in sim.feeds.values() if f.seller_id == seller.seller_id), key=lambda f: f.created_sim):
        try:
            submitted = json.loads(feed.input_content.decode("utf-8")) if feed.input_content else None
        except (UnicodeDecodeError, json.JSONDecodeError):
            submitted = None
        feeds.append({**feed.to_json(), "input": submitted, "processing_report": feed.report})
    return 200, {"feeds": feeds}


def create_oauth_code(sim: Simulator, body: Any, query: dict[str, list[str]], args: dict[str, str]) -> tuple[int, Any]:
    spec = _object(body, "{seller_id}")
    seller_id = spec.get("seller_id")
    if not isinstance(seller_id, str):
        raise ControlError("seller_id is required")
    sim.seller(seller_id)
    return 201, {"code": sim.issue_auth_code(seller_id), "expires_in": int(sim.config.auth_code_ttl_seconds)}


def add_fault(sim: Simulator, body: Any, query: dict[str, list[str]], args: dict[str, str]) -> tuple[int, Any]:
    return 201, sim.add_fault(body).to_json()


def list_faults(sim: Simulator, body: Any, query: dict[str, list[str]], args: dict[str, str]) -> tuple[int, Any]:
    return 200, {"faults": [f.to_json() for f in sim.faults]}


def clear_faults(sim: Simulator, body: Any, query: dict[str, list[str]], args: dict[str, str]) -> tuple[int, Any]:
    sim.faults.clear()
    return 200, {"faults": []}


def rate_limits_view(sim: Simulator) -> dict[str, Any]:
    return {
        "enforce": sim.enforce_rate_limits,
        "speedup": sim.sim_clock.speedup,
        "plans": {op.key: _plan_view(sim.plan_for(op)) for op in sim.catalog.all_operations()},
        # A feed type's own limit on submissions, per seller and region, on top of createFeed's bucket.
        "feed_types": {name: _plan_view(sim.plan_overrides.get(name, plan)) for name, plan in FEED_TYPE_PLANS.items()},
    }


def _plan_view(plan: UsagePlan) -> dict[str, Any]:
    return {"rate": plan.rate, "burst": plan.burst}


def set_rate_limits(sim: Simulator, body: Any, query: dict[str, list[str]], args: dict[str, str]) -> tuple[int, Any]:
    spec = _object(body, "{enforce: bool, speedup?: number, overrides?: {operation or feed type: {rate, burst}}}")
    enforce = spec.get("enforce")
    if not isinstance(enforce, bool):
        raise ControlError("enforce must be true or false")
    speedup = spec.get("speedup", sim.sim_clock.speedup)
    if isinstance(speedup, bool) or not isinstance(speedup, (int, float)) or speedup <= 0:
        raise ControlError("speedup must be a positive number (simulated seconds per real second)")
    overrides = spec.get("overrides", {})
    if not isinstance(overrides, dict):
        raise ControlError("overrides must map an operationId or a feed type (JSON_LISTINGS_FEED) to {rate, burst}")
    operations = sim.catalog.all_operations()
    known = {op.operation_id for op in operations} | {op.key for op in operations} | set(FEED_TYPE_PLANS)
    plans = {}
    for name, plan in overrides.items():
        if name not in known:
            raise ControlError(f"unknown operation or feed type '{name}' in overrides")
        rate, burst = (plan or {}).get("rate"), (plan or {}).get("burst")
        if isinstance(rate, bool) or not isinstance(rate, (int, float)) or rate <= 0:
            raise ControlError(f"{name}: rate must be a positive number")
        if isinstance(burst, bool) or not isinstance(burst, int) or burst < 1:
            raise ControlError(f"{name}: burst must be a positive integer")
        plans[name] = UsagePlan(float(rate), burst)
    sim.sim_clock.set_speedup(float(speedup))
    sim.plan_overrides = plans
    if enforce and not sim.enforce_rate_limits:
        sim.rate_limiter.reset()  # buckets start full when enforcement starts
    sim.enforce_rate_limits = enforce
    return 200, rate_limits_view(sim)


def get_rate_limits(sim: Simulator, body: Any, query: dict[str, list[str]], args: dict[str, str]) -> tuple[int, Any]:
    return 200, rate_limits_view(sim)


def get_calls(sim: Simulator, body: Any, query: dict[str, list[str]], args: dict[str, str]) -> tuple[int, Any]:
    return 200, sim.calls_view()


def clear_calls(sim: Simulator, body: Any, query: dict[str, list[str]], args: dict[str, str]) -> tuple[int, Any]:
    sim.reset_calls()
    return 200, sim.calls_view()


def get_config(sim: Simulator, body: Any, query: dict[str, list[str]], args: dict[str, str]) -> tuple[int, Any]:
    return 200, vars(sim.config)


def set_config(sim: Simulator, body: Any, query: dict[str, list[str]], args: dict[str, str]) -> tuple[int, Any]:
    changes = _object(body, "{field: value, ...}; GET /_sim/config lists the fields")
    sim.config.update(changes)
    if changes.get("fault_seed") is not None:
        # Draws from here on are reproducible, whether the faults came before the seed or after it.
        sim.seed_faults(changes["fault_seed"])
    return 200, vars(sim.config)


def settle(sim: Simulator, body: Any, query: dict[str, list[str]], args: dict[str, str]) -> tuple[int, Any]:
    spec = _object(body or {}, "{seller_id?}")
    seller_id = spec.get("seller_id")
    sellers = [sim.seller(seller_id).seller_id] if seller_id else list(sim.sellers)
    for current in sellers:
        settle_seller(sim, current, force=True)
    return 200, {"settled": sellers}


# (method, werkzeug rule, handler)
CONTROL_ROUTES: tuple[tuple[str, str, ControlHandler], ...] = (
    ("POST", "/_sim/reset", reset),
    ("GET", "/_sim/health", health),
    ("POST", "/_sim/sellers", add_seller),
    ("GET", "/_sim/sellers", list_sellers),
    ("GET", "/_sim/sellers/<seller_id>", get_seller),
    ("POST", "/_sim/sellers/<seller_id>/revoke", revoke_seller),
    ("PUT", "/_sim/sellers/<seller_id>/listings", put_listings),
    ("GET", "/_sim/sellers/<seller_id>/listings", get_listings),
    ("POST", "/_sim/sellers/<seller_id>/orders", upsert_orders),
    ("GET", "/_sim/sellers/<seller_id>/orders", list_orders),
    ("GET", "/_sim/sellers/<seller_id>/orders/<order_id>", get_order),
    ("GET", "/_sim/sellers/<seller_id>/feeds", list_feeds),
    ("POST", "/_sim/oauth/codes", create_oauth_code),
    ("POST", "/_sim/faults", add_fault),
    ("GET", "/_sim/faults", list_faults),
    ("DELETE", "/_sim/faults", clear_faults),
    ("POST", "/_sim/rate-limits", set_rate_limits),
    ("GET", "/_sim/rate-limits", get_rate_limits),
    ("GET", "/_sim/calls", get_calls),
    ("DELETE", "/_sim/calls", clear_calls),
    ("GET", "/_sim/config", get_config),
    ("POST", "/_sim/config", set_config),
    ("POST", "/_sim/settle", settle),
)
