"""Authorise Now through the API function (SPEC §4.2, §4.4, §7): moto for AWS, and Amazon (LWA and the
Sellers API) as an httpx MockTransport behind the app's own LWA and SP-API clients."""

from __future__ import annotations

import copy
import json
import os
import secrets
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qs, urlsplit

import boto3
import httpx
import pytest
from oms_amazon.domain.oauth_state import new_claims, sign_state

from local.functions import LambdaContext
from local.stack import APPLICATION_ID, LWA_CLIENT_ID, LWA_CLIENT_SECRET
from tests.conftest import CANARY_REFRESH_TOKEN, ApiCaller, all_items, all_secrets, load_event

pytestmark = pytest.mark.integration

SELLER = "A2SELLERUK01"
CODE = "ANdNAVhyhqirUelHGEHA"
UK, DE = "A1F83G8C2ARO7P", "A1PA6795UKMFR9"


@dataclass
class FakeAmazon:
    """Login with Amazon and getMarketplaceParticipations, as Amazon answers them."""

    codes: dict[str, str] = field(default_factory=lambda: {CODE: CANARY_REFRESH_TOKEN})
    refresh_tokens: set[str] = field(default_factory=lambda: {CANARY_REFRESH_TOKEN})
    access_tokens: set[str] = field(default_factory=set)
    participations: list[tuple[str, bool]] = field(default_factory=lambda: [(UK, True)])
    grants: list[str] = field(default_factory=list)
    sp_api_calls: int = 0
    redirect_uris: list[str] = field(default_factory=list)

    def __call__(self, request: httpx.Request) -> httpx.Response:
        if request.url.path == "/auth/o2/token":
            return self._token(parse_qs(request.content.decode()))
        if request.url.path == "/sellers/v1/marketplaceParticipations":
            self.sp_api_calls += 1
            if request.headers.get("x-amz-access-token") not in self.access_tokens:
                return httpx.Response(403, json={"errors": [{"code": "Unauthorized", "message": "Access denied."}]})
            return httpx.Response(200, json={"payload": [self._row(m, p) for m, p in self.participations]})
        return httpx.Response(404, json={"errors": [{"code": "NotFound", "message": "no such route"}]})

    def revoke(self) -> None:
        """The seller withdraws the app's authorisation: its refresh and access tokens stop working."""
        self.refresh_tokens.clear()
        self.access_tokens.clear()

    def _token(self, form: dict[str, list[str]]) -> httpx.Response:
        def one(name: str) -> str:
            return form.get(name, [""])[0]

        grant = one("grant_type")
        self.grants.append(grant)
        if grant == "authorization_code":
            self.redirect_uris.append(one("redirect_uri"))
        if (one("client_id"), one("client_secret")) != (LWA_CLIENT_ID, LWA_CLIENT_SECRET):
            return httpx.Response(401, json={"error": "invalid_client"})
        if grant == "authorization_code":
            refresh = self.codes.pop(one("code"), None)
        elif grant == "refresh_token":
            refresh = one("refresh_token") if one("refresh_token") in self.refresh_tokens else None
        else:
            return httpx.Response(400, json={"error": "unsupported_grant_type"})
        if refresh is None:
            return httpx.Response(400, json={"error": "invalid_grant", "error_description": "bad grant"})
        self.refresh_tokens.add(refresh)
        access = "Atza|" + secrets.token_urlsafe(24)
        self.access_tokens.add(access)
        body = {"access_token": access, "token_type": "bearer", "expires_in": 3600, "refresh_token": refresh}
        return httpx.Response(200, json=body)

    @staticmethod
    def _row(marketplace_id: str, participating: bool) -> dict[str, Any]:
        country = {UK: "GB", DE: "DE"}[marketplace_id]
        return {
            "marketplace": {
                "id": marketplace_id,
                "name": "Amazon",
                "countryCode": country,
                "defaultCurrencyCode": "GBP" if country == "GB" else "EUR",
                "defaultLanguageCode": "en_GB",
                "domainName": "www.amazon.example",
            },
            "participation": {"isParticipating": participating, "hasSuspendedListings": False},
            "storeName": f"Acme Outdoor {country}",
        }


@pytest.fixture
def amazon(aws: None) -> Iterator[FakeAmazon]:
    from oms_amazon import wiring
    from oms_amazon.adapters.sp_api import forget_amazon_state

    forget_amazon_state()
    fake = FakeAmazon()
    # The container's one HTTP pool, replaced before anything uses it: the app's real LWA and SP-API
    # clients talk to the fake.
    wiring.container().amazon_connections.http = httpx.Client(transport=httpx.MockTransport(fake))
    yield fake
    forget_amazon_state()


