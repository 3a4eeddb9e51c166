"""What Amazon holds for the simulated sellers: listings, orders, shipments, feeds, reports, documents.

All of it lives in memory, keyed by seller; the `Simulator` guards it with one lock. Control-API
input (the v0 order shape, listing items) is checked and normalised here, with a clear message for
anything Amazon could never hold.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any

from .errors import ControlError
from .marketplaces import Marketplace, by_code_or_id
from .roles import ALL_ROLES
from .times import iso, parse_iso

ORDER_ID = re.compile(r"^\d{3}-\d{7}-\d{7}$")
V0_ORDER_STATUSES = (
    "PendingAvailability",
    "Pending",
    "Unshipped",
    "PartiallyShipped",
    "Shipped",
    "InvoiceUnconfirmed",
    "Canceled",
    "Unfulfillable",
)
V0_SERVICE_CATEGORIES = (
    "Expedited",
    "FreeEconomy",
    "NextDay",
    "Priority",
    "SameDay",
    "SecondDay",
    "Scheduled",
    "Standard",
)
# Amazon shows an address only once an order can be shipped (ordersV0 `ShippingAddress`: "only available for
# orders with the following status values: Unshipped, PartiallyShipped, Shipped and InvoiceUnconfirmed"), and
# buyer data in the same statuses ("Access Orders PII": UNSHIPPED, PARTIALLY_SHIPPED or SHIPPED, where v0's
# InvoiceUnconfirmed reads as SHIPPED; Amazon's developer support in amzn/selling-partner-api-models#4536).
ADDRESS_VISIBLE_STATUSES = ("Unshipped", "PartiallyShipped", "Shipped", "InvoiceUnconfirmed")
PII_STATUSES = ADDRESS_VISIBLE_STATUSES
SHIPPABLE_STATUSES = ("Unshipped", "PartiallyShipped")
ADDRESS_FIELDS = (
    "Name",
    "CompanyName",
    "AddressLine1",
    "AddressLine2",
    "AddressLine3",
    "City",
    "County",
    "District",
    "StateOrRegion",
    "Municipality",
    "PostalCode",
    "CountryCode",
    "Phone",
    "AddressType",
)
ADDRESS_TYPES = ("Residential", "Commercial")
# v0 `BuyerInfo` has no company name: Amazon serves it as getOrderAddress's `BuyerCompanyName` and as 2026's
# `buyer.buyerCompanyName`, so the control input keeps it with the buyer.
BUYER_FIELDS = ("BuyerEmail", "BuyerName", "BuyerCompanyName", "PurchaseOrderNumber")
# v0 carries a delivery instruction only in getOrderAddress's `DeliveryPreferences` (2026:
# `recipient.deliveryPreference`); `AutomatedShippingSettings` is Amazon's carrier choice, not the buyer's.
DELIVERY_PREFERENCE_FIELDS = ("AddressInstructions", "DropOffLocation")
GIFT_FIELDS = ("GiftMessageText", "GiftWrapLevel")
CONDITIONS = ("New", "Used", "Collectible", "Refurbished", "Preorder", "Club")


@dataclass
class Seller:
    seller_id: str
    refresh_token: str
    marketplaces: list[Marketplace]
    store_name: str
    revoked: bool = False
    roles: frozenset[str] = ALL_ROLES  # the roles the seller's authorisation grants the app

    def marketplace(self, marketplace_id: str) -> Marketplace | None:
        return next((m for m in self.marketplaces if m.marketplace_id == marketplace_id), None)


# `fulfillment_channel_code` of the seller's own (merchant-fulfilled) offer; Amazon's networks are `AMAZON_NA`,
# `AMAZON_EU`, `AMAZON_FE`, … (Listings Items API attribute `fulfillment_availability`).
MERCHANT_CHANNEL = "DEFAULT"
AMAZON_CHANNEL = re.compile(r"^AMAZON_[A-Z]{2,}$")


@dataclass
class ChannelAvailability:
    """One entry of a listing's `fulfillment_availability` attribute (one fulfilment channel)."""

    quantity: int | None = None
    lead_time_to_ship_max_days: int | None = None
    restock_date: str | None = None  # ISO date


