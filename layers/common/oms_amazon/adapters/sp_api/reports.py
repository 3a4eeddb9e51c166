"""Reports 2021-06-30: requesting a report, following it, and reading its document, whole or as it arrives."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import TypeVar

from oms_amazon.adapters.sp_api import builders, documents
from oms_amazon.adapters.sp_api.builders import DateTimeLike
from oms_amazon.adapters.sp_api.models import CreateReportResult, Report, ReportDocument
from oms_amazon.adapters.sp_api.responses import parse
from oms_amazon.adapters.sp_api.transport import Operations

_T = TypeVar("_T")
_DOWNLOAD = "downloadReportDocument"


class ReportsApi(Operations):
    def create_report(
        self,
        *,
        marketplace_ids: Sequence[str],
        report_type: str = builders.MERCHANT_LISTINGS_REPORT,
        data_start_time: DateTimeLike | None = None,
        data_end_time: DateTimeLike | None = None,
        report_options: Mapping[str, str] | None = None,
    ) -> CreateReportResult:
        request = builders.create_report(
            marketplace_ids=marketplace_ids,
            report_type=report_type,
            data_start_time=data_start_time,
            data_end_time=data_end_time,
            report_options=report_options,
        )
        return parse(CreateReportResult, self._transport.send(request))

    def get_report(self, report_id: str) -> Report:
        return parse(Report, self._transport.send(builders.get_report(report_id)))

    def get_report_document(self, report_document_id: str) -> ReportDocument:
        return parse(ReportDocument, self._transport.send(builders.get_report_document(report_document_id)))

    def download_report_document(self, document: ReportDocument) -> str:
        """The report's text, gunzipped when compressed and decoded (declared charset, else UTF-8/cp1252).
        The whole document in memory: for a small one (a FATAL report's reason); `read_report_document`
        reads a large one as it arrives."""
        content, content_type = self._transport.documents.download(
            document.url, document.compression_algorithm, operation=_DOWNLOAD
        )
        return documents.decode_text(content, content_type)

    def fetch_report_text(self, report_document_id: str) -> str:
        return self.download_report_document(self.get_report_document(report_document_id))

    def read_report_document(self, document: ReportDocument, read: Callable[[Iterator[str]], _T]) -> _T:
        """`read(lines)` over the report's text lines as they arrive: gunzipped and decoded on the fly
        (`documents.text_lines`), so neither the compressed nor the decoded document is ever held whole,
        whatever its size. A transfer cut off part-way is read again from the start within the retry
        policy, so `read` must start afresh on each call (as a parse into a new value does)."""
        return self._transport.documents.read_lines(
            document.url, document.compression_algorithm, read, operation=_DOWNLOAD
        )

    def read_report(self, report_document_id: str, read: Callable[[Iterator[str]], _T]) -> _T:
        """getReportDocument, then `read_report_document` (the URL expires after five minutes)."""
        return self.read_report_document(self.get_report_document(report_document_id), read)
