"""The simulator's reading of Amazon's models: usage plans, parameter checks, its own response check."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from local.simulator.models import ModelCatalog, ParameterError
from local.simulator.spapi import ROUTES
from tests.contract.model_contract import json_schema_validator

pytestmark = pytest.mark.integration

CATALOG = ModelCatalog()


def test_every_served_route_is_an_operation_of_its_model_with_the_same_method_and_path() -> None:
    for method, rule, api, operation_id, _ in ROUTES:
        op = CATALOG.operation(api, operation_id)
        assert op.method == method
        assert op.path == rule.replace("<path:", "{").replace("<", "{").replace(">", "}")


def test_query_parameters_are_typed_as_the_model_declares() -> None:
    op = CATALOG.operation("listingsItems_2021-08-01", "searchListingsItems")
    parsed = CATALOG.parse_query(
        op, {"marketplaceIds": ["A1F83G8C2ARO7P,A1PA6795UKMFR9"], "pageSize": ["20"], "includedData": ["summaries"]}
    )
    assert parsed == {
        "marketplaceIds": ["A1F83G8C2ARO7P", "A1PA6795UKMFR9"],
        "pageSize": 20,
        "includedData": ["summaries"],
    }


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ({}, "Missing required parameter: marketplaceIds"),
        ({"marketplaceIds": ["X"], "pageSize": ["21"]}, "at most 20"),
        ({"marketplaceIds": ["X"], "pageSize": ["x"]}, "integer"),
        ({"marketplaceIds": ["X"], "sortOrder": ["UP"]}, "allowed: ASC, DESC"),
        ({"marketplaceIds": ["X"], "includedData": ["everything"]}, "Invalid value 'everything'"),
        ({"marketplaceIds": ["X"], "identifiers": [",".join(["a"] * 21)]}, "at most 20"),
    ],
)
def test_query_parameters_the_model_refuses_raise_a_parameter_error(args: dict[str, list[str]], message: str) -> None:
    with pytest.raises(ParameterError, match=message):
        CATALOG.parse_query(CATALOG.operation("listingsItems_2021-08-01", "searchListingsItems"), args)


def test_the_self_check_flags_a_body_that_breaks_the_model() -> None:
    op = CATALOG.operation("ordersV0", "getOrders")
    assert CATALOG.response_errors(op, 200, {"payload": {"Orders": [{}]}})
    assert CATALOG.response_errors(op, 200, {"payload": {"Orders": []}}) == []
    assert CATALOG.response_errors(CATALOG.operation("ordersV0", "confirmShipment"), 204, None) == []


def test_a_message_of_a_valid_shape_with_an_out_of_range_id_is_still_refused() -> None:
    valid = {"messageId": 1, "sku": "A", "operationType": "DELETE"}
    assert CATALOG.feed_message_errors(valid) == []
    assert CATALOG.feed_message_errors({**valid, "messageId": 0})
    assert CATALOG.feed_message_errors({**valid, "sku": ""})


_patch = st.fixed_dictionaries(
    {
        "op": st.sampled_from(["replace", "merge", "add", "delete", "upsert"]),
        "path": st.sampled_from(["/attributes/fulfillment_availability", "/attributes/item_name"]),
    },
    optional={
        "value": st.one_of(
            st.lists(st.one_of(st.just({}), st.just({"quantity": 1}), st.integers()), max_size=2), st.none()
        )
    },
)
_message = st.fixed_dictionaries(
    {"messageId": st.one_of(st.integers(min_value=-1, max_value=3), st.just(2147483648), st.booleans(), st.just(1.0))},
    optional={
        "sku": st.one_of(st.text(max_size=3), st.integers()),
        "operationType": st.sampled_from(["UPDATE", "PARTIAL_UPDATE", "PATCH", "DELETE", "MERGE"]),
        "productType": st.one_of(st.just("PRODUCT"), st.just("")),
        "patches": st.one_of(st.lists(_patch, max_size=2), st.just("x")),
        "attributes": st.one_of(st.just({}), st.just({"a": 1}), st.just([])),
        "requirements": st.sampled_from(["LISTING", "OTHER"]),
    },
)


@settings(max_examples=400, deadline=None)
@given(message=_message)
def test_remembering_valid_message_shapes_never_changes_a_verdict(message: dict[str, Any]) -> None:
    reference = json_schema_validator("listings-feed-schema-v2.json")
    schema = reference.schema["properties"]["messages"]["items"]
    expected = not list(reference.evolve(schema=schema).iter_errors(message))
    assert (CATALOG.feed_message_errors(message) == []) is expected
