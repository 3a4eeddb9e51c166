"""A strict stand-in for the connector's DynamoDB client: a Query or Scan may start only at a key DynamoDB
itself returned, for that table and index.

moto pages from whatever `ExclusiveStartKey` it is given — a key never returned, one of another partition, one
with an attribute too many or of another type — where DynamoDB refuses a key that does not fit (`ValidationException:
The provided starting key is invalid`). A fuzz of `next_token` over moto alone could therefore pass with a token
that would be a 500 on AWS. Under this stand-in every start key must be, exactly (attribute types included), a
`LastEvaluatedKey` a Query or Scan of the same table and index answered: stricter than DynamoDB, so a route that
passes here builds its start keys only from what DynamoDB gave it. Anything else is refused as DynamoDB refuses
it, and recorded.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from botocore.exceptions import ClientError

INVALID_START_KEY = "The provided starting key is invalid"


class StartKeys:
    """What the stand-in saw: every `LastEvaluatedKey` returned and every start key checked or refused."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._returned: set[tuple[str, str | None, str]] = set()
        self.checked = 0
        self.refused: list[str] = []

    def around(self, client: Any) -> StrictDynamoDB:
        return StrictDynamoDB(client, self)

    def admit(self, table: str, index: str | None, start: dict[str, Any], operation: str) -> None:
        with self._lock:
            self.checked += 1
            if (table, index, _canonical(start)) in self._returned:
                return
            self.refused.append(f"{operation} {table} {index or ''}: {_canonical(start)}")
        raise ClientError({"Error": {"Code": "ValidationException", "Message": INVALID_START_KEY}}, operation)

    def returned(self, table: str, index: str | None, last: dict[str, Any]) -> None:
        with self._lock:
            self._returned.add((table, index, _canonical(last)))


class StrictDynamoDB:
    """The DynamoDB client with DynamoDB's rule on start keys kept (see the module); everything else passes."""

    def __init__(self, client: Any, keys: StartKeys) -> None:
        self._client = client
        self._keys = keys

    def __getattr__(self, name: str) -> Any:
        return getattr(self._client, name)

    def query(self, **request: Any) -> Any:
        return self._paged("Query", self._client.query, request)

    def scan(self, **request: Any) -> Any:
        return self._paged("Scan", self._client.scan, request)

    def _paged(self, operation: str, call: Any, request: dict[str, Any]) -> Any:
        table, index = request["TableName"], request.get("IndexName")
        if "ExclusiveStartKey" in request:
            self._keys.admit(table, index, request["ExclusiveStartKey"], operation)
        response = call(**request)
        if response.get("LastEvaluatedKey"):
            self._keys.returned(table, index, response["LastEvaluatedKey"])
        return response


@contextmanager
def strict_start_keys() -> Iterator[StartKeys]:
    """Every DynamoDB client the functions build (the API's, the workers': the containers made while it lasts)
    is the strict stand-in."""
    from oms_amazon import wiring, wiring_adapters

    keys = StartKeys()
    built = wiring_adapters.new_client

    def new_client(service: str) -> Any:
        client = built(service)
        return keys.around(client) if service == "dynamodb" else client

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(wiring_adapters, "new_client", new_client)
        wiring.install(None)
        yield keys
    wiring.install(None)


def _canonical(key: dict[str, Any]) -> str:
    return json.dumps(key, sort_keys=True, separators=(",", ":"), default=repr)
