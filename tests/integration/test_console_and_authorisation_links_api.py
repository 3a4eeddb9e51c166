"""The web console's files, Authorise Now by e-mail and the Appstore log-in, through the API function as API
Gateway invokes it (moto for AWS, a fake Login with Amazon): SPEC §4.4, §7 (`/accounts/{id}/authorisation-links`,
`/oauth/login`, `GET /console/…`)."""

from __future__ import annotations

import copy
import json
import os
import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qs, urlsplit

import boto3
import httpx
import pytest
from oms_amazon.domain.oauth_state import new_link_claims, sign_link, verify_state

from local.functions import LambdaContext
from tests.conftest import ApiCaller, all_items, install_container, load_event
from tests.integration.test_authorise_api import CODE, SELLER, FakeAmazon, callback, create, state_key, status_of

pytestmark = pytest.mark.integration

CONFIRM = "/apps/authorize/confirm/amzn1.sp.solution.local"


@pytest.fixture
def amazon(aws: None) -> Iterator[FakeAmazon]:
    """Login with Amazon, faked behind the container's HTTP pool (as in test_authorise_api)."""
    from oms_amazon import wiring
    from oms_amazon.adapters.sp_api import forget_amazon_state

    forget_amazon_state()
    fake = FakeAmazon()
    wiring.container().amazon_connections.http = httpx.Client(transport=httpx.MockTransport(fake))
    yield fake
    forget_amazon_state()


class Answer:
    def __init__(self, response: dict[str, Any]) -> None:
        self.status: int = response["statusCode"]
        self.headers = {k.lower(): v for k, v in (response.get("headers") or {}).items()}
        for name, values in (response.get("multiValueHeaders") or {}).items():
            self.headers[name.lower()] = ", ".join(values)
        self.text: str = response.get("body") or ""

    def json(self) -> Any:
        return json.loads(self.text)


def invoke(api: ApiCaller, sample: str, *, path: str | None = None, query: dict[str, str] | None = None) -> Answer:
    """A sample of the event catalogue, as API Gateway would send it (no Cognito claims on public routes)."""
    event = copy.deepcopy(load_event(sample))
    if path is not None:
        event["path"] = path
        event["requestContext"]["path"] = f"/dev{path}"
    if query is not None:
        event["queryStringParameters"] = query or None
        event["multiValueQueryStringParameters"] = {k: [v] for k, v in query.items()} or None
    return Answer(api.handler(event, LambdaContext(function_name="ApiFunction")))


def seller_central() -> str:
    return os.environ["SELLER_CENTRAL_URL"]


def amazon_login(**changes: str) -> dict[str, str]:
    return {
        "amazon_callback_uri": f"{seller_central()}{CONFIRM}",
        "amazon_state": "amazonstateexample",
        "selling_partner_id": SELLER,
        "version": "beta",
        **changes,
    }


@pytest.fixture
def in_aws(monkeypatch: pytest.MonkeyPatch, aws: None) -> None:
    """The API function as deployed: stage dev, the console's client id in SSM."""
    monkeypatch.setenv("STAGE", "dev")
    boto3.client("ssm").put_parameter(
        Name=os.environ["CONSOLE_CLIENT_ID_PARAMETER"], Value="4example0client0id0for0console", Type="String"
    )
    install_container()


# ---- the console's files


def test_the_console_page_is_public_and_locked_down_with_headers(api):
    page = invoke(api, "api-console.json")

    assert page.status == 200
    assert page.headers["content-type"] == "text/html; charset=utf-8"
    policy = page.headers["content-security-policy"]
    assert "script-src 'self';" in policy and "unsafe-inline" not in policy and "unsafe-eval" not in policy
    assert "frame-ancestors 'none'" in policy and "default-src 'none'" in policy
    assert page.headers["x-content-type-options"] == "nosniff"
    assert page.headers["cache-control"] == "no-store", "the HTML is never cached"
    assert page.headers["referrer-policy"] == "no-referrer"
    # No inline script or style for the policy to forbid: only the files beside it.
    assert re.findall(r"<script[^>]*>", page.text) == ['<script src="console.js" defer>']
    assert "<style" not in page.text and " style=" not in page.text and " on" + "click=" not in page.text


def test_the_console_without_its_slash_is_redirected_relatively_with_its_query(api):
    answer = invoke(api, "api-console.json", path="/console", query={"as": "acme-outdoor"})

    assert answer.status == 302
    assert answer.headers["location"] == "console/?as=acme-outdoor"


@pytest.mark.parametrize(
    ("name", "content_type"),
    [("console.js", "text/javascript"), ("console.css", "text/css"), ("index.html", "text/html")],
)
def test_the_consoles_files_are_served_with_their_type_and_revalidated(api, name, content_type):
    answer = invoke(api, "api-console-file.json", path=f"/console/{name}")

    assert answer.status == 200
    assert answer.headers["content-type"].startswith(content_type)
    assert answer.headers["cache-control"] in ("no-cache", "no-store")
    assert answer.headers["x-content-type-options"] == "nosniff"


