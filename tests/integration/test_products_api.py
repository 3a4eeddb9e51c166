"""The products API (SPEC §3, §5.2, §7) driven through the API function with moto."""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest
from oms_amazon.stock import MAX_BUNDLE_COMPONENTS

from local.functions import LambdaContext
from tests.conftest import ApiCaller, all_items, load_event

pytestmark = pytest.mark.integration

OTHER_CLIENT = "bluebird-gifts"


def put(api: ApiCaller, sku: str, body: dict[str, Any] | None = None, **kwargs: Any) -> dict[str, Any]:
    status, response = api("PUT", f"/products/{sku}", body if body is not None else {"quantity_available": 5}, **kwargs)
    assert status in (200, 201), response
    return response


def kit(*components: tuple[str, int], **fields: Any) -> dict[str, Any]:
    return {"components": [{"sku": s, "quantity": q} for s, q in components], **fields}


def product_items(dynamodb: Any, table: str) -> list[dict[str, Any]]:
    return [i for i in all_items(dynamodb, table) if i["SK"]["S"].startswith("PRODUCT#")]


# --- create, replace, read -------------------------------------------------------------------------


def test_a_new_product_is_created_and_read_back(api):
    status, body = api(
        "PUT", "/products/TENT-2P", {"sku": "TENT-2P", "name": "Two-person tent", "quantity_available": 12}
    )

    assert status == 201
    assert body == {
        "sku": "TENT-2P",
        "name": "Two-person tent",
        "quantity_available": 12,
        "components": [],
        "is_bundle": False,
        "used_in_bundles": [],
        "created_at": body["created_at"],
        "updated_at": body["created_at"],
        "version": 1,
    }
    assert api("GET", "/products/TENT-2P") == (200, body)


def test_replacing_a_product_is_200_keeps_created_at_and_bumps_the_version(api):
    first = put(api, "TENT-2P", {"name": "Tent", "quantity_available": 12})
    status, body = api("PUT", "/products/TENT-2P", {"quantity_available": -3})

    assert status == 200
    assert (body["quantity_available"], body["name"], body["version"]) == (-3, None, 2)
    assert body["created_at"] == first["created_at"]


def test_sending_the_same_product_again_changes_nothing(api, dynamodb, table_name):
    first = put(api, "TENT-2P", {"name": "Tent", "quantity_available": 12})
    before = all_items(dynamodb, table_name)

    status, body = api("PUT", "/products/TENT-2P", {"sku": "TENT-2P", "name": " Tent ", "quantity_available": 12})

    assert (status, body) == (200, first)
    assert all_items(dynamodb, table_name) == before


@pytest.mark.parametrize("quantity", [-1_000_000_000, -1, 0, 1_000_000_000])
def test_quantities_within_a_billion_either_way_are_kept(api, quantity):
    assert put(api, "SKU-1", {"quantity_available": quantity})["quantity_available"] == quantity


def test_skus_are_case_sensitive(api):
    put(api, "abc-1", {"quantity_available": 1})
    put(api, "ABC-1", {"quantity_available": 2})

    assert api("GET", "/products/abc-1")[1]["quantity_available"] == 1
    assert api("GET", "/products/ABC-1")[1]["quantity_available"] == 2
    assert api("GET", "/products/Abc-1")[0] == 404


@pytest.mark.parametrize(
    "sku",
    [
        "KIT/2",
        "A#5",
        "50%",
        "what?",
        'Bolt "M6"',
        "back\\slash",
        "tab-less café",
        "x" * 200,
        "T-SHIRT-€5",
        "日本語-SKU",
        "batch",
        "a b  c",
    ],
)
def test_any_valid_sku_works_in_the_path(api, sku):
    created = put(api, sku, {"sku": sku, "quantity_available": 3})

    assert created["sku"] == sku
    assert api("GET", f"/products/{sku}") == (200, created)
    assert [p["sku"] for p in api("GET", "/products")[1]["items"]] == [sku]
    assert api("DELETE", f"/products/{sku}")[0] == 204
    assert api("GET", f"/products/{sku}")[0] == 404


