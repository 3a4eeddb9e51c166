"""Tokens API 2021-03-01: Restricted Data Tokens are issued, refused and honoured in Amazon's words.

The refusals are quoted from Amazon's answers in developers' issue threads (see local/simulator/tokens.py):
the simulator must not be kinder than Amazon, nor word its refusals differently.
"""

from __future__ import annotations

import time
from typing import Any

import pytest

from tests.contract.conftest import OTHER_REFRESH_TOKEN, OTHER_SELLER_ID, SELLER_ID, UK, Amazon, pii_order

pytestmark = pytest.mark.integration

TOKENS = "tokens_2021-03-01"
V0 = "ordersV0"
ORDER_ID = "202-0000001-0000001"
BULK = {"method": "GET", "path": "/orders/v0/orders", "dataElements": ["buyerInfo", "shippingAddress"]}
ITEMS = {"method": "GET", "path": "/orders/v0/orders/{orderId}/orderItems", "dataElements": ["buyerInfo"]}
RESOURCE_DENIED = "Application do not have access to some or all requested resource"
NO_PII_ROLES = ["INVENTORY_AND_ORDER_TRACKING", "PRODUCT_LISTING", "TAX_INVOICING", "TAX_REMITTANCE"]


def only_error(response: Any) -> dict[str, str]:
    errors = response.json()["errors"]
    assert len(errors) == 1
    return dict(errors[0])


def get_orders(amazon: Amazon, token: str, expect: int = 200) -> Any:
    params = {"MarketplaceIds": UK, "CreatedAfter": "2025-03-01T00:00:00Z"}
    return amazon.sp(V0, "getOrders", "GET", "/orders/v0/orders", expect=expect, token=token, params=params)


# --- issuing ----------------------------------------------------------------------------------------------------


def test_an_rdt_is_issued_for_an_hour_with_the_sellers_access_token(seller: Amazon) -> None:
    response = seller.request_rdt(BULK, ITEMS)
    body = response.json()
    assert body["restrictedDataToken"].startswith("Atz.sprdt|")
    assert body["expiresIn"] == 3600
    assert response.headers["x-amzn-RateLimit-Limit"] == "1"


@pytest.mark.parametrize(
    "resource",
    [
        BULK,
        {"method": "GET", "path": "/orders/v0/orders/{orderId}", "dataElements": ["shippingAddress"]},
        {"method": "GET", "path": f"/orders/v0/orders/{ORDER_ID}", "dataElements": ["buyerInfo", "shippingAddress"]},
        ITEMS,
        {"method": "GET", "path": f"/orders/v0/orders/{ORDER_ID}/orderItems", "dataElements": ["buyerInfo"]},
        {"method": "GET", "path": "/orders/v0/orders/{orderId}/address"},
        {"method": "GET", "path": "/orders/v0/orders/{orderId}/buyerInfo"},
        {"method": "GET", "path": "/orders/v0/orders", "dataElements": ["buyerTaxInformation"]},
    ],
    ids=["bulk", "generic-order", "specific-order", "generic-items", "specific-items", "address", "buyer", "tax"],
)
def test_amazons_generic_and_specific_paths_are_accepted(seller: Amazon, resource: dict[str, Any]) -> None:
    assert seller.rdt(resource).startswith("Atz.sprdt|")


@pytest.mark.parametrize(
    ("resources", "message"),
    [
        ([{"method": "POST", "path": "/orders/v0/orders", "dataElements": ["buyerInfo"]}], RESOURCE_DENIED),
        ([{"method": "GET", "path": "/orders/2026-01-01/orders"}], RESOURCE_DENIED),
        ([{"method": "GET", "path": "/feeds/2021-06-30/feeds"}], RESOURCE_DENIED),
        ([{"method": "GET", "path": "/orders/v0/orders/{orderID}", "dataElements": ["buyerInfo"]}], RESOURCE_DENIED),
        ([{"method": "GET", "path": "getOrders"}], RESOURCE_DENIED),
        ([BULK, {"method": "DELETE", "path": "/orders/v0/orders/{orderId}"}], RESOURCE_DENIED),
        (
            [{"method": "GET", "path": "/orders/v0/orders/{orderId}/orderItems", "dataElements": ["shippingAddress"]}],
            "Application does not have access to one or more requested data elements: [shippingAddress]",
        ),
        (
            [{"method": "GET", "path": "/orders/v0/orders", "dataElements": ["shippingAddress", "buyerinfo", "pii"]}],
            "Application does not have access to one or more requested data elements: [buyerinfo, pii]",
        ),
        ([], "Empty target resource arguement found"),
    ],
    ids=[
        "wrong-method",
        "orders-2026-is-not-restricted",
        "not-an-orders-path",
        "misspelt-placeholder",
        "operation-name-not-path",
        "one-bad-resource-spoils-all",
        "element-the-path-does-not-take",
        "unknown-elements",
        "no-resource",
    ],
)
def test_amazons_refusals_are_answered_in_amazons_words(
    seller: Amazon, resources: list[dict[str, Any]], message: str
) -> None:
    error = only_error(seller.request_rdt(*resources, expect=400))
    assert error == {"code": "InvalidInput", "message": message, "details": ""}


