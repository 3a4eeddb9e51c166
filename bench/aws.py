"""AWS for the benchmark: moto in process (`mock_aws`) with the template's tables, queues, keys, bus and
secrets (`local.stack.create_resources`), for the connector's real DynamoDB, KMS, Secrets Manager and
EventBridge adapters; DynamoDB's read and write capacity computed from item sizes; and the CPU time
spent outside the connector (moto, Amazon's simulator, this accounting), so that what remains of the
process's CPU time is the connector's own.

moto reports a fixed `ConsumedCapacity` whatever the item, so capacity is computed here from the items
themselves, as DynamoDB bills on-demand tables (https://docs.aws.amazon.com/amazondynamodb/latest/
developerguide/read-write-operations.html):

- a write: one WCU per 1 KB of the larger of the item before and after it, at least one; twice that in a
  transaction; a write refused by its condition still costs. Each global secondary index whose entry
  the write adds, removes or (projection not KEYS_ONLY) rewrites: one WCU per 1 KB of the entry, two
  writes when the entry's key moves.
- a read: one RCU per 4 KB of the item (GetItem, BatchGetItem) or of everything a Query or Scan
  examined in one request (rounded up once per request), half for an eventually consistent read, twice
  in a transaction; a read that finds nothing costs one unit's minimum. A projection does not reduce it:
  the whole item (or index entry) counts. For a Query with a filter, what it examined and dropped is
  estimated from what it returned (ScannedCount times the mean size returned; 1 KB each when none is).

Item sizes are moto's (`Item.size()`, the one its 400 KB limit is checked with: attribute names and
values in bytes, a number as its digits), read from moto's table by key, before the call for the
"before" side and after it for the "after" side.
"""

from __future__ import annotations

import base64
import contextlib
import copy
import json
import math
import os
import time
from collections import Counter
from collections.abc import Callable, Iterator
from typing import Any

from bench import moto_query
from bench.harness import BASE_URL

READ_UNIT, WRITE_UNIT = 4096, 1024
_WRITES = {"PutItem", "UpdateItem", "DeleteItem", "BatchWriteItem", "TransactWriteItems"}
# Operations whose answers moto builds as plain DynamoDB JSON (see `_fast_dynamodb_answers`).
_DATA_PLANE = {*_WRITES, "GetItem", "Query", "Scan", "BatchGetItem", "TransactGetItems"}


class CpuLedger:
    """CPU time the process spent on what is not the connector: the simulator answering for Amazon, moto
    answering for AWS, and the capacity accounting here. Nested sections count once."""

    def __init__(self) -> None:
        self.other = 0.0
        self._depth = 0
        self._started = 0.0

    @contextlib.contextmanager
    def outside(self) -> Iterator[None]:
        if self._depth == 0:
            self._started = time.process_time()
        self._depth += 1
        try:
            yield
        finally:
            self._depth -= 1
            if self._depth == 0:
                self.other += time.process_time() - self._started

    def wrap(self, function: Callable[..., Any]) -> Callable[..., Any]:
        def timed(*args: Any, **kwargs: Any) -> Any:
            with self.outside():
                return function(*args, **kwargs)

        return timed


LEDGER = CpuLedger()
_installed = False


def _b64(value: Any) -> Any:
    if isinstance(value, bytes | bytearray):
        return base64.b64encode(value).decode()
    raise TypeError(f"not JSON: {type(value).__name__}")


def install_moto_hooks() -> None:
    """Once per process: moto's handling of every AWS call is counted outside the connector, and moto
    answers DynamoDB's data-plane calls with `json.dumps` of the answer it built instead of walking the
    service model for every attribute value (about 0.8 ms an item, six times the rest of its work at a
    catalogue's size). The answer is the same DynamoDB JSON: moto builds it in the wire shape already."""
    global _installed
    if _installed:
        return
    from moto.core.botocore_stubber import BotocoreStubber
    from moto.core.responses import ActionResult
    from moto.dynamodb.responses import DynamoResult

    BotocoreStubber.__call__ = LEDGER.wrap(BotocoreStubber.__call__)  # type: ignore[method-assign]

    def execute_result(self: DynamoResult, context: Any) -> Any:
        if isinstance(self.result, dict) and context.operation_model.name in _DATA_PLANE:
            return 200, {"Content-Type": "application/x-amz-json-1.0"}, json.dumps(self.result, default=_b64)
        return ActionResult.execute_result(self, context)

    DynamoResult.execute_result = execute_result  # type: ignore[method-assign,assignment]
    _transactions_keep_items_not_tables()
    moto_query.install()
    _one_loader_and_one_filler_key()
    _installed = True


