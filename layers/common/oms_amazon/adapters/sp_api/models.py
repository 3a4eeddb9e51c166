"""Typed responses of the SP-API operations the connector uses, and the typed inputs it sends.

Response models follow Amazon's Swagger models (shared/amazon-sp-api/models): Amazon's field names are the
aliases, Python names are snake_case. Only the fields the connector reads are declared; everything else
is kept (`extra="allow"`, reachable through `model_extra`) so a new Amazon field never breaks parsing.
Enumerations are plain strings for the same reason: Amazon adds values without a version bump.

Fields Amazon marks required are required here, so a body of the wrong shape fails loudly as
`UnexpectedResponse` instead of silently turning into empty data.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field


class AmazonModel(BaseModel):
    model_config = ConfigDict(extra="allow", frozen=True, validate_by_name=True, validate_by_alias=True)


# --------------------------------------------------------------------------------------------------------
# Orders v0 (getOrders, getOrderItems): PascalCase fields inside a `payload` wrapper
# --------------------------------------------------------------------------------------------------------


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


# --------------------------------------------------------------------------------------------------------
# Orders 2026-01-01 (searchOrders): camelCase, no wrapper, items inside each order
# --------------------------------------------------------------------------------------------------------


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


class Pagination(AmazonModel):
    next_token: str | None = Field(default=None, alias="nextToken")
    previous_token: str | None = Field(default=None, alias="previousToken")


class SearchOrdersPage(AmazonModel):
    orders: list[Order2026]
    pagination: Pagination | None = None
    last_updated_before: datetime | None = Field(default=None, alias="lastUpdatedBefore")
    created_before: datetime | None = Field(default=None, alias="createdBefore")

    @property
    def next_token(self) -> str | None:
        return self.pagination.next_token if self.pagination else None


# --------------------------------------------------------------------------------------------------------
# Feeds 2021-06-30 and Reports 2021-06-30
# --------------------------------------------------------------------------------------------------------

ProcessingStatus = str  # CANCELLED | DONE | FATAL | IN_PROGRESS | IN_QUEUE
TERMINAL_PROCESSING_STATUSES = frozenset({"CANCELLED", "DONE", "FATAL"})


class FeedDocumentUpload(AmazonModel):
    """createFeedDocument's answer: where to PUT the feed content (a pre-signed URL; never log it whole)."""

    feed_document_id: str = Field(alias="feedDocumentId")
    url: str = Field(repr=False)


class CreateFeedResult(AmazonModel):
    feed_id: str = Field(alias="feedId")


class Feed(AmazonModel):
    feed_id: str = Field(alias="feedId")
    feed_type: str = Field(alias="feedType")
    created_time: datetime = Field(alias="createdTime")
    processing_status: ProcessingStatus = Field(alias="processingStatus")
    marketplace_ids: list[str] = Field(default_factory=list, alias="marketplaceIds")
    processing_start_time: datetime | None = Field(default=None, alias="processingStartTime")
    processing_end_time: datetime | None = Field(default=None, alias="processingEndTime")
    result_feed_document_id: str | None = Field(default=None, alias="resultFeedDocumentId")

    @property
    def is_finished(self) -> bool:
        return self.processing_status in TERMINAL_PROCESSING_STATUSES


class FeedsPage(AmazonModel):
    feeds: list[Feed] = Field(default_factory=list)
    next_token: str | None = Field(default=None, alias="nextToken")


class FeedDocument(AmazonModel):
    feed_document_id: str = Field(alias="feedDocumentId")
    url: str = Field(repr=False)
    compression_algorithm: str | None = Field(default=None, alias="compressionAlgorithm")  # GZIP or absent


class CreateReportResult(AmazonModel):
    report_id: str = Field(alias="reportId")


class Report(AmazonModel):
    report_id: str = Field(alias="reportId")
    report_type: str = Field(alias="reportType")
    created_time: datetime = Field(alias="createdTime")
    processing_status: ProcessingStatus = Field(alias="processingStatus")
    marketplace_ids: list[str] = Field(default_factory=list, alias="marketplaceIds")
    data_start_time: datetime | None = Field(default=None, alias="dataStartTime")
    data_end_time: datetime | None = Field(default=None, alias="dataEndTime")
    processing_start_time: datetime | None = Field(default=None, alias="processingStartTime")
    processing_end_time: datetime | None = Field(default=None, alias="processingEndTime")
    report_document_id: str | None = Field(default=None, alias="reportDocumentId")

    @property
    def is_finished(self) -> bool:
        return self.processing_status in TERMINAL_PROCESSING_STATUSES


class ReportDocument(AmazonModel):
    report_document_id: str = Field(alias="reportDocumentId")
    url: str = Field(repr=False)
    compression_algorithm: str | None = Field(default=None, alias="compressionAlgorithm")


# --------------------------------------------------------------------------------------------------------
# Listings Items 2021-08-01
# --------------------------------------------------------------------------------------------------------


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


# --------------------------------------------------------------------------------------------------------
# Sellers v1
# --------------------------------------------------------------------------------------------------------


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


# --------------------------------------------------------------------------------------------------------
# Inputs
# --------------------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ConfirmShipmentItem:
    order_item_id: str
    quantity: int
    transparency_codes: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if not self.order_item_id:
            raise ValueError("order_item_id is required")
        if self.quantity < 1:
            raise ValueError("quantity must be at least 1")


@dataclass(frozen=True, slots=True)
class PackageDetail:
    """One package of a confirmShipment call (Orders v0 `PackageDetail`).

    `ship_date` is a datetime (sent as ISO 8601 UTC) or a string passed through as is.
    """

    package_reference_id: str
    carrier_code: str
    tracking_number: str
    ship_date: datetime | str
    items: tuple[ConfirmShipmentItem, ...]
    carrier_name: str | None = None
    shipping_method: str | None = None
    ship_from_supply_source_id: str | None = None

    def __post_init__(self) -> None:
        if not (self.package_reference_id.isascii() and self.package_reference_id.isdigit()):
            raise ValueError("package_reference_id must be a positive numeric string")
        if int(self.package_reference_id) < 1:
            raise ValueError("package_reference_id must be a positive numeric string")
        if not self.carrier_code:
            raise ValueError("carrier_code is required in every marketplace")
        if self.carrier_code == "Other" and not self.carrier_name:
            raise ValueError("carrier_name is required when carrier_code is Other")
        if not self.tracking_number:
            raise ValueError("tracking_number is required")
        if not self.items:
            raise ValueError("a package needs at least one order item")


PatchOp = Literal["add", "replace", "merge", "delete"]


@dataclass(frozen=True, slots=True)
class PatchOperation:
    op: PatchOp
    path: str
    value: list[dict[str, Any]] | None = field(default=None)

    def to_json(self) -> dict[str, Any]:
        body: dict[str, Any] = {"op": self.op, "path": self.path}
        if self.value is not None:
            body["value"] = self.value
        return body
