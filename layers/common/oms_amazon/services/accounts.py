"""Connections use cases (SPEC §4): create, read, list, change and remove Amazon accounts.

A seller's token is shared by all of that client's accounts for the seller (one per marketplace).
Secrets Manager cannot take part in a DynamoDB transaction, and two requests may store tokens for one
seller at once (a PATCH on its UK account, another on its DE account), so the table never trusts
"the secret's current value". Instead:

- a token is stored first, as a new version of the seller's secret, and the version id it gets is
  recorded in the account and in every sibling, in the one conditional transaction that writes them
  (each item conditional on its revision, so of two racing token writes at most one commits);
- whoever reads an account's token reads that version (`Account.secret_version`), and versions never
  change, so the table never names a token Secrets Manager does not hold — not after a lost race,
  not after a crash between the two writes;
- when the table write fails, nothing is written back blindly: the secret's current label is moved
  back to the version the table names (or, for accounts stored before versions were recorded, the one
  current before this write) only if it is still on this request's version — a compare-and-set that
  Secrets Manager does itself — so a token another request stored meanwhile stays. A secret created
  by a failed first write for a seller stays (no account names it) until the seller's last account
  is deleted or a token is stored again: deleting it could delete a racing writer's token.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Protocol

from oms_amazon.domain.accounts import Account, Authorisation, SellerToken
from oms_amazon.domain.errors import Conflict, InvalidInput, NotFound
from oms_amazon.observability import count, logger
from oms_amazon.ports import AccountData, AccountFilter, AccountRepository, Clock, IdFactory, Page, SellerSecrets

IMMUTABLE_FIELDS = ("merchant_id", "marketplace")
# A deleted account's tombstone is swept once no job queued before the DELETE can still be writing: the
# workers' queues hide a message for 90 minutes (6 x a 15-minute worker), so a little over that.
SWEEP_DELETED_AFTER = timedelta(hours=2)


class ActivationGuard(Protocol):
    """Refuses to activate an account whose seller does not sell on its marketplace (`not_participating`)."""

    def require(self, account: Account, refresh_token: str) -> None: ...


@dataclass(frozen=True, slots=True)
class NewAccount:
    """A connection to create: its seller and marketplace, the token it was sent, and every setting
    `Account` holds (`name` None: "<merchant_id> <marketplace>"), as the API's settings model gives them."""

    merchant_id: str
    marketplace: str
    settings: Mapping[str, Any]
    token: SellerToken | None = None


@dataclass(frozen=True, slots=True)
class AccountChanges:
    """Validated settable fields that the caller sent (absent fields are not in `values`)."""

    values: dict[str, Any] = field(default_factory=dict)
    token: SellerToken | None = None
    version: int | None = None
    immutable: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class SellerAuthorisation:
    authorisation: Authorisation
    token_to_store: SellerToken | None
    secret_version: str | None = None  # the version an inherited authorisation reads its token from


def seller_authorisation(token: SellerToken | None, siblings: Sequence[Account]) -> SellerAuthorisation:
    """What authorisation an account gets, given the token it was sent (if any) and its seller's
    other accounts: a seller is authorised once for every marketplace. A legacy MWS token never
    replaces a working SP-API authorisation."""
    sp_api = next((s for s in siblings if s.authorisation.type == "sp_api_refresh_token"), None)
    if token is None:
        inherited = sp_api or next(iter(siblings), None)
        if inherited is None:
            return SellerAuthorisation(Authorisation.none(), None)
        return SellerAuthorisation(inherited.authorisation, None, inherited.secret_version)
    if token.type == "mws_auth_token" and sp_api is not None:
        return SellerAuthorisation(sp_api.authorisation, None, sp_api.secret_version)
    return SellerAuthorisation(token.authorisation, token)


