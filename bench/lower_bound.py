"""The best any connector could do under Amazon's default usage plans.

For N calls of an operation with rate r (tokens per second) and burst b, starting from a full bucket,
the last call cannot be sent before max(0, (N - b) / r) seconds. Operations have separate buckets and
may be interleaved, so a job needs at least the largest of these over its operations:

    seconds = max over operations of max(0, (N_op - b_op) / r_op)        calls = sum of N_op

where N_op is the fewest calls of each operation the job needs (`stock_sync_plan`, `order_import_plan`).
Calls are taken as instantaneous (no network latency) and Amazon's own processing time for feeds and
reports as zero, so the bound is only about quota.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from oms_amazon.adapters.sp_api.rate_limits import RATE_LIMITS

FEED_MAX_MESSAGES = 25_000  # JSON_LISTINGS_FEED: 1 to 25,000 messages
ORDERS_PER_PAGE = 100  # getOrders MaxResultsPerPage / searchOrders maxResultsPerPage
REPORT_CALLS = {"createReport": 1, "getReport": 1, "getReportDocument": 1}


@dataclass(frozen=True, slots=True)
class Bound:
    calls: int
    seconds: float
    plan: dict[str, int]

    def to_json(self) -> dict[str, Any]:
        return {"calls": self.calls, "seconds": round(self.seconds, 1), "plan": dict(self.plan)}


def operation_seconds(operation: str, calls: int, *, start: float = 0.0, fill: float = 1.0) -> float:
    """When the last of `calls` calls can be sent, none before `start`, from a bucket `fill` full at 0."""
    limit = RATE_LIMITS[operation]
    tokens = min(float(limit.burst), limit.burst * fill + limit.rate * start)
    return start + max(0.0, (calls - tokens) / limit.rate)


def bound(plan: Mapping[str, int], *, start: float = 0.0, fill: float = 1.0) -> Bound:
    """`plan` may name a feed type's own limit (`createFeed:<type>`): it costs time, not calls."""
    calls = {op: n for op, n in plan.items() if n > 0}
    seconds = max((operation_seconds(op, n, start=start, fill=fill) for op, n in calls.items()), default=start)
    return Bound(sum(n for op, n in calls.items() if ":" not in op), seconds, dict(calls))


def feed_plan(skus: int, marketplaces: int = 1) -> dict[str, int]:
    """createFeedDocument + createFeed now, getFeed + getFeedDocument for the processing report, per feed
    (one feed names one marketplace); each createFeed also spends a token of JSON_LISTINGS_FEED's own limit
    (5 per 5 minutes)."""
    feeds = math.ceil(skus / FEED_MAX_MESSAGES) * marketplaces
    return {
        "createFeedDocument": feeds,
        "createFeed": feeds,
        "createFeed:JSON_LISTINGS_FEED": feeds,
        "getFeed": feeds,
        "getFeedDocument": feeds,
    }


def stock_sync_bound(
    changed: int,
    *,
    needs_listing_report: bool,
    processing: float = 0.0,
    fill: float = 1.0,
    marketplaces: int = 1,
) -> Bound:
    """Push `changed` quantities to each of `marketplaces` (and first read the seller's SKUs when no fresh
    snapshot exists) by the transport that needs the fewest calls, the faster one on a tie: feeds, or one
    patchListingsItem each.

    `processing`: Amazon's time to prepare a report and to process a feed. Nothing can be pushed before
    the listings report is read (a push needs each SKU's product type), and a feed is done `processing`
    after its last submission; reports of several marketplaces are prepared at once. `fill`: how full
    the buckets are at the start (they refill while the report is prepared)."""
    report_plan = {op: n * marketplaces for op, n in REPORT_CALLS.items()} if needs_listing_report else {}
    report = bound(report_plan, fill=fill)
    ready = report.seconds + processing if needs_listing_report else 0.0
    if changed == 0:
        return Bound(report.calls, ready, report.plan)

    def then(plan: dict[str, int], wait: float) -> Bound:
        push = bound(plan, start=ready, fill=fill)
        return Bound(report.calls + push.calls, push.seconds + wait, {**report.plan, **push.plan})

    candidates = [
        then(feed_plan(changed, marketplaces), processing),
        then({"patchListingsItem": changed * marketplaces}, 0.0),
    ]
    return min(candidates, key=lambda b: (b.calls, b.seconds))


def order_import_bound(orders: int, api_version: str, *, fresh_token: bool = True, fill: float = 1.0) -> Bound:
    """Every page of the window; on v0 also one getOrderItems per order (v0 has no bulk item read;
    orders of at most 100 items need one page each) and one Restricted Data Token, without which v0
    gives no address to ship to (one generic-path RDT serves every page and order for an hour).
    2026-01-01 returns the items, address and buyer with each order. `fresh_token=False`: a run within
    the hour of the last one reuses its token."""
    pages = max(1, math.ceil(orders / ORDERS_PER_PAGE))
    if api_version == "v0":
        plan = {"createRestrictedDataToken": int(fresh_token), "getOrders": pages, "getOrderItems": orders}
        return bound(plan, fill=fill)
    return bound({"searchOrders": pages}, fill=fill)
