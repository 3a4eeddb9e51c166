"""The SP-API client: one selling partner (seller id + refresh token) in one region.

A call goes: pure request builder -> wait for a token from the (seller, region, operation) bucket ->
send with the LWA access token -> 2xx: parse into the typed model; 429/5xx/transport error: back off with
jitter and try again inside the time budget; other 4xx: raise the typed error at once.

No SigV4 and no AWS keys: since 2023 the LWA access token in `x-amz-access-token` is the only credential.
"""

from __future__ import annotations

import random
import sys
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, TypeVar

import httpx
from aws_lambda_powertools import Logger
from pydantic import BaseModel, TypeAdapter, ValidationError

from oms_amazon.adapters.sp_api import builders, documents
from oms_amazon.adapters.sp_api.builders import DateTimeLike, SpApiRequest
from oms_amazon.adapters.sp_api.errors import (
    AccessDenied,
    AmazonUnavailable,
    InvalidRequest,
    NotFound,
    OutcomeUnknown,
    SpApiError,
    Throttled,
    UnexpectedResponse,
    error_from_response,
)
from oms_amazon.adapters.sp_api.lwa import AccessTokenProvider
from oms_amazon.adapters.sp_api.models import (
    CreateFeedResult,
    CreateReportResult,
    Feed,
    FeedDocument,
    FeedDocumentUpload,
    FeedsPage,
    GetOrderItemsPage,
    GetOrdersPage,
    ListingsItemsPage,
    ListingsItemSubmission,
    MarketplaceParticipation,
    Order2026,
    OrderItemV0,
    OrderV0,
    PackageDetail,
    PatchOperation,
    Report,
    ReportDocument,
    SearchOrdersPage,
)
from oms_amazon.adapters.sp_api.rate_limits import rate_limit_for
from oms_amazon.adapters.sp_api.rdt import DEFAULT_RDT_CACHE, RestrictedTokenCache, resources_key
from oms_amazon.adapters.sp_api.throttle import (
    DEFAULT_BUCKETS,
    BucketRegistry,
    Clock,
    RetryPolicy,
    SystemClock,
    TokenBucket,
)
from oms_amazon.domain.marketplaces import Marketplace, Region
from oms_amazon.observability import logger as default_logger

PRODUCTION_ENDPOINTS: Mapping[Region, str] = {
    "na": "https://sellingpartnerapi-na.amazon.com",
    "eu": "https://sellingpartnerapi-eu.amazon.com",
    "fe": "https://sellingpartnerapi-fe.amazon.com",
}
SANDBOX_ENDPOINTS: Mapping[Region, str] = {
    "na": "https://sandbox.sellingpartnerapi-na.amazon.com",
    "eu": "https://sandbox.sellingpartnerapi-eu.amazon.com",
    "fe": "https://sandbox.sellingpartnerapi-fe.amazon.com",
}

DEFAULT_USER_AGENT = f"OmsAmazonConnector/1.0 (Language=Python/{sys.version_info.major}.{sys.version_info.minor})"
DEFAULT_TIMEOUT = httpx.Timeout(30.0, connect=5.0)
RATE_LIMIT_HEADER = "x-amzn-RateLimit-Limit"
REQUEST_ID_HEADER = "x-amzn-RequestId"

_ModelT = TypeVar("_ModelT", bound=BaseModel)
_T = TypeVar("_T")
# Transport errors raised before any byte of the request left: repeating such a call is always safe.
_NEVER_SENT = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)
_PARTICIPATIONS = TypeAdapter(list[MarketplaceParticipation])


def endpoint_for(region: Region, *, sandbox: bool = False, override: str | None = None) -> str:
    """The SP-API base URL of a marketplace's region (not of where the code runs)."""
    if override:
        return override.rstrip("/")
    return (SANDBOX_ENDPOINTS if sandbox else PRODUCTION_ENDPOINTS)[region]


@dataclass(frozen=True, slots=True)
class SpApiConfig:
    """Settings shared by every seller's client; build once from the validated environment settings.

    `endpoint_override` points every region at one host (the local stack's simulator, for instance).
    `sandbox` selects Amazon's static sandbox hosts and its flat 5 req/s, burst 15 plan.
    """

    endpoint_override: str | None = None
    sandbox: bool = False
    user_agent: str = DEFAULT_USER_AGENT
    timeout: httpx.Timeout = field(default_factory=lambda: DEFAULT_TIMEOUT)
    retry: RetryPolicy = field(default_factory=RetryPolicy)


# --------------------------------------------------------------------------------------------- metrics

CallOutcome = Literal["success", "throttled", "server_error", "transport_error", "client_error", "gave_up"]