@dataclass
class Listing:
    sku: str
    marketplace: Marketplace
    product_type: str
    asin: str
    item_name: str
    price: Decimal | None
    created: datetime
    updated: datetime
    listing_id: str
    # How the offer is fulfilled: `DEFAULT` (the seller ships) or an Amazon network (FBA).
    fulfillment_channel: str = MERCHANT_CHANNEL
    # `fulfillment_availability` by channel code. The listing's own channel is always there; an FBA listing
    # gains a `DEFAULT` entry when someone sends it a merchant quantity, as Amazon records it
    # (amzn/selling-partner-api-models#2633, #2061).
    availability: dict[str, ChannelAvailability] = field(default_factory=dict)

    @property
    def is_fba(self) -> bool:
        return self.fulfillment_channel != MERCHANT_CHANNEL

    @property
    def quantity(self) -> int:
        """The quantity of the listing's own channel (for an FBA listing, Amazon's count)."""
        own = self.availability.get(self.fulfillment_channel)
        return (own.quantity or 0) if own else 0

    @property
    def merchant(self) -> ChannelAvailability | None:
        """The `DEFAULT` (merchant-fulfilled) entry, if the listing has one."""
        return self.availability.get(MERCHANT_CHANNEL)

    @property
    def status(self) -> list[str]:
        """An offer without stock in any channel stays discoverable but cannot be bought."""
        buyable = any((entry.quantity or 0) > 0 for entry in self.availability.values())
        return ["BUYABLE", "DISCOVERABLE"] if buyable else ["DISCOVERABLE"]


@dataclass
class OrderItem:
    order_item_id: str
    seller_sku: str
    asin: str
    title: str
    quantity_ordered: int
    item_price: Decimal | None  # the line total, as v0's ItemPrice
    base_shipped: int  # shipped before the simulator saw the order (from the control input)
    condition_id: str = "New"
    condition_subtype_id: str | None = "New"
    item_tax: Decimal | None = None
    shipping_price: Decimal | None = None
    promotion_discount: Decimal | None = None
    promotion_ids: tuple[str, ...] = ()
    is_gift: bool = False
    gift: dict[str, str] = field(default_factory=dict)  # GiftMessageText, GiftWrapLevel

    def unit_price(self, exponent: int) -> Decimal | None:
        if self.item_price is None or self.quantity_ordered == 0:
            return None
        return (self.item_price / self.quantity_ordered).quantize(Decimal(1).scaleb(-exponent))


@dataclass
class Shipment:
    package_reference_id: str
    carrier_code: str
    carrier_name: str | None
    shipping_method: str | None
    tracking_number: str
    ship_date: str
    items: list[tuple[str, int]]
    confirmed_at: datetime
    repeats: int = 0

    def to_json(self) -> dict[str, Any]:
        body: dict[str, Any] = {
            "packageReferenceId": self.package_reference_id,
            "carrierCode": self.carrier_code,
            "carrierName": self.carrier_name,
            "shippingMethod": self.shipping_method,
            "trackingNumber": self.tracking_number,
            "shipDate": self.ship_date,
            "orderItems": [{"orderItemId": item_id, "quantity": qty} for item_id, qty in self.items],
            "confirmedAt": iso(self.confirmed_at),
            "repeatedConfirmations": self.repeats,
        }
        return {k: v for k, v in body.items() if v is not None}


