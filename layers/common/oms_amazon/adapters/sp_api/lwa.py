"""Login with Amazon (LWA): refresh tokens to access tokens, and OAuth codes to refresh tokens.

Access tokens live for `expires_in` seconds (3600 in practice) and are cached per refresh token, in a
process-wide cache so a warm Lambda container does not fetch a new one per invocation. The cache key is a
digest of the app's client id and the refresh token; the refresh token itself is never stored as a key,
logged or put in an error.

LWA `invalid_grant` means the seller's authorisation is gone: it raises `AuthorisationRejected` at once,
never retried (SPEC §4.2). 5xx, 429 and transport failures are retried with back-off inside the policy's
time budget, then raise `AmazonUnavailable`.
"""

from __future__ import annotations

import hashlib
import random
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol
from urllib.parse import urlencode

import httpx
from aws_lambda_powertools import Logger
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from oms_amazon.adapters.sp_api.errors import (
    AmazonUnavailable,
    AppCredentialsRejected,
    AuthorisationRejected,
    LwaError,
    SpApiError,
    Throttled,
    UnexpectedResponse,
)
from oms_amazon.adapters.sp_api.throttle import Clock, RetryPolicy, SystemClock
from oms_amazon.observability import logger as default_logger
from oms_amazon.observability import redact

LWA_TOKEN_URL = "https://api.amazon.com/auth/o2/token"  # noqa: S105 (a URL, not a secret)
LWA_OPERATION = "lwaToken"
DEFAULT_LWA_TIMEOUT = httpx.Timeout(10.0, connect=5.0)

_FORM_CONTENT_TYPE = "application/x-www-form-urlencoded;charset=UTF-8"
_REJECTED_GRANT = frozenset({"invalid_grant"})
_REJECTED_CLIENT = frozenset({"invalid_client", "unauthorized_client"})


@dataclass(frozen=True, slots=True)
class LwaCredentials:
    """The connector application's LWA client id and secret (from Secrets Manager)."""

    client_id: str
    client_secret: str = field(repr=False)


class AccessTokenProvider(Protocol):
    """What the SP-API client needs from LWA: an access token for a seller's refresh token."""

    def access_token(self, refresh_token: str, *, force_refresh: bool = False) -> str: ...


class _TokenResponse(BaseModel):
    model_config = ConfigDict(extra="ignore")

    access_token: str = Field(repr=False)
    expires_in: int = 3600
    token_type: str | None = None
    refresh_token: str | None = Field(default=None, repr=False)


@dataclass(slots=True)
class _CachedToken:
    access_token: str = field(repr=False)
    expires_at: float


class AccessTokenCache:
    """Access tokens by an opaque key, valid until a monotonic-clock deadline."""

    def __init__(self) -> None:
        self._tokens: dict[str, _CachedToken] = {}
        self._lock = threading.Lock()

    def get(self, key: str, now: float) -> str | None:
        with self._lock:
            cached = self._tokens.get(key)
            if cached is None:
                return None
            if now >= cached.expires_at:
                del self._tokens[key]
                return None
            return cached.access_token

    def put(self, key: str, access_token: str, expires_at: float) -> None:
        with self._lock:
            self._tokens[key] = _CachedToken(access_token, expires_at)

    def discard(self, key: str) -> None:
        with self._lock:
            self._tokens.pop(key, None)

    def clear(self) -> None:
        with self._lock:
            self._tokens.clear()

    def __len__(self) -> int:
        return len(self._tokens)

    def __repr__(self) -> str:
        return f"AccessTokenCache(size={len(self._tokens)})"


DEFAULT_TOKEN_CACHE = AccessTokenCache()


def token_fingerprint(client_id: str, refresh_token: str) -> str:
    """A stable, non-reversible name for a refresh token (cache key; safe to log its prefix)."""
    return hashlib.sha256(f"{client_id}\x00{refresh_token}".encode()).hexdigest()


