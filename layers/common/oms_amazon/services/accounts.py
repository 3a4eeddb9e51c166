"""Connections use cases (SPEC §4): create, read, list, change and remove Amazon accounts.

A seller's token is shared by all of that client's accounts for the seller (one per marketplace),
so storing a token re-authorises every sibling in the same transaction as the account write. The
secret is written before the table; if the table write then fails, the previous secret is put back,
so a refused request changes nothing.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from oms_amazon.domain.accounts import Account, Authorisation, SellerToken
from oms_amazon.domain.errors import Conflict, InvalidInput, NotFound
from oms_amazon.observability import logger
from oms_amazon.ports import AccountData, AccountFilter, AccountRepository, Clock, IdFactory, Page, SellerSecrets
from oms_amazon.stock import StockRules

IMMUTABLE_FIELDS = ("merchant_id", "marketplace")


class ActivationGuard(Protocol):
    """Refuses to activate an account whose seller does not sell on its marketplace (`not_participating`)."""

    def require(self, account: Account, refresh_token: str) -> None: ...


@dataclass(frozen=True, slots=True)
class NewAccount:
    merchant_id: str
    marketplace: str
    token: SellerToken | None = None
    name: str | None = None
    active: bool = False
    sync_stock: bool = False
    stock_sync_delay_minutes: int = 15
    include_bundles_in_stock_sync: bool = False
    import_orders: bool = True
    default_courier_service: str | None = None
    stock_rules: StockRules | None = None


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


def seller_authorisation(token: SellerToken | None, siblings: Sequence[Account]) -> SellerAuthorisation:
    """What authorisation an account gets, given the token it was sent (if any) and its seller's
    other accounts: a seller is authorised once for every marketplace. A legacy MWS token never
    replaces a working SP-API authorisation."""
    sibling_auth = next((s.authorisation for s in siblings if s.authorisation.type == "sp_api_refresh_token"), None)
    if token is None:
        inherited = sibling_auth or next((s.authorisation for s in siblings), None)
        return SellerAuthorisation(inherited or Authorisation.none(), None)
    if token.type == "mws_auth_token" and sibling_auth is not None:
        return SellerAuthorisation(sibling_auth, None)
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
            name=new.name or f"{new.merchant_id} {new.marketplace}",
            active=new.active,
            sync_stock=new.sync_stock,
            stock_sync_delay_minutes=new.stock_sync_delay_minutes,
            include_bundles_in_stock_sync=new.include_bundles_in_stock_sync,
            import_orders=new.import_orders,
            default_courier_service=new.default_courier_service,
            stock_rules=new.stock_rules,
            authorisation=decided.authorisation,
            created_at=now,
            updated_at=now,
        )
        account.check_can_activate()
        if account.active:
            self._check_participation(account, decided.token_to_store)
        reauthorised = self._reauthorise(siblings, decided)
        self._with_token(
            client_id,
            new.merchant_id,
            decided.token_to_store,
            lambda: self._accounts.create(account, siblings=reauthorised),
        )
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
        reauthorised = self._reauthorise(siblings, decided) if decided else []
        token = decided.token_to_store if decided else None
        self._with_token(
            client_id,
            current.merchant_id,
            token,
            lambda: self._accounts.update(updated, expected_revision=current.revision, siblings=reauthorised),
        )
        logger.info("account updated", extra=_log_keys(updated))
        return updated

    def delete(self, client_id: str, account_id: str) -> None:
        account = self.get(client_id, account_id)
        self._accounts.delete(account)
        remaining = self._accounts.of_seller(client_id, account.merchant_id)
        if self._data is not None:
            self._data.remove(account, remaining)
        if not remaining:
            self._secrets.delete(client_id, account.merchant_id)
        logger.info("account deleted", extra=_log_keys(account))

    def _check_participation(self, account: Account, new_token: SellerToken | None) -> None:
        """Before an account goes active: does its seller sell on its marketplace (SPEC §4)?"""
        if self._activation is None:
            return
        token = new_token or self._secrets.get(account.client_id, account.merchant_id)
        if token is not None and token.type == "sp_api_refresh_token":
            self._activation.require(account, token.value)

    def _reauthorise(self, siblings: Sequence[Account], decided: SellerAuthorisation) -> list[Account]:
        if decided.token_to_store is None:
            return []
        now = self._clock()
        return [
            s.with_changes(
                authorisation=decided.authorisation, updated_at=now, version=s.version + 1, revision=s.revision + 1
            )
            for s in siblings
            if s.authorisation != decided.authorisation
        ]

    def _with_token(
        self, client_id: str, merchant_id: str, token: SellerToken | None, write: Callable[[], None]
    ) -> None:
        """Run the table write with the seller's secret already holding `token`; undo the secret on failure."""
        if token is None:
            write()
            return
        previous = self._secrets.get(client_id, merchant_id)
        self._secrets.put(client_id, merchant_id, token)
        try:
            write()
        except Exception:
            try:
                if previous is None:
                    self._secrets.delete(client_id, merchant_id)
                else:
                    self._secrets.put(client_id, merchant_id, previous)
            except Exception:
                logger.exception("could not restore the seller's previous secret", extra={"merchant_id": merchant_id})
            raise


def _log_keys(account: Account) -> dict[str, Any]:
    return {
        "client_id": account.client_id,
        "account_id": account.id,
        "merchant_id": account.merchant_id,
        "marketplace": account.marketplace,
    }
