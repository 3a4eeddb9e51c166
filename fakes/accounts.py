"""Accounts, sellers' secrets and rejected authorisations (`AccountRepository`, `SellerSecrets`,
`AuthorisationRejections`)."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from oms_amazon.domain.accounts import Account, Authorisation, SellerToken
from oms_amazon.domain.errors import Conflict, DependencyUnavailable
from oms_amazon.ports import AccountFilter, Page


@dataclass
class FakeAccounts:
    """Accounts by (client, id) with the table's conditions: one account per client, seller and
    marketplace, and a replace conditional on the stored revision."""

    accounts: dict[tuple[str, str], Account] = field(default_factory=dict)
    deleted: dict[tuple[str, str], tuple[Account, datetime]] = field(default_factory=dict)
    cleaned: set[tuple[str, str]] = field(default_factory=set)
    fail_next_write: bool = False

    def _maybe_fail(self) -> None:
        if self.fail_next_write:
            self.fail_next_write = False
            raise DependencyUnavailable("table unavailable")

    def add(self, account: Account) -> Account:
        """Stored as it is, without the conditions: what a test or the benchmark starts from."""
        self.accounts[(account.client_id, account.id)] = account
        return account

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

    def delete(self, account: Account, now: datetime) -> None:
        self.accounts.pop((account.client_id, account.id), None)
        self.deleted[(account.client_id, account.id)] = (account, now)

    def tombstone(self, client_id: str, account_id: str) -> Account | None:
        found = self.deleted.get((client_id, account_id))
        return found[0] if found else None

    def tombstones(self, deleted_before: datetime) -> Iterator[tuple[Account, bool]]:
        return iter(
            [
                (account, (account.client_id, account.id) in self.cleaned)
                for account, at in list(self.deleted.values())
                if at < deleted_before
            ]
        )

    def mark_cleaned(self, account: Account) -> None:
        self.cleaned.add((account.client_id, account.id))

    def forget(self, account: Account) -> None:
        self.deleted.pop((account.client_id, account.id), None)


@dataclass
class FakeSecrets:
    """`tokens` holds each seller's current token; `versions` every token stored, by version id."""

    tokens: dict[tuple[str, str], SellerToken] = field(default_factory=dict)
    versions: dict[str, tuple[tuple[str, str], SellerToken]] = field(default_factory=dict)

    @classmethod
    def holding(cls, client_id: str, merchant_id: str, refresh_token: str) -> FakeSecrets:
        """A seller whose SP-API refresh token is already stored."""
        secrets = cls()
        secrets.put(client_id, merchant_id, SellerToken(refresh_token, "sp_api_refresh_token"))
        return secrets

    def get(self, client_id: str, merchant_id: str, version: str | None = None) -> SellerToken | None:
        if version is None:
            return self.tokens.get((client_id, merchant_id))
        stored = self.versions.get(version)
        return stored[1] if stored and stored[0] == (client_id, merchant_id) else None

    def put(self, client_id: str, merchant_id: str, token: SellerToken) -> str:
        version = f"v{len(self.versions) + 1}"
        self.versions[version] = ((client_id, merchant_id), token)
        self.tokens[(client_id, merchant_id)] = token
        return version

    def current_version(self, client_id: str, merchant_id: str) -> str | None:
        current = self.tokens.get((client_id, merchant_id))
        return next(
            (
                v
                for v, (owner, t) in reversed(self.versions.items())
                if (owner, t) == ((client_id, merchant_id), current)
            ),
            None,
        )

    def withdraw(self, client_id: str, merchant_id: str, version: str, back_to: str) -> bool:
        if self.current_version(client_id, merchant_id) != version or back_to not in self.versions:
            return False
        self.tokens[(client_id, merchant_id)] = self.versions[back_to][1]
        return True

    def delete(self, client_id: str, merchant_id: str) -> None:
        self.tokens.pop((client_id, merchant_id), None)
        self.versions = {v: stored for v, stored in self.versions.items() if stored[0] != (client_id, merchant_id)}


@dataclass
class FakeRejections:
    """Marks every account of a seller rejected, as the real one does when Amazon refuses its token."""

    accounts: FakeAccounts
    rejected: list[tuple[str, str]] = field(default_factory=list)

    def reject(self, client_id: str, merchant_id: str) -> list[Account]:
        self.rejected.append((client_id, merchant_id))
        changed = []
        for found in self.accounts.of_seller(client_id, merchant_id):
            was = found.authorisation
            changed.append(
                self.accounts.add(found.with_changes(authorisation=Authorisation(was.type, "rejected", was.hint)))
            )
        return changed


class NoRejections:
    """For a run in which Amazon must never refuse the seller's token."""

    def reject(self, client_id: str, merchant_id: str) -> list[Account]:
        raise AssertionError(f"the authorisation of seller {merchant_id} of {client_id} was rejected")
