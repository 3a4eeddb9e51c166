"""Authorise Now by e-mail and from Amazon's Appstore (SPEC §4.4, §7): the 7-day link (signed, bound to the
client and account, a fresh consent each time it is opened), the Appstore workflow's log-in request (the
callback must be Seller Central: no open redirect) and the way back to Amazon, in Amazon's parameter names."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs, parse_qsl, urlsplit

import pytest
from oms_amazon.domain.authorisation import (
    SELLER_CENTRAL_HOSTS,
    AppstoreLogin,
    InvalidCallbackUri,
    amazon_callback_redirect,
    check_amazon_callback_uri,
    check_appstore_login,
    consent_url,
)
from oms_amazon.domain.errors import InvalidInput, NotFound
from oms_amazon.domain.marketplaces import MARKETPLACES, marketplace_by_code
from oms_amazon.domain.oauth_state import (
    LINK_LIFETIME,
    InvalidLink,
    InvalidState,
    new_claims,
    new_link_claims,
    sign_link,
    sign_state,
    verify_link,
    verify_state,
)
from oms_amazon.services.accounts import AccountService
from oms_amazon.services.authorisation import AuthorisationService

from fakes import FakeAccounts, FakeRejections, FakeSecrets
from tests.builders import new_account
from tests.unit.test_authorisation_service import CODE, REFRESH, SELLER, Clock, FakeAmazon, FakeKey
from tests.unit.test_authorisation_service import FakeUsedStates as UsedStates

pytestmark = pytest.mark.unit

KEY = b"k" * 32
NOW = datetime(2026, 3, 1, 12, 0, 0, 250_000, tzinfo=UTC)
NONCE = "q3Jb0xUe6kR1dVhQh2m1Zg"
CALLBACK = "https://sellercentral-europe.amazon.com/apps/authorize/confirm/amzn1.sellerapps.app.2eca283f"
REDIRECT = "https://abc123.execute-api.eu-west-2.amazonaws.com/dev/oauth/callback"


# ---- the link, as a signed token


def test_a_link_verifies_to_the_client_and_account_it_was_issued_for_for_seven_days():
    link = sign_link(new_link_claims("acme-outdoor", "acc1", NONCE, NOW), KEY)

    claims = verify_link(link, KEY, NOW + LINK_LIFETIME - timedelta(seconds=1))

    assert (claims.client_id, claims.account_id) == ("acme-outdoor", "acc1")
    assert claims.expires_at == (NOW + timedelta(days=7)).replace(microsecond=0)
    assert link.startswith("l1.")


def test_a_link_is_refused_from_the_second_it_expires_without_echoing_it():
    link = sign_link(new_link_claims("acme-outdoor", "acc1", NONCE, NOW), KEY)

    with pytest.raises(InvalidLink) as refused:
        verify_link(link, KEY, NOW + timedelta(days=7))

    assert refused.value.code == "link_expired"
    assert link not in refused.value.message


@pytest.mark.parametrize("position", [3, 10, 40, -5, -1])
def test_a_link_changed_anywhere_is_refused(position):
    link = sign_link(new_link_claims("acme-outdoor", "acc1", NONCE, NOW), KEY)
    changed = link[:position] + ("A" if link[position] != "A" else "B") + link[position + 1 :]
    if position == -1:
        changed = link[:-1] + ("A" if link[-1] != "A" else "B")

    with pytest.raises(InvalidLink) as refused:
        verify_link(changed, KEY, NOW)

    assert refused.value.code == "invalid_link"


def test_a_state_is_never_a_link_and_a_link_is_never_a_state_though_one_key_signs_both():
    claims = new_link_claims("acme-outdoor", "acc1", NONCE, NOW)
    link, state = sign_link(claims, KEY), sign_state(new_claims("acme-outdoor", "acc1", NONCE, NOW), KEY)

    with pytest.raises(InvalidLink):
        verify_link(state, KEY, NOW)
    with pytest.raises(InvalidState):
        verify_state(link, KEY, NOW)
    # Even relabelled, a link's signature does not vouch for a state (another signing context).
    with pytest.raises(InvalidState):
        verify_state("v1." + link.split(".", 1)[1], KEY, NOW)


def test_a_link_signed_with_another_key_is_refused():
    link = sign_link(new_link_claims("acme-outdoor", "acc1", NONCE, NOW), b"o" * 32)

    with pytest.raises(InvalidLink):
        verify_link(link, KEY, NOW)


# ---- Seller Central: the consent URL and Amazon's callback URI


def test_the_consent_url_goes_to_a_configured_seller_central_instead_of_amazons_host():
    url = urlsplit(consent_url(marketplace_by_code("UK"), "app", "s", seller_central_url="http://127.0.0.1:8100/"))

    assert (url.scheme, url.netloc, url.path) == ("http", "127.0.0.1:8100", "/apps/authorize/consent")


@pytest.mark.parametrize("host", sorted(SELLER_CENTRAL_HOSTS))
def test_every_marketplaces_seller_central_is_a_callback_amazon_may_give(host):
    uri = f"https://{host}/apps/authorize/confirm/amzn1.sellerapps.app.x?a=1"

    assert check_amazon_callback_uri(uri) == uri


def test_every_marketplace_has_its_seller_central_among_the_accepted_hosts():
    assert {m.seller_central for m in MARKETPLACES} == SELLER_CENTRAL_HOSTS


@pytest.mark.parametrize(
    "uri",
    [
        "http://sellercentral.amazon.com/apps/authorize/confirm/x",  # not https
        "https://evil.example/apps/authorize/confirm/x",
        "https://sellercentral.amazon.com.evil.example/apps/authorize/confirm/x",  # a look-alike suffix
        "https://evil.example.sellercentral.amazon.com/x",  # a look-alike prefix
        "https://sellercentral.amazon.com@evil.example/x",  # user information
        "https://sellercentral.amazon.com:8443/x",  # another port
        "https://sellercentral.amazon.com\\@evil.example/x",  # a backslash browsers read as a slash
        "https://sellercentral.amazon.com/x#https://evil.example",
        "https://sellercentral.amazon.com",  # no path
        "//evil.example/x",
        "javascript:alert(1)//sellercentral.amazon.com/",
        "https://sellercentral.amazon.com/ x",
        "https://amazon.com/apps/authorize/confirm/x",  # Amazon, but not a Seller Central host
        "",
        "https://sellercentral.amazon.com/" + "x" * 2100,
    ],
)
def test_a_callback_anywhere_but_seller_central_is_refused(uri):
    with pytest.raises(InvalidCallbackUri) as refused:
        check_amazon_callback_uri(uri)

    assert refused.value.code == "invalid_callback_uri"


def test_with_a_configured_seller_central_only_its_origin_is_a_callback():
    local = "http://127.0.0.1:8100"

    assert check_amazon_callback_uri(f"{local}/apps/authorize/confirm/app", local)
    for other in ("http://127.0.0.1:9999/x", "http://localhost:8100/x", f"{CALLBACK}"):
        with pytest.raises(InvalidCallbackUri):
            check_amazon_callback_uri(other, local)


def test_a_log_in_request_keeps_amazons_values_and_upper_cases_the_seller():
    login = check_appstore_login(CALLBACK, "amazonstateexample", " a2selleruk01 ", "beta")

    assert login == AppstoreLogin(CALLBACK, "amazonstateexample", SELLER, beta=True)
    assert check_appstore_login(CALLBACK, "s", SELLER).beta is False


@pytest.mark.parametrize(
    ("arguments", "code"),
    [
        ((None, "s", SELLER), "missing_parameter"),
        ((CALLBACK, "", SELLER), "missing_parameter"),
        ((CALLBACK, "s", None), "missing_parameter"),
        ((CALLBACK, "s", "short"), "invalid_parameter"),
        ((CALLBACK, "s\x00", SELLER), "invalid_parameter"),
        ((CALLBACK, "s", SELLER, "prod"), "invalid_parameter"),
        (("https://evil.example/x", "s", SELLER), "invalid_callback_uri"),
    ],
)
def test_a_log_in_request_missing_or_bending_a_parameter_is_refused(arguments, code):
    with pytest.raises(InvalidInput) as refused:
        check_appstore_login(*arguments)

    assert refused.value.code == code


def test_the_way_back_to_amazon_carries_redirect_uri_amazon_state_state_and_version_beta():
    login = check_appstore_login(CALLBACK + "?marketplace=x&state=theirs", "amazonstateexample", SELLER, "beta")

    url = urlsplit(amazon_callback_redirect(login, redirect_uri=REDIRECT, state="v1.signed.state"))

    assert f"{url.scheme}://{url.netloc}{url.path}" == CALLBACK
    assert parse_qsl(url.query) == [
        ("marketplace", "x"),
        ("redirect_uri", REDIRECT),
        ("amazon_state", "amazonstateexample"),
        ("state", "v1.signed.state"),
        ("version", "beta"),
    ]
    assert not url.fragment


def test_a_published_apps_way_back_has_no_version():
    login = check_appstore_login(CALLBACK, "s", SELLER)

    query = parse_qs(urlsplit(amazon_callback_redirect(login, redirect_uri=REDIRECT, state="st")).query)

    assert "version" not in query


# ---- the service


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def accounts() -> FakeAccounts:
    return FakeAccounts()


@pytest.fixture
def account_service(accounts, clock) -> AccountService:
    ids = (f"acc{n}" for n in itertools.count(1))
    return AccountService(accounts, FakeSecrets(), clock=clock, new_id=lambda: next(ids))


@pytest.fixture
def service(account_service, accounts, clock) -> AuthorisationService:
    nonces = (f"nonce-{n:016d}" for n in itertools.count(1))
    return AuthorisationService(
        accounts=account_service,
        secrets=FakeSecrets(),
        amazon=FakeAmazon(),
        state_key=FakeKey(),
        used_states=UsedStates(),
        rejections=FakeRejections(accounts),
        clock=clock,
        nonce=lambda: next(nonces),
    )


@pytest.fixture
def uk(account_service):
    return account_service.create("acme-outdoor", new_account(SELLER, "UK"))


def test_a_link_is_only_made_for_the_clients_own_account(service, uk):
    issued = service.create_link("acme-outdoor", uk.id)

    assert issued.account.id == uk.id
    with pytest.raises(NotFound):
        service.create_link("bluebird-gifts", uk.id)


def test_opening_a_link_twice_gives_two_consents_with_fresh_states_for_its_account(service, uk, clock):
    link = service.create_link("acme-outdoor", uk.id).link

    opened = []
    for _ in range(2):
        consent = service.open_link(link)
        claims = verify_state(consent.state, FakeKey().key(), clock.now)
        assert (claims.client_id, claims.account_id) == ("acme-outdoor", uk.id)
        assert consent.expires_at - clock.now <= timedelta(minutes=10)
        opened.append(consent)
        clock.now += timedelta(days=6)

    assert opened[0].state != opened[1].state
    assert opened[0].consent_url != opened[1].consent_url


def test_a_link_older_than_seven_days_or_for_a_deleted_account_opens_nothing(service, uk, account_service, clock):
    link = service.create_link("acme-outdoor", uk.id).link

    clock.now += timedelta(days=7)
    with pytest.raises(InvalidLink) as expired:
        service.open_link(link)
    assert expired.value.code == "link_expired"

    clock.now -= timedelta(days=1)
    account_service.delete("acme-outdoor", uk.id)
    with pytest.raises(NotFound):
        service.open_link(link)


def test_the_appstore_return_signs_a_state_for_the_picked_account_that_completes_the_authorisation(service, uk):
    login = check_appstore_login(CALLBACK, "amazonstateexample", SELLER, "beta")

    returned = service.appstore_return("acme-outdoor", uk.id, login, redirect_uri=REDIRECT)

    query = parse_qs(urlsplit(returned.redirect_url).query)
    assert query["redirect_uri"] == [REDIRECT] and query["amazon_state"] == ["amazonstateexample"]
    assert query["version"] == ["beta"]
    authorised = service.complete(query["state"][0], CODE, SELLER, redirect_uri=REDIRECT)
    assert authorised.account.id == uk.id and authorised.account.authorisation.status == "ok"
    assert (authorised.account.authorisation.hint or "").endswith(REFRESH.value[-4:])


def test_the_appstore_return_refuses_another_sellers_or_another_clients_connection(service, uk):
    other_seller = check_appstore_login(CALLBACK, "s", "A9OTHERSELLER01")
    with pytest.raises(InvalidInput) as mismatch:
        service.appstore_return("acme-outdoor", uk.id, other_seller, redirect_uri=REDIRECT)
    assert mismatch.value.code == "seller_mismatch"

    login = check_appstore_login(CALLBACK, "s", SELLER)
    with pytest.raises(NotFound):
        service.appstore_return("bluebird-gifts", uk.id, login, redirect_uri=REDIRECT)


def test_the_appstore_return_never_builds_a_redirect_off_seller_central(service, uk):
    forged = AppstoreLogin("https://evil.example/apps/authorize/confirm/x", "s", SELLER, beta=True)

    with pytest.raises(InvalidCallbackUri):
        service.appstore_return("acme-outdoor", uk.id, forged, redirect_uri=REDIRECT)
