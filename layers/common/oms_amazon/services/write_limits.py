"""Fairness (SPEC §7): one client's writes and manual actions never use up another's. Each request that may
write is charged to the client it acts for, before it does anything; over the limit it is refused with the
seconds after which it would be admitted."""

from __future__ import annotations

from oms_amazon.domain.errors import RateLimited
from oms_amazon.domain.write_limits import WriteLimit
from oms_amazon.observability import logger
from oms_amazon.ports import Clock, WriteBuckets


class WriteLimiter:
    def __init__(self, buckets: WriteBuckets, limit: WriteLimit, clock: Clock) -> None:
        self._buckets = buckets
        self._limit = limit
        self._clock = clock

    @property
    def limit(self) -> WriteLimit:
        return self._limit

    def charge(self, client_id: str, cost: int = 1) -> None:
        """Take `cost` tokens from the client's bucket, or raise `RateLimited` having changed nothing."""
        charge = self._limit.charge(self._clock(), cost)
        refused_by = self._buckets.take(client_id, charge)
        if refused_by is None:
            return
        retry_after = charge.retry_after(refused_by)
        logger.info(
            "write refused by the client's rate limit",
            extra={"client_id": client_id, "cost": charge.cost, "retry_after": retry_after},
        )
        raise RateLimited(
            f"Too many writes for this client: {_rate(self._limit.per_second)} a second on average and at most "
            f"{self._limit.burst} at once are allowed. Retry after {retry_after} seconds.",
            retry_after=retry_after,
        )


def _rate(per_second: float) -> str:
    return f"{per_second:g}"
