"""Hostile inputs picked by hand against every write route (SPEC §7, §9): huge bodies (over the
function's 1 MiB, and over API Gateway's 10 MiB at the gateway), deep JSON, NUL and right-to-left
override characters, absurd numbers, non-JSON literals, duplicated keys, wrong content types, bytes
that are not UTF-8, path traversal in path parameters, an absurd client id and header injection.

Each one is a 4xx in the `{"error": {code, message, details}}` shape, and nothing is written: the
table and the sellers' secrets, read through moto's own endpoint, are the same before and after."""

from __future__ import annotations

import json
import socket
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from itertools import pairwise
from typing import Any
from urllib.parse import urlencode, urlsplit

import httpx
import pytest

from local.stack import LocalStack
from tests.security.conftest import reset, stored_state
from tests.security.world import World, build_world

pytestmark = [pytest.mark.e2e, pytest.mark.security]

CLIENT = "hostile-client"
SELLER = "A2HOSTILESELLR1"
TOKEN = "Atzr|IwEBI-hostile-seller-refresh-token-0001"
ONE_MIB = 1_048_576
TEN_MIB = 10 * ONE_MIB
NUL = "\u0000"
RLO = "\u202e"


@dataclass(frozen=True)
class WriteRoute:
    """A route that takes a JSON body, a valid body for it, and where text and a number go in it."""

    method: str
    path: str
    body: Callable[[World], dict[str, Any]]
    text_field: tuple[str | int, ...]
    number_field: tuple[str | int, ...]

    def url(self, world: World) -> str:
        return self.path.format(
            account_id=world.account_id, mapping_id=world.mapping["id"], order_id=world.order_ids[1], sku="NEW-SKU"
        )


def _shipment(_: World) -> dict[str, Any]:
    return {
        "carrier_code": "Royal Mail",
        "shipping_method": "Tracked 48",
        "tracking_number": "RM123456785GB",
        # The world's orders were placed an hour ago; the parcel leaves now.
        "ship_date": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "lines": [{"order_item_id": "00000000000002", "quantity": 1}],
    }


# The numeric field of each route is one where 0 is out of range, so that -0 is as wrong as 2**64.
BODY_ROUTES = [
    WriteRoute(
        "POST",
        "/accounts",
        lambda w: {"merchant_id": "A2HOSTILENEW01", "marketplace": "UK"},
        ("name",),
        ("stock_sync_delay_minutes",),
    ),
    WriteRoute("PATCH", "/accounts/{account_id}", lambda w: {"name": "renamed"}, ("name",), ("version",)),
    WriteRoute(
        "PUT",
        "/products/{sku}",
        lambda w: {"quantity_available": 3, "name": "A new product"},
        ("name",),
        ("components", 0, "quantity"),
    ),
    WriteRoute(
        "POST",
        "/products/batch",
        lambda w: {"products": [{"sku": "NEW-1", "quantity_available": 1, "name": "One"}]},
        ("products", 0, "name"),
        ("products", 0, "components", 0, "quantity"),
    ),
    WriteRoute(
        "POST",
        "/courier-mappings",
        lambda w: {"amazon_term": "EXP UK INT", "courier_service": "DHL"},
        ("courier_service",),
        ("account_id",),
    ),
    WriteRoute(
        "PUT",
        "/courier-mappings/{mapping_id}",
        lambda w: {"amazon_term": "STD UK DOM", "courier_service": "Royal Mail"},
        ("courier_service",),
        ("version",),
    ),
    WriteRoute(
        "POST",
        "/shipping-terms/resolve",
        lambda w: {"marketplace": "UK", "ship_service_level": "Std UK Dom_1"},
        ("ship_service_level",),
        ("account_id",),
    ),
    WriteRoute("POST", "/orders/{order_id}/shipments", _shipment, ("carrier_code",), ("lines", 0, "quantity")),
]
BODYLESS_ROUTES = [
    ("DELETE", "/accounts/{account_id}"),
    ("POST", "/accounts/{account_id}/verify"),
    ("POST", "/accounts/{account_id}/stock-sync"),
    ("POST", "/accounts/{account_id}/listings/refresh"),
    ("POST", "/accounts/{account_id}/order-import"),
    ("DELETE", "/products/{sku}"),
    ("DELETE", "/courier-mappings/{mapping_id}"),
    ("POST", "/orders/{order_id}/reevaluate"),
]


