"""What moto's server needs to stay correct when the local stack's functions call it from many threads
at once, and nothing more: DynamoDB, SQS and Secrets Manager serve concurrent requests safely, moto (5.2)
does not.

- **DynamoDB.** A table is plain dicts that a write changes in place (`UpdateItem` edits the stored
  item) while a read iterates and deep-copies them ("dictionary changed size during iteration", a 500);
  a conditional write reads the item, checks the condition and writes it with no lock, so two claims
  could both win; `TransactWriteItems` deep-copies every table it touches and rolls back by putting
  those copies back, erasing what other requests wrote meanwhile. So each table has a readers-writer
  lock: reads of a table run together, a write has the table to itself, other tables are untouched.
  Creating or deleting a table (and any action not listed here) has the whole catalogue to itself.
- **SQS.** `Queue.delete_message` rebuilds the message list without a lock, so a delete loses a
  message sent, or a delete made, at the same moment; `receive_message` decides which FIFO groups are
  busy once per long poll and edits the in-flight set unguarded, so two receives could both take one
  group. So each queue's actions that read or change its messages hold that queue's own lock (moto's
  `_messages_lock`, an RLock), and a long poll scans under it and waits outside it.
- **Secrets Manager.** A secret's versions and labels change in several steps per action, so its
  actions run one at a time (they are few: a token stored, read or withdrawn). One fidelity fix rides
  along: moving `AWSCURRENT` makes that version the current one for `GetSecretValue` (see
  `guard_secretsmanager`).
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from typing import Any

# Item actions and the tables they name (TableName, RequestItems or TransactItems).
DYNAMODB_READS = frozenset(
    {
        "GetItem",
        "BatchGetItem",
        "Query",
        "Scan",
        "TransactGetItems",
        "DescribeTable",
        "DescribeTimeToLive",
        "DescribeContinuousBackups",
    }
)
DYNAMODB_WRITES = frozenset({"PutItem", "UpdateItem", "DeleteItem", "BatchWriteItem", "TransactWriteItems"})

# A long poll looks again this often for a message whose visibility timeout ran out (a new message
# wakes it at once).
RECEIVE_RESCAN_SECONDS = 0.1


class ReadWriteLock:
    """Many readers or one writer; a waiting writer holds new readers back, so writes never starve."""

    def __init__(self) -> None:
        self._state = threading.Condition(threading.Lock())
        self._readers = 0
        self._writing = False
        self._writers_waiting = 0

    @contextmanager
    def reading(self) -> Iterator[None]:
        with self._state:
            while self._writing or self._writers_waiting:
                self._state.wait()
            self._readers += 1
        try:
            yield
        finally:
            with self._state:
                self._readers -= 1
                if not self._readers:
                    self._state.notify_all()

    @contextmanager
    def writing(self) -> Iterator[None]:
        with self._state:
            self._writers_waiting += 1
            while self._writing or self._readers:
                self._state.wait()
            self._writers_waiting -= 1
            self._writing = True
        try:
            yield
        finally:
            with self._state:
                self._writing = False
                self._state.notify_all()


class DynamoDBLocks:
    """The catalogue's lock, then one lock per table, always taken in that order (tables by name)."""

    def __init__(self) -> None:
        self.catalogue = ReadWriteLock()
        self._tables: dict[str, ReadWriteLock] = {}
        self._guard = threading.Lock()

    def table(self, name: str) -> ReadWriteLock:
        with self._guard:
            return self._tables.setdefault(name, ReadWriteLock())

    @contextmanager
    def for_request(self, action: str, body: dict[str, Any]) -> Iterator[None]:
        tables = sorted(tables_named(body))
        with ExitStack() as held:
            if action in DYNAMODB_READS | DYNAMODB_WRITES and tables:
                held.enter_context(self.catalogue.reading())
                for name in tables:
                    lock = self.table(name)
                    held.enter_context(lock.reading() if action in DYNAMODB_READS else lock.writing())
            elif action == "ListTables":
                held.enter_context(self.catalogue.reading())
            else:
                held.enter_context(self.catalogue.writing())
            yield


def tables_named(body: dict[str, Any]) -> set[str]:
    names = set()
    if isinstance(body.get("TableName"), str):
        names.add(body["TableName"])
    names.update(name for name in body.get("RequestItems") or {} if isinstance(name, str))
    for item in body.get("TransactItems") or []:
        for operation in item.values() if isinstance(item, dict) else []:
            if isinstance(operation, dict) and isinstance(operation.get("TableName"), str):
                names.add(operation["TableName"])
    return names


