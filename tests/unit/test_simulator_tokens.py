"""The simulator's reading of Restricted Data Token paths: which resources are restricted, what an RDT opens."""

from __future__ import annotations

import pytest

from local.simulator.core import GrantedResource
from local.simulator.tokens import covers, restricted_operation

pytestmark = pytest.mark.unit

ORDER = "202-1234567-1234567"


@pytest.mark.parametrize(
    ("method", "path", "operation"),
    [
        ("GET", "/orders/v0/orders", "getOrders"),
        ("GET", "/orders/v0/orders/", "getOrders"),
        ("GET", "/orders/v0/orders/{orderId}", "getOrder"),
        ("GET", f"/orders/v0/orders/{ORDER}", "getOrder"),
        ("GET", "/orders/v0/orders/{orderId}/orderItems", "getOrderItems"),
        ("GET", f"/orders/v0/orders/{ORDER}/orderItems", "getOrderItems"),
        ("GET", "/orders/v0/orders/{orderId}/orderItems/buyerInfo", "getOrderItemsBuyerInfo"),
        ("GET", f"/orders/v0/orders/{ORDER}/address", "getOrderAddress"),
        ("POST", "/orders/v0/orders", None),
        ("GET", "/orders/v0/orders/{orderId}/shipmentConfirmation", None),
        ("GET", "/orders/v0/orders/{order_id}/address/extra", None),
        ("GET", "/orders/2026-01-01/orders", None),
        ("GET", "getOrders", None),
    ],
)
def test_restricted_operations_are_recognised_by_method_and_path(method: str, path: str, operation: str | None) -> None:
    found = restricted_operation(method, path)
    assert (found.operation_id if found else None) == operation


def grant(path: str, method: str = "GET") -> GrantedResource:
    return GrantedResource(method, path, frozenset({"shippingAddress"}))


def test_a_generic_path_covers_any_order_and_nothing_deeper() -> None:
    generic = grant("/orders/v0/orders/{orderId}")
    assert covers(generic, "GET", f"/orders/v0/orders/{ORDER}")
    assert not covers(generic, "GET", f"/orders/v0/orders/{ORDER}/orderItems")
    assert not covers(generic, "GET", "/orders/v0/orders")
    assert not covers(generic, "POST", f"/orders/v0/orders/{ORDER}")


def test_a_specific_path_covers_its_order_only() -> None:
    specific = grant(f"/orders/v0/orders/{ORDER}/orderItems")
    assert covers(specific, "GET", f"/orders/v0/orders/{ORDER}/orderItems")
    assert not covers(specific, "GET", "/orders/v0/orders/202-0000000-0000000/orderItems")


def test_the_bulk_path_covers_get_orders_but_not_with_a_trailing_slash() -> None:
    assert covers(grant("/orders/v0/orders"), "GET", "/orders/v0/orders")
    assert not covers(grant("/orders/v0/orders/"), "GET", "/orders/v0/orders")
    assert not covers(grant("/orders/v0/orders"), "GET", f"/orders/v0/orders/{ORDER}")