def _bodyless_url(path: str, world: World) -> str:
    return path.format(
        account_id=world.account_id, sku=world.sku, mapping_id=world.mapping["id"], order_id=world.order_id
    )


def _set(body: dict[str, Any], where: tuple[str | int, ...], value: Any) -> dict[str, Any]:
    """`body` with `value` at `where`, creating the objects and one-item lists on the way."""
    body = json.loads(json.dumps(body))
    node: Any = body
    for step, following in pairwise(where):
        if isinstance(step, int):
            while len(node) <= step:
                node.append({})
            node = node[step]
        else:
            if step not in node or not isinstance(node[step], dict | list):
                node[step] = [] if isinstance(following, int) else {}
            node = node[step]
    last = where[-1]
    if isinstance(node, list):
        while len(node) <= int(last):
            node.append({})
    if isinstance(node, dict) and last == "quantity":
        node.setdefault("sku" if "order_item_id" not in node else "order_item_id", "TENT-2P")
    node[last] = value
    return body


def _number_literal(body: dict[str, Any], where: tuple[str | int, ...], literal: str) -> bytes:
    """The JSON text of `body` with a raw number literal (one Python's json would not write) at `where`."""
    marker = "__NUMBER__"
    return json.dumps(_set(body, where, marker)).replace(f'"{marker}"', literal).encode()


@dataclass(frozen=True)
class Hostile:
    name: str
    status: int | None  # None: any 4xx
    code: str | None
    request: Callable[[WriteRoute, World], tuple[bytes, dict[str, str]]]


JSON = {"Content-Type": "application/json"}


def _json(data: Any) -> tuple[bytes, dict[str, str]]:
    return json.dumps(data).encode(), JSON


def _deep(route: WriteRoute, world: World) -> tuple[bytes, dict[str, str]]:
    text = json.dumps(route.body(world))
    return (text[:-1] + ', "nested": ' + "[" * 5000 + "]" * 5000 + "}").encode(), JSON


def _deep_objects(route: WriteRoute, world: World) -> tuple[bytes, dict[str, str]]:
    text = json.dumps(route.body(world))
    return (text[:-1] + ', "nested": ' + '{"a": ' * 40 + "1" + "}" * 40 + "}").encode(), JSON


def _duplicated_key(route: WriteRoute, world: World) -> tuple[bytes, dict[str, str]]:
    body = route.body(world)
    first = next(iter(body))
    text = json.dumps(body)
    return (text[:-1] + f", {json.dumps(first)}: {json.dumps(body[first])}" + "}").encode(), JSON


def _form(route: WriteRoute, world: World) -> tuple[bytes, dict[str, str]]:
    flat = {k: v if isinstance(v, str | int) else json.dumps(v) for k, v in route.body(world).items()}
    return urlencode(flat).encode(), {"Content-Type": "application/x-www-form-urlencoded"}


