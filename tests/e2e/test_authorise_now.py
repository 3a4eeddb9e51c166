"""Authorise Now end to end (SPEC §4.2, §4.4): the local gateway and API function, moto, and the SP-API
simulator standing in for Seller Central and Login with Amazon. No browser: the test reads the consent
URL's parameters and calls the redirect itself, as Amazon would after the seller clicks consent."""

from __future__ import annotations

import os
import secrets
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qs, urlsplit

import boto3
import httpx
import pytest
from oms_amazon.domain.oauth_state import new_claims, sign_state

from local.stack import APPLICATION_ID, LWA_CLIENT_ID, LWA_CLIENT_SECRET
from tests.e2e.conftest import SELLER, SELLER_TOKEN

pytestmark = pytest.mark.e2e

ACME = {"X-Client-Id": "acme-outdoor"}
OTHER_SELLER = "A9OTHERSELLER01"


def create(http: httpx.Client, marketplace: str = "UK", **fields: Any) -> dict[str, Any]:
    response = http.post("/accounts", json={"merchant_id": SELLER, "marketplace": marketplace, **fields}, headers=ACME)
    assert response.status_code == 201, response.text
    return response.json()


def consent(http: httpx.Client, account: dict[str, Any]) -> dict[str, list[str]]:
    """GET /accounts/{id}/authorise, and the query of the consent URL the seller would open."""
    response = http.get(f"/accounts/{account['id']}/authorise", headers=ACME)
    assert response.status_code == 200, response.text
    body = response.json()
    url = urlsplit(body["consent_url"])
    assert url.path == "/apps/authorize/consent"
    query = parse_qs(url.query)
    assert query["state"] == [body["state"]]
    return query


def seller_consents(sim: httpx.Client, seller_id: str = SELLER) -> str:
    """What Amazon hands the connector when the seller clicks consent: a single-use, 5-minute code."""
    response = sim.post("/_sim/oauth/codes", json={"seller_id": seller_id})
    assert response.status_code == 201, response.text
    return str(response.json()["code"])


def redirect(http: httpx.Client, **query: str) -> httpx.Response:
    """Amazon's redirect to the callback: from the seller's browser, so without any identity header."""
    return http.get("/oauth/callback", params=query)


def authorise_now(http: httpx.Client, sim: httpx.Client, account: dict[str, Any]) -> httpx.Response:
    query = consent(http, account)
    return redirect(http, state=query["state"][0], spapi_oauth_code=seller_consents(sim), selling_partner_id=SELLER)


def account_of(http: httpx.Client, account: dict[str, Any]) -> dict[str, Any]:
    response = http.get(f"/accounts/{account['id']}", headers=ACME)
    assert response.status_code == 200, response.text
    return response.json()


def verify(http: httpx.Client, account: dict[str, Any]) -> httpx.Response:
    return http.post(f"/accounts/{account['id']}/verify", headers=ACME)


def lwa_calls(sim: httpx.Client) -> int:
    return int(sim.get("/_sim/calls").json()["counts"].get("lwaToken", 0))


def seller_secret_exists() -> bool:
    client = boto3.client("secretsmanager")
    names = [s["Name"] for s in client.list_secrets()["SecretList"]]
    return f"{os.environ['SECRET_PREFIX']}acme-outdoor/{SELLER}" in names


def test_a_seller_connected_without_a_token_is_authorised_through_consent_and_verifies(http, sim):
    uk = create(http, "UK")
    de = create(http, "DE")
    assert uk["authorisation"]["status"] == "authorisation_required"

    query = consent(http, uk)
    code = seller_consents(sim)
    page = redirect(http, state=query["state"][0], spapi_oauth_code=code, selling_partner_id=SELLER)

    assert query["application_id"] == [APPLICATION_ID]
    assert query["version"] == ["beta"]
    assert page.status_code == 200, page.text
    assert page.headers["content-type"].startswith("text/html")
    assert f"{SELLER} is now authorised for DE, UK" in page.text
    assert SELLER_TOKEN not in page.text and code not in page.text
    assert account_of(http, uk)["authorisation"] == {"type": "sp_api_refresh_token", "status": "ok", "hint": "…0001"}
    assert account_of(http, de)["authorisation"]["status"] == "ok"
    verified = verify(http, uk)
    assert verified.status_code == 200, verified.text
    assert verified.json() == {"ok": True, "participating": True, "store_name": f"Store {SELLER}", "reason": None}
    activated = http.patch(f"/accounts/{uk['id']}", json={"active": True, "sync_stock": True}, headers=ACME)
    assert activated.status_code == 200, activated.text


def test_the_consent_url_points_at_the_simulator_which_plays_seller_central_locally(stack, http, sim):
    response = http.get(f"/accounts/{create(http, 'UK')['id']}/authorise", headers=ACME)

    url = urlsplit(response.json()["consent_url"])
    assert f"{url.scheme}://{url.netloc}" == stack.simulator_url  # Amazon's host by marketplace in production


def test_a_tampered_state_is_refused_and_nothing_is_stored(http, sim):
    account = create(http)
    state = consent(http, account)["state"][0]
    version, payload, signature = state.split(".")
    tampered = f"{version}.{payload[:-1]}{'A' if payload[-1] != 'A' else 'B'}.{signature}"

    page = redirect(http, state=tampered, spapi_oauth_code=seller_consents(sim), selling_partner_id=SELLER)

    assert page.status_code == 400
    assert "invalid_state" in page.text
    assert account_of(http, account)["authorisation"]["status"] == "authorisation_required"
    assert not seller_secret_exists()


