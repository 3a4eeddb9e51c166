"""Restricted Data Tokens (Tokens API 2021-03-01): what Orders v0 needs before it shows buyer data.

Without an RDT, v0 `getOrders` leaves out the recipient's name, street and phone and the buyer, and
`getOrderItems` the gift messages. An RDT names the resources it opens (generic paths serve every
order and page) and lives an hour (`expiresIn`), so one per seller and region serves a whole import:
it is cached until a minute before it expires, like the access token it replaces in
`x-amz-access-token`.

When Amazon refuses an RDT (the app lacks the Direct-to-Consumer Delivery role, say) the reads go on
without one — the orders then lack their addresses and are held `address_unavailable` with Amazon's
reason — and the refusal is remembered for a quarter of an hour, so a 5,000-order import does not ask
5,000 times.
"""

from __future__ import annotations

import hashlib
import threading
from dataclasses import dataclass

from oms_amazon.adapters.sp_api.builders import RestrictedResource
from oms_amazon.adapters.sp_api.lwa import AccessTokenCache

EXPIRY_MARGIN_SECONDS = 60.0
REFUSAL_MEMORY_SECONDS = 900.0


def resources_key(seller_id: str, region: str, resources: tuple[RestrictedResource, ...]) -> str:
    text = "|".join([seller_id, region, *(f"{r.method} {r.path} {','.join(r.data_elements)}" for r in resources)])
    return hashlib.sha256(text.encode()).hexdigest()


@dataclass(frozen=True, slots=True)
class _Refusal:
    reason: str
    until: float


class RestrictedTokenCache:
    """RDTs and Amazon's refusals by seller, region and resources, valid until monotonic deadlines."""

    def __init__(self) -> None:
        self.tokens = AccessTokenCache()
        self._refusals: dict[str, _Refusal] = {}
        self._lock = threading.Lock()

    def token(self, key: str, now: float) -> str | None:
        return self.tokens.get(key, now)

    def keep(self, key: str, token: str, expires_in: float, now: float) -> None:
        self.tokens.put(key, token, now + max(0.0, expires_in - EXPIRY_MARGIN_SECONDS))
        with self._lock:
            self._refusals.pop(key, None)

    def forget(self, key: str) -> None:
        self.tokens.discard(key)

    def refuse(self, key: str, reason: str, now: float) -> None:
        with self._lock:
            self._refusals[key] = _Refusal(reason, now + REFUSAL_MEMORY_SECONDS)

    def refusal(self, key: str, now: float) -> str | None:
        with self._lock:
            refusal = self._refusals.get(key)
            if refusal is None:
                return None
            if now >= refusal.until:
                del self._refusals[key]
                return None
            return refusal.reason

    def clear(self) -> None:
        self.tokens.clear()
        with self._lock:
            self._refusals.clear()


DEFAULT_RDT_CACHE = RestrictedTokenCache()