@pytest.mark.parametrize(
    "resource",
    [{"method": "", "path": "/orders/v1/orders/902-1845936-5435065/address"}, {"method": "GET"}, {"path": "/x"}],
    ids=["empty-method", "no-path", "no-method"],
)
def test_a_resource_without_method_or_path_is_the_models_invalid_request(
    seller: Amazon, resource: dict[str, Any]
) -> None:
    error = only_error(seller.request_rdt(resource, expect=400))
    assert error == {
        "code": "InvalidRequest",
        "message": "Request is missing or has invalid parameters",
        "details": "Resource not provided.",
    }


def test_a_body_that_breaks_the_model_is_an_invalid_request(seller: Amazon) -> None:
    error = only_error(seller.request_rdt(expect=400, json={"restrictedResources": "GET /orders/v0/orders"}))
    assert (error["code"], error["message"]) == ("InvalidRequest", "Request is missing or has invalid parameters")


def test_more_than_fifty_resources_are_refused(seller: Amazon) -> None:
    resources = [{"method": "GET", "path": f"/orders/v0/orders/202-0000000-{n:07d}/address"} for n in range(51)]
    assert only_error(seller.request_rdt(*resources, expect=400))["code"] == "InvalidInput"
    assert seller.rdt(*resources[:50])


def test_a_request_that_is_not_json_is_unsupported(seller: Amazon) -> None:
    seller.sp(
        TOKENS,
        "createRestrictedDataToken",
        "POST",
        "/tokens/2021-03-01/restrictedDataToken",
        expect=415,
        content=b"restrictedResources=x",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )


# --- roles ------------------------------------------------------------------------------------------------------


def test_an_app_without_direct_to_consumer_delivery_gets_no_buyer_data_elements(amazon: Amazon) -> None:
    amazon.add_seller(roles=NO_PII_ROLES)
    amazon.access_token = amazon.token_for()
    error = only_error(amazon.request_rdt(BULK, expect=400))
    assert error["message"] == "Application does not have access to one or more requested data elements: " + (
        "[buyerInfo, shippingAddress]"
    )
    address = {"method": "GET", "path": "/orders/v0/orders/{orderId}/address"}
    assert only_error(amazon.request_rdt(address, expect=400))["message"] == RESOURCE_DENIED
    # The tax roles still open buyerTaxInformation.
    assert amazon.rdt({"method": "GET", "path": "/orders/v0/orders", "dataElements": ["buyerTaxInformation"]})


def test_an_app_with_no_role_for_the_tokens_api_is_refused_with_403(amazon: Amazon) -> None:
    amazon.add_seller(roles=[])
    amazon.access_token = amazon.token_for()
    error = only_error(amazon.request_rdt(BULK, expect=403))
    assert (error["code"], error["message"]) == ("Unauthorized", "Access to requested resource is denied.")


# --- using an RDT -------------------------------------------------------------------------------------------------


def test_an_rdt_cannot_ask_for_another_rdt(seller: Amazon) -> None:
    rdt = seller.rdt(BULK)
    error = only_error(seller.request_rdt(BULK, expect=403, token=rdt))
    assert error == {"code": "Unauthorized", "message": "Access to requested resource is denied.", "details": ""}


@pytest.mark.parametrize(
    ("model", "operation_id", "method", "path", "kwargs"),
    [
        (V0, "getOrder", "GET", f"/orders/v0/orders/{ORDER_ID}", {}),
        (V0, "getOrderItems", "GET", f"/orders/v0/orders/{ORDER_ID}/orderItems", {}),
        ("orders_2026-01-01", "getOrder", "GET", f"/orders/2026-01-01/orders/{ORDER_ID}", {}),
        (
            "orders_2026-01-01",
            "searchOrders",
            "GET",
            "/orders/2026-01-01/orders",
            {"params": {"createdAfter": "2025-03-01T00:00:00Z"}},
        ),
        ("sellers", "getMarketplaceParticipations", "GET", "/sellers/v1/marketplaceParticipations", {}),
        (
            "listingsItems_2021-08-01",
            "getListingsItem",
            "GET",
            f"/listings/2021-08-01/items/{SELLER_ID}/SKU-A",
            {"params": {"marketplaceIds": UK}},
        ),
    ],
    ids=["v0-getOrder", "v0-getOrderItems", "2026-getOrder", "searchOrders", "participations", "listings"],
)
def test_an_rdt_is_refused_on_a_resource_it_does_not_name(
    seller: Amazon, model: str, operation_id: str, method: str, path: str, kwargs: dict[str, Any]
) -> None:
    seller.add_orders(pii_order())
    rdt = seller.rdt(BULK)
    error = only_error(seller.sp(model, operation_id, method, path, expect=403, token=rdt, **kwargs))
    assert error == {"code": "Unauthorized", "message": "Access to requested resource is denied.", "details": ""}


