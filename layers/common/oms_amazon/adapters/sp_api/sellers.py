"""Sellers v1: the marketplaces a seller takes part in."""

from __future__ import annotations

from pydantic import TypeAdapter, ValidationError

from oms_amazon.adapters.sp_api import builders
from oms_amazon.adapters.sp_api.models import MarketplaceParticipation
from oms_amazon.adapters.sp_api.responses import payload, unexpected
from oms_amazon.adapters.sp_api.transport import Operations

_PARTICIPATIONS = TypeAdapter(list[MarketplaceParticipation])


class SellersApi(Operations):
    def get_marketplace_participations(self) -> list[MarketplaceParticipation]:
        request = builders.get_marketplace_participations()
        answer = payload(self._transport.send(request))
        try:
            return _PARTICIPATIONS.validate_python(answer)
        except ValidationError as exc:
            raise unexpected(request.operation, exc) from None