@pytest.mark.parametrize(
    "sku",
    [" LEADING", "TRAILING ", "TRAILING\t", "nul\x00", "bidi\u202eSKU", "zero\u200bwidth", "x" * 201, "line\u2028sep"],
)
@pytest.mark.parametrize("method", ["PUT", "GET", "DELETE"])
def test_an_invalid_sku_in_the_path_is_400_and_writes_nothing(api, dynamodb, table_name, method, sku):
    status, body = api(method, f"/products/{sku}", {"quantity_available": 1} if method == "PUT" else None)

    assert (status, body["error"]["code"]) == (400, "invalid_sku"), body
    assert all_items(dynamodb, table_name) == []


def test_the_body_sku_must_equal_the_path_sku(api, dynamodb, table_name):
    status, body = api("PUT", "/products/abc-1", {"sku": "ABC-1", "quantity_available": 1})

    assert (status, body["error"]["code"]) == (400, "sku_mismatch")
    assert all_items(dynamodb, table_name) == []


@pytest.mark.parametrize(
    ("body", "code"),
    [
        ({}, "validation_error"),
        ({"name": "no quantity"}, "validation_error"),
        ({"quantity_available": None}, "validation_error"),
        ({"quantity_available": 1.5}, "validation_error"),
        ({"quantity_available": "3"}, "validation_error"),
        ({"quantity_available": True}, "validation_error"),
        ({"quantity_available": 1_000_000_001}, "validation_error"),
        ({"quantity_available": -1_000_000_001}, "validation_error"),
        ({"quantity_available": 10**30}, "validation_error"),
        ({"quantity_available": 1, "name": ""}, "validation_error"),
        ({"quantity_available": 1, "name": "x" * 251}, "validation_error"),
        ({"quantity_available": 1, "name": "bad\u202ename"}, "validation_error"),
        ({"quantity_available": 1, "name": 7}, "validation_error"),
        ({"quantity_available": 1, "colour": "red"}, "validation_error"),
        ({"quantity_available": 1, "sku": 7}, "validation_error"),
        ({"quantity_available": 1, "sku": "SKU-1 "}, "invalid_sku"),
        ({"quantity_available": 1, "components": "A"}, "validation_error"),
        ({"quantity_available": 1, "components": {"sku": "A", "quantity": 1}}, "validation_error"),
        ([{"quantity_available": 1}], "validation_error"),
    ],
)
def test_bad_product_bodies_are_a_clear_400_and_write_nothing(api, dynamodb, table_name, body, code):
    status, response = api("PUT", "/products/SKU-1", body)

    assert status == 400, response
    assert response["error"]["code"] == code
    assert response["error"]["message"]
    assert all_items(dynamodb, table_name) == []


@pytest.mark.parametrize(
    "raw", ["{not json", "", "null", '"text"', '{"quantity_available": 1, "name": "\\ud800"}', "[" * 100 + "]" * 100]
)
def test_malformed_bodies_are_refused(api, dynamodb, table_name, raw):
    status, response = api("PUT", "/products/SKU-1", raw_body=raw)

    assert status == 400, response
    assert response["error"]["code"] in ("invalid_json", "validation_error")
    assert all_items(dynamodb, table_name) == []


# --- bundles ---------------------------------------------------------------------------------------


def test_a_bundle_is_shown_with_its_components_and_on_each_component(api, dynamodb, table_name):
    put(api, "TENT")
    put(api, "PEG", {"quantity_available": 40})

    status, bundle = api("PUT", "/products/CAMP-KIT", kit(("TENT", 1), ("PEG", 8), name="Camping kit"))

    assert status == 201
    assert bundle["is_bundle"] is True
    assert bundle["components"] == [{"sku": "TENT", "quantity": 1}, {"sku": "PEG", "quantity": 8}]
    assert bundle["quantity_available"] is None, "a bundle's availability is computed from its components"
    assert api("GET", "/products/PEG")[1]["used_in_bundles"] == ["CAMP-KIT"]
    stored = {i["SK"]["S"]: i for i in product_items(dynamodb, table_name)}
    assert stored["PRODUCT#TENT"]["used_by"] == {"SS": ["CAMP-KIT"]}
    assert "quantity_available" not in stored["PRODUCT#CAMP-KIT"]