def test_a_specific_path_opens_that_order_only(seller: Amazon) -> None:
    other = "202-0000002-0000002"
    seller.add_orders(pii_order(), pii_order(other))
    rdt = seller.rdt({"method": "GET", "path": f"/orders/v0/orders/{ORDER_ID}", "dataElements": ["shippingAddress"]})
    seller.sp(V0, "getOrder", "GET", f"/orders/v0/orders/{ORDER_ID}", expect=200, token=rdt)
    seller.sp(V0, "getOrder", "GET", f"/orders/v0/orders/{other}", expect=403, token=rdt)


def test_a_generic_path_opens_every_order_of_the_seller(seller: Amazon) -> None:
    other = "202-0000002-0000002"
    seller.add_orders(pii_order(), pii_order(other))
    rdt = seller.rdt({"method": "GET", "path": "/orders/v0/orders/{orderId}", "dataElements": ["shippingAddress"]})
    for order_id in (ORDER_ID, other):
        payload = seller.sp(V0, "getOrder", "GET", f"/orders/v0/orders/{order_id}", expect=200, token=rdt).json()
        assert payload["payload"]["ShippingAddress"]["AddressLine1"] == "1 High Street"


def test_a_path_with_a_trailing_slash_is_issued_but_opens_nothing(seller: Amazon) -> None:
    # Amazon issues it, and then refuses it on getOrders (amzn/selling-partner-api-models#2766).
    rdt = seller.rdt({"method": "GET", "path": "/orders/v0/orders/", "dataElements": ["shippingAddress"]})
    get_orders(seller, rdt, expect=403)


def test_an_expired_rdt_is_refused(seller: Amazon) -> None:
    seller.config(restricted_data_token_ttl_seconds=0.05)
    response = seller.request_rdt(BULK)
    assert response.json()["expiresIn"] == 0
    time.sleep(0.1)
    error = only_error(get_orders(seller, response.json()["restrictedDataToken"], expect=403))
    assert (error["code"], error["message"]) == ("Unauthorized", "Access to requested resource is denied.")
    assert "expired" in error["details"]


def test_revoking_the_access_tokens_revokes_the_rdts_issued_with_them(seller: Amazon) -> None:
    rdt = seller.rdt(BULK)
    get_orders(seller, rdt)
    seller.control("POST", f"/_sim/sellers/{SELLER_ID}/revoke", {"revoke_access_tokens": True})
    get_orders(seller, rdt, expect=403)


def test_an_rdt_delegated_to_another_application_does_not_serve_this_one(seller: Amazon) -> None:
    body = {"targetApplication": "amzn1.sellerapps.app.someone-else", "restrictedResources": [BULK]}
    rdt = seller.request_rdt(json=body).json()["restrictedDataToken"]
    get_orders(seller, rdt, expect=403)
    own = {"targetApplication": "amzn1.sp.solution.local", "restrictedResources": [BULK]}
    get_orders(seller, seller.request_rdt(json=own).json()["restrictedDataToken"])


def test_an_rdt_acts_for_the_seller_whose_access_token_asked_for_it(seller: Amazon) -> None:
    seller.add_seller(OTHER_SELLER_ID, OTHER_REFRESH_TOKEN)
    seller.add_orders(pii_order())
    seller.add_orders(pii_order("202-0000002-0000002"), seller_id=OTHER_SELLER_ID)
    other_rdt = seller.request_rdt(BULK, token=seller.token_for(OTHER_REFRESH_TOKEN))
    mine = [o["AmazonOrderId"] for o in get_orders(seller, seller.rdt(BULK)).json()["payload"]["Orders"]]
    theirs = get_orders(seller, other_rdt.json()["restrictedDataToken"]).json()["payload"]["Orders"]
    assert (mine, [o["AmazonOrderId"] for o in theirs]) == ([ORDER_ID], ["202-0000002-0000002"])


# --- rate limit and call log ---------------------------------------------------------------------------------------


def test_create_restricted_data_token_is_counted_and_throttled_at_amazons_rate(seller: Amazon) -> None:
    seller.control("POST", "/_sim/rate-limits", {"enforce": True})
    for _ in range(10):
        seller.request_rdt(BULK)
    throttled = only_error(seller.request_rdt(BULK, expect=429))
    assert throttled["code"] == "QuotaExceeded"
    calls = seller.calls()
    assert calls["counts"]["createRestrictedDataToken"] == 11
    assert calls["counts_by_api"][TOKENS] == {"createRestrictedDataToken": 11}
    plans = seller.control("GET", "/_sim/rate-limits")["plans"]
    assert plans[f"{TOKENS}.createRestrictedDataToken"] == {"rate": 1.0, "burst": 10}


def test_calls_made_with_an_rdt_are_logged_as_the_operation_they_are(seller: Amazon) -> None:
    seller.add_orders(pii_order())
    rdt = seller.rdt(BULK)
    seller.control("DELETE", "/_sim/calls")
    get_orders(seller, rdt)
    assert seller.calls()["counts"] == {"getOrders": 1}
