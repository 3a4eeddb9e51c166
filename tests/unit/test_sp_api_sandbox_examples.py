"""The client against Amazon's own sandbox examples (`x-amzn-api-sandbox` -> `static` in the Swagger models).

Success examples are served only when the client's request carries exactly the parameters the example
pins (the static sandbox's matching rule), so these tests check the request builders and the response
models together. Error examples are served as they are and must come back as typed errors with Amazon's
code and message. Request bodies and query parameters are also checked against the models' schemas.
"""

from __future__ import annotations

import json
from datetime import datetime
from decimal import Decimal
from typing import Any

import httpx
import pytest
from oms_amazon.adapters.sp_api import InvalidRequest, SpApiClient, SpApiError, builders, paginate
from oms_amazon.adapters.sp_api.models import ConfirmShipmentItem, PackageDetail

from tests.unit.test_sp_api_support import (
    USED_OPERATIONS,
    SandboxExample,
    SandboxTransport,
    all_examples,
    example_matches,
    load_model,
    make_client,
    operation_spec,
    sandbox_examples,
    serve_example,
)

pytestmark = pytest.mark.unit

SELLER_ID = "A3SELLER0001"


def _sandbox_client(sandbox: SandboxTransport) -> SpApiClient:
    return make_client(sandbox, sandbox=True, seller_id=SELLER_ID, region="na")


def _example(operation: str, status: int, index: int = 0) -> SandboxExample:
    return next(e for e in sandbox_examples(operation) if e.status == status and e.index == index)


def _param(example: SandboxExample, name: str, default: Any = None) -> Any:
    return example.value(name) if example.has(name) else default


def _package_from(body: dict[str, Any]) -> PackageDetail:
    detail = body["packageDetail"]
    return PackageDetail(
        package_reference_id=detail["packageReferenceId"],
        carrier_code=detail["carrierCode"],
        carrier_name=detail.get("carrierName"),
        shipping_method=detail.get("shippingMethod"),
        tracking_number=detail["trackingNumber"],
        ship_date=datetime.fromisoformat(detail["shipDate"]),
        ship_from_supply_source_id=detail.get("shipFromSupplySourceId"),
        items=tuple(
            ConfirmShipmentItem(i["orderItemId"], i["quantity"], tuple(i.get("transparencyCodes", ())))
            for i in detail["orderItems"]
        ),
    )


def call_for_example(client: SpApiClient, example: SandboxExample) -> Any:
    """The client call that sends exactly what a success example pins."""
    op = example.operation
    if op == "searchOrders":
        return client.search_orders(
            marketplace_ids=_param(example, "marketplaceIds"),
            created_after=_param(example, "createdAfter"),
            included_data=_param(example, "includedData"),
            pagination_token=_param(example, "paginationToken"),
        )
    if op == "getOrders":
        return client.get_orders(
            marketplace_ids=_param(example, "MarketplaceIds", ["ATVPDKIKX0DER"]),
            created_after=_param(example, "CreatedAfter"),
            next_token=_param(example, "NextToken"),
        )
    if op == "getOrderItems":
        return client.get_order_items(example.value("orderId"))
    if op == "confirmShipment":
        body = example.value("body")
        return client.confirm_shipment(
            example.value("orderId"), marketplace_id=body["marketplaceId"], package=_package_from(body)
        )
    if op == "createFeedDocument":
        return client.create_feed_document(example.value("body")["contentType"])
    if op == "createFeed":
        body = example.value("body")
        return client.create_feed(
            feed_type=body["feedType"],
            marketplace_ids=body["marketplaceIds"],
            input_feed_document_id=body["inputFeedDocumentId"],
        )
    if op == "getFeed":
        return client.get_feed(example.value("feedId"))
    if op == "getFeedDocument":
        return client.get_feed_document(example.value("feedDocumentId"))
    if op == "createReport":
        body = example.value("body")
        return client.create_report(
            report_type=body["reportType"],
            marketplace_ids=body["marketplaceIds"],
            data_start_time=datetime.fromisoformat(body["dataStartTime"]),
        )
    if op == "getReport":
        return client.get_report(example.value("reportId"))
    if op == "getReportDocument":
        return client.get_report_document(example.value("reportDocumentId"))
    if op == "patchListingsItem":
        return client.patch_listings_item(
            sku=_param(example, "sku", "GM-ZDPI-9B4E"),
            marketplace_ids=_param(example, "marketplaceIds", ["ATVPDKIKX0DER"]),
            product_type="LUGGAGE",
            patches=[builders.fulfillment_availability_patch(7)],
            included_data=_param(example, "includedData"),
            mode=_param(example, "mode"),
        )
    if op == "searchListingsItems":
        return client.search_listings_items(
            marketplace_ids=example.value("marketplaceIds"),
            identifiers=_param(example, "identifiers"),
            identifiers_type=_param(example, "identifiersType"),
            included_data=_param(example, "includedData"),
            page_size=_param(example, "pageSize"),
        )
    if op == "getMarketplaceParticipations":
        return client.get_marketplace_participations()
    raise AssertionError(f"no call for {op}")