def test_a_bundle_may_leave_out_its_quantity_and_any_quantity_sent_is_ignored(api):
    put(api, "TENT")
    assert put(api, "KIT", kit(("TENT", 1), quantity_available=999))["quantity_available"] is None


@pytest.mark.parametrize(
    ("components", "code"),
    [
        ([("MISSING", 1)], "component_not_found"),
        ([("tent", 1)], "component_not_found"),
        ([("KIT", 1)], "bundle_contains_itself"),
        ([("OTHER-KIT", 1)], "component_is_bundle"),
        ([("TENT", 0)], "invalid_component_quantity"),
        ([("TENT", 100_001)], "invalid_component_quantity"),
        ([("TENT", 1), ("TENT", 2)], "duplicate_component"),
        ([(" TENT", 1)], "invalid_sku"),
    ],
)
def test_bad_components_are_refused_with_a_specific_code_and_nothing_is_written(
    api, dynamodb, table_name, components, code
):
    put(api, "TENT")
    put(api, "OTHER-KIT", kit(("TENT", 1)))
    before = all_items(dynamodb, table_name)

    status, body = api("PUT", "/products/KIT", kit(*components))

    assert (status, body["error"]["code"]) == (400, code), body
    assert body["error"]["details"][0]["code"] == code
    assert all_items(dynamodb, table_name) == before


@pytest.mark.parametrize(
    "components",
    [
        [{"sku": "TENT"}],
        [{"sku": "TENT", "quantity": 1.0}],
        [{"sku": "TENT", "quantity": "1"}],
        [{"sku": "TENT", "quantity": 1, "price": 3}],
        ["TENT"],
        [None],
    ],
)
def test_malformed_component_lines_are_400_and_write_nothing(api, dynamodb, table_name, components):
    put(api, "TENT")
    before = all_items(dynamodb, table_name)

    status, body = api("PUT", "/products/KIT", {"components": components})

    assert status == 400, body
    assert all_items(dynamodb, table_name) == before


def test_a_bundle_has_at_most_the_component_limit(api, dynamodb, table_name):
    for n in range(MAX_BUNDLE_COMPONENTS + 1):
        put(api, f"P{n:02d}")
    limit = [(f"P{n:02d}", 1) for n in range(MAX_BUNDLE_COMPONENTS)]

    assert put(api, "BIG-KIT", kit(*limit))["is_bundle"] is True
    before = all_items(dynamodb, table_name)
    status, body = api("PUT", "/products/TOO-BIG", kit(*limit, (f"P{MAX_BUNDLE_COMPONENTS:02d}", 1)))
    assert (status, body["error"]["code"]) == (400, "invalid_components")
    assert all_items(dynamodb, table_name) == before


def test_replacing_every_component_of_the_largest_bundle_moves_it(api):
    # One batch, as a client sends many products (one by one they would outrun its write allowance).
    components = [{"sku": f"P{n:02d}", "quantity_available": 5} for n in range(2 * MAX_BUNDLE_COMPONENTS)]
    assert api("POST", "/products/batch", {"products": components})[0] == 200
    put(api, "KIT", kit(*[(f"P{n:02d}", 1) for n in range(MAX_BUNDLE_COMPONENTS)]))

    put(api, "KIT", kit(*[(f"P{n:02d}", 2) for n in range(MAX_BUNDLE_COMPONENTS, 2 * MAX_BUNDLE_COMPONENTS)]))

    assert api("GET", "/products/P00")[1]["used_in_bundles"] == []
    assert api("GET", f"/products/P{2 * MAX_BUNDLE_COMPONENTS - 1:02d}")[1]["used_in_bundles"] == ["KIT"]


