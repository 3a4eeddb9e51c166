"""Order events to the connector's EventBridge bus."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from oms_amazon.domain.errors import DependencyUnavailable

SOURCE = "oms.amazon-connector"


class EventBridgePublisher:
    def __init__(self, client: Any, bus_name: str) -> None:
        self._events = client
        self._bus = bus_name

    def publish(self, events: Sequence[dict[str, Any]]) -> None:
        """Outbox items -> PutEvents, ten at a time; any entry EventBridge refuses raises, so its
        outbox item stays for the next attempt."""
        for start in range(0, len(events), 10):
            batch = events[start : start + 10]
            entries = [
                {
                    "Source": SOURCE,
                    "DetailType": event["detail_type"],
                    "Detail": json.dumps(event["detail"], separators=(",", ":")),
                    "EventBusName": self._bus,
                    "Resources": [],
                }
                for event in batch
            ]
            try:
                response = self._events.put_events(Entries=entries)
            except (ClientError, BotoCoreError) as error:
                raise DependencyUnavailable("Order events could not be published; retry shortly.") from error
            if response.get("FailedEntryCount"):
                raise DependencyUnavailable("EventBridge refused some order events; they stay in the outbox.")