@dataclass
class Order:
    amazon_order_id: str
    marketplace: Marketplace
    purchase_date: datetime
    last_update_date: datetime
    status: str
    fulfillment_channel: str
    ship_service_level: str | None
    service_level_category: str | None
    is_prime: bool
    is_premium: bool
    is_business: bool
    seller_order_id: str | None
    order_type: str
    address: dict[str, str]
    items: list[OrderItem]
    earliest_ship: datetime
    latest_ship: datetime
    earliest_delivery: datetime | None
    latest_delivery: datetime | None
    shipments: list[Shipment] = field(default_factory=list)
    buyer: dict[str, str] = field(default_factory=dict)
    delivery_preferences: dict[str, str] = field(default_factory=dict)
    declared_total: Decimal | None = None  # the control input's OrderTotal, when it gave one
    replaced_order_id: str | None = None  # set for a replacement order
    is_ispu: bool = False
    easy_ship_status: str | None = None  # set for an Amazon Easy Ship order

    @property
    def is_replacement(self) -> bool:
        return self.replaced_order_id is not None

    def address_visible(self) -> bool:
        return self.status in ADDRESS_VISIBLE_STATUSES

    def may_show_pii(self) -> bool:
        """Amazon's conditions on the order itself for buyer data: merchant-fulfilled, and in a status
        where the merchant ships it. The caller's token and roles decide the rest."""
        return self.fulfillment_channel == "MFN" and self.status in PII_STATUSES

    def shipped(self, order_item_id: str) -> int:
        item = self.item(order_item_id)
        base = item.base_shipped if item else 0
        return base + sum(q for s in self.shipments for i, q in s.items if i == order_item_id)

    def item(self, order_item_id: str) -> OrderItem | None:
        return next((i for i in self.items if i.order_item_id == order_item_id), None)

    def units_shipped(self) -> int:
        return sum(self.shipped(i.order_item_id) for i in self.items)

    def units_unshipped(self) -> int:
        return sum(i.quantity_ordered for i in self.items) - self.units_shipped()

    def total(self) -> Decimal | None:
        """The OrderTotal: as given, or the items' prices plus shipping less promotions (tax is inside the
        price in the EU marketplaces, so it is not added)."""
        if self.declared_total is not None:
            return self.declared_total
        total = Decimal(0)
        for item in self.items:
            if item.item_price is None:
                return None
            total += item.item_price + (item.shipping_price or 0) - (item.promotion_discount or 0)
        return total


@dataclass
class Document:
    document_id: str
    seller_id: str
    kind: str  # "feed_input" | "feed_result" | "report"
    content_type: str
    content: bytes | None
    compression: str | None
    issued_real: float  # when its url was last handed out (real clock): urls expire


class Processing:
    """What a feed and a report share: Amazon's processing of them (IN_QUEUE -> IN_PROGRESS -> DONE, CANCELLED
    or FATAL), moved on by polls and simulated seconds, and how the Feeds and Reports models show it."""

    marketplace_ids: list[str]
    created: datetime
    created_sim: float
    status: str
    polls: int
    started: datetime | None
    ended: datetime | None

    @property
    def finished(self) -> bool:
        return self.status in ("DONE", "FATAL", "CANCELLED")

    def processing_json(self, head: dict[str, Any], result_key: str, result_id: str | None) -> dict[str, Any]:
        """The model's Feed or Report: `head` (its id and type), then what they share, then its result document."""
        body: dict[str, Any] = {
            **head,
            "marketplaceIds": self.marketplace_ids,
            "createdTime": iso(self.created),
            "processingStatus": self.status,
        }
        if self.started:
            body["processingStartTime"] = iso(self.started)
        if self.ended:
            body["processingEndTime"] = iso(self.ended)
        if result_id:
            body[result_key] = result_id
        return body


@dataclass
class Feed(Processing):
    feed_id: str
    seller_id: str
    feed_type: str
    marketplace_ids: list[str]
    input_document_id: str
    input_content: bytes | None
    created: datetime
    created_sim: float
    status: str = "IN_QUEUE"
    polls: int = 0
    started: datetime | None = None
    ended: datetime | None = None
    result_document_id: str | None = None
    report: dict[str, Any] | None = None
    fatal_message: str | None = None  # set by a `kind: fatal` fault: the feed ends FATAL with this issue

    def to_json(self) -> dict[str, Any]:
        return self.processing_json(
            {"feedId": self.feed_id, "feedType": self.feed_type}, "resultFeedDocumentId", self.result_document_id
        )


@dataclass
class Report(Processing):
    report_id: str
    seller_id: str
    report_type: str
    marketplace_ids: list[str]
    created: datetime
    created_sim: float
    status: str = "IN_QUEUE"
    polls: int = 0
    started: datetime | None = None
    ended: datetime | None = None
    document_id: str | None = None
    fatal_message: str | None = None  # set by a `kind: fatal` fault: the report ends FATAL with this reason

    def to_json(self) -> dict[str, Any]:
        return self.processing_json(
            {"reportId": self.report_id, "reportType": self.report_type}, "reportDocumentId", self.document_id
        )