def test_a_product_used_in_a_bundle_cannot_become_a_bundle(api, dynamodb, table_name):
    put(api, "TENT")
    put(api, "PEG")
    put(api, "KIT", kit(("TENT", 1)))
    before = all_items(dynamodb, table_name)

    status, body = api("PUT", "/products/TENT", kit(("PEG", 2)))

    assert (status, body["error"]["code"]) == (409, "product_in_bundle")
    assert "'KIT'" in body["error"]["message"]
    assert body["error"]["details"][0]["bundles"] == ["KIT"]
    assert all_items(dynamodb, table_name) == before


def test_replacing_a_component_keeps_the_bundles_that_use_it(api):
    put(api, "TENT")
    put(api, "KIT", kit(("TENT", 1)))

    assert put(api, "TENT", {"name": "Renamed", "quantity_available": 0})["used_in_bundles"] == ["KIT"]


def test_a_bundle_turned_simple_lets_go_of_its_components(api):
    put(api, "TENT")
    put(api, "KIT", kit(("TENT", 1)))

    simple = put(api, "KIT", {"quantity_available": 4})

    assert (simple["is_bundle"], simple["components"], simple["quantity_available"]) == (False, [], 4)
    assert api("GET", "/products/TENT")[1]["used_in_bundles"] == []


def test_a_bundle_cannot_use_another_clients_product(api, dynamodb, table_name):
    put(api, "TENT", client_id=OTHER_CLIENT)
    before = all_items(dynamodb, table_name)

    status, body = api("PUT", "/products/KIT", kit(("TENT", 1)))

    assert (status, body["error"]["code"]) == (400, "component_not_found")
    assert all_items(dynamodb, table_name) == before


# --- delete ----------------------------------------------------------------------------------------


def test_a_component_cannot_be_deleted_while_a_bundle_uses_it(api, dynamodb, table_name):
    put(api, "TENT")
    put(api, "KIT-1", kit(("TENT", 1)))
    put(api, "KIT-2", kit(("TENT", 2)))
    before = all_items(dynamodb, table_name)

    status, body = api("DELETE", "/products/TENT")

    assert (status, body["error"]["code"]) == (409, "product_in_bundle")
    assert "'KIT-1'" in body["error"]["message"] and "'KIT-2'" in body["error"]["message"]
    assert body["error"]["details"][0]["bundles"] == ["KIT-1", "KIT-2"]
    assert all_items(dynamodb, table_name) == before


def test_deleting_the_bundles_frees_the_component(api, dynamodb, table_name):
    put(api, "TENT")
    put(api, "KIT-1", kit(("TENT", 1)))
    put(api, "KIT-2", kit(("TENT", 2)))

    assert api("DELETE", "/products/KIT-1")[0] == 204
    assert api("GET", "/products/TENT")[1]["used_in_bundles"] == ["KIT-2"]
    assert api("DELETE", "/products/KIT-2")[0] == 204
    assert "used_by" not in product_items(dynamodb, table_name)[0]
    assert api("DELETE", "/products/TENT")[0] == 204
    assert all_items(dynamodb, table_name) == []


def test_deleting_a_missing_product_is_404(api):
    status, body = api("DELETE", "/products/NOPE")
    assert (status, body["error"]["code"]) == (404, "product_not_found")


# --- tenancy ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("method", ["GET", "DELETE"])
def test_another_clients_product_is_404_and_untouched(api, method):
    created = put(api, "TENT")

    status, body = api(method, "/products/TENT", client_id=OTHER_CLIENT)

    assert (status, body["error"]["code"]) == (404, "product_not_found")
    assert api("GET", "/products/TENT") == (200, created)