@dataclass
class Page:
    status: int
    headers: dict[str, str]
    text: str


def callback(api: ApiCaller, **query: str | None) -> Page:
    """Amazon's redirect, as API Gateway delivers it to the public route (no Cognito claims)."""
    event = copy.deepcopy(load_event("api-oauth-callback.json"))
    given = {k: v for k, v in query.items() if v is not None}
    event["queryStringParameters"] = given or None
    event["multiValueQueryStringParameters"] = {k: [v] for k, v in given.items()} or None
    response = api.handler(event, LambdaContext(function_name="ApiFunction"))
    headers = {k.lower(): v for k, v in (response.get("headers") or {}).items()}
    for name, values in (response.get("multiValueHeaders") or {}).items():
        headers[name.lower()] = ", ".join(values)
    return Page(response["statusCode"], headers, response.get("body") or "")


def create(api: ApiCaller, marketplace: str = "UK", **fields: Any) -> dict[str, Any]:
    status, body = api("POST", "/accounts", {"merchant_id": SELLER, "marketplace": marketplace, **fields})
    assert status == 201, body
    return body


def authorise(api: ApiCaller, account: dict[str, Any]) -> dict[str, Any]:
    status, body = api("GET", f"/accounts/{account['id']}/authorise")
    assert status == 200, body
    return body


def state_key() -> bytes:
    import os

    secret = boto3.client("secretsmanager").get_secret_value(SecretId=os.environ["OAUTH_STATE_KEY_SECRET"])
    return str(secret["SecretString"]).encode()


def status_of(api: ApiCaller, account: dict[str, Any]) -> str:
    status, body = api("GET", f"/accounts/{account['id']}")
    assert status == 200, body
    return str(body["authorisation"]["status"])


def used_states(dynamodb: Any, table: str) -> list[dict[str, Any]]:
    return [item for item in all_items(dynamodb, table) if item["SK"]["S"].startswith("OAUTHSTATE#")]


# ------------------------------------------------------------------------------------------ authorise


def test_authorise_answers_the_seller_central_consent_url_with_a_signed_ten_minute_state(api, amazon):
    account = create(api)

    consent = authorise(api, account)

    url = urlsplit(consent["consent_url"])
    # The stack's Seller Central (SELLER_CENTRAL_URL: the simulator here; Amazon's host by marketplace in
    # production, tests/unit/test_oauth_state.py).
    assert (f"{url.scheme}://{url.netloc}", url.path) == (os.environ["SELLER_CENTRAL_URL"], "/apps/authorize/consent")
    assert parse_qs(url.query) == {"application_id": [APPLICATION_ID], "state": [consent["state"]], "version": ["beta"]}
    assert consent["state"].startswith("v1.")
    expires = datetime.fromisoformat(consent["expires_at"].replace("Z", "+00:00"))
    assert timedelta(minutes=9) < expires - datetime.now(UTC) <= timedelta(minutes=10)
    assert amazon.grants == [], "starting costs Amazon nothing"


def test_each_authorise_call_gives_a_new_state(api, amazon):
    account = create(api)

    assert authorise(api, account)["state"] != authorise(api, account)["state"]


def test_another_clients_account_cannot_be_authorised(api, amazon):
    account = create(api)

    status, body = api("GET", f"/accounts/{account['id']}/authorise", client_id="rival-client")

    assert (status, body["error"]["code"]) == (404, "account_not_found")


def test_authorise_needs_an_identity(api, amazon):
    account = create(api)

    status, body = api("GET", f"/accounts/{account['id']}/authorise", client_id=None)

    assert (status, body["error"]["code"]) == (401, "unauthorized")


# ------------------------------------------------------------------------------------------- callback


