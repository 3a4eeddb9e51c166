"""Sellers v1."""

from __future__ import annotations

from oms_amazon.adapters.sp_api.builders.base import SpApiRequest


def get_marketplace_participations() -> SpApiRequest:
    return SpApiRequest("getMarketplaceParticipations", "GET", "/sellers/v1/marketplaceParticipations")