@dataclass(frozen=True, slots=True)
class SpApiCallEvent:
    """One observation for metrics: an attempt's outcome, or `gave_up` when a call exhausted its budget."""

    operation: str
    outcome: CallOutcome
    seller_id: str
    region: str
    attempt: int
    status: int | None = None
    duration: float = 0.0  # seconds: this attempt's round trip (the whole call for gave_up)
    waited: float = 0.0  # seconds spent waiting for a rate-limit token before this attempt
    request_id: str | None = None


MetricsHook = Callable[[SpApiCallEvent], None]


class CallCounters:
    """A ready-made metrics hook: counts outcomes per operation, e.g. to emit as EMF at the end of a run."""

    def __init__(self) -> None:
        self.counts: Counter[tuple[str, str]] = Counter()
        self.token_wait: defaultdict[str, float] = defaultdict(float)

    def __call__(self, event: SpApiCallEvent) -> None:
        self.counts[(event.operation, event.outcome)] += 1
        if event.waited:
            self.token_wait[event.operation] += event.waited

    def count(self, operation: str, outcome: CallOutcome) -> int:
        return self.counts[(operation, outcome)]

    def total(self, outcome: CallOutcome) -> int:
        return sum(n for (_, o), n in self.counts.items() if o == outcome)


@dataclass(frozen=True, slots=True)
class SpApiResponse:
    operation: str
    status: int
    headers: httpx.Headers
    body: Any
    request_id: str | None


# ---------------------------------------------------------------------------------------------- client


