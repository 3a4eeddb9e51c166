"""Pure request builders: what each SP-API call sends, and what they refuse before spending a request."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from oms_amazon.adapters.sp_api import builders
from oms_amazon.adapters.sp_api.models import ConfirmShipmentItem, PackageDetail

pytestmark = pytest.mark.unit

UK = "A1F83G8C2ARO7P"
DE = "A1PA6795UKMFR9"
WATERMARK = datetime(2026, 3, 1, 9, 55, tzinfo=UTC)


def _package(**overrides: object) -> PackageDetail:
    fields: dict[str, object] = {
        "package_reference_id": "1",
        "carrier_code": "Royal Mail",
        "tracking_number": "RM123456789GB",
        "ship_date": datetime(2026, 3, 2, 14, 30, tzinfo=UTC),
        "items": (ConfirmShipmentItem("11111111111111", 2),),
        "shipping_method": "Tracked 48",
    }
    fields.update(overrides)
    return PackageDetail(**fields)  # type: ignore[arg-type]


# ------------------------------------------------------------------------------------------ searchOrders


def test_search_orders_asks_for_merchant_orders_updated_since_the_watermark() -> None:
    request = builders.search_orders(
        marketplace_ids=[UK],
        last_updated_after=WATERMARK,
        fulfilled_by=["MERCHANT"],
        included_data=["RECIPIENT", "FULFILLMENT"],
    )

    assert (request.operation, request.method, request.path) == ("searchOrders", "GET", "/orders/2026-01-01/orders")
    assert request.params == {
        "lastUpdatedAfter": "2026-03-01T09:55:00Z",
        "marketplaceIds": UK,
        "fulfilledBy": "MERCHANT",
        "includedData": "RECIPIENT,FULFILLMENT",
        "maxResultsPerPage": "100",
    }
    assert request.json is None


def test_search_orders_keeps_the_filters_on_the_next_page_beside_the_pagination_token() -> None:
    request = builders.search_orders(marketplace_ids=[UK], last_updated_after=WATERMARK, pagination_token="next==")

    assert request.params["paginationToken"] == "next=="
    assert request.params["lastUpdatedAfter"] == "2026-03-01T09:55:00Z"


def test_search_orders_sends_times_in_utc_whatever_the_callers_zone() -> None:
    paris = timezone(timedelta(hours=1))

    request = builders.search_orders(
        marketplace_ids=[UK], last_updated_after=datetime(2026, 3, 1, 10, 55, tzinfo=paris)
    )

    assert request.params["lastUpdatedAfter"] == "2026-03-01T09:55:00Z"


@pytest.mark.parametrize(
    "kwargs",
    [
        {},  # neither window
        {"created_after": WATERMARK, "last_updated_after": WATERMARK},
        {"created_after": WATERMARK, "last_updated_before": WATERMARK},
        {"last_updated_after": WATERMARK, "max_results_per_page": 101},
        {"last_updated_after": WATERMARK, "max_results_per_page": 0},
        {"last_updated_after": WATERMARK, "fulfilled_by": ["SELLER"]},
        {"last_updated_after": WATERMARK, "included_data": ["EVERYTHING"]},
        {"last_updated_after": WATERMARK, "fulfillment_statuses": ["Unshipped"]},  # v0 spelling
        {"last_updated_after": datetime(2026, 3, 1)},  # naive: which zone?
    ],
)
def test_search_orders_refuses_what_amazon_would_reject(kwargs: dict[str, object]) -> None:
    with pytest.raises(ValueError):  # noqa: PT011
        builders.search_orders(marketplace_ids=[UK], **kwargs)  # type: ignore[arg-type]


def test_search_orders_refuses_more_than_fifty_marketplaces_and_none() -> None:
    with pytest.raises(ValueError, match="at most 50"):
        builders.search_orders(marketplace_ids=[UK] * 51, last_updated_after=WATERMARK)
    with pytest.raises(ValueError, match="must not be empty"):
        builders.search_orders(marketplace_ids=[], last_updated_after=WATERMARK)


def test_a_single_string_is_not_mistaken_for_a_list_of_characters() -> None:
    with pytest.raises(TypeError):
        builders.search_orders(marketplace_ids=UK, last_updated_after=WATERMARK)


# -------------------------------------------------------------------------------------------- Orders v0


def test_get_orders_uses_v0_names_and_comma_separated_lists() -> None:
    request = builders.get_orders(
        marketplace_ids=[UK, DE],
        last_updated_after=WATERMARK,
        fulfillment_channels=["MFN"],
        max_results_per_page=100,
        next_token="abc/def+",
    )

    assert (request.operation, request.method, request.path) == ("getOrders", "GET", "/orders/v0/orders")
    assert request.params == {
        "LastUpdatedAfter": "2026-03-01T09:55:00Z",
        "MarketplaceIds": f"{UK},{DE}",
        "FulfillmentChannels": "MFN",
        "MaxResultsPerPage": "100",
        "NextToken": "abc/def+",
    }


def test_get_orders_refuses_an_unknown_fulfillment_channel() -> None:
    with pytest.raises(ValueError, match="FBM"):
        builders.get_orders(marketplace_ids=[UK], last_updated_after=WATERMARK, fulfillment_channels=["FBM"])


def test_get_order_items_puts_the_order_in_the_path_and_the_token_in_the_query() -> None:
    request = builders.get_order_items("202-1234567-1234567", next_token="page2")

    assert request.path == "/orders/v0/orders/202-1234567-1234567/orderItems"
    assert request.params == {"NextToken": "page2"}


def test_confirm_shipment_sends_the_package_detail_amazon_expects() -> None:
    request = builders.confirm_shipment("202-1234567-1234567", marketplace_id=UK, package=_package())

    assert (request.method, request.path) == ("POST", "/orders/v0/orders/202-1234567-1234567/shipmentConfirmation")
    assert request.json == {
        "marketplaceId": UK,
        "packageDetail": {
            "packageReferenceId": "1",
            "carrierCode": "Royal Mail",
            "shippingMethod": "Tracked 48",
            "trackingNumber": "RM123456789GB",
            "shipDate": "2026-03-02T14:30:00.000Z",
            "orderItems": [{"orderItemId": "11111111111111", "quantity": 2}],
        },
    }


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"package_reference_id": "PKG-1"}, "numeric"),
        ({"package_reference_id": "0"}, "positive"),
        ({"carrier_code": ""}, "carrier_code"),
        ({"carrier_code": "Other"}, "carrier_name"),
        ({"tracking_number": ""}, "tracking_number"),
        ({"items": ()}, "at least one"),
    ],
)
def test_a_package_amazon_would_refuse_is_refused_before_sending(overrides: dict[str, object], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        _package(**overrides)


def test_an_order_item_needs_a_positive_quantity() -> None:
    with pytest.raises(ValueError, match="quantity"):
        ConfirmShipmentItem("11111111111111", 0)


def test_carrier_other_with_a_name_is_accepted() -> None:
    request = builders.confirm_shipment(
        "202-1234567-1234567", marketplace_id=UK, package=_package(carrier_code="Other", carrier_name="Parcelforce")
    )

    assert request.json["packageDetail"]["carrierName"] == "Parcelforce"


# ------------------------------------------------------------------------------------- feeds and reports


def test_feed_builders_follow_the_three_step_flow() -> None:
    document = builders.create_feed_document("application/json; charset=UTF-8")
    feed = builders.create_feed(
        feed_type=builders.JSON_LISTINGS_FEED, marketplace_ids=[UK], input_feed_document_id="doc-1"
    )

    assert (document.method, document.path, document.json) == (
        "POST",
        "/feeds/2021-06-30/documents",
        {"contentType": "application/json; charset=UTF-8"},
    )
    assert (feed.method, feed.path) == ("POST", "/feeds/2021-06-30/feeds")
    assert feed.json == {"feedType": "JSON_LISTINGS_FEED", "marketplaceIds": [UK], "inputFeedDocumentId": "doc-1"}
    assert builders.get_feed("123").path == "/feeds/2021-06-30/feeds/123"
    assert builders.get_feed_document("amzn1.tortuga.3").path == "/feeds/2021-06-30/documents/amzn1.tortuga.3"


def test_create_report_defaults_to_the_merchant_listings_report() -> None:
    request = builders.create_report(marketplace_ids=[UK])

    assert (request.method, request.path) == ("POST", "/reports/2021-06-30/reports")
    assert request.json == {"reportType": "GET_MERCHANT_LISTINGS_ALL_DATA", "marketplaceIds": [UK]}
    assert builders.get_report("r1").path == "/reports/2021-06-30/reports/r1"
    assert builders.get_report_document("d1").path == "/reports/2021-06-30/documents/d1"


# ---------------------------------------------------------------------------------------------- listings


def test_the_quantity_patch_merges_into_fulfillment_availability_on_the_default_channel() -> None:
    # `merge` keeps the seller's handling time and restock date; `replace` would wipe them.
    request = builders.patch_listings_item(
        seller_id="A3SELLER0001",
        sku="Blue-Mug",
        marketplace_ids=[UK],
        product_type="PRODUCT",
        patches=[builders.fulfillment_availability_patch(12)],
    )

    assert (request.operation, request.method) == ("patchListingsItem", "PATCH")
    assert request.path == "/listings/2021-08-01/items/A3SELLER0001/Blue-Mug"
    assert request.params == {"marketplaceIds": UK}
    assert request.json == {
        "productType": "PRODUCT",
        "patches": [
            {
                "op": "merge",
                "path": "/attributes/fulfillment_availability",
                "value": [{"fulfillment_channel_code": "DEFAULT", "quantity": 12}],
            }
        ],
    }


def test_a_sku_with_slashes_spaces_and_hashes_is_percent_encoded_as_one_path_segment() -> None:
    request = builders.patch_listings_item(
        seller_id="A3SELLER0001",
        sku="MUG/blue 1#a",
        marketplace_ids=[UK],
        product_type="PRODUCT",
        patches=[builders.fulfillment_availability_patch(1)],
    )

    assert request.path == "/listings/2021-08-01/items/A3SELLER0001/MUG%2Fblue%201%23a"


def test_a_negative_quantity_is_refused() -> None:
    with pytest.raises(ValueError, match="negative"):
        builders.fulfillment_availability_patch(-1)


def test_a_validation_preview_can_ask_for_issues_and_identifiers() -> None:
    request = builders.patch_listings_item(
        seller_id="S",
        sku="SKU",
        marketplace_ids=[UK],
        product_type="PRODUCT",
        patches=[builders.fulfillment_availability_patch(1)],
        included_data=["identifiers", "issues"],
        mode="VALIDATION_PREVIEW",
    )

    assert request.params == {"marketplaceIds": UK, "includedData": "identifiers,issues", "mode": "VALIDATION_PREVIEW"}


def test_search_listings_items_pages_at_most_twenty_and_needs_a_type_for_identifiers() -> None:
    request = builders.search_listings_items(
        seller_id="S", marketplace_ids=[UK], included_data=["summaries"], page_size=20, page_token="p2"
    )

    assert request.path == "/listings/2021-08-01/items/S"
    assert request.params == {"marketplaceIds": UK, "includedData": "summaries", "pageSize": "20", "pageToken": "p2"}
    with pytest.raises(ValueError, match="between 1 and 20"):
        builders.search_listings_items(seller_id="S", marketplace_ids=[UK], page_size=21)
    with pytest.raises(ValueError, match="identifiers_type"):
        builders.search_listings_items(seller_id="S", marketplace_ids=[UK], identifiers=["SKU-1"])


def test_marketplace_participations_takes_no_parameters() -> None:
    request = builders.get_marketplace_participations()

    assert (request.method, request.path, dict(request.params), request.json) == (
        "GET",
        "/sellers/v1/marketplaceParticipations",
        {},
        None,
    )


# ------------------------------------------------------------------------------------------ date formats


def test_date_times_keep_milliseconds_only_when_asked_or_present() -> None:
    plain = datetime(2026, 3, 1, 9, 55, tzinfo=UTC)

    assert builders.format_datetime(plain) == "2026-03-01T09:55:00Z"
    assert builders.format_datetime(plain, milliseconds=True) == "2026-03-01T09:55:00.000Z"
    assert builders.format_datetime(plain.replace(microsecond=123456)) == "2026-03-01T09:55:00.123Z"
    assert builders.format_datetime("TEST_CASE_200") == "TEST_CASE_200"
