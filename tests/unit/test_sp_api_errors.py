"""Amazon's `errors[]` in both shapes it uses, turned into typed errors."""

from __future__ import annotations

import pytest
from oms_amazon.adapters.sp_api import (
    AccessDenied,
    AmazonUnavailable,
    ErrorDetail,
    InvalidRequest,
    NotFound,
    SpApiError,
    Throttled,
)
from oms_amazon.adapters.sp_api.errors import error_from_response, parse_error_list

pytestmark = pytest.mark.unit


def test_errors_beside_a_payload_are_read_the_v0_and_sellers_way() -> None:
    body = {"payload": None, "errors": [{"code": "InvalidInput", "message": "Invalid Input"}]}

    assert parse_error_list(body) == (ErrorDetail("InvalidInput", "Invalid Input"),)


def test_a_bare_error_list_is_read_the_feeds_listings_and_2026_way() -> None:
    body = {"errors": [{"code": "BAD_REQUEST", "message": "Invalid input", "details": "Invalid input"}]}

    assert parse_error_list(body) == (ErrorDetail("BAD_REQUEST", "Invalid input", "Invalid input"),)


def test_several_errors_are_all_kept_and_the_first_one_leads() -> None:
    body = {"errors": [{"code": "A", "message": "first"}, {"code": "B", "message": "second"}]}

    error = error_from_response(operation="createFeed", status=400, body=body)

    assert (error.code, error.message) == ("A", "first")
    assert [e.code for e in error.errors] == ["A", "B"]


def test_a_json_array_of_errors_and_a_gateway_message_are_understood() -> None:
    assert parse_error_list([{"code": "X", "message": "y"}]) == (ErrorDetail("X", "y"),)
    assert parse_error_list({"message": "Access to requested resource is denied."}) == (
        ErrorDetail("", "Access to requested resource is denied."),
    )


@pytest.mark.parametrize("body", [None, "not json", {}, {"errors": "oops"}, {"errors": [42]}])
def test_bodies_without_errors_give_none(body: object) -> None:
    assert parse_error_list(body) == ()


@pytest.mark.parametrize(
    ("status", "error_type"),
    [
        (400, InvalidRequest),
        (401, AccessDenied),
        (403, AccessDenied),
        (404, NotFound),
        (413, InvalidRequest),
        (415, InvalidRequest),
        (429, Throttled),
        (500, AmazonUnavailable),
        (503, AmazonUnavailable),
        (409, SpApiError),
    ],
)
def test_the_status_picks_the_error_type(status: int, error_type: type[SpApiError]) -> None:
    error = error_from_response(operation="getFeed", status=status, body={"errors": [{"code": "c", "message": "m"}]})

    assert type(error) is error_type
    assert error.status == status


def test_an_error_keeps_the_operation_request_id_and_details() -> None:
    error = error_from_response(
        operation="searchOrders",
        status=400,
        body={"errors": [{"code": "InvalidInput", "message": "Invalid Input", "details": "createdAfter"}]},
        request_id="b1b2c3",
    )

    assert (error.operation, error.request_id, error.details) == ("searchOrders", "b1b2c3", "createdAfter")
    assert str(error) == "searchOrders: Invalid Input status=400 code=InvalidInput request_id=b1b2c3"


def test_without_a_body_the_error_type_header_then_the_status_name_the_code() -> None:
    with_header = error_from_response(
        operation="getFeed", status=403, body=None, error_type="AccessDeniedException:http://internal.amazon.com/"
    )
    bare = error_from_response(operation="getFeed", status=502, body=None)

    assert with_header.code == "AccessDeniedException"
    assert (bare.code, bare.message) == ("HTTP502", "Amazon answered HTTP 502")
