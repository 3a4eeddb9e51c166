"""The lists' `next_token` at the API's edge (SPEC §7, domain.page_tokens): a repository's cursor goes out
signed for one list, one client and the filters that shaped it, and comes back only if it still is."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from oms_amazon.domain.page_tokens import FilterValue, seal, unseal
from oms_amazon.wiring import container


@dataclass(frozen=True, slots=True)
class PagedList:
    """One list as a client asked for it: `name` (the route), the acting client and every filter of the query
    (path parameters included). `limit` is not one: a client may change the page size between pages."""

    name: str
    client_id: str
    filters: Mapping[str, FilterValue] = field(default_factory=dict)

    def cursor(self, next_token: str | None) -> str | None:
        """The repository's cursor inside the client's `next_token` (400 `invalid_next_token` unless this
        list issued it); no key is read for a first page."""
        if next_token is None:
            return None
        return unseal(next_token, key=_key(), list_name=self.name, client_id=self.client_id, filters=self.filters)

    def next_token(self, cursor: str | None) -> str | None:
        """The token for the page after this one; no key is read for a last page."""
        if cursor is None:
            return None
        return seal(cursor, key=_key(), list_name=self.name, client_id=self.client_id, filters=self.filters)


def _key() -> bytes:

    return container().page_token_key
