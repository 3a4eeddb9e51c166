"""Stock-sync routes (SPEC §5, §7): run now, the run records, the listing snapshot and the SKU report."""

from __future__ import annotations

from typing import Annotated, Any

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Path, Query
from pydantic import BaseModel, Field

from oms_amazon.api.identity import client_of
from oms_amazon.api.paging import PagedList
from oms_amazon.domain.moments import iso
from oms_amazon.domain.stock_sync import StockRun
from oms_amazon.wiring import container

router = Router()

AccountId = Annotated[str, Path(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_-]+$")]
RunId = Annotated[str, Path(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_-]+$")]


class RunQueued(BaseModel):
    run_id: str
    status: str
    coalesced: bool = Field(
        default=False,
        description="true: a run of the account was already waiting in the queue; this is that run, none was added",
    )


class RefreshQueued(BaseModel):
    status: str = Field(description="always `queued`: a refresh of the listings is on its way")
    requested_at: str = Field(description="when the refresh that stands was requested")
    coalesced: bool = Field(
        description="true: a refresh for this seller and marketplace was requested less than 15 minutes ago; "
        "it stands for this one and nothing new was queued"
    )
    message: str


class StockRunOut(BaseModel):
    run_id: str
    account_id: str
    status: str
    trigger: str
    queued_at: str
    started_at: str | None
    finished_at: str | None
    catalogue_read: str | None = Field(
        description="full: the run read the whole OMS catalogue (its first, then at least daily, and after a "
        "change of settings, SKU aliases or listings); changes: the products changed since the last run, with "
        "the bundles they make up and the SKUs due again. skus_considered counts what it read."
    )
    skus_considered: int
    skus_sent: int
    skus_unchanged: int
    skipped: dict[str, int]
    skipped_skus: dict[str, list[str]]
    feed_id: str | None
    feed_ids: list[str]
    transport: str | None
    errors: list[dict[str, str]] = Field(description="The first 100 per-SKU errors; all of them: the run's /errors")
    error_count: int
    conflicts: list[dict[str, Any]] = Field(description="The first 100; their number is skipped.conflicting_quantity")
    reason: str | None


class StockRunList(BaseModel):
    items: list[StockRunOut]
    next_token: str | None


class SkuErrorOut(BaseModel):
    sku: str
    code: str
    message: str


class SkuErrorList(BaseModel):
    items: list[SkuErrorOut]
    next_token: str | None


class SkuReportOut(BaseModel):
    listings_taken_at: str | None
    summary: dict[str, int]
    truncated: bool
    matched: list[str]
    aliased: list[dict[str, str]] = Field(description="Amazon SKUs a SKU alias links to an OMS SKU")
    case_mismatches: list[dict[str, Any]] = Field(
        description="Amazon SKUs matching one OMS SKU only when case is ignored, each with the SKU alias "
        "(PUT /sku-aliases/{amazon_sku}) that would link them"
    )
    ambiguous: list[dict[str, Any]]
    missing_in_oms: list[str]
    missing_on_amazon: list[str]
    too_long_for_amazon: list[str]
    fulfilled_by_amazon: list[dict[str, str]] = Field(
        description="Amazon SKUs that Amazon fulfils (FBA): listed, but never sent a merchant quantity"
    )


def run_view(run: StockRun) -> StockRunOut:
    return StockRunOut(
        run_id=run.run_id,
        account_id=run.account_id,
        status=run.status,
        trigger=run.trigger,
        queued_at=iso(run.queued_at),
        started_at=iso(run.started_at) if run.started_at else None,
        finished_at=iso(run.finished_at) if run.finished_at else None,
        catalogue_read=run.catalogue_read,
        skus_considered=run.skus_considered,
        skus_sent=run.skus_sent,
        skus_unchanged=run.skus_unchanged,
        skipped=run.skipped,
        skipped_skus=run.skipped_skus,
        feed_id=run.feed_ids[0] if run.feed_ids else None,
        feed_ids=list(run.feed_ids),
        transport=run.transport,
        errors=[e.to_dict() for e in run.errors],
        error_count=run.error_count,
        conflicts=list(run.conflicts),
        reason=run.reason,
    )


@router.post("/accounts/<account_id>/stock-sync", tags=["stock sync"])
def run_stock_sync(account_id: AccountId) -> Response[RunQueued]:
    claimed = container().stock_sync_scheduler.run_now(client_of(router), account_id)
    body = RunQueued(run_id=claimed.run.run_id, status=claimed.run.status, coalesced=claimed.joined)
    return Response(status_code=202, content_type="application/json", body=body)


@router.get("/accounts/<account_id>/stock-sync-runs", tags=["stock sync"])
def list_stock_sync_runs(
    account_id: AccountId,
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
    next_token: Annotated[str | None, Query(max_length=2048)] = None,
) -> StockRunList:
    client_id = client_of(router)
    listed = PagedList("stock-sync-runs", client_id, {"account_id": account_id})
    page = container().stock_runs.runs(client_id, account_id, limit=limit, cursor=lambda: listed.cursor(next_token))
    return StockRunList(items=[run_view(r) for r in page.items], next_token=listed.next_token(page.next_token))


@router.get("/accounts/<account_id>/stock-sync-runs/<run_id>", tags=["stock sync"])
def get_stock_sync_run(account_id: AccountId, run_id: RunId) -> StockRunOut:
    return run_view(container().stock_runs.run(client_of(router), account_id, run_id))


@router.get("/accounts/<account_id>/stock-sync-runs/<run_id>/errors", tags=["stock sync"])
def list_stock_sync_run_errors(
    account_id: AccountId,
    run_id: RunId,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    next_token: Annotated[str | None, Query(max_length=2048)] = None,
) -> SkuErrorList:
    """Every per-SKU error of a run, in the order it found them (the run record keeps the first 100)."""
    client_id = client_of(router)
    listed = PagedList("stock-sync-run-errors", client_id, {"account_id": account_id, "run_id": run_id})
    page = container().stock_runs.run_errors(
        client_id, account_id, run_id, limit=limit, cursor=lambda: listed.cursor(next_token)
    )
    return SkuErrorList(
        items=[SkuErrorOut(**e.to_dict()) for e in page.items], next_token=listed.next_token(page.next_token)
    )


@router.post("/accounts/<account_id>/listings/refresh", tags=["stock sync"])
def refresh_listings(account_id: AccountId) -> Response[RefreshQueued]:
    refresh = container().stock_sync_scheduler.refresh_listings(client_of(router), account_id)
    requested_at = iso(refresh.requested_at)
    message = (
        f"The listings refresh requested at {requested_at} for this seller and marketplace is pending and stands "
        "for this one (one per 15 minutes)."
        if refresh.joined
        else "Amazon's listings for this seller and marketplace will be read again."
    )
    body = RefreshQueued(status="queued", requested_at=requested_at, coalesced=refresh.joined, message=message)
    return Response(status_code=202, content_type="application/json", body=body)


@router.get("/accounts/<account_id>/sku-report", tags=["stock sync"])
def sku_report(account_id: AccountId, limit: Annotated[int, Query(ge=1, le=5000)] = 1000) -> SkuReportOut:
    found = container().stock_runs.sku_report(client_of(router), account_id)
    fulfilled = found.fulfilled_by_amazon
    full: dict[str, list[Any]] = {
        **found.report.to_dict(),
        "fulfilled_by_amazon": [{"amazon_sku": sku, "channel": channel} for sku, channel in sorted(fulfilled.items())],
    }
    truncated = any(len(v) > limit for v in full.values())
    return SkuReportOut(
        listings_taken_at=iso(found.listings_taken_at),
        summary={**found.report.summary(), "fulfilled_by_amazon": len(fulfilled)},
        truncated=truncated,
        **{name: values[:limit] for name, values in full.items()},
    )