def test_another_client_may_have_the_same_sku_without_touching_ours(api):
    ours = put(api, "TENT", {"quantity_available": 1})
    theirs = put(api, "TENT", {"quantity_available": 9}, client_id=OTHER_CLIENT)

    assert theirs["version"] == 1
    assert api("GET", "/products/TENT") == (200, ours)
    assert api("GET", "/products", client_id=OTHER_CLIENT)[1]["items"] == [theirs]


def test_an_admin_acts_for_a_named_client(api):
    created = put(api, "TENT")
    status, body = api("GET", "/products/TENT", client_id=None, admin=True, query={"client_id": "acme-outdoor"})
    assert (status, body) == (200, created)


@pytest.mark.parametrize(
    ("method", "path"), [("GET", "/products"), ("PUT", "/products/A"), ("POST", "/products/batch")]
)
def test_a_request_without_identity_is_401_and_writes_nothing(api, dynamodb, table_name, method, path):
    body = {"products": [{"sku": "A", "quantity_available": 1}]} if method == "POST" else {"quantity_available": 1}
    status, response = api(method, path, body if method != "GET" else None, client_id=None)

    assert (status, response["error"]["code"]) == (401, "unauthorized")
    assert all_items(dynamodb, table_name) == []


# --- list --------------------------------------------------------------------------------------------


def test_the_list_pages_through_every_product_in_sku_order(api):
    skus = ["B", "a", "A", "KIT/1", "C-1", "c-1", "Z"]
    for sku in skus:
        put(api, sku)

    seen, token = [], None
    while True:
        status, page = api("GET", "/products", query={"limit": "3", **({"next_token": token} if token else {})})
        assert status == 200
        assert len(page["items"]) <= 3
        seen.extend(p["sku"] for p in page["items"])
        token = page["next_token"]
        if token is None:
            break
    assert seen == sorted(skus)


def test_the_list_defaults_to_a_hundred(api, dynamodb, table_name):
    items = [
        {
            "PutRequest": {
                "Item": {
                    "PK": {"S": "CLIENT#acme-outdoor"},
                    "SK": {"S": f"PRODUCT#P{n:03d}"},
                    "client_id": {"S": "acme-outdoor"},
                    "sku": {"S": f"P{n:03d}"},
                    "quantity_available": {"N": "1"},
                    "created_at": {"S": "2026-01-01T00:00:00.000Z"},
                    "updated_at": {"S": "2026-01-01T00:00:00.000Z"},
                    "version": {"N": "1"},
                }
            }
        }
        for n in range(101)
    ]
    for start in range(0, len(items), 25):
        dynamodb.batch_write_item(RequestItems={table_name: items[start : start + 25]})

    status, page = api("GET", "/products")

    assert status == 200
    assert len(page["items"]) == 100 and page["next_token"]


def test_the_list_shows_only_products(api):
    api("POST", "/accounts", {"merchant_id": "A2SELLERUK01", "marketplace": "UK"})
    put(api, "TENT")

    assert [p["sku"] for p in api("GET", "/products")[1]["items"]] == ["TENT"]


@pytest.mark.parametrize(
    "query",
    [
        {"limit": "0"},
        {"limit": "1001"},
        {"limit": "x"},
        {"next_token": "garbage"},
        {"next_token": "x" * 2049},
    ],
)
def test_the_list_refuses_bad_query_parameters(api, query):
    status, body = api("GET", "/products", query=query)
    assert status == 400, body


@pytest.mark.parametrize(
    "key",
    [
        {"PK": "CLIENT#bluebird-gifts", "SK": "PRODUCT#A"},
        {"PK": "CLIENT#acme-outdoor", "SK": "ACCOUNT#0"},
        {"PK": "CLIENT#acme-outdoor", "SK": "PRODUCT#A", "GSI1PK": "STOCK_SYNC"},
    ],
    ids=["other-client", "not-a-product", "extra-key"],
)
def test_a_forged_next_token_is_refused(api, key):
    forged = base64.urlsafe_b64encode(json.dumps(key).encode()).decode().rstrip("=")
    status, body = api("GET", "/products", query={"next_token": forged})
    assert (status, body["error"]["code"]) == (400, "invalid_next_token")


