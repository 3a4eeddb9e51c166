"""The text of a shipping term: its canonical form, the characters it may hold, and its size.

Amazon's text is never refused (an import must not fail on it): forbidden characters are blanked. What a
user types is checked and refused with `invalid_shipping_term`, the error never echoing the input.
"""

from __future__ import annotations

import unicodedata
from typing import Final

from oms_amazon.domain.errors import InvalidInput

__all__ = [
    "HARD_INPUT_LIMIT",
    "INVALID_TERM_CODE",
    "MAX_TERM_LENGTH",
    "blank_forbidden",
    "canonical_text",
    "invalid_term",
    "term_too_long",
    "validated_fold",
]

MAX_TERM_LENGTH: Final = 100
INVALID_TERM_CODE: Final = "invalid_shipping_term"

# Anything longer is refused before it is even trimmed, so a megabyte body costs nothing.
HARD_INPUT_LIMIT: Final = 10 * MAX_TERM_LENGTH

# Unicode categories never allowed in a term: controls (NUL, ESC, ...), format characters (the bidi
# overrides such as U+202E that make a term display differently from what is matched, zero-width
# spaces, BOM) and lone surrogates (not encodable in UTF-8, so not storable).
_FORBIDDEN_CATEGORIES: Final = frozenset({"Cc", "Cf", "Cs"})


def canonical_text(value: str) -> str:
    """Trim, collapse every run of whitespace to one space, upper-case: the textual canonical form.

    Upper-casing comes first because a few characters change length when upper-cased (`ß` -> `SS`);
    doing it first keeps the function idempotent.
    """
    return " ".join(value.upper().split())


def blank_forbidden(value: str) -> str:
    """Amazon's text with control/format characters turned into spaces (later collapsed)."""
    if not any(_is_forbidden(ch) for ch in value):
        return value
    return "".join(" " if _is_forbidden(ch) else ch for ch in value)


def _is_forbidden(ch: str) -> bool:
    return unicodedata.category(ch) in _FORBIDDEN_CATEGORIES


def validated_fold(text: str, field: str) -> str:
    """User input checked (type, size, characters) and folded; the error never echoes the input."""
    if not isinstance(text, str):
        raise invalid_term("A shipping term must be a string, e.g. 'STD UK DOM'.", field, "not_a_string")
    if len(text) > HARD_INPUT_LIMIT:
        raise term_too_long(len(text), field)
    trimmed = text.strip()
    if not trimmed:
        raise invalid_term("A shipping term is required, e.g. 'STD UK DOM' or 'UK NEXT-PRIME'.", field, "required")
    for position, ch in enumerate(trimmed):
        if _is_forbidden(ch):
            raise invalid_term(
                f"A shipping term may not contain control or invisible formatting characters "
                f"(found U+{ord(ch):04X} at position {position}).",
                field,
                "control_character",
            )
    folded = canonical_text(trimmed)
    if len(folded) > MAX_TERM_LENGTH:
        raise term_too_long(len(folded), field)
    return folded


def term_too_long(length: int, field: str) -> InvalidInput:
    return invalid_term(
        f"A shipping term is at most {MAX_TERM_LENGTH} characters; this one has {length}.",
        field,
        "too_long",
    )


def invalid_term(message: str, field: str, issue: str) -> InvalidInput:
    return InvalidInput(message, code=INVALID_TERM_CODE, details=[{"field": field, "issue": issue}])
