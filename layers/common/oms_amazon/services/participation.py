"""Activation's guard rail (SPEC §4): an account goes active only on a marketplace its seller sells on.

Amazon's `getMarketplaceParticipations` answers for every marketplace of the seller's region at once and
refills one call a minute, so its answer is kept a day per seller and region. A marketplace missing
from a kept answer is asked about again (at most every 5 minutes): a seller who just registered there
is not refused for a day.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Protocol

from oms_amazon.domain.accounts import Account
from oms_amazon.domain.authorisation import MarketplaceParticipation, Participations, SellerAuthorisationRevoked
from oms_amazon.domain.errors import Conflict
from oms_amazon.domain.marketplaces import Marketplace
from oms_amazon.observability import logger
from oms_amazon.ports import Clock

KEPT_FOR = timedelta(days=1)
ASKED_AGAIN_AFTER = timedelta(minutes=5)


class ParticipationStore(Protocol):
    def get(self, client_id: str, merchant_id: str, region: str) -> Participations | None: ...

    def put(self, client_id: str, merchant_id: str, region: str, participations: Participations) -> None: ...


class ParticipationSource(Protocol):
    def participations(
        self, marketplace: Marketplace, merchant_id: str, refresh_token: str
    ) -> list[MarketplaceParticipation]: ...


class ParticipationGuard:
    def __init__(self, store: ParticipationStore, amazon: ParticipationSource, clock: Clock) -> None:
        self._store = store
        self._amazon = amazon
        self._clock = clock

    def require(self, account: Account, refresh_token: str) -> None:
        """409 `not_participating` unless the seller sells on the account's marketplace."""
        now = self._clock()
        known = self._store.get(account.client_id, account.merchant_id, account.region)
        fresh = known is not None and now - known.checked_at < KEPT_FOR
        if fresh and known is not None and account.marketplace_id in known.marketplace_ids:
            return
        if not fresh or (known is not None and now - known.checked_at >= ASKED_AGAIN_AFTER):
            known = self._ask(account, refresh_token, now)
        if known is not None and account.marketplace_id in known.marketplace_ids:
            return
        raise Conflict(
            f"Seller {account.merchant_id} does not sell on Amazon {account.marketplace} "
            f"({account.marketplace_id}) according to Amazon's marketplace participations: register the seller "
            "there in Seller Central (or connect the marketplace it sells on), then activate the account.",
            code="not_participating",
            details=[{"field": "active", "reason": "seller not participating in the marketplace"}],
        )

    def _ask(self, account: Account, refresh_token: str, now: datetime) -> Participations:
        try:
            rows = self._amazon.participations(account.market, account.merchant_id, refresh_token)
        except SellerAuthorisationRevoked:
            raise Conflict(
                "Amazon rejected this seller's authorisation. Authorise the connection again (Authorise Now) "
                "before activating it.",
                code="authorisation_required",
            ) from None
        answer = Participations(frozenset(r.marketplace_id for r in rows if r.participating), now)
        self._store.put(account.client_id, account.merchant_id, account.region, answer)
        logger.info(
            "marketplace participations read",
            extra={"merchant_id": account.merchant_id, "region": account.region, "marketplaces": len(rows)},
        )
        return answer
