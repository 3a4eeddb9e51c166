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


# --- one marketplace per patch, merge and replace, product types, FBA SKUs (SPEC §1.1) ------------------------------

TOO_MANY_MARKETPLACES = "Too many 'marketplaceIds' values provided. Expected a maximum of 1."


def availability_patch(op: str, product_type: str = "PRODUCT", **fields: Any) -> dict[str, Any]:
    return {
        "productType": product_type,
        "patches": [
            {
                "op": op,
                "path": "/attributes/fulfillment_availability",
                "value": [{"fulfillment_channel_code": "DEFAULT", **fields}],
            }
        ],
    }


def get_item(amazon: Amazon, sku: str, included: str) -> dict[str, Any]:
    params = {"marketplaceIds": UK, "includedData": included}
    return amazon.sp(LISTINGS, "getListingsItem", "GET", f"{ITEM}/{sku}", expect=200, params=params).json()


def test_a_patch_naming_several_marketplaces_is_refused_in_amazons_words(listed: Amazon) -> None:
    listed.put_listings("DE", [{"sku": "SKU-A", "product_type": "SHIRT", "quantity": 3}])
    body = patch(listed, "SKU-A", quantity_patch(11), expect=400, marketplaceIds=f"{UK},{DE}")
    assert body == {"errors": [{"code": "InvalidInput", "message": TOO_MANY_MARKETPLACES, "details": ""}]}
    assert (listed.listings("UK")["SKU-A"], listed.listings("DE")["SKU-A"]) == (3, 3)
    preview = patch(
        listed, "SKU-A", quantity_patch(11), expect=400, marketplaceIds=f"{UK},{DE}", mode="VALIDATION_PREVIEW"
    )
    assert preview["errors"][0]["message"] == TOO_MANY_MARKETPLACES


@pytest.fixture
def handled(seller: Amazon) -> Amazon:
    """A merchant-fulfilled listing with a handling time and a restock date."""
    seller.put_listings(
        "UK",
        [{"sku": "SKU-A", "quantity": 3, "lead_time_to_ship_max_days": 4, "restock_date": "2026-03-01"}],
    )
    return seller


def test_a_merge_patch_changes_the_quantity_and_keeps_handling_time_and_restock_date(handled: Amazon) -> None:
    assert patch(handled, "SKU-A", availability_patch("merge", quantity=8))["status"] == "ACCEPTED"
    attributes = get_item(handled, "SKU-A", "attributes")["attributes"]
    assert attributes["fulfillment_availability"] == [
        {
            "fulfillment_channel_code": "DEFAULT",
            "quantity": 8,
            "lead_time_to_ship_max_days": 4,
            "restock_date": "2026-03-01",
        }
    ]


def test_a_replace_patch_wipes_what_it_does_not_name(handled: Amazon) -> None:
    assert patch(handled, "SKU-A", availability_patch("replace", quantity=8))["status"] == "ACCEPTED"
    attributes = get_item(handled, "SKU-A", "attributes")["attributes"]
    assert attributes["fulfillment_availability"] == [{"fulfillment_channel_code": "DEFAULT", "quantity": 8}]


def test_a_merge_patch_may_change_the_restock_date_alone(handled: Amazon) -> None:
    assert patch(handled, "SKU-A", availability_patch("merge", restock_date="2026-04-15"))["status"] == "ACCEPTED"
    items = handled.control("GET", f"/_sim/sellers/{SELLER_ID}/listings", params={"marketplace": "UK"})["items"]
    assert (items[0]["quantity"], items[0]["lead_time_to_ship_max_days"], items[0]["restock_date"]) == (
        3,
        4,
        "2026-04-15",
    )


def test_a_product_type_amazon_does_not_know_makes_the_patch_invalid(listed: Amazon) -> None:
    reply = patch(listed, "SKU-A", quantity_patch(11, product_type="shirt"))
    assert reply["status"] == "INVALID"
    assert reply["issues"] == [
        {
            "code": "4000003",
            "message": "The Amazon product type specified is invalid or not supported.",
            "severity": "ERROR",
            "categories": [],
        }
    ]
    assert listed.listings("UK")["SKU-A"] == 3


def test_an_availability_entry_without_its_channel_has_too_few_values(listed: Amazon) -> None:
    body = quantity_patch(11)
    body["patches"][0]["value"] = [{"quantity": 11}]
    reply = patch(listed, "SKU-A", body)
    assert reply["status"] == "INVALID"
    assert (reply["issues"][0]["code"], reply["issues"][0]["message"]) == (
        "99022",
        "The field 'fulfillment_channel_code' for the attribute 'fulfillment_availability' does not have enough "
        "values. The required minimum is '1' value(s).",
    )


def test_an_fba_sku_shows_amazons_channel_and_takes_a_default_patch_beside_it(seller: Amazon) -> None:
    seller.put_listings("UK", [{"sku": "FBA-1", "fulfillment_channel": "AMAZON_EU", "quantity": 30}])
    assert get_item(seller, "FBA-1", "fulfillmentAvailability")["fulfillmentAvailability"] == [
        {"fulfillmentChannelCode": "AMAZON_EU"}
    ]
    reply = patch(seller, "FBA-1", quantity_patch(5))
    assert (reply["status"], reply["issues"]) == ("ACCEPTED", [])
    assert get_item(seller, "FBA-1", "fulfillmentAvailability")["fulfillmentAvailability"] == [
        {"fulfillmentChannelCode": "AMAZON_EU"},
        {"fulfillmentChannelCode": "DEFAULT", "quantity": 5},
    ]


def test_a_regional_quantity_reaches_merchant_offers_only_and_not_their_handling_time(seller: Amazon) -> None:
    seller.put_listings(
        "UK",
        [{"sku": "SKU-A", "quantity": 1, "lead_time_to_ship_max_days": 2}, {"sku": "FBA-1", "quantity": 1}],
    )
    seller.put_listings(
        "DE",
        [
            {"sku": "SKU-A", "quantity": 1, "lead_time_to_ship_max_days": 6},
            {"sku": "FBA-1", "fulfillment_channel": "AMAZON_EU", "quantity": 30},
        ],
    )
    patch(seller, "SKU-A", availability_patch("replace", quantity=9))
    patch(seller, "FBA-1", availability_patch("replace", quantity=9))
    items = seller.control("GET", f"/_sim/sellers/{SELLER_ID}/listings", params={"marketplace": "DE"})["items"]
    assert [(i["sku"], i["quantity"], i["lead_time_to_ship_max_days"]) for i in items] == [
        ("SKU-A", 9, 6),
        ("FBA-1", 30, None),
    ]
    assert [a["fulfillment_channel_code"] for a in items[1]["fulfillment_availability"]] == ["AMAZON_EU"]
