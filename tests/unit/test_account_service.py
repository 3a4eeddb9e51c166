"""The accounts service with recording fakes: a refused or failed request changes nothing."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime

import pytest
from oms_amazon.domain.accounts import classify_token
from oms_amazon.domain.errors import Conflict, DependencyUnavailable
from oms_amazon.services.accounts import AccountChanges, AccountService

from fakes import FakeAccounts, FakeSecrets
from tests.builders import new_account

pytestmark = pytest.mark.unit

FIRST = classify_token("Atzr|IwEBIFirstRefreshToken0000000001")
SECOND = classify_token("Atzr|IwEBISecondRefreshToken000000002")


@pytest.fixture
def accounts() -> FakeAccounts:
    return FakeAccounts()


@pytest.fixture
def secrets() -> FakeSecrets:
    return FakeSecrets()


@pytest.fixture
def service(accounts: FakeAccounts, secrets: FakeSecrets) -> AccountService:
    ids = (f"acc{n}" for n in itertools.count(1))
    return AccountService(accounts, secrets, clock=lambda: datetime(2026, 11, 29, tzinfo=UTC), new_id=lambda: next(ids))


def test_when_the_table_write_fails_for_a_new_seller_no_account_names_the_token_it_stored(service, accounts):
    accounts.fail_next_write = True

    with pytest.raises(DependencyUnavailable):
        service.create("acme", new_account("A2SELLERUK01", "UK", token=FIRST))

    assert accounts.accounts == {}


def test_every_account_of_the_seller_reads_the_version_of_the_secret_stored_with_it(service, secrets):
    uk = service.create("acme", new_account("A2SELLERUK01", "UK", token=FIRST))
    de = service.create("acme", new_account("A2SELLERUK01", "DE"))
    service.update("acme", de.id, AccountChanges(token=SECOND))

    versions = {service.get("acme", a.id).secret_version for a in (uk, de)}
    assert len(versions) == 1
    assert secrets.get("acme", "A2SELLERUK01", versions.pop()) == SECOND


def test_when_the_table_write_fails_the_previous_token_is_current_again(service, accounts, secrets):
    account = service.create("acme", new_account("A2SELLERUK01", "UK", token=FIRST))
    accounts.fail_next_write = True

    with pytest.raises(DependencyUnavailable):
        service.update("acme", account.id, AccountChanges(token=SECOND))

    assert secrets.get("acme", "A2SELLERUK01") == FIRST
    assert service.get("acme", account.id) == account
    assert secrets.get("acme", "A2SELLERUK01", account.secret_version) == FIRST


def test_a_failed_token_write_never_takes_back_a_token_another_request_stored_meanwhile(service, accounts, secrets):
    account = service.create("acme", new_account("A2SELLERUK01", "UK", token=FIRST))
    racing = classify_token("Atzr|IwEBIRacingRefreshToken0000003")

    def stored_meanwhile_then_refused(*args: object, **kwargs: object) -> None:
        secrets.put("acme", "A2SELLERUK01", racing)
        raise Conflict("stale", code="version_conflict")

    accounts.update = stored_meanwhile_then_refused  # type: ignore[method-assign]

    with pytest.raises(Conflict):
        service.update("acme", account.id, AccountChanges(token=SECOND))

    assert secrets.get("acme", "A2SELLERUK01") == racing


def test_a_duplicate_is_refused_before_any_secret_is_written(service, secrets):
    service.create("acme", new_account("A2SELLERUK01", "UK"))

    with pytest.raises(Exception, match="already exists"):
        service.create("acme", new_account("A2SELLERUK01", "UK", token=FIRST))

    assert secrets.tokens == {}


def test_deleting_the_last_account_of_a_seller_removes_its_secret(service, secrets):
    uk = service.create("acme", new_account("A2SELLERUK01", "UK", token=FIRST))
    de = service.create("acme", new_account("A2SELLERUK01", "DE"))

    service.delete("acme", uk.id)
    assert ("acme", "A2SELLERUK01") in secrets.tokens
    service.delete("acme", de.id)
    assert secrets.tokens == {}
