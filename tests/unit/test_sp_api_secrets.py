"""No refresh token, access token, client secret or pre-signed URL signature ever reaches an error or a log.

Canary values are pushed through every path that could leak them (LWA refusals that echo the token, SP-API
error bodies that quote it, retries, re-authentication, document transfers), then the raised errors, their
reprs and everything logged (records and the JSON written to stdout) are searched for them.
"""

from __future__ import annotations

import logging

import httpx
import pytest
from oms_amazon.adapters.sp_api import (
    AccessTokenCache,
    AuthorisationRejected,
    BucketRegistry,
    InvalidRequest,
    LwaClient,
    LwaCredentials,
    ManualClock,
    RetryPolicy,
    SpApiClient,
    SpApiConfig,
    SpApiError,
)
from oms_amazon.adapters.sp_api.models import FeedDocument
from oms_amazon.observability import SERVICE

from tests.unit.test_sp_api_support import (
    CANARY_ACCESS_TOKEN,
    CANARY_REFRESH_TOKEN,
    FakeTokens,
    json_response,
    make_client,
    responses,
)

pytestmark = pytest.mark.unit

CANARY_SECRET = "canary-client-secret-5f2b9c"
SIGNATURE = "X-Amz-Signature=canarysignature0123"
S3_URL = f"https://tortuga.s3.amazonaws.com/doc?{SIGNATURE}"
SECRETS = (CANARY_REFRESH_TOKEN, CANARY_ACCESS_TOKEN, CANARY_SECRET, "canarysignature0123")


def _assert_clean(text: str) -> None:
    for secret in SECRETS:
        assert secret not in text


def _logged(caplog: pytest.LogCaptureFixture, capfd: pytest.CaptureFixture[str]) -> str:
    records = "\n".join(f"{r.getMessage()} {r.__dict__!r}" for r in caplog.records)
    out, err = capfd.readouterr()
    return "\n".join([records, out, err])


@pytest.fixture
def debug_logs(caplog: pytest.LogCaptureFixture) -> pytest.LogCaptureFixture:
    caplog.set_level(logging.DEBUG, logger=SERVICE)
    return caplog


def _lwa(handler: object, clock: ManualClock) -> LwaClient:
    return LwaClient(
        LwaCredentials("amzn1.application-oa2-client.canary", CANARY_SECRET),
        token_url="http://127.0.0.1:8100/auth/o2/token",
        http=httpx.Client(transport=httpx.MockTransport(handler)),  # type: ignore[arg-type]
        clock=clock,
        cache=AccessTokenCache(),
        retry=RetryPolicy(time_budget=5.0),
    )


def test_an_lwa_refusal_echoing_the_refresh_token_never_repeats_it(
    debug_logs: pytest.LogCaptureFixture, capfd: pytest.CaptureFixture[str]
) -> None:
    lwa_server = responses(
        json_response(400, {"error": "invalid_grant", "error_description": f"Bad token {CANARY_REFRESH_TOKEN}"})
    )

    with pytest.raises(AuthorisationRejected) as raised:
        _lwa(lwa_server, ManualClock()).access_token(CANARY_REFRESH_TOKEN)

    _assert_clean(str(raised.value))
    _assert_clean(repr(raised.value))
    _assert_clean(raised.value.message)
    _assert_clean(_logged(debug_logs, capfd))


def test_an_sp_api_error_quoting_the_access_token_is_redacted_everywhere(
    debug_logs: pytest.LogCaptureFixture, capfd: pytest.CaptureFixture[str]
) -> None:
    amazon = responses(
        json_response(
            400,
            {
                "errors": [
                    {"code": "InvalidInput", "message": f"bad {CANARY_ACCESS_TOKEN}", "details": CANARY_ACCESS_TOKEN}
                ]
            },
        )
    )

    with pytest.raises(InvalidRequest) as raised:
        make_client(amazon).get_feed("feed-1")

    error = raised.value
    for text in (str(error), repr(error), error.message, error.details or "", repr(error.errors), repr(error.args)):
        _assert_clean(text)
    _assert_clean(_logged(debug_logs, capfd))


def test_a_whole_troubled_session_logs_no_secret(
    debug_logs: pytest.LogCaptureFixture, capfd: pytest.CaptureFixture[str]
) -> None:
    clock = ManualClock()
    lwa_server = responses(
        json_response(503, {"error": "temporarily_unavailable"}),
        json_response(200, {"access_token": CANARY_ACCESS_TOKEN, "expires_in": 3600, "token_type": "bearer"}),
    )
    amazon = responses(
        json_response(429, {"errors": [{"code": "QuotaExceeded", "message": "slow down"}]}),
        httpx.ReadTimeout("timed out"),
        json_response(503, {"errors": [{"code": "ServiceUnavailable", "message": "down"}]}),
        json_response(403, {"errors": [{"code": "Unauthorized", "message": "expired"}]}),
        json_response(
            200,
            {
                "feedId": "f-1",
                "feedType": "JSON_LISTINGS_FEED",
                "createdTime": "2026-03-01T00:00:00Z",
                "processingStatus": "DONE",
                "resultFeedDocumentId": "res-1",
            },
        ),
        json_response(200, {"feedDocumentId": "res-1", "url": S3_URL}),
    )
    s3 = responses(httpx.Response(500))

    def route(request: httpx.Request) -> httpx.Response:
        return s3(request) if request.url.host.endswith("s3.amazonaws.com") else amazon(request)

    client = SpApiClient(
        seller_id="A3SELLER0001",
        region="eu",
        refresh_token=CANARY_REFRESH_TOKEN,
        lwa=_lwa(lwa_server, clock),
        config=SpApiConfig(retry=RetryPolicy(time_budget=120.0)),
        http=httpx.Client(transport=httpx.MockTransport(route)),
        clock=clock,
        buckets=BucketRegistry(),
    )

    feed = client.get_feed("f-1")
    document = client.get_feed_document(feed.result_feed_document_id or "")
    with pytest.raises(SpApiError) as raised:
        client.download_feed_document(document)

    _assert_clean(str(raised.value))
    _assert_clean(repr(document))
    logged = _logged(debug_logs, capfd)
    _assert_clean(logged)
    assert "sp-api retry" in logged  # the session really went through the noisy paths
    assert "lwa retry" in logged


def test_reprs_of_credentials_clients_and_caches_hide_secrets() -> None:
    clock = ManualClock()
    lwa = _lwa(
        responses(json_response(200, {"access_token": CANARY_ACCESS_TOKEN, "expires_in": 3600})),
        clock,
    )
    lwa.access_token(CANARY_REFRESH_TOKEN)
    client = make_client(responses(json_response(200, {})), tokens=FakeTokens())

    for text in (
        repr(LwaCredentials("id", CANARY_SECRET)),
        repr(lwa),
        repr(lwa._cache),
        repr(client),
        repr(client._transport),
        repr(client._transport.config),
        repr(client._transport.credentials),
        repr(FeedDocument.model_validate({"feedDocumentId": "d", "url": S3_URL})),
    ):
        _assert_clean(text)


def test_the_access_token_goes_only_in_its_header() -> None:
    amazon = responses(
        json_response(
            200, {"feedId": "1", "feedType": "X", "createdTime": "2026-01-01T00:00:00Z", "processingStatus": "DONE"}
        )
    )

    make_client(amazon).get_feed("1")

    (request,) = amazon.requests
    assert request.headers["x-amz-access-token"] == CANARY_ACCESS_TOKEN
    assert CANARY_ACCESS_TOKEN not in str(request.url)
    assert CANARY_REFRESH_TOKEN not in str(request.headers)
