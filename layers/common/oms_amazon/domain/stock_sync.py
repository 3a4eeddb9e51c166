"""Stock-sync records (SPEC §5): runs, the Amazon listing snapshot, and what was last sent.

Amazon holds one merchant-fulfilled quantity per SKU per seller in a region, so "what was last
sent" is kept per client, seller and region, shared by that seller's marketplace accounts.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any, Literal

from oms_amazon.stock import LastSent

RunStatus = Literal["queued", "submitted", "done", "failed"]
Progress = Literal["pending", "done", "failed"]
SkipReason = Literal[
    "bundle_excluded", "sku_case_mismatch", "not_on_amazon", "fulfilled_by_amazon", "conflicting_quantity"
]
LISTINGS_MAX_AGE_HOURS = 24
# A run record keeps this many of its per-SKU errors (and conflicts) inline; every error is also kept on
# its own, paged by GET /accounts/{id}/stock-sync-runs/{run_id}/errors, so a record stays small.
ERRORS_INLINE = 100


@dataclass(frozen=True, slots=True)
class SkuError:
    sku: str
    code: str
    message: str

    def to_dict(self) -> dict[str, str]:
        return {"sku": self.sku, "code": self.code, "message": self.message}


@dataclass(frozen=True, slots=True)
class StockRun:
    run_id: str
    client_id: str
    account_id: str
    status: RunStatus
    trigger: Literal["schedule", "manual"]
    queued_at: datetime
    started_at: datetime | None = None
    finished_at: datetime | None = None
    skus_considered: int = 0
    skus_sent: int = 0
    skus_unchanged: int = 0
    skipped: dict[str, int] = field(default_factory=dict)
    skipped_skus: dict[str, list[str]] = field(default_factory=dict)  # a sample per reason, for the operator
    feed_ids: tuple[str, ...] = ()
    transport: Literal["feed", "patch", "none"] | None = None
    errors: tuple[SkuError, ...] = ()  # the first ERRORS_INLINE
    conflicts: tuple[dict[str, Any], ...] = ()
    reason: str | None = None
    error_count: int = 0
    # "full": the run read the whole catalogue; "changes": the products changed since the last run (§5.4).
    catalogue_read: Literal["full", "changes"] | None = None
    # Errors added since the record was read, numbered from 0 in the run: the store writes each once.
    unsaved_errors: tuple[tuple[int, SkuError], ...] = field(default=(), compare=False, repr=False)

    def with_changes(self, **changes: Any) -> StockRun:
        return replace(self, **changes)

    def adding_errors(self, found: Sequence[SkuError]) -> StockRun:
        if not found:
            return self
        return replace(
            self,
            errors=(self.errors + tuple(found))[:ERRORS_INLINE],
            error_count=self.error_count + len(found),
            unsaved_errors=self.unsaved_errors + tuple(enumerate(found, start=self.error_count)),
        )

    def summary(self) -> dict[str, Any]:
        """The account's `last_stock_sync`."""
        return {
            "run_id": self.run_id,
            "status": self.status,
            "finished_at": self.finished_at.isoformat() if self.finished_at else None,
            "skus_sent": self.skus_sent,
            "skipped": dict(self.skipped),
            "errors": self.error_count,
        }

    def waits_in_queue(self, since: datetime) -> bool:
        """Queued since `since` and not picked up by a worker yet: a manual run joins it (§7)."""
        return self.status == "queued" and self.started_at is None and self.queued_at >= since


@dataclass(frozen=True, slots=True)
class ManualRun:
    """What `POST /accounts/{id}/stock-sync` stands on: the run it queued, or (`joined`) the account's run
    that was already waiting in the queue, which it joined instead of queueing another (§7)."""

    run: StockRun
    joined: bool = False


@dataclass(frozen=True, slots=True)
class ListingsRefresh:
    """A request to read a seller's listings on one marketplace again: the one this call queued, or
    (`joined`) the one requested shortly before, which stands for it."""

    requested_at: datetime
    joined: bool = False


@dataclass(frozen=True, slots=True)
class ListingSnapshot:
    """Every seller SKU listed on one marketplace, exactly as Amazon spells it."""

    merchant_id: str
    marketplace: str
    taken_at: datetime | None
    product_types: dict[str, str]  # merchant-fulfilled sku -> product type ("PRODUCT" when the report does not say)
    pending_report_id: str | None = None
    fulfilled_by_amazon: dict[str, str] = field(default_factory=dict)  # sku -> Amazon's channel, e.g. AMAZON_EU

    def is_fresh(self, now: datetime) -> bool:
        return self.taken_at is not None and (now - self.taken_at).total_seconds() < LISTINGS_MAX_AGE_HOURS * 3600


@dataclass(frozen=True, slots=True)
class PendingFeed:
    """A quantity push whose processing report has not been read yet."""

    feed_id: str | None  # None between creating the document and Amazon accepting the feed
    feed_document_id: str
    run_id: str
    account_id: str
    marketplace_ids: tuple[str, ...]  # one since Amazon takes one marketplace per feed; older state may hold more
    quantities: dict[str, int]  # in message order: message n carries the n-th SKU
    submitted_at: datetime

    @property
    def message_skus(self) -> list[str]:
        return list(self.quantities)


@dataclass(frozen=True, slots=True)
class CatalogueMark:
    """How far the runs of one client, seller and region have read the OMS catalogue (§5.4), so that the
    next run reads only the products changed since, and the whole catalogue when anything else that
    every figure depends on has moved."""

    read_at: datetime  # when the last run began reading products
    full_at: datetime  # when a run last read the whole catalogue
    inputs: str  # digest of the accounts, their stock settings and the SKU aliases the figures came from
    listings: dict[str, str] = field(default_factory=dict)  # account id -> its listing snapshot's taken_at


@dataclass(frozen=True, slots=True)
class SyncState:
    """What the connector last told Amazon for one client, seller and region."""

    client_id: str
    merchant_id: str
    region: str
    last_sent: dict[str, LastSent] = field(default_factory=dict)
    pending_feeds: tuple[PendingFeed, ...] = ()
    revision: int = 0
    catalogue: CatalogueMark | None = None
    # What the store holds, as the store read or wrote it (opaque here): it writes only what changed.
    stored: Any = field(default=None, compare=False, repr=False)


@dataclass(frozen=True, slots=True)
class ReportOutcome:
    """A listings report: `done` with the listing (an empty one when Amazon cancelled the report for
    want of data), `pending`, or `failed` with Amazon's reason."""

    status: Progress
    product_types: dict[str, str] | None = None
    fulfilled_by_amazon: dict[str, str] = field(default_factory=dict)
    reason: str | None = None


@dataclass(frozen=True, slots=True)
class FeedOutcome:
    status: Progress
    report: dict[str, Any] | None = None
