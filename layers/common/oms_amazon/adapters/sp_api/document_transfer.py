"""Feed and report documents through Amazon's pre-signed URLs: no SP-API headers and no rate-limit
bucket, retried on 429/5xx/transport errors within the time budget.

Only a URL's host and path are ever logged: its query string is a credential.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from typing import TYPE_CHECKING, Literal, TypeVar

import httpx

from oms_amazon.adapters.sp_api import documents
from oms_amazon.adapters.sp_api.errors import (
    AccessDenied,
    AmazonUnavailable,
    SpApiError,
    UnexpectedResponse,
    error_from_response,
)

if TYPE_CHECKING:
    from oms_amazon.adapters.sp_api.config import SpApiConfig
    from oms_amazon.adapters.sp_api.metrics import CallObserver
    from oms_amazon.adapters.sp_api.throttle import Clock

_T = TypeVar("_T")


class DocumentTransfer:
    def __init__(
        self,
        *,
        http: httpx.Client,
        config: SpApiConfig,
        clock: Clock,
        jitter: Callable[[], float],
        observer: CallObserver,
    ) -> None:
        self._http = http
        self._config = config
        self._clock = clock
        self._jitter = jitter
        self._observer = observer

    def download(self, url: str, compression_algorithm: str | None, *, operation: str) -> tuple[bytes, str | None]:
        """The whole document, gunzipped when Amazon compressed it, and its declared content type."""
        response = self.request("GET", url, operation=operation)
        try:
            content = documents.decompress(response.content, compression_algorithm)
        except ValueError as exc:
            raise UnexpectedResponse(str(exc), operation=operation) from None
        return content, response.headers.get("content-type")

    def read_lines(
        self, url: str, compression_algorithm: str | None, read: Callable[[Iterator[str]], _T], *, operation: str
    ) -> _T:
        """`read(lines)` over the document's text lines as they arrive, gunzipped and decoded on the fly.
        A transfer cut off part-way is read again from the start within the retry policy."""
        started = self._clock.monotonic()
        attempt = 0
        while True:
            attempt += 1
            response = self.request("GET", url, operation=operation, stream=True)
            try:
                chunks = documents.inflate(response.iter_bytes(), compression_algorithm)
                return read(documents.text_lines(chunks, response.headers.get("content-type")))
            except documents.DocumentError as exc:
                raise UnexpectedResponse(str(exc), operation=operation) from None
            except httpx.TransportError as exc:
                error = AmazonUnavailable(
                    f"transport error part-way through the document ({type(exc).__name__})",
                    operation=operation,
                    code=type(exc).__name__,
                )
                self._observer.emit(operation, "transport_error", attempt)
            finally:
                response.close()
            self._back_off(operation, attempt, started, error)

    def request(
        self,
        method: Literal["GET", "PUT"],
        url: str,
        *,
        operation: str,
        content: bytes | None = None,
        headers: Mapping[str, str] | None = None,
        stream: bool = False,
    ) -> httpx.Response:
        """One document exchange. `stream`: a 2xx answer comes back with its body unread (the caller closes it)."""
        started = self._clock.monotonic()
        safe_url = _without_query(url)
        attempt = 0
        while True:
            attempt += 1
            sent = self._clock.monotonic()
            error: SpApiError
            try:
                request = self._http.build_request(
                    method, url, content=content, headers=dict(headers or {}), timeout=self._config.timeout
                )
                response = self._http.send(request, stream=stream)
            except httpx.TransportError as exc:
                error = AmazonUnavailable(
                    f"transport error ({type(exc).__name__})", operation=operation, code=type(exc).__name__
                )
                self._observer.emit(operation, "transport_error", attempt, duration=self._clock.monotonic() - sent)
            else:
                status = response.status_code
                duration = self._clock.monotonic() - sent
                self._observer.logger.debug(
                    "document transfer",
                    extra={
                        **self._observer.keys(operation),
                        "url": safe_url,
                        "status": status,
                        "attempt": attempt,
                        "bytes": len(content)
                        if content is not None
                        else response.headers.get("content-length")
                        if stream
                        else len(response.content),
                        "duration_ms": round(duration * 1000, 1),
                    },
                )
                if response.is_success:
                    self._observer.emit(operation, "success", attempt, status, duration)
                    return response
                response.close()
                error = _refusal(operation, status)
                if status < 500 and status != 429:
                    self._observer.emit(operation, "client_error", attempt, status, duration)
                    raise error
                self._observer.emit(
                    operation, "throttled" if status == 429 else "server_error", attempt, status, duration
                )
            self._back_off(operation, attempt, started, error)

    def _back_off(self, operation: str, attempt: int, started: float, error: SpApiError) -> None:
        """Sleep before the next attempt, or raise `error` when none fits in the policy."""
        policy = self._config.retry
        delay = policy.backoff(attempt, self._jitter())
        elapsed = self._clock.monotonic()
        if policy.gives_up(attempt, resume_at=elapsed + delay, deadline=started + policy.time_budget):
            self._observer.emit(operation, "gave_up", attempt, error.status, elapsed - started)
            raise error
        self._clock.sleep(delay)


def _refusal(operation: str, status: int) -> SpApiError:
    if status == 403:
        return AccessDenied(
            "the document URL was refused (pre-signed URLs expire after about five minutes)",
            operation=operation,
            status=status,
            code="DocumentUrlRefused",
        )
    return error_from_response(operation=operation, status=status, body=None)


def _without_query(url: str) -> str:
    try:
        parsed = httpx.URL(url)
    except httpx.InvalidURL:
        return "<invalid url>"
    return str(parsed.copy_with(query=None, fragment=None))