HOSTILE_BODIES = [
    Hostile(
        "over 1 MiB",
        413,
        "payload_too_large",
        lambda r, w: _json(_set(r.body(w), r.text_field, "x" * (ONE_MIB + 1))),
    ),
    Hostile(
        "over 10 MiB at the gateway",
        413,
        "payload_too_large",
        lambda r, w: _json(_set(r.body(w), r.text_field, "x" * (TEN_MIB + 1))),
    ),
    Hostile("5000 nested arrays", 400, "invalid_json", _deep),
    Hostile("40 nested objects", 400, "invalid_json", _deep_objects),
    Hostile("NUL in text", None, None, lambda r, w: _json(_set(r.body(w), r.text_field, f"Royal{NUL}Mail"))),
    Hostile("right-to-left override", None, None, lambda r, w: _json(_set(r.body(w), r.text_field, f"{RLO}liaM"))),
    Hostile("text only of NULs", None, None, lambda r, w: _json(_set(r.body(w), r.text_field, NUL * 50))),
    Hostile("1e309", 400, None, lambda r, w: (_number_literal(r.body(w), r.number_field, "1e309"), JSON)),
    Hostile("-1e309", 400, None, lambda r, w: (_number_literal(r.body(w), r.number_field, "-1e309"), JSON)),
    Hostile("-0", 400, None, lambda r, w: (_number_literal(r.body(w), r.number_field, "-0"), JSON)),
    Hostile("2**64", 400, None, lambda r, w: (_number_literal(r.body(w), r.number_field, str(2**64)), JSON)),
    Hostile(
        "-(2**63)-1", 400, None, lambda r, w: (_number_literal(r.body(w), r.number_field, str(-(2**63) - 1)), JSON)
    ),
    Hostile("1.5", 400, None, lambda r, w: (_number_literal(r.body(w), r.number_field, "1.5"), JSON)),
    Hostile("NaN", 400, "invalid_json", lambda r, w: (_number_literal(r.body(w), r.number_field, "NaN"), JSON)),
    Hostile(
        "Infinity", 400, "invalid_json", lambda r, w: (_number_literal(r.body(w), r.number_field, "Infinity"), JSON)
    ),
    Hostile("a duplicated key", 400, "invalid_json", _duplicated_key),
    Hostile("an array body", 400, None, lambda r, w: _json([r.body(w)])),
    Hostile("bytes that are not UTF-8", 400, "invalid_json", lambda r, w: (b'{"name": "\xff\xfe\xc3"}', JSON)),
    Hostile("truncated JSON", 400, "invalid_json", lambda r, w: (json.dumps(r.body(w))[:-1].encode(), JSON)),
    Hostile("form-encoded", 415, "unsupported_media_type", _form),
    Hostile(
        "multipart",
        415,
        "unsupported_media_type",
        lambda r, w: (
            b'--x\r\nContent-Disposition: form-data; name="name"\r\n\r\nx\r\n--x--\r\n',
            {"Content-Type": "multipart/form-data; boundary=x"},
        ),
    ),
    Hostile(
        "text/plain JSON",
        415,
        "unsupported_media_type",
        lambda r, w: (json.dumps(r.body(w)).encode(), {"Content-Type": "text/plain"}),
    ),
    Hostile(
        "XML",
        415,
        "unsupported_media_type",
        lambda r, w: (b"<account><name>x</name></account>", {"Content-Type": "application/xml"}),
    ),
]


@pytest.fixture(scope="module")
def world(stack: LocalStack) -> Iterator[World]:
    reset(stack)
    with (
        httpx.Client(base_url=stack.api_url, timeout=60) as api,
        httpx.Client(base_url=stack.simulator_url, timeout=30) as simulator,
    ):
        yield build_world(stack, api, simulator, client_id=CLIENT, seller_id=SELLER, refresh_token=TOKEN)


def assert_refused(response: httpx.Response, status: int | None = None, code: str | None = None) -> None:
    assert 400 <= response.status_code < 500, f"{response.status_code}: {response.text[:300]}"
    if status is not None:
        assert response.status_code == status, response.text[:300]
    body = response.json()
    assert set(body) == {"error"}, body
    assert isinstance(body["error"]["code"], str) and isinstance(body["error"]["message"], str), body
    assert isinstance(body["error"]["details"], list), body
    if code is not None:
        assert body["error"]["code"] == code, body


