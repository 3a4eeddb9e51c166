"""In-memory fakes of the ports that record what happened (no mocks asserting calls)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from oms_amazon.domain.accounts import Account, SellerToken
from oms_amazon.domain.errors import Conflict, DependencyUnavailable
from oms_amazon.ports import AccountFilter, Page


@dataclass
class FakeAccounts:
    accounts: dict[tuple[str, str], Account] = field(default_factory=dict)
    fail_next_write: bool = False

    def _maybe_fail(self) -> None:
        if self.fail_next_write:
            self.fail_next_write = False
            raise DependencyUnavailable("table unavailable")

    def get(self, client_id: str, account_id: str) -> Account | None:
        return self.accounts.get((client_id, account_id))

    def find(self, client_id: str, merchant_id: str, marketplace: str) -> Account | None:
        return next(
            (
                a
                for (c, _), a in self.accounts.items()
                if c == client_id and (a.merchant_id, a.marketplace) == (merchant_id, marketplace)
            ),
            None,
        )

    def page(self, client_id: str, where: AccountFilter, *, limit: int, next_token: str | None) -> Page[Account]:
        items = [a for (c, _), a in sorted(self.accounts.items()) if c == client_id]
        if where.merchant_id:
            items = [a for a in items if a.merchant_id == where.merchant_id]
        return Page(items=items, next_token=None)

    def of_seller(self, client_id: str, merchant_id: str) -> list[Account]:
        return list(self.page(client_id, AccountFilter(merchant_id=merchant_id), limit=100, next_token=None).items)

    def create(self, account: Account, *, siblings: Sequence[Account] = ()) -> None:
        self._maybe_fail()
        if self.find(account.client_id, account.merchant_id, account.marketplace):
            raise Conflict("exists", code="account_exists")
        self.accounts[(account.client_id, account.id)] = account
        for sibling in siblings:
            self.accounts[(sibling.client_id, sibling.id)] = sibling

    def update(self, account: Account, *, expected_revision: int, siblings: Sequence[Account] = ()) -> None:
        self._maybe_fail()
        if self.accounts[(account.client_id, account.id)].revision != expected_revision:
            raise Conflict("stale", code="version_conflict")
        self.accounts[(account.client_id, account.id)] = account
        for sibling in siblings:
            self.accounts[(sibling.client_id, sibling.id)] = sibling

    def delete(self, account: Account) -> None:
        self.accounts.pop((account.client_id, account.id), None)


@dataclass
class FakeSecrets:
    tokens: dict[tuple[str, str], SellerToken] = field(default_factory=dict)

    def get(self, client_id: str, merchant_id: str) -> SellerToken | None:
        return self.tokens.get((client_id, merchant_id))

    def put(self, client_id: str, merchant_id: str, token: SellerToken) -> None:
        self.tokens[(client_id, merchant_id)] = token

    def delete(self, client_id: str, merchant_id: str) -> None:
        self.tokens.pop((client_id, merchant_id), None)
