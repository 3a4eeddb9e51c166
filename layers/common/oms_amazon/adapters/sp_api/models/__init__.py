"""Typed responses of the SP-API operations the connector uses, and the typed inputs it sends.

Response models follow Amazon's Swagger models (shared/amazon-sp-api/models): Amazon's field names are the
aliases, Python names are snake_case. Only the fields the connector reads are declared; everything else
is kept (`extra="allow"`, reachable through `model_extra`) so a new Amazon field never breaks parsing.
Enumerations are plain strings for the same reason: Amazon adds values without a version bump.

Fields Amazon marks required are required here, so a body of the wrong shape fails loudly as
`UnexpectedResponse` instead of silently turning into empty data.

One module per API (`orders_v0`, `orders_2026`, `feeds`, `reports`, `listings`, `sellers`) over `base`,
and `inputs`; every model is reachable here as `models.<name>`.
"""

from oms_amazon.adapters.sp_api.models.base import (
    TERMINAL_PROCESSING_STATUSES,
    AmazonModel,
    Pagination,
    ProcessingJob,
    ProcessingStatus,
)
from oms_amazon.adapters.sp_api.models.feeds import (
    CreateFeedResult,
    Feed,
    FeedDocument,
    FeedDocumentUpload,
    FeedsPage,
)
from oms_amazon.adapters.sp_api.models.inputs import (
    ConfirmShipmentItem,
    PackageDetail,
    PatchOp,
    PatchOperation,
)
from oms_amazon.adapters.sp_api.models.listings import (
    FulfillmentAvailability,
    ItemIdentifier,
    ItemSummary,
    ListingsIssue,
    ListingsItem,
    ListingsItemsPage,
    ListingsItemSubmission,
)
from oms_amazon.adapters.sp_api.models.orders_2026 import (
    AssociatedOrder,
    Buyer2026,
    CustomerAddress,
    DateTimeRange,
    DeliveryPreference,
    GiftOption2026,
    ItemCondition2026,
    ItemFulfillment2026,
    ItemPacking2026,
    ItemPrice2026,
    ItemProceeds,
    ItemProduct,
    Money2026,
    Order2026,
    OrderAlias,
    OrderFulfillment2026,
    OrderItem2026,
    OrderPackage,
    OrderProceeds,
    ProceedsBreakdown,
    Recipient,
    SalesChannel,
    SearchOrdersPage,
)
from oms_amazon.adapters.sp_api.models.orders_v0 import (
    AddressV0,
    BuyerInfoV0,
    BuyerTaxInfoV0,
    GetOrderItemsPage,
    GetOrdersPage,
    ItemBuyerInfoV0,
    MoneyV0,
    OrderItemV0,
    OrderV0,
)
from oms_amazon.adapters.sp_api.models.reports import (
    CreateReportResult,
    Report,
    ReportDocument,
)
from oms_amazon.adapters.sp_api.models.sellers import (
    MarketplaceParticipation,
    Participation,
    SellerMarketplace,
)

__all__ = [
    "TERMINAL_PROCESSING_STATUSES",
    "AddressV0",
    "AmazonModel",
    "AssociatedOrder",
    "Buyer2026",
    "BuyerInfoV0",
    "BuyerTaxInfoV0",
    "ConfirmShipmentItem",
    "CreateFeedResult",
    "CreateReportResult",
    "CustomerAddress",
    "DateTimeRange",
    "DeliveryPreference",
    "Feed",
    "FeedDocument",
    "FeedDocumentUpload",
    "FeedsPage",
    "FulfillmentAvailability",
    "GetOrderItemsPage",
    "GetOrdersPage",
    "GiftOption2026",
    "ItemBuyerInfoV0",
    "ItemCondition2026",
    "ItemFulfillment2026",
    "ItemIdentifier",
    "ItemPacking2026",
    "ItemPrice2026",
    "ItemProceeds",
    "ItemProduct",
    "ItemSummary",
    "ListingsIssue",
    "ListingsItem",
    "ListingsItemSubmission",
    "ListingsItemsPage",
    "MarketplaceParticipation",
    "Money2026",
    "MoneyV0",
    "Order2026",
    "OrderAlias",
    "OrderFulfillment2026",
    "OrderItem2026",
    "OrderItemV0",
    "OrderPackage",
    "OrderProceeds",
    "OrderV0",
    "PackageDetail",
    "Pagination",
    "Participation",
    "PatchOp",
    "PatchOperation",
    "ProceedsBreakdown",
    "ProcessingJob",
    "ProcessingStatus",
    "Recipient",
    "Report",
    "ReportDocument",
    "SalesChannel",
    "SearchOrdersPage",
    "SellerMarketplace",
]
