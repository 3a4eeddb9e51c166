"""Activation's guard rail (SPEC §4): an account goes active only where its seller sells, with Amazon's
answer kept a day per seller and region."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from oms_amazon.domain.accounts import Account
from oms_amazon.domain.authorisation import MarketplaceParticipation, Participations, SellerAuthorisationRevoked
from oms_amazon.domain.errors import Conflict
from oms_amazon.domain.marketplaces import Marketplace
from oms_amazon.services.participation import ParticipationGuard

from tests import builders

pytestmark = pytest.mark.unit

UK, DE, FR = "A1F83G8C2ARO7P", "A1PA6795UKMFR9", "A13V1IB3VIYZZH"
START = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)


class Amazon:
    def __init__(self, *marketplace_ids: str) -> None:
        self.selling = set(marketplace_ids)
        self.calls = 0
        self.revoked = False

    def participations(self, marketplace: Marketplace, merchant_id: str, token: str) -> list[MarketplaceParticipation]:
        self.calls += 1
        if self.revoked:
            raise SellerAuthorisationRevoked()
        return [MarketplaceParticipation(m, True, "Store") for m in sorted(self.selling)] + [
            MarketplaceParticipation("A1RKKUPIHCS9HS", False, None)
        ]


class Store:
    def __init__(self) -> None:
        self.items: dict[tuple[str, str, str], Participations] = {}

    def get(self, client_id: str, merchant_id: str, region: str) -> Participations | None:
        return self.items.get((client_id, merchant_id, region))

    def put(self, client_id: str, merchant_id: str, region: str, participations: Participations) -> None:
        self.items[(client_id, merchant_id, region)] = participations


class Clock:
    def __init__(self) -> None:
        self.now = START

    def __call__(self) -> datetime:
        return self.now


def account(marketplace: str) -> Account:
    return builders.account(f"acc-{marketplace}", marketplace, at=START)


def guard(amazon: Amazon) -> tuple[ParticipationGuard, Clock]:
    clock = Clock()
    return ParticipationGuard(Store(), amazon, clock), clock


def test_a_marketplace_the_seller_sells_on_passes_and_amazon_is_asked_once_a_day_per_region():
    amazon = Amazon(UK, DE)
    check, clock = guard(amazon)

    check.require(account("UK"), "token")
    check.require(account("DE"), "token")
    clock.now += timedelta(hours=23)
    check.require(account("UK"), "token")
    assert amazon.calls == 1
    clock.now += timedelta(hours=2)
    check.require(account("UK"), "token")
    assert amazon.calls == 2


def test_a_marketplace_the_seller_does_not_sell_on_is_refused_in_words():
    check, _ = guard(Amazon(UK))

    with pytest.raises(Conflict) as refused:
        check.require(account("FR"), "token")

    assert refused.value.code == "not_participating"
    assert "A2SELLERUK01" in str(refused.value) and FR in str(refused.value)


def test_a_marketplace_missing_from_a_kept_answer_is_asked_again_after_five_minutes_not_before():
    amazon = Amazon(UK)
    check, clock = guard(amazon)
    check.require(account("UK"), "token")
    with pytest.raises(Conflict):
        check.require(account("DE"), "token")
    assert amazon.calls == 1

    amazon.selling.add(DE)  # the seller registers on amazon.de
    clock.now += timedelta(minutes=6)
    check.require(account("DE"), "token")
    assert amazon.calls == 2


def test_a_revoked_authorisation_asks_for_authorise_now():
    amazon = Amazon(UK)
    amazon.revoked = True
    check, _ = guard(amazon)

    with pytest.raises(Conflict) as refused:
        check.require(account("UK"), "token")

    assert refused.value.code == "authorisation_required"
