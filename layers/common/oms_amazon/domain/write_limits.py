"""Fairness: each client's writes and manual actions through the API are limited by a token bucket of its own.

A bucket refills `per_second` tokens a second up to `burst`; a request takes `cost` tokens (one for most, more
for a batch: `api.fairness`) or is refused. The bucket is kept as one number, its *theoretical arrival time*
`tat` (the generic cell rate algorithm): the moment it will be full again. With `interval = 1 / per_second`,

- the bucket holds `burst - max(0, tat - now) / interval` tokens, so a request of cost `c` is admitted at
  `now` when `tat <= now + (burst - c) * interval` (its `ceiling`);
- admitting it moves `tat` to `max(tat, now) + c * interval`: an idle bucket (`tat <= now`) is full, and
  idleness never adds credit beyond `burst`.

Over any stretch of `t` seconds a client is therefore admitted at most `burst + per_second * t` tokens.
One number is what one DynamoDB condition can test and one conditional UpdateItem can move, with no read
(`adapters.write_limits`). Times are whole microseconds since the epoch.

Pure: the time is given by the caller's clock.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

MICROSECONDS = 1_000_000
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_ONE_MICROSECOND = timedelta(microseconds=1)


def microseconds(moment: datetime) -> int:
    """Whole microseconds since the epoch, exactly (no float on the way)."""
    return (moment - _EPOCH) // _ONE_MICROSECOND


@dataclass(frozen=True, slots=True)
class Charge:
    """One request's draw on a bucket at one moment, in the numbers a conditional write needs."""

    cost: int
    now: int
    increment: int  # what admitting the request moves `tat` by: cost * interval
    ceiling: int  # the latest `tat` that still holds `cost` tokens at `now`
    full_by: int  # no `tat` this charge leaves is later: now + burst * interval

    def admits(self, tat: int | None) -> bool:
        return tat is None or tat <= self.ceiling

    def after(self, tat: int | None) -> int:
        """The bucket's `tat` once this charge is admitted."""
        return max(tat if tat is not None else self.now, self.now) + self.increment

    def retry_after(self, tat: int) -> int:
        """Whole seconds (at least 1, as `Retry-After` takes them) until a bucket at `tat` admits this charge."""
        return max(1, math.ceil((tat - self.ceiling) / MICROSECONDS))


@dataclass(frozen=True, slots=True)
class WriteLimit:
    """A client's sustained rate of tokens a second and the most it may spend at once."""

    per_second: float
    burst: int

    def __post_init__(self) -> None:
        if not (self.per_second > 0 and math.isfinite(self.per_second)):
            raise ValueError("A write limit's rate must be a positive number of tokens a second.")
        if self.burst < 1:
            raise ValueError("A write limit's burst must be at least one token.")

    @property
    def interval(self) -> int:
        """Microseconds per token, whole, so that `burst` requests at one instant take exactly `burst` tokens."""
        return max(1, round(MICROSECONDS / self.per_second))

    def charge(self, now: datetime, cost: int = 1) -> Charge:
        """The draw of a request costing `cost` tokens at `now`. A cost over the burst is the burst: a request
        no bucket could ever hold would be refused for good, so the largest batch waits for a full bucket."""
        cost = max(1, min(cost, self.burst))
        at = microseconds(now)
        return Charge(
            cost=cost,
            now=at,
            increment=cost * self.interval,
            ceiling=at + (self.burst - cost) * self.interval,
            full_by=at + self.burst * self.interval,
        )


def admit(tat: int | None, charge: Charge) -> tuple[bool, int | None]:
    """The bucket's rule on its own: whether a bucket at `tat` admits `charge`, and its `tat` after."""
    if not charge.admits(tat):
        return False, tat
    return True, charge.after(tat)