# ------------------------------------------------------------------------------- every example, generically


@pytest.mark.parametrize("example", all_examples(success=True), ids=lambda e: e.id)
def test_each_success_example_is_requested_exactly_and_parsed(example: SandboxExample) -> None:
    sandbox = SandboxTransport([example.operation])

    call_for_example(_sandbox_client(sandbox), example)

    assert sandbox.served == [example]


@pytest.mark.parametrize("example", all_examples(success=False), ids=lambda e: e.id)
def test_each_error_example_becomes_a_typed_error_with_amazons_code_and_message(example: SandboxExample) -> None:
    client = make_client(serve_example(example), sandbox=True, seller_id=SELLER_ID, region="na")
    expected = example.response["errors"][0]

    with pytest.raises(SpApiError) as raised:
        _call_for_error_example(client, example)

    error = raised.value
    assert isinstance(error, InvalidRequest)
    assert (error.status, error.code, error.message) == (example.status, expected["code"], expected["message"])
    assert error.details == expected.get("details")
    assert error.operation == example.operation
    assert error.request_id == f"sandbox-{example.id}"


def _call_for_error_example(client: SpApiClient, example: SandboxExample) -> Any:
    # Error examples often omit what a typed builder requires (no feedType, empty body): send a valid
    # request to the operation and let the example's answer come back.
    defaults: dict[str, Any] = {
        "searchOrders": lambda: client.search_orders(marketplace_ids=["ATVPDKIKX0DER"], created_after="TEST_CASE_400"),
        "getOrders": lambda: client.get_orders(marketplace_ids=["ATVPDKIKX0DER"], created_after="TEST_CASE_400"),
        "getOrderItems": lambda: client.get_order_items("TEST_CASE_400"),
        "createFeedDocument": lambda: client.create_feed_document("text/plain"),
        "createFeed": lambda: client.create_feed(
            feed_type="JSON_LISTINGS_FEED", marketplace_ids=["ATVPDKIKX0DER"], input_feed_document_id="badDocumentId"
        ),
        "getFeed": lambda: client.get_feed("badFeedId1"),
        "getFeedDocument": lambda: client.get_feed_document("badDocumentId1"),
        "createReport": lambda: client.create_report(marketplace_ids=["ATVPDKIKX0DER"], report_type="BAD"),
        "getReport": lambda: client.get_report("badReportId1"),
        "getReportDocument": lambda: client.get_report_document("badDocumentId1"),
        "patchListingsItem": lambda: client.patch_listing_quantity(
            sku="BadSKU", marketplace_ids=["ATVPDKIKX0DER"], quantity=1
        ),
        "searchListingsItems": lambda: client.search_listings_items(marketplace_ids=["invalid"]),
    }
    if example.operation == "confirmShipment":
        return call_for_example(client, _with_valid_ship_date(example))
    return defaults[example.operation]()


def _with_valid_ship_date(example: SandboxExample) -> SandboxExample:
    body = json.loads(json.dumps(example.value("body")))
    body["packageDetail"]["shipDate"] = "2022-02-21T00:00:00Z"
    return SandboxExample(**{**example.__dict__, "parameters": {**example.parameters, "body": {"value": body}}})


def test_error_examples_reach_every_operation_that_has_one() -> None:
    with_errors = {e.operation for e in all_examples(success=False)}

    assert with_errors == set(USED_OPERATIONS) - {"getMarketplaceParticipations"}


# ------------------------------------------------------------------------------- key fields, per operation


