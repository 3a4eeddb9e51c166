"""The locks the local stack puts around moto: reads of a table run together, a write has the table to
itself, a waiting write goes before readers that come after it, and each request takes the tables it
names."""

from __future__ import annotations

import threading
from collections.abc import Callable
from contextlib import AbstractContextManager

import pytest

from local.moto_threads import DynamoDBLocks, ReadWriteLock, tables_named
from tests.polling import eventually

DEADLINE = 10.0


def _holding(
    enter: Callable[[], AbstractContextManager[None]],
    name: str,
    order: list[str],
) -> tuple[threading.Thread, threading.Event]:
    """A thread that takes `enter()`, notes `name` in `order`, and holds it until the event is set."""
    release = threading.Event()

    def run() -> None:
        with enter():
            order.append(name)
            release.wait(DEADLINE)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return thread, release


def test_two_readers_of_a_table_hold_it_at_once() -> None:
    lock, order = ReadWriteLock(), list[str]()
    first, release_first = _holding(lock.reading, "first", order)
    second, release_second = _holding(lock.reading, "second", order)

    eventually(lambda: len(order) == 2, timeout=DEADLINE, what="both readers inside")
    release_first.set()
    release_second.set()
    first.join(DEADLINE)
    second.join(DEADLINE)


def test_a_writer_waits_for_the_readers_inside_and_goes_before_readers_that_come_after_it() -> None:
    lock, order = ReadWriteLock(), list[str]()
    reader, release_reader = _holding(lock.reading, "reader", order)
    eventually(lambda: order == ["reader"], timeout=DEADLINE, what="the reader inside")
    writer, release_writer = _holding(lock.writing, "writer", order)
    eventually(lambda: lock._writers_waiting == 1, timeout=DEADLINE, what="the writer waiting")
    late_reader, release_late = _holding(lock.reading, "late reader", order)
    release_late.set()
    # Both wait on the lock's condition: the writer for the reader inside, the late reader for the writer.
    eventually(lambda: len(lock._state._waiters) == 2, timeout=DEADLINE, what="the late reader waiting")  # type: ignore[attr-defined]

    assert order == ["reader"]
    release_reader.set()
    eventually(lambda: order == ["reader", "writer"], timeout=DEADLINE, what="the writer inside")
    release_writer.set()
    eventually(lambda: order == ["reader", "writer", "late reader"], timeout=DEADLINE, what="the late reader")
    for thread in (reader, writer, late_reader):
        thread.join(DEADLINE)


def test_a_request_names_its_tables_by_table_name_request_items_or_transaction_items() -> None:
    assert tables_named({"TableName": "t1"}) == {"t1"}
    assert tables_named({"RequestItems": {"t1": [], "t2": []}}) == {"t1", "t2"}
    assert tables_named({"TransactItems": [{"Put": {"TableName": "t2"}}, {"Update": {"TableName": "t3"}}]}) == {
        "t2",
        "t3",
    }
    assert tables_named({"Limit": 5}) == set()


def test_a_write_to_one_table_leaves_reads_and_writes_of_another_free() -> None:
    locks, order = DynamoDBLocks(), list[str]()
    writer, release_writer = _holding(lambda: locks.for_request("PutItem", {"TableName": "t1"}), "t1 write", order)
    eventually(lambda: order == ["t1 write"], timeout=DEADLINE, what="the write inside")
    other, release_other = _holding(lambda: locks.for_request("UpdateItem", {"TableName": "t2"}), "t2 write", order)

    eventually(lambda: order == ["t1 write", "t2 write"], timeout=DEADLINE, what="the other table's write inside")
    release_writer.set()
    release_other.set()
    writer.join(DEADLINE)
    other.join(DEADLINE)


@pytest.mark.integration
def test_secrets_manager_serves_the_version_awscurrent_was_moved_back_to_and_labels_it_previous_on_the_next_put(
    aws: None,
) -> None:
    import boto3

    sm = boto3.client("secretsmanager")
    first, withdrawn, later = ("1" * 32, "2" * 32, "3" * 32)
    sm.create_secret(Name="seller", SecretString="first", ClientRequestToken=first)
    sm.put_secret_value(SecretId="seller", SecretString="withdrawn", ClientRequestToken=withdrawn)

    sm.update_secret_version_stage(
        SecretId="seller", VersionStage="AWSCURRENT", RemoveFromVersionId=withdrawn, MoveToVersionId=first
    )

    current = sm.get_secret_value(SecretId="seller")
    assert (current["VersionId"], current["SecretString"]) == (first, "first")
    sm.put_secret_value(SecretId="seller", SecretString="later", ClientRequestToken=later)
    stages = sm.describe_secret(SecretId="seller")["VersionIdsToStages"]
    assert {version: sorted(labels) for version, labels in stages.items() if labels} == {
        first: ["AWSPREVIOUS"],
        later: ["AWSCURRENT"],
    }