@pytest.mark.parametrize("name", ["missing.js", "app.py", "..%2Fdeps.py", "INDEX.HTML", ".hidden.js"])
def test_nothing_but_the_consoles_own_files_is_served(api, name):
    answer = invoke(api, "api-console-file.json", path=f"/console/{name}")

    assert answer.status == 404
    assert "import " not in answer.text


def test_locally_the_console_signs_in_with_the_gateways_identity_headers(api):
    answer = invoke(api, "api-console-file.json", path="/console/config.json")

    assert answer.status == 200
    assert answer.json() == {"sign_in": "local"}


def test_in_aws_the_console_signs_in_with_the_hosted_ui_and_may_call_only_it(api, in_aws):
    config = invoke(api, "api-console-file.json", path="/console/config.json").json()
    page = invoke(api, "api-console.json")

    assert config == {
        "sign_in": "cognito",
        "url": os.environ["CONSOLE_SIGN_IN_URL"],
        "client_id": "4example0client0id0for0console",
    }
    assert f"connect-src 'self' {os.environ['CONSOLE_SIGN_IN_URL']};" in page.headers["content-security-policy"]
    assert page.headers["strict-transport-security"].startswith("max-age=")


# ---- Authorise Now by e-mail


def test_a_link_is_made_for_the_clients_account_valid_seven_days_on_the_public_route(api, amazon):
    account = create(api)

    status, link = api("POST", f"/accounts/{account['id']}/authorisation-links")

    assert status == 201, link
    url = urlsplit(link["url"])
    assert (url.netloc, url.path) == ("abc123.execute-api.eu-west-2.amazonaws.com", "/oauth/authorise")
    assert parse_qs(url.query)["link"][0].startswith("l1.")
    expires = datetime.fromisoformat(link["expires_at"].replace("Z", "+00:00"))
    assert timedelta(days=6, hours=23) < expires - datetime.now(UTC) <= timedelta(days=7)
    assert (link["account_id"], link["marketplace"], link["merchant_id"]) == (account["id"], "UK", SELLER)


def test_in_aws_the_link_names_the_apis_https_address_and_stage(api, amazon, in_aws):
    event = copy.deepcopy(load_event("api-create-authorisation-link.json"))
    event["requestContext"]["domainName"] = "abc123.execute-api.eu-west-2.amazonaws.com"
    account = create(api)
    event["path"] = f"/accounts/{account['id']}/authorisation-links"
    event["requestContext"]["path"] = f"/dev{event['path']}"

    answer = Answer(api.handler(event, LambdaContext(function_name="ApiFunction")))

    assert answer.status == 201, answer.text
    assert answer.json()["url"].startswith(
        "https://abc123.execute-api.eu-west-2.amazonaws.com/dev/oauth/authorise?link="
    )


def test_another_clients_account_gets_no_link(api, amazon):
    account = create(api)

    status, body = api("POST", f"/accounts/{account['id']}/authorisation-links", client_id="bluebird-gifts")

    assert status == 404, body


def test_each_opening_of_the_link_redirects_to_a_fresh_consent_for_its_account(api, amazon):
    account = create(api)
    _, link = api("POST", f"/accounts/{account['id']}/authorisation-links")
    token = parse_qs(urlsplit(link["url"]).query)["link"][0]

    answers = [invoke(api, "api-open-authorisation-link.json", query={"link": token}) for _ in range(2)]

    states = []
    for answer in answers:
        assert answer.status == 302, answer.text
        assert answer.headers["cache-control"] == "no-store" and answer.headers["referrer-policy"] == "no-referrer"
        consent = urlsplit(answer.headers["location"])
        assert f"{consent.scheme}://{consent.netloc}{consent.path}" == f"{seller_central()}/apps/authorize/consent"
        state = parse_qs(consent.query)["state"][0]
        claims = verify_state(state, state_key(), datetime.now(UTC))
        assert (claims.client_id, claims.account_id) == ("acme-outdoor", account["id"])
        states.append(state)
    assert states[0] != states[1]
    assert amazon.grants == [], "opening the link costs Amazon nothing"


@pytest.mark.parametrize(
    ("query", "code"),
    [
        ({}, "missing_parameter"),
        ({"link": "l1.eyJhIjoiYWNjIn0.forged"}, "invalid_link"),
        ({"link": "v1.not.alink"}, "invalid_link"),
        ({"link": "l1." + "A" * 2000}, "invalid_link"),
    ],
)
def test_a_missing_or_forged_link_opens_a_page_that_says_so(api, amazon, query, code):
    answer = invoke(api, "api-open-authorisation-link.json", query=query)

    assert answer.status == 400
    assert "location" not in answer.headers
    assert answer.headers["content-type"] == "text/html; charset=utf-8"
    assert f"Reference: {code}" in answer.text
    assert (query.get("link") or "@@") not in answer.text, "the link is never echoed"


