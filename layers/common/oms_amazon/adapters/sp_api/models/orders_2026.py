"""Orders 2026-01-01 (searchOrders, getOrder): camelCase, no wrapper, items inside each order."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from pydantic import Field

from oms_amazon.adapters.sp_api.models.base import (
    AmazonModel,
    Pagination,
)


class Money2026(AmazonModel):
    amount: Decimal
    currency_code: str = Field(alias="currencyCode")


class OrderAlias(AmazonModel):
    alias_id: str = Field(alias="aliasId")
    alias_type: str = Field(alias="aliasType")


class SalesChannel(AmazonModel):
    channel_name: str = Field(alias="channelName")
    marketplace_id: str | None = Field(default=None, alias="marketplaceId")
    marketplace_name: str | None = Field(default=None, alias="marketplaceName")


class DateTimeRange(AmazonModel):
    earliest: datetime | None = Field(default=None, alias="earliestDateTime")
    latest: datetime | None = Field(default=None, alias="latestDateTime")


class OrderFulfillment2026(AmazonModel):
    fulfillment_status: str = Field(alias="fulfillmentStatus")
    fulfilled_by: str | None = Field(default=None, alias="fulfilledBy")  # MERCHANT | AMAZON
    fulfillment_service_level: str | None = Field(default=None, alias="fulfillmentServiceLevel")
    ship_by_window: DateTimeRange | None = Field(default=None, alias="shipByWindow")
    deliver_by_window: DateTimeRange | None = Field(default=None, alias="deliverByWindow")


class CustomerAddress(AmazonModel):
    name: str | None = None
    company_name: str | None = Field(default=None, alias="companyName")
    address_line1: str | None = Field(default=None, alias="addressLine1")
    address_line2: str | None = Field(default=None, alias="addressLine2")
    address_line3: str | None = Field(default=None, alias="addressLine3")
    city: str | None = None
    district_or_county: str | None = Field(default=None, alias="districtOrCounty")
    state_or_region: str | None = Field(default=None, alias="stateOrRegion")
    postal_code: str | None = Field(default=None, alias="postalCode")
    country_code: str | None = Field(default=None, alias="countryCode")
    phone: str | None = None
    address_type: str | None = Field(default=None, alias="addressType")


class DeliveryPreference(AmazonModel):
    drop_off_location: str | None = Field(default=None, alias="dropOffLocation")
    address_instruction: str | None = Field(default=None, alias="addressInstruction")


class Recipient(AmazonModel):
    delivery_address: CustomerAddress | None = Field(default=None, alias="deliveryAddress")
    delivery_preference: DeliveryPreference | None = Field(default=None, alias="deliveryPreference")


class Buyer2026(AmazonModel):
    buyer_name: str | None = Field(default=None, alias="buyerName")
    buyer_email: str | None = Field(default=None, alias="buyerEmail")
    buyer_company_name: str | None = Field(default=None, alias="buyerCompanyName")
    buyer_purchase_order_number: str | None = Field(default=None, alias="buyerPurchaseOrderNumber")


class ProceedsBreakdown(AmazonModel):
    type: str  # ITEM, SHIPPING, GIFT_WRAP, TAX, DISCOUNT, ...
    subtotal: Money2026


class OrderProceeds(AmazonModel):
    grand_total: Money2026 | None = Field(default=None, alias="grandTotal")
    breakdowns: list[ProceedsBreakdown] = Field(default_factory=list)

    def subtotal(self, kind: str) -> Money2026 | None:
        return next((b.subtotal for b in self.breakdowns if b.type == kind), None)


class ItemProceeds(AmazonModel):
    proceeds_total: Money2026 | None = Field(default=None, alias="proceedsTotal")
    breakdowns: list[ProceedsBreakdown] = Field(default_factory=list)

    def subtotal(self, kind: str) -> Money2026 | None:
        return next((b.subtotal for b in self.breakdowns if b.type == kind), None)


class ItemCondition2026(AmazonModel):
    condition_type: str | None = Field(default=None, alias="conditionType")
    condition_subtype: str | None = Field(default=None, alias="conditionSubtype")


class GiftOption2026(AmazonModel):
    gift_message: str | None = Field(default=None, alias="giftMessage")
    gift_wrap_level: str | None = Field(default=None, alias="giftWrapLevel")


class ItemPacking2026(AmazonModel):
    gift_option: GiftOption2026 | None = Field(default=None, alias="giftOption")


class AssociatedOrder(AmazonModel):
    order_id: str | None = Field(default=None, alias="orderId")
    association_type: str | None = Field(default=None, alias="associationType")


class ItemPrice2026(AmazonModel):
    unit_price: Money2026 | None = Field(default=None, alias="unitPrice")  # per unit, unlike v0's ItemPrice
    price_designation: str | None = Field(default=None, alias="priceDesignation")


class ItemProduct(AmazonModel):
    asin: str | None = None
    title: str | None = None
    seller_sku: str | None = Field(default=None, alias="sellerSku")
    condition: ItemCondition2026 | None = None
    price: ItemPrice2026 | None = None


class ItemFulfillment2026(AmazonModel):
    quantity_fulfilled: int | None = Field(default=None, alias="quantityFulfilled")
    quantity_unfulfilled: int | None = Field(default=None, alias="quantityUnfulfilled")
    packing: ItemPacking2026 | None = None


class OrderItem2026(AmazonModel):
    order_item_id: str = Field(alias="orderItemId")
    quantity_ordered: int = Field(alias="quantityOrdered")
    product: ItemProduct
    programs: list[str] = Field(default_factory=list)
    fulfillment: ItemFulfillment2026 | None = None
    proceeds: ItemProceeds | None = None


class OrderPackage(AmazonModel):
    package_reference_id: str = Field(alias="packageReferenceId")
    carrier: str | None = None
    shipping_service: str | None = Field(default=None, alias="shippingService")
    tracking_number: str | None = Field(default=None, alias="trackingNumber")
    ship_time: datetime | None = Field(default=None, alias="shipTime")


class Order2026(AmazonModel):
    order_id: str = Field(alias="orderId")
    created_time: datetime = Field(alias="createdTime")
    last_updated_time: datetime = Field(alias="lastUpdatedTime")
    sales_channel: SalesChannel = Field(alias="salesChannel")
    order_items: list[OrderItem2026] = Field(alias="orderItems")
    order_aliases: list[OrderAlias] = Field(default_factory=list, alias="orderAliases")
    programs: list[str] = Field(default_factory=list)  # PRIME, PREMIUM, AMAZON_BUSINESS, AMAZON_EASY_SHIP, ...
    associated_orders: list[AssociatedOrder] = Field(default_factory=list, alias="associatedOrders")
    recipient: Recipient | None = None
    buyer: Buyer2026 | None = None
    proceeds: OrderProceeds | None = None
    fulfillment: OrderFulfillment2026 | None = None
    packages: list[OrderPackage] = Field(default_factory=list)

    @property
    def seller_order_id(self) -> str | None:
        return next((a.alias_id for a in self.order_aliases if a.alias_type == "SELLER_ORDER_ID"), None)


class SearchOrdersPage(AmazonModel):
    orders: list[Order2026]
    pagination: Pagination | None = None
    last_updated_before: datetime | None = Field(default=None, alias="lastUpdatedBefore")
    created_before: datetime | None = Field(default=None, alias="createdBefore")

    @property
    def next_token(self) -> str | None:
        return self.pagination.next_token if self.pagination else None