@pytest.mark.filterwarnings("ignore:Received multipart/form-data without base64 encoding")  # Powertools reads it first
@pytest.mark.parametrize("hostile", HOSTILE_BODIES, ids=lambda h: h.name)
@pytest.mark.parametrize("route", BODY_ROUTES, ids=lambda r: f"{r.method} {r.path}")
def test_a_hostile_body_is_refused_in_the_error_shape_and_writes_nothing(
    stack: LocalStack, world: World, api: httpx.Client, route: WriteRoute, hostile: Hostile
) -> None:
    content, headers = hostile.request(route, world)
    before = stored_state(stack)

    response = api.request(route.method, route.url(world), content=content, headers={**world.headers, **headers})

    assert_refused(response, hostile.status, hostile.code)
    assert stored_state(stack) == before


@pytest.mark.parametrize(
    ("name", "content", "headers", "status"),
    [
        ("over 1 MiB", b'{"note": "' + b"x" * (ONE_MIB + 1) + b'"}', JSON, 413),
        ("over 10 MiB", b"x" * (TEN_MIB + 1), JSON, 413),
        ("form-encoded", b"active=true", {"Content-Type": "application/x-www-form-urlencoded"}, 415),
        ("XML", b"<delete/>", {"Content-Type": "application/xml"}, 415),
    ],
)
@pytest.mark.parametrize(("method", "path"), BODYLESS_ROUTES, ids=lambda v: str(v))
def test_a_write_route_without_a_body_refuses_one_that_no_route_may_read(
    stack: LocalStack,
    world: World,
    api: httpx.Client,
    method: str,
    path: str,
    name: str,
    content: bytes,
    headers: dict[str, str],
    status: int,
) -> None:
    before = stored_state(stack)

    response = api.request(method, _bodyless_url(path, world), content=content, headers={**world.headers, **headers})

    assert_refused(response, status)
    assert stored_state(stack) == before


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/accounts/..%2F..%2Fproducts"),
        ("PATCH", "/accounts/..%2F..%2Fproducts"),
        ("DELETE", "/accounts/..%2F..%2Fproducts"),
        ("GET", "/accounts/%2e%2e"),
        ("DELETE", "/accounts/%2E%2E%2F%2E%2E%2Fcourier-mappings"),
        ("DELETE", "/accounts/{account_id}%2F..%2F..%2Fproducts%2FTENT-2P"),
        ("POST", "/accounts/..%2F{account_id}/stock-sync"),
        ("PUT", "/courier-mappings/..%2F{mapping_id}"),
        ("DELETE", "/courier-mappings/{mapping_id}%2F..%2F..%2Faccounts%2F{account_id}"),
        ("POST", "/orders/..%2F..%2Faccounts/reevaluate"),
        ("GET", "/orders/{order_id}%2F..%2F..%2Faccounts"),
        ("DELETE", "/products/..%2F{sku}"),
        ("DELETE", "/products/.%2F{sku}"),
        ("DELETE", "/products/{sku}%2F..%2F..%2Faccounts%2F{account_id}"),
        ("GET", "/products/..%2F..%2Faccounts"),
        ("GET", "/products/%2e%2e%2f%2e%2e%2faccounts%2f{account_id}"),
    ],
)
def test_path_traversal_in_a_path_parameter_never_reaches_another_resource(
    stack: LocalStack, world: World, api: httpx.Client, method: str, path: str
) -> None:
    url = path.format(
        account_id=world.account_id, mapping_id=world.mapping["id"], order_id=world.order_id, sku=world.sku
    )
    before = stored_state(stack)

    response = api.request(
        method, url, json={"name": "x"} if method in ("PATCH", "PUT") else None, headers=world.headers
    )

    assert_refused(response)
    assert stored_state(stack) == before


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/products/../accounts"),
        ("DELETE", "/products/../accounts/{account_id}"),
        ("DELETE", "/accounts/../products/{sku}"),
        ("POST", "/orders/{order_id}/../../accounts/{account_id}/stock-sync"),
        ("GET", "/accounts/{account_id}/./../../products/{sku}"),
    ],
)
def test_dot_segments_sent_as_they_are_never_reach_another_resource(
    stack: LocalStack, world: World, method: str, path: str
) -> None:
    """httpx would resolve `..` before sending; a hostile client does not."""
    url = path.format(account_id=world.account_id, order_id=world.order_id, sku=world.sku)
    head = f"{method} {url} HTTP/1.1\r\nHost: localhost\r\nX-Client-Id: {CLIENT}\r\n".encode()
    before = stored_state(stack)

    status, _, payload = raw_request(stack.api_url, head)

    assert 400 <= status < 500 and set(payload) == {"error"}, (status, payload)
    assert stored_state(stack) == before


