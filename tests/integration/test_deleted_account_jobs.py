"""A job under way when its account is deleted writes nothing for it after the DELETE (SPEC §4.2), with
moto in process: the store refuses an account's run record and an imported order once the account's
tombstone exists (a condition in the same transaction), the stock-sync worker then stops before it sends
Amazon anything, and the order-import worker stops storing that account's orders while its sibling's go
on. What the store does not guard (a listing snapshot, the sent state) is the tick's sweep's, two hours
on (tests/integration/test_accounts_api.py). The same races over HTTP, through the concurrent local
stack: tests/e2e/test_races_over_http.py."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.conftest import CANARY_REFRESH_TOKEN, ApiCaller, all_items
from tests.integration.test_catalogue_reads import RecordingSeller
from tests.integration.test_concurrent_writes import SELLER, PagedOrderSearch, held_orders

pytestmark = pytest.mark.integration

CLIENT = "acme-outdoor"
DE_ID = "A1PA6795UKMFR9"


def connect(api: ApiCaller, marketplace: str = "UK") -> dict[str, Any]:
    body = {
        "merchant_id": SELLER,
        "marketplace": marketplace,
        "auth_token": CANARY_REFRESH_TOKEN,
        "active": True,
        "sync_stock": True,
    }
    status, account = api("POST", "/accounts", body)
    assert status == 201, account
    return account


def keys_of(dynamodb: Any, table: str, account_id: str) -> list[str]:
    return sorted(
        item["SK"]["S"]
        for item in all_items(dynamodb, table)
        if account_id in item["SK"]["S"] and not item["SK"]["S"].startswith("DELETEDACCOUNT#")
    )


def test_the_store_refuses_a_deleted_accounts_run_record_and_takes_back_the_errors_it_wrote(api, dynamodb, table_name):
    from oms_amazon import wiring
    from oms_amazon.domain.errors import AccountDeleted
    from oms_amazon.domain.stock_sync import SkuError, StockRun
    from oms_amazon.services.stock_sync.scheduler import new_run_id

    account = connect(api)
    now = datetime.now(UTC)
    run = StockRun(new_run_id(now), CLIENT, account["id"], "queued", "manual", now)
    wiring.container().stock_store.save_run(run)  # the account still exists: written
    assert keys_of(dynamodb, table_name, account["id"])
    assert api("DELETE", f"/accounts/{account['id']}")[0] == 204

    late = run.adding_errors([SkuError("TENT-2P", "feed_failed", "Amazon did not process the feed.")])
    with pytest.raises(AccountDeleted):
        wiring.container().stock_store.save_run(late.with_changes(status="done"))

    assert keys_of(dynamodb, table_name, account["id"]) == []


def test_a_delete_meeting_a_write_in_flight_on_its_items_is_a_503_to_retry_not_a_500() -> None:
    from oms_amazon.adapters.accounts import DynamoAccountRepository
    from oms_amazon.domain.accounts import Account, Authorisation
    from oms_amazon.domain.errors import DependencyUnavailable

    class InFlight:
        def transact_write_items(self, **_: Any) -> None:
            raise ClientError(
                {
                    "Error": {"Code": "TransactionCanceledException", "Message": "conflict"},
                    "CancellationReasons": [{"Code": "None"}, {"Code": "None"}, {"Code": "TransactionConflict"}],
                },
                "TransactWriteItems",
            )

    now = datetime.now(UTC)
    account = Account(
        id="0f8fad5bd9cb469fa16570867728950e",
        client_id=CLIENT,
        merchant_id=SELLER,
        marketplace="UK",
        name="UK",
        active=False,
        sync_stock=False,
        stock_sync_delay_minutes=15,
        include_bundles_in_stock_sync=False,
        import_orders=True,
        default_courier_service=None,
        stock_rules=None,
        authorisation=Authorisation.none(),
        created_at=now,
        updated_at=now,
    )

    with pytest.raises(DependencyUnavailable, match="retry the DELETE"):
        DynamoAccountRepository(InFlight(), "table").delete(account, now)


@pytest.fixture
def amazon(aws: None, monkeypatch: pytest.MonkeyPatch) -> RecordingSeller:
    from oms_amazon import wiring

    seller = RecordingSeller(listing=["TENT-2P", "MAT-BLUE"])
    monkeypatch.setattr(wiring.container(), "seller_amazon", lambda *_: seller)
    return seller


def test_a_stock_sync_whose_account_is_deleted_mid_run_sends_amazon_nothing_and_leaves_no_run(
    api, amazon, dynamodb, table_name, monkeypatch
):
    from oms_amazon import wiring
    from oms_amazon.domain.jobs import Job

    account = connect(api)
    for sku in amazon.listing:
        assert api("PUT", f"/products/{sku}", {"quantity_available": 4})[0] == 201
    status, queued = api("POST", f"/accounts/{account['id']}/stock-sync")
    assert status == 202, queued
    request_report = amazon.request_listings_report

    def deleted_meanwhile(marketplace_id: str) -> str:  # the worker has recorded the run's start by now
        assert api("DELETE", f"/accounts/{account['id']}")[0] == 204
        return request_report(marketplace_id)

    monkeypatch.setattr(amazon, "request_listings_report", deleted_meanwhile)

    wiring.container().stock_sync_worker.handle(
        Job(job="stock_sync", client_id=CLIENT, account_id=account["id"], run_id=queued["run_id"])
    )

    assert (amazon.patched, amazon.fed) == ({}, []), "Amazon was sent the stock of a deleted account"
    left = keys_of(dynamodb, table_name, account["id"])
    assert [key for key in left if key.startswith(("STOCKRUN", "RUNNOW"))] == []


@pytest.fixture
def importer(aws: None, monkeypatch: pytest.MonkeyPatch) -> Any:
    from oms_amazon import wiring

    class Importer:
        search = PagedOrderSearch([])

        def run(self) -> dict[str, int]:
            from oms_amazon.domain.jobs import ImportJob

            return wiring.container().order_import_worker.handle(
                ImportJob(job="order_import", client_id=CLIENT, merchant_id=SELLER, region="eu", trigger="schedule")
            )

    importer = Importer()
    monkeypatch.setattr(wiring.container(), "order_amazon", lambda *_: importer.search)
    return importer


def test_an_import_stops_storing_a_deleted_accounts_orders_and_goes_on_with_its_siblings(api, importer, monkeypatch):
    from oms_amazon import wiring
    from oms_amazon.adapters.orders import DynamoOrderRepository

    uk, de = connect(api), connect(api, "DE")
    uk_orders = held_orders(CLIENT, 4, batch=1)
    de_orders = [replace(o, marketplace_id=DE_ID) for o in held_orders(CLIENT, 4, batch=2)]
    # Amazon's search interleaves the marketplaces: UK, DE, UK, DE, ...
    importer.search = PagedOrderSearch([[o for pair in zip(uk_orders, de_orders, strict=True) for o in pair]])
    save = DynamoOrderRepository.save

    def uk_deleted_after_its_first_order(self: DynamoOrderRepository, order: Any, **kwargs: Any) -> Any:
        saved = save(self, order, **kwargs)
        if order.account_id == uk["id"] and api("GET", f"/accounts/{uk['id']}")[0] == 200:
            assert api("DELETE", f"/accounts/{uk['id']}")[0] == 204
        return saved

    monkeypatch.setattr(DynamoOrderRepository, "save", uk_deleted_after_its_first_order)

    stats = importer.run()

    assert (stats["new"], stats["account_deleted"]) == (1 + 4, 3)
    stored = {o.amazon_order_id: o.account_id for o in wiring.container().order_store.held(CLIENT)}
    assert sorted(stored.values()) == sorted([uk["id"]] + [de["id"]] * 4), "the UK order stored before the DELETE stays"
    assert api("GET", f"/accounts/{de['id']}")[1]["last_order_import_at"] is not None

    # An operator may still release the order that stays (§4.2): only the import is refused.
    kept = next(order_id for order_id, account_id in stored.items() if account_id == uk["id"])
    status, released = api("POST", f"/orders/{kept}/release", {"reason": "shipped by hand", "courier_service": "Evri"})
    assert (status, released["status"]) == (200, "ready")