class SpApiClient:
    """Typed SP-API operations for one seller in one region.

    Construct per seller (cheap); the HTTP connection pool, access tokens and rate-limit buckets can be
    shared across instances. `lwa` is usually an `LwaClient`; tests pass any `AccessTokenProvider`.
    """

    def __init__(
        self,
        *,
        seller_id: str,
        region: Region,
        refresh_token: str,
        lwa: AccessTokenProvider,
        config: SpApiConfig | None = None,
        http: httpx.Client | None = None,
        clock: Clock | None = None,
        buckets: BucketRegistry | None = None,
        metrics: MetricsHook | None = None,
        jitter: Callable[[], float] = random.random,
        logger: Logger | None = None,
        restricted_tokens: RestrictedTokenCache | None = None,
    ) -> None:
        if not seller_id:
            raise ValueError("seller_id is required")
        if region not in PRODUCTION_ENDPOINTS:
            raise ValueError(f"unknown region {region!r}")
        self.seller_id = seller_id
        self.region: Region = region
        self._refresh_token = refresh_token
        self._lwa = lwa
        self._config = config if config is not None else SpApiConfig()
        self.base_url = endpoint_for(region, sandbox=self._config.sandbox, override=self._config.endpoint_override)
        self._owns_http = http is None
        self._http = http if http is not None else httpx.Client(timeout=self._config.timeout)
        self._clock: Clock = clock if clock is not None else SystemClock()
        self._buckets = buckets if buckets is not None else DEFAULT_BUCKETS
        self._metrics = metrics
        self._jitter = jitter
        self._logger = logger if logger is not None else default_logger
        self._rdt = restricted_tokens if restricted_tokens is not None else DEFAULT_RDT_CACHE

    @classmethod
    def for_marketplace(
        cls,
        marketplace: Marketplace,
        *,
        seller_id: str,
        refresh_token: str,
        lwa: AccessTokenProvider,
        config: SpApiConfig | None = None,
        http: httpx.Client | None = None,
        metrics: MetricsHook | None = None,
    ) -> SpApiClient:
        """The client of the region a marketplace belongs to (the endpoint is chosen by marketplace)."""
        return cls(
            seller_id=seller_id,
            region=marketplace.region,
            refresh_token=refresh_token,
            lwa=lwa,
            config=config,
            http=http,
            metrics=metrics,
        )

    def __repr__(self) -> str:
        return f"SpApiClient(seller_id={self.seller_id!r}, region={self.region!r}, base_url={self.base_url!r})"

    def close(self) -> None:
        if self._owns_http:
            self._http.close()

    def __enter__(self) -> SpApiClient:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    # ------------------------------------------------------------------------------------ orders 2026

    def search_orders(
        self,
        *,
        marketplace_ids: Sequence[str],
        last_updated_after: DateTimeLike | None = None,
        created_after: DateTimeLike | None = None,
        last_updated_before: DateTimeLike | None = None,
        fulfilled_by: Sequence[str] | None = None,
        fulfillment_statuses: Sequence[str] | None = None,
        included_data: Sequence[str] | None = None,
        max_results_per_page: int = builders.MAX_ORDERS_PER_PAGE,
        pagination_token: str | None = None,
    ) -> SearchOrdersPage:
        request = builders.search_orders(
            marketplace_ids=marketplace_ids,
            last_updated_after=last_updated_after,
            created_after=created_after,
            last_updated_before=last_updated_before,
            fulfilled_by=fulfilled_by,
            fulfillment_statuses=fulfillment_statuses,
            included_data=included_data,
            max_results_per_page=max_results_per_page,
            pagination_token=pagination_token,
        )
        return self._model(SearchOrdersPage, self.send(request))

    def iter_search_orders(
        self,
        *,
        marketplace_ids: Sequence[str],
        last_updated_after: DateTimeLike | None = None,
        created_after: DateTimeLike | None = None,
        last_updated_before: DateTimeLike | None = None,
        fulfilled_by: Sequence[str] | None = None,
        fulfillment_statuses: Sequence[str] | None = None,
        included_data: Sequence[str] | None = None,
        max_results_per_page: int = builders.MAX_ORDERS_PER_PAGE,
        start_token: str | None = None,
    ) -> Iterator[SearchOrdersPage]:
        """Every page, lazily: store each page before pulling the next. `start_token`: a page token of an
        earlier series with these same parameters, to go on from where it stopped."""
        token = start_token
        while True:
            page = self.search_orders(
                marketplace_ids=marketplace_ids,
                last_updated_after=last_updated_after,
                created_after=created_after,
                last_updated_before=last_updated_before,
                fulfilled_by=fulfilled_by,
                fulfillment_statuses=fulfillment_statuses,
                included_data=included_data,
                max_results_per_page=max_results_per_page,
                pagination_token=token,
            )
            yield page
            token = page.next_token
            if not token:
                return

    def get_order(self, order_id: str, *, included_data: Sequence[str] | None = None) -> Order2026:
        """One order (Orders 2026-01-01), e.g. with `PACKAGES`: the shipments Amazon has on record."""
        answer = self.send(builders.get_order_2026(order_id, included_data=included_data))
        body = answer.body.get("order") if isinstance(answer.body, dict) else None
        return self._model(Order2026, body, "getOrder")

    # -------------------------------------------------------------------------------------- orders v0

    def get_orders(
        self,
        *,
        marketplace_ids: Sequence[str],
        last_updated_after: DateTimeLike | None = None,
        created_after: DateTimeLike | None = None,
        last_updated_before: DateTimeLike | None = None,
        fulfillment_channels: Sequence[str] | None = None,
        order_statuses: Sequence[str] | None = None,
        max_results_per_page: int = builders.MAX_ORDERS_PER_PAGE,
        next_token: str | None = None,
        with_pii: bool = False,
        amazon_order_ids: Sequence[str] | None = None,
    ) -> GetOrdersPage:
        """`with_pii`: ask for a Restricted Data Token first, so the address and buyer come along."""
        request = builders.get_orders(
            marketplace_ids=marketplace_ids,
            last_updated_after=last_updated_after,
            created_after=created_after,
            last_updated_before=last_updated_before,
            fulfillment_channels=fulfillment_channels,
            order_statuses=order_statuses,
            max_results_per_page=max_results_per_page,
            next_token=next_token,
            restricted=builders.V0_ORDER_PII if with_pii else (),
            amazon_order_ids=amazon_order_ids,
        )
        return self._model(GetOrdersPage, self._payload(self.send(request)), request.operation)

    def iter_get_orders(
        self,
        *,
        marketplace_ids: Sequence[str],
        last_updated_after: DateTimeLike | None = None,
        created_after: DateTimeLike | None = None,
        last_updated_before: DateTimeLike | None = None,
        fulfillment_channels: Sequence[str] | None = None,
        order_statuses: Sequence[str] | None = None,
        max_results_per_page: int = builders.MAX_ORDERS_PER_PAGE,
        with_pii: bool = False,
        start_token: str | None = None,
    ) -> Iterator[GetOrdersPage]:
        token = start_token
        while True:
            page = self.get_orders(
                marketplace_ids=marketplace_ids,
                last_updated_after=last_updated_after,
                created_after=created_after,
                last_updated_before=last_updated_before,
                fulfillment_channels=fulfillment_channels,
                order_statuses=order_statuses,
                max_results_per_page=max_results_per_page,
                next_token=token,
                with_pii=with_pii,
            )
            yield page
            token = page.next_token
            if not token:
                return

    def get_order_v0(self, order_id: str, *, with_pii: bool = False) -> OrderV0:
        """One order (Orders v0 getOrder), with its address and buyer when `with_pii`."""
        request = builders.get_order_v0(order_id, restricted=builders.V0_ORDER_PII if with_pii else ())
        return self._model(OrderV0, self._payload(self.send(request)), request.operation)

    def get_order_items(
        self, order_id: str, *, next_token: str | None = None, with_pii: bool = False
    ) -> GetOrderItemsPage:
        request = builders.get_order_items(
            order_id, next_token=next_token, restricted=builders.V0_ORDER_PII if with_pii else ()
        )
        return self._model(GetOrderItemsPage, self._payload(self.send(request)), request.operation)

    def list_order_items(self, order_id: str, *, with_pii: bool = False) -> list[OrderItemV0]:
        """Every item of an order (getOrderItems pages through long orders with NextToken)."""
        items: list[OrderItemV0] = []
        token: str | None = None
        while True:
            page = self.get_order_items(order_id, next_token=token, with_pii=with_pii)
            items.extend(page.order_items)
            token = page.next_token
            if not token:
                return items

    def confirm_shipment(self, order_id: str, *, marketplace_id: str, package: PackageDetail) -> None:
        """Confirm one package of a merchant-fulfilled order (204 on success)."""
        self.send(builders.confirm_shipment(order_id, marketplace_id=marketplace_id, package=package))

    # ------------------------------------------------------------------------------------------ feeds

    def create_feed_document(self, content_type: str) -> FeedDocumentUpload:
        return self._model(FeedDocumentUpload, self.send(builders.create_feed_document(content_type)))

    def upload_feed_document(self, upload: FeedDocumentUpload | str, content: bytes, *, content_type: str) -> None:
        """PUT the feed content to the pre-signed URL: no SP-API headers, the same content type as declared."""
        url = upload if isinstance(upload, str) else upload.url
        self._document_request(
            "PUT", url, operation="uploadFeedDocument", content=content, headers={"content-type": content_type}
        )

    def create_feed(
        self,
        *,
        feed_type: str,
        marketplace_ids: Sequence[str],
        input_feed_document_id: str,
        feed_options: Mapping[str, str] | None = None,
    ) -> CreateFeedResult:
        request = builders.create_feed(
            feed_type=feed_type,
            marketplace_ids=marketplace_ids,
            input_feed_document_id=input_feed_document_id,
            feed_options=feed_options,
        )
        return self._model(CreateFeedResult, self.send(request))

    def submit_feed(
        self, *, feed_type: str, marketplace_ids: Sequence[str], content: bytes, content_type: str
    ) -> CreateFeedResult:
        """createFeedDocument, upload, createFeed: the three steps of sending one feed."""
        upload = self.create_feed_document(content_type)
        self.upload_feed_document(upload, content, content_type=content_type)
        return self.create_feed(
            feed_type=feed_type, marketplace_ids=marketplace_ids, input_feed_document_id=upload.feed_document_id
        )

    def get_feed(self, feed_id: str) -> Feed:
        return self._model(Feed, self.send(builders.get_feed(feed_id)))

    def get_feeds(
        self, *, feed_types: Sequence[str], created_since: DateTimeLike | None = None, next_token: str | None = None
    ) -> FeedsPage:
        request = builders.get_feeds(feed_types=feed_types, created_since=created_since, next_token=next_token)
        return self._model(FeedsPage, self.send(request))

    def get_feed_document(self, feed_document_id: str) -> FeedDocument:
        return self._model(FeedDocument, self.send(builders.get_feed_document(feed_document_id)))

    def download_feed_document(self, document: FeedDocument) -> bytes:
        """The document's content (e.g. a processing report), gunzipped when Amazon compressed it."""
        response = self._document_request("GET", document.url, operation="downloadFeedDocument")
        return self._decompress(response.content, document.compression_algorithm, "downloadFeedDocument")

    def fetch_feed_document(self, feed_document_id: str) -> bytes:
        """getFeedDocument then download (the URL expires after five minutes, so fetch it just in time)."""
        return self.download_feed_document(self.get_feed_document(feed_document_id))

    # ---------------------------------------------------------------------------------------- reports

    def create_report(
        self,
        *,
        marketplace_ids: Sequence[str],
        report_type: str = builders.MERCHANT_LISTINGS_REPORT,
        data_start_time: DateTimeLike | None = None,
        data_end_time: DateTimeLike | None = None,
        report_options: Mapping[str, str] | None = None,
    ) -> CreateReportResult:
        request = builders.create_report(
            marketplace_ids=marketplace_ids,
            report_type=report_type,
            data_start_time=data_start_time,
            data_end_time=data_end_time,
            report_options=report_options,
        )
        return self._model(CreateReportResult, self.send(request))

    def get_report(self, report_id: str) -> Report:
        return self._model(Report, self.send(builders.get_report(report_id)))

    def get_report_document(self, report_document_id: str) -> ReportDocument:
        return self._model(ReportDocument, self.send(builders.get_report_document(report_document_id)))

    def download_report_document(self, document: ReportDocument) -> str:
        """The report's text, gunzipped when compressed and decoded (declared charset, else UTF-8/cp1252).
        The whole document in memory: for a small one (a FATAL report's reason); `read_report_document`
        reads a large one as it arrives."""
        response = self._document_request("GET", document.url, operation="downloadReportDocument")
        content = self._decompress(response.content, document.compression_algorithm, "downloadReportDocument")
        return documents.decode_text(content, response.headers.get("content-type"))

    def fetch_report_text(self, report_document_id: str) -> str:
        return self.download_report_document(self.get_report_document(report_document_id))

    def read_report_document(self, document: ReportDocument, read: Callable[[Iterator[str]], _T]) -> _T:
        """`read(lines)` over the report's text lines as they arrive: gunzipped and decoded on the fly
        (`documents.text_lines`), so neither the compressed nor the decoded document is ever held whole,
        whatever its size. A transfer cut off part-way is read again from the start within the retry
        policy, so `read` must start afresh on each call (as a parse into a new value does)."""
        operation = "downloadReportDocument"
        policy = self._config.retry
        started = self._clock.monotonic()
        attempt = 0
        while True:
            attempt += 1
            response = self._document_request("GET", document.url, operation=operation, stream=True)
            try:
                chunks = documents.inflate(response.iter_bytes(), document.compression_algorithm)
                return read(documents.text_lines(chunks, response.headers.get("content-type")))
            except documents.DocumentError as exc:
                raise UnexpectedResponse(str(exc), operation=operation) from None
            except httpx.TransportError as exc:
                error = AmazonUnavailable(
                    f"transport error part-way through the document ({type(exc).__name__})",
                    operation=operation,
                    code=type(exc).__name__,
                )
                self._emit(operation, "transport_error", attempt)
            finally:
                response.close()
            delay = policy.backoff(attempt, self._jitter())
            elapsed = self._clock.monotonic()
            if attempt >= policy.max_attempts or elapsed + delay > started + policy.time_budget:
                self._emit(operation, "gave_up", attempt, None, elapsed - started)
                raise error
            self._clock.sleep(delay)

    def read_report(self, report_document_id: str, read: Callable[[Iterator[str]], _T]) -> _T:
        """getReportDocument, then `read_report_document` (the URL expires after five minutes)."""
        return self.read_report_document(self.get_report_document(report_document_id), read)

    # --------------------------------------------------------------------------------------- listings

    def patch_listings_item(
        self,
        *,
        sku: str,
        marketplace_ids: Sequence[str],
        product_type: str,
        patches: Sequence[PatchOperation],
        included_data: Sequence[str] | None = None,
        mode: Literal["VALIDATION_PREVIEW"] | None = None,
        issue_locale: str | None = None,
    ) -> ListingsItemSubmission:
        request = builders.patch_listings_item(
            seller_id=self.seller_id,
            sku=sku,
            marketplace_ids=marketplace_ids,
            product_type=product_type,
            patches=patches,
            included_data=included_data,
            mode=mode,
            issue_locale=issue_locale,
        )
        return self._model(ListingsItemSubmission, self.send(request))

    def patch_listing_quantity(
        self,
        *,
        sku: str,
        marketplace_ids: Sequence[str],
        quantity: int,
        product_type: str = "PRODUCT",
        fulfillment_channel_code: str = builders.DEFAULT_FULFILLMENT_CHANNEL,
    ) -> ListingsItemSubmission:
        """Set a merchant-fulfilled quantity. Check `.status`/`.issues`: Amazon answers 200 even when INVALID."""
        return self.patch_listings_item(
            sku=sku,
            marketplace_ids=marketplace_ids,
            product_type=product_type,
            patches=[
                builders.fulfillment_availability_patch(quantity, fulfillment_channel_code=fulfillment_channel_code)
            ],
        )

    def search_listings_items(
        self,
        *,
        marketplace_ids: Sequence[str],
        included_data: Sequence[str] | None = None,
        identifiers: Sequence[str] | None = None,
        identifiers_type: str | None = None,
        page_size: int | None = None,
        page_token: str | None = None,
    ) -> ListingsItemsPage:
        request = builders.search_listings_items(
            seller_id=self.seller_id,
            marketplace_ids=marketplace_ids,
            included_data=included_data,
            identifiers=identifiers,
            identifiers_type=identifiers_type,
            page_size=page_size,
            page_token=page_token,
        )
        return self._model(ListingsItemsPage, self.send(request))

    def iter_listings_items(
        self,
        *,
        marketplace_ids: Sequence[str],
        included_data: Sequence[str] | None = None,
        page_size: int = builders.MAX_LISTINGS_PAGE_SIZE,
    ) -> Iterator[ListingsItemsPage]:
        """Every page Amazon will give (at most 1,000 items in all: use the listings report for a full list)."""
        token: str | None = None
        while True:
            page = self.search_listings_items(
                marketplace_ids=marketplace_ids, included_data=included_data, page_size=page_size, page_token=token
            )
            yield page
            token = page.next_token
            if not token:
                return

    # ---------------------------------------------------------------------------------------- sellers

    def get_marketplace_participations(self) -> list[MarketplaceParticipation]:
        request = builders.get_marketplace_participations()
        payload = self._payload(self.send(request))
        try:
            return _PARTICIPATIONS.validate_python(payload)
        except ValidationError as exc:
            raise self._unexpected(request.operation, exc) from None

    # ------------------------------------------------------------------------------------------- core

    def send(self, request: SpApiRequest) -> SpApiResponse:
        """Send one SP-API request under the rate limit and retry policy; return the 2xx answer.

        Raises the typed `SpApiError` for the final failure: `Throttled` (429s, or no token within the budget),
        `AmazonUnavailable` (5xx, timeouts, transport), `InvalidRequest`, `AccessDenied`, `NotFound`, or an
        LWA error (`AuthorisationRejected`, ...) from fetching the access token.
        """
        operation = request.operation
        policy = self._config.retry
        started = self._clock.monotonic()
        deadline = started + policy.time_budget
        bucket = self._buckets.bucket(
            self.seller_id,
            self.region,
            operation,
            rate_limit_for(operation, sandbox=self._config.sandbox),
            now=started,
        )
        # A feed type's own limit (`also_limited_by`) is another bucket the call needs a token from.
        extra_buckets = [
            self._buckets.bucket(self.seller_id, self.region, name, rate_limit_for(name), now=started)
            for name in request.also_limited_by
            if not self._config.sandbox
        ]
        url = self.base_url + request.path
        attempt = 0
        retries = 0
        force_refresh = False
        auth_retried = False
        last_error: SpApiError | None = None
        while True:
            now = self._clock.monotonic()
            wait = bucket.reserve(now, max_wait=deadline - now)
            blocked = bucket if wait is None else None
            for extra in extra_buckets:
                extra_wait = None if wait is None else extra.reserve(now, max_wait=deadline - now)
                if wait is not None and extra_wait is None:
                    wait, blocked = None, extra
                elif wait is not None and extra_wait is not None:
                    wait = max(wait, extra_wait)
            if wait is None:
                retry_after = (blocked or bucket).wait_time(now)
                self._emit(operation, "gave_up", attempt, duration=now - started)
                self._logger.warning(
                    "sp-api rate limit wait exceeds the time budget",
                    extra={**self._log_keys(operation), "attempt": attempt, "retry_after": retry_after},
                )
                if last_error is not None:
                    if isinstance(last_error, Throttled):
                        last_error.retry_after = retry_after
                    raise last_error
                raise Throttled(
                    f"no {operation} request token within the {policy.time_budget:g}s budget",
                    operation=operation,
                    code="RateLimitBudgetExceeded",
                    retry_after=retry_after,
                )
            if wait > 0:
                self._logger.debug(
                    "sp-api waiting for a rate-limit token", extra={**self._log_keys(operation), "wait": wait}
                )
                self._clock.sleep(wait)
            attempt += 1
            access_token = self._credential(request, force_refresh=force_refresh)
            force_refresh = False
            sent = self._clock.monotonic()
            error: SpApiError
            try:
                response = self._http.request(
                    request.method,
                    url,
                    params=dict(request.params) or None,
                    json=request.json,
                    headers={
                        "x-amz-access-token": access_token,
                        "user-agent": self._config.user_agent,
                        "accept": "application/json",
                    },
                    timeout=self._config.timeout,
                )
            except httpx.TransportError as exc:
                duration = self._clock.monotonic() - sent
                error = AmazonUnavailable(
                    f"transport error ({type(exc).__name__})", operation=operation, code=type(exc).__name__
                )
                reached = not isinstance(exc, _NEVER_SENT)
                self._emit(operation, "transport_error", attempt, duration=duration, waited=wait)
                self._logger.info(
                    "sp-api transport error",
                    extra={**self._log_keys(operation), "attempt": attempt, "error": type(exc).__name__},
                )
            else:
                duration = self._clock.monotonic() - sent
                status = response.status_code
                reached = status >= 500  # a 429 is refused before Amazon acts; other 4xx are raised below
                request_id = response.headers.get(REQUEST_ID_HEADER)
                self._learn_rate(bucket, response, operation)
                self._logger.debug(
                    "sp-api call",
                    extra={
                        **self._log_keys(operation),
                        "status": status,
                        "attempt": attempt,
                        "duration_ms": round(duration * 1000, 1),
                        "request_id": request_id,
                    },
                )
                if response.is_success:
                    self._emit(operation, "success", attempt, status, duration, wait, request_id)
                    return SpApiResponse(operation, status, response.headers, _json_or_none(response), request_id)
                error = error_from_response(
                    operation=operation,
                    status=status,
                    body=_json_or_none(response),
                    request_id=request_id,
                    error_type=response.headers.get("x-amzn-ErrorType"),
                )
                if status == 429:
                    bucket.drain(self._clock.monotonic())
                    self._emit(operation, "throttled", attempt, status, duration, wait, request_id)
                elif status >= 500:
                    self._emit(operation, "server_error", attempt, status, duration, wait, request_id)
                elif isinstance(error, AccessDenied) and not auth_retried:
                    # A cached access token (or RDT) Amazon no longer accepts: fetch a fresh one once. If the
                    # seller revoked the app, LWA now answers invalid_grant -> AuthorisationRejected.
                    auth_retried = force_refresh = True
                    if request.restricted:
                        self._rdt.forget(resources_key(self.seller_id, self.region, request.restricted))
                    self._emit(operation, "client_error", attempt, status, duration, wait, request_id)
                    continue
                else:
                    self._emit(operation, "client_error", attempt, status, duration, wait, request_id)
                    self._logger.info(
                        "sp-api request refused",
                        extra={
                            **self._log_keys(operation),
                            "status": status,
                            "code": error.code,
                            "request_id": request_id,
                        },
                    )
                    raise error
            if reached and not request.idempotent:
                self._emit(operation, "gave_up", attempt, error.status, self._clock.monotonic() - started)
                self._logger.warning(
                    "sp-api call not repeated: Amazon may have acted on it",
                    extra={**self._log_keys(operation), "attempt": attempt, "status": error.status, "code": error.code},
                )
                raise OutcomeUnknown(
                    error.message,
                    operation=operation,
                    status=error.status,
                    code=error.code,
                    request_id=error.request_id,
                    errors=error.errors,
                ) from error
            last_error = error
            retries += 1
            delay = policy.backoff(retries, self._jitter())
            elapsed = self._clock.monotonic()
            if attempt >= policy.max_attempts or elapsed + delay > deadline:
                self._emit(operation, "gave_up", attempt, error.status, elapsed - started)
                self._logger.warning(
                    "sp-api call gave up",
                    extra={
                        **self._log_keys(operation),
                        "attempt": attempt,
                        "status": error.status,
                        "code": error.code,
                        "elapsed": elapsed - started,
                        "request_id": error.request_id,
                    },
                )
                if isinstance(error, Throttled):
                    error.retry_after = max(delay, bucket.wait_time(elapsed))
                raise error
            self._logger.info(
                "sp-api retry",
                extra={
                    **self._log_keys(operation),
                    "attempt": attempt,
                    "status": error.status,
                    "code": error.code,
                    "delay": delay,
                    "request_id": error.request_id,
                },
            )
            self._clock.sleep(delay)

    # ------------------------------------------------------------------------- restricted data tokens

    def restricted_data_refusal(self, resources: tuple[builders.RestrictedResource, ...]) -> str | None:
        """Why Amazon last refused an RDT for these resources (remembered a quarter of an hour), if it did."""
        return self._rdt.refusal(resources_key(self.seller_id, self.region, resources), self._clock.monotonic())

    def _credential(self, request: SpApiRequest, *, force_refresh: bool) -> str:
        """What goes in `x-amz-access-token`: the RDT a restricted request asks for when Amazon grants
        one, else the seller's access token."""
        if request.restricted:
            token = self._restricted_token(request.restricted)
            if token is not None:
                return token
        return self._lwa.access_token(self._refresh_token, force_refresh=force_refresh)

    def _restricted_token(self, resources: tuple[builders.RestrictedResource, ...]) -> str | None:
        key = resources_key(self.seller_id, self.region, resources)
        now = self._clock.monotonic()
        cached = self._rdt.token(key, now)
        if cached is not None or self._rdt.refusal(key, now) is not None:
            return cached
        try:
            answer = self.send(builders.create_restricted_data_token(resources))
        except (AccessDenied, InvalidRequest, NotFound) as error:
            reason = f"Amazon refused a Restricted Data Token ({error.status} {error.code}: {error.message})."
            self._rdt.refuse(key, reason, self._clock.monotonic())
            self._logger.warning(
                "restricted data token refused; orders are read without buyer data",
                extra={**self._log_keys("createRestrictedDataToken"), "status": error.status, "code": error.code},
            )
            return None
        body = answer.body if isinstance(answer.body, dict) else {}
        token, expires_in = body.get("restrictedDataToken"), body.get("expiresIn")
        if not isinstance(token, str) or not isinstance(expires_in, int | float):
            raise UnexpectedResponse(
                "createRestrictedDataToken answered without restrictedDataToken and expiresIn",
                operation="createRestrictedDataToken",
            )
        self._rdt.keep(key, token, float(expires_in), self._clock.monotonic())
        return token

    # -------------------------------------------------------------------------------------- internals

    def _log_keys(self, operation: str) -> dict[str, Any]:
        return {"operation": operation, "merchant_id": self.seller_id, "region": self.region}

    def _emit(
        self,
        operation: str,
        outcome: CallOutcome,
        attempt: int,
        status: int | None = None,
        duration: float = 0.0,
        waited: float = 0.0,
        request_id: str | None = None,
    ) -> None:
        if self._metrics is None:
            return
        event = SpApiCallEvent(
            operation=operation,
            outcome=outcome,
            seller_id=self.seller_id,
            region=self.region,
            attempt=attempt,
            status=status,
            duration=duration,
            waited=waited,
            request_id=request_id,
        )
        try:
            self._metrics(event)
        except Exception:  # a broken metrics hook must not break the call it observes
            self._logger.exception("sp-api metrics hook failed", extra=self._log_keys(operation))

    def _learn_rate(self, bucket: TokenBucket, response: httpx.Response, operation: str) -> None:
        raw = response.headers.get(RATE_LIMIT_HEADER)
        if not raw:
            return  # best-effort header: absent on 429/401/403 and sometimes elsewhere
        try:
            rate = float(raw)
        except ValueError:
            return
        if bucket.set_rate(rate, self._clock.monotonic()):
            self._logger.info("sp-api rate limit updated", extra={**self._log_keys(operation), "rate": rate})

    @staticmethod
    def _payload(response: SpApiResponse) -> Any:
        """Unwrap Orders v0 / Sellers `{payload, errors}`; a 2xx carrying only errors is still an error."""
        body = response.body
        if isinstance(body, dict) and "payload" in body and body["payload"] is not None:
            return body["payload"]
        if isinstance(body, dict) and body.get("errors"):
            raise error_from_response(
                operation=response.operation, status=response.status, body=body, request_id=response.request_id
            )
        raise UnexpectedResponse(
            "answer has no payload",
            operation=response.operation,
            status=response.status,
            request_id=response.request_id,
        )

    def _model(self, model: type[_ModelT], data: SpApiResponse | Any, operation: str | None = None) -> _ModelT:
        if isinstance(data, SpApiResponse):
            operation, body = data.operation, data.body
        else:
            body = data
        try:
            return model.model_validate(body)
        except ValidationError as exc:
            raise self._unexpected(operation or model.__name__, exc) from None

    @staticmethod
    def _unexpected(operation: str, exc: ValidationError) -> UnexpectedResponse:
        # Locations only: the input values may hold buyer data.
        where = "; ".join(".".join(str(p) for p in e["loc"]) + f" ({e['type']})" for e in exc.errors()[:5])
        return UnexpectedResponse(f"answer does not match Amazon's model: {where}", operation=operation)

    @staticmethod
    def _decompress(content: bytes, algorithm: str | None, operation: str) -> bytes:
        try:
            return documents.decompress(content, algorithm)
        except ValueError as exc:
            raise UnexpectedResponse(str(exc), operation=operation) from None

    def _document_request(
        self,
        method: Literal["GET", "PUT"],
        url: str,
        *,
        operation: str,
        content: bytes | None = None,
        headers: Mapping[str, str] | None = None,
        stream: bool = False,
    ) -> httpx.Response:
        """A pre-signed document URL: no SP-API headers or bucket, retried on 5xx/transport within the budget.
        `stream`: a 2xx answer comes back with its body unread (the caller closes it).

        Only the URL's host and path are ever logged: its query string is a credential.
        """
        policy = self._config.retry
        started = self._clock.monotonic()
        deadline = started + policy.time_budget
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
                self._emit(operation, "transport_error", attempt, duration=self._clock.monotonic() - sent)
            else:
                status = response.status_code
                duration = self._clock.monotonic() - sent
                self._logger.debug(
                    "document transfer",
                    extra={
                        **self._log_keys(operation),
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
                    self._emit(operation, "success", attempt, status, duration)
                    return response
                response.close()
                error = error_from_response(operation=operation, status=status, body=None)
                if status == 403:
                    error = AccessDenied(
                        "the document URL was refused (pre-signed URLs expire after about five minutes)",
                        operation=operation,
                        status=status,
                        code="DocumentUrlRefused",
                    )
                if status < 500 and status != 429:
                    self._emit(operation, "client_error", attempt, status, duration)
                    raise error
                self._emit(operation, "throttled" if status == 429 else "server_error", attempt, status, duration)
            delay = policy.backoff(attempt, self._jitter())
            elapsed = self._clock.monotonic()
            if attempt >= policy.max_attempts or elapsed + delay > deadline:
                self._emit(operation, "gave_up", attempt, error.status, elapsed - started)
                raise error
            self._clock.sleep(delay)


def _json_or_none(response: httpx.Response) -> Any:
    if not response.content:
        return None
    try:
        return response.json()
    except ValueError:
        return None


def _without_query(url: str) -> str:
    try:
        parsed = httpx.URL(url)
    except httpx.InvalidURL:
        return "<invalid url>"
    return str(parsed.copy_with(query=None, fragment=None))
