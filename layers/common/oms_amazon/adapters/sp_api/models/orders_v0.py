"""Orders v0 (getOrders, getOrderItems): PascalCase fields inside a `payload` wrapper."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from pydantic import Field

from oms_amazon.adapters.sp_api.models.base import (
    AmazonModel,
)


class MoneyV0(AmazonModel):
    currency_code: str | None = Field(default=None, alias="CurrencyCode")
    amount: Decimal | None = Field(default=None, alias="Amount")


class AddressV0(AmazonModel):
    name: str | None = Field(default=None, alias="Name")
    company_name: str | None = Field(default=None, alias="CompanyName")
    address_line1: str | None = Field(default=None, alias="AddressLine1")
    address_line2: str | None = Field(default=None, alias="AddressLine2")
    address_line3: str | None = Field(default=None, alias="AddressLine3")
    city: str | None = Field(default=None, alias="City")
    county: str | None = Field(default=None, alias="County")
    district: str | None = Field(default=None, alias="District")
    state_or_region: str | None = Field(default=None, alias="StateOrRegion")
    postal_code: str | None = Field(default=None, alias="PostalCode")
    country_code: str | None = Field(default=None, alias="CountryCode")
    phone: str | None = Field(default=None, alias="Phone")
    address_type: str | None = Field(default=None, alias="AddressType")


class BuyerTaxInfoV0(AmazonModel):
    company_legal_name: str | None = Field(default=None, alias="CompanyLegalName")


class BuyerInfoV0(AmazonModel):
    """The order's buyer: only with a Restricted Data Token for `buyerInfo`."""

    buyer_email: str | None = Field(default=None, alias="BuyerEmail")
    buyer_name: str | None = Field(default=None, alias="BuyerName")
    purchase_order_number: str | None = Field(default=None, alias="PurchaseOrderNumber")
    buyer_tax_info: BuyerTaxInfoV0 | None = Field(default=None, alias="BuyerTaxInfo")


class OrderV0(AmazonModel):
    amazon_order_id: str = Field(alias="AmazonOrderId")
    purchase_date: datetime = Field(alias="PurchaseDate")
    last_update_date: datetime = Field(alias="LastUpdateDate")
    order_status: str = Field(alias="OrderStatus")
    seller_order_id: str | None = Field(default=None, alias="SellerOrderId")
    fulfillment_channel: str | None = Field(default=None, alias="FulfillmentChannel")  # MFN | AFN
    sales_channel: str | None = Field(default=None, alias="SalesChannel")
    marketplace_id: str | None = Field(default=None, alias="MarketplaceId")
    ship_service_level: str | None = Field(default=None, alias="ShipServiceLevel")  # free text, e.g. "Std UK Dom_1"
    shipment_service_level_category: str | None = Field(default=None, alias="ShipmentServiceLevelCategory")
    order_total: MoneyV0 | None = Field(default=None, alias="OrderTotal")
    order_type: str | None = Field(default=None, alias="OrderType")
    number_of_items_shipped: int | None = Field(default=None, alias="NumberOfItemsShipped")
    number_of_items_unshipped: int | None = Field(default=None, alias="NumberOfItemsUnshipped")
    is_prime: bool = Field(default=False, alias="IsPrime")
    is_premium_order: bool = Field(default=False, alias="IsPremiumOrder")
    is_business_order: bool = Field(default=False, alias="IsBusinessOrder")
    is_replacement_order: bool = Field(default=False, alias="IsReplacementOrder")
    is_ispu: bool = Field(default=False, alias="IsISPU")  # in-store pickup
    easy_ship_shipment_status: str | None = Field(default=None, alias="EasyShipShipmentStatus")
    earliest_ship_date: datetime | None = Field(default=None, alias="EarliestShipDate")
    latest_ship_date: datetime | None = Field(default=None, alias="LatestShipDate")
    earliest_delivery_date: datetime | None = Field(default=None, alias="EarliestDeliveryDate")
    latest_delivery_date: datetime | None = Field(default=None, alias="LatestDeliveryDate")
    shipping_address: AddressV0 | None = Field(default=None, alias="ShippingAddress")
    buyer_info: BuyerInfoV0 | None = Field(default=None, alias="BuyerInfo")


class GetOrdersPage(AmazonModel):
    """`payload` of getOrders. `created_before`/`last_updated_before` are kept as Amazon's strings: the
    sandbox sends epoch-style values there."""

    orders: list[OrderV0] = Field(alias="Orders")
    next_token: str | None = Field(default=None, alias="NextToken")
    last_updated_before: str | None = Field(default=None, alias="LastUpdatedBefore")
    created_before: str | None = Field(default=None, alias="CreatedBefore")


class ItemBuyerInfoV0(AmazonModel):
    """A line's gift message and wrap: only with a Restricted Data Token for `buyerInfo`."""

    gift_message_text: str | None = Field(default=None, alias="GiftMessageText")
    gift_wrap_level: str | None = Field(default=None, alias="GiftWrapLevel")


class OrderItemV0(AmazonModel):
    asin: str = Field(alias="ASIN")
    order_item_id: str = Field(alias="OrderItemId")
    quantity_ordered: int = Field(alias="QuantityOrdered")
    seller_sku: str | None = Field(default=None, alias="SellerSKU")
    title: str | None = Field(default=None, alias="Title")
    quantity_shipped: int | None = Field(default=None, alias="QuantityShipped")
    item_price: MoneyV0 | None = Field(default=None, alias="ItemPrice")  # line total (unit price x quantity)
    item_tax: MoneyV0 | None = Field(default=None, alias="ItemTax")
    shipping_price: MoneyV0 | None = Field(default=None, alias="ShippingPrice")
    promotion_discount: MoneyV0 | None = Field(default=None, alias="PromotionDiscount")
    is_gift: str | None = Field(default=None, alias="IsGift")  # Amazon sends the string "true"/"false"
    condition_id: str | None = Field(default=None, alias="ConditionId")
    buyer_info: ItemBuyerInfoV0 | None = Field(default=None, alias="BuyerInfo")


class GetOrderItemsPage(AmazonModel):
    amazon_order_id: str = Field(alias="AmazonOrderId")
    order_items: list[OrderItemV0] = Field(alias="OrderItems")
    next_token: str | None = Field(default=None, alias="NextToken")
