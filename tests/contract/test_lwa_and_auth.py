"""LWA (`POST /auth/o2/token`) and the access token every SP-API route demands."""

from __future__ import annotations

import time

import pytest

from tests.contract.conftest import (
    OTHER_REFRESH_TOKEN,
    OTHER_SELLER_ID,
    REFRESH_TOKEN,
    SELLER_ID,
    UK,
    Amazon,
)
from tests.contract.model_contract import contract

pytestmark = pytest.mark.integration

# One representative call per SP-API route: (model, operationId, method, path, kwargs)
EVERY_ROUTE = [
    (
        "ordersV0",
        "getOrders",
        "GET",
        "/orders/v0/orders",
        {"params": {"MarketplaceIds": UK, "CreatedAfter": "2025-01-01T00:00:00Z"}},
    ),
    ("ordersV0", "getOrder", "GET", "/orders/v0/orders/202-0000001-0000001", {}),
    ("ordersV0", "getOrderItems", "GET", "/orders/v0/orders/202-0000001-0000001/orderItems", {}),
    ("ordersV0", "getOrderAddress", "GET", "/orders/v0/orders/202-0000001-0000001/address", {}),
    ("ordersV0", "confirmShipment", "POST", "/orders/v0/orders/202-0000001-0000001/shipmentConfirmation", {"json": {}}),
    (
        "orders_2026-01-01",
        "searchOrders",
        "GET",
        "/orders/2026-01-01/orders",
        {"params": {"createdAfter": "2025-01-01T00:00:00Z"}},
    ),
    ("orders_2026-01-01", "getOrder", "GET", "/orders/2026-01-01/orders/202-0000001-0000001", {}),
    (
        "feeds_2021-06-30",
        "createFeedDocument",
        "POST",
        "/feeds/2021-06-30/documents",
        {"json": {"contentType": "application/json"}},
    ),
    ("feeds_2021-06-30", "getFeedDocument", "GET", "/feeds/2021-06-30/documents/doc-1", {}),
    ("feeds_2021-06-30", "createFeed", "POST", "/feeds/2021-06-30/feeds", {"json": {}}),
    ("feeds_2021-06-30", "getFeed", "GET", "/feeds/2021-06-30/feeds/1", {}),
    ("feeds_2021-06-30", "getFeeds", "GET", "/feeds/2021-06-30/feeds", {"params": {"feedTypes": "JSON_LISTINGS_FEED"}}),
    ("feeds_2021-06-30", "cancelFeed", "DELETE", "/feeds/2021-06-30/feeds/1", {}),
    ("reports_2021-06-30", "createReport", "POST", "/reports/2021-06-30/reports", {"json": {}}),
    ("reports_2021-06-30", "getReport", "GET", "/reports/2021-06-30/reports/1", {}),
    ("reports_2021-06-30", "getReportDocument", "GET", "/reports/2021-06-30/documents/doc-1", {}),
    (
        "listingsItems_2021-08-01",
        "getListingsItem",
        "GET",
        f"/listings/2021-08-01/items/{SELLER_ID}/SKU-A",
        {"params": {"marketplaceIds": UK}},
    ),
    (
        "listingsItems_2021-08-01",
        "patchListingsItem",
        "PATCH",
        f"/listings/2021-08-01/items/{SELLER_ID}/SKU-A",
        {"params": {"marketplaceIds": UK}, "json": {}},
    ),
    (
        "listingsItems_2021-08-01",
        "searchListingsItems",
        "GET",
        f"/listings/2021-08-01/items/{SELLER_ID}",
        {"params": {"marketplaceIds": UK}},
    ),
    ("sellers", "getMarketplaceParticipations", "GET", "/sellers/v1/marketplaceParticipations", {}),
    ("tokens_2021-03-01", "createRestrictedDataToken", "POST", "/tokens/2021-03-01/restrictedDataToken", {"json": {}}),
]
ROUTE_IDS = [f"{model}.{op}" for model, op, *_ in EVERY_ROUTE]


def test_a_registered_refresh_token_gets_an_hour_long_access_token(amazon: Amazon) -> None:
    amazon.add_seller()
    response = amazon.lwa(grant_type="refresh_token", refresh_token=REFRESH_TOKEN)
    assert response.status_code == 200
    body = response.json()
    assert body["access_token"].startswith("Atza|")
    assert (body["token_type"], body["expires_in"], body["refresh_token"]) == ("bearer", 3600, REFRESH_TOKEN)


@pytest.mark.parametrize(
    ("client_id", "client_secret"),
    [("amzn1.application-oa2-client.other", "local-secret"), ("amzn1.application-oa2-client.local", "wrong"), ("", "")],
)
def test_any_other_client_credentials_are_an_invalid_client(amazon: Amazon, client_id: str, client_secret: str) -> None:
    amazon.add_seller()
    form = {
        "grant_type": "refresh_token",
        "refresh_token": REFRESH_TOKEN,
        "client_id": client_id,
        "client_secret": client_secret,
    }
    response = amazon.client.post("/auth/o2/token", data=form)
    assert response.status_code == 401
    assert response.json()["error"] == "invalid_client"


