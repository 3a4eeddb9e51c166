"""What the chaos and crash tests share: Amazon's clock for the workers' SP-API clients, a killed
worker, the simulator's control API, the connector's bus and dead-letter queues as moto holds them,
and an oracle of the quantities SPEC §5 says Amazon must end up with."""

from __future__ import annotations

import json
import threading
import time
import traceback
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import timedelta
from functools import cached_property
from typing import Any

import boto3
import httpx
import pytest
from oms_amazon.adapters.amazon import SellerAmazon
from oms_amazon.adapters.amazon_connections import AmazonConnections
from oms_amazon.adapters.sp_api import BucketRegistry, SpApiCallEvent, SpApiClient, SpApiConfig
from oms_amazon.domain.marketplaces import Marketplace

from local.functions import LocalFunctions
from local.stack import REGION, LocalStack
from local.template import queue_definitions, schedules
from local.triggers import TriggerRunner

# ---------------------------------------------------------------------------------------- Amazon's clock


class AmazonClock:
    """The SP-API client's clock on the simulator's time scale.

    With `POST /_sim/rate-limits {enforce: true, speedup: S}` the simulator refills Amazon's token
    buckets S times faster than real time, so an afternoon of Amazon quota passes in a minute. The
    client keeps its own model of those buckets, and its back-off and time budget are in seconds
    too: on the real clock it would wait two real minutes for a createFeed token Amazon refilled in
    a second. So the client reads this clock instead: the real monotonic clock times S, and a sleep
    of s Amazon seconds lasts s / S real ones. Both sides scale the same real clock by the same S, so
    their buckets agree without sharing an origin, and nothing in the connector's code changes: the
    clock is the `SpApiClient` seam built for it.
    """

    def __init__(self, speedup: float) -> None:
        self.speedup = speedup
        self._lock = threading.Lock()
        self.slept = 0.0  # Amazon seconds the clients waited (tokens and back-off)

    def monotonic(self) -> float:
        return time.monotonic() * self.speedup

    def sleep(self, seconds: float) -> None:
        if seconds <= 0:
            return
        with self._lock:
            self.slept += seconds
        time.sleep(seconds / self.speedup)


