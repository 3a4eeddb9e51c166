"""Reports 2021-06-30."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from oms_amazon.adapters.sp_api.builders.base import (
    DateTimeLike,
    SpApiRequest,
    format_datetime,
    marketplaces_param,
    path_segment,
)

MERCHANT_LISTINGS_REPORT = "GET_MERCHANT_LISTINGS_ALL_DATA"


def create_report(
    *,
    marketplace_ids: Sequence[str],
    report_type: str = MERCHANT_LISTINGS_REPORT,
    data_start_time: DateTimeLike | None = None,
    data_end_time: DateTimeLike | None = None,
    report_options: Mapping[str, str] | None = None,
) -> SpApiRequest:
    """createReport: `POST /reports/2021-06-30/reports` (default: every listing of the seller, exact SKU case)."""
    if not report_type:
        raise ValueError("report_type is required")
    marketplaces_param(marketplace_ids, "marketplace_ids")
    body: dict[str, Any] = {"reportType": report_type, "marketplaceIds": list(marketplace_ids)}
    if data_start_time is not None:
        body["dataStartTime"] = format_datetime(data_start_time, milliseconds=True)
    if data_end_time is not None:
        body["dataEndTime"] = format_datetime(data_end_time, milliseconds=True)
    if report_options:
        body["reportOptions"] = dict(report_options)
    return SpApiRequest("createReport", "POST", "/reports/2021-06-30/reports", json=body)


def get_report(report_id: str) -> SpApiRequest:
    return SpApiRequest("getReport", "GET", f"/reports/2021-06-30/reports/{path_segment(report_id, 'report_id')}")


def get_report_document(report_document_id: str) -> SpApiRequest:
    return SpApiRequest(
        "getReportDocument",
        "GET",
        f"/reports/2021-06-30/documents/{path_segment(report_document_id, 'report_document_id')}",
    )