@pytest.mark.parametrize(
    ("path", "sku"),
    [
        ("/products/..%2F..%2Faccounts", "../../accounts"),
        ("/products/KIT%2F2", "KIT/2"),
        ("/products/..%2F", "../"),
        ("/products/%2e%2e", ".."),
        # A trailing encoded slash is part of the SKU: "TENT-2P/" is not the world's "TENT-2P".
        ("/products/TENT-2P%2F", "TENT-2P/"),
        ("/products/TENT-2P%2F%2F", "TENT-2P//"),
    ],
)
def test_an_encoded_slash_in_a_sku_is_part_of_that_sku_and_of_nothing_else(
    stack: LocalStack, world: World, api: httpx.Client, path: str, sku: str
) -> None:
    """SPEC §7 lets a SKU hold '/' (percent-encoded in the path) and '.'; a traversal-shaped SKU is
    therefore not refused, but it is a product of the caller like any other and touches nothing else."""
    before = stored_state(stack)

    created = api.put(path, json={"quantity_available": 1}, headers=world.headers)
    read = api.get(path, headers=world.headers)
    other_client = api.get(path, headers={"X-Client-Id": "another-client"})
    deleted = api.delete(path, headers=world.headers)

    assert (created.status_code, created.json()["sku"]) == (201, sku)
    assert read.json() == created.json()
    assert other_client.status_code == 404
    assert deleted.status_code == 204
    assert stored_state(stack) == before


@pytest.mark.parametrize(
    ("method", "path"), [(r.method, r.path) for r in BODY_ROUTES] + BODYLESS_ROUTES, ids=lambda v: str(v)
)
def test_an_absurdly_long_client_id_is_refused_and_writes_nothing(
    stack: LocalStack, world: World, api: httpx.Client, method: str, path: str
) -> None:
    route = next((r for r in BODY_ROUTES if (r.method, r.path) == (method, path)), None)
    url = route.url(world) if route else _bodyless_url(path, world)
    body = route.body(world) if route else None
    before = stored_state(stack)

    response = api.request(method, url, json=body, headers={"X-Client-Id": CLIENT + "x" * 10_000})

    assert_refused(response, 401, "unauthorized")
    assert stored_state(stack) == before


