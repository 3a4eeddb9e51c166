"""The API's nesting guard (`api.app.nested_deeper_than`, on the parsed body) agrees with a plain
character-by-character scan of the JSON on every value, strings full of brackets, quotes and
backslashes included; and `parse_json_body` refuses a body nested too deep however deep it goes."""

from __future__ import annotations

import json

import pytest
from hypothesis import given
from hypothesis import strategies as st
from oms_amazon.api.app import MAX_BODY_BYTES, MAX_JSON_DEPTH, nested_deeper_than, parse_json_body
from oms_amazon.domain.errors import InvalidInput

pytestmark = pytest.mark.unit

TRICKY = st.text(alphabet='[]{}"\\\\ab\u00e9\U0001f600', max_size=12)
VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | TRICKY,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(TRICKY, inner, max_size=3),
    max_leaves=60,
)


def depth_by_scanning(text: str) -> int:
    depth = deepest = 0
    in_string = escaped = False
    for ch in text:
        if in_string:
            if escaped:
                escaped = False
            elif ch == "\\":
                escaped = True
            elif ch == '"':
                in_string = False
        elif ch == '"':
            in_string = True
        elif ch in "[{":
            depth += 1
            deepest = max(deepest, depth)
        elif ch in "]}":
            depth -= 1
    return deepest


@given(VALUES, st.integers(min_value=0, max_value=6), st.booleans())
def test_the_guard_agrees_with_a_scan_of_every_character(value, limit, ascii_only):
    text = json.dumps(value, ensure_ascii=ascii_only)
    assert nested_deeper_than(json.loads(text), limit) == (depth_by_scanning(text) > limit)


@pytest.mark.parametrize(
    ("text", "deep"),
    [
        ("[" * MAX_JSON_DEPTH + "]" * MAX_JSON_DEPTH, False),
        ("[" * (MAX_JSON_DEPTH + 1) + "]" * (MAX_JSON_DEPTH + 1), True),
        ('{"a":' * (MAX_JSON_DEPTH + 1) + "1" + "}" * (MAX_JSON_DEPTH + 1), True),
        ('[{"a":' * 17 + "1" + "}]" * 17, True),  # 34 levels, alternating
        ("[[]," * 40 + "[]" + "]" * 40, True),  # an empty array beside each level
        (json.dumps({"sku": "[" * 100 + '\\"{' * 50}), False),
        ("[" + "[]," * 300_000 + "[]]", False),  # a megabyte of shallow arrays
    ],
)
def test_deep_and_shallow_bodies(text, deep):
    assert nested_deeper_than(json.loads(text), MAX_JSON_DEPTH) is deep


@pytest.mark.parametrize(
    "levels",
    [
        MAX_JSON_DEPTH + 1,
        5_000,  # the parser takes it; the guard does not
        MAX_BODY_BYTES // 2 - 10,  # as deep as a body may be: the parser's own limit stops it first
    ],
)
def test_a_body_nested_too_deep_is_refused_as_invalid_json_at_any_depth(levels):
    text = '{"a": ' + "[" * (levels - 1) + "]" * (levels - 1) + "}"
    assert len(text) <= MAX_BODY_BYTES

    with pytest.raises(InvalidInput) as refused:
        parse_json_body(text)

    assert refused.value.code == "invalid_json"
    assert f"more than {MAX_JSON_DEPTH} levels" in refused.value.message


def test_a_body_at_the_depth_limit_is_parsed():
    text = '{"a": ' + "[" * (MAX_JSON_DEPTH - 1) + "]" * (MAX_JSON_DEPTH - 1) + "}"
    assert parse_json_body(text) == json.loads(text)
