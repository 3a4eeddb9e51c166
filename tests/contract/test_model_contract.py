"""The oracle itself: it accepts Amazon's own examples and refuses bodies that break the models."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.contract.model_contract import (
    SCHEMAS_DIR,
    assert_listings_feed,
    assert_processing_report,
    contract,
    json_schema_validator,
)

pytestmark = pytest.mark.integration

MODELS = [
    "ordersV0",
    "orders_2026-01-01",
    "feeds_2021-06-30",
    "reports_2021-06-30",
    "listingsItems_2021-08-01",
    "sellers",
    "tokens_2021-03-01",
]


def _sandbox_examples(model: str) -> list[tuple[str, int, Any]]:
    examples = []
    for path_item in contract(model).document["paths"].values():
        for operation in path_item.values():
            if not isinstance(operation, dict) or "operationId" not in operation:
                continue
            for status, declared in operation["responses"].items():
                for example in declared.get("x-amzn-api-sandbox", {}).get("static", []):
                    if "response" in example and "schema" in declared:
                        examples.append((operation["operationId"], int(status), example["response"]))
    return examples


@pytest.mark.parametrize("model", MODELS)
def test_the_oracle_accepts_amazons_own_sandbox_examples(model: str) -> None:
    examples = _sandbox_examples(model)
    assert examples
    failures = [(op, status) for op, status, body in examples if contract(model).errors(op, status, body)]
    # The one example Amazon itself got wrong (README §7): sellers getAccount 200 lacks required fields.
    assert failures in ([], [("getAccount", 200)])


def test_the_oracle_refuses_an_order_without_its_required_fields() -> None:
    body = {"payload": {"Orders": [{"AmazonOrderId": "202-0000001-0000001"}]}}
    problems = contract("ordersV0").errors("getOrders", 200, body)
    assert any("LastUpdateDate" in p for p in problems)


def test_the_oracle_refuses_a_bare_error_list_where_the_model_wants_an_object() -> None:
    assert contract("feeds_2021-06-30").errors("getFeed", 400, [{"code": "x", "message": "y"}])


def test_the_oracle_checks_date_time_formats() -> None:
    feed = {"feedId": "1", "feedType": "JSON_LISTINGS_FEED", "createdTime": "yesterday", "processingStatus": "DONE"}
    assert contract("feeds_2021-06-30").errors("getFeed", 200, feed)


def test_the_oracle_refuses_a_status_the_operation_does_not_declare() -> None:
    with pytest.raises(AssertionError, match="declares no 418"):
        contract("sellers").errors("getMarketplaceParticipations", 418, {})


def test_the_listings_feed_example_validates_against_the_feed_schema() -> None:
    assert_listings_feed(json.loads((SCHEMAS_DIR / "listings-feed-schema-v2.example.json").read_text()))


def test_the_processing_report_example_validates_against_the_report_schema() -> None:
    assert_processing_report(
        json.loads((SCHEMAS_DIR / "listings-feed-processing-report-schema-v2.example.json").read_text())
    )


def test_a_patch_message_without_patches_breaks_the_feed_schema() -> None:
    feed = {
        "header": {"sellerId": "A1SIMSELLER01", "version": "2.0"},
        "messages": [{"messageId": 1, "sku": "SKU-A", "operationType": "PATCH", "productType": "PRODUCT"}],
    }
    assert list(json_schema_validator("listings-feed-schema-v2.json").iter_errors(feed))