def test_search_orders_examples_carry_orders_items_programs_and_the_next_token() -> None:
    sandbox = SandboxTransport(["searchOrders"])
    client = _sandbox_client(sandbox)
    japan = _example("searchOrders", 200, 0)

    page = call_for_example(client, japan)

    order = page.orders[0]
    expected = japan.response["orders"][0]
    assert order.order_id == "250-1234567-8901234"
    assert order.programs == ["PRIME"]
    assert order.sales_channel.marketplace_id == "A1VC38T7YXB528"
    assert order.fulfillment.fulfilled_by == "AMAZON"
    assert order.fulfillment.fulfillment_service_level == "STANDARD"
    assert order.seller_order_id == "JP-ORDER-2024-001"
    assert [i.product.seller_sku for i in order.order_items] == [
        i["product"]["sellerSku"] for i in expected["orderItems"]
    ]
    assert order.order_items[1].quantity_ordered == 2
    assert order.order_items[1].product.price.unit_price.amount == Decimal("6980")
    assert order.recipient.delivery_address.country_code == "JP"
    assert page.next_token == japan.response["pagination"]["nextToken"]


def test_search_orders_second_page_example_is_reached_with_its_pagination_token() -> None:
    sandbox = SandboxTransport(["searchOrders"])
    uk = _example("searchOrders", 200, 1)

    page = call_for_example(_sandbox_client(sandbox), uk)

    order = page.orders[0]
    assert sandbox.requests[0].url.params["paginationToken"] == uk.value("paginationToken")
    assert order.fulfillment.fulfilled_by == "MERCHANT"
    assert order.fulfillment.ship_by_window.latest == datetime.fromisoformat("2024-12-25T23:59:59Z")
    assert order.packages[0].shipping_service == "DPD Next Day Delivery"
    assert page.next_token is None


def test_get_orders_examples_page_with_next_token_until_the_last_page() -> None:
    sandbox = SandboxTransport(["getOrders"])
    client = _sandbox_client(sandbox)

    pages = list(
        paginate(
            lambda token: client.get_orders(
                marketplace_ids=["ATVPDKIKX0DER"], created_after="TEST_CASE_200_NEXT_TOKEN", next_token=token
            )
        )
    )

    assert [len(p.orders) for p in pages] == [1, 1]
    assert pages[0].next_token == "2YgYW55IGNhcm5hbCBwbGVhc3VyZS4"
    assert pages[1].next_token is None
    assert sandbox.served == [_example("getOrders", 200, 1), _example("getOrders", 200, 2)]


def test_get_orders_example_keeps_the_free_text_ship_service_level_and_flags() -> None:
    sandbox = SandboxTransport(["getOrders"])

    page = _sandbox_client(sandbox).get_orders(marketplace_ids=["ATVPDKIKX0DER"], created_after="TEST_CASE_200")

    first = page.orders[0]
    assert [o.amazon_order_id for o in page.orders] == ["902-1845936-5435065", "902-8745147-1934268"]
    assert first.ship_service_level == "Std US D2D Dom"
    assert first.shipment_service_level_category == "Standard"
    assert first.fulfillment_channel == "MFN"
    assert first.order_status == "Unshipped"
    assert first.is_prime is False
    assert first.order_total is not None
    assert first.order_total.amount == Decimal("11.01")
    assert first.last_update_date == datetime.fromisoformat("1970-01-19T03:58:32Z")
    assert page.created_before == "1.569521782042E9"


def test_get_order_items_example_carries_sku_quantities_and_line_price() -> None:
    sandbox = SandboxTransport(["getOrderItems"])

    items = _sandbox_client(sandbox).list_order_items("TEST_CASE_200")

    (item,) = items
    assert (item.seller_sku, item.asin, item.order_item_id) == ("NABetaASINB00551Q3CS", "B00551Q3CS", "05015851154158")
    assert (item.quantity_ordered, item.quantity_shipped) == (1, 0)
    assert item.item_price is not None
    assert item.item_price.amount == Decimal("10.00")
    assert item.is_gift == "false"


def test_confirm_shipment_example_is_matched_by_its_exact_body_and_returns_nothing() -> None:
    sandbox = SandboxTransport(["confirmShipment"])
    example = _example("confirmShipment", 204)

    result = call_for_example(_sandbox_client(sandbox), example)

    assert result is None
    assert json.loads(sandbox.requests[0].content) == example.value("body")


