"""What a stock sync run sends (SPEC §5.2 to §5.5): the catalogue read whole or only what changed since the
last run, the quantities planned for the seller and region's accounts against their listing snapshots, and
the mark the run saves with what it sent."""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from oms_amazon.domain.accounts import Account
from oms_amazon.domain.products import CatalogueProduct
from oms_amazon.domain.sku_aliases import AliasSource, SkuAlias, aliases_for
from oms_amazon.domain.stock_sync import CatalogueMark, ListingSnapshot, SyncState
from oms_amazon.observability import count
from oms_amazon.ports import AmazonSeller, CatalogueReader, Clock
from oms_amazon.services.stock_sync.snapshots import ListingSnapshots, may_refresh_for_new_listings
from oms_amazon.stock import LastSent
from oms_amazon.stock_plan import PushPlan, changes_since, due_again, inputs_digest, oms_skus_of, plan_push

# Per account: its listing snapshot now, and the one it replaced when this run read it again.
RefreshedSnapshots = Mapping[str, tuple[ListingSnapshot, ListingSnapshot | None]]


@dataclass(frozen=True)
class PlannedRun:
    plan: PushPlan
    mark: CatalogueMark  # saved with what the run sends
    catalogue_read: Literal["full", "changes"]


class StockPlanner:
    """Reads what a run needs of the catalogue and plans its pushes."""

    def __init__(
        self, products: CatalogueReader, aliases: AliasSource, snapshots: ListingSnapshots, clock: Clock
    ) -> None:
        self._products = products
        self._aliases = aliases
        self._snapshots = snapshots
        self._clock = clock

    def plan(
        self,
        account: Account,
        group: Sequence[Account],
        state: SyncState,
        refreshed: RefreshedSnapshots,
        amazon: AmazonSeller,
        now: datetime,
    ) -> PlannedRun:
        """The pushes of `account`'s seller and region, from the catalogue read since `state`'s mark."""
        snapshots = {account_id: current for account_id, (current, _) in refreshed.items()}
        links = self._aliases(account.client_id)
        aliases = {a.id: aliases_for(a.id, links) for a in group} if links else None
        # What the last run used: the snapshots as stored before this run read any of them again.
        listings_before = {
            account_id: _taken(replaced or current) for account_id, (current, replaced) in refreshed.items()
        }
        newly = {
            sku
            for current, replaced in refreshed.values()
            if replaced is not None
            for sku in current.product_types.keys() - replaced.product_types.keys()
        }
        listed = {sku for s in snapshots.values() for sku in s.product_types}
        by_key = oms_skus_of(due_again(state.last_sent, now, listed) | newly, aliases or {})
        inputs = inputs_digest(group, links)
        since = changes_since(
            state.catalogue, now, inputs, listings_before, by_key=len(by_key), sent_skus=len(state.last_sent)
        )
        read_at = self._clock()
        catalogue = self._read_catalogue(account.client_id, since, by_key, links)
        plan = _plan(account, group, catalogue, snapshots, state.last_sent, now, aliases)
        if plan.skipped.get("not_on_amazon") and may_refresh_for_new_listings(snapshots[account.id], now):
            # An OMS SKU Amazon does not list may be a listing created since the snapshot: a new report, at most
            # hourly per seller and marketplace, so a new listing syncs within the hour, not the day (SPEC §5.4).
            count("ListingsRefreshedForMissingSkus")
            fresh = self._snapshots.current(account, amazon, force=True)
            before = snapshots[account.id]
            if fresh.taken_at != before.taken_at:
                snapshots[account.id] = fresh
                if since is not None:
                    added = fresh.product_types.keys() - before.product_types.keys()
                    catalogue = self._with_neighbours(
                        account.client_id, catalogue, oms_skus_of(added, aliases or {}), links
                    )
                plan = _plan(account, group, catalogue, snapshots, state.last_sent, now, aliases)
        mark = CatalogueMark(
            read_at=read_at,
            full_at=read_at if since is None or state.catalogue is None else state.catalogue.full_at,
            inputs=inputs,
            listings={account_id: _taken(snapshot) for account_id, snapshot in snapshots.items()},
        )
        catalogue_read: Literal["full", "changes"] = "full" if since is None else "changes"
        count("StockSyncCatalogueReads", read=catalogue_read)
        return PlannedRun(plan, mark, catalogue_read)

    def _read_catalogue(
        self, client_id: str, since: datetime | None, by_key: set[str], links: Sequence[SkuAlias]
    ) -> dict[str, CatalogueProduct]:
        """The whole catalogue (since None), or the products changed since `since` and those named in
        `by_key`, with what their figures need."""
        if since is None:
            return {p.sku: p for p in self._products.iter_catalogue(client_id, index_missing=True)}
        changed = {p.sku: p for p in self._products.changed_since(client_id, since)}
        return self._with_neighbours(client_id, changed, by_key, links)

    def _with_neighbours(
        self,
        client_id: str,
        read: Mapping[str, CatalogueProduct],
        more: Collection[str],
        links: Sequence[SkuAlias],
    ) -> dict[str, CatalogueProduct]:
        """`read` and `more`, then every bundle using one of them (a component's change changes its bundles,
        §5.2), every component of those bundles (a bundle's figure needs all of them), and every OMS product
        an alias of theirs names as its Amazon SKU (which takes its own figure, not the alias's, §5.4)."""
        products = dict(read)

        def add(skus: Collection[str]) -> None:
            wanted = set(skus) - products.keys()
            if wanted:
                products.update(self._products.get_many(client_id, wanted))

        add(more)
        add({bundle for p in products.values() for bundle in p.used_in_bundles})
        add({c.sku for p in products.values() for c in p.components})
        add({alias.amazon_sku for alias in links if alias.oms_sku in products})
        return products


def _plan(
    account: Account,
    group: Sequence[Account],
    catalogue: Mapping[str, CatalogueProduct],
    snapshots: Mapping[str, ListingSnapshot],
    last_sent: Mapping[str, LastSent],
    now: datetime,
    aliases: Mapping[str, Mapping[str, str]] | None,
) -> PushPlan:
    stock = [product.as_stock() for product in catalogue.values()]
    listed = {account_id: s.product_types for account_id, s in snapshots.items()}
    fba: dict[str, Collection[str]] = {account_id: s.fulfilled_by_amazon.keys() for account_id, s in snapshots.items()}
    return plan_push(account, group, stock, listed, last_sent, now, fba, aliases)


def _taken(snapshot: ListingSnapshot) -> str:
    return snapshot.taken_at.isoformat() if snapshot.taken_at else ""
