"""The simulator's Seller Central pages (SPEC §8.1): the consent page of the website workflow (Confirm and
Cancel redirect as Amazon does), the Appstore page that starts the Appstore workflow at the app's log-in
URI, Amazon's callback URI the app returns to, and Amazon's refusals (MD1000, MD5101) on the way."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest
from werkzeug.test import Client

from local.simulator.app import SimulatorApp
from local.simulator.core import APPLICATION_ID, LWA_CLIENT_ID, LWA_CLIENT_SECRET, Simulator
from local.simulator.errors import ControlError

pytestmark = pytest.mark.unit

SELLER = "A2SELLERUK01"
CALLBACK = "http://127.0.0.1:3000/oauth/callback"
LOGIN = "http://127.0.0.1:3000/oauth/login"


@pytest.fixture
def sim() -> Simulator:
    simulator = Simulator()
    simulator.config.update({"app_redirect_uris": [CALLBACK], "app_login_uri": LOGIN})
    return simulator


@pytest.fixture
def browser(sim: Simulator) -> Client:
    client = Client(SimulatorApp(sim))
    seller = {"seller_id": SELLER, "refresh_token": "Atzr|IwEBI-seller-central-page-token-01", "marketplaces": ["UK"]}
    assert client.post("/_sim/sellers", json=seller).status_code == 201
    return client


def consent_query(**changes: str) -> dict[str, str]:
    return {"application_id": APPLICATION_ID, "state": "v1.our.state", "version": "beta", **changes}


def decide(browser: Client, decision: str, **form: str) -> tuple[int, dict[str, list[str]], str]:
    response = browser.post(
        "/apps/authorize/consent",
        data={**consent_query(), "redirect_uri": "", "seller_id": SELLER, "decision": decision, **form},
    )
    location = urlsplit(response.headers.get("Location", ""))
    return response.status_code, parse_qs(location.query), f"{location.scheme}://{location.netloc}{location.path}"


def redeem(browser: Client, code: str) -> int:
    form = {
        "grant_type": "authorization_code",
        "code": code,
        "client_id": LWA_CLIENT_ID,
        "client_secret": LWA_CLIENT_SECRET,
    }
    return browser.post("/auth/o2/token", data=form).status_code


def test_the_consent_page_asks_who_is_signed_in_and_offers_confirm_and_cancel(browser):
    page = browser.get("/apps/authorize/consent", query_string=consent_query())

    text = page.get_data(as_text=True)
    assert page.status_code == 200 and page.mimetype == "text/html"
    assert '<label for="seller">' in text and f'value="{SELLER}"' in text
    assert 'id="confirm"' in text and ">Confirm<" in text and 'id="cancel"' in text
    assert page.headers["Cache-Control"] == "no-store"


def test_confirm_sends_the_browser_to_the_redirect_uri_with_state_seller_and_a_code_that_works_once(browser):
    status, query, target = decide(browser, "confirm")

    assert (status, target) == (302, CALLBACK)
    assert set(query) == {"state", "selling_partner_id", "spapi_oauth_code"}
    assert query["state"] == ["v1.our.state"] and query["selling_partner_id"] == [SELLER]
    code = query["spapi_oauth_code"][0]
    assert (redeem(browser, code), redeem(browser, code)) == (200, 400)


def test_cancel_sends_login_with_amazons_error_response_and_no_code(browser, sim):
    status, query, target = decide(browser, "cancel")

    assert (status, target) == (302, CALLBACK)
    assert query["error"] == ["access_denied"] and query["state"] == ["v1.our.state"]
    assert query["error_description"][0]
    assert "spapi_oauth_code" not in query
    assert sim.auth_codes == {}


@pytest.mark.parametrize(
    ("changes", "shown"),
    [
        ({"version": ""}, "MD1000"),  # a draft app without version=beta
        ({"application_id": "amzn1.sp.solution.other"}, "could not find the application"),
        ({"redirect_uri": "https://evil.example/callback"}, "MD5101"),
    ],
)
def test_amazons_refusals_are_pages_not_redirects(browser, changes, shown):
    page = browser.get("/apps/authorize/consent", query_string=consent_query(**changes))

    assert page.status_code == 400 and "Location" not in page.headers
    assert shown in page.get_data(as_text=True)


def test_a_published_app_needs_no_version_and_an_app_without_redirect_uris_cannot_be_authorised(browser, sim):
    sim.config.update({"app_draft": False})
    assert browser.get("/apps/authorize/consent", query_string=consent_query(version="")).status_code == 200
    sim.config.update({"app_redirect_uris": []})
    assert "MD5101" in browser.get("/apps/authorize/consent", query_string=consent_query()).get_data(as_text=True)


def test_the_appstore_page_starts_the_appstore_workflow_at_the_apps_log_in_uri(browser):
    detail = browser.get(f"/selling-partner-appstore/dp/{APPLICATION_ID}").get_data(as_text=True)
    assert 'id="authorise-now"' in detail and 'name="version" value="beta"' in detail

    consent = browser.get("/apps/authorize/consent", query_string={"application_id": APPLICATION_ID, "version": "beta"})
    assert "Log in to OMS Amazon connector now" in consent.get_data(as_text=True)

    status, query, target = decide(browser, "confirm", state="")

    assert (status, target) == (302, LOGIN)
    assert set(query) == {"amazon_callback_uri", "amazon_state", "selling_partner_id", "version"}
    assert query["amazon_callback_uri"] == [f"http://localhost/apps/authorize/confirm/{APPLICATION_ID}"]
    assert query["selling_partner_id"] == [SELLER] and query["version"] == ["beta"]


def appstore_log_in(browser: Client) -> dict[str, list[str]]:
    return decide(browser, "confirm", state="")[1]


def test_the_app_returning_to_amazons_callback_gets_a_code_for_the_consenting_seller_once(browser):
    handed = appstore_log_in(browser)
    back = {
        "redirect_uri": CALLBACK,
        "amazon_state": handed["amazon_state"][0],
        "state": "v1.app.state",
        "version": "beta",
    }

    first = browser.get(f"/apps/authorize/confirm/{APPLICATION_ID}", query_string=back)
    again = browser.get(f"/apps/authorize/confirm/{APPLICATION_ID}", query_string=back)

    assert first.status_code == 302
    location = urlsplit(first.headers["Location"])
    assert f"{location.scheme}://{location.netloc}{location.path}" == CALLBACK
    query = parse_qs(location.query)
    assert query["state"] == ["v1.app.state"] and query["selling_partner_id"] == [SELLER]
    assert redeem(browser, query["spapi_oauth_code"][0]) == 200
    assert again.status_code == 400, "amazon_state works once"


@pytest.mark.parametrize(
    "changes",
    [{"amazon_state": "made-up"}, {"state": ""}, {"redirect_uri": "https://evil.example/cb"}, {"version": ""}],
)
def test_amazons_callback_refuses_what_it_did_not_hand_out(browser, changes):
    handed = appstore_log_in(browser)
    back = {
        "redirect_uri": CALLBACK,
        "amazon_state": handed["amazon_state"][0],
        "state": "s",
        "version": "beta",
        **changes,
    }

    answer = browser.get(f"/apps/authorize/confirm/{APPLICATION_ID}", query_string=back)

    assert answer.status_code == 400 and "Location" not in answer.headers


def test_the_apps_registration_is_checked_config(sim):
    for bad in ({"app_redirect_uris": "http://x"}, {"app_redirect_uris": ["ftp://x"]}, {"app_login_uri": "nope"}):
        with pytest.raises(ControlError):
            sim.config.update(bad)
