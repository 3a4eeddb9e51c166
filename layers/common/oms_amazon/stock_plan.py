"""What one stock-sync run sends for a seller and region — pure (SPEC §5.2 to §5.5).

For each enabled account of the seller in the region: every OMS product's quantity (§5.2, §5.3),
kept only where Amazon lists the SKU on that account's marketplace with exactly the same case, as a
merchant-fulfilled offer (§5.4); then the accounts are merged into one figure per SKU, the lowest when
they disagree (§5.5); then only SKUs whose figure differs from what Amazon last accepted (or was sent
over 24 h ago) are pushed — the same figure to every marketplace that lists the SKU, one submission
per marketplace (Amazon takes one marketplace per feed or patch). A SKU alias sends an OMS SKU's
figure to the Amazon SKU linked to it as well (§5.4); an Amazon SKU that is itself an OMS SKU takes
that product's figure, never an alias's.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from oms_amazon.domain.accounts import Account
from oms_amazon.domain.sku_aliases import amazon_skus_of
from oms_amazon.domain.stock_sync import ERRORS_INLINE
from oms_amazon.sku import SkuIndex, listing_skip_reason
from oms_amazon.stock import LastSent, Product, StockRules, decide_quantity, merge_quantities, needs_push

SAMPLE_SIZE = 20  # SKUs named per skip reason in a run record, for the operator to act on


@dataclass(frozen=True, slots=True)
class Push:
    sku: str
    quantity: int
    product_type: str
    marketplace_ids: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class PushPlan:
    pushes: tuple[Push, ...]
    considered: int  # the run's own account: OMS SKUs looked at
    unchanged: int  # merged SKUs Amazon already holds
    skipped: dict[str, int] = field(default_factory=dict)  # the run's own account, by reason
    skipped_skus: dict[str, list[str]] = field(default_factory=dict)
    conflicts: tuple[dict[str, object], ...] = ()

    def by_marketplace(self) -> dict[str, list[Push]]:
        """Pushes per marketplace that lists the SKU: one submission (a feed, or patches) each."""
        grouped: dict[str, list[Push]] = {}
        for push in self.pushes:
            for marketplace_id in push.marketplace_ids:
                grouped.setdefault(marketplace_id, []).append(push)
        return dict(sorted(grouped.items()))


def plan_push(
    run_account: Account,
    group: Sequence[Account],
    products: Iterable[Product],
    listings: Mapping[str, Mapping[str, str]],
    last_sent: Mapping[str, LastSent],
    now: datetime,
    fulfilled_by_amazon: Mapping[str, Collection[str]] | None = None,
    aliases: Mapping[str, Mapping[str, str]] | None = None,
) -> PushPlan:
    """`group` holds the enabled accounts of the run account's seller and region (it included);
    `listings` maps each account id to its marketplace's merchant-fulfilled SKUs (SKU -> product type),
    `fulfilled_by_amazon` to the SKUs Amazon fulfils there, which never get a merchant quantity, and
    `aliases` to the SKU aliases that apply to the account (Amazon SKU -> OMS SKU)."""
    fba_of = fulfilled_by_amazon or {}
    aliases_of = aliases or {}
    catalogue = list(products)
    oms_skus = {p.sku for p in catalogue}
    available = {p.sku: p.quantity_available for p in catalogue if not p.is_bundle}
    per_account: dict[str, dict[str, int]] = {}
    product_type: dict[str, str] = {}
    marketplaces_of: dict[str, set[str]] = {}
    skipped: Counter[str] = Counter()
    samples: dict[str, list[str]] = {}
    for account in group:
        listed = listings.get(account.id, {})
        fba = fba_of.get(account.id, ())
        index = SkuIndex([*listed, *fba])
        linked = amazon_skus_of({a: o for a, o in aliases_of.get(account.id, {}).items() if a not in oms_skus})
        rules = account.stock_rules or StockRules()
        quantities: dict[str, int] = {}
        for product in catalogue:
            decision = decide_quantity(product, available, rules, account.include_bundles_in_stock_sync)
            reason = decision.skip_reason or listing_skip_reason(product.sku, index)
            if reason is None and product.sku in fba:
                reason = "fulfilled_by_amazon"
            targets = [product.sku] if reason is None else []
            if decision.skip_reason is None:
                for amazon_sku in linked.get(product.sku, ()):
                    if amazon_sku in listed:
                        targets.append(amazon_sku)
                    elif amazon_sku in fba:
                        reason = "fulfilled_by_amazon"
            if not targets or decision.quantity is None:
                if account.id == run_account.id:
                    skipped[reason or "not_on_amazon"] += 1
                    bucket = samples.setdefault(reason or "not_on_amazon", [])
                    if len(bucket) < SAMPLE_SIZE:
                        bucket.append(product.sku)
                continue
            for sku in targets:
                quantities[sku] = decision.quantity
                product_type.setdefault(sku, listed[sku])
                marketplaces_of.setdefault(sku, set()).add(account.marketplace_id)
        per_account[account.id] = quantities

    merged = merge_quantities(per_account)
    pushes = []
    unchanged = 0
    for sku, quantity in sorted(merged.quantities.items()):
        if needs_push(quantity, last_sent.get(sku), now):
            pushes.append(Push(sku, quantity, product_type[sku], tuple(sorted(marketplaces_of[sku]))))
        else:
            unchanged += 1
    if merged.conflicts:
        # Reported with the skips for the operator, though these SKUs are still sent, at the lowest figure.
        skipped["conflicting_quantity"] = len(merged.conflicts)
    conflicts = tuple(c.to_dict() for c in merged.conflicts[:ERRORS_INLINE])  # the count is in `skipped`
    return PushPlan(
        pushes=tuple(pushes),
        considered=len(catalogue),
        unchanged=unchanged,
        skipped=dict(skipped),
        skipped_skus=samples,
        conflicts=conflicts,
    )