def test_an_expired_link_or_one_for_a_deleted_account_opens_nothing(api, amazon):
    account = create(api)
    old = sign_link(
        new_link_claims("acme-outdoor", account["id"], "q3Jb0xUe6kR1dVhQh2m1Zg", datetime.now(UTC) - timedelta(days=8)),
        state_key(),
    )
    expired = invoke(api, "api-open-authorisation-link.json", query={"link": old})
    _, link = api("POST", f"/accounts/{account['id']}/authorisation-links")
    token = parse_qs(urlsplit(link["url"]).query)["link"][0]
    assert api("DELETE", f"/accounts/{account['id']}")[0] == 204
    deleted = invoke(api, "api-open-authorisation-link.json", query={"link": token})

    assert (expired.status, deleted.status) == (400, 404)
    assert "Reference: link_expired" in expired.text
    assert "no longer exists" in deleted.text


# ---- the Appstore workflow


def test_the_log_in_uri_refuses_a_callback_off_seller_central_without_redirecting(api, dynamodb, table_name):
    before = all_items(dynamodb, table_name)

    answer = invoke(
        api, "api-appstore-login.json", query=amazon_login(amazon_callback_uri="https://evil.example/apps/authorize")
    )

    assert answer.status == 400
    assert "location" not in answer.headers
    assert "Reference: invalid_callback_uri" in answer.text
    assert all_items(dynamodb, table_name) == before


def test_the_log_in_uri_hands_amazons_parameters_to_the_console_to_sign_in(api):
    answer = invoke(api, "api-appstore-login.json", query=amazon_login())

    assert answer.status == 302
    location = urlsplit(answer.headers["location"])
    assert location.path == "../console/", "relative: the stage stays in the address"
    assert parse_qs(location.query) == {
        "appstore": ["1"],
        "amazon_callback_uri": [f"{seller_central()}{CONFIRM}"],
        "amazon_state": ["amazonstateexample"],
        "selling_partner_id": [SELLER],
        "version": ["beta"],
    }
    assert answer.headers["referrer-policy"] == "no-referrer"


def test_the_signed_in_user_returns_to_amazon_with_a_state_that_then_authorises_the_seller(api, amazon):
    uk, de = create(api, "UK"), create(api, "DE")

    status, body = api("POST", "/oauth/login", {**amazon_login(), "account_id": uk["id"]})

    assert status == 200, body
    back = urlsplit(body["redirect_url"])
    assert f"{back.scheme}://{back.netloc}{back.path}" == f"{seller_central()}{CONFIRM}"
    query = parse_qs(back.query)
    assert query["amazon_state"] == ["amazonstateexample"] and query["version"] == ["beta"]
    assert query["redirect_uri"] == ["http://abc123.execute-api.eu-west-2.amazonaws.com/oauth/callback"]
    page = callback(api, state=query["state"][0], spapi_oauth_code=CODE, selling_partner_id=SELLER)
    assert page.status == 200, page.text
    assert (status_of(api, uk), status_of(api, de)) == ("ok", "ok")


@pytest.mark.parametrize(
    ("changes", "status", "code"),
    [
        ({"amazon_callback_uri": "https://evil.example/apps/authorize/confirm/x"}, 400, "invalid_callback_uri"),
        ({"selling_partner_id": "A9OTHERSELLER01"}, 400, "seller_mismatch"),
        ({"version": "production"}, 400, "invalid_parameter"),
    ],
)
def test_completing_the_log_in_refuses_what_amazon_could_not_have_sent(api, amazon, changes, status, code):
    account = create(api)

    answer = api("POST", "/oauth/login", {**amazon_login(**changes), "account_id": account["id"]})

    assert answer[0] == status and answer[1]["error"]["code"] == code, answer


def test_completing_the_log_in_needs_an_identity_and_the_clients_own_account(api, amazon):
    account = create(api)
    body = {**amazon_login(), "account_id": account["id"]}

    assert api("POST", "/oauth/login", body, client_id=None)[0] == 401
    assert api("POST", "/oauth/login", body, client_id="bluebird-gifts")[0] == 404


def test_amazons_cancel_comes_back_as_an_error_and_changes_nothing(api, amazon, dynamodb, table_name):
    account = create(api)
    _, consent = api("GET", f"/accounts/{account['id']}/authorise")
    before = all_items(dynamodb, table_name)

    page = callback(
        api, state=consent["state"], error="access_denied", error_description="The user cancelled the authorization."
    )

    assert page.status == 400
    assert "cancelled" in page.text and "Reference: authorisation_denied" in page.text
    assert "The user cancelled" not in page.text, "Amazon's own words are not echoed"
    assert all_items(dynamodb, table_name) == before
    assert status_of(api, account) == "authorisation_required"
    assert amazon.grants == []
