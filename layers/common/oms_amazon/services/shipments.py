"""Despatch back to Amazon (SPEC §6.7): the API stores a shipment and queues it; a worker confirms it
with confirmShipment and retries Amazon's throttling and outages for up to 24 hours.

Reliability, step by step:
- The POST writes the shipment (`submitted`) and the order's shipment ledger in one transaction,
  conditional on the ledger it read: two concurrent POSTs can never both take the last units, and a
  repeat of the same request finds its package reference in the ledger and gets the stored shipment.
  The queue message is sent after the write; if that send fails the caller gets a 503, and its retry
  (the same request) finds the shipment and queues it again.
- Each shipment names the one message allowed to work on it next (`job_token`). A worker that finds
  another token drops its message, so SQS's rare duplicate deliveries never fork the retry chain.
  A retry is sent *before* the token moves to it: a worker that dies in between leaves the old token
  in place, so SQS's redelivery of the old message simply runs the attempt again, and the message
  sent first is an orphan that is dropped when it arrives.
- A final status (`confirmed`, `rejected`, `failed`) is written with its EventBridge event in one
  transaction (the outbox), conditional on the token, so exactly one event is emitted per shipment.
- Amazon deduplicates a repeated package reference with the same content, so running an attempt
  twice never confirms twice.

An LWA `invalid_grant` marks the seller's accounts `rejected` (their jobs pause) and keeps the
shipment `submitted` with the reason `authorisation_rejected`: later attempts only look at the
account (no call to Amazon while it stays rejected), and once the seller authorises again (Authorise
Now) the next attempt confirms it. After 24 hours it fails with that reason.
"""

from __future__ import annotations

import random
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Protocol

from oms_amazon.carriers import resolve_carrier
from oms_amazon.domain.amazon_errors import (
    AppCredentialsRejected,
    AuthorisationRejected,
    InvalidRequest,
    OutcomeUnknown,
    SpApiError,
    Throttled,
)
from oms_amazon.domain.amazon_errors import NotFound as AmazonNotFound
from oms_amazon.domain.errors import Conflict, DependencyUnavailable, NotFound
from oms_amazon.domain.jobs import ShipmentJob
from oms_amazon.domain.orders import Order
from oms_amazon.domain.shipments import (
    EVENT_TYPES,
    EventType,
    Reason,
    RetrySchedule,
    SavedShipment,
    Shipment,
    ShipmentLedger,
    ShipmentLine,
    ShipmentRequest,
    ShipmentStatus,
    check_reference,
    check_ship_date,
    check_text,
    package_reference_id,
    parse_ship_date,
    plan_lines,
    units_unconfirmed,
)
from oms_amazon.observability import count, logger
from oms_amazon.ports import AccountRepository, Clock, Page
from oms_amazon.services.seller_access import SellerAccess

MAX_WRITE_TRIES = 3


class OrderReader(Protocol):
    def get(self, client_id: str, order_id: str) -> Order | None: ...


class ShipmentStore(Protocol):
    def ledger(self, client_id: str, order_id: str) -> ShipmentLedger: ...

    def get(self, client_id: str, order_id: str, sequence: int) -> Shipment | None: ...

    def of_order(self, client_id: str, order_id: str) -> list[Shipment]: ...

    def page(self, client_id: str, order_id: str, *, limit: int, next_token: str | None) -> Page[Shipment]: ...

    def create(self, shipment: Shipment, *, ledger: ShipmentLedger) -> bool:
        """Store a new shipment and the ledger that records it, if the ledger is still `ledger`."""
        ...

    def record_attempt(self, shipment: Shipment, *, token: str) -> bool:
        """Replace a `submitted` shipment whose job token is still `token`."""
        ...

    def finish(self, shipment: Shipment, *, token: str, event: EventType) -> SavedShipment:
        """Write a final status with its event in the outbox, if the token is still `token`."""
        ...


class ShipmentQueue(Protocol):
    def send(self, body: dict[str, Any], *, delay_seconds: int) -> None: ...


class DespatchedOrders(Protocol):
    """Told when the connector has confirmed every unit of an order: the order becomes `shipped`."""

    def despatched(self, client_id: str, order_id: str) -> Any: ...


class ShipmentConfirmer(Protocol):
    def confirm_shipment(self, shipment: Shipment, marketplace_id: str) -> None: ...

    def confirmed_packages(self, order_id: str) -> set[str]:
        """The package references Amazon has on record for the order."""
        ...


