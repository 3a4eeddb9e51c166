"""Amazon's SP-API roles, as the simulator knows them, and which operations each one opens.

A role belongs to the developer's application; a seller's authorisation grants the app the roles it was
approved for. Amazon: "If you call an operation for which you don't have the required roles, you get a
403 error" (Selling Partner API Roles, developer-docs.amazon.com/sp-api/docs/roles-in-the-selling-partner-api).
The simulator attaches the app's roles to each seller it registers (SPEC §8.1, `POST /_sim/sellers {roles}`),
so a test can play an app that lacks one.

Names are Amazon's role names in UPPER_SNAKE form. `DIRECT_TO_CONSUMER_DELIVERY` is "Direct-to-Consumer
Delivery (Restricted)", called "Direct-to-Consumer Shipping (Restricted)" on Amazon's older pages.
"""

from __future__ import annotations

from .errors import ControlError

ROLE_NAMES: dict[str, str] = {
    "AMAZON_FULFILLMENT": "Amazon Fulfillment",
    "BUYER_COMMUNICATION": "Buyer Communication",
    "BUYER_SOLICITATION": "Buyer Solicitation",
    "FINANCE_AND_ACCOUNTING": "Finance and Accounting",
    "INVENTORY_AND_ORDER_TRACKING": "Inventory and Order Tracking",
    "PRICING": "Pricing",
    "PRODUCT_LISTING": "Product Listing",
    "PROFESSIONAL_SERVICES": "Professional Services (Restricted)",
    "SELLING_PARTNER_INSIGHTS": "Selling Partner Insights",
    "DIRECT_TO_CONSUMER_DELIVERY": "Direct-to-Consumer Delivery (Restricted)",
    "TAX_INVOICING": "Tax Invoicing (Restricted)",
    "TAX_REMITTANCE": "Tax Remittance (Restricted)",
}
ALL_ROLES = frozenset(ROLE_NAMES)
DIRECT_TO_CONSUMER_DELIVERY = "DIRECT_TO_CONSUMER_DELIVERY"
TAX_ROLES = frozenset({"TAX_INVOICING", "TAX_REMITTANCE"})

# "At least one of the following roles" for the Orders API (v0 and 2026-01-01 tutorials "Get order
# information", "Get orders with filtering criteria") and for createRestrictedDataToken ("Roles for the
# Tokens API v2021-03-01"): the same twelve.
_ORDERS_AND_TOKENS = ALL_ROLES
# Listings Items: Product Listing. JSON_LISTINGS_FEED: "Roles: Product Listing" (Listings Feed Type Values).
_LISTINGS = frozenset({"PRODUCT_LISTING"})
# The Inventory Reports page lists these roles for the listings reports (GET_FLAT_FILE_OPEN_LISTINGS_DATA;
# GET_MERCHANT_LISTINGS_ALL_DATA is on the same page).
_LISTINGS_REPORT = frozenset(
    {"INVENTORY_AND_ORDER_TRACKING", "PRICING", "DIRECT_TO_CONSUMER_DELIVERY", "PRODUCT_LISTING"}
)
# "Roles for the Sellers API v1", getMarketplaceParticipations in NA and EU (the FE-only roles are not modelled).
_PARTICIPATIONS = frozenset({"PRODUCT_LISTING", "SELLING_PARTNER_INSIGHTS", "DIRECT_TO_CONSUMER_DELIVERY"})

OPERATION_ROLES: dict[str, frozenset[str]] = {
    "ordersV0.getOrders": _ORDERS_AND_TOKENS,
    "ordersV0.getOrder": _ORDERS_AND_TOKENS,
    "ordersV0.getOrderItems": _ORDERS_AND_TOKENS,
    "ordersV0.getOrderAddress": _ORDERS_AND_TOKENS,
    "ordersV0.confirmShipment": _ORDERS_AND_TOKENS,
    "orders_2026-01-01.searchOrders": _ORDERS_AND_TOKENS,
    "orders_2026-01-01.getOrder": _ORDERS_AND_TOKENS,
    "tokens_2021-03-01.createRestrictedDataToken": _ORDERS_AND_TOKENS,
    "listingsItems_2021-08-01.getListingsItem": _LISTINGS,
    "listingsItems_2021-08-01.patchListingsItem": _LISTINGS,
    "listingsItems_2021-08-01.searchListingsItems": _LISTINGS,
    "feeds_2021-06-30.createFeed": _LISTINGS,
    "reports_2021-06-30.createReport": _LISTINGS_REPORT,
    "sellers.getMarketplaceParticipations": _PARTICIPATIONS,
}


def required_roles(operation_key: str) -> frozenset[str]:
    """The roles of which an app needs at least one to call the operation. Operations the table leaves out
    (feed and report documents, polling) are open to any role: an app always has at least one."""
    return OPERATION_ROLES.get(operation_key, ALL_ROLES)


def may_call(roles: frozenset[str], operation_key: str) -> bool:
    return bool(roles & required_roles(operation_key))


def roles_from_input(value: object) -> frozenset[str]:
    """Control input: a list of role names (default: every role the simulator knows)."""
    if value is None:
        return ALL_ROLES
    if not isinstance(value, list) or not all(isinstance(role, str) for role in value):
        raise ControlError(f"roles must be a list of role names: {', '.join(sorted(ROLE_NAMES))}")
    unknown = sorted(set(value) - ALL_ROLES)
    if unknown:
        raise ControlError(f"unknown role(s) {', '.join(unknown)}; known: {', '.join(sorted(ROLE_NAMES))}")
    return frozenset(value)