# --- batch -------------------------------------------------------------------------------------------


def test_a_batch_creates_products_and_bundles_in_any_order(api, dynamodb, table_name):
    batch = [
        {"sku": "KIT", "components": [{"sku": "TENT", "quantity": 1}, {"sku": "PEG", "quantity": 8}]},
        {"sku": "TENT", "name": "Tent", "quantity_available": 3},
        {"sku": "PEG", "quantity_available": 100},
    ]
    status, body = api("POST", "/products/batch", {"products": batch})

    assert status == 200, body
    assert (body["created"], body["replaced"], body["unchanged"]) == (3, 0, 0)
    assert [(i["index"], i["sku"], i["status"], i["version"]) for i in body["items"]] == [
        (0, "KIT", "created", 1),
        (1, "TENT", "created", 1),
        (2, "PEG", "created", 1),
    ]
    assert api("GET", "/products/PEG")[1]["used_in_bundles"] == ["KIT"]
    assert len(product_items(dynamodb, table_name)) == 3


def test_resending_a_batch_reports_each_product_unchanged_or_replaced(api):
    batch = [{"sku": "TENT", "quantity_available": 3}, {"sku": "PEG", "quantity_available": 100}]
    api("POST", "/products/batch", {"products": batch})
    batch[1]["quantity_available"] = 99

    status, body = api("POST", "/products/batch", {"products": batch})

    assert status == 200
    assert [(i["sku"], i["status"], i["version"]) for i in body["items"]] == [
        ("TENT", "unchanged", 1),
        ("PEG", "replaced", 2),
    ]


def test_a_batch_with_refused_items_lists_each_of_them_and_writes_nothing(api, dynamodb, table_name):
    put(api, "STORED")
    put(api, "STORED-KIT", kit(("STORED", 1)))
    before = all_items(dynamodb, table_name)
    batch = [
        {"sku": "OK", "quantity_available": 1},
        {"sku": "OK", "quantity_available": 2},
        {"sku": "NO-QTY"},
        {"sku": " PADDED", "quantity_available": 1},
        {"quantity_available": 1},
        "not an object",
        {"sku": "QTY", "quantity_available": "7"},
        {"sku": "KIT", "components": [{"sku": "MISSING", "quantity": 1}]},
        {"sku": "STORED", "components": [{"sku": "OK", "quantity": 1}]},
        {"sku": "NESTED", "components": [{"sku": "STORED-KIT", "quantity": 1}]},
        {"sku": "EXTRA", "quantity_available": 1, "colour": "red"},
        {"sku": "FINE-KIT", "components": [{"sku": "OK", "quantity": 2}]},
    ]

    status, body = api("POST", "/products/batch", {"products": batch})

    assert status == 400, body
    assert body["error"]["code"] == "invalid_batch"
    assert "nothing was written" in body["error"]["message"]
    assert [(d["index"], d["sku"], d["code"]) for d in body["error"]["details"]] == [
        (1, "OK", "duplicate_sku"),
        (2, "NO-QTY", "validation_error"),
        (3, None, "invalid_sku"),
        (4, None, "validation_error"),
        (5, None, "validation_error"),
        (6, "QTY", "validation_error"),
        (7, "KIT", "component_not_found"),
        (8, "STORED", "product_in_bundle"),
        (9, "NESTED", "component_is_bundle"),
        (10, "EXTRA", "validation_error"),
    ]
    assert all(set(d) == {"index", "sku", "code", "message"} and d["message"] for d in body["error"]["details"])
    assert all_items(dynamodb, table_name) == before


def test_a_batch_judges_bundles_by_its_own_products_not_the_stored_ones(api):
    put(api, "TENT")
    put(api, "OLD-KIT", kit(("TENT", 1)))

    status, body = api(
        "POST",
        "/products/batch",
        {
            "products": [
                {"sku": "NEW-KIT", "components": [{"sku": "OLD-KIT", "quantity": 1}]},
                {"sku": "OLD-KIT", "quantity_available": 3},
            ]
        },
    )

    assert status == 200, body
    assert api("GET", "/products/TENT")[1]["used_in_bundles"] == []
    assert api("GET", "/products/OLD-KIT")[1]["used_in_bundles"] == ["NEW-KIT"]