def asin_for(sku: str) -> str:
    """A stable, plausible ASIN for a SKU the test did not give one for."""
    return "B0" + hashlib.sha256(sku.encode()).hexdigest()[:8].upper()


# --- control input -----------------------------------------------------------------------------------


def _require(condition: bool, message: str) -> None:
    if not condition:
        raise ControlError(message)


def marketplace_of(value: Any, seller: Seller) -> Marketplace:
    _require(isinstance(value, str) and bool(value.strip()), "marketplace must be a marketplace code or id")
    found = by_code_or_id(value)
    _require(found is not None, f"unknown marketplace '{value}'")
    assert found is not None
    _require(
        found in seller.marketplaces,
        f"seller {seller.seller_id} does not participate in marketplace {found.code} ({found.marketplace_id})",
    )
    return found


def _int(value: Any, name: str, minimum: int = 0) -> int:
    _require(isinstance(value, int) and not isinstance(value, bool), f"{name} must be an integer")
    _require(value >= minimum, f"{name} must be at least {minimum}")
    return int(value)


def _money(value: Any, name: str, currency: str) -> Decimal | None:
    if value is None:
        return None
    amount = value
    if isinstance(value, dict):
        code = value.get("CurrencyCode", currency)
        _require(code == currency, f"{name}.CurrencyCode must be the marketplace currency {currency}")
        amount = value.get("Amount")
    _require(
        isinstance(amount, (str, int, float)) and not isinstance(amount, bool), f"{name} must be an amount or Money"
    )
    try:
        parsed = Decimal(str(amount))
    except InvalidOperation:
        raise ControlError(f"{name} is not a number: {amount!r}") from None
    _require(parsed.is_finite() and parsed >= 0, f"{name} must be a non-negative amount")
    return parsed


def _moment(value: Any, name: str, default: datetime) -> datetime:
    if value is None:
        return default
    try:
        return parse_iso(value)
    except (TypeError, ValueError):
        raise ControlError(f"{name} must be an ISO 8601 date-time, got {value!r}") from None


def _bool(value: Any, name: str) -> bool:
    if value is None:
        return False
    _require(isinstance(value, bool), f"{name} must be true or false")
    return bool(value)


def listing_from_input(raw: Any, marketplace: Marketplace, now: datetime, previous: Listing | None) -> Listing:
    _require(isinstance(raw, dict), "each listing item must be an object")
    sku = raw.get("sku")
    _require(
        isinstance(sku, str) and sku != "" and sku == sku.strip(),
        "sku must be a non-empty string without surrounding spaces",
    )
    _require(len(sku) <= 40, f"sku '{sku}' is longer than Amazon's 40 characters")
    product_type = raw.get("product_type", "PRODUCT")
    _require(isinstance(product_type, str) and bool(product_type), f"{sku}: product_type must be a string")
    channel = raw.get("fulfillment_channel", MERCHANT_CHANNEL)
    _require(
        channel == MERCHANT_CHANNEL or (isinstance(channel, str) and AMAZON_CHANNEL.match(channel) is not None),
        f"{sku}: fulfillment_channel must be DEFAULT (merchant-fulfilled) or an Amazon network such as AMAZON_EU",
    )
    own = ChannelAvailability(quantity=_int(raw.get("quantity", 0), f"{sku}: quantity"))
    if channel == MERCHANT_CHANNEL:
        lead_time = raw.get("lead_time_to_ship_max_days")
        own.lead_time_to_ship_max_days = _optional_int(lead_time, f"{sku}: lead_time_to_ship_max_days")
        own.restock_date = _optional_date(raw.get("restock_date"), f"{sku}: restock_date")
    else:
        # Amazon ships an FBA offer: the seller's handling time and restock date do not apply to it.
        for name in ("lead_time_to_ship_max_days", "restock_date"):
            _require(raw.get(name) is None, f"{sku}: {name} is for merchant-fulfilled (DEFAULT) listings only")
    item_name = raw.get("item_name", f"Item {sku}")
    _require(isinstance(item_name, str), f"{sku}: item_name must be a string")
    asin = raw.get("asin", previous.asin if previous else asin_for(sku))
    _require(isinstance(asin, str) and bool(asin), f"{sku}: asin must be a string")
    price = _money(raw.get("price"), f"{sku}: price", marketplace.currency)
    return Listing(
        sku=sku,
        marketplace=marketplace,
        product_type=product_type,
        asin=asin,
        item_name=item_name,
        price=price,
        created=previous.created if previous else now,
        updated=now,
        listing_id=previous.listing_id
        if previous
        else hashlib.sha256(f"{marketplace.code}:{sku}".encode()).hexdigest()[:10].upper(),
        fulfillment_channel=channel,
        availability={channel: own},
    )


