"""Amazon's paged operations, one page at a time: every paged answer names the token of the next page."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Protocol


class Page(Protocol):
    @property
    def next_token(self) -> str | None: ...


def paginate[P: Page](fetch: Callable[[str | None], P], start_token: str | None = None) -> Iterator[P]:
    """Every page, lazily: `fetch(token)` with `start_token` first (None: the first page), then with each
    page's next token until a page has none. The caller stores a page before the next is fetched, so a
    series cut off part-way goes on from the last page's token (`start_token`) with the same filters."""
    token = start_token
    while True:
        page = fetch(token)
        yield page
        token = page.next_token
        if not token:
            return
