"""Tokens API 2021-03-01: Restricted Data Tokens (RDTs), issued and honoured as Amazon does.

`createRestrictedDataToken` takes `restrictedResources: [{method, path, dataElements?}]` and answers
`{restrictedDataToken, expiresIn}`; the RDT then replaces the access token in `x-amz-access-token` for
exactly those resources. A path is specific (`/orders/v0/orders/202-1234567-1234567`) or generic: "does not
contain a specific order ID or shipment ID. Instead, it contains the string {orderId}" (Tokens API Use Case
Guide, Terminology, amzn/selling-partner-api-docs guides/en-US/use-case-guides/tokens-api-use-case-guide).
A generic path serves every order of the seller; `/orders/v0/orders` serves every getOrders page.

Amazon's refusals, quoted from its answers in developers' issue threads (code InvalidInput, details ""):
- no resource: "Empty target resource arguement found" (sic; amzn/selling-partner-api-docs#2288);
- a method and path that is not a restricted operation, or one whose role the app lacks: "Application do not
  have access to some or all requested resource" (sic; selling-partner-api-docs#702, #1396, #806,
  selling-partner-api-models#2747);
- a data element the app's roles do not open, or that the resource does not take (`shippingAddress` on
  getOrderItems): "Application does not have access to one or more requested data elements: [buyerInfo,
  shippingAddress]" (abuzuhri/Amazon-SP-API-CSharp#155, selling-partner-api-models#1723, jlevers/
  selling-partner-api#859 for the getOrderItems case); the elements are listed sorted, as in those threads;
- a resource without method or path: InvalidRequest "Request is missing or has invalid parameters", details
  "Resource not provided." (the Tokens model's own 400 sandbox example).
An RDT used on a resource it does not name is refused like any bad token: 403 Unauthorized "Access to
requested resource is denied." with details "" (selling-partner-api-models#2766, #2237).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from typing import Any

from .call import Call, Reply
from .core import APPLICATION_ID, GrantedResource, Simulator
from .errors import SpApiError, invalid_input
from .roles import DIRECT_TO_CONSUMER_DELIVERY, TAX_ROLES
from .state import Seller

MAX_RESOURCES = 50  # the model: "A list of restricted resources. Maximum: 50"
NO_RESOURCE = "Empty target resource arguement found"
RESOURCE_DENIED = "Application do not have access to some or all requested resource"
ELEMENTS_DENIED = "Application does not have access to one or more requested data elements: [{}]"
ORDER_ID_SEGMENT = "{orderId}"

_D2C = frozenset({DIRECT_TO_CONSUMER_DELIVERY})
# The roles that open each data element. Amazon lets Tax Invoicing/Remittance read buyer information too;
# SPEC §8.1 narrows it: without Direct-to-Consumer Delivery an app gets no buyer data.
ELEMENT_ROLES: dict[str, frozenset[str]] = {
    "shippingAddress": _D2C,
    "buyerInfo": _D2C,
    "buyerTaxInformation": TAX_ROLES,
}
_ORDER_ELEMENTS = frozenset(ELEMENT_ROLES)


@dataclass(frozen=True)
class RestrictedOperation:
    """A restricted operation of the Orders API (Tokens API guide, "List of restricted operations")."""

    operation_id: str
    template: str
    data_elements: frozenset[str]  # the dataElements it takes ("required only ... getOrder, getOrders, getOrderItems")
    roles: frozenset[str]  # the roles that open it when it takes no data elements

    def accepts(self, path: str) -> bool:
        return path == self.template or _template_pattern(self.template).fullmatch(path) is not None


RESTRICTED_OPERATIONS: tuple[RestrictedOperation, ...] = (
    RestrictedOperation("getOrders", "/orders/v0/orders", _ORDER_ELEMENTS, frozenset()),
    RestrictedOperation("getOrder", "/orders/v0/orders/{orderId}", _ORDER_ELEMENTS, frozenset()),
    # getOrderItems takes buyerInfo only (gift messages, customisation).
    RestrictedOperation(
        "getOrderItems", "/orders/v0/orders/{orderId}/orderItems", frozenset({"buyerInfo"}), frozenset()
    ),
    RestrictedOperation("getOrderAddress", "/orders/v0/orders/{orderId}/address", frozenset(), _D2C),
    RestrictedOperation("getOrderBuyerInfo", "/orders/v0/orders/{orderId}/buyerInfo", frozenset(), _D2C),
    RestrictedOperation(
        "getOrderItemsBuyerInfo", "/orders/v0/orders/{orderId}/orderItems/buyerInfo", frozenset(), _D2C
    ),
    RestrictedOperation("getOrderRegulatedInfo", "/orders/v0/orders/{orderId}/regulatedInfo", frozenset(), _D2C),
)


@cache
def _template_pattern(template: str) -> re.Pattern[str]:
    """A path template as a pattern for specific paths: `{orderId}` stands for one order id."""
    return re.compile(re.escape(template).replace(re.escape(ORDER_ID_SEGMENT), r"[^/{}]+"))


def restricted_operation(method: str, path: str) -> RestrictedOperation | None:
    if method != "GET":
        return None
    # Amazon issues an RDT for a path with a trailing slash but it then opens nothing: getOrders is called at
    # `/orders/v0/orders` (selling-partner-api-models#2766), so the path is kept as given.
    trimmed = path.rstrip("/") or path
    return next((op for op in RESTRICTED_OPERATIONS if op.accepts(trimmed)), None)


def covers(resource: GrantedResource, method: str, path: str) -> bool:
    """Whether a granted resource opens a request: the same method, and the same path or, for a generic
    path, any order id in place of `{orderId}`."""
    if resource.method != method:
        return False
    if resource.path == path:
        return True
    return ORDER_ID_SEGMENT in resource.path and _template_pattern(resource.path).fullmatch(path) is not None


# --- createRestrictedDataToken ------------------------------------------------------------------------------


def _bad_request(details: str) -> SpApiError:
    return SpApiError(400, "InvalidRequest", "Request is missing or has invalid parameters", details)


def _check_shape(call: Call) -> list[dict[str, Any]]:
    body = call.body
    resources = body.get("restrictedResources") if isinstance(body, dict) else None
    if isinstance(resources, list):
        for resource in resources:
            if not isinstance(resource, dict) or not resource.get("method") or not resource.get("path"):
                raise _bad_request("Resource not provided.")
    errors = call.sim.catalog.body_errors(call.op, body)
    if errors:
        raise _bad_request("; ".join(errors))
    if not resources:
        raise invalid_input(NO_RESOURCE, "")
    if len(resources) > MAX_RESOURCES:
        # Not quoted: no answer to this case was found; the model only says "Maximum: 50".
        raise invalid_input(f"At most {MAX_RESOURCES} restricted resources can be requested at once.", "")
    return list(resources)


def _operations(seller: Seller, resources: list[dict[str, Any]]) -> list[RestrictedOperation]:
    operations = []
    for resource in resources:
        operation = restricted_operation(resource["method"], resource["path"])
        if operation is None or (operation.roles and not operation.roles & seller.roles):
            raise invalid_input(RESOURCE_DENIED, "")
        operations.append(operation)
    return operations


def _denied_elements(
    seller: Seller, resources: list[dict[str, Any]], operations: list[RestrictedOperation]
) -> list[str]:
    denied = set()
    for resource, operation in zip(resources, operations, strict=True):
        for element in resource.get("dataElements") or []:
            opened = element in operation.data_elements and ELEMENT_ROLES[element] & seller.roles
            if not opened:
                denied.add(element)
    return sorted(denied)


def create_restricted_data_token(call: Call) -> Reply:
    resources = _check_shape(call)
    operations = _operations(call.seller, resources)
    denied = _denied_elements(call.seller, resources, operations)
    if denied:
        raise invalid_input(ELEMENTS_DENIED.format(", ".join(denied)), "")
    granted = tuple(GrantedResource(r["method"], r["path"], frozenset(r.get("dataElements") or [])) for r in resources)
    token = call.sim.issue_restricted_token(call.seller.seller_id, granted, call.body.get("targetApplication"))
    expires_in = int(call.sim.config.restricted_data_token_ttl_seconds)
    return Reply(200, {"restrictedDataToken": token, "expiresIn": expires_in})


# --- an RDT in x-amz-access-token -----------------------------------------------------------------------------


def _denied(details: str = "") -> SpApiError:
    return SpApiError(403, "Unauthorized", "Access to requested resource is denied.", details)


def restricted_access(sim: Simulator, token: str, method: str, path: str) -> tuple[Seller, frozenset[str]] | None:
    """The seller and data elements an RDT grants for this request; None for a token the simulator never
    issued (the caller answers as for any unknown token). An RDT is not an access token: it opens only the
    resources it names, so it cannot ask for another RDT either."""
    grant = sim.restricted_tokens.get(token)
    if grant is None or grant.seller_id not in sim.sellers:
        return None
    if grant.expires_real <= sim.real_clock():
        # No quoted answer for an expired RDT was found; it is refused as an expired access token is.
        raise _denied("The access token you provided has expired.")
    # An RDT delegated to another application (`targetApplication`) serves that application only.
    if grant.target_application not in (None, APPLICATION_ID):
        raise _denied()
    matching = [r for r in grant.resources if covers(r, method, path)]
    if not matching:
        raise _denied()
    return sim.sellers[grant.seller_id], frozenset().union(*(r.data_elements for r in matching))