def test_the_callback_stores_the_token_for_every_account_of_the_seller_and_answers_with_a_page(
    api, amazon, dynamodb, table_name
):
    uk = create(api, "UK")
    de = create(api, "DE")
    consent = authorise(api, uk)

    page = callback(api, state=consent["state"], spapi_oauth_code=CODE, selling_partner_id=SELLER)

    assert page.status == 200, page.text
    assert page.headers["content-type"].startswith("text/html")
    assert page.headers["cache-control"] == "no-store"
    assert page.headers["referrer-policy"] == "no-referrer"
    assert "Amazon seller connected" in page.text
    assert "A2SELLERUK01 is now authorised for DE, UK" in page.text
    assert amazon.grants == ["authorization_code"]
    # The website workflow's token request names the redirect URI the seller came back to.
    assert amazon.redirect_uris == ["https://abc123.execute-api.eu-west-2.amazonaws.com/dev/oauth/callback"]
    assert (status_of(api, uk), status_of(api, de)) == ("ok", "ok")
    _, account = api("GET", f"/accounts/{uk['id']}")
    assert account["authorisation"] == {"type": "sp_api_refresh_token", "status": "ok", "hint": "…0001"}
    assert account["version"] == 2
    secret = boto3.client("secretsmanager").get_secret_value(SecretId=f"oms-amazon-local/sellers/acme-outdoor/{SELLER}")
    assert json.loads(secret["SecretString"]) == {"token": CANARY_REFRESH_TOKEN, "type": "sp_api_refresh_token"}
    (used,) = used_states(dynamodb, table_name)
    assert used["PK"]["S"] == "CLIENT#acme-outdoor" and used["account_id"]["S"] == uk["id"]
    assert int(used["ttl"]["N"]) > datetime.now(UTC).timestamp()


def test_an_authorised_account_can_then_be_activated(api, amazon):
    account = create(api)
    consent = authorise(api, account)
    callback(api, state=consent["state"], spapi_oauth_code=CODE, selling_partner_id=SELLER)

    status, body = api("PATCH", f"/accounts/{account['id']}", {"active": True, "sync_stock": True})

    assert status == 200, body
    assert body["active"] is True and body["next_stock_sync_at"] is not None


def test_a_tampered_state_is_refused_and_nothing_is_stored(api, amazon, dynamodb, table_name):
    account = create(api)
    state = authorise(api, account)["state"]
    before = all_items(dynamodb, table_name)
    tampered = state[:-2] + ("AA" if not state.endswith("AA") else "BB")

    page = callback(api, state=tampered, spapi_oauth_code=CODE, selling_partner_id=SELLER)

    assert page.status == 400
    assert page.headers["content-type"].startswith("text/html")
    assert "Amazon authorisation failed" in page.text and "invalid_state" in page.text
    assert amazon.grants == []
    assert all_secrets() == []
    assert all_items(dynamodb, table_name) == before


def test_an_expired_state_is_refused_and_nothing_is_stored(api, amazon, dynamodb, table_name):
    account = create(api)
    issued = datetime.now(UTC) - timedelta(minutes=11)
    expired = sign_state(new_claims("acme-outdoor", account["id"], secrets.token_urlsafe(16), issued), state_key())

    page = callback(api, state=expired, spapi_oauth_code=CODE, selling_partner_id=SELLER)

    assert page.status == 400
    assert "state_expired" in page.text and "expired" in page.text
    assert (amazon.grants, all_secrets(), used_states(dynamodb, table_name)) == ([], [], [])
    assert status_of(api, account) == "authorisation_required"


def test_a_state_signed_with_another_key_is_refused(api, amazon):
    account = create(api)
    forged = sign_state(
        new_claims("acme-outdoor", account["id"], secrets.token_urlsafe(16), datetime.now(UTC)), b"x" * 64
    )

    page = callback(api, state=forged, spapi_oauth_code=CODE, selling_partner_id=SELLER)

    assert (page.status, "invalid_state" in page.text) == (400, True)
    assert all_secrets() == []


def test_a_replayed_state_is_refused_and_amazon_is_not_asked_again(api, amazon):
    account = create(api)
    state = authorise(api, account)["state"]
    assert callback(api, state=state, spapi_oauth_code=CODE, selling_partner_id=SELLER).status == 200
    amazon.codes["ANdNSecondCode"] = "Atzr|IwEBIAnAttackersOwnRefreshToken999"

    page = callback(api, state=state, spapi_oauth_code="ANdNSecondCode", selling_partner_id=SELLER)

    assert page.status == 409
    assert "already used" in page.text and "state_already_used" in page.text
    assert amazon.grants == ["authorization_code"]
    secret = boto3.client("secretsmanager").get_secret_value(SecretId=f"oms-amazon-local/sellers/acme-outdoor/{SELLER}")
    assert json.loads(secret["SecretString"])["token"] == CANARY_REFRESH_TOKEN


def test_a_consent_given_by_another_seller_is_refused_and_nothing_is_stored(api, amazon, dynamodb, table_name):
    account = create(api)
    state = authorise(api, account)["state"]
    before = all_items(dynamodb, table_name)

    page = callback(api, state=state, spapi_oauth_code=CODE, selling_partner_id="A9ANOTHERSELLER")

    assert page.status == 400
    assert "seller_mismatch" in page.text and "A2SELLERUK01" in page.text
    assert amazon.grants == []
    assert all_secrets() == []
    assert all_items(dynamodb, table_name) == before


