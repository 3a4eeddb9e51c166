"""Activation's guard rail end to end (SPEC §4): the simulated seller sells on UK and DE only, so an FR
account is stored inactive but never activated, in Amazon's words of getMarketplaceParticipations."""

from __future__ import annotations

import httpx
import pytest

from tests.e2e.conftest import SELLER, SELLER_TOKEN

pytestmark = pytest.mark.e2e

ACME = {"X-Client-Id": "acme-outdoor"}


def calls(sim: httpx.Client) -> int:
    return int(sim.get("/_sim/calls").json()["counts"].get("getMarketplaceParticipations", 0))


def test_an_account_on_a_marketplace_the_seller_does_not_sell_on_is_never_activated(http, sim):
    body = {"merchant_id": SELLER, "marketplace": "FR", "auth_token": SELLER_TOKEN, "active": True}

    refused = http.post("/accounts", json=body, headers=ACME)
    assert refused.status_code == 409, refused.text
    assert refused.json()["error"]["code"] == "not_participating"
    assert http.get("/accounts", headers=ACME).json()["items"] == []

    stored = http.post("/accounts", json={**body, "active": False}, headers=ACME)
    assert stored.status_code == 201, stored.text
    patched = http.patch(f"/accounts/{stored.json()['id']}", json={"active": True}, headers=ACME)
    assert patched.status_code == 409 and patched.json()["error"]["code"] == "not_participating"
    assert http.get(f"/accounts/{stored.json()['id']}", headers=ACME).json()["active"] is False


def test_amazon_is_asked_once_for_the_sellers_region_and_its_marketplaces_activate(http, sim):
    before = calls(sim)
    for marketplace in ("UK", "DE"):
        body = {"merchant_id": SELLER, "marketplace": marketplace, "auth_token": SELLER_TOKEN, "active": True}
        created = http.post("/accounts", json=body, headers=ACME)
        assert created.status_code == 201, created.text
        assert created.json()["active"] is True

    assert calls(sim) - before == 1
