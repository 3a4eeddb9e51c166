"""moto's DynamoDB Query, made proportional to the partition it reads (bench process only).

moto answers every Query page by sorting the whole table (`Table.all_items`) with its own `DynamoType`
comparisons, then walking it from the first item to the page's start key: at 250,000 products one page
takes seconds, and a full catalogue read is quadratic. Here a page sorts only the candidates — the
partition's items for a table Query, the items holding the index's key for an index Query — by their
keys as Python values (a string as itself, a number as a `Decimal`), finds the start key by bisection,
and then builds the page exactly as moto does: the key condition, `Limit`, the 1 MB page, `ScannedCount`,
`LastEvaluatedKey`, the index's projection, the filter and the projection expression. What moto refuses
(an unknown index, a consistent read on a global index, binary keys, several key attributes) still goes
to moto's own Query. `tests/unit/test_bench_smoke.py` runs both on the same tables and compares.
"""

from __future__ import annotations

import bisect
import contextlib
import copy
from collections.abc import Callable, Iterator
from decimal import Decimal
from typing import Any

_MOTO_QUERY: Any = None  # moto's own Table.query, once `install` replaced it
passed_to_moto = 0  # Query pages this module left to moto's own Query


def _native(value: Any) -> Any:
    """A key attribute's value in DynamoDB's order: strings by code point (UTF-8 byte order for the
    Basic Multilingual Plane), numbers by value."""
    return Decimal(value.value) if value.type == "N" else value.value


@contextlib.contextmanager
def motos_own() -> Iterator[None]:
    """moto's own Query for a while (to compare the two)."""
    from moto.dynamodb.models.table import Table

    fast = Table.query
    Table.query = _MOTO_QUERY if _MOTO_QUERY is not None else fast  # type: ignore[method-assign]
    try:
        yield
    finally:
        Table.query = fast  # type: ignore[method-assign]