@pytest.mark.parametrize("missing", ["state", "spapi_oauth_code", "selling_partner_id"])
def test_a_redirect_missing_a_parameter_is_refused_and_names_it(api, amazon, missing):
    account = create(api)
    query = {"state": authorise(api, account)["state"], "spapi_oauth_code": CODE, "selling_partner_id": SELLER}
    query[missing] = None

    page = callback(api, **query)

    assert page.status == 400
    assert "missing_parameter" in page.text and missing in page.text
    assert (amazon.grants, all_secrets()) == ([], [])


def test_a_redirect_without_any_parameter_is_a_page_not_an_error(api, amazon):
    page = callback(api)

    assert page.status == 400
    assert page.headers["content-type"].startswith("text/html")
    assert "state, spapi_oauth_code, selling_partner_id" in page.text


def test_a_code_lwa_refuses_is_a_bad_request_and_nothing_is_stored(api, amazon):
    account = create(api)
    state = authorise(api, account)["state"]

    page = callback(api, state=state, spapi_oauth_code="ANdNUsedOrExpiredCode", selling_partner_id=SELLER)

    assert page.status == 400
    assert "authorisation_code_rejected" in page.text and "5 minutes" in page.text
    assert amazon.grants == ["authorization_code"]
    assert all_secrets() == []
    assert status_of(api, account) == "authorisation_required", "a refused code is not a rejected seller"


def test_nothing_from_the_redirect_is_reflected_into_the_page(api, amazon):
    account = create(api)
    state = authorise(api, account)["state"]
    script = "<script>alert(1)</script>"

    pages = [
        callback(api, state=state, spapi_oauth_code=CODE, selling_partner_id=script),
        callback(api, state=state + script, spapi_oauth_code=CODE, selling_partner_id=SELLER),
        callback(api, state=script, spapi_oauth_code=script, selling_partner_id=script),
    ]

    assert [p.status for p in pages] == [400, 400, 400]
    assert all("<script" not in p.text and "alert(1)" not in p.text for p in pages)
    assert all("default-src 'none'" in p.headers["content-security-policy"] for p in pages)


def test_the_callback_page_escapes_what_it_shows(api, amazon):
    account = create(api)
    state = authorise(api, account)["state"]

    page = callback(api, state=state, spapi_oauth_code=CODE, selling_partner_id="A9OTHER")

    assert "Amazon authorised a different seller than this connection&#x27;s (A2SELLERUK01)" in page.text


def test_the_callback_event_of_the_catalogue_is_a_refused_state_not_a_crash(api, amazon):
    event = load_event("api-oauth-callback.json")

    response = api.handler(event, LambdaContext(function_name="ApiFunction"))

    assert response["statusCode"] == 400
    assert "invalid_state" in response["body"]


# --------------------------------------------------------------------------------------------- verify


def connected(api: ApiCaller, marketplace: str = "UK") -> dict[str, Any]:
    return create(api, marketplace, auth_token=CANARY_REFRESH_TOKEN)


def test_verify_reports_that_the_seller_sells_in_the_marketplace_and_its_store_name(api, amazon):
    account = connected(api)

    status, body = api("POST", f"/accounts/{account['id']}/verify")

    assert status == 200, body
    assert body == {"ok": True, "participating": True, "store_name": "Acme Outdoor GB", "reason": None}
    assert amazon.sp_api_calls == 1


def test_verify_says_when_the_seller_does_not_sell_in_the_accounts_marketplace(api, amazon):
    amazon.participations = [(UK, True), (DE, False)]
    account = connected(api, "DE")

    status, body = api("POST", f"/accounts/{account['id']}/verify")

    assert status == 200
    assert body == {"ok": False, "participating": False, "store_name": "Acme Outdoor DE", "reason": "not_participating"}


@pytest.mark.parametrize("token", [None, "amzn.mws.4ea38b7b-f563-7709-4bae-87aea1b2c3d4"], ids=["none", "mws"])
def test_an_account_waiting_for_authorisation_cannot_be_verified(api, amazon, token):
    account = create(api, **({"auth_token": token} if token else {}))

    status, body = api("POST", f"/accounts/{account['id']}/verify")

    assert (status, body["error"]["code"]) == (409, "authorisation_required")
    assert "authorise" in body["error"]["message"]
    assert (amazon.grants, amazon.sp_api_calls) == ([], 0)


