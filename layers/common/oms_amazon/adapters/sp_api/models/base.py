"""What every response model shares: Amazon's field names as aliases, unknown fields kept, and the page
token wrapper of the newer APIs."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class AmazonModel(BaseModel):
    model_config = ConfigDict(extra="allow", frozen=True, validate_by_name=True, validate_by_alias=True)


class Pagination(AmazonModel):
    next_token: str | None = Field(default=None, alias="nextToken")
    previous_token: str | None = Field(default=None, alias="previousToken")


ProcessingStatus = str  # CANCELLED | DONE | FATAL | IN_PROGRESS | IN_QUEUE
TERMINAL_PROCESSING_STATUSES = frozenset({"CANCELLED", "DONE", "FATAL"})