def _optional_int(value: Any, name: str) -> int | None:
    return None if value is None else _int(value, name)


def _optional_date(value: Any, name: str) -> str | None:
    if value is None:
        return None
    _require(isinstance(value, str), f"{name} must be an ISO 8601 date (YYYY-MM-DD)")
    try:
        return date.fromisoformat(value).isoformat()
    except ValueError:
        raise ControlError(f"{name} must be an ISO 8601 date (YYYY-MM-DD), got {value!r}") from None


def _text_fields(raw: Any, name: str, known: tuple[str, ...]) -> dict[str, str]:
    """An object of Amazon's string fields (an address, buyer info): unknown names and non-strings refused."""
    if raw is None:
        return {}
    _require(isinstance(raw, dict), f"{name} must be an object")
    unknown = sorted(set(raw) - set(known))
    _require(not unknown, f"{name} has no field {', '.join(unknown)}; Amazon's fields are {', '.join(known)}")
    for key, value in raw.items():
        _require(isinstance(value, str), f"{name}.{key} must be a string")
    return dict(raw)


def _address(raw: Any, where: str, marketplace: Marketplace) -> dict[str, str]:
    address = _text_fields(raw, f"{where}: ShippingAddress", ADDRESS_FIELDS)
    address.setdefault("CountryCode", marketplace.country_code)
    _require(
        re.fullmatch(r"[A-Z]{2}", address["CountryCode"]) is not None and address["CountryCode"] != "UK",
        f"{where}: ShippingAddress.CountryCode must be ISO 3166-1 alpha-2 (GB, not UK)",
    )
    _require(
        address.get("AddressType", "Residential") in ADDRESS_TYPES,
        f"{where}: ShippingAddress.AddressType must be one of {', '.join(ADDRESS_TYPES)}",
    )
    return address


def _buyer(raw: Any, where: str) -> dict[str, str]:
    buyer = _text_fields(raw, f"{where}: BuyerInfo", BUYER_FIELDS)
    _require("@" in buyer.get("BuyerEmail", "@"), f"{where}: BuyerInfo.BuyerEmail must be an email address")
    return buyer


def _replaced_order_id(raw: dict[str, Any], order_id: str) -> str | None:
    """A replacement order names the order it replaces; no other order may."""
    replacement = _bool(raw.get("IsReplacementOrder"), f"{order_id}: IsReplacementOrder")
    replaced = raw.get("ReplacedOrderId")
    if not replacement:
        _require(replaced is None, f"{order_id}: ReplacedOrderId is only for a replacement (IsReplacementOrder true)")
        return None
    _require(
        isinstance(replaced, str) and ORDER_ID.match(replaced) is not None and replaced != order_id,
        f"{order_id}: a replacement order needs ReplacedOrderId, the 3-7-7 id of the order it replaces",
    )
    return str(replaced)


def _easy_ship_status(value: Any, order_id: str, channel: str) -> str | None:
    if value is None:
        return None
    _require(isinstance(value, str) and bool(value), f"{order_id}: EasyShipShipmentStatus must be a string")
    # Easy Ship orders are the seller's (MFN) with Amazon's carrier picking them up.
    _require(channel == "MFN", f"{order_id}: an Easy Ship order (EasyShipShipmentStatus) is merchant-fulfilled (MFN)")
    return str(value)


