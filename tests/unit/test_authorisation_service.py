"""Authorise Now's service with recording fakes (SPEC §4.2, §4.4): what is checked before anything is
stored, what a completed consent changes, and what a rejected authorisation does."""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
from oms_amazon.domain.accounts import classify_token
from oms_amazon.domain.authorisation import MarketplaceParticipation, SellerAuthorisationRevoked, Verification
from oms_amazon.domain.errors import Conflict, InvalidInput, NotFound
from oms_amazon.domain.marketplaces import Marketplace
from oms_amazon.domain.oauth_state import InvalidState, StateClaims
from oms_amazon.services.accounts import AccountChanges, AccountService
from oms_amazon.services.authorisation import AuthorisationService

from fakes import FakeAccounts, FakeRejections, FakeSecrets
from tests.builders import new_account

pytestmark = pytest.mark.unit

SELLER = "A2SELLERUK01"
REFRESH = classify_token("Atzr|IwEBIFromTheConsentCode000000001")
OLD = classify_token("Atzr|IwEBIAnOlderRefreshToken00000002")
CODE = "ANdNAVhyhqirUelHGEHA"
UK, DE = "A1F83G8C2ARO7P", "A1PA6795UKMFR9"


class Clock:
    def __init__(self) -> None:
        self.now = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now


@dataclass
class FakeAmazon:
    codes: dict[str, str] = field(default_factory=lambda: {CODE: REFRESH.value})
    valid_tokens: set[str] = field(default_factory=lambda: {REFRESH.value, OLD.value})
    participating: list[MarketplaceParticipation] = field(
        default_factory=lambda: [MarketplaceParticipation(UK, True, "Acme Outdoor")]
    )
    exchanged: list[str] = field(default_factory=list)
    asked: list[tuple[str, str]] = field(default_factory=list)

    def application_id(self) -> str:
        return "amzn1.sp.solution.local"

    def exchange_code(self, code: str, redirect_uri: str | None = None) -> str:
        self.exchanged.append(code)
        if code not in self.codes:
            raise InvalidInput("refused", code="authorisation_code_rejected")
        return self.codes.pop(code)

    def participations(self, marketplace: Marketplace, merchant_id: str, refresh_token: str):
        self.asked.append((marketplace.code, merchant_id))
        if refresh_token not in self.valid_tokens:
            raise SellerAuthorisationRevoked()
        return list(self.participating)


class FakeKey:
    def key(self) -> bytes:
        return b"unit-test-state-signing-key-0123456789"


@dataclass
class FakeUsedStates:
    used: set[str] = field(default_factory=set)

    def consume(self, claims: StateClaims, used_at: datetime) -> bool:
        if claims.nonce in self.used:
            return False
        self.used.add(claims.nonce)
        return True


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def accounts() -> FakeAccounts:
    return FakeAccounts()


@pytest.fixture
def secrets() -> FakeSecrets:
    return FakeSecrets()


@pytest.fixture
def amazon() -> FakeAmazon:
    return FakeAmazon()


@pytest.fixture
def used() -> FakeUsedStates:
    return FakeUsedStates()


@pytest.fixture
def rejections(accounts: FakeAccounts) -> FakeRejections:
    return FakeRejections(accounts)


@pytest.fixture
def account_service(accounts, secrets, clock) -> AccountService:
    ids = (f"acc{n}" for n in itertools.count(1))
    return AccountService(accounts, secrets, clock=clock, new_id=lambda: next(ids))


@pytest.fixture
def service(account_service, secrets, amazon, used, rejections, clock) -> AuthorisationService:
    nonces = (f"nonce-{n:016d}" for n in itertools.count(1))
    return AuthorisationService(
        accounts=account_service,
        secrets=secrets,
        amazon=amazon,
        state_key=FakeKey(),
        used_states=used,
        rejections=rejections,
        clock=clock,
        nonce=lambda: next(nonces),
    )


def state_of(consent_url: str) -> str:
    return parse_qs(urlsplit(consent_url).query)["state"][0]


def test_starting_gives_the_consent_url_of_the_accounts_seller_central_with_a_ten_minute_state(
    service, account_service, clock
):
    account = account_service.create("acme", new_account(SELLER, "DE"))

    consent = service.start("acme", account.id)

    assert consent.consent_url.startswith("https://sellercentral-europe.amazon.com/apps/authorize/consent?")
    assert state_of(consent.consent_url) == consent.state
    assert consent.expires_at == clock.now + timedelta(minutes=10)


def test_another_clients_account_cannot_be_authorised(service, account_service):
    account = account_service.create("acme", new_account(SELLER, "UK"))

    with pytest.raises(NotFound):
        service.start("rival", account.id)


def test_completing_stores_the_token_and_authorises_every_account_of_the_clients_seller(
    service, account_service, secrets, amazon
):
    uk = account_service.create("acme", new_account(SELLER, "UK"))
    de = account_service.create("acme", new_account(SELLER, "DE"))
    other_client = account_service.create("rival", new_account(SELLER, "UK"))

    authorised = service.complete(service.start("acme", uk.id).state, CODE, SELLER)

    assert amazon.exchanged == [CODE]
    assert secrets.get("acme", SELLER) == REFRESH
    assert authorised.marketplaces == ("DE", "UK")
    assert authorised.account.authorisation.status == "ok"
    assert account_service.get("acme", de.id).authorisation.status == "ok"
    assert account_service.get("rival", other_client.id).authorisation.status == "authorisation_required"
    assert secrets.get("rival", SELLER) is None


