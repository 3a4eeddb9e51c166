"""What every function takes from its container: one boto3 client per AWS service and the clock.

Kept apart from `api.deps` and `wiring` so that a worker's handler reaches them without importing the
API's services, and boto3 (with botocore) is imported on the first client, not at import time.
"""

from __future__ import annotations

from datetime import UTC, datetime
from functools import cache
from typing import Any


def utc_now() -> datetime:
    return datetime.now(UTC)


@cache
def aws_client(service: str) -> Any:
    import boto3

    return boto3.client(service)