def test_a_revoked_authorisation_rejects_the_sellers_accounts_counts_it_and_is_not_retried(
    api, amazon, monkeypatch, capsys
):
    from oms_amazon.observability import metrics

    metrics.clear_metrics()
    monkeypatch.setenv("POWERTOOLS_METRICS_DISABLED", "false")
    uk = connected(api, "UK")
    de = create(api, "DE")
    amazon.revoke()

    status, body = api("POST", f"/accounts/{uk['id']}/verify")

    assert status == 200
    assert body == {"ok": False, "participating": None, "store_name": None, "reason": "authorisation_rejected"}
    assert (status_of(api, uk), status_of(api, de)) == ("rejected", "rejected")
    assert amazon.grants == ["refresh_token"], "LWA's invalid_grant is final: one call, no retry"
    emitted = [json.loads(line) for line in capsys.readouterr().out.splitlines() if '"_aws"' in line]
    assert any("AuthorisationsRejected" in line for line in emitted)

    again_status, again = api("POST", f"/accounts/{uk['id']}/verify")

    assert (again_status, again["error"]["code"]) == (409, "authorisation_required")
    assert "rejected" in again["error"]["message"]
    assert amazon.grants == ["refresh_token"]


def test_a_rejected_account_is_paused_and_cannot_be_activated_again_until_authorised(api, amazon):
    account = connected(api)
    status, active = api("PATCH", f"/accounts/{account['id']}", {"active": True, "sync_stock": True})
    assert (status, active["next_stock_sync_at"] is not None) == (200, True)
    amazon.revoke()
    api("POST", f"/accounts/{account['id']}/verify")
    api("PATCH", f"/accounts/{account['id']}", {"active": False})

    _, paused = api("GET", f"/accounts/{account['id']}")
    status, refused = api("PATCH", f"/accounts/{account['id']}", {"active": True})

    assert paused["authorisation"]["status"] == "rejected"
    assert paused["next_stock_sync_at"] is None
    assert (status, refused["error"]["code"]) == (409, "authorisation_required")


def test_authorising_again_clears_a_rejected_seller_and_verify_is_ok_again(api, amazon):
    uk = connected(api, "UK")
    de = create(api, "DE")
    amazon.revoke()
    api("POST", f"/accounts/{uk['id']}/verify")
    amazon.codes[CODE] = "Atzr|IwEBIANewRefreshTokenAfterRevoke0002"

    page = callback(api, state=authorise(api, de)["state"], spapi_oauth_code=CODE, selling_partner_id=SELLER)
    status, body = api("POST", f"/accounts/{uk['id']}/verify")

    assert page.status == 200, page.text
    assert (status_of(api, uk), status_of(api, de)) == ("ok", "ok")
    assert (status, body["ok"]) == (200, True)


# ------------------------------------------------------------------------------------------ no leaks


def test_no_token_or_code_reaches_a_response_the_page_the_table_or_the_logs(api, amazon, dynamodb, table_name, capsys):
    uk = create(api)
    consent = authorise(api, uk)
    page = callback(api, state=consent["state"], spapi_oauth_code=CODE, selling_partner_id=SELLER)
    _, verified = api("POST", f"/accounts/{uk['id']}/verify")
    _, account = api("GET", f"/accounts/{uk['id']}")
    amazon.revoke()
    _, rejected = api("POST", f"/accounts/{uk['id']}/verify")

    seen = "\n".join(
        [
            json.dumps(consent),
            page.text,
            json.dumps(page.headers),
            json.dumps(verified),
            json.dumps(account),
            json.dumps(rejected),
            json.dumps(all_items(dynamodb, table_name)),
            capsys.readouterr().out,
        ]
    )
    assert CANARY_REFRESH_TOKEN not in seen
    assert CANARY_REFRESH_TOKEN.split("|", 1)[1] not in seen
    assert CODE not in seen
    assert "Atza|" not in seen


def test_the_openapi_document_describes_the_authorisation_routes(api, amazon):
    status, document = api("GET", "/openapi.json")

    assert status == 200
    assert {"/accounts/{account_id}/authorise", "/accounts/{account_id}/verify", "/oauth/callback"} <= set(
        document["paths"]
    )
    parameters = {p["name"] for p in document["paths"]["/oauth/callback"]["get"]["parameters"]}
    # error and error_description: Amazon's redirect when the seller cancels on the consent page
    assert parameters == {"state", "spapi_oauth_code", "selling_partner_id", "error", "error_description"}
