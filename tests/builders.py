"""What tests post to the SP-API simulator as Amazon's side of an order, shared so every suite's
orders carry what Amazon really holds: a label-ready address and a buyer."""

from __future__ import annotations

from typing import Any

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
