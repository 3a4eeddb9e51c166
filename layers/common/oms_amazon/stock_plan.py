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

import hashlib
import json
from collections import Counter
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from oms_amazon.domain.accounts import Account
from oms_amazon.domain.sku_aliases import SkuAlias, amazon_skus_of
from oms_amazon.domain.stock_sync import ERRORS_INLINE, CatalogueMark
from oms_amazon.sku import SkuIndex, listing_skip_reason
from oms_amazon.stock import (
    RESEND_AFTER,
    LastSent,
    Product,
    StockRules,
    decide_quantity,
    merge_quantities,
    needs_push,
)

SAMPLE_SIZE = 20  # SKUs named per skip reason in a run record, for the operator to act on

# What a run reads of the catalogue (§5.4): the products changed since the last run began reading, less
# CHANGES_OVERLAP (a change is visible up to the API's 29 s after its time stamp, when a batch commits, and
# the changes index trails the table by about a second); the whole catalogue when there is no such run, at
# least every FULL_READ_EVERY (which heals whatever a reader of changes could have missed), and whenever a
# figure may have moved without its product changing: another account or stock setting, another SKU alias,
# a listing snapshot this run cannot compare with the last run's.
CHANGES_OVERLAP = timedelta(minutes=5)
FULL_READ_EVERY = timedelta(hours=24)
# Products a run also reads by key (resent after a rejection or a day, newly listed): past this share of
# the SKUs sent so far, one Query of the whole catalogue costs less (about 20 products of 200 bytes per
# read unit, against one read unit per product read by key).
BY_KEY_SHARE = 20
BY_KEY_AT_LEAST = 100


def inputs_digest(group: Sequence[Account], aliases: Iterable[SkuAlias]) -> str:
    """What every figure of a run depends on besides the products: a run whose digest differs from the
    last run's reads the whole catalogue."""
    accounts = sorted(
        (
            a.id,
            a.marketplace_id,
            a.include_bundles_in_stock_sync,
            [getattr(a.stock_rules, rule, None) for rule in ("buffer", "zero_at_or_below", "max_quantity")],
        )
        for a in group
    )
    links = sorted((a.amazon_sku, a.oms_sku, a.account_id or "") for a in aliases)
    text = json.dumps([accounts, links], separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()


def changes_since(
    mark: CatalogueMark | None,
    now: datetime,
    inputs: str,
    listings: Mapping[str, str],
    *,
    by_key: int,
    sent_skus: int,
) -> datetime | None:
    """The moment a run reads the catalogue's changes from, or None when it reads the whole catalogue.
    `listings` maps each account of the run to the taken_at of the listing snapshot the last run would
    have used (the stored one, before this run refreshed it); `by_key` counts the products the run would
    read by key besides the changes."""
    if mark is None or now - mark.full_at >= FULL_READ_EVERY or mark.inputs != inputs:
        return None
    if any(mark.listings.get(account_id) != taken for account_id, taken in listings.items()):
        return None
    if by_key > max(BY_KEY_AT_LEAST, sent_skus // BY_KEY_SHARE):
        return None
    return mark.read_at - CHANGES_OVERLAP


def due_again(last_sent: Mapping[str, LastSent], now: datetime, listed: Collection[str]) -> set[str]:
    """The Amazon SKUs sent again this run whether or not their product changed: rejected by Amazon, or
    last sent more than a day ago (§5.4). Only those still `listed` (merchant-fulfilled on one of the run's
    marketplaces): another could not be sent, and would be read again every run."""
    return {
        sku
        for sku, sent in last_sent.items()
        if (sent.status == "rejected" or now - sent.sent_at > RESEND_AFTER) and sku in listed
    }


def oms_skus_of(amazon_skus: Collection[str], aliases: Mapping[str, Mapping[str, str]]) -> set[str]:
    """The OMS SKUs whose figure goes to `amazon_skus`: each itself, and the OMS SKU an alias links it to."""
    found = set(amazon_skus)
    for links in aliases.values():
        found |= {oms for amazon, oms in links.items() if amazon in amazon_skus}
    return found


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