def test_feed_examples_give_document_ids_urls_and_processing_status() -> None:
    sandbox = SandboxTransport(["createFeedDocument", "createFeed", "getFeed", "getFeedDocument"])
    client = _sandbox_client(sandbox)

    upload = client.create_feed_document("text/tab-separated-values; charset=UTF-8")
    created = client.create_feed(
        feed_type="POST_PRODUCT_DATA",
        marketplace_ids=["ATVPDKIKX0DER", "A1F83G8C2ARO7P"],
        input_feed_document_id=upload.feed_document_id,
    )
    feed = client.get_feed("feedId1")
    document = client.get_feed_document("0356cf79-b8b0-4226-b4b9-0ee058ea5760")

    assert upload.feed_document_id == "3d4e42b5-1d6e-44e8-a89c-2abfca0625bb"
    assert upload.url.startswith("https://")
    assert created.feed_id == "3485934"
    assert (feed.feed_id, feed.processing_status, feed.is_finished) == ("FeedId1", "CANCELLED", True)
    assert feed.result_feed_document_id is None
    assert document.compression_algorithm is None
    assert document.url.endswith(".xml")


def test_report_examples_give_report_id_status_and_document_url() -> None:
    sandbox = SandboxTransport(["createReport", "getReport", "getReportDocument"])
    client = _sandbox_client(sandbox)

    created = call_for_example(client, _example("createReport", 202))
    report = client.get_report(created.report_id)
    document = client.get_report_document("0356cf79-b8b0-4226-b4b9-0ee058ea5760")

    assert created.report_id == "ID323"
    assert (report.processing_status, report.is_finished, report.report_document_id) == ("IN_PROGRESS", False, None)
    assert document.url.endswith("GET_MERCHANT_LISTINGS_ALL_DATA_.txt")


@pytest.mark.parametrize(
    ("index", "status", "issue_codes"), [(0, "ACCEPTED", []), (1, "VALID", []), (2, "INVALID", ["90000900"])]
)
def test_patch_listings_item_examples_report_status_and_issues(index: int, status: str, issue_codes: list[str]) -> None:
    sandbox = SandboxTransport(["patchListingsItem"])

    submission = call_for_example(_sandbox_client(sandbox), _example("patchListingsItem", 200, index))

    assert submission.status == status
    assert [i.code for i in submission.issues] == issue_codes
    assert submission.accepted is (status != "INVALID")


def test_search_listings_items_example_carries_skus_product_types_quantity_and_tokens() -> None:
    sandbox = SandboxTransport(["searchListingsItems"])

    page = call_for_example(_sandbox_client(sandbox), _example("searchListingsItems", 200))

    (item,) = page.items
    assert page.number_of_results == 3
    assert page.next_token == "xsdflkj324lkjsdlkj3423klkjsdfkljlk2j34klj2l3k4jlksdjl234"
    assert item.sku == "GM-ZDPI-9B4E"
    assert {s.product_type for s in item.summaries} == {"LUGGAGE"}
    assert item.fulfillment_availability[0].quantity == 100
    assert len(item.issues) == 5


def test_marketplace_participations_example_shows_store_and_participation() -> None:
    sandbox = SandboxTransport(["getMarketplaceParticipations"])

    (participation,) = _sandbox_client(sandbox).get_marketplace_participations()

    assert participation.marketplace.id == "ATVPDKIKX0DER"
    assert participation.marketplace.country_code == "US"
    assert participation.store_name == "BestSellerStore"
    assert participation.participation.is_participating is True
    assert participation.participation.has_suspended_listings is False


# ---------------------------------------------------------------------- requests conform to Amazon's models


