"""What every function takes from its container: one boto3 client per AWS service and the clock.

Kept apart from `api.deps` and `wiring` so that a worker's handler reaches them without importing the
API's services, and boto3 (with botocore) is imported on the first client, not at import time.
"""

from __future__ import annotations

import threading
from datetime import UTC, datetime
from functools import cache
from typing import Any

# boto3's default session is not thread-safe: two clients built from it at once can fail inside
# botocore (a KeyError while it registers its components). A client, once built, is thread-safe.
_building = threading.Lock()


def utc_now() -> datetime:
    return datetime.now(UTC)


@cache
def aws_client(service: str) -> Any:
    import boto3

    with _building:
        return boto3.client(service)
