"""The simulator's state and the machinery around every call: LWA tokens, faults, rate limits, the call log.

One `Simulator` is one simulated Amazon. It is plain Python (no HTTP): `app.py` serves it, tests and
benchmarks may also drive it directly. Everything is guarded by one re-entrant lock, so concurrent
requests see consistent state; injected delays are slept outside it.
"""

from __future__ import annotations

import itertools
import random
import secrets
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, fields
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

from .clock import ScaledClock
from .errors import ControlError
from .listings import ListingBook
from .models import ModelCatalog, Operation
from .ratelimit import FEED_TYPE_PLANS, RateLimiter, UsagePlan
from .state import Document, Feed, Order, Report, Seller

LWA_CLIENT_ID = "amzn1.application-oa2-client.local"
LWA_CLIENT_SECRET = "local-secret"  # the local app's published test credential (SPEC §8.1)
APPLICATION_ID = "amzn1.sp.solution.local"
RDT_PREFIX = "Atz.sprdt|"  # Amazon's Restricted Data Tokens look like "Atz.sprdt|IQEBLjAsAhRmHjNgHpi0U-Dme37rR6CuUpSR"
LWA_OPERATION = "lwaToken"  # the call-log name of `POST /auth/o2/token` (LWA has no model operationId)


@dataclass
class SimConfig:
    """Knobs a test may turn with `POST /_sim/config`."""

    access_token_ttl_seconds: float = 3600.0
    restricted_data_token_ttl_seconds: float = 3600.0
    auth_code_ttl_seconds: float = 300.0
    document_url_ttl_seconds: float = 300.0
    # getFeed / getReport polls that see IN_QUEUE (first) then IN_PROGRESS before the next one sees DONE.
    feed_polls_before_done: int = 0
    report_polls_before_done: int = 0
    # Of those, how many see IN_QUEUE before the feed or report moves to IN_PROGRESS.
    feed_polls_in_queue: int = 1
    report_polls_in_queue: int = 1
    # Simulated seconds after creation before a feed or report can be DONE.
    feed_processing_seconds: float = 0.0
    report_processing_seconds: float = 0.0
    report_compression: str | None = "GZIP"
    report_charset: str = "UTF-8"
    order_items_page_size: int = 100
    regional_quantity: bool = True
    validate_responses: bool = False
    fault_seed: int | None = None
    # The app as registered in the Solution Provider Portal, for Seller Central's browser pages: its OAuth
    # redirect URIs (the first is the default), its log-in URI (where the Appstore workflow sends the
    # seller), its name, and whether it is still a draft (then Amazon wants `version=beta`).
    app_redirect_uris: list[str] = field(default_factory=list)
    app_login_uri: str | None = None
    app_name: str = "OMS Amazon connector"
    app_draft: bool = True

    def update(self, changes: dict[str, Any]) -> None:
        known = {f.name: f for f in fields(self)}
        for name, value in changes.items():
            if name not in known:
                raise ControlError(f"unknown config field '{name}'; known: {', '.join(sorted(known))}")
            setattr(self, name, _check_config(name, value))


def _check_config(name: str, value: Any) -> Any:
    if name == "app_redirect_uris":
        if not isinstance(value, list) or not all(isinstance(v, str) and _is_http_url(v) for v in value):
            raise ControlError("app_redirect_uris must be a list of http(s) URLs")
        return list(value)
    if name == "app_login_uri":
        if value is not None and not (isinstance(value, str) and _is_http_url(value)):
            raise ControlError("app_login_uri must be an http(s) URL or null")
        return value
    if name == "app_name":
        if not isinstance(value, str) or not value.strip() or len(value) > 100:
            raise ControlError("app_name must be a name of 1 to 100 characters")
        return value
    if name in ("regional_quantity", "validate_responses", "app_draft"):
        if not isinstance(value, bool):
            raise ControlError(f"{name} must be true or false")
        return value
    if name == "report_compression":
        if value not in (None, "GZIP"):
            raise ControlError('report_compression must be "GZIP" or null')
        return value
    if name == "report_charset":
        if not isinstance(value, str):
            raise ControlError("report_charset must be a charset name such as UTF-8 or windows-1252")
        try:
            "".encode(value)
        except LookupError:
            raise ControlError(f"unknown charset '{value}'") from None
        return value
    if name == "fault_seed":
        if value is not None and (not isinstance(value, int) or isinstance(value, bool)):
            raise ControlError("fault_seed must be an integer or null")
        return value
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0:
        raise ControlError(f"{name} must be a number of at least 0")
    if name.endswith(("_polls_before_done", "_polls_in_queue")) or name == "order_items_page_size":
        if not isinstance(value, int):
            raise ControlError(f"{name} must be an integer")
        if name == "order_items_page_size" and value < 1:
            raise ControlError("order_items_page_size must be at least 1")
    return value


