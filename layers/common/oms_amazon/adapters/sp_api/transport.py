"""One SP-API call for one seller in one region, end to end.

Wait for a token from the (seller, region, operation) bucket -> send with the seller's credential ->
2xx: the answer; 429/5xx/transport error: back off with jitter and try again inside the time budget;
401/403: once more with a fresh token; other 4xx: raise the typed error at once. A call Amazon may have
acted on is never repeated unless it is idempotent. Every attempt is reported to the metrics hook and logged.

No SigV4 and no AWS keys: since 2023 the LWA access token in `x-amz-access-token` is the only credential.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import httpx

from oms_amazon.adapters.sp_api.config import PRODUCTION_ENDPOINTS, SpApiConfig, endpoint_for
from oms_amazon.adapters.sp_api.credentials import SellerCredentials
from oms_amazon.adapters.sp_api.document_transfer import DocumentTransfer
from oms_amazon.adapters.sp_api.errors import (
    AccessDenied,
    AmazonUnavailable,
    OutcomeUnknown,
    SpApiError,
    Throttled,
    error_from_response,
)
from oms_amazon.adapters.sp_api.rate_limits import rate_limit_for
from oms_amazon.adapters.sp_api.responses import SpApiResponse, json_or_none
from oms_amazon.adapters.sp_api.throttle import BucketRegistry, Clock, TokenBucket, reserve_all

if TYPE_CHECKING:
    from oms_amazon.adapters.sp_api.builders import SpApiRequest
    from oms_amazon.adapters.sp_api.lwa import AccessTokenProvider
    from oms_amazon.adapters.sp_api.metrics import CallObserver
    from oms_amazon.adapters.sp_api.rdt import RestrictedTokenCache
    from oms_amazon.domain.marketplaces import Region

RATE_LIMIT_HEADER = "x-amzn-RateLimit-Limit"
REQUEST_ID_HEADER = "x-amzn-RequestId"

# Transport errors raised before any byte of the request left: repeating such a call is always safe.
_NEVER_SENT = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)


@dataclass(slots=True)
class _Call:
    """One logical call across its attempts. `buckets`: its operation's first, then any further plan it
    spends a token of (a feed type's own limit)."""

    request: SpApiRequest
    started: float
    deadline: float
    buckets: list[TokenBucket]
    attempt: int = 0
    retries: int = 0  # attempts that ended in a back-off (a token refresh is not one)
    force_refresh: bool = False
    auth_retried: bool = False
    last_error: SpApiError | None = None
    operation: str = field(init=False)

    def __post_init__(self) -> None:
        self.operation = self.request.operation


@dataclass(frozen=True, slots=True)
class _Failure:
    """An attempt worth repeating: its error, and whether Amazon may have acted on the request."""

    error: SpApiError
    reached: bool


class SpApiTransport:
    """Sends built requests for one seller in one region; the HTTP pool, access tokens and rate-limit
    buckets it is given may be shared with other sellers' transports (without `http` it makes its own pool)."""

    def __init__(
        self,
        observer: CallObserver,
        *,
        refresh_token: str,
        lwa: AccessTokenProvider,
        config: SpApiConfig,
        http: httpx.Client | None,
        clock: Clock,
        buckets: BucketRegistry,
        jitter: Callable[[], float],
        restricted_tokens: RestrictedTokenCache,
    ) -> None:
        """`observer` names the seller and region the transport calls for, and reports each call."""
        if not observer.seller_id:
            raise ValueError("seller_id is required")
        if observer.region not in PRODUCTION_ENDPOINTS:
            raise ValueError(f"unknown region {observer.region!r}")
        self.seller_id = observer.seller_id
        self.region: Region = observer.region
        self.config = config
        self.base_url = endpoint_for(self.region, sandbox=config.sandbox, override=config.endpoint_override)
        self._owns_http = http is None
        self.http = http if http is not None else httpx.Client(timeout=config.timeout)
        self._clock = clock
        self._buckets = buckets
        self._jitter = jitter
        self._observer = observer
        self._logger = observer.logger
        self.credentials = SellerCredentials(
            refresh_token=refresh_token,
            lwa=lwa,
            restricted_tokens=restricted_tokens,
            clock=clock,
            observer=observer,
            send=self.send,
        )
        self.documents = DocumentTransfer(http=self.http, config=config, clock=clock, jitter=jitter, observer=observer)

    def __repr__(self) -> str:
        return f"SpApiTransport(seller_id={self.seller_id!r}, region={self.region!r}, base_url={self.base_url!r})"

    def close(self) -> None:
        """Close the HTTP pool if this transport made it (not one it was given to share)."""
        if self._owns_http:
            self.http.close()

    def send(self, request: SpApiRequest) -> SpApiResponse:
        """Send one SP-API request under the rate limit and retry policy; return the 2xx answer.

        Raises the typed `SpApiError` for the final failure: `Throttled` (429s, or no token within the budget),
        `AmazonUnavailable` (5xx, timeouts, transport), `InvalidRequest`, `AccessDenied`, `NotFound`,
        `OutcomeUnknown` (a non-idempotent call that may have reached Amazon), or an LWA error
        (`AuthorisationRejected`, ...) from fetching the access token.
        """
        call = self._begin(request)
        while True:
            wait = self._wait_for_token(call)
            call.attempt += 1
            outcome = self._attempt(call, wait)
            if isinstance(outcome, SpApiResponse):
                return outcome
            if outcome is not None:
                self._back_off(call, outcome)

    def _begin(self, request: SpApiRequest) -> _Call:
        started = self._clock.monotonic()
        sandbox = self.config.sandbox
        plans = [(request.operation, rate_limit_for(request.operation, sandbox=sandbox))]
        if not sandbox:
            plans += [(name, rate_limit_for(name)) for name in request.also_limited_by]
        buckets = [self._buckets.bucket(self.seller_id, self.region, name, limit, now=started) for name, limit in plans]
        return _Call(request, started, started + self.config.retry.time_budget, buckets)

    def _wait_for_token(self, call: _Call) -> float:
        """Reserve the call's tokens and sleep until they are due; past the deadline, raise instead."""
        now = self._clock.monotonic()
        reserved = reserve_all(call.buckets, now, max_wait=call.deadline - now)
        if isinstance(reserved, TokenBucket):
            retry_after = reserved.wait_time(now)
            self._observer.emit(call.operation, "gave_up", call.attempt, duration=now - call.started)
            self._logger.warning(
                "sp-api rate limit wait exceeds the time budget",
                extra={**self._observer.keys(call.operation), "attempt": call.attempt, "retry_after": retry_after},
            )
            if call.last_error is not None:
                if isinstance(call.last_error, Throttled):
                    call.last_error.retry_after = retry_after
                raise call.last_error
            raise Throttled(
                f"no {call.operation} request token within the {self.config.retry.time_budget:g}s budget",
                operation=call.operation,
                code="RateLimitBudgetExceeded",
                retry_after=retry_after,
            )
        if reserved > 0:
            self._logger.debug(
                "sp-api waiting for a rate-limit token", extra={**self._observer.keys(call.operation), "wait": reserved}
            )
            self._clock.sleep(reserved)
        return reserved

    def _attempt(self, call: _Call, wait: float) -> SpApiResponse | _Failure | None:
        """One HTTP exchange: the answer, a failure to back off from, or None to try again at once."""
        request, operation = call.request, call.operation
        access_token = self.credentials.for_request(request, force_refresh=call.force_refresh)
        call.force_refresh = False
        sent = self._clock.monotonic()
        try:
            response = self.http.request(
                request.method,
                self.base_url + request.path,
                params=dict(request.params) or None,
                json=request.json,
                headers={
                    "x-amz-access-token": access_token,
                    "user-agent": self.config.user_agent,
                    "accept": "application/json",
                },
                timeout=self.config.timeout,
            )
        except httpx.TransportError as exc:
            duration = self._clock.monotonic() - sent
            self._observer.emit(operation, "transport_error", call.attempt, duration=duration, waited=wait)
            self._logger.info(
                "sp-api transport error",
                extra={**self._observer.keys(operation), "attempt": call.attempt, "error": type(exc).__name__},
            )
            unavailable = AmazonUnavailable(
                f"transport error ({type(exc).__name__})", operation=operation, code=type(exc).__name__
            )
            return _Failure(unavailable, reached=not isinstance(exc, _NEVER_SENT))
        duration = self._clock.monotonic() - sent
        status = response.status_code
        request_id = response.headers.get(REQUEST_ID_HEADER)
        self._learn_rate(call.buckets[0], response, operation)
        self._logger.debug(
            "sp-api call",
            extra={
                **self._observer.keys(operation),
                "status": status,
                "attempt": call.attempt,
                "duration_ms": round(duration * 1000, 1),
                "request_id": request_id,
            },
        )
        if response.is_success:
            self._observer.emit(operation, "success", call.attempt, status, duration, wait, request_id)
            return SpApiResponse(operation, status, response.headers, json_or_none(response), request_id)
        error = error_from_response(
            operation=operation,
            status=status,
            body=json_or_none(response),
            request_id=request_id,
            error_type=response.headers.get("x-amzn-ErrorType"),
        )
        if status == 429:  # refused before Amazon acted
            call.buckets[0].drain(self._clock.monotonic())
            self._observer.emit(operation, "throttled", call.attempt, status, duration, wait, request_id)
            return _Failure(error, reached=False)
        if status >= 500:
            self._observer.emit(operation, "server_error", call.attempt, status, duration, wait, request_id)
            return _Failure(error, reached=True)
        self._observer.emit(operation, "client_error", call.attempt, status, duration, wait, request_id)
        if isinstance(error, AccessDenied) and not call.auth_retried:
            # A cached access token (or RDT) Amazon no longer accepts: fetch a fresh one once. If the
            # seller revoked the app, LWA now answers invalid_grant -> AuthorisationRejected.
            call.auth_retried = call.force_refresh = True
            if request.restricted:
                self.credentials.forget_restricted(request.restricted)
            return None
        self._logger.info(
            "sp-api request refused",
            extra={**self._observer.keys(operation), "status": status, "code": error.code, "request_id": request_id},
        )
        raise error

    def _back_off(self, call: _Call, failure: _Failure) -> None:
        """Sleep before the next attempt, or raise when there is none: the budget or the attempts are spent,
        or the call may already have reached Amazon and is not safe to repeat."""
        error, operation, policy = failure.error, call.operation, self.config.retry
        if failure.reached and not call.request.idempotent:
            elapsed = self._clock.monotonic() - call.started
            self._observer.emit(operation, "gave_up", call.attempt, error.status, elapsed)
            self._logger.warning(
                "sp-api call not repeated: Amazon may have acted on it",
                extra={
                    **self._observer.keys(operation),
                    "attempt": call.attempt,
                    "status": error.status,
                    "code": error.code,
                },
            )
            raise OutcomeUnknown(
                error.message,
                operation=operation,
                status=error.status,
                code=error.code,
                request_id=error.request_id,
                errors=error.errors,
            ) from error
        call.last_error = error
        call.retries += 1
        delay = policy.backoff(call.retries, self._jitter())
        elapsed = self._clock.monotonic()
        log_keys = {
            **self._observer.keys(operation),
            "attempt": call.attempt,
            "status": error.status,
            "code": error.code,
            "request_id": error.request_id,
        }
        if policy.gives_up(call.attempt, resume_at=elapsed + delay, deadline=call.deadline):
            self._observer.emit(operation, "gave_up", call.attempt, error.status, elapsed - call.started)
            self._logger.warning("sp-api call gave up", extra={**log_keys, "elapsed": elapsed - call.started})
            if isinstance(error, Throttled):
                error.retry_after = max(delay, call.buckets[0].wait_time(elapsed))
            raise error
        self._logger.info("sp-api retry", extra={**log_keys, "delay": delay})
        self._clock.sleep(delay)

    def _learn_rate(self, bucket: TokenBucket, response: httpx.Response, operation: str) -> None:
        raw = response.headers.get(RATE_LIMIT_HEADER)
        if not raw:
            return  # best-effort header: absent on 429/401/403 and sometimes elsewhere
        try:
            rate = float(raw)
        except ValueError:
            return
        if bucket.set_rate(rate, self._clock.monotonic()):
            self._logger.info("sp-api rate limit updated", extra={**self._observer.keys(operation), "rate": rate})


class Operations:
    """Base of the typed operation groups (orders, shipping, feeds, reports, listings, sellers): each
    builds requests, sends them through one seller's transport and parses the answers."""

    def __init__(self, transport: SpApiTransport) -> None:
        self._transport = transport