class AccountService:
    def __init__(
        self,
        accounts: AccountRepository,
        secrets: SellerSecrets,
        clock: Clock,
        new_id: IdFactory,
        data: AccountData | None = None,
        activation: ActivationGuard | None = None,
    ) -> None:
        self._data = data
        self._activation = activation
        self._accounts = accounts
        self._secrets = secrets
        self._clock = clock
        self._new_id = new_id

    def get(self, client_id: str, account_id: str) -> Account:
        account = self._accounts.get(client_id, account_id)
        if account is None:
            raise NotFound(f"No account {account_id}.", code="account_not_found")
        return account

    def page(self, client_id: str, where: AccountFilter, *, limit: int, next_token: str | None) -> Page[Account]:
        return self._accounts.page(client_id, where, limit=limit, next_token=next_token)

    def create(self, client_id: str, new: NewAccount) -> Account:
        if self._accounts.find(client_id, new.merchant_id, new.marketplace) is not None:
            raise Conflict(
                f"An account for seller {new.merchant_id} on {new.marketplace} already exists.", code="account_exists"
            )
        siblings = self._accounts.of_seller(client_id, new.merchant_id)
        decided = seller_authorisation(new.token, siblings)
        now = self._clock()
        account = Account(
            id=self._new_id(),
            client_id=client_id,
            merchant_id=new.merchant_id,
            marketplace=new.marketplace,
            **{**new.settings, "name": new.settings.get("name") or f"{new.merchant_id} {new.marketplace}"},
            authorisation=decided.authorisation,
            created_at=now,
            updated_at=now,
        )
        account.check_can_activate()
        if account.active:
            self._check_participation(account, decided.token_to_store)
        account = account.with_changes(secret_version=decided.secret_version)

        def write(version: str | None) -> Account:
            stored = account.with_changes(secret_version=version) if version else account
            self._accounts.create(stored, siblings=self._reauthorise(siblings, decided, version))
            return stored

        account = self._with_token(client_id, new.merchant_id, decided.token_to_store, write)
        logger.info("account created", extra=_log_keys(account))
        return account

    def update(self, client_id: str, account_id: str, changes: AccountChanges) -> Account:
        current = self.get(client_id, account_id)
        for name, value in changes.immutable.items():
            if value != getattr(current, name):
                raise InvalidInput(
                    f"{name} cannot change after the account is created; create another account instead.",
                    code="immutable_field",
                    details=[{"field": name, "reason": "immutable"}],
                )
        if changes.version is not None and changes.version != current.version:
            raise Conflict(
                f"The account is at version {current.version}, not {changes.version}; read it again and retry.",
                code="version_conflict",
            )
        values = dict(changes.values)
        if "name" in values and values["name"] is None:
            values["name"] = f"{current.merchant_id} {current.marketplace}"
        siblings = [s for s in self._accounts.of_seller(client_id, current.merchant_id) if s.id != current.id]
        decided = seller_authorisation(changes.token, siblings) if changes.token else None
        updated = current.with_changes(
            **values,
            **({"authorisation": decided.authorisation} if decided else {}),
            updated_at=self._clock(),
            version=current.version + 1,
            revision=current.revision + 1,
        )
        if values.get("active") or (decided and updated.active):
            updated.check_can_activate()
        if updated.active and not current.active:
            self._check_participation(updated, decided.token_to_store if decided else None)
        if decided is not None and decided.token_to_store is None:
            updated = updated.with_changes(secret_version=decided.secret_version)

        def write(version: str | None) -> Account:
            stored = updated.with_changes(secret_version=version) if version else updated
            reauthorised = self._reauthorise(siblings, decided, version) if decided else []
            self._accounts.update(stored, expected_revision=current.revision, siblings=reauthorised)
            return stored

        updated = self._with_token(client_id, current.merchant_id, decided.token_to_store if decided else None, write)
        logger.info("account updated", extra=_log_keys(updated))
        return updated

    def delete(self, client_id: str, account_id: str) -> None:
        """Final at once: the account goes, leaving a tombstone, in one transaction; then its data and (with
        the seller's last account) its secret are cleaned up. A clean-up cut short is finished by the same
        DELETE again (the tombstone answers it) or by the tick's sweep."""
        account = self._accounts.get(client_id, account_id)
        if account is None:
            account = self._accounts.tombstone(client_id, account_id)
            if account is None:
                raise NotFound(f"No account {account_id}.", code="account_not_found")
        else:
            self._accounts.delete(account, self._clock())
        clean_up(account, self._accounts, self._secrets, self._data)
        self._accounts.mark_cleaned(account)
        logger.info("account deleted", extra=_log_keys(account))

    def _check_participation(self, account: Account, new_token: SellerToken | None) -> None:
        """Before an account goes active: does its seller sell on its marketplace (SPEC §4)?"""
        if self._activation is None:
            return
        token = new_token or self._secrets.get(account.client_id, account.merchant_id, account.secret_version)
        if token is not None and token.type == "sp_api_refresh_token":
            self._activation.require(account, token.value)

    def _reauthorise(
        self, siblings: Sequence[Account], decided: SellerAuthorisation, version: str | None
    ) -> list[Account]:
        """The siblings' new versions when a token is stored: all of them, each conditional on its
        revision, so two racing token writes for one seller cannot both commit."""
        if decided.token_to_store is None or version is None:
            return []
        now = self._clock()
        return [
            s.with_changes(
                authorisation=decided.authorisation,
                secret_version=version,
                updated_at=now,
                version=s.version + 1,
                revision=s.revision + 1,
            )
            for s in siblings
        ]

    def _with_token(
        self, client_id: str, merchant_id: str, token: SellerToken | None, write: Callable[[str | None], Account]
    ) -> Account:
        """Store `token` as a new version of the seller's secret, then run the table write that records
        that version; when the table write fails, take the secret's current label back (see above)."""
        if token is None:
            return write(None)
        before = self._secrets.current_version(client_id, merchant_id)
        version = self._secrets.put(client_id, merchant_id, token)
        try:
            return write(version)
        except Exception:
            self._withdraw(client_id, merchant_id, version, before)
            raise

    def _withdraw(self, client_id: str, merchant_id: str, version: str, before: str | None) -> None:
        try:
            named = {a.secret_version for a in self._accounts.of_seller(client_id, merchant_id)} - {None}
            if version in named:
                return  # the write did commit (its answer was lost): the version is the seller's now
            back_to = next(iter(named), None) if len(named) == 1 else None
            back_to = back_to or before
            if back_to is not None:
                self._secrets.withdraw(client_id, merchant_id, version, back_to)
        except Exception:
            logger.exception(
                "could not make the seller's previous token current again; no account names the new one",
                extra={"merchant_id": merchant_id},
            )