def _is_http_url(value: str) -> bool:
    split = urlsplit(value)
    return split.scheme in ("http", "https") and bool(split.netloc) and not split.fragment


@dataclass
class AccessToken:
    seller_id: str | None
    expires_real: float


@dataclass(frozen=True)
class GrantedResource:
    """One restricted resource an RDT opens: a method, a specific or generic (`{orderId}`) path, the data elements."""

    method: str
    path: str
    data_elements: frozenset[str]


@dataclass
class RestrictedToken:
    seller_id: str
    resources: tuple[GrantedResource, ...]
    expires_real: float
    target_application: str | None  # a delegatee's application id: the RDT then serves that app, not this one


@dataclass
class AuthCode:
    seller_id: str
    expires_real: float


@dataclass
class AmazonState:
    """The `amazon_state` Seller Central hands the app's log-in URI in the Appstore workflow: which seller
    consented, until when, and whether the app already came back with it (it works once)."""

    seller_id: str
    application_id: str
    expires_real: float


# `kind: fatal` faults: the operations that start a report or a feed, which then ends FATAL.
FATAL_OPERATIONS = ("createFeed", "createReport")


@dataclass
class Fault:
    fault_id: int
    operation: str
    status: int | None
    rate: float
    remaining: int | None
    delay_seconds: float
    phase: str
    injected: int = 0
    kind: str = "error"  # "error": a failed or slow answer; "fatal": the feed or report created ends FATAL
    message: str | None = None  # for `fatal`: why, in its processing report or report document

    def matches(self, op: Operation) -> bool:
        return self.operation in ("*", op.operation_id, op.key)

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


FAULT_BODIES: dict[int, tuple[str, str]] = {
    429: ("QuotaExceeded", "You exceeded your quota for the requested resource."),
    500: ("InternalFailure", "We encountered an internal error. Please try again."),
    503: ("ServiceUnavailable", "Service temporarily unavailable. Please try again."),
}


def _checked_fatal_reason(spec: dict[str, Any], kind: str, operation: str, status: Any) -> str | None:
    """A `kind: fatal` fault's reason, once its shape is checked: it names createFeed or createReport and no status."""
    message = spec.get("message")
    if kind != "fatal":
        if message is not None:
            raise ControlError('message is for kind "fatal" faults')
        return None
    if operation.rsplit(".", 1)[-1] not in FATAL_OPERATIONS:
        raise ControlError(
            f"a fatal fault names {' or '.join(FATAL_OPERATIONS)}: the feed or report it makes ends FATAL"
        )
    if status is not None:
        raise ControlError("a fatal fault has no status: the call succeeds and the feed or report ends FATAL")
    if message is not None and (not isinstance(message, str) or not message.strip()):
        raise ControlError("message must be a non-empty string")
    return str(message) if message is not None else None


@dataclass
class PageCursor:
    """A pagination token's server-side state: the result snapshot and where the next page starts."""

    seller_id: str
    operation: str
    signature: tuple[Any, ...]
    ids: list[str]
    offset: int
    extra: dict[str, Any] = field(default_factory=dict)


