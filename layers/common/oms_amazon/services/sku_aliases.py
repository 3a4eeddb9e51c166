"""SKU aliases (SPEC §7 `/sku-aliases`): link an Amazon SKU to an OMS SKU, client-wide or for one
account. A new link is announced at once, so the orders held on that Amazon SKU are judged again."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from oms_amazon.domain.errors import InvalidInput, NotFound
from oms_amazon.domain.sku_aliases import MAX_BATCH, SkuAlias, amazon_sku
from oms_amazon.observability import logger
from oms_amazon.ports import AccountRepository, Clock, Page, ProductRepository
from oms_amazon.sku import validate_sku


class SkuAliasStore(Protocol):
    def get(self, client_id: str, amazon_sku: str, account_id: str | None) -> SkuAlias | None: ...

    def put(self, alias: SkuAlias) -> None: ...

    def put_many(self, aliases: Sequence[SkuAlias]) -> None: ...

    def delete(self, alias: SkuAlias) -> None: ...

    def all_of_client(self, client_id: str) -> list[SkuAlias]: ...

    def page(self, client_id: str, *, account_id: str | None, limit: int, next_token: str | None) -> Page[SkuAlias]: ...


class HeldOrdersBySku(Protocol):
    """Told when an Amazon SKU gains a link, so orders held on it are judged again (§6.5)."""

    def sku_aliased(self, client_id: str, amazon_sku: str) -> int: ...


@dataclass(frozen=True, slots=True)
class NewAlias:
    amazon_sku: str
    oms_sku: str
    account_id: str | None = None


class SkuAliasService:
    def __init__(
        self,
        *,
        aliases: SkuAliasStore,
        products: ProductRepository,
        accounts: AccountRepository,
        clock: Clock,
        held_orders: HeldOrdersBySku | None = None,
    ) -> None:
        self._aliases = aliases
        self._products = products
        self._accounts = accounts
        self._clock = clock
        self._held_orders = held_orders

    def get(self, client_id: str, sku: str, account_id: str | None) -> SkuAlias:
        found = self._aliases.get(client_id, sku, account_id)
        if found is None:
            raise NotFound(f"No SKU alias for Amazon SKU {sku!r} in this scope.", code="alias_not_found")
        return found

    def page(self, client_id: str, *, account_id: str | None, limit: int, next_token: str | None) -> Page[SkuAlias]:
        if account_id is not None:
            self._account(client_id, account_id)
        return self._aliases.page(client_id, account_id=account_id, limit=limit, next_token=next_token)

    def put(self, client_id: str, new: NewAlias) -> tuple[SkuAlias, bool]:
        """Create or replace the link of an Amazon SKU in its scope; (alias, created)."""
        (alias,), created = self._write(client_id, [new])
        return alias, bool(created)

    def put_batch(self, client_id: str, items: Sequence[NewAlias]) -> list[SkuAlias]:
        """Up to 1,000 links, every one checked before any is written."""
        if not 1 <= len(items) <= MAX_BATCH:
            raise InvalidInput(f"A batch holds 1 to {MAX_BATCH} aliases.", code="invalid_batch")
        keys = [(item.amazon_sku, item.account_id) for item in items]
        if len(set(keys)) != len(keys):
            raise InvalidInput("A batch names the same Amazon SKU twice in one scope.", code="duplicate_alias")
        aliases, _ = self._write(client_id, list(items))
        return aliases

    def delete(self, client_id: str, sku: str, account_id: str | None) -> None:
        self._aliases.delete(self.get(client_id, sku, account_id))
        logger.info("SKU alias deleted", extra={"client_id": client_id, "account_id": account_id})

    def _write(self, client_id: str, items: list[NewAlias]) -> tuple[list[SkuAlias], int]:
        checked = [
            NewAlias(amazon_sku(item.amazon_sku), validate_sku(item.oms_sku, field="oms_sku"), item.account_id)
            for item in items
        ]
        for account_id in {item.account_id for item in checked if item.account_id is not None}:
            self._account(client_id, account_id)
        wanted = {item.oms_sku for item in checked}
        known = self._products.get_many(client_id, wanted)
        missing = sorted(wanted - set(known))
        if missing:
            raise InvalidInput(
                f"No OMS product {missing[0]!r}"
                + (f" (and {len(missing) - 1} more)" if len(missing) > 1 else "")
                + ": an alias links an Amazon SKU to an existing OMS SKU.",
                code="unknown_oms_sku",
                details=[{"field": "oms_sku", "missing": missing[:20]}],
            )
        now = self._clock()
        written: list[SkuAlias] = []
        created = 0
        for item in checked:
            current = self._aliases.get(client_id, item.amazon_sku, item.account_id)
            if current is None:
                created += 1
                written.append(SkuAlias(client_id, item.amazon_sku, item.oms_sku, item.account_id, now, now))
            elif current.oms_sku == item.oms_sku:
                written.append(current)
            else:
                written.append(current.with_changes(oms_sku=item.oms_sku, updated_at=now, version=current.version + 1))
        if len(written) == 1:
            self._aliases.put(written[0])
        else:
            self._aliases.put_many(written)
        logger.info(
            "SKU aliases saved", extra={"client_id": client_id, "aliases": len(written), "aliases_created": created}
        )
        if self._held_orders is not None:
            for sku in sorted({alias.amazon_sku for alias in written}):
                self._held_orders.sku_aliased(client_id, sku)
        return written, created

    def _account(self, client_id: str, account_id: str) -> None:
        if self._accounts.get(client_id, account_id) is None:
            raise NotFound(f"No account {account_id}.", code="account_not_found")