class EventRelay(Protocol):
    def send(self, events: list[dict[str, Any]]) -> None: ...


TokenFactory = Callable[[], str]


def new_token() -> str:
    return secrets.token_hex(8)


@dataclass(frozen=True, slots=True)
class ShipmentDraft:
    """The request body as the caller sent it (shape already checked by the API)."""

    carrier_code: str
    carrier_name: str | None
    shipping_method: str
    tracking_number: str
    ship_date: str
    lines: tuple[ShipmentLine, ...] | None = None
    reference: str | None = None


@dataclass(frozen=True, slots=True)
class Submitted:
    shipment: Shipment
    created: bool  # False: the same request was made before; this is the stored shipment


def request_from(draft: ShipmentDraft, order: Order, now: datetime) -> ShipmentRequest:
    carrier = resolve_carrier(draft.carrier_code, draft.carrier_name, order.marketplace)
    ship_date = parse_ship_date(draft.ship_date)
    check_ship_date(ship_date, purchase_date=order.purchase_date, now=now)
    return ShipmentRequest(
        carrier_code=carrier.code,
        carrier_name=carrier.name,
        requested_carrier_code=check_text(draft.carrier_code, "carrier_code"),
        shipping_method=check_text(draft.shipping_method, "shipping_method"),
        tracking_number=check_text(draft.tracking_number, "tracking_number"),
        ship_date=ship_date,
        lines=draft.lines,
        reference=check_reference(draft.reference, "shipment_reference") if draft.reference is not None else None,
    )


class ShipmentService:
    """The API's side: submit a shipment of an order, list an order's shipments."""

    def __init__(
        self,
        *,
        orders: OrderReader,
        shipments: ShipmentStore,
        queue: ShipmentQueue,
        clock: Clock,
        tokens: TokenFactory = new_token,
    ) -> None:
        self._orders = orders
        self._shipments = shipments
        self._queue = queue
        self._clock = clock
        self._tokens = tokens

    def _order(self, client_id: str, order_id: str) -> Order:
        order = self._orders.get(client_id, order_id)
        if order is None:
            raise NotFound(f"No order {order_id}.", code="order_not_found")
        return order

    def submit(self, client_id: str, order_id: str, draft: ShipmentDraft) -> Submitted:
        order = self._order(client_id, order_id)
        now = self._clock()
        request = request_from(draft, order, now)
        reference = package_reference_id(order_id, request.idempotency_input())
        for _ in range(MAX_WRITE_TRIES):
            ledger = self._shipments.ledger(client_id, order_id)
            sequence = ledger.sequence_of(reference)
            if sequence is not None:
                return Submitted(self._repeat(client_id, order_id, sequence, request), created=False)
            not_ready = order.not_ready_reason()
            if not_ready is not None:
                raise Conflict(not_ready, code="order_not_ready", details=[{"status": order.status}])
            lines = plan_lines(order, self._shipments.of_order(client_id, order_id), request.lines)
            shipment = Shipment(
                client_id=client_id,
                amazon_order_id=order_id,
                sequence=ledger.count + 1,
                account_id=order.account_id,
                marketplace=order.marketplace,
                package_reference_id=reference,
                carrier_code=request.carrier_code,
                carrier_name=request.carrier_name,
                requested_carrier_code=request.requested_carrier_code,
                shipping_method=request.shipping_method,
                tracking_number=request.tracking_number,
                ship_date=request.ship_date,
                lines=lines,
                reference=request.reference,
                fingerprint=request.fingerprint(),
                status="submitted",
                reason=None,
                attempts=0,
                job_token=self._tokens(),
                created_at=now,
                updated_at=now,
                next_attempt_at=now,
            )
            if self._shipments.create(shipment, ledger=ledger.with_shipment(reference, shipment.sequence)):
                self._enqueue(shipment)
                count("ShipmentsSubmitted")
                logger.info(
                    "shipment submitted",
                    extra={
                        "client_id": client_id,
                        "account_id": order.account_id,
                        "marketplace": order.marketplace,
                        "amazon_order_id": order_id,
                        "shipment_id": shipment.shipment_id,
                        "package_reference_id": reference,
                    },
                )
                return Submitted(shipment, created=True)
        raise Conflict("The order's shipments kept changing; try again.", code="concurrent_update")

    def _repeat(self, client_id: str, order_id: str, sequence: int, request: ShipmentRequest) -> Shipment:
        existing = self._shipments.get(client_id, order_id, sequence)
        if existing is None:  # the ledger and its shipment are written together; only a manual delete gets here
            raise Conflict("The order's shipments are inconsistent; contact support.", code="shipment_missing")
        if existing.fingerprint != request.fingerprint():
            raise Conflict(
                f"Shipment {existing.shipment_id} already uses this "
                + ("shipment reference" if request.reference else "tracking number for these lines")
                + " with other details; send a new Idempotency-Key or shipment_reference for a different package.",
                code="shipment_reference_conflict",
                details=[{"shipment_id": existing.shipment_id}],
            )
        if existing.status == "submitted" and existing.attempts == 0:
            # Its first message may never have been sent (the caller retried after a 503): queue it
            # again. A duplicate is harmless: the token lets only one run.
            self._enqueue(existing)
        return existing

    def _enqueue(self, shipment: Shipment) -> None:
        try:
            self._queue.send(ShipmentJob.of(shipment).to_message(), delay_seconds=0)
        except DependencyUnavailable:
            logger.warning("shipment stored but not queued; a repeat of the request queues it")
            raise

    def list(self, client_id: str, order_id: str, *, limit: int, next_token: str | None) -> Page[Shipment]:
        self._order(client_id, order_id)
        return self._shipments.page(client_id, order_id, limit=limit, next_token=next_token)