def _one_loader_and_one_filler_key() -> None:
    """What tests/conftest.py does for the in-process tests, for the same reasons: every case's fresh
    boto3 session shares one botocore loader (the service models are read from disk once), and moto gives
    every symmetric KMS key one filler RSA key pair instead of generating one (nothing uses it)."""
    import botocore.loaders
    import botocore.session
    import moto.kms.models
    from moto.kms.utils import KeySpec

    build = botocore.loaders.create_loader
    loaders: dict[Any, botocore.loaders.Loader] = {}

    def shared_loader(search_path_string: Any = None) -> botocore.loaders.Loader:
        if search_path_string not in loaders:
            loaders[search_path_string] = build(search_path_string)
        return loaders[search_path_string]

    botocore.session.create_loader = shared_loader
    generate = moto.kms.models.generate_private_key  # type: ignore[attr-defined]
    filler = generate("SYMMETRIC_DEFAULT")
    asymmetric = {KeySpec.RSA_2048, KeySpec.RSA_3072, KeySpec.RSA_4096, *KeySpec.ecc_key_specs()}

    def private_key(key_spec: str) -> Any:
        return generate(key_spec) if key_spec in asymmetric else filler

    moto.kms.models.generate_private_key = private_key  # type: ignore[attr-defined]


def _transactions_keep_items_not_tables() -> None:
    """moto backs up every table a transaction names (a deep copy of the whole table) before each
    TransactWriteItems, to roll back a cancelled one: quadratic in the table's size, and a gigabyte of
    copies for a backlog of orders each written in a transaction. Here only the items the transaction
    names are kept, and put back when it is cancelled: the same outcome, all or nothing."""
    from moto.dynamodb.models import DynamoDBBackend
    from moto.dynamodb.models.dynamo_type import DynamoType
    from moto.dynamodb.models.table import Table

    original = DynamoDBBackend.transact_write_items

    def transact_write_items(self: DynamoDBBackend, transact_items: list[dict[str, Any]]) -> None:
        kept: list[tuple[Any, Any, Any, Any]] = []  # table, hash key, range key, the item as it was
        for action in transact_items:
            (body,) = action.values()
            table = self.get_table(body["TableName"])
            named = body.get("Item") or body.get("Key") or {}
            if table.hash_key_attr not in named or (table.range_key_attr and table.range_key_attr not in named):
                continue  # moto refuses it, and changes nothing
            hash_key = DynamoType(named[table.hash_key_attr])
            range_key = DynamoType(named[table.range_key_attr]) if table.range_key_attr else None
            kept.append((table, hash_key, range_key, copy.deepcopy(table.get_item(hash_key, range_key))))
        Table.__deepcopy__ = lambda table, memo: table  # type: ignore[attr-defined]
        try:
            original(self, transact_items)
        except Exception:
            for table, hash_key, range_key, item in reversed(kept):
                table.delete_item(hash_key, range_key)
                if item is not None and range_key is not None:
                    table.items[hash_key][range_key] = item
                elif item is not None:
                    table.items[hash_key] = item
            raise
        finally:
            del Table.__deepcopy__  # type: ignore[attr-defined]

    DynamoDBBackend.transact_write_items = transact_write_items  # type: ignore[method-assign]


def _units(size: float, unit: int) -> int:
    return max(1, math.ceil(size / unit))


