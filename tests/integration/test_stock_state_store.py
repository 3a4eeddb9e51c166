"""What was last sent to Amazon, stored per SKU with moto: no item near DynamoDB's 400 KB at any catalogue
size, a save writes only the SKUs that changed, an accepted feed costs no write per SKU, and the order of
writes never lets a crash turn an unsent or rejected quantity into an accepted one."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from oms_amazon.adapters import stock_state as store_module
from oms_amazon.adapters.stock_sync import DynamoStockSyncStore
from oms_amazon.domain.stock_sync import PendingFeed, SyncState
from oms_amazon.stock import LastSent

from tests.conftest import all_items

pytestmark = pytest.mark.integration

CLIENT, SELLER, REGION = "acme-outdoor", "A2SELLERUK01", "EU"
# From the test clock (whole seconds: what was sent is stored to the second), never a written date.
T0 = datetime.now(UTC).replace(microsecond=0) - timedelta(hours=1)


class Counting:
    """The DynamoDB client, counting the items each write puts or deletes; `fail_on` raises on a put_item of
    an item whose sort key ends so (a worker dying at that write)."""

    def __init__(self, client: Any, fail_on: str | None = None) -> None:
        self._client = client
        self.puts: list[str] = []
        self.deletes = 0
        self.fail_on = fail_on

    def put_item(self, **kwargs: Any) -> Any:
        sk = kwargs["Item"]["SK"]["S"]
        if self.fail_on and sk.endswith(self.fail_on):
            raise RuntimeError("the worker died here")
        self.puts.append(sk)
        return self._client.put_item(**kwargs)

    def batch_write_item(self, **kwargs: Any) -> Any:
        for requests in kwargs["RequestItems"].values():
            for request in requests:
                if "PutRequest" in request:
                    self.puts.append(request["PutRequest"]["Item"]["SK"]["S"])
                else:
                    self.deletes += 1
        return self._client.batch_write_item(**kwargs)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._client, name)

    def sku_puts(self) -> list[str]:
        return [sk.rsplit("#S#", 1)[1] for sk in self.puts if "#S#" in sk]


def sku(n: int) -> str:
    return f"SKU-{n:016d}"  # 20 characters, as in the catalogue that broke the single-item state


def feed(doc: str, quantities: dict[str, int], run: str = "run-1") -> PendingFeed:
    return PendingFeed(None, doc, run, "acct-uk", ("A1F83G8C2ARO7P",), quantities, T0)


@pytest.fixture
def store(dynamodb: Any, table_name: str) -> DynamoStockSyncStore:
    return DynamoStockSyncStore(dynamodb, table_name)


def seeded(store: DynamoStockSyncStore, n: int = 400) -> SyncState:
    state = store.state(CLIENT, SELLER, REGION)
    last_sent = {sku(i): LastSent(i, T0, "accepted") for i in range(n)}
    return store.save_state(replace(state, last_sent=last_sent), reconcile_after=None)


def test_a_state_reads_back_as_saved_with_every_feed_message_in_order(store, monkeypatch):
    monkeypatch.setattr(store_module, "MESSAGES_PER_CHUNK", 64)
    state = seeded(store)
    later = T0 + timedelta(minutes=15)
    quantities = {sku(i): 1000 + i for i in range(399, 99, -1)}  # 300 messages, not in SKU order
    last_sent = {**state.last_sent, **{s: LastSent(q, later, "in_flight") for s, q in quantities.items()}}
    last_sent[sku(0)] = LastSent(5, later, "rejected")
    pending = (feed("doc-1", quantities), feed("doc-2", {sku(1): 7}, run="run-2"))
    last_sent[sku(1)] = LastSent(7, later, "in_flight")
    store.save_state(replace(state, last_sent=last_sent, pending_feeds=pending), reconcile_after=later)

    again = store.state(CLIENT, SELLER, REGION)

    assert again.last_sent == last_sent
    assert [list(p.quantities.items()) for p in again.pending_feeds] == [list(q.quantities.items()) for q in pending]
    assert again.revision == state.revision + 1
    due = list(store.feeds_to_reconcile(later + timedelta(seconds=1)))
    assert due == [{"client_id": CLIENT, "merchant_id": SELLER, "region": REGION, "account_id": "acct-uk"}]


def test_a_save_writes_only_the_skus_that_changed(dynamodb, table_name):
    seeded(DynamoStockSyncStore(dynamodb, table_name))
    counting = Counting(dynamodb)
    store = DynamoStockSyncStore(counting, table_name)
    state = store.state(CLIENT, SELLER, REGION)
    later = T0 + timedelta(minutes=15)

    changed = {**state.last_sent, sku(3): LastSent(33, later, "accepted"), sku(7): LastSent(77, later, "rejected")}
    store.save_state(replace(state, last_sent=changed), reconcile_after=None)

    assert sorted(counting.sku_puts()) == [sku(3), sku(7)]
    assert len(counting.puts) == 3, "two SKUs and the head"
    assert store.state(CLIENT, SELLER, REGION).last_sent == changed


def test_an_accepted_feed_costs_no_write_per_sku_and_only_a_rejection_is_written(dynamodb, table_name, monkeypatch):
    monkeypatch.setattr(store_module, "MESSAGES_PER_CHUNK", 64)
    plain = DynamoStockSyncStore(dynamodb, table_name)
    state = seeded(plain)
    later = T0 + timedelta(minutes=15)
    quantities = {sku(i): 500 + i for i in range(300)}
    sent = {**state.last_sent, **{s: LastSent(q, later, "in_flight") for s, q in quantities.items()}}
    plain.save_state(replace(state, last_sent=sent, pending_feeds=(feed("doc-1", quantities),)), reconcile_after=later)
    counting = Counting(dynamodb)
    store = DynamoStockSyncStore(counting, table_name)
    pending = store.state(CLIENT, SELLER, REGION)

    # The report: every message accepted but one.
    settled = {s: replace(v, status="rejected" if s == sku(42) else "accepted") for s, v in pending.last_sent.items()}
    store.save_state(replace(pending, last_sent=settled, pending_feeds=()), reconcile_after=None)

    assert counting.sku_puts() == [sku(42)]
    assert counting.deletes == 5, "the feed's five chunks of messages"
    after = store.state(CLIENT, SELLER, REGION)
    assert after.last_sent == settled and after.pending_feeds == ()
    assert not [i for i in all_items(dynamodb, table_name) if "#F#" in i["SK"]["S"]]


def test_a_worker_dying_before_the_head_leaves_nothing_believed_sent_and_every_rejection_kept(dynamodb, table_name):
    plain = DynamoStockSyncStore(dynamodb, table_name)
    state = seeded(plain, 10)
    later = T0 + timedelta(minutes=15)
    quantities = {sku(1): 11, sku(2): 22}
    going = {**state.last_sent, **{s: LastSent(q, later, "in_flight") for s, q in quantities.items()}}
    going[sku(3)] = LastSent(3, later, "rejected")
    dying = DynamoStockSyncStore(Counting(dynamodb, fail_on=f"STOCKSTATE#{SELLER}#{REGION}"), table_name)

    with pytest.raises(RuntimeError):
        dying.save_state(
            replace(state, last_sent=going, pending_feeds=(feed("doc-1", quantities),)), reconcile_after=later
        )

    after = plain.state(CLIENT, SELLER, REGION)
    assert after.revision == state.revision and after.pending_feeds == ()
    assert (after.last_sent[sku(1)], after.last_sent[sku(2)]) == (state.last_sent[sku(1)], state.last_sent[sku(2)])
    assert after.last_sent[sku(3)].status == "rejected", "resent next run"


def test_a_second_writer_of_the_same_state_is_refused(store):
    state = seeded(store, 3)
    store.save_state(state, reconcile_after=None)
    from oms_amazon.domain.errors import Conflict

    with pytest.raises(Conflict):
        store.save_state(state, reconcile_after=None)


def test_no_item_nears_400_kb_however_large_the_catalogue():
    """A chunk of messages is the largest item: 4,000 pairs of Amazon's longest SKU (40 characters) and a
    seven-digit quantity, in DynamoDB's size rules (names and values in UTF-8 bytes, numbers about one byte
    per two digits); a SKU item holds one SKU."""
    longest = [["X" * 40, 9_999_999]] * store_module.MESSAGES_PER_CHUNK
    pk, sk = "CLIENT#" + "c" * 64, store_module._messages_sk(f"STOCKSTATE#{'M' * 20}#EU", "d" * 64, 99_999)
    size = len(pk) + len(sk) + len("PK") + len("SK") + len("m") + len(json.dumps(longest))
    assert size < 300_000