class Simulator:
    def __init__(
        self,
        *,
        catalog: ModelCatalog | None = None,
        real_clock: Callable[[], float] = time.monotonic,
        wall_clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.catalog = catalog or ModelCatalog()
        self.real_clock = real_clock
        self.wall_clock = wall_clock
        self.sim_clock = ScaledClock(real_clock)
        self.lock = threading.RLock()
        self.rate_limiter = RateLimiter(self.sim_clock.now)
        self._ids = itertools.count(1)
        self.reset()

    # --- state ------------------------------------------------------------------------------------

    def reset(self) -> None:
        with self.lock:
            self.config = SimConfig()
            self.sellers: dict[str, Seller] = {}
            self.book = ListingBook()
            self.orders: dict[str, dict[str, Order]] = {}
            self.documents: dict[str, Document] = {}
            self.feeds: dict[str, Feed] = {}
            self.reports: dict[str, Report] = {}
            self.cursors: dict[str, PageCursor] = {}
            self.access_tokens: dict[str, AccessToken] = {}
            self.restricted_tokens: dict[str, RestrictedToken] = {}
            self.auth_codes: dict[str, AuthCode] = {}
            self.amazon_states: dict[str, AmazonState] = {}
            self.faults: list[Fault] = []
            self.enforce_rate_limits = False
            self.plan_overrides: dict[str, UsagePlan] = {}
            self.rng = random.Random()  # fault injection, not security
            self.rate_limiter.reset()
            self.sim_clock.set_speedup(1.0)
            self.sim_clock.reset()
            self.reset_calls()

    def reset_calls(self) -> None:
        with self.lock:
            self.calls: list[dict[str, Any]] = []
            self.counts: Counter[str] = Counter()
            self.counts_by_api: dict[str, Counter[str]] = {}
            self.contract_violations: list[dict[str, Any]] = []
            self.calls_since_real = self.real_clock()
            self.calls_since_sim = self.sim_clock.now()

    def next_id(self) -> int:
        return next(self._ids)

    def now(self) -> datetime:
        return self.wall_clock()

    def seller(self, seller_id: str) -> Seller:
        found = self.sellers.get(seller_id)
        if found is None:
            raise ControlError(f"unknown seller '{seller_id}'", status=404)
        return found

    # --- LWA ----------------------------------------------------------------------------------------

    def issue_access_token(self, seller_id: str | None) -> str:
        token = "Atza|" + secrets.token_urlsafe(48)
        self.access_tokens[token] = AccessToken(seller_id, self.real_clock() + self.config.access_token_ttl_seconds)
        return token

    def issue_restricted_token(
        self, seller_id: str, resources: tuple[GrantedResource, ...], target_application: str | None
    ) -> str:
        token = RDT_PREFIX + secrets.token_urlsafe(48)
        expires = self.real_clock() + self.config.restricted_data_token_ttl_seconds
        self.restricted_tokens[token] = RestrictedToken(seller_id, resources, expires, target_application)
        return token

    def issue_auth_code(self, seller_id: str) -> str:
        code = "ANdN" + secrets.token_urlsafe(18)
        self.auth_codes[code] = AuthCode(seller_id, self.real_clock() + self.config.auth_code_ttl_seconds)
        return code

    def redeem_auth_code(self, code: str) -> Seller | None:
        """The seller a consent code stands for; a code works once and only for 5 minutes."""
        grant = self.auth_codes.pop(code, None)
        if grant is None or grant.expires_real < self.real_clock():
            return None
        seller = self.sellers.get(grant.seller_id)
        if seller is None:
            return None
        if seller.revoked:
            # Authorising again after a revocation gives the app a new refresh token.
            seller.refresh_token = "Atzr|" + secrets.token_urlsafe(48)
            seller.revoked = False
        return seller

    def seller_for_refresh_token(self, refresh_token: str) -> Seller | None:
        return next((s for s in self.sellers.values() if s.refresh_token == refresh_token and not s.revoked), None)

    def revoke(self, seller_id: str, *, access_tokens: bool) -> None:
        seller = self.seller(seller_id)
        seller.revoked = True
        if access_tokens:
            for token in [t for t, grant in self.access_tokens.items() if grant.seller_id == seller_id]:
                del self.access_tokens[token]
            # RDTs were issued with those access tokens and go with them.
            for token in [t for t, grant in self.restricted_tokens.items() if grant.seller_id == seller_id]:
                del self.restricted_tokens[token]

    # --- faults, rate limits, the call log ----------------------------------------------------------------

    def add_fault(self, spec: Any) -> Fault:
        if not isinstance(spec, dict):
            raise ControlError(
                "a fault is an object {operation, status, rate, count?, delay_seconds?, phase?} or "
                '{operation: "createFeed"|"createReport", kind: "fatal", message?, rate?, count?}'
            )
        operation = spec.get("operation", "*")
        known = {op.operation_id for op in self.catalog.all_operations()} | {
            op.key for op in self.catalog.all_operations()
        }
        if operation != "*" and operation not in known and operation != LWA_OPERATION:
            raise ControlError(f"unknown operation '{operation}': use \"*\", an operationId or {LWA_OPERATION}")
        kind = spec.get("kind", "error")
        if kind not in ("error", "fatal"):
            raise ControlError(
                'kind must be "error" (a failed or slow answer) or "fatal" (the feed or report ends FATAL)'
            )
        status = spec.get("status")
        delay = spec.get("delay_seconds", 0)
        if status is not None and status not in FAULT_BODIES:
            raise ControlError("status must be 429, 500 or 503")
        if isinstance(delay, bool) or not isinstance(delay, (int, float)) or delay < 0:
            raise ControlError("delay_seconds must be a number of at least 0")
        message = _checked_fatal_reason(spec, kind, operation, status)
        if kind == "error" and status is None and not delay:
            raise ControlError("a fault needs a status (429, 500, 503) or delay_seconds")
        rate = spec.get("rate", 1.0)
        if isinstance(rate, bool) or not isinstance(rate, (int, float)) or not 0 <= rate <= 1:
            raise ControlError("rate must be a number from 0 to 1")
        count = spec.get("count")
        if count is not None and (isinstance(count, bool) or not isinstance(count, int) or count < 1):
            raise ControlError("count must be a positive integer")
        phase = spec.get("phase", "before")
        if phase not in ("before", "after"):
            raise ControlError('phase must be "before" (the call is not processed) or "after" (processed, answer lost)')
        if kind == "fatal" and phase != "before":
            raise ControlError('a fatal fault acts when the feed or report is created: phase must be "before"')
        fault = Fault(
            self.next_id(), operation, status, float(rate), count, float(delay), phase, kind=kind, message=message
        )
        if self.config.fault_seed is not None and not self.faults:
            self.rng.seed(self.config.fault_seed)
        self.faults.append(fault)
        return fault

    def seed_faults(self, seed: int) -> None:
        with self.lock:
            self.rng.seed(seed)

    def draw_fault(self, op: Operation | None, name: str) -> Fault | None:
        """The fault that hits this call, if any (each rule draws against its rate; `count` runs down)."""
        with self.lock:
            for fault in list(self.faults):
                hit = fault.operation == name if op is None else fault.matches(op)
                if not hit or self.rng.random() >= fault.rate:
                    continue
                fault.injected += 1
                if fault.remaining is not None:
                    fault.remaining -= 1
                    if fault.remaining <= 0:
                        self.faults.remove(fault)
                return fault
        return None

    def plan_for(self, op: Operation) -> UsagePlan:
        return self.plan_overrides.get(op.key) or self.plan_overrides.get(op.operation_id) or op.plan

    def feed_type_plan(self, feed_type: str) -> UsagePlan | None:
        """The feed type's own limit on submissions (beside createFeed's bucket), if it has one."""
        default = FEED_TYPE_PLANS.get(feed_type)
        return None if default is None else self.plan_overrides.get(feed_type, default)

    def record(
        self, *, api: str | None, operation: str, status: int, seller_id: str | None, method: str, path: str
    ) -> None:
        with self.lock:
            self.counts[operation] += 1
            if api:
                self.counts_by_api.setdefault(api, Counter())[operation] += 1
            self.calls.append(
                {
                    "operation": operation,
                    "status": status,
                    "api": api,
                    "seller_id": seller_id,
                    "method": method,
                    "path": path,
                    "at": round(self.sim_clock.now(), 3),
                }
            )

    def calls_view(self) -> dict[str, Any]:
        with self.lock:
            return {
                "counts": dict(self.counts),
                "counts_by_api": {api: dict(c) for api, c in self.counts_by_api.items()},
                "calls": list(self.calls),
                "throttled": sum(1 for c in self.calls if c["status"] == 429),
                "simulated_seconds": round(self.sim_clock.now() - self.calls_since_sim, 3),
                "real_seconds": round(self.real_clock() - self.calls_since_real, 3),
                "speedup": self.sim_clock.speedup,
                "rate_limits_enforced": self.enforce_rate_limits,
                "contract_violations": list(self.contract_violations),
            }

    # --- documents ----------------------------------------------------------------------------------------

    def new_document(
        self, seller: Seller, kind: str, content_type: str, content: bytes | None, compression: str | None
    ) -> Document:
        region = seller.marketplaces[0].region if seller.marketplaces else "na"
        document = Document(
            document_id=f"amzn1.tortuga.4.{region}.{uuid.uuid4()}.T{self.next_id()}",
            seller_id=seller.seller_id,
            kind=kind,
            content_type=content_type,
            content=content,
            compression=compression,
            issued_real=self.real_clock(),
        )
        self.documents[document.document_id] = document
        return document
