"""The accounts API over HTTP through the local gateway, as a new user would try it with curl."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from tests.conftest import CANARY_REFRESH_TOKEN, ROOT

pytestmark = pytest.mark.e2e

ACME = {"X-Client-Id": "acme-outdoor"}
MWS_TOKEN = "amzn.mws.4ea38b7b-f563-7709-4bae-87aea1b2c3d4"


def test_the_seed_flow_works_over_http(http):
    created = http.post(
        "/accounts", json={"merchantId": "A2SELLERUK01", "marketplace": "UK", "MWSAuthToken": MWS_TOKEN}, headers=ACME
    )
    assert created.status_code == 201
    assert created.headers["Location"] == f"/accounts/{created.json()['id']}"
    account = created.json()

    keys = http.post(
        "/accounts",
        json={"merchantId": "A2SELLERUK01", "marketplace": "DE", "AccessKey": "A", "SecretAccessKey": "B"},
        headers=ACME,
    )
    one_left = http.post(
        "/accounts", json={"merchantId": "A2SELLERUK01", "marketplace": "DE", "SecretAccessKey": "B"}, headers=ACME
    )
    duplicate = http.post("/accounts", json={"merchantId": "A2SELLERUK01", "marketplace": "UK"}, headers=ACME)
    delay = http.patch(f"/accounts/{account['id']}", json={"stock_sync_delay_minutes": 14}, headers=ACME)
    activate = http.patch(f"/accounts/{account['id']}", json={"active": True}, headers=ACME)
    snooping = http.get(f"/accounts/{account['id']}", headers={"X-Client-Id": "bluebird-gifts"})

    assert [
        keys.status_code,
        one_left.status_code,
        duplicate.status_code,
        delay.status_code,
        activate.status_code,
        snooping.status_code,
    ] == [400, 400, 409, 400, 409, 404]
    assert keys.json()["error"]["code"] == one_left.json()["error"]["code"] == "custom_access_keys_prohibited"
    assert activate.json()["error"]["code"] == "authorisation_required"


def test_a_token_sent_over_http_never_comes_back(http):
    created = http.post(
        "/accounts",
        json={
            "merchant_id": "A2SELLERUK01",
            "marketplace": "UK",
            "refresh_token": CANARY_REFRESH_TOKEN,
            "active": False,  # Amazon knows no such token: activating would be 409 authorisation_required
        },
        headers=ACME,
    )
    listed = http.get("/accounts", headers=ACME)

    assert created.status_code == 201 and created.json()["authorisation"]["status"] == "ok"
    assert CANARY_REFRESH_TOKEN not in created.text + listed.text


def test_requests_without_identity_are_refused_by_the_gateway(http):
    response = http.get("/accounts")
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "unauthorized"


def test_the_openapi_document_is_public(http):
    response = http.get("/openapi.json")
    assert response.status_code == 200 and "/accounts" in response.json()["paths"]


def test_make_serve_announces_when_the_stack_is_ready():
    command = [
        sys.executable,
        "-m",
        "local",
        "serve",
        "--gateway-port",
        "0",
        "--moto-port",
        "0",
        "--simulator-port",
        "0",
    ]
    process = subprocess.Popen(
        command,
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    try:
        assert process.stdout is not None
        lines = []
        for line in process.stdout:
            lines.append(line)
            if "Local stack ready" in line:
                break
        assert any("Local stack ready" in line for line in lines), "".join(lines)
    finally:
        process.terminate()
        assert process.wait(timeout=20) == 0
