"""Fulfilment: confirming a merchant-fulfilled order's shipment (Orders v0 confirmShipment, not deprecated)."""

from __future__ import annotations

from oms_amazon.adapters.sp_api import builders
from oms_amazon.adapters.sp_api.models import PackageDetail
from oms_amazon.adapters.sp_api.transport import Operations


class ShippingApi(Operations):
    def confirm_shipment(self, order_id: str, *, marketplace_id: str, package: PackageDetail) -> None:
        """Confirm one package of a merchant-fulfilled order (204 on success)."""
        self._transport.send(builders.confirm_shipment(order_id, marketplace_id=marketplace_id, package=package))
