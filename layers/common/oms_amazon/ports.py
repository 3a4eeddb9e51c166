"""Ports: what the services need from the outside world, in the domain's words."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from oms_amazon.domain.accounts import Account, SellerToken

Clock = Callable[[], datetime]
IdFactory = Callable[[], str]


@dataclass(frozen=True, slots=True)
class AccountFilter:
    marketplace: str | None = None
    merchant_id: str | None = None
    active: bool | None = None


@dataclass(frozen=True, slots=True)
class Page[T]:
    items: Sequence[T]
    next_token: str | None


class AccountRepository(Protocol):
    def get(self, client_id: str, account_id: str) -> Account | None: ...

    def find(self, client_id: str, merchant_id: str, marketplace: str) -> Account | None: ...

    def page(self, client_id: str, where: AccountFilter, *, limit: int, next_token: str | None) -> Page[Account]: ...

    def of_seller(self, client_id: str, merchant_id: str) -> list[Account]: ...

    def create(self, account: Account, *, siblings: Sequence[Account] = ()) -> None:
        """Store a new account (409 `account_exists` on a duplicate) and, in the same transaction,
        the new versions of its seller's other accounts."""
        ...

    def update(self, account: Account, *, expected_revision: int, siblings: Sequence[Account] = ()) -> None:
        """Replace an account if its stored revision is still `expected_revision` (409 `version_conflict`)."""
        ...

    def delete(self, account: Account) -> None: ...


class SellerSecrets(Protocol):
    """One secret per client and seller, shared by that seller's marketplace accounts."""

    def get(self, client_id: str, merchant_id: str) -> SellerToken | None: ...

    def put(self, client_id: str, merchant_id: str, token: SellerToken) -> None: ...

    def delete(self, client_id: str, merchant_id: str) -> None: ...