class DynamoCapacity:
    """Read and write capacity of every call one DynamoDB client makes, from the sizes of the items in
    moto's tables (see the module's docstring)."""

    def __init__(self, client: Any, ledger: CpuLedger = LEDGER) -> None:
        from moto.core.models import DEFAULT_ACCOUNT_ID
        from moto.dynamodb.models import dynamodb_backends

        self._backend = dynamodb_backends[DEFAULT_ACCOUNT_ID][client.meta.region_name]
        self._ledger = ledger
        self.rcu = 0.0
        self.wcu = 0.0
        self.by_operation: Counter[str] = Counter()
        client.meta.events.register("before-parameter-build.dynamodb", ledger.wrap(self._before))
        client.meta.events.register("after-call.dynamodb", ledger.wrap(self._after))

    def reset(self) -> None:
        self.rcu = self.wcu = 0.0
        self.by_operation.clear()

    def to_json(self) -> dict[str, Any]:
        return {"rcu": round(self.rcu, 1), "wcu": round(self.wcu, 1)}

    # ---- items in moto's tables
    def _table(self, name: str) -> Any:
        return self._backend.get_table(name)

    def _stored(self, table: Any, item_key: dict[str, Any]) -> Any:
        from moto.dynamodb.models.dynamo_type import DynamoType

        hash_value = item_key.get(table.hash_key_attr)
        if hash_value is None:
            return None
        range_value = item_key.get(table.range_key_attr) if table.range_key_attr else None
        if table.range_key_attr and range_value is None:
            return None
        return table.get_item(DynamoType(hash_value), DynamoType(range_value) if range_value is not None else None)

    @staticmethod
    def _entries(table: Any, item: Any) -> dict[str, tuple[tuple[Any, ...], int, bool]]:
        """The item's entry in each global secondary index holding it: (its key, its size, keys only)."""
        if item is None:
            return {}
        found = {}
        for index in table.global_indexes:
            names = index.schema_key_attrs
            if all(name in item.attrs for name in names):
                keys_only = (index.projection or {}).get("ProjectionType") == "KEYS_ONLY"
                value = tuple(str(item.attrs[name].value) for name in names)
                found[index.name] = (value, index.project(item).size(), keys_only)
        return found

    def _snapshot(self, table_name: str, item_key: dict[str, Any]) -> tuple[str, Any, int, dict[str, Any]]:
        table = self._table(table_name)
        item = self._stored(table, item_key)
        return table_name, item_key, item.size() if item is not None else 0, self._entries(table, item)

    # ---- the hooks
    def _before(self, params: dict[str, Any], model: Any, context: dict[str, Any], **_: Any) -> None:
        context["bench_params"] = params
        name = model.name
        if name not in _WRITES:
            return
        keys: list[tuple[str, dict[str, Any], bool]] = []  # table, key, transactional
        if name in ("PutItem", "UpdateItem", "DeleteItem"):
            keys.append((params["TableName"], self._key_of(params), False))
        elif name == "BatchWriteItem":
            for table_name, requests in params["RequestItems"].items():
                for request in requests:
                    body = request.get("PutRequest") or request.get("DeleteRequest") or {}
                    keys.append((table_name, body.get("Item") or body.get("Key") or {}, False))
        else:
            for action in params["TransactItems"]:
                (body,) = action.values()
                keys.append((body["TableName"], body.get("Item") or body.get("Key") or {}, True))
        context["bench_before"] = [(self._snapshot(t, k), transactional) for t, k, transactional in keys]

    @staticmethod
    def _key_of(params: dict[str, Any]) -> dict[str, Any]:
        return params.get("Key") or params.get("Item") or {}

    def _after(self, parsed: dict[str, Any], model: Any, context: dict[str, Any], **_: Any) -> None:
        name = model.name
        if name in _WRITES:
            units = 0.0
            for (table_name, written, before_size, before_entries), transactional in context.pop("bench_before", []):
                after_size, after_entries = self._snapshot(table_name, written)[2:]
                units += (2 if transactional else 1) * _units(max(before_size, after_size), WRITE_UNIT)
                for index in before_entries.keys() | after_entries.keys():
                    before, after = before_entries.get(index), after_entries.get(index)
                    if before is not None and after is not None and before[0] == after[0]:
                        units += 0 if before[2] else _units(max(before[1], after[1]), WRITE_UNIT)
                    else:
                        units += sum(_units(entry[1], WRITE_UNIT) for entry in (before, after) if entry)
            self.wcu += units
            self.by_operation[name] += 1
            return
        params = context.get("bench_params") or {}
        if name == "GetItem":
            self.rcu += self._item_read(params["TableName"], params["Key"], params.get("ConsistentRead", False))
        elif name == "BatchGetItem":
            for table_name, request in params["RequestItems"].items():
                for item_key in request["Keys"]:
                    self.rcu += self._item_read(table_name, item_key, request.get("ConsistentRead", False))
        elif name == "TransactGetItems":
            for action in params["TransactItems"]:
                body = action["Get"]
                self.rcu += 2 * self._item_read(body["TableName"], body["Key"], True)
        elif name in ("Query", "Scan"):
            self.rcu += self._query_read(params, parsed)
        else:
            return
        self.by_operation[name] += 1

    def _item_read(self, table_name: str, item_key: dict[str, Any], consistent: bool) -> float:
        table = self._table(table_name)
        item = self._stored(table, item_key)
        return (1.0 if consistent else 0.5) * _units(item.size() if item is not None else 0, READ_UNIT)

    def _query_read(self, params: dict[str, Any], parsed: dict[str, Any]) -> float:
        from moto.dynamodb.models.utilities import bytesize

        table = self._table(params["TableName"])
        index = next((i for i in table.global_indexes if i.name == params.get("IndexName")), None)
        returned = 0
        for found in parsed.get("Items", []):
            item = self._stored(table, found)
            if item is None:  # a projection without the table's keys: the size of what came back
                from moto.dynamodb.models.dynamo_type import DynamoType

                returned += sum(bytesize(k) + DynamoType(v).size() for k, v in found.items())
            else:
                returned += (index.project(item) if index is not None else item).size()
        count, scanned = parsed.get("Count", 0), parsed.get("ScannedCount", 0)
        examined = float(returned)
        if params.get("FilterExpression") and scanned > count:
            examined = returned * scanned / count if count else scanned * 1024.0
        consistent = params.get("ConsistentRead", False) and index is None
        return (1.0 if consistent else 0.5) * _units(examined, READ_UNIT)


