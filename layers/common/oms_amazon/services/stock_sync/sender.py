"""How a stock sync run's quantities reach Amazon (SPEC §5.4): a patchListingsItem per SKU for a handful,
else a JSON_LISTINGS_FEED per marketplace, each feed recorded as pending before Amazon is asked to create it."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import datetime

from oms_amazon.domain.accounts import Account
from oms_amazon.domain.amazon_errors import OutcomeUnknown
from oms_amazon.domain.stock_sync import PendingFeed, SkuError, StockRun, SyncState
from oms_amazon.listings_feed import QuantityUpdate, quantity_feed
from oms_amazon.ports import AmazonSeller, Clock, StockSyncStore
from oms_amazon.services.stock_sync.reconciler import RECONCILE_AFTER, find_created_feed
from oms_amazon.stock import LastSent
from oms_amazon.stock_plan import Push

# Per marketplace: patchListingsItem costs one call per SKU; a feed costs createFeedDocument +
# createFeed now and getFeed + getFeedDocument later, and JSON_LISTINGS_FEED allows only 5 submissions
# per 5 minutes per seller and region. Up to this many SKUs, patches are the cheaper transport.
PATCH_UP_TO = 3
CREATE_FEED_ATTEMPTS = 4
FEED_MESSAGES_AT_MOST = 25_000


def by_transport(by_marketplace: dict[str, list[Push]]) -> tuple[dict[str, list[Push]], dict[str, list[Push]]]:
    """The marketplaces whose pushes are patched, and those whose pushes go in a feed."""
    patched = {m: pushes for m, pushes in by_marketplace.items() if len(pushes) <= PATCH_UP_TO}
    fed = {m: pushes for m, pushes in by_marketplace.items() if len(pushes) > PATCH_UP_TO}
    return patched, fed


class QuantitySender:
    """Sends a run's pushes to Amazon, recording each in the seller and region's sync state as it goes."""

    def __init__(self, store: StockSyncStore, clock: Clock) -> None:
        self._store = store
        self._clock = clock

    def patch(
        self, state: SyncState, by_marketplace: dict[str, list[Push]], amazon: AmazonSeller
    ) -> tuple[SyncState, list[SkuError]]:
        """One patchListingsItem per SKU and marketplace; a SKU any marketplace rejects is resent next run."""
        now = self._clock()
        errors: list[SkuError] = []
        sent: dict[str, int] = {}
        rejected: set[str] = set()
        for marketplace_id, pushes in by_marketplace.items():
            for push in pushes:
                found = amazon.patch_quantity(push.sku, marketplace_id, push.product_type, push.quantity)
                errors.extend(found)
                sent[push.sku] = push.quantity
                if found:
                    rejected.add(push.sku)
        last_sent = dict(state.last_sent)
        for sku, quantity in sent.items():
            last_sent[sku] = LastSent(quantity, now, "rejected" if sku in rejected else "accepted")
        return replace(state, last_sent=last_sent), errors

    def submit_feeds(
        self,
        state: SyncState,
        by_marketplace: dict[str, list[Push]],
        amazon: AmazonSeller,
        run: StockRun,
        account: Account,
    ) -> tuple[SyncState, list[str]]:
        """A feed per marketplace (and per 25,000 SKUs), its SKUs in flight until its report is read."""
        feed_ids: list[str] = []
        for marketplace_id, pushes in by_marketplace.items():
            marketplace_ids = (marketplace_id,)
            for start in range(0, len(pushes), FEED_MESSAGES_AT_MOST):
                chunk = pushes[start : start + FEED_MESSAGES_AT_MOST]
                content = json.dumps(
                    quantity_feed(
                        account.merchant_id, (QuantityUpdate(p.sku, p.quantity, p.product_type) for p in chunk)
                    ),
                    separators=(",", ":"),
                ).encode()
                document_id, _ = amazon.upload_feed(content)
                now = self._clock()
                pending = PendingFeed(
                    feed_id=None,
                    feed_document_id=document_id,
                    run_id=run.run_id,
                    account_id=run.account_id,
                    marketplace_ids=marketplace_ids,
                    quantities={p.sku: p.quantity for p in chunk},
                    submitted_at=now,
                )
                # Recorded before createFeed: if this worker dies mid-call, the next one finds the feed.
                state = self._store.save_state(
                    _with_pending(state, pending, now), reconcile_after=now + RECONCILE_AFTER
                )
                feed_id = self._create_feed(amazon, pending, state)
                state = self._store.save_state(
                    _set_feed_id(state, document_id, feed_id), reconcile_after=now + RECONCILE_AFTER
                )
                feed_ids.append(feed_id)
        return state, feed_ids

    def _create_feed(self, amazon: AmazonSeller, pending: PendingFeed, state: SyncState) -> str:
        """createFeed has no idempotency key, so the client does not repeat it once Amazon may have acted
        on it (`OutcomeUnknown`): look for the feed before asking again, or the change is pushed twice."""
        known = {p.feed_id for p in state.pending_feeds if p.feed_id}
        marketplace_ids = list(pending.marketplace_ids)
        for _ in range(CREATE_FEED_ATTEMPTS - 1):
            try:
                return amazon.create_feed(pending.feed_document_id, marketplace_ids)
            except OutcomeUnknown:
                found = find_created_feed(amazon, pending, known)
                if found is not None:
                    return found
        # Still unknown after the last attempt: the job fails and its next delivery reconciles the pending feed.
        return amazon.create_feed(pending.feed_document_id, marketplace_ids)


def _with_pending(state: SyncState, pending: PendingFeed, now: datetime) -> SyncState:
    last_sent = dict(state.last_sent)
    for sku, quantity in pending.quantities.items():
        last_sent[sku] = LastSent(quantity, now, "in_flight")
    return replace(state, last_sent=last_sent, pending_feeds=(*state.pending_feeds, pending))


def _set_feed_id(state: SyncState, document_id: str, feed_id: str) -> SyncState:
    feeds = tuple(replace(p, feed_id=feed_id) if p.feed_document_id == document_id else p for p in state.pending_feeds)
    return replace(state, pending_feeds=feeds)
