"""Login with Amazon: token caching with a fake clock, the OAuth code exchange, and how LWA failures surface."""

from __future__ import annotations

from urllib.parse import parse_qs

import httpx
import pytest
from oms_amazon.adapters.sp_api import (
    AccessTokenCache,
    AmazonUnavailable,
    AppCredentialsRejected,
    AuthorisationRejected,
    LwaClient,
    LwaCredentials,
    LwaError,
    ManualClock,
    RetryPolicy,
    UnexpectedResponse,
)

from tests.unit.test_sp_api_support import CANARY_REFRESH_TOKEN, Recorder, json_response, responses

pytestmark = pytest.mark.unit

CREDENTIALS = LwaCredentials("amzn1.application-oa2-client.local", "local-secret")
LOCAL_LWA = "http://127.0.0.1:8100/auth/o2/token"


def _token(access: str = "Atza|access-1", expires_in: int = 3600, refresh: str | None = None) -> httpx.Response:
    body: dict[str, object] = {"access_token": access, "token_type": "bearer", "expires_in": expires_in}
    if refresh is not None:
        body["refresh_token"] = refresh
    return json_response(200, body)


def _lwa(handler: Recorder, clock: ManualClock | None = None, **kwargs: object) -> LwaClient:
    return LwaClient(
        CREDENTIALS,
        token_url=LOCAL_LWA,
        http=httpx.Client(transport=httpx.MockTransport(handler)),
        clock=clock or ManualClock(),
        cache=AccessTokenCache(),
        jitter=lambda: 0.5,
        **kwargs,  # type: ignore[arg-type]
    )


def _form(request: httpx.Request) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(request.content.decode()).items()}


# ----------------------------------------------------------------------------------------- refresh token


def test_a_refresh_token_is_exchanged_with_a_form_encoded_post_carrying_the_app_credentials() -> None:
    lwa_server = responses(_token())

    token = _lwa(lwa_server).access_token(CANARY_REFRESH_TOKEN)

    (request,) = lwa_server.requests
    assert token == "Atza|access-1"
    assert (request.method, str(request.url)) == ("POST", LOCAL_LWA)
    assert request.headers["content-type"].startswith("application/x-www-form-urlencoded")
    assert _form(request) == {
        "grant_type": "refresh_token",
        "refresh_token": CANARY_REFRESH_TOKEN,
        "client_id": "amzn1.application-oa2-client.local",
        "client_secret": "local-secret",
    }


def test_the_default_token_url_is_amazons() -> None:
    lwa_server = responses(_token())
    client = LwaClient(
        CREDENTIALS, http=httpx.Client(transport=httpx.MockTransport(lwa_server)), cache=AccessTokenCache()
    )

    client.access_token(CANARY_REFRESH_TOKEN)

    assert str(lwa_server.requests[0].url) == "https://api.amazon.com/auth/o2/token"


def test_the_access_token_is_reused_until_shortly_before_it_expires() -> None:
    clock = ManualClock()
    lwa_server = responses(_token("Atza|first"), _token("Atza|second"))
    lwa = _lwa(lwa_server, clock, refresh_margin=60.0)

    first = lwa.access_token(CANARY_REFRESH_TOKEN)
    clock.advance(3539)
    still_first = lwa.access_token(CANARY_REFRESH_TOKEN)
    clock.advance(1)  # 60 s before expires_in: refresh now rather than risk a 403 mid-run
    refreshed = lwa.access_token(CANARY_REFRESH_TOKEN)

    assert (first, still_first, refreshed) == ("Atza|first", "Atza|first", "Atza|second")
    assert len(lwa_server) == 2


def test_a_very_short_lived_token_is_still_cached_for_part_of_its_life() -> None:
    clock = ManualClock()
    lwa_server = responses(_token("Atza|short", expires_in=10))
    lwa = _lwa(lwa_server, clock, refresh_margin=60.0)

    lwa.access_token(CANARY_REFRESH_TOKEN)
    clock.advance(4)
    lwa.access_token(CANARY_REFRESH_TOKEN)

    assert len(lwa_server) == 1


def test_each_refresh_token_has_its_own_cached_access_token() -> None:
    lwa_server = responses(_token("Atza|seller-a"), _token("Atza|seller-b"))
    lwa = _lwa(lwa_server)

    a = lwa.access_token("Atzr|seller-a-refresh-token-000000")
    b = lwa.access_token("Atzr|seller-b-refresh-token-000000")

    assert (a, b) == ("Atza|seller-a", "Atza|seller-b")
    assert lwa.access_token("Atzr|seller-a-refresh-token-000000") == "Atza|seller-a"


def test_the_cache_is_keyed_by_a_digest_never_by_the_refresh_token() -> None:
    cache = AccessTokenCache()
    lwa = LwaClient(CREDENTIALS, http=httpx.Client(transport=httpx.MockTransport(responses(_token()))), cache=cache)

    lwa.access_token(CANARY_REFRESH_TOKEN)

    keys = list(cache._tokens)
    assert len(keys) == 1
    assert CANARY_REFRESH_TOKEN not in keys[0]
    assert len(keys[0]) == 64  # sha-256 hex


def test_a_cache_shared_by_two_clients_serves_the_second_without_a_call() -> None:
    cache = AccessTokenCache()
    lwa_server = responses(_token())
    clock = ManualClock()

    def client() -> LwaClient:
        return LwaClient(
            CREDENTIALS, http=httpx.Client(transport=httpx.MockTransport(lwa_server)), clock=clock, cache=cache
        )

    client().access_token(CANARY_REFRESH_TOKEN)
    client().access_token(CANARY_REFRESH_TOKEN)

    assert len(lwa_server) == 1