class AttemptCounter:
    """The SP-API client's metrics hook: every attempt's outcome by operation (thread-safe)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.outcomes: Counter[tuple[str, str]] = Counter()

    def __call__(self, event: SpApiCallEvent) -> None:
        with self._lock:
            self.outcomes[(event.operation, event.outcome)] += 1

    def total(self, outcome: str) -> int:
        with self._lock:
            return sum(n for (_, o), n in self.outcomes.items() if o == outcome)


class ScaledAmazonConnections(AmazonConnections):
    """The workers' `AmazonConnections` with every client on Amazon's clock, a short HTTP timeout (a
    slow answer becomes a timeout) and an attempt counter. Each local container (a poller thread) keeps
    its own model of Amazon's buckets, as each Lambda container does: when one seller's jobs move from
    one container to another, the newcomer does not know what the other used, and Amazon's limiter says
    so. LWA, the HTTP pool, the endpoints and the retry budget are production's."""

    def __init__(self, *args: Any, clock: AmazonClock, timeout_seconds: float, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.clock = clock
        self.timeout_seconds = timeout_seconds
        self.attempts = AttemptCounter()
        self._registries: dict[int, BucketRegistry] = {}
        self._lock = threading.Lock()

    @property
    def buckets(self) -> BucketRegistry:
        with self._lock:
            return self._registries.setdefault(threading.get_ident(), BucketRegistry())

    @cached_property
    def config(self) -> SpApiConfig:
        production: SpApiConfig = AmazonConnections.config.func(self)  # type: ignore[attr-defined]
        return replace(production, timeout=httpx.Timeout(self.timeout_seconds))

    def seller(self, marketplace: Marketplace, merchant_id: str, refresh_token: str) -> SellerAmazon:
        client = SpApiClient(
            seller_id=merchant_id,
            region=marketplace.region,
            refresh_token=refresh_token,
            lwa=self.lwa,
            config=self.config,
            http=self.http,
            clock=self.clock,
            buckets=self.buckets,
            metrics=self.attempts,
        )
        return SellerAmazon(client)


WORKER_TIME_BUDGET = 300.0  # Amazon seconds per call, as the container's `amazon_connections` gives the workers


def amazon_on_simulated_time(
    monkeypatch: pytest.MonkeyPatch, *, speedup: float, timeout_seconds: float
) -> ScaledAmazonConnections:
    """Point the workers' `amazon_connections` at clients on Amazon's clock, in the installed container (the
    next test's stack reset installs another)."""
    from oms_amazon import wiring

    container = wiring.container()
    config = container.settings
    connections = ScaledAmazonConnections(
        container.client("secretsmanager"),
        config.app_credentials_secret,
        endpoint_override=config.sp_api_endpoint,
        lwa_token_url=config.lwa_token_url,
        time_budget=WORKER_TIME_BUDGET,
        clock=AmazonClock(speedup),
        timeout_seconds=timeout_seconds,
    )

    container.amazon_connections = connections
    return connections


# ------------------------------------------------------------------------------------------ a killed worker


class WorkerKilled(BaseException):
    """Lambda stopping a worker mid-invocation (its timeout, out of memory, a lost host). A
    BaseException, so no `except Exception` in the connector can catch it, as none can catch a kill."""


@dataclass
class Kill:
    survive: int  # calls that go through before the kill
    after_call: bool  # kill once the fatal call has done its work (else before it starts)
    calls: int = 0
    fired: bool = False
    lock: threading.Lock = field(default_factory=threading.Lock)


def kill_at(monkeypatch: pytest.MonkeyPatch, owner: type, name: str, *, survive: int, after_call: bool) -> Kill:
    """Kill the invocation at call number `survive + 1` of `owner.name`, once."""
    original = getattr(owner, name)
    kill = Kill(survive, after_call)

    def dying(self: Any, *args: Any, **kwargs: Any) -> Any:
        with kill.lock:
            kill.calls += 1
            fatal = not kill.fired and kill.calls > kill.survive
            kill.fired = kill.fired or fatal
        if fatal and not after_call:
            raise WorkerKilled(f"killed before {owner.__name__}.{name} call {kill.calls}")
        result = original(self, *args, **kwargs)
        if fatal:
            raise WorkerKilled(f"killed after {owner.__name__}.{name} call {kill.calls}")
        return result

    monkeypatch.setattr(owner, name, dying)
    return kill


class Invocations:
    """Stands between the local triggers and the functions: counts invocations and what escaped them,
    and turns a `WorkerKilled` into what SQS sees of a dead Lambda (no answer), so the message comes
    back after its visibility timeout with its receive count up, as in AWS."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.invoked: Counter[str] = Counter()
        self.escaped: Counter[str] = Counter()  # exceptions out of a handler (SQS retries; ticks retry)
        self.partial_failures: Counter[str] = Counter()  # records reported in batchItemFailures
        self.killed: Counter[str] = Counter()
        self.kinds: Counter[str] = Counter()  # what escaped, by exception type
        self.errors: list[str] = []

    def watch(self, monkeypatch: pytest.MonkeyPatch, functions: LocalFunctions) -> None:
        original = functions.invoke

        def invoke(logical_id: str, event: dict[str, Any]) -> Any:
            self._add(self.invoked, logical_id)
            try:
                result = original(logical_id, event)
            except WorkerKilled as killed:
                self._add(self.killed, logical_id)
                raise RuntimeError(f"{logical_id} was killed: {killed}") from None
            except Exception as error:
                self._add(self.escaped, logical_id)
                # A batch whose every record failed raises Powertools' BatchProcessingError around them.
                for info in getattr(error, "child_exceptions", None) or [(type(error),)]:
                    self._add(self.kinds, info[0].__name__)
                with self._lock:
                    self.errors.append(traceback.format_exc(limit=-3))
                raise
            failures = (result or {}).get("batchItemFailures") if isinstance(result, dict) else None
            if failures:
                self._add(self.partial_failures, logical_id, len(failures))
            return result

        monkeypatch.setattr(functions, "invoke", invoke)

    def _add(self, counter: Counter[str], key: str, n: int = 1) -> None:
        with self._lock:
            counter[key] += n


def settle(runners: Iterable[TriggerRunner], timeout: float = 180) -> None:
    """Wait until every queue is empty and no worker of any runner is busy, twice in a row."""
    runners = list(runners)
    deadline = time.monotonic() + timeout
    quiet = 0
    while quiet < 2:
        remaining = deadline - time.monotonic()
        assert remaining > 0, "the workers did not settle"
        quiet = quiet + 1 if all(r.wait_idle(remaining) for r in runners) else 0


def outbox_lease_over(monkeypatch: pytest.MonkeyPatch) -> None:
    """The outbox lease passes: the next order-import tick relays what a dead writer left behind
    (it leaves younger events to the writer that is still sending them)."""
    from oms_amazon.services.order_import import scheduler

    monkeypatch.setattr(scheduler, "OUTBOX_LEASE", timedelta(0))


# ------------------------------------------------------------------------------------------ AWS, as moto has it


def moto_client(stack: LocalStack, service: str) -> Any:
    return boto3.client(
        service,
        endpoint_url=stack.moto_url,
        region_name=REGION,
        aws_access_key_id="local",
        aws_secret_access_key="local",
    )


def dead_letter_queues() -> list[str]:
    """The logical ids of the template's dead-letter queues: the workers' redrive targets and the
    schedules' DLQs."""
    targets = {q.dead_letter_target for q in queue_definitions() if q.dead_letter_target}
    targets |= {s.dead_letter_queue for s in schedules() if s.dead_letter_queue}
    return sorted(targets)


def dead_letters(stack: LocalStack) -> dict[str, int]:
    """Messages in each dead-letter queue, read through boto3 at the stack's moto endpoint."""
    sqs = moto_client(stack, "sqs")
    depth = {}
    for logical_id in dead_letter_queues():
        attributes = sqs.get_queue_attributes(
            QueueUrl=stack.names[logical_id],
            AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
        )["Attributes"]
        depth[logical_id] = int(attributes["ApproximateNumberOfMessages"]) + int(
            attributes["ApproximateNumberOfMessagesNotVisible"]
        )
    return depth


class EventTap:
    """What a consumer of the connector's bus receives: a rule for the connector's events with an SQS
    queue as its target, as an OMS would subscribe."""

    def __init__(self, stack: LocalStack) -> None:
        self._sqs = moto_client(stack, "sqs")
        events = moto_client(stack, "events")
        bus = stack.names["ConnectorBus"]
        self._url = self._sqs.create_queue(QueueName="chaos-order-events")["QueueUrl"]
        arn = self._sqs.get_queue_attributes(QueueUrl=self._url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        events.put_rule(
            Name="chaos-order-events", EventBusName=bus, EventPattern=json.dumps({"source": ["oms.amazon-connector"]})
        )
        events.put_targets(Rule="chaos-order-events", EventBusName=bus, Targets=[{"Id": "tap", "Arn": arn}])
        self.received: list[dict[str, Any]] = []

    def drain(self) -> list[dict[str, Any]]:
        """Every event delivered so far (kept in `received`)."""
        empty = 0
        while empty < 2:
            messages = self._sqs.receive_message(QueueUrl=self._url, MaxNumberOfMessages=10, WaitTimeSeconds=0).get(
                "Messages", []
            )
            empty = 0 if messages else empty + 1
            for message in messages:
                self.received.append(json.loads(message["Body"]))
                self._sqs.delete_message(QueueUrl=self._url, ReceiptHandle=message["ReceiptHandle"])
        return self.received


# ------------------------------------------------------------------------------------------ Amazon's side


class Amazon:
    """The SP-API simulator's control API (SPEC §8.1)."""

    def __init__(self, client: httpx.Client) -> None:
        self.http = client

    def _ok(self, response: httpx.Response) -> Any:
        assert response.status_code in (200, 201), response.text
        return response.json()

    def seller(self, seller_id: str, refresh_token: str, marketplaces: list[str]) -> None:
        self._ok(
            self.http.post(
                "/_sim/sellers",
                json={"seller_id": seller_id, "refresh_token": refresh_token, "marketplaces": marketplaces},
            )
        )

    def list(self, seller_id: str, marketplace: str, quantities: Mapping[str, int]) -> None:
        items = [{"sku": sku, "product_type": "PRODUCT", "quantity": q} for sku, q in quantities.items()]
        self._ok(
            self.http.put(f"/_sim/sellers/{seller_id}/listings", json={"marketplace": marketplace, "items": items})
        )

    def quantities(self, seller_id: str, marketplace: str) -> dict[str, int]:
        body = self._ok(self.http.get(f"/_sim/sellers/{seller_id}/listings", params={"marketplace": marketplace}))
        return {item["sku"]: item["quantity"] for item in body["items"]}

    def put_orders(self, seller_id: str, orders: list[dict[str, Any]]) -> None:
        for start in range(0, len(orders), 200):
            self._ok(self.http.post(f"/_sim/sellers/{seller_id}/orders", json={"orders": orders[start : start + 200]}))

    def orders(self, seller_id: str) -> list[dict[str, Any]]:
        return list(self._ok(self.http.get(f"/_sim/sellers/{seller_id}/orders"))["orders"])

    def feeds(self, seller_id: str) -> list[dict[str, Any]]:
        return list(self._ok(self.http.get(f"/_sim/sellers/{seller_id}/feeds"))["feeds"])

    def configure(self, **fields: Any) -> None:
        self._ok(self.http.post("/_sim/config", json=fields))

    def rate_limits(self, *, enforce: bool, speedup: float) -> None:
        self._ok(self.http.post("/_sim/rate-limits", json={"enforce": enforce, "speedup": speedup}))

    def fault(self, **spec: Any) -> None:
        self._ok(self.http.post("/_sim/faults", json=spec))

    def faults(self) -> list[dict[str, Any]]:
        return list(self._ok(self.http.get("/_sim/faults"))["faults"])

    def clear_faults(self) -> None:
        assert self.http.delete("/_sim/faults").status_code in (200, 204)

    def calls(self) -> dict[str, Any]:
        return dict(self._ok(self.http.get("/_sim/calls")))


# ------------------------------------------------------------------------------------------ SPEC §5, independently


@dataclass(frozen=True)
class Rules:
    buffer: int | None = None
    zero_at_or_below: int | None = None
    max_quantity: int | None = None

    def to_json(self) -> dict[str, int]:
        return {k: v for k, v in vars(self).items() if v is not None}


def sellable(sku: str, catalogue: Mapping[str, dict[str, Any]], rules: Rules, include_bundles: bool) -> int | None:
    """What §5.2 then §5.3 say to send for `sku`, or None when it is not sent (an excluded bundle)."""
    product = catalogue[sku]
    components = product.get("components")
    if components:
        if not include_bundles:
            return None
        quantity = min(max(0, catalogue[c["sku"]]["quantity_available"]) // c["quantity"] for c in components)
    else:
        quantity = max(0, product["quantity_available"])
    if rules.buffer is not None:
        quantity = max(0, quantity - rules.buffer)
    if rules.zero_at_or_below is not None and quantity <= rules.zero_at_or_below:
        quantity = 0
    if rules.max_quantity is not None:
        quantity = min(quantity, rules.max_quantity)
    return quantity


@dataclass(frozen=True)
class Listing:
    """One account's view for the oracle: the Amazon SKUs of its marketplace and its settings."""

    marketplace: str
    skus: frozenset[str]
    rules: Rules = Rules()
    include_bundles: bool = False


def expected_quantities(
    initial: Mapping[str, int], catalogue: Mapping[str, dict[str, Any]], accounts: list[Listing]
) -> dict[str, int]:
    """Amazon's quantities in a marketplace listing `initial` once the connector has synced `accounts`,
    those of one seller in the marketplace's region (§5.4: exact-case SKUs only; §5.5: one figure per
    SKU, the lowest the accounts listing it would send)."""
    figures: dict[str, list[int]] = {}
    for account in accounts:
        for sku in account.skus & catalogue.keys():
            quantity = sellable(sku, catalogue, account.rules, account.include_bundles)
            if quantity is not None:
                figures.setdefault(sku, []).append(quantity)
    return {sku: min(figures[sku]) if sku in figures else before for sku, before in initial.items()}