class LwaClient:
    """Token exchanges with Login with Amazon for one application (client id and secret)."""

    def __init__(
        self,
        credentials: LwaCredentials,
        *,
        token_url: str = LWA_TOKEN_URL,
        http: httpx.Client | None = None,
        timeout: httpx.Timeout = DEFAULT_LWA_TIMEOUT,
        clock: Clock | None = None,
        retry: RetryPolicy | None = None,
        jitter: Callable[[], float] = random.random,
        cache: AccessTokenCache | None = None,
        refresh_margin: float = 60.0,
        logger: Logger | None = None,
    ) -> None:
        self._credentials = credentials
        self._token_url = token_url
        self._owns_http = http is None
        self._http = http if http is not None else httpx.Client(timeout=timeout)
        self._timeout = timeout
        self._clock: Clock = clock if clock is not None else SystemClock()
        self._retry = retry if retry is not None else RetryPolicy(time_budget=30.0)
        self._jitter = jitter
        self._cache = cache if cache is not None else DEFAULT_TOKEN_CACHE
        self._refresh_margin = refresh_margin
        self._logger = logger if logger is not None else default_logger

    def __repr__(self) -> str:
        return f"LwaClient(client_id={self._credentials.client_id!r}, token_url={self._token_url!r})"

    def close(self) -> None:
        if self._owns_http:
            self._http.close()

    def __enter__(self) -> LwaClient:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    def access_token(self, refresh_token: str, *, force_refresh: bool = False) -> str:
        """A valid access token for the seller behind `refresh_token`, from the cache when it has one.

        `force_refresh` skips the cache (SP-API said the cached token was not accepted).
        """
        key = token_fingerprint(self._credentials.client_id, refresh_token)
        if not force_refresh:
            cached = self._cache.get(key, self._clock.monotonic())
            if cached is not None:
                return cached
        else:
            self._cache.discard(key)
        token = self._request_token(
            {"grant_type": "refresh_token", "refresh_token": refresh_token},
            grant="refresh_token",
            fingerprint=key,
        )
        self._remember(key, token)
        return token.access_token

    def invalidate(self, refresh_token: str) -> None:
        self._cache.discard(token_fingerprint(self._credentials.client_id, refresh_token))

    def exchange_authorization_code(self, code: str, redirect_uri: str | None = None) -> str:
        """Trade the `spapi_oauth_code` from the consent redirect for the seller's refresh token.

        The code is single-use and expires after 5 minutes; a used or expired code is `AuthorisationRejected`.
        The access token that comes with it is cached, so a following verification call costs no LWA call.
        """
        form = {"grant_type": "authorization_code", "code": code}
        if redirect_uri is not None:
            form["redirect_uri"] = redirect_uri
        token = self._request_token(form, grant="authorization_code", fingerprint=None)
        if not token.refresh_token:
            raise UnexpectedResponse("LWA answered without a refresh_token", operation=LWA_OPERATION, status=200)
        self._remember(token_fingerprint(self._credentials.client_id, token.refresh_token), token)
        return token.refresh_token

    def _remember(self, key: str, token: _TokenResponse) -> None:
        lifetime = float(max(token.expires_in, 0))
        margin = min(self._refresh_margin, lifetime / 2.0)
        self._cache.put(key, token.access_token, self._clock.monotonic() + lifetime - margin)

    def _request_token(self, form: dict[str, str], *, grant: str, fingerprint: str | None) -> _TokenResponse:
        body = urlencode(
            {**form, "client_id": self._credentials.client_id, "client_secret": self._credentials.client_secret}
        )
        headers = {"content-type": _FORM_CONTENT_TYPE, "accept": "application/json"}
        started = self._clock.monotonic()
        deadline = started + self._retry.time_budget
        attempt = 0
        log_keys = {"operation": LWA_OPERATION, "grant_type": grant, "token_key": (fingerprint or "")[:12]}
        while True:
            attempt += 1
            sent = self._clock.monotonic()
            error: SpApiError
            try:
                response = self._http.post(self._token_url, content=body, headers=headers, timeout=self._timeout)
            except httpx.TransportError as exc:
                error = AmazonUnavailable(
                    f"LWA transport error ({type(exc).__name__})", operation=LWA_OPERATION, code=type(exc).__name__
                )
            else:
                duration = self._clock.monotonic() - sent
                self._logger.debug(
                    "lwa response",
                    extra={**log_keys, "status": response.status_code, "attempt": attempt, "duration": duration},
                )
                if response.is_success:
                    return self._parse_token(response)
                error = self._error_from(response)
                if not isinstance(error, AmazonUnavailable | Throttled):
                    self._logger.warning(
                        "lwa refused the token request",
                        extra={**log_keys, "status": response.status_code, "code": error.code},
                    )
                    raise error
            if attempt >= self._retry.max_attempts:
                raise error
            delay = self._retry.backoff(attempt, self._jitter())
            if self._clock.monotonic() + delay > deadline:
                self._logger.warning("lwa unavailable, giving up", extra={**log_keys, "attempt": attempt})
                raise error
            self._logger.info("lwa retry", extra={**log_keys, "attempt": attempt, "delay": delay, "code": error.code})
            self._clock.sleep(delay)

    @staticmethod
    def _parse_token(response: httpx.Response) -> _TokenResponse:
        try:
            return _TokenResponse.model_validate(response.json())
        except (ValueError, ValidationError):
            raise UnexpectedResponse(
                "LWA answered without an access token", operation=LWA_OPERATION, status=response.status_code
            ) from None

    @staticmethod
    def _error_from(response: httpx.Response) -> SpApiError:
        status = response.status_code
        code: str | None = None
        description = ""
        try:
            body = response.json()
        except ValueError:
            body = None
        if isinstance(body, dict):
            code = str(body["error"]) if body.get("error") is not None else None
            description = redact(str(body.get("error_description") or ""))
        message = f"LWA refused the token request: {code or status}" + (f" ({description})" if description else "")
        if status == 429:
            return Throttled(message, operation=LWA_OPERATION, status=status, code=code)
        if status >= 500:
            return AmazonUnavailable(message, operation=LWA_OPERATION, status=status, code=code)
        if code in _REJECTED_GRANT:
            return AuthorisationRejected(message, operation=LWA_OPERATION, status=status, code=code)
        if code in _REJECTED_CLIENT:
            return AppCredentialsRejected(message, operation=LWA_OPERATION, status=status, code=code)
        return LwaError(message, operation=LWA_OPERATION, status=status, code=code)