def test_an_unknown_refresh_token_is_an_invalid_grant(amazon: Amazon) -> None:
    amazon.add_seller()
    response = amazon.lwa(grant_type="refresh_token", refresh_token="Atzr|nobody-knows-this-token-at-all")
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_grant"
    assert response.json()["error_description"]


def test_a_revoked_refresh_token_is_an_invalid_grant(amazon: Amazon) -> None:
    amazon.add_seller()
    amazon.control("POST", f"/_sim/sellers/{SELLER_ID}/revoke")
    response = amazon.lwa(grant_type="refresh_token", refresh_token=REFRESH_TOKEN)
    assert (response.status_code, response.json()["error"]) == (400, "invalid_grant")


def test_revoking_keeps_issued_access_tokens_until_they_expire_unless_asked(seller: Amazon) -> None:
    seller.control("POST", f"/_sim/sellers/{SELLER_ID}/revoke")
    seller.sp("sellers", "getMarketplaceParticipations", "GET", "/sellers/v1/marketplaceParticipations", expect=200)
    seller.control("POST", f"/_sim/sellers/{SELLER_ID}/revoke", {"revoke_access_tokens": True})
    seller.sp("sellers", "getMarketplaceParticipations", "GET", "/sellers/v1/marketplaceParticipations", expect=403)


def test_a_consent_code_is_exchanged_once_for_the_sellers_refresh_token(amazon: Amazon) -> None:
    amazon.add_seller()
    code = amazon.control("POST", "/_sim/oauth/codes", {"seller_id": SELLER_ID}, expect=201)["code"]
    first = amazon.lwa(grant_type="authorization_code", code=code, redirect_uri="https://example.test/callback")
    assert first.status_code == 200
    assert first.json()["refresh_token"] == REFRESH_TOKEN
    assert first.json()["access_token"].startswith("Atza|")
    second = amazon.lwa(grant_type="authorization_code", code=code)
    assert (second.status_code, second.json()["error"]) == (400, "invalid_grant")


def test_a_consent_code_expires_after_its_validity(amazon: Amazon) -> None:
    amazon.add_seller()
    amazon.config(auth_code_ttl_seconds=0.05)
    code = amazon.control("POST", "/_sim/oauth/codes", {"seller_id": SELLER_ID}, expect=201)["code"]
    time.sleep(0.1)
    assert amazon.lwa(grant_type="authorization_code", code=code).json()["error"] == "invalid_grant"


def test_authorising_again_after_a_revocation_gives_a_new_working_refresh_token(amazon: Amazon) -> None:
    amazon.add_seller()
    amazon.control("POST", f"/_sim/sellers/{SELLER_ID}/revoke")
    code = amazon.control("POST", "/_sim/oauth/codes", {"seller_id": SELLER_ID}, expect=201)["code"]
    new_refresh = amazon.lwa(grant_type="authorization_code", code=code).json()["refresh_token"]
    assert new_refresh != REFRESH_TOKEN
    assert amazon.lwa(grant_type="refresh_token", refresh_token=new_refresh).status_code == 200


def test_a_code_for_an_unknown_seller_is_refused_by_the_control_api(amazon: Amazon) -> None:
    body = amazon.control("POST", "/_sim/oauth/codes", {"seller_id": "A9NOBODY00000"}, expect=404)
    assert "unknown seller" in body["error"]["message"]


@pytest.mark.parametrize(
    ("form", "error"),
    [
        ({}, "invalid_request"),
        ({"grant_type": "refresh_token"}, "invalid_request"),
        ({"grant_type": "authorization_code"}, "invalid_request"),
        ({"grant_type": "password"}, "unsupported_grant_type"),
    ],
)
def test_malformed_token_requests_name_the_oauth_error(amazon: Amazon, form: dict[str, str], error: str) -> None:
    response = amazon.lwa(**form)
    assert (response.status_code, response.json()["error"]) == (400, error)


def test_a_json_token_request_is_refused_because_lwa_is_form_encoded(amazon: Amazon) -> None:
    response = amazon.client.post("/auth/o2/token", json={"grant_type": "refresh_token"})
    assert (response.status_code, response.json()["error"]) == (400, "invalid_request")


def test_a_grantless_token_cannot_act_for_a_seller(amazon: Amazon) -> None:
    token = amazon.lwa(grant_type="client_credentials", scope="sellingpartnerapi::notifications").json()["access_token"]
    amazon.sp(
        "sellers",
        "getMarketplaceParticipations",
        "GET",
        "/sellers/v1/marketplaceParticipations",
        expect=403,
        token=token,
    )


@pytest.mark.parametrize(("model", "operation_id", "method", "path", "kwargs"), EVERY_ROUTE, ids=ROUTE_IDS)
def test_every_route_refuses_a_call_without_an_access_token(
    seller: Amazon, model: str, operation_id: str, method: str, path: str, kwargs: dict
) -> None:
    response = seller.sp(model, operation_id, method, path, expect=403, with_token=False, **kwargs)
    error = response.json()["errors"][0]
    assert (error["code"], error["message"]) == ("Unauthorized", "Access to requested resource is denied.")
    assert "missing" in error["details"]