def raw_request(base_url: str, head: bytes, body: bytes = b"") -> tuple[int, bytes, dict[str, Any]]:
    """One HTTP/1.1 request written byte for byte (httpx refuses to send a CR, LF or NUL in a header)."""
    split = urlsplit(base_url)
    with socket.create_connection((split.hostname, split.port), timeout=30) as connection:
        connection.sendall(head + f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n".encode() + body)
        data = b""
        while chunk := connection.recv(65536):
            data += chunk
    raw_head, _, payload = data.partition(b"\r\n\r\n")
    status = int(raw_head.split(b" ", 2)[1])
    return status, raw_head, json.loads(payload) if payload else {}


HEADER_INJECTIONS = [
    ("obs-fold into an admin header", b"X-Client-Id: hostile-client\r\n X-Admin: true\r\n"),
    ("NUL in the client id", b"X-Client-Id: hostile-client\x00other\r\n"),
    ("right-to-left override in the client id", "X-Client-Id: hostile-\u202etneilc\r\n".encode()),
    ("a client id that is a list", b"X-Client-Id: hostile-client, another-client\r\n"),
    ("a client id with a query", b"X-Client-Id: hostile-client?client_id=another-client\r\n"),
]


@pytest.mark.parametrize(("name", "headers"), HEADER_INJECTIONS, ids=[n for n, _ in HEADER_INJECTIONS])
def test_an_identity_header_carrying_another_header_or_identity_is_refused(
    stack: LocalStack, world: World, name: str, headers: bytes
) -> None:
    before = stored_state(stack)
    body = json.dumps({"merchant_id": "A2HOSTILENEW02", "marketplace": "UK"}).encode()
    head = b"POST /accounts HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n" + headers

    status, _, payload = raw_request(stack.api_url, head, body)

    assert status == 401, (name, payload)
    assert payload["error"]["code"] == "unauthorized"
    assert stored_state(stack) == before


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("PUT", "/products/A%0D%0ASet-Cookie:%20session=stolen"),
        ("PUT", "/products/A%0D%0A%0D%0A%3Chtml%3E"),
        ("GET", "/accounts?client_id=hostile-client%0D%0AX-Admin:%20true"),
        ("GET", "/orders?since=2026-01-01T00:00:00Z%0D%0ASet-Cookie:%20x=1"),
        ("POST", "/orders/{order_id}/shipments"),
    ],
)
def test_input_that_would_split_a_response_header_never_reaches_one(
    stack: LocalStack, world: World, api: httpx.Client, method: str, path: str
) -> None:
    url = path.format(order_id=world.order_ids[1])
    headers = {b"X-Client-Id": CLIENT.encode()}
    if "shipments" in path:  # U+2028 as its UTF-8 bytes: no HTTP parser splits a line on it, a naive one may
        headers[b"Idempotency-Key"] = "k\u2028Set-Cookie: x=1".encode()
    body = _shipment(world) if "shipments" in path else ({"quantity_available": 1} if method == "PUT" else None)
    before = stored_state(stack)

    response = api.request(method, url, json=body, headers=headers)

    assert_refused(response)
    assert "set-cookie" not in response.headers and "x-admin" not in response.headers
    assert all("\r" not in v and "\n" not in v for v in response.headers.values())
    assert stored_state(stack) == before


@pytest.mark.parametrize(
    "query",
    [
        "/orders?limit=1e309",
        "/orders?limit=-0",
        "/orders?limit=18446744073709551616",
        "/orders?limit=NaN",
        "/orders?since=%00",
        "/orders?since=2026-13-45T99:99:99Z",
        "/orders?account_id=..%2F..%2Faccounts",
        "/accounts?active=NaN",
        "/accounts?marketplace=%E2%80%AEKU",
        "/accounts?next_token=%00",
        "/products?limit=1e309",
        "/products?next_token=" + "A" * 5000,
        "/courier-mappings?account_id=%00",
        "/shipping-terms?marketplace=UK%00",
    ],
)
def test_absurd_query_values_are_refused_in_the_error_shape(world: World, api: httpx.Client, query: str) -> None:
    assert_refused(api.get(query, headers=world.headers), 400)


def test_the_valid_bodies_here_are_accepted_so_each_refusal_above_is_the_hostile_part(
    stack: LocalStack, world: World, api: httpx.Client
) -> None:
    """The control group, run last so that it ships nothing the tests above aim at: each route's valid
    body, sent the same way, is not refused for its shape."""
    for route in BODY_ROUTES:
        response = api.request(route.method, route.url(world), json=route.body(world), headers=world.headers)
        assert response.status_code not in (400, 413, 415, 422, 500), f"{route.method} {route.path}: {response.text}"
    assert stack.runner.wait_idle(60)
