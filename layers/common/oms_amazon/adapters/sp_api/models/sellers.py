"""Sellers v1."""

from __future__ import annotations

from pydantic import Field

from oms_amazon.adapters.sp_api.models.base import (
    AmazonModel,
)


class SellerMarketplace(AmazonModel):
    id: str
    name: str | None = None
    country_code: str | None = Field(default=None, alias="countryCode")
    default_currency_code: str | None = Field(default=None, alias="defaultCurrencyCode")
    default_language_code: str | None = Field(default=None, alias="defaultLanguageCode")
    domain_name: str | None = Field(default=None, alias="domainName")


class Participation(AmazonModel):
    is_participating: bool = Field(alias="isParticipating")
    has_suspended_listings: bool = Field(alias="hasSuspendedListings")


class MarketplaceParticipation(AmazonModel):
    marketplace: SellerMarketplace
    participation: Participation
    store_name: str | None = Field(default=None, alias="storeName")