def _resolve(schema: dict[str, Any], definitions: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in schema:
        schema = definitions[schema["$ref"].rsplit("/", 1)[-1]]
    return schema


def assert_conforms(value: Any, schema: dict[str, Any], definitions: dict[str, Any], where: str = "$") -> None:
    schema = _resolve(schema, definitions)
    kind = schema.get("type")
    if "enum" in schema:
        assert value in schema["enum"], f"{where}: {value!r} not in {schema['enum']}"
    if kind == "object" or "properties" in schema:
        assert isinstance(value, dict), f"{where}: expected an object"
        missing = set(schema.get("required", [])) - set(value)
        assert not missing, f"{where}: missing required {sorted(missing)}"
        properties = schema.get("properties", {})
        if properties and schema.get("additionalProperties") is not True:
            unknown = set(value) - set(properties)
            assert not unknown, f"{where}: properties not in the model {sorted(unknown)}"
        for key, item in value.items():
            if key in properties:
                assert_conforms(item, properties[key], definitions, f"{where}.{key}")
    elif kind == "array":
        assert isinstance(value, list), f"{where}: expected an array"
        for i, item in enumerate(value):
            assert_conforms(item, schema.get("items", {}), definitions, f"{where}[{i}]")
    elif kind == "string":
        assert isinstance(value, str), f"{where}: expected a string"
    elif kind == "integer":
        assert isinstance(value, int) and not isinstance(value, bool), f"{where}: expected an integer"
    elif kind == "boolean":
        assert isinstance(value, bool), f"{where}: expected a boolean"


def _requests_for_conformance() -> list[builders.SpApiRequest]:
    package = PackageDetail(
        package_reference_id="1",
        carrier_code="Other",
        carrier_name="Parcelforce",
        shipping_method="Express 24",
        tracking_number="PF123",
        ship_date=datetime.fromisoformat("2026-03-01T10:00:00+00:00"),
        items=(ConfirmShipmentItem("79039765272157", 1),),
    )
    return [
        builders.search_orders(
            marketplace_ids=["A1F83G8C2ARO7P"],
            last_updated_after=datetime.fromisoformat("2026-03-01T10:00:00+00:00"),
            fulfilled_by=["MERCHANT"],
            fulfillment_statuses=["UNSHIPPED"],
            included_data=["RECIPIENT", "FULFILLMENT"],
            pagination_token="tok",
        ),
        builders.get_orders(
            marketplace_ids=["A1F83G8C2ARO7P"],
            last_updated_after=datetime.fromisoformat("2026-03-01T10:00:00+00:00"),
            fulfillment_channels=["MFN"],
            order_statuses=["Unshipped"],
            next_token="tok",
        ),
        builders.get_order_items("202-1234567-1234567", next_token="tok"),
        builders.confirm_shipment("202-1234567-1234567", marketplace_id="A1F83G8C2ARO7P", package=package),
        builders.create_feed_document("application/json; charset=UTF-8"),
        builders.create_feed(
            feed_type="JSON_LISTINGS_FEED", marketplace_ids=["A1F83G8C2ARO7P"], input_feed_document_id="doc-1"
        ),
        builders.get_feed("feed-1"),
        builders.get_feed_document("doc-1"),
        builders.create_report(marketplace_ids=["A1F83G8C2ARO7P"]),
        builders.get_report("report-1"),
        builders.get_report_document("doc-2"),
        builders.patch_listings_item(
            seller_id=SELLER_ID,
            sku="SKU-1",
            marketplace_ids=["A1F83G8C2ARO7P"],
            product_type="PRODUCT",
            patches=[builders.fulfillment_availability_patch(3)],
            included_data=["issues"],
            mode="VALIDATION_PREVIEW",
        ),
        builders.search_listings_items(
            seller_id=SELLER_ID,
            marketplace_ids=["A1F83G8C2ARO7P"],
            included_data=["summaries"],
            identifiers=["SKU-1"],
            identifiers_type="SKU",
            page_size=20,
            page_token="tok",
        ),
        builders.get_marketplace_participations(),
    ]


@pytest.mark.parametrize("request_", _requests_for_conformance(), ids=lambda r: r.operation)
def test_built_requests_use_the_models_method_path_parameters_and_body_schema(request_: builders.SpApiRequest) -> None:
    method, template, _, parameters = operation_spec(request_.operation)
    definitions = load_model(USED_OPERATIONS[request_.operation])["definitions"]
    sandbox_path_match = SandboxExample(request_.operation, method, template, 200, 0, {}, None, {})
    query = {p["name"] for p in parameters if p["in"] == "query"}
    required_query = {p["name"] for p in parameters if p["in"] == "query" and p.get("required")}
    body = next((p for p in parameters if p["in"] == "body"), None)

    built = httpx.Request(request_.method, "https://host" + request_.path, params=dict(request_.params))

    assert request_.method == method
    assert example_matches(sandbox_path_match, built) == 0, "path does not fit the model's template"
    assert set(request_.params) <= query
    assert required_query <= set(request_.params)
    if body is None:
        assert request_.json is None
    else:
        assert_conforms(request_.json, body["schema"], definitions)
