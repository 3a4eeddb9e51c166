"""Reports 2021-06-30."""

from __future__ import annotations

from datetime import datetime

from pydantic import Field

from oms_amazon.adapters.sp_api.models.base import (
    TERMINAL_PROCESSING_STATUSES,
    AmazonModel,
    ProcessingStatus,
)


class CreateReportResult(AmazonModel):
    report_id: str = Field(alias="reportId")


class Report(AmazonModel):
    report_id: str = Field(alias="reportId")
    report_type: str = Field(alias="reportType")
    created_time: datetime = Field(alias="createdTime")
    processing_status: ProcessingStatus = Field(alias="processingStatus")
    marketplace_ids: list[str] = Field(default_factory=list, alias="marketplaceIds")
    data_start_time: datetime | None = Field(default=None, alias="dataStartTime")
    data_end_time: datetime | None = Field(default=None, alias="dataEndTime")
    processing_start_time: datetime | None = Field(default=None, alias="processingStartTime")
    processing_end_time: datetime | None = Field(default=None, alias="processingEndTime")
    report_document_id: str | None = Field(default=None, alias="reportDocumentId")

    @property
    def is_finished(self) -> bool:
        return self.processing_status in TERMINAL_PROCESSING_STATUSES


class ReportDocument(AmazonModel):
    report_document_id: str = Field(alias="reportDocumentId")
    url: str = Field(repr=False)
    compression_algorithm: str | None = Field(default=None, alias="compressionAlgorithm")
