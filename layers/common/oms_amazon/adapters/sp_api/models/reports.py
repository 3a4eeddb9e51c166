"""Reports 2021-06-30."""

from __future__ import annotations

from datetime import datetime

from pydantic import Field

from oms_amazon.adapters.sp_api.models.base import AmazonModel, ProcessingJob


class CreateReportResult(AmazonModel):
    report_id: str = Field(alias="reportId")


class Report(ProcessingJob):
    report_id: str = Field(alias="reportId")
    report_type: str = Field(alias="reportType")
    data_start_time: datetime | None = Field(default=None, alias="dataStartTime")
    data_end_time: datetime | None = Field(default=None, alias="dataEndTime")
    report_document_id: str | None = Field(default=None, alias="reportDocumentId")


class ReportDocument(AmazonModel):
    report_document_id: str = Field(alias="reportDocumentId")
    url: str = Field(repr=False)
    compression_algorithm: str | None = Field(default=None, alias="compressionAlgorithm")
