"""Listings Items 2021-08-01 (get, patch, search) and Sellers getMarketplaceParticipations."""

from __future__ import annotations

from typing import Any

import pytest

from tests.contract.conftest import DE, FR, SELLER_ID, UK, Amazon

pytestmark = pytest.mark.integration

LISTINGS = "listingsItems_2021-08-01"
ITEM = f"/listings/2021-08-01/items/{SELLER_ID}"


def quantity_patch(quantity: Any, product_type: str = "PRODUCT") -> dict[str, Any]:
    return {
        "productType": product_type,
        "patches": [
            {
                "op": "replace",
                "path": "/attributes/fulfillment_availability",
                "value": [{"fulfillment_channel_code": "DEFAULT", "quantity": quantity}],
            }
        ],
    }


def patch(amazon: Amazon, sku: str, body: Any, expect: int = 200, **params: Any) -> dict[str, Any]:
    params.setdefault("marketplaceIds", UK)
    return amazon.sp(
        LISTINGS, "patchListingsItem", "PATCH", f"{ITEM}/{sku}", expect=expect, params=params, json=body
    ).json()


@pytest.fixture
def listed(seller: Amazon) -> Amazon:
    seller.put_listings(
        "UK",
        [
            {"sku": "SKU-A", "product_type": "SHIRT", "quantity": 3, "price": "9.99"},
            {"sku": "A/B#1", "product_type": "SHIRT", "quantity": 1},
        ],
    )
    return seller


def test_get_listings_item_returns_the_requested_data_sets(listed: Amazon) -> None:
    params = {
        "marketplaceIds": UK,
        "includedData": "summaries,fulfillmentAvailability,offers,productTypes,attributes,issues",
    }
    item = listed.sp(LISTINGS, "getListingsItem", "GET", f"{ITEM}/SKU-A", expect=200, params=params).json()
    assert item["sku"] == "SKU-A"
    assert item["summaries"][0]["productType"] == "SHIRT"
    assert item["fulfillmentAvailability"] == [{"fulfillmentChannelCode": "DEFAULT", "quantity": 3}]
    assert item["offers"][0]["price"] == {"currencyCode": "GBP", "amount": "9.99"}
    assert item["productTypes"] == [{"marketplaceId": UK, "productType": "SHIRT"}]
    assert item["issues"] == []


def test_get_listings_item_defaults_to_summaries(listed: Amazon) -> None:
    item = listed.sp(
        LISTINGS, "getListingsItem", "GET", f"{ITEM}/SKU-A", expect=200, params={"marketplaceIds": UK}
    ).json()
    assert set(item) == {"sku", "summaries"}


def test_a_sku_with_reserved_characters_is_found_when_url_encoded(listed: Amazon) -> None:
    item = listed.sp(
        LISTINGS, "getListingsItem", "GET", f"{ITEM}/A%2FB%231", expect=200, params={"marketplaceIds": UK}
    ).json()
    assert item["sku"] == "A/B#1"


def test_get_listings_item_of_a_case_variant_is_not_found(listed: Amazon) -> None:
    body = listed.sp(
        LISTINGS, "getListingsItem", "GET", f"{ITEM}/sku-a", expect=404, params={"marketplaceIds": UK}
    ).json()
    assert body["errors"][0]["code"] == "NOT_FOUND"


def test_patch_sets_the_quantity_amazon_holds(listed: Amazon) -> None:
    reply = patch(listed, "SKU-A", quantity_patch(11))
    assert reply["status"] == "ACCEPTED"
    assert reply["sku"] == "SKU-A"
    assert reply["submissionId"]
    assert reply["issues"] == []
    assert listed.listings("UK")["SKU-A"] == 11


def test_patching_an_unknown_or_case_variant_sku_is_invalid_and_changes_nothing(listed: Amazon) -> None:
    reply = patch(listed, "sku-a", quantity_patch(11))
    assert reply["status"] == "INVALID"
    assert reply["issues"][0]["severity"] == "ERROR"
    assert listed.listings("UK") == {"SKU-A": 3, "A/B#1": 1}


@pytest.mark.parametrize("quantity", [-1, "5", 2.5, None])
def test_patching_a_bad_quantity_is_invalid(listed: Amazon, quantity: Any) -> None:
    reply = patch(listed, "SKU-A", quantity_patch(quantity))
    assert reply["status"] == "INVALID"
    assert reply["issues"][0]["attributeNames"] == ["fulfillment_availability"]
    assert listed.listings("UK")["SKU-A"] == 3


def test_validation_preview_checks_without_applying(listed: Amazon) -> None:
    reply = patch(listed, "SKU-A", quantity_patch(50), mode="VALIDATION_PREVIEW", includedData="issues,identifiers")
    assert reply["status"] == "VALID"
    assert reply["identifiers"][0]["marketplaceId"] == UK
    assert listed.listings("UK")["SKU-A"] == 3