def install() -> None:
    global _MOTO_QUERY
    from moto.dynamodb.models.table import RESULT_SIZE_LIMIT, GlobalSecondaryIndex, Table

    if _MOTO_QUERY is not None:
        return
    original = _MOTO_QUERY = Table.query

    def query(
        self: Table,
        hash_key: Any,
        range_comparison: str | None,
        range_objs: list[Any],
        limit: int,
        exclusive_start_key: dict[str, Any],
        scan_index_forward: bool,
        projection_expressions: list[list[str]] | None,
        index_name: str | None = None,
        consistent_read: bool = False,
        filter_expression: Any = None,
        hash_key_conditions: list[tuple[str, Any]] | None = None,
        range_key_conditions: list[tuple[str, str, list[Any]]] | None = None,
        **filter_kwargs: Any,
    ) -> tuple[list[Any], int, dict[str, Any] | None]:
        plan = _plan(self, index_name, consistent_read, hash_key, hash_key_conditions, range_key_conditions)
        window = _window(range_comparison, range_objs)
        if plan is None or window is None or filter_kwargs or (range_comparison and plan[2] is None):
            global passed_to_moto
            passed_to_moto += 1
            return original(
                self,
                hash_key,
                range_comparison,
                range_objs,
                limit,
                exclusive_start_key,
                scan_index_forward,
                projection_expressions,
                index_name,
                consistent_read,
                filter_expression,
                hash_key_conditions,
                range_key_conditions,
                **filter_kwargs,
            )
        candidates, order, _ = plan
        keyed = ((tuple(_native(item.attrs[name]) for name in order), item) for item in candidates)
        ordered = sorted(keyed, key=_first)
        keys = [key for key, _ in ordered]
        low, high = window([key[0] for key in keys])  # the items the key condition holds for
        if exclusive_start_key is not None:
            from moto.dynamodb.models.dynamo_type import DynamoType

            after = tuple(_native(DynamoType(exclusive_start_key[name])) for name in order)
            if scan_index_forward:
                low = max(low, bisect.bisect_right(keys, after))
            else:
                high = min(high, bisect.bisect_left(keys, after))
        if scan_index_forward:
            page, beyond = ordered[low:high], ordered[max(high, low) :]
        else:
            page, beyond = ordered[low:high][::-1], ordered[: min(low, high)][::-1]
        results: list[Any] = []
        size = scanned = 0
        stopped = False
        for _, item in page:
            item_size = item.size()
            if len(results) == limit or size + item_size > RESULT_SIZE_LIMIT:
                stopped = True
                break
            results.append(item)
            size += item_size
            scanned += 1
        if not stopped and results:
            # moto walks on past the key condition's last item and stops (with a LastEvaluatedKey) at the
            # first one there when the page is full, or at one that would take it past 1 MB; an item is at
            # most 400 KB, so only a page past 624 KB needs to look.
            stopped = (len(results) == limit and bool(beyond)) or (
                size > RESULT_SIZE_LIMIT - 400 * 1024
                and any(size + item.size() > RESULT_SIZE_LIMIT for _, item in beyond)
            )
        last_key = self._get_last_evaluated_key(results[-1], index_name) if stopped else None
        results = copy.deepcopy(results)
        if index_name:
            index = self.get_index(index_name)
            results = [index.project(item) for item in results]
        if filter_expression is not None:
            results = [item for item in results if filter_expression.expr(item)]
        if projection_expressions:
            results = [item.project(projection_expressions) for item in results]
        return results, scanned, last_key

    def _plan(
        table: Table,
        index_name: str | None,
        consistent_read: bool,
        hash_key: Any,
        hash_key_conditions: list[tuple[str, Any]] | None,
        range_key_conditions: list[tuple[str, str, list[Any]]] | None,
    ) -> tuple[list[Any], list[str], str | None] | None:
        """The candidate items, the attributes they are ordered by, and the one the range condition
        applies to; None where moto's own Query should answer."""
        if range_key_conditions and len(range_key_conditions) > 1:
            return None
        if index_name is None:
            if not table.range_key_attr or hash_key is None:
                return None
            partition = table.items.get(hash_key)
            candidates = list(partition.values()) if partition else []
            order = [table.range_key_attr]
            range_attr: str | None = table.range_key_attr
        else:
            index = next((i for i in table.all_indexes() if i.name == index_name), None)
            if index is None or (consistent_read and isinstance(index, GlobalSecondaryIndex)):
                return None
            hashes = [key["AttributeName"] for key in index.schema if key["KeyType"] == "HASH"]
            ranges = [key["AttributeName"] for key in index.schema if key["KeyType"] == "RANGE"]
            if len(hashes) != 1 or len(ranges) > 1:
                return None
            (hash_name,) = hashes
            conditions = dict(hash_key_conditions or [(hash_name, hash_key)])
            if set(conditions) != {hash_name} or conditions[hash_name] is None:
                return None
            expected = conditions[hash_name]
            needed = [hash_name, *ranges]
            candidates = [
                item
                for item in _every_item(table)
                if hash_name in item.attrs
                and item.attrs[hash_name] == expected
                and all(name in item.attrs for name in needed)
            ]
            # moto's order: the index's sort key (else the table's sort key, else its partition key), then
            # the table's keys
            first = ranges or [table.range_key_attr or table.hash_key_attr]
            order = list(
                dict.fromkeys([*first, table.hash_key_attr, *([table.range_key_attr] if table.range_key_attr else [])])
            )
            range_attr = ranges[0] if ranges else None
        if any(item.attrs[name].type == "B" for item in candidates[:1] for name in order):
            return None
        return candidates, order, range_attr

    Table.query = query  # type: ignore[method-assign]


def _window(comparison: str | None, operands: list[Any]) -> Callable[[list[Any]], tuple[int, int]] | None:
    """Where, in the ascending values of the sort key, the key condition holds: a slice's bounds."""
    values = [_native(operand) for operand in operands]
    if comparison is None:
        return lambda firsts: (0, len(firsts))
    if comparison in ("EQ", "="):
        return lambda firsts: (bisect.bisect_left(firsts, values[0]), bisect.bisect_right(firsts, values[0]))
    if comparison in ("LT", "<"):
        return lambda firsts: (0, bisect.bisect_left(firsts, values[0]))
    if comparison in ("LE", "<="):
        return lambda firsts: (0, bisect.bisect_right(firsts, values[0]))
    if comparison in ("GT", ">"):
        return lambda firsts: (bisect.bisect_right(firsts, values[0]), len(firsts))
    if comparison in ("GE", ">="):
        return lambda firsts: (bisect.bisect_left(firsts, values[0]), len(firsts))
    if comparison == "BETWEEN":
        return lambda firsts: (bisect.bisect_left(firsts, values[0]), bisect.bisect_right(firsts, values[1]))
    if comparison == "BEGINS_WITH" and isinstance(values[0], str):
        prefix = values[0]

        def starting(firsts: list[Any]) -> tuple[int, int]:
            low = high = bisect.bisect_left(firsts, prefix)
            while high < len(firsts) and firsts[high].startswith(prefix):
                high += 1
            return low, high

        return starting
    return None


def _first(pair: tuple[Any, Any]) -> Any:
    return pair[0]


def _every_item(table: Any) -> list[Any]:
    if table.range_key_attr:
        return [item for partition in table.items.values() for item in partition.values()]
    return list(table.items.values())