def test_force_refresh_bypasses_the_cache() -> None:
    lwa_server = responses(_token("Atza|first"), _token("Atza|second"))
    lwa = _lwa(lwa_server)

    lwa.access_token(CANARY_REFRESH_TOKEN)
    token = lwa.access_token(CANARY_REFRESH_TOKEN, force_refresh=True)

    assert token == "Atza|second"


def test_invalidate_forgets_the_cached_token() -> None:
    lwa_server = responses(_token("Atza|first"), _token("Atza|second"))
    lwa = _lwa(lwa_server)
    lwa.access_token(CANARY_REFRESH_TOKEN)

    lwa.invalidate(CANARY_REFRESH_TOKEN)

    assert lwa.access_token(CANARY_REFRESH_TOKEN) == "Atza|second"


# ------------------------------------------------------------------------------------------ OAuth code


def test_an_authorisation_code_is_exchanged_for_the_sellers_refresh_token() -> None:
    lwa_server = responses(_token("Atza|fresh", refresh="Atzr|new-refresh-token-0000000000"))
    lwa = _lwa(lwa_server)

    refresh = lwa.exchange_authorization_code("ANdNAVhyhqirUelHGEHA", redirect_uri="https://oms.example/oauth/callback")

    assert refresh == "Atzr|new-refresh-token-0000000000"
    assert _form(lwa_server.requests[0]) == {
        "grant_type": "authorization_code",
        "code": "ANdNAVhyhqirUelHGEHA",
        "redirect_uri": "https://oms.example/oauth/callback",
        "client_id": "amzn1.application-oa2-client.local",
        "client_secret": "local-secret",
    }


def test_the_code_exchange_leaves_out_redirect_uri_when_not_given_and_caches_the_access_token() -> None:
    lwa_server = responses(_token("Atza|fresh", refresh="Atzr|new-refresh-token-0000000000"))
    lwa = _lwa(lwa_server)

    refresh = lwa.exchange_authorization_code("code-1")
    access = lwa.access_token(refresh)

    assert "redirect_uri" not in _form(lwa_server.requests[0])
    assert access == "Atza|fresh"
    assert len(lwa_server) == 1


def test_a_code_exchange_without_a_refresh_token_is_an_unexpected_response() -> None:
    with pytest.raises(UnexpectedResponse):
        _lwa(responses(_token())).exchange_authorization_code("code-1")


# -------------------------------------------------------------------------------------------- failures


def test_invalid_grant_is_authorisation_rejected_after_exactly_one_call() -> None:
    clock = ManualClock()
    lwa_server = responses(
        json_response(
            400, {"error": "invalid_grant", "error_description": "The request has an invalid grant parameter"}
        )
    )

    with pytest.raises(AuthorisationRejected) as raised:
        _lwa(lwa_server, clock).access_token(CANARY_REFRESH_TOKEN)

    assert len(lwa_server) == 1
    assert clock.sleeps == []
    assert (raised.value.status, raised.value.code) == (400, "invalid_grant")


def test_a_used_or_expired_oauth_code_is_authorisation_rejected_too() -> None:
    lwa_server = responses(json_response(400, {"error": "invalid_grant", "error_description": "expired code"}))

    with pytest.raises(AuthorisationRejected):
        _lwa(lwa_server).exchange_authorization_code("old-code")


@pytest.mark.parametrize("code", ["invalid_client", "unauthorized_client"])
def test_bad_app_credentials_are_a_typed_error_and_not_retried(code: str) -> None:
    lwa_server = responses(json_response(401, {"error": code, "error_description": "Client authentication failed"}))

    with pytest.raises(AppCredentialsRejected):
        _lwa(lwa_server).access_token(CANARY_REFRESH_TOKEN)

    assert len(lwa_server) == 1


def test_another_lwa_refusal_is_a_plain_lwa_error() -> None:
    lwa_server = responses(json_response(400, {"error": "invalid_request"}))

    with pytest.raises(LwaError) as raised:
        _lwa(lwa_server).access_token(CANARY_REFRESH_TOKEN)

    assert not isinstance(raised.value, AuthorisationRejected | AppCredentialsRejected)


def test_lwa_5xx_and_transport_errors_are_retried_with_back_off_until_a_token_comes() -> None:
    clock = ManualClock()
    lwa_server = responses(
        json_response(503, {"error": "temporarily_unavailable"}),
        httpx.ConnectError("connection refused"),
        _token("Atza|finally"),
    )

    token = _lwa(lwa_server, clock).access_token(CANARY_REFRESH_TOKEN)

    assert token == "Atza|finally"
    assert len(lwa_server) == 3
    assert clock.sleeps == [0.75, 1.5]  # base 1 s, doubled, equal jitter at 0.5


def test_lwa_that_stays_down_raises_amazon_unavailable_within_the_budget() -> None:
    clock = ManualClock()
    lwa_server = responses(json_response(500, {"error": "server_error"}))

    with pytest.raises(AmazonUnavailable) as raised:
        _lwa(lwa_server, clock, retry=RetryPolicy(time_budget=10.0)).access_token(CANARY_REFRESH_TOKEN)

    assert clock.now <= 10.0
    assert raised.value.status == 500
    assert len(lwa_server) > 1


def test_a_token_answer_without_an_access_token_is_unexpected() -> None:
    with pytest.raises(UnexpectedResponse):
        _lwa(responses(json_response(200, {"token_type": "bearer"}))).access_token(CANARY_REFRESH_TOKEN)