@pytest.mark.parametrize(
    "body",
    [
        {"productType": "PRODUCT", "patches": []},
        {"patches": [{"op": "replace", "path": "/attributes/fulfillment_availability", "value": []}]},
        {"productType": "PRODUCT", "patches": [{"op": "upsert", "path": "/attributes/x"}]},
        {"productType": "PRODUCT", "patches": {"op": "replace"}},
    ],
)
def test_a_malformed_patch_request_is_a_400(listed: Amazon, body: dict[str, Any]) -> None:
    reply = patch(listed, "SKU-A", body, expect=400)
    assert reply["errors"][0]["message"] == "Request has missing or invalid parameters and cannot be parsed."


def test_identifiers_are_only_for_validation_preview(listed: Amazon) -> None:
    patch(listed, "SKU-A", quantity_patch(1), expect=400, includedData="identifiers")


def test_patch_needs_marketplace_ids_the_seller_has(listed: Amazon) -> None:
    listed.sp(LISTINGS, "patchListingsItem", "PATCH", f"{ITEM}/SKU-A", expect=400, json=quantity_patch(1))
    patch(listed, "SKU-A", quantity_patch(1), expect=400, marketplaceIds=FR)


def test_another_sellers_listings_are_forbidden(listed: Amazon) -> None:
    listed.sp(
        LISTINGS,
        "getListingsItem",
        "GET",
        "/listings/2021-08-01/items/A2OTHERSELLER9/SKU-A",
        expect=403,
        params={"marketplaceIds": UK},
    )


def test_search_pages_through_the_listings(seller: Amazon) -> None:
    seller.put_listings("UK", [{"sku": f"SKU-{n:03d}", "product_type": "SHIRT", "quantity": n} for n in range(45)])
    seen, token = [], None
    while True:
        params: dict[str, Any] = {"marketplaceIds": UK, "pageSize": 20, "sortBy": "sku", "sortOrder": "ASC"}
        if token:
            params["pageToken"] = token
        body = seller.sp(LISTINGS, "searchListingsItems", "GET", ITEM, expect=200, params=params).json()
        assert body["numberOfResults"] == 45
        seen += [item["sku"] for item in body["items"]]
        token = body.get("pagination", {}).get("nextToken")
        if not token:
            break
    assert seen == [f"SKU-{n:03d}" for n in range(45)]


def test_search_reaches_at_most_a_thousand_skus(seller: Amazon) -> None:
    seller.put_listings("UK", [{"sku": f"SKU-{n:04d}", "product_type": "SHIRT", "quantity": 1} for n in range(1030)])
    reachable, token, pages = 0, None, 0
    while True:
        params: dict[str, Any] = {"marketplaceIds": UK, "pageSize": 20}
        if token:
            params["pageToken"] = token
        body = seller.sp(LISTINGS, "searchListingsItems", "GET", ITEM, expect=200, params=params).json()
        reachable += len(body["items"])
        pages += 1
        token = body.get("pagination", {}).get("nextToken")
        if not token:
            break
    assert body["numberOfResults"] == 1030
    assert (reachable, pages) == (1000, 50)


def test_search_finds_listings_by_sku_identifiers(listed: Amazon) -> None:
    params = {
        "marketplaceIds": UK,
        "identifiers": "SKU-A,sku-a",
        "identifiersType": "SKU",
        "includedData": "fulfillmentAvailability",
    }
    body = listed.sp(LISTINGS, "searchListingsItems", "GET", ITEM, expect=200, params=params).json()
    assert [item["sku"] for item in body["items"]] == ["SKU-A"]
    assert body["items"][0]["fulfillmentAvailability"][0]["quantity"] == 3


@pytest.mark.parametrize(
    "params",
    [
        {"marketplaceIds": UK, "pageSize": "21"},
        {"marketplaceIds": UK, "identifiers": "SKU-A"},
        {"marketplaceIds": UK, "sortBy": "price"},
        {"pageSize": "5"},
    ],
)
def test_search_refuses_what_amazon_refuses(listed: Amazon, params: dict[str, str]) -> None:
    listed.sp(LISTINGS, "searchListingsItems", "GET", ITEM, expect=400, params=params)


def test_marketplace_participations_list_the_sellers_marketplaces(seller: Amazon) -> None:
    payload = seller.sp(
        "sellers", "getMarketplaceParticipations", "GET", "/sellers/v1/marketplaceParticipations", expect=200
    ).json()["payload"]
    assert [(p["marketplace"]["id"], p["marketplace"]["countryCode"]) for p in payload] == [(UK, "GB"), (DE, "DE")]
    assert all(p["participation"]["isParticipating"] for p in payload)
    assert payload[0]["marketplace"]["defaultCurrencyCode"] == "GBP"
    assert payload[0]["storeName"]