def order_from_input(raw: Any, seller: Seller, now: datetime, previous: Order | None) -> Order:
    _require(isinstance(raw, dict), "each order must be an object")
    order_id = raw.get("AmazonOrderId")
    _require(
        isinstance(order_id, str) and ORDER_ID.match(order_id) is not None,
        f"AmazonOrderId must be in Amazon's 3-7-7 format (e.g. 202-1234567-1234567), got {order_id!r}",
    )
    marketplace = marketplace_of(raw.get("MarketplaceId"), seller)
    default_purchase = previous.purchase_date if previous else now - timedelta(hours=1)
    purchase = _moment(raw.get("PurchaseDate"), "PurchaseDate", default_purchase)
    updated = _moment(raw.get("LastUpdateDate"), "LastUpdateDate", now)
    _require(updated >= purchase, f"{order_id}: LastUpdateDate is before PurchaseDate")
    status = raw.get("OrderStatus", "Unshipped")
    _require(status in V0_ORDER_STATUSES, f"{order_id}: OrderStatus must be one of {', '.join(V0_ORDER_STATUSES)}")
    channel = raw.get("FulfillmentChannel", "MFN")
    _require(channel in ("MFN", "AFN"), f"{order_id}: FulfillmentChannel must be MFN or AFN")
    level = raw.get("ShipServiceLevel")
    _require(level is None or isinstance(level, str), f"{order_id}: ShipServiceLevel must be a string")
    category = raw.get("ShipmentServiceLevelCategory", "Standard")
    _require(
        category is None or category in V0_SERVICE_CATEGORIES,
        f"{order_id}: ShipmentServiceLevelCategory must be one of {', '.join(V0_SERVICE_CATEGORIES)}",
    )
    items_in = raw.get("OrderItems")
    _require(isinstance(items_in, list) and len(items_in) > 0, f"{order_id}: OrderItems must be a non-empty list")
    items = [_order_item(order_id, n, item, marketplace, status) for n, item in enumerate(items_in, start=1)]
    ids = [i.order_item_id for i in items]
    _require(len(set(ids)) == len(ids), f"{order_id}: OrderItemId values must be unique")
    seller_order_id = raw.get("SellerOrderId")
    _require(seller_order_id is None or isinstance(seller_order_id, str), f"{order_id}: SellerOrderId must be a string")
    order_type = raw.get("OrderType", "StandardOrder")
    _require(
        order_type in ("StandardOrder", "LongLeadTimeOrder", "Preorder", "BackOrder", "SourcingOnDemandOrder"),
        f"{order_id}: OrderType is not one of Amazon's",
    )
    earliest_ship = _moment(raw.get("EarliestShipDate"), "EarliestShipDate", purchase)
    latest_ship = _moment(raw.get("LatestShipDate"), "LatestShipDate", purchase + timedelta(days=2))
    order = Order(
        amazon_order_id=order_id,
        marketplace=marketplace,
        purchase_date=purchase,
        last_update_date=updated,
        status=status,
        fulfillment_channel=channel,
        ship_service_level=level,
        service_level_category=category,
        is_prime=_bool(raw.get("IsPrime"), "IsPrime"),
        is_premium=_bool(raw.get("IsPremiumOrder"), "IsPremiumOrder"),
        is_business=_bool(raw.get("IsBusinessOrder"), "IsBusinessOrder"),
        seller_order_id=seller_order_id,
        order_type=order_type,
        address=_address(raw.get("ShippingAddress"), order_id, marketplace),
        items=items,
        earliest_ship=earliest_ship,
        latest_ship=latest_ship,
        earliest_delivery=_moment(raw.get("EarliestDeliveryDate"), "EarliestDeliveryDate", latest_ship),
        latest_delivery=_moment(raw.get("LatestDeliveryDate"), "LatestDeliveryDate", latest_ship + timedelta(days=3)),
        buyer=_buyer(raw.get("BuyerInfo"), order_id),
        delivery_preferences=_text_fields(
            raw.get("DeliveryPreferences"), f"{order_id}: DeliveryPreferences", DELIVERY_PREFERENCE_FIELDS
        ),
        declared_total=_money(raw.get("OrderTotal"), f"{order_id}: OrderTotal", marketplace.currency),
        replaced_order_id=_replaced_order_id(raw, order_id),
        is_ispu=_bool(raw.get("IsISPU"), f"{order_id}: IsISPU"),
        easy_ship_status=_easy_ship_status(raw.get("EasyShipShipmentStatus"), order_id, channel),
    )
    if previous is not None:
        # Confirmed shipments stay with the order as long as the items they shipped do.
        order.shipments = [s for s in previous.shipments if all(order.item(i) for i, _ in s.items)]
    for item in order.items:
        _require(
            order.shipped(item.order_item_id) <= item.quantity_ordered,
            f"{order_id}: item {item.order_item_id} would have more units shipped than ordered",
        )
    return order