@pytest.mark.parametrize(("model", "operation_id", "method", "path", "kwargs"), EVERY_ROUTE, ids=ROUTE_IDS)
def test_every_route_refuses_an_unknown_access_token(
    seller: Amazon, model: str, operation_id: str, method: str, path: str, kwargs: dict
) -> None:
    response = seller.sp(model, operation_id, method, path, expect=403, token="Atza|forged", **kwargs)
    assert response.json()["errors"][0]["code"] == "Unauthorized"
    assert response.headers["x-amzn-ErrorType"] == "AccessDeniedException"


def test_an_expired_access_token_is_refused_with_a_reason(amazon: Amazon) -> None:
    amazon.add_seller()
    amazon.config(access_token_ttl_seconds=0.05)
    token = amazon.token_for()
    assert amazon.lwa(grant_type="refresh_token", refresh_token=REFRESH_TOKEN).json()["expires_in"] == 0
    time.sleep(0.1)
    response = amazon.sp(
        "sellers",
        "getMarketplaceParticipations",
        "GET",
        "/sellers/v1/marketplaceParticipations",
        expect=403,
        token=token,
    )
    assert "expired" in response.json()["errors"][0]["details"]


def test_a_token_acts_only_for_the_seller_it_was_issued_to(seller: Amazon) -> None:
    seller.add_seller(OTHER_SELLER_ID, OTHER_REFRESH_TOKEN, ("FR",))
    other = seller.token_for(OTHER_REFRESH_TOKEN)
    response = seller.sp(
        "sellers",
        "getMarketplaceParticipations",
        "GET",
        "/sellers/v1/marketplaceParticipations",
        expect=200,
        token=other,
    )
    assert [p["marketplace"]["countryCode"] for p in response.json()["payload"]] == ["FR"]
    seller.sp(
        "listingsItems_2021-08-01",
        "getListingsItem",
        "GET",
        f"/listings/2021-08-01/items/{SELLER_ID}/SKU-A",
        expect=403,
        token=other,
        params={"marketplaceIds": "A13V1IB3VIYZZH"},
    )


def test_lwa_calls_are_logged_under_their_own_name(amazon: Amazon) -> None:
    amazon.add_seller()
    amazon.token_for()
    assert amazon.calls()["counts"] == {"lwaToken": 1}


@pytest.mark.parametrize(("model", "operation_id", "method", "path", "kwargs"), EVERY_ROUTE, ids=ROUTE_IDS)
def test_an_app_without_any_role_is_refused_on_every_route(
    amazon: Amazon, model: str, operation_id: str, method: str, path: str, kwargs: dict
) -> None:
    # "If you call an operation for which you don't have the required roles, you get a 403 error."
    amazon.add_seller(roles=[])
    response = amazon.sp(model, operation_id, method, path, expect=403, token=amazon.token_for(), **kwargs)
    assert response.json()["errors"] == [
        {"code": "Unauthorized", "message": "Access to requested resource is denied.", "details": ""}
    ]


@pytest.mark.parametrize(
    ("roles", "allowed"),
    [
        (["PRODUCT_LISTING"], {"getListingsItem", "getOrders", "getMarketplaceParticipations", "createReport"}),
        (["INVENTORY_AND_ORDER_TRACKING"], {"getOrders", "createReport"}),
        (["TAX_INVOICING"], {"getOrders"}),
    ],
    ids=["product-listing", "order-tracking", "tax-invoicing"],
)
def test_each_operation_needs_one_of_its_roles(amazon: Amazon, roles: list[str], allowed: set[str]) -> None:
    amazon.add_seller(roles=roles)
    amazon.access_token = amazon.token_for()
    calls = {
        "getOrders": (
            "ordersV0",
            "GET",
            "/orders/v0/orders",
            {"params": {"MarketplaceIds": UK, "CreatedAfter": "2025-01-01T00:00:00Z"}},
        ),
        "getListingsItem": (
            "listingsItems_2021-08-01",
            "GET",
            f"/listings/2021-08-01/items/{SELLER_ID}/SKU-A",
            {"params": {"marketplaceIds": UK}},
        ),
        "getMarketplaceParticipations": ("sellers", "GET", "/sellers/v1/marketplaceParticipations", {}),
        "createReport": (
            "reports_2021-06-30",
            "POST",
            "/reports/2021-06-30/reports",
            {"json": {"reportType": "GET_MERCHANT_LISTINGS_ALL_DATA", "marketplaceIds": [UK]}},
        ),
    }
    opened = set()
    for operation_id, (model, method, path, kwargs) in calls.items():
        response = amazon.client.request(method, path, headers={"x-amz-access-token": amazon.access_token}, **kwargs)
        contract(model).assert_valid(operation_id, response.status_code, response.json())
        if response.status_code != 403:
            opened.add(operation_id)
    assert opened == allowed
