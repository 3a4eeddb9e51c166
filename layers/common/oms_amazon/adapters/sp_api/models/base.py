"""What every response model shares: Amazon's field names as aliases, unknown fields kept, the page
token wrapper of the newer APIs, and what a feed and a report share while Amazon processes them."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field


class AmazonModel(BaseModel):
    model_config = ConfigDict(extra="allow", frozen=True, validate_by_name=True, validate_by_alias=True)


class Pagination(AmazonModel):
    next_token: str | None = Field(default=None, alias="nextToken")
    previous_token: str | None = Field(default=None, alias="previousToken")


ProcessingStatus = str  # CANCELLED | DONE | FATAL | IN_PROGRESS | IN_QUEUE
TERMINAL_PROCESSING_STATUSES = frozenset({"CANCELLED", "DONE", "FATAL"})


class ProcessingJob(AmazonModel):
    """The fields Feeds and Reports 2021-06-30 give a feed and a report alike: when it was created, for which
    marketplaces, and how far Amazon has got with it. Each names its own id, type and result document."""

    created_time: datetime = Field(alias="createdTime")
    processing_status: ProcessingStatus = Field(alias="processingStatus")
    marketplace_ids: list[str] = Field(default_factory=list, alias="marketplaceIds")
    processing_start_time: datetime | None = Field(default=None, alias="processingStartTime")
    processing_end_time: datetime | None = Field(default=None, alias="processingEndTime")

    @property
    def is_finished(self) -> bool:
        return self.processing_status in TERMINAL_PROCESSING_STATUSES
