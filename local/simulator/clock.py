"""Simulated Amazon time.

Amazon's token buckets refill in seconds; a benchmark cannot wait hours for `createFeed`
(1 per 2 minutes). `ScaledClock` runs simulated time `speedup` times faster than the real clock it
reads, so a run reports how many *Amazon* seconds it would have taken. The real clock is injectable
(tests pass a manual one).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable


class ManualClock:
    """A real-clock stand-in for tests: time moves only when told to."""

    def __init__(self, start: float = 0.0) -> None:
        self._now = start

    def __call__(self) -> float:
        return self._now

    def advance(self, seconds: float) -> None:
        self._now += seconds


class ScaledClock:
    """Simulated seconds since construction (or the last reset), `speedup` times the real clock."""

    def __init__(self, real: Callable[[], float] = time.monotonic, speedup: float = 1.0) -> None:
        if speedup <= 0:
            raise ValueError("speedup must be positive")
        self._real = real
        self._lock = threading.Lock()
        self._speedup = speedup
        self._anchor_real = real()
        self._anchor_sim = 0.0

    @property
    def speedup(self) -> float:
        return self._speedup

    def now(self) -> float:
        with self._lock:
            return self._anchor_sim + (self._real() - self._anchor_real) * self._speedup

    def set_speedup(self, speedup: float) -> None:
        """Change the rate from now on; simulated time already elapsed is kept."""
        if speedup <= 0:
            raise ValueError("speedup must be positive")
        with self._lock:
            real_now = self._real()
            self._anchor_sim += (real_now - self._anchor_real) * self._speedup
            self._anchor_real = real_now
            self._speedup = speedup

    def reset(self) -> None:
        with self._lock:
            self._anchor_real = self._real()
            self._anchor_sim = 0.0

    def real_seconds_for(self, simulated: float) -> float:
        return simulated / self._speedup