def _condition(raw: dict[str, Any], where: str) -> tuple[str, str | None]:
    condition = raw.get("ConditionId", "New")
    _require(condition in CONDITIONS, f"{where}: ConditionId must be one of {', '.join(CONDITIONS)}")
    subtype = raw.get("ConditionSubtypeId", "New" if condition == "New" else None)
    _require(subtype is None or isinstance(subtype, str), f"{where}: ConditionSubtypeId must be a string")
    return condition, subtype


def _gift(raw: dict[str, Any], where: str) -> tuple[bool, dict[str, str]]:
    is_gift = _bool(raw.get("IsGift"), f"{where}: IsGift")
    gift = _text_fields(raw.get("BuyerInfo"), f"{where}: BuyerInfo", GIFT_FIELDS)
    _require(is_gift or not gift, f"{where}: a gift message or wrap level needs IsGift true")
    return is_gift, gift


def _promotion_ids(value: Any, where: str) -> tuple[str, ...]:
    if value is None:
        return ()
    _require(
        isinstance(value, list) and all(isinstance(v, str) and v for v in value),
        f"{where}: PromotionIds must be a list of promotion ids",
    )
    return tuple(value)


def _order_item(order_id: str, n: int, raw: Any, marketplace: Marketplace, status: str) -> OrderItem:
    where = f"{order_id} item {n}"
    _require(isinstance(raw, dict), f"{where}: must be an object")
    item_id = raw.get("OrderItemId", f"{int(hashlib.sha256(f'{order_id}:{n}'.encode()).hexdigest(), 16) % 10**14:014d}")
    _require(isinstance(item_id, str) and bool(item_id), f"{where}: OrderItemId must be a string")
    sku = raw.get("SellerSKU")
    _require(isinstance(sku, str) and bool(sku), f"{where}: SellerSKU must be a non-empty string")
    quantity = _int(raw.get("QuantityOrdered", 1), f"{where}: QuantityOrdered")
    if "QuantityShipped" in raw:
        shipped = _int(raw["QuantityShipped"], f"{where}: QuantityShipped")
    else:
        shipped = quantity if status in ("Shipped", "InvoiceUnconfirmed") else 0
    _require(shipped <= quantity, f"{where}: QuantityShipped exceeds QuantityOrdered")
    title = raw.get("Title", f"Item {sku}")
    _require(isinstance(title, str), f"{where}: Title must be a string")
    asin = raw.get("ASIN", asin_for(sku))
    _require(isinstance(asin, str) and bool(asin), f"{where}: ASIN must be a string")
    condition, subtype = _condition(raw, where)
    is_gift, gift = _gift(raw, where)
    currency = marketplace.currency
    return OrderItem(
        order_item_id=item_id,
        seller_sku=sku,
        asin=asin,
        title=title,
        quantity_ordered=quantity,
        item_price=_money(raw.get("ItemPrice"), f"{where}: ItemPrice", currency),
        base_shipped=shipped,
        condition_id=condition,
        condition_subtype_id=subtype,
        item_tax=_money(raw.get("ItemTax"), f"{where}: ItemTax", currency),
        shipping_price=_money(raw.get("ShippingPrice"), f"{where}: ShippingPrice", currency),
        promotion_discount=_money(raw.get("PromotionDiscount"), f"{where}: PromotionDiscount", currency),
        promotion_ids=_promotion_ids(raw.get("PromotionIds"), where),
        is_gift=is_gift,
        gift=gift,
    )
