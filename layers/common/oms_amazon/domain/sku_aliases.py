"""SKU aliases (SPEC §5.4, §6.5, §7 `/sku-aliases`): an Amazon seller SKU linked to an OMS SKU, for a
listing whose SKU differs from the OMS's (a case difference, an old code) — what peers call
"alternative codes" or "channel SKU linking". Amazon SKUs cannot be renamed, and renaming the OMS SKU
may break another channel, so a link is the fix the SKU checks propose.

An Amazon SKU links to one OMS SKU per scope (client-wide, or one account); an OMS SKU may have
several Amazon SKUs. Matching is exact, letter case included.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from oms_amazon.sku import AMAZON_MAX_SKU_LENGTH, validate_sku

MAX_BATCH = 1000


@dataclass(frozen=True, slots=True)
class SkuAlias:
    client_id: str
    amazon_sku: str
    oms_sku: str
    account_id: str | None  # None: client-wide
    created_at: datetime
    updated_at: datetime
    version: int = 1

    def with_changes(self, **changes: Any) -> SkuAlias:
        return replace(self, **changes)


def amazon_sku(value: object, *, field: str = "amazon_sku") -> str:
    """An Amazon seller SKU as a link names it: an exact SKU of at most Amazon's 40 characters."""
    sku = validate_sku(value, field=field)
    if len(sku) > AMAZON_MAX_SKU_LENGTH:
        from oms_amazon.domain.errors import InvalidInput

        raise InvalidInput(
            f"An Amazon seller SKU is at most {AMAZON_MAX_SKU_LENGTH} characters; this one has {len(sku)}.",
            code="invalid_sku",
            details=[{"field": field, "reason": "longer than Amazon allows"}],
        )
    return sku


# A client's SKU aliases, loaded once per use (stock sync run, order import, re-evaluation).
AliasSource = Callable[[str], list["SkuAlias"]]


def no_aliases(_: str) -> list[SkuAlias]:
    return []


def aliases_for(account_id: str | None, aliases: Iterable[SkuAlias]) -> dict[str, str]:
    """Amazon SKU -> OMS SKU as they apply to one account: its own links over the client-wide ones."""
    found: dict[str, str] = {}
    for alias in aliases:
        if alias.account_id is None:
            found.setdefault(alias.amazon_sku, alias.oms_sku)
    for alias in aliases:
        if alias.account_id is not None and alias.account_id == account_id:
            found[alias.amazon_sku] = alias.oms_sku
    return found


def amazon_skus_of(links: Mapping[str, str]) -> dict[str, list[str]]:
    """OMS SKU -> the Amazon SKUs linked to it (sorted)."""
    by_oms: dict[str, list[str]] = {}
    for amazon, oms in sorted(links.items()):
        by_oms.setdefault(oms, []).append(amazon)
    return by_oms