class Aws:
    """moto for one case: the template's resources, the functions' environment, one DynamoDB client
    whose capacity is counted. Leaves the environment as it found it."""

    def __init__(self) -> None:
        import boto3
        from moto import mock_aws

        from local.stack import (
            aws_environment,
            create_resources,
            function_environments,
            local_parameters,
            physical_names,
        )

        install_moto_hooks()
        names = physical_names(local_parameters(BASE_URL))
        environment = {**aws_environment("unused"), **function_environments(names)}
        environment.pop("AWS_ENDPOINT_URL")
        self._saved = {name: os.environ.get(name) for name in [*environment, "AWS_ENDPOINT_URL"]}
        os.environ.pop("AWS_ENDPOINT_URL", None)
        os.environ.update(environment)
        from oms_amazon.settings import Settings

        self.settings = Settings.from_env()
        self._mock = mock_aws()
        self._mock.start()
        create_resources(names)
        self.dynamodb = boto3.client("dynamodb")
        self.capacity = DynamoCapacity(self.dynamodb)
        self.secretsmanager = boto3.client("secretsmanager")
        self.kms = boto3.client("kms")
        self.events = boto3.client("events")
        self.table = self.settings.table_name

    def close(self) -> None:
        self._mock.stop()
        for name, value in self._saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def resident_mb(field: str = "VmRSS") -> float:
    """This process's resident memory (VmRSS) or its peak since the last `reset_peak` (VmHWM), in MB."""
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith(field + ":"):
                return int(line.split()[1]) / 1024
    return 0.0


def reset_peak() -> bool:
    """Start VmHWM again from the current RSS (Linux: `5` to /proc/self/clear_refs); False when refused."""
    try:
        with open("/proc/self/clear_refs", "w") as refs:
            refs.write("5")
    except OSError:
        return False
    return True