@dataclass(frozen=True, slots=True)
class _Retry:
    reason: Reason
    at_least: float | None = None


@dataclass(frozen=True, slots=True)
class _Final:
    status: ShipmentStatus
    reason: Reason | None


def _amazon_reason(error: SpApiError) -> Reason:
    return Reason(error.code or f"HTTP{error.status}", error.message, error.status)


class ShipmentWorker:
    """Confirms one queued shipment with Amazon, or schedules the next attempt."""

    def __init__(
        self,
        *,
        accounts: AccountRepository,
        shipments: ShipmentStore,
        queue: ShipmentQueue,
        relay: EventRelay,
        access: SellerAccess[ShipmentConfirmer],
        clock: Clock,
        schedule: RetrySchedule,
        tokens: TokenFactory = new_token,
        jitter: Callable[[], float] = random.random,
        orders: OrderReader | None = None,
        despatched: DespatchedOrders | None = None,
    ) -> None:
        self._orders = orders
        self._despatched = despatched
        self._accounts = accounts
        self._shipments = shipments
        self._queue = queue
        self._relay = relay
        self._access = access
        self._clock = clock
        self._schedule = schedule
        self._tokens = tokens
        self._jitter = jitter

    def handle(self, job: ShipmentJob) -> str:
        shipment = self._shipments.get(job.client_id, job.amazon_order_id, job.sequence)
        if shipment is None or shipment.status != "submitted" or shipment.job_token != job.token:
            logger.info(
                "shipment job dropped: the shipment is final or another message owns it",
                extra={"amazon_order_id": job.amazon_order_id, "sequence": job.sequence},
            )
            return "stale"
        keys = {
            "client_id": shipment.client_id,
            "account_id": shipment.account_id,
            "marketplace": shipment.marketplace,
            "amazon_order_id": shipment.amazon_order_id,
            "shipment_id": shipment.shipment_id,
        }
        logger.append_keys(**keys)
        try:
            outcome = self._attempt(shipment)
            if isinstance(outcome, _Final):
                return self._finish(shipment, outcome.status, outcome.reason, job.token)
            return self._retry_later(shipment, outcome, job.token)
        finally:
            logger.remove_keys(list(keys))

    def _attempt(self, shipment: Shipment) -> _Final | _Retry:
        account = self._accounts.get(shipment.client_id, shipment.account_id)
        if account is None:
            return _Final(
                "failed",
                Reason(
                    "account_not_found", "The order's Amazon account was deleted; the shipment cannot be confirmed."
                ),
            )
        waiting = Reason(
            "authorisation_required",
            "The seller's authorisation is missing or was rejected by Amazon; the shipment is confirmed once the "
            "seller authorises the connector again (Authorise Now).",
        )
        if account.authorisation.status != "ok":
            return _Retry(waiting)
        amazon = self._access.open(account)
        if amazon is None:
            return _Retry(waiting)
        try:
            amazon.confirm_shipment(shipment, account.marketplace_id)
        except (OutcomeUnknown, InvalidRequest) as error:
            # Amazon may have recorded the package though its answer was lost, and a repeat of a recorded
            # package may be refused: Amazon's record of the order's packages decides (§6.7).
            return self._settled_by_amazons_record(amazon, shipment, error)
        except AuthorisationRejected:
            self._access.reject(account)
            logger.warning("Amazon rejected the seller's authorisation; its accounts are paused")
            return _Retry(
                Reason(
                    "authorisation_rejected",
                    "Amazon rejected the seller's authorisation (LWA invalid_grant); the shipment is confirmed once "
                    "the seller authorises the connector again (Authorise Now).",
                    400,
                )
            )
        except AmazonNotFound as error:
            return _Final("rejected", _amazon_reason(error))
        except Throttled as error:
            return _Retry(_amazon_reason(error), at_least=error.retry_after)
        except AppCredentialsRejected as error:
            logger.error("Amazon rejected the connector's own LWA credentials", extra={"code": error.code})
            return _Retry(_amazon_reason(error))
        except SpApiError as error:  # 5xx, timeouts, transport errors, access denied: worth another try
            return _Retry(_amazon_reason(error))
        return _Final("confirmed", None)

    def _mark_shipped_when_complete(self, shipment: Shipment) -> None:
        if self._orders is None or self._despatched is None:
            return
        order = self._orders.get(shipment.client_id, shipment.amazon_order_id)
        if order is not None and not units_unconfirmed(
            order, self._shipments.of_order(shipment.client_id, shipment.amazon_order_id)
        ):
            # If this fails the shipment stays confirmed; Amazon's own Shipped status marks the order on
            # the next import.
            try:
                self._despatched.despatched(shipment.client_id, shipment.amazon_order_id)
            except (Conflict, DependencyUnavailable):
                logger.warning("the order could not be marked shipped now; the next import does it")

    def _settled_by_amazons_record(
        self, amazon: ShipmentConfirmer, shipment: Shipment, error: SpApiError
    ) -> _Final | _Retry:
        try:
            recorded = shipment.package_reference_id in amazon.confirmed_packages(shipment.amazon_order_id)
        except SpApiError as lookup:
            return _Retry(_amazon_reason(lookup))  # Amazon's record unreadable now: decide on the next attempt
        if recorded:
            logger.info("Amazon has the package on record: confirmed", extra={"after": error.code})
            return _Final("confirmed", None)
        if isinstance(error, InvalidRequest):
            return _Final("rejected", _amazon_reason(error))
        return _Retry(_amazon_reason(error))

    def _retry_later(self, shipment: Shipment, retry: _Retry, token: str) -> str:
        now = self._clock()
        attempt = shipment.attempts + 1
        delay = self._schedule.delay(attempt, self._jitter(), at_least=retry.at_least)
        next_at = now + timedelta(seconds=delay)
        if self._schedule.gives_up(shipment, next_at):
            # The 24 hours are up: fail with Amazon's last reason.
            return self._finish(shipment, "failed", retry.reason, token)
        following = shipment.retrying(retry.reason, now, next_at, self._tokens())
        # Send first, then hand the token over (see the module docstring).
        self._queue.send(ShipmentJob.of(following).to_message(), delay_seconds=delay)
        if not self._shipments.record_attempt(following, token=token):
            logger.info("another delivery of this job already scheduled the next attempt")
            return "stale"
        count("ShipmentRetries", reason=retry.reason.code)
        logger.info(
            "shipment confirmation will be retried",
            extra={"attempt": attempt, "delay_seconds": delay, "reason": retry.reason.code},
        )
        return "retrying"

    def _finish(self, shipment: Shipment, status: ShipmentStatus, reason: Reason | None, token: str) -> str:
        final = shipment.finished(status, reason, self._clock())
        saved = self._shipments.finish(final, token=token, event=EVENT_TYPES[final.status])
        if not saved.saved:
            logger.info("another delivery of this job already finished the shipment")
            return "stale"
        if final.status == "confirmed":
            count("ShipmentsConfirmed")
            self._mark_shipped_when_complete(final)
        elif final.status == "rejected":
            count("ShipmentsRejected")
        else:
            count("ShipmentsFailed", reason=(final.reason.code if final.reason else "unknown"))
        logger.info(
            "shipment " + final.status,
            extra={"attempts": final.attempts, "reason": final.reason.code if final.reason else None},
        )
        if saved.event is not None:
            try:
                self._relay.send([saved.event])
            except DependencyUnavailable:
                # The event is safe in the outbox; the order-import tick relays what is left there.
                logger.warning("shipment event left in the outbox for the next relay")
        return final.status
