"""A run's listing snapshots (SPEC §5.4): a seller's stale marketplaces ask Amazon for their listings
reports together and wait for them together, so five marketplaces take one report's time, not five."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import pytest
from oms_amazon.domain.stock_sync import ListingSnapshot, ReportOutcome
from oms_amazon.services.stock_sync.snapshots import ListingSnapshots, ListingsUnavailable

from fakes.builders import account
from fakes.stock_sync import FakeStockStore

pytestmark = pytest.mark.unit

MARKETPLACES = ("UK", "DE", "FR", "IT", "ES")


@dataclass
class ReportingAmazon:
    """Amazon's listings reports, each ready `preparing` seconds after it was asked for (or FATAL)."""

    clock: list[float]
    preparing: float = 60.0
    fatal: set[str] = field(default_factory=set)
    asked: dict[str, float] = field(default_factory=dict)  # report id -> when
    calls: list[str] = field(default_factory=list)

    def request_listings_report(self, marketplace_id: str) -> str:
        report_id = f"report-{marketplace_id}"
        self.asked[report_id] = self.clock[0]
        self.calls.append(f"createReport {marketplace_id}")
        return report_id

    def listings_report(self, report_id: str) -> ReportOutcome:
        self.calls.append(f"getReport {report_id}")
        if report_id in self.fatal:
            return ReportOutcome("failed", reason="FATAL")
        if self.clock[0] - self.asked[report_id] < self.preparing:
            return ReportOutcome("pending")
        return ReportOutcome("done", {f"SKU-{report_id}": "PRODUCT"})


def _snapshots(store: FakeStockStore, clock: list[float], start: datetime, poll_seconds: float) -> ListingSnapshots:
    def sleep(seconds: float) -> None:
        clock[0] += seconds

    return ListingSnapshots(store, lambda: start + timedelta(seconds=clock[0]), sleep, poll_seconds)


def test_five_marketplaces_ask_for_their_reports_first_and_are_read_within_one_reports_time() -> None:
    start = datetime.now(UTC)
    clock = [0.0]
    store = FakeStockStore()
    amazon = ReportingAmazon(clock)
    accounts = [account(f"acc-{code}", code, at=start) for code in MARKETPLACES]

    found = _snapshots(store, clock, start, poll_seconds=120).refreshed(accounts, amazon, force=False)

    assert [call.split()[0] for call in amazon.calls[:5]] == ["createReport"] * 5
    assert amazon.calls.count("createReport " + accounts[0].marketplace_id) == 1
    assert 60 <= clock[0] < 80  # one report's preparation and the last poll's back-off, not five
    for acc in accounts:
        current, replaced = found[acc.id]
        assert current.product_types == {f"SKU-report-{acc.marketplace_id}": "PRODUCT"} and replaced is None
        assert store.snapshot(acc.client_id, acc.merchant_id, acc.marketplace) == current


def test_reports_still_in_preparation_are_all_pending_for_the_next_run_and_a_fresh_snapshot_is_not_asked_again() -> (
    None
):
    start = datetime.now(UTC)
    clock = [0.0]
    store = FakeStockStore()
    amazon = ReportingAmazon(clock, preparing=600)
    fresh, *stale = [account(f"acc-{code}", code, at=start) for code in MARKETPLACES[:3]]
    store.save_snapshot(fresh.client_id, ListingSnapshot(fresh.merchant_id, fresh.marketplace, start, {"A": "P"}))

    with pytest.raises(ListingsUnavailable, match="listings_report_pending"):
        _snapshots(store, clock, start, poll_seconds=30).refreshed([fresh, *stale], amazon, force=False)

    assert sorted(amazon.asked) == sorted(f"report-{acc.marketplace_id}" for acc in stale)
    for acc in stale:  # each kept its report's id: the next run polls it instead of asking again
        pending = store.snapshot(acc.client_id, acc.merchant_id, acc.marketplace)
        assert pending is not None and pending.pending_report_id == f"report-{acc.marketplace_id}"


def test_a_fatal_report_keeps_that_marketplaces_last_snapshot_while_the_others_are_read_again() -> None:
    start = datetime.now(UTC)
    clock = [0.0]
    store = FakeStockStore()
    uk, de = account("acc-uk", "UK", at=start), account("acc-de", "DE", at=start)
    old = start - timedelta(days=2)
    for acc in (uk, de):
        store.save_snapshot(acc.client_id, ListingSnapshot(acc.merchant_id, acc.marketplace, old, {"OLD": "P"}))
    amazon = ReportingAmazon(clock, preparing=0, fatal={f"report-{de.marketplace_id}"})

    found = _snapshots(store, clock, start, poll_seconds=120).refreshed([uk, de], amazon, force=False)

    assert found[uk.id][0].product_types == {f"SKU-report-{uk.marketplace_id}": "PRODUCT"}
    assert found[uk.id][1] is not None and found[uk.id][1].product_types == {"OLD": "P"}
    assert found[de.id] == (store.snapshot(de.client_id, de.merchant_id, de.marketplace), None)
    assert found[de.id][0].product_types == {"OLD": "P"} and found[de.id][0].pending_report_id is None
    assert clock[0] == 0  # nothing was pending: no wait
