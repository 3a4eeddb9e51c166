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


def operation_seconds(operation: str, calls: int) -> float:
    limit = RATE_LIMITS[operation]
    return max(0.0, (calls - limit.burst) / limit.rate)


def bound(plan: Mapping[str, int]) -> Bound:
    """`plan` may name a feed type's own limit (`createFeed:<type>`): it costs time, not calls."""
    calls = {op: n for op, n in plan.items() if n > 0}
    seconds = max((operation_seconds(op, n) for op, n in calls.items()), default=0.0)
    return Bound(sum(n for op, n in calls.items() if ":" not in op), seconds, dict(calls))


def feed_plan(skus: int) -> dict[str, int]:
    """createFeedDocument + createFeed now, getFeed + getFeedDocument for the processing report, per feed;
    each createFeed also spends a token of JSON_LISTINGS_FEED's own limit (5 per 5 minutes)."""
    feeds = math.ceil(skus / FEED_MAX_MESSAGES)
    return {
        "createFeedDocument": feeds,
        "createFeed": feeds,
        "createFeed:JSON_LISTINGS_FEED": feeds,
        "getFeed": feeds,
        "getFeedDocument": feeds,
    }


def stock_sync_bound(changed: int, *, needs_listing_report: bool) -> Bound:
    """Push `changed` quantities (and first read the seller's SKUs when no fresh snapshot exists) by the
    transport that needs the fewest calls, the faster one on a tie: feeds, or one patchListingsItem each."""
    report = dict(REPORT_CALLS) if needs_listing_report else {}
    if changed == 0:
        return bound(report)
    candidates = [bound({**report, **feed_plan(changed)}), bound({**report, "patchListingsItem": changed})]
    return min(candidates, key=lambda b: (b.calls, b.seconds))


def order_import_bound(orders: int, api_version: str, *, fresh_token: bool = True) -> Bound:
    """Every page of the window; on v0 also one getOrderItems per order (v0 has no bulk item read;
    orders of at most 100 items need one page each) and one Restricted Data Token, without which v0
    gives no address to ship to (one generic-path RDT serves every page and order for an hour).
    2026-01-01 returns the items, address and buyer with each order. `fresh_token=False`: a run within
    the hour of the last one reuses its token."""
    pages = max(1, math.ceil(orders / ORDERS_PER_PAGE))
    if api_version == "v0":
        return bound({"createRestrictedDataToken": int(fresh_token), "getOrders": pages, "getOrderItems": orders})
    return bound({"searchOrders": pages})
