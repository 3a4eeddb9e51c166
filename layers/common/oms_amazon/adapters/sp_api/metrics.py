"""What a seller's SP-API calls report: one event per attempt for a metrics hook, and the keys every log
line of a call carries."""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

if TYPE_CHECKING:
    from aws_lambda_powertools import Logger

    from oms_amazon.domain.marketplaces import Region

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
class CallObserver:
    """Reports one seller's calls in one region: events to the metrics hook (if any), keys to the logs."""

    seller_id: str
    region: Region
    hook: MetricsHook | None
    logger: Logger

    def keys(self, operation: str) -> dict[str, Any]:
        return {"operation": operation, "merchant_id": self.seller_id, "region": self.region}

    def emit(
        self,
        operation: str,
        outcome: CallOutcome,
        attempt: int,
        status: int | None = None,
        duration: float = 0.0,
        waited: float = 0.0,
        request_id: str | None = None,
    ) -> None:
        if self.hook is None:
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
            self.hook(event)
        except Exception:  # a broken metrics hook must not break the call it observes
            self.logger.exception("sp-api metrics hook failed", extra=self.keys(operation))
