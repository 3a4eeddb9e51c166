"""A boto3 client and the clock, for the composition root (`oms_amazon.wiring`), which keeps one client per
AWS service. boto3 (with botocore) is imported with the first client, not at import time.
"""

from __future__ import annotations

import threading
from datetime import UTC, datetime
from typing import Any

# boto3's default session is not thread-safe: two clients built from it at once can fail inside
# botocore (a KeyError while it registers its components). A client, once built, is thread-safe.
_building = threading.Lock()


def utc_now() -> datetime:
    return datetime.now(UTC)


def new_client(service: str) -> Any:
    import boto3

    with _building:
        return boto3.client(service)
