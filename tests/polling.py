"""Waiting for a condition in a test: poll it until a deadline, never sleep a fixed time and hope."""

from __future__ import annotations

import time
from collections.abc import Callable


def eventually[T](condition: Callable[[], T], *, timeout: float = 10, every: float = 0.02, what: str = "") -> T:
    """The first truthy value `condition` returns; fails the test if none comes within `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() >= deadline:
            raise AssertionError(f"not within {timeout} s: {what or condition}")
        time.sleep(every)