def guard_dynamodb() -> None:
    """Every DynamoDB action moto serves holds the locks of the tables it names (see the module)."""
    from moto.dynamodb.responses import DynamoHandler

    if getattr(DynamoHandler.call_action, "guarded", False):
        return
    locks = DynamoDBLocks()
    call_action = DynamoHandler.call_action

    def guarded(self: DynamoHandler) -> Any:
        target = self.headers.get("X-Amz-Target") or self.headers.get("x-amz-target") or ""
        try:
            body = json.loads(self.body or "{}")
        except ValueError:
            body = {}
        with locks.for_request(target.rsplit(".", 1)[-1], body if isinstance(body, dict) else {}):
            return call_action(self)

    guarded.guarded = True  # type: ignore[attr-defined]
    DynamoHandler.call_action = guarded  # type: ignore[method-assign]


def guard_sqs() -> None:
    """Each queue's receives, deletes, visibility changes and sends hold that queue's lock (see the
    module); a long poll releases it while it waits."""
    from moto.sqs.models import Queue, SQSBackend

    if getattr(SQSBackend.receive_message, "guarded", False):
        return
    add_message, delete_message = Queue.add_message, Queue.delete_message
    change_visibility, receive = SQSBackend.change_message_visibility, SQSBackend.receive_message

    def guarded_add(self: Queue, message: Any) -> None:
        with self._messages_lock:
            add_message(self, message)

    def guarded_delete(self: Queue, receipt_handle: str) -> None:
        with self._messages_lock:
            delete_message(self, receipt_handle)

    def guarded_visibility(self: SQSBackend, queue_name: str, receipt_handle: str, visibility_timeout: int) -> None:
        with self.get_queue(queue_name)._messages_lock:
            change_visibility(self, queue_name, receipt_handle, visibility_timeout)

    def guarded_receive(
        self: SQSBackend,
        queue_name: str,
        count: int,
        wait_seconds_timeout: int,
        visibility_timeout: int,
        message_attribute_names: list[str] | None = None,
    ) -> Any:
        queue = self.get_queue(queue_name)
        deadline = time.monotonic() + (wait_seconds_timeout or 0)
        with queue._messages_lock:
            while True:
                # Each scan sees the groups in flight now, not when the long poll began.
                found = receive(self, queue_name, count, 0, visibility_timeout, message_attribute_names)
                remaining = deadline - time.monotonic()
                if found or remaining <= 0:
                    return found
                queue._messages_lock.wait(min(remaining, RECEIVE_RESCAN_SECONDS))  # a send wakes it

    guarded_receive.guarded = True  # type: ignore[attr-defined]
    Queue.add_message = guarded_add  # type: ignore[method-assign]
    Queue.delete_message = guarded_delete  # type: ignore[method-assign]
    SQSBackend.change_message_visibility = guarded_visibility  # type: ignore[method-assign]
    SQSBackend.receive_message = guarded_receive  # type: ignore[method-assign]


def guard_secretsmanager() -> None:
    """Secrets Manager as the connector's token writes need it (`services/accounts.py`):

    - one action at a time: moto edits a secret's versions and their labels in place, several steps per
      action, so a `PutSecretValue` and an `UpdateSecretVersionStage` at once could leave a label on two
      versions or on none;
    - moving `AWSCURRENT` with `UpdateSecretVersionStage` makes that version the one `GetSecretValue`
      returns when no version is named, and the one the next `PutSecretValue` labels `AWSPREVIOUS`, as
      Secrets Manager does. moto (5.2) moves the label but keeps serving the version it last stored, so a
      token write withdrawn after a lost race still looked current."""
    from moto.secretsmanager.models import SecretsManagerBackend
    from moto.secretsmanager.responses import SecretsManagerResponse

    if getattr(SecretsManagerResponse.call_action, "guarded", False):
        return
    one_at_a_time = threading.RLock()
    call_action = SecretsManagerResponse.call_action
    update_stage = SecretsManagerBackend.update_secret_version_stage

    def guarded(self: SecretsManagerResponse) -> Any:
        with one_at_a_time:
            return call_action(self)

    def update_secret_version_stage(
        self: SecretsManagerBackend,
        secret_id: str,
        version_stage: str,
        remove_from_version_id: str,
        move_to_version_id: str,
    ) -> tuple[str, str]:
        answer = update_stage(self, secret_id, version_stage, remove_from_version_id, move_to_version_id)
        if version_stage == "AWSCURRENT" and move_to_version_id:
            secret: Any = self.secrets[secret_id]
            getattr(secret, "source", secret).set_default_version_id(move_to_version_id)  # a replica's source
        return answer

    guarded.guarded = True  # type: ignore[attr-defined]
    SecretsManagerResponse.call_action = guarded  # type: ignore[method-assign,assignment]
    SecretsManagerBackend.update_secret_version_stage = update_secret_version_stage  # type: ignore[method-assign]
