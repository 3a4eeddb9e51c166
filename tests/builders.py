"""The tests' builders, in one place: domain objects (accounts, orders as Amazon sends them and as
the connector stores them) and what tests post to the SP-API simulator as Amazon's side of an order,
so every suite's orders carry what Amazon really holds: a label-ready address and a buyer.

Each builder gives a plain, valid object; a test passes only what it is about. Times default to
now (the test clock) so nothing here is a date that a year-ahead run would find in the past."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

from oms_amazon.api.schemas import AccountSettings
from oms_amazon.domain.accounts import SellerToken
from oms_amazon.domain.orders import AmazonLine, AmazonOrder, Money, Order, OrderLine
from oms_amazon.services.accounts import NewAccount

from fakes.builders import CLIENT, SELLER, account

__all__ = ["CLIENT", "SELLER", "account", "amazon_order", "buyer_info", "gbp", "new_account", "order", "ship_to"]

TENT, MAT = "00000000000001", "00000000000002"  # the order items of `order()`

TOWNS = {"GB": ("London", "SW1A 1AA"), "DE": ("Berlin", "10115"), "FR": ("Paris", "75001"), "US": ("Seattle", "98109")}


def ship_to(country: str = "GB", n: int = 1) -> dict[str, str]:
    """A v0 `ShippingAddress` a label can be printed from (the simulator serves its PII by Amazon's rules)."""
    town, postcode = TOWNS.get(country, ("Capital", "00000"))
    return {
        "Name": f"Test Buyer {n}",
        "AddressLine1": f"{n} Market Street",
        "City": town,
        "PostalCode": postcode,
        "CountryCode": country,
        "Phone": "+44 20 7946 0000",
        "AddressType": "Residential",
    }


def buyer_info(n: int = 1) -> dict[str, Any]:
    return {"BuyerName": f"Test Buyer {n}", "BuyerEmail": f"buyer{n}@marketplace.amazon.test"}


def gbp(amount: str) -> Money:
    return Money.from_dict({"amount": amount, "currency": "GBP"})


def amazon_order(
    order_id: str = "202-0000000-0000001", *skus: str, at: datetime | None = None, **changes: Any
) -> AmazonOrder:
    """An unshipped, merchant-fulfilled, standard UK order as Amazon lists it at `at` (default: now),
    bought two hours before, one line of each SKU (default: one TENT-2P at 20.00) and no buyer data."""
    now = at or datetime.now(UTC)
    order = AmazonOrder(
        amazon_order_id=order_id,
        marketplace_id="A1F83G8C2ARO7P",
        purchase_date=now - timedelta(hours=2),
        last_update_date=now - timedelta(hours=1),
        amazon_status="Unshipped",
        fulfillment_channel="MFN",
        ship_service_level="Std UK Dom_1",
        service_level_category="Standard",
        is_prime=False,
        is_premium=False,
        ship_to_country="GB",
        ship_by=now + timedelta(days=1),
        lines=tuple(AmazonLine(str(n), sku, 1, gbp("20.00")) for n, sku in enumerate(skus or ("TENT-2P",), 1)),
    )
    return replace(order, **changes)


def order(
    order_id: str = "202-0000000-0000001",
    *,
    account_id: str = "acc1",
    client_id: str = CLIENT,
    at: datetime | None = None,
    **changes: Any,
) -> Order:
    """A stored order ready to ship (two tents and a mat, Royal Mail 48), bought a day before `at`
    (default: now) and imported at `at`."""
    now = at or datetime.now(UTC)
    return Order(
        amazon_order_id=order_id,
        account_id=account_id,
        client_id=client_id,
        marketplace="UK",
        purchase_date=now - timedelta(days=1),
        last_update_date=now - timedelta(days=1),
        amazon_status="Unshipped",
        fulfillment_channel="MFN",
        is_prime=False,
        is_premium=False,
        ship_service_level="Std UK Dom_1",
        service_level_category="Standard",
        ship_to_country="GB",
        shipping_term="STD UK DOM_1",
        term_recognized=True,
        courier_service="Royal Mail 48",
        matched_mapping=None,
        status="ready",
        hold_reasons=(),
        lines=(OrderLine(TENT, "TENT-2P", "TENT-2P", 2, None), OrderLine(MAT, "MAT-BLUE", "MAT-BLUE", 1, None)),
        ship_by=None,
        imported_at=now,
        updated_at=now,
    ).with_changes(**changes)


def new_account(
    merchant_id: str = SELLER, marketplace: str = "UK", *, token: SellerToken | None = None, **settings: Any
) -> NewAccount:
    """What a POST /accounts asks for: the API's defaults for every setting not given."""
    return NewAccount(merchant_id, marketplace, AccountSettings(**settings).settings(), token)
