"""Listings Items 2021-08-01."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import Field

from oms_amazon.adapters.sp_api.models.base import (
    AmazonModel,
    Pagination,
)


class ListingsIssue(AmazonModel):
    code: str
    message: str
    severity: str  # ERROR | WARNING | INFO
    attribute_names: list[str] = Field(default_factory=list, alias="attributeNames")
    categories: list[str] = Field(default_factory=list)


class ItemIdentifier(AmazonModel):
    marketplace_id: str | None = Field(default=None, alias="marketplaceId")
    asin: str | None = None


class ListingsItemSubmission(AmazonModel):
    sku: str
    status: str  # ACCEPTED | INVALID | VALID
    submission_id: str = Field(alias="submissionId")
    issues: list[ListingsIssue] = Field(default_factory=list)
    identifiers: list[ItemIdentifier] = Field(default_factory=list)

    @property
    def accepted(self) -> bool:
        return self.status in {"ACCEPTED", "VALID"}


class ItemSummary(AmazonModel):
    marketplace_id: str = Field(alias="marketplaceId")
    product_type: str | None = Field(default=None, alias="productType")
    asin: str | None = None
    condition_type: str | None = Field(default=None, alias="conditionType")
    status: list[str] = Field(default_factory=list)
    item_name: str | None = Field(default=None, alias="itemName")
    created_date: datetime | None = Field(default=None, alias="createdDate")
    last_updated_date: datetime | None = Field(default=None, alias="lastUpdatedDate")


class FulfillmentAvailability(AmazonModel):
    fulfillment_channel_code: str = Field(alias="fulfillmentChannelCode")
    quantity: int | None = None


class ListingsItem(AmazonModel):
    sku: str
    summaries: list[ItemSummary] = Field(default_factory=list)
    fulfillment_availability: list[FulfillmentAvailability] = Field(
        default_factory=list, alias="fulfillmentAvailability"
    )
    issues: list[ListingsIssue] = Field(default_factory=list)
    attributes: dict[str, Any] | None = None


class ListingsItemsPage(AmazonModel):
    number_of_results: int = Field(alias="numberOfResults")
    items: list[ListingsItem]
    pagination: Pagination | None = None

    @property
    def next_token(self) -> str | None:
        return self.pagination.next_token if self.pagination else None