def test_a_rejected_seller_is_cleared_by_authorising_again(service, account_service, accounts, rejections):
    uk = account_service.create("acme", new_account(SELLER, "UK", token=OLD))
    rejections.reject("acme", SELLER)
    assert account_service.get("acme", uk.id).authorisation.status == "rejected"

    service.complete(service.start("acme", uk.id).state, CODE, SELLER)

    assert account_service.get("acme", uk.id).authorisation.status == "ok"


def test_a_consent_for_another_seller_is_refused_before_the_code_is_spent_and_the_state_stays_usable(
    service, account_service, secrets, amazon, used
):
    uk = account_service.create("acme", new_account(SELLER, "UK"))
    state = service.start("acme", uk.id).state

    with pytest.raises(InvalidInput) as refused:
        service.complete(state, CODE, "A9OTHERSELLER")

    assert refused.value.code == "seller_mismatch"
    assert (amazon.exchanged, used.used, secrets.tokens) == ([], set(), {})
    assert service.complete(state, CODE, SELLER).account.authorisation.status == "ok"


def test_a_replayed_state_is_refused_without_asking_amazon_again(service, account_service, amazon):
    uk = account_service.create("acme", new_account(SELLER, "UK"))
    state = service.start("acme", uk.id).state
    service.complete(state, CODE, SELLER)

    with pytest.raises(Conflict) as refused:
        service.complete(state, "ANdNAnotherCode", SELLER)

    assert refused.value.code == "state_already_used"
    assert amazon.exchanged == [CODE]


def test_an_expired_state_is_refused_and_nothing_is_stored(service, account_service, secrets, used, clock):
    uk = account_service.create("acme", new_account(SELLER, "UK"))
    state = service.start("acme", uk.id).state
    clock.now += timedelta(minutes=10)

    with pytest.raises(InvalidState) as refused:
        service.complete(state, CODE, SELLER)

    assert refused.value.code == "state_expired"
    assert (secrets.tokens, used.used) == ({}, set())


def test_a_code_lwa_refuses_stores_nothing(service, account_service, secrets):
    uk = account_service.create("acme", new_account(SELLER, "UK"))

    with pytest.raises(InvalidInput) as refused:
        service.complete(service.start("acme", uk.id).state, "ANdNUsedOrExpired", SELLER)

    assert refused.value.code == "authorisation_code_rejected"
    assert secrets.tokens == {}
    assert account_service.get("acme", uk.id).authorisation.status == "authorisation_required"


def test_an_account_removed_before_the_seller_came_back_is_not_found(service, account_service, amazon):
    uk = account_service.create("acme", new_account(SELLER, "UK"))
    state = service.start("acme", uk.id).state
    account_service.delete("acme", uk.id)

    with pytest.raises(NotFound):
        service.complete(state, CODE, SELLER)
    assert amazon.exchanged == []


def test_a_scheduler_write_in_between_is_retried_instead_of_failing_the_consent(service, account_service, accounts):
    uk = account_service.create("acme", new_account(SELLER, "UK"))
    real_update = accounts.update
    conflicts = iter([True])

    def update_after_a_claim(account, *, expected_revision, siblings=()):
        if next(conflicts, False):
            raise Conflict("stale", code="version_conflict")
        real_update(account, expected_revision=expected_revision, siblings=siblings)

    accounts.update = update_after_a_claim

    authorised = service.complete(service.start("acme", uk.id).state, CODE, SELLER)

    assert authorised.account.authorisation.status == "ok"


def test_verifying_an_authorised_account_reports_participation_and_store_name(service, account_service, amazon):
    uk = account_service.create("acme", new_account(SELLER, "UK", token=REFRESH))

    assert service.verify("acme", uk.id) == Verification(
        ok=True, participating=True, store_name="Acme Outdoor", reason=None
    )
    assert amazon.asked == [("UK", SELLER)]


def test_verifying_in_a_marketplace_the_seller_does_not_sell_in_is_not_ok(service, account_service, amazon):
    de = account_service.create("acme", new_account(SELLER, "DE", token=REFRESH))

    verification = service.verify("acme", de.id)

    assert (verification.ok, verification.participating, verification.reason) == (False, False, "not_participating")


@pytest.mark.parametrize("token", [None, classify_token("amzn.mws.4ea38b7b-f563-7709-4bae-87aea1b2c3d4")])
def test_an_account_without_an_sp_api_token_cannot_be_verified(service, account_service, amazon, token):
    uk = account_service.create("acme", new_account(SELLER, "UK", token=token))

    with pytest.raises(Conflict) as refused:
        service.verify("acme", uk.id)

    assert refused.value.code == "authorisation_required"
    assert amazon.asked == []


def test_a_refused_refresh_token_rejects_every_account_of_the_seller_once_and_says_so(
    service, account_service, amazon, rejections
):
    uk = account_service.create("acme", new_account(SELLER, "UK", token=OLD))
    de = account_service.create("acme", new_account(SELLER, "DE"))
    amazon.valid_tokens.clear()

    verification = service.verify("acme", uk.id)

    assert verification == Verification.rejected()
    assert rejections.rejected == [("acme", SELLER)]
    assert {account_service.get("acme", a.id).authorisation.status for a in (uk, de)} == {"rejected"}
    with pytest.raises(Conflict) as again:
        service.verify("acme", uk.id)
    assert again.value.code == "authorisation_required"
    assert len(amazon.asked) == 1, "a rejected seller is not asked again"


def test_a_token_given_through_patch_and_one_from_consent_share_the_sellers_secret(service, account_service, secrets):
    uk = account_service.create("acme", new_account(SELLER, "UK"))
    account_service.update("acme", uk.id, AccountChanges(token=OLD))

    service.complete(service.start("acme", uk.id).state, CODE, SELLER)

    assert secrets.tokens == {("acme", SELLER): REFRESH}
