"""What the API reads of stock sync (SPEC §5, §7): an account's runs, a run's per-SKU errors and the SKU
report. Each read checks first that the account is the client's (`AccountService.get`: 404 otherwise)."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from oms_amazon.domain.errors import Conflict, NotFound
from oms_amazon.domain.sku_aliases import AliasSource, aliases_for
from oms_amazon.domain.stock_sync import ListingSnapshot, SkuError, StockRun
from oms_amazon.ports import Page
from oms_amazon.services.accounts import AccountService
from oms_amazon.sku import SkuReport, compare_sku_sets
from oms_amazon.stock import Product

CatalogueSource = Callable[[str], Iterable[Product]]
# The repository's cursor from the client's next_token, read only once the account is found to be the
# client's: another client's account is 404 whatever token comes with it.
Cursor = Callable[[], str | None]


class RunRecords(Protocol):
    def get_run(self, client_id: str, account_id: str, run_id: str) -> StockRun | None: ...

    def runs(self, client_id: str, account_id: str, *, limit: int, next_token: str | None) -> Page[StockRun]: ...

    def run_errors(
        self, client_id: str, account_id: str, run_id: str, *, limit: int, next_token: str | None
    ) -> Page[SkuError]: ...

    def snapshot(self, client_id: str, merchant_id: str, marketplace: str) -> ListingSnapshot | None: ...


@dataclass(frozen=True, slots=True)
class AccountSkuReport:
    """Amazon's listings of an account beside the client's catalogue, as of `listings_taken_at`."""

    listings_taken_at: datetime
    report: SkuReport
    fulfilled_by_amazon: dict[str, str]  # Amazon SKU -> the channel that fulfils it


class StockRunQueries:
    def __init__(
        self,
        *,
        accounts: AccountService,
        store: RunRecords,
        catalogue: CatalogueSource,
        aliases: AliasSource,
    ) -> None:
        self._accounts = accounts
        self._store = store
        self._catalogue = catalogue
        self._aliases = aliases

    def runs(self, client_id: str, account_id: str, *, limit: int, cursor: Cursor) -> Page[StockRun]:
        self._accounts.get(client_id, account_id)
        return self._store.runs(client_id, account_id, limit=limit, next_token=cursor())

    def run(self, client_id: str, account_id: str, run_id: str) -> StockRun:
        self._accounts.get(client_id, account_id)
        run = self._store.get_run(client_id, account_id, run_id)
        if run is None:
            raise NotFound(f"No stock-sync run {run_id} for this account.", code="run_not_found")
        return run

    def run_errors(self, client_id: str, account_id: str, run_id: str, *, limit: int, cursor: Cursor) -> Page[SkuError]:
        """Every per-SKU error of a run, in the order it found them (the run record keeps the first 100)."""
        self.run(client_id, account_id, run_id)
        return self._store.run_errors(client_id, account_id, run_id, limit=limit, next_token=cursor())

    def sku_report(self, client_id: str, account_id: str) -> AccountSkuReport:
        account = self._accounts.get(client_id, account_id)
        snapshot = self._store.snapshot(client_id, account.merchant_id, account.marketplace)
        if snapshot is None or snapshot.taken_at is None:
            raise Conflict(
                "Amazon's listings for this account have not been loaded yet: POST /accounts/{id}/listings/refresh, "
                "then ask again once the refresh has run.",
                code="listings_not_loaded",
            )
        listed = [*snapshot.product_types, *snapshot.fulfilled_by_amazon]
        aliases = aliases_for(account.id, self._aliases(client_id))
        report = compare_sku_sets(listed, (p.sku for p in self._catalogue(client_id)), aliases)
        return AccountSkuReport(snapshot.taken_at, report, dict(snapshot.fulfilled_by_amazon))