def test_an_expired_state_is_refused_and_nothing_is_stored(http, sim):
    account = create(http)
    key = boto3.client("secretsmanager").get_secret_value(SecretId=os.environ["OAUTH_STATE_KEY_SECRET"])
    issued = datetime.now(UTC) - timedelta(minutes=10, seconds=5)
    expired = sign_state(
        new_claims("acme-outdoor", account["id"], secrets.token_urlsafe(16), issued), key["SecretString"].encode()
    )

    page = redirect(http, state=expired, spapi_oauth_code=seller_consents(sim), selling_partner_id=SELLER)

    assert page.status_code == 400
    assert "state_expired" in page.text
    assert account_of(http, account)["authorisation"]["status"] == "authorisation_required"
    assert not seller_secret_exists()


def test_a_replayed_state_is_refused_and_the_code_is_not_spent(http, sim):
    account = create(http)
    state = consent(http, account)["state"][0]
    assert (
        redirect(http, state=state, spapi_oauth_code=seller_consents(sim), selling_partner_id=SELLER).status_code == 200
    )
    before = lwa_calls(sim)

    replay = redirect(http, state=state, spapi_oauth_code=seller_consents(sim), selling_partner_id=SELLER)

    assert replay.status_code == 409
    assert "already used" in replay.text
    assert lwa_calls(sim) == before


def test_a_consent_given_by_another_seller_is_refused_and_nothing_is_stored(http, sim):
    registered = sim.post(
        "/_sim/sellers",
        json={"seller_id": OTHER_SELLER, "refresh_token": "Atzr|IwEBI-other-seller-0002", "marketplaces": ["UK"]},
    )
    assert registered.status_code == 201, registered.text
    account = create(http)
    state = consent(http, account)["state"][0]

    page = redirect(
        http, state=state, spapi_oauth_code=seller_consents(sim, OTHER_SELLER), selling_partner_id=OTHER_SELLER
    )

    assert page.status_code == 400
    assert "seller_mismatch" in page.text
    assert account_of(http, account)["authorisation"]["status"] == "authorisation_required"
    assert not seller_secret_exists()


def test_a_redirect_without_its_parameters_is_refused(http, sim):
    page = http.get("/oauth/callback")

    assert page.status_code == 400
    assert page.headers["content-type"].startswith("text/html")
    assert "missing_parameter" in page.text


def test_a_consent_code_already_spent_at_amazon_is_refused_and_nothing_is_stored(http, sim):
    account = create(http)
    state = consent(http, account)["state"][0]
    code = seller_consents(sim)
    # The code is single-use at Amazon: spend it first, as a slow or duplicated redirect would find it.
    spent = httpx.post(
        f"{sim.base_url}/auth/o2/token",
        data={
            "grant_type": "authorization_code",
            "code": code,
            "client_id": LWA_CLIENT_ID,
            "client_secret": LWA_CLIENT_SECRET,
        },
    )
    assert spent.status_code == 200

    page = redirect(http, state=state, spapi_oauth_code=code, selling_partner_id=SELLER)

    assert page.status_code == 400
    assert "authorisation_code_rejected" in page.text
    assert not seller_secret_exists()


def test_a_revoked_seller_is_rejected_on_verify_once_and_authorising_again_clears_it(http, sim):
    uk = create(http, "UK")
    de = create(http, "DE")
    assert authorise_now(http, sim, uk).status_code == 200
    assert verify(http, uk).json()["ok"] is True
    revoked = sim.post(f"/_sim/sellers/{SELLER}/revoke", json={"revoke_access_tokens": True})
    assert revoked.status_code in (200, 204), revoked.text
    before = lwa_calls(sim)

    rejected = verify(http, uk)

    assert rejected.status_code == 200
    assert rejected.json() == {
        "ok": False,
        "participating": None,
        "store_name": None,
        "reason": "authorisation_rejected",
    }
    assert lwa_calls(sim) == before + 1, "invalid_grant is final: one LWA call, never a retry loop"
    assert account_of(http, uk)["authorisation"]["status"] == "rejected"
    assert account_of(http, de)["authorisation"]["status"] == "rejected"
    again = verify(http, uk)
    assert (again.status_code, again.json()["error"]["code"]) == (409, "authorisation_required")
    assert lwa_calls(sim) == before + 1

    page = authorise_now(http, sim, de)

    assert page.status_code == 200, page.text
    assert account_of(http, uk)["authorisation"]["status"] == "ok"
    assert account_of(http, de)["authorisation"]["status"] == "ok"
    assert verify(http, uk).json()["ok"] is True
    assert verify(http, de).json() == {
        "ok": True,
        "participating": True,
        "store_name": f"Store {SELLER}",
        "reason": None,
    }


def test_verify_needs_an_authorised_account(http, sim):
    account = create(http)

    response = verify(http, account)

    assert (response.status_code, response.json()["error"]["code"]) == (409, "authorisation_required")


def test_authorise_and_verify_need_an_identity_but_the_callback_does_not(http, sim):
    account = create(http)

    assert http.get(f"/accounts/{account['id']}/authorise").status_code == 401
    assert http.post(f"/accounts/{account['id']}/verify").status_code == 401
    assert http.get("/oauth/callback", params={"state": "x"}).status_code == 400