def _log_keys(account: Account) -> dict[str, Any]:
    return {
        "client_id": account.client_id,
        "account_id": account.id,
        "merchant_id": account.merchant_id,
        "marketplace": account.marketplace,
    }


def clean_up(account: Account, accounts: AccountRepository, secrets: SellerSecrets, data: AccountData | None) -> None:
    """A deleted account's data and, with the seller's last account, its secret: each step idempotent."""
    remaining = accounts.of_seller(account.client_id, account.merchant_id)
    if data is not None:
        data.remove(account, remaining)
    if not remaining:
        secrets.delete(account.client_id, account.merchant_id)


class DeletedAccountSweep:
    """The order-import tick's sweep of accounts deleted over SWEEP_DELETED_AFTER ago: their data is removed
    again — what a job queued before the DELETE wrote after it — and, once the DELETE had finished its own
    clean-up, the tombstone is forgotten. A tombstone whose DELETE was cut short stays (the ticks may not
    touch a seller's secret): the same DELETE again finishes it, and the sweep counts what waits."""

    def __init__(self, accounts: AccountRepository, data: AccountData) -> None:
        self._accounts = accounts
        self._data = data

    def sweep(self, now: datetime) -> int:
        swept = waiting = 0
        for account, cleaned in self._accounts.tombstones(now - SWEEP_DELETED_AFTER):
            self._data.remove(account, self._accounts.of_seller(account.client_id, account.merchant_id))
            if cleaned:
                self._accounts.forget(account)
                swept += 1
            else:
                waiting += 1
        if swept or waiting:
            logger.info("deleted accounts swept", extra={"forgotten": swept, "awaiting_delete_again": waiting})
            count("DeletedAccountsAwaitingDelete", waiting)
        return swept
