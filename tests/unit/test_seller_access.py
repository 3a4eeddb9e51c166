"""A seller's Amazon as the workers reach it (oms_amazon.services.seller_access): opened only with the SP-API
refresh token of the secret version the account records, and the whole seller paused when Amazon rejects it."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pytest
from oms_amazon.domain.accounts import SellerToken
from oms_amazon.domain.marketplaces import Marketplace
from oms_amazon.services import seller_access
from oms_amazon.services.seller_access import SellerAccess

from fakes import FakeAccounts, FakeRejections, FakeSecrets, account
from fakes.builders import CLIENT, SELLER

pytestmark = pytest.mark.unit

REFRESH_TOKEN = "Atzr|IwEBISellerAccessRefreshToken-0001"
NEWER_REFRESH_TOKEN = "Atzr|IwEBISellerAccessRefreshToken-0002"
MWS_TOKEN = "amzn.mws.4ea38b7b-f563-7709-4bae-87aea1b2c3d4"


@dataclass
class Opened:
    """Amazon as the factory opened it, for one seller and region."""

    marketplace: str
    merchant_id: str
    refresh_token: str


@dataclass
class Factory:
    """The worker's factory of its Amazon port, recording what it opened."""

    opened: list[Opened] = field(default_factory=list)

    def __call__(self, marketplace: Marketplace, merchant_id: str, refresh_token: str) -> Opened:
        self.opened.append(Opened(marketplace.code, merchant_id, refresh_token))
        return self.opened[-1]


@dataclass
class Seller:
    secrets: FakeSecrets
    amazon: Factory
    accounts: FakeAccounts
    rejections: FakeRejections
    access: SellerAccess[Opened]


@pytest.fixture
def seller() -> Seller:
    secrets, amazon, accounts = FakeSecrets(), Factory(), FakeAccounts()
    rejections = FakeRejections(accounts)
    return Seller(secrets, amazon, accounts, rejections, SellerAccess(secrets, amazon, rejections))


def test_the_sellers_amazon_is_opened_with_the_refresh_token_of_the_version_the_account_records(
    seller: Seller,
) -> None:
    version = seller.secrets.put(CLIENT, SELLER, SellerToken(REFRESH_TOKEN, "sp_api_refresh_token"))
    seller.secrets.put(CLIENT, SELLER, SellerToken(NEWER_REFRESH_TOKEN, "sp_api_refresh_token"))

    opened = seller.access.open(account(marketplace="DE", secret_version=version))

    assert opened == Opened("DE", SELLER, REFRESH_TOKEN)
    assert seller.amazon.opened == [opened]


def test_without_a_stored_token_amazon_is_not_opened(seller: Seller) -> None:
    assert seller.access.open(account()) is None
    assert seller.amazon.opened == []


def test_a_token_of_another_type_than_an_sp_api_refresh_token_does_not_open_amazon(seller: Seller) -> None:
    version = seller.secrets.put(CLIENT, SELLER, SellerToken(MWS_TOKEN, "mws_auth_token"))

    assert seller.access.open(account(secret_version=version)) is None
    assert seller.amazon.opened == []


def test_a_version_of_another_sellers_secret_does_not_open_amazon(seller: Seller) -> None:
    version = seller.secrets.put(CLIENT, "A2OTHERSELLER", SellerToken(REFRESH_TOKEN, "sp_api_refresh_token"))

    assert seller.access.open(account(secret_version=version)) is None
    assert seller.amazon.opened == []


def test_the_callers_own_condition_keeps_amazon_closed_even_with_a_usable_token(seller: Seller) -> None:
    version = seller.secrets.put(CLIENT, SELLER, SellerToken(REFRESH_TOKEN, "sp_api_refresh_token"))

    assert seller.access.open(account(secret_version=version), authorised=False) is None
    assert seller.amazon.opened == []


def test_a_rejection_pauses_every_account_of_the_seller_through_the_rejections_port_and_is_counted(
    seller: Seller, monkeypatch: pytest.MonkeyPatch
) -> None:
    counted: list[tuple[str, Any]] = []
    monkeypatch.setattr(seller_access, "count", lambda name, *args, **dimensions: counted.append((name, args)))
    uk = seller.accounts.add(account("acc1", "UK"))
    seller.accounts.add(account("acc2", "DE"))
    seller.accounts.add(account("acc3", "UK", merchant_id="A2OTHERSELLER"))

    paused = seller.access.reject(uk)

    assert seller.rejections.rejected == [(CLIENT, SELLER)]
    assert sorted((a.id, a.authorisation.status) for a in paused) == [("acc1", "rejected"), ("acc2", "rejected")]
    other_seller = seller.accounts.get(CLIENT, "acc3")
    assert other_seller is not None and other_seller.authorisation.status == "ok"
    assert counted == [("AuthorisationsRejected", ())]