def test_a_batch_may_turn_a_component_into_a_bundle_when_it_also_frees_it(api):
    for sku in ("X", "Y", "W"):
        put(api, sku)
    put(api, "Z", kit(("X", 1)))

    status, body = api(
        "POST",
        "/products/batch",
        {
            "products": [
                {"sku": "X", "components": [{"sku": "W", "quantity": 1}]},
                {"sku": "Z", "components": [{"sku": "Y", "quantity": 1}]},
            ]
        },
    )

    assert status == 200, body
    assert api("GET", "/products/X")[1]["is_bundle"] is True
    assert [api("GET", f"/products/{sku}")[1]["used_in_bundles"] for sku in ("X", "Y", "W")] == [[], ["Z"], ["X"]]


@pytest.mark.parametrize(
    "body",
    [
        {"products": []},
        {"products": [{"sku": f"P{n}", "quantity_available": 1} for n in range(1001)]},
        {"products": {"sku": "A", "quantity_available": 1}},
        {"products": None},
        {},
        {"products": [{"sku": "A", "quantity_available": 1}], "mode": "upsert"},
        [{"sku": "A", "quantity_available": 1}],
    ],
    ids=["empty", "1001", "object", "null", "missing", "extra-field", "bare-list"],
)
def test_a_batch_must_hold_one_to_a_thousand_products(api, dynamodb, table_name, body):
    status, response = api("POST", "/products/batch", body)

    assert status == 400, response
    assert all_items(dynamodb, table_name) == []


def test_a_batch_larger_than_one_transaction_is_written_whole(api, dynamodb, table_name):
    # 1,000 items work the same way (see the unit tests); moto copies the table for every
    # transaction action, which makes 1,000 here cost twenty seconds for nothing more.
    batch = [{"sku": f"SKU-{n:04d}", "quantity_available": n} for n in range(249)]
    batch.append({"sku": "KIT", "components": [{"sku": "SKU-0001", "quantity": 2}]})

    status, body = api("POST", "/products/batch", {"products": batch})

    assert (status, body["created"]) == (200, 250)
    assert len(product_items(dynamodb, table_name)) == 250
    assert api("GET", "/products/SKU-0001")[1]["used_in_bundles"] == ["KIT"]


# --- the OpenAPI document ----------------------------------------------------------------------------


def test_the_openapi_document_describes_the_products_routes(api):
    status, document = api("GET", "/openapi.json")

    assert status == 200
    assert {"/products", "/products/{sku}", "/products/batch"} <= set(document["paths"])
    assert not any("(" in path for path in document["paths"]), "the any-SKU twins stay out of the document"
    assert set(document["paths"]["/products/{sku}"]) == {"get", "put", "delete"}
    batch = document["components"]["schemas"]["ProductBatchIn"]["properties"]["products"]
    assert batch["items"] == {"$ref": "#/components/schemas/ProductIn"}
    assert "ProductIn" in document["components"]["schemas"]


# --- the event catalogue -----------------------------------------------------------------------------


def test_the_catalogues_product_events_work_as_api_gateway_would_send_them(api):
    put(api, "TENT-2P")
    put(api, "PEG-STEEL", {"quantity_available": 80})
    context = LambdaContext(function_name="ApiFunction")

    created = api.handler(load_event("api-put-product.json"), context)
    listed = api.handler(load_event("api-list-products.json"), context)

    assert created["statusCode"] == 201
    assert json.loads(created["body"])["is_bundle"] is True
    assert listed["statusCode"] == 200
    assert [p["sku"] for p in json.loads(listed["body"])["items"]] == ["CAMP-KIT", "PEG-STEEL", "TENT-2P"]
