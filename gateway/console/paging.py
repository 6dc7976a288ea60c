"""Paging the console's lists with the API's own cursor (issue 20): no list silently stops at one page.

- A list a person reads shows one page (`one_page`) and links to the next with the API's cursor in the query string
  (the `pager` macro of `_macros.html`: "more on the next page", a next-page and a first-page link, in a `nav` of
  its own). A cursor that is not the API's (typed, cut short) shows the first page rather than an error.
- A form's option list (choose a partner, a vacancy) offers every option: `every` follows the cursor through all
  pages, up to `OPTIONS_BOUND` items; `complete` is False when the bound cut it short, and the page says so.

`PAGE` (the API's largest page) and `OPTIONS_BOUND` are read at each call, so a test can make them small.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Generic, TypeVar
from urllib.parse import urlencode

import msgspec

from shared.contracts.vocabulary import Page
from shared.errors import InvalidInput

T = TypeVar("T")

PAGE = 200  # items a page of a console list shows (the API's largest `limit`)
OPTIONS_BOUND = 2000  # options a form's list offers at most; past it the page says the list is cut short

# One page of a list: the API's cursor (None: the first page) and the page size → the API's page.
Fetch = Callable[[str | None, int], Awaitable[Page[T]]]


def href(path: str, params: Mapping[str, str | None]) -> str:
    """`path` with the query of `params` that have a value."""
    kept = {name: value for name, value in params.items() if value}
    return f"{path}?{urlencode(kept)}" if kept else path


@dataclass(frozen=True)
class Listing(Generic[T]):
    """One page of a list and the links to the first page and to the next (None on the last page)."""

    items: list[T]
    next_cursor: str | None
    paged: bool  # a later page than the first
    first_href: str
    next_href: str | None

    @property
    def more(self) -> bool:
        return self.next_cursor is not None


def nothing(path: str) -> Listing[T]:
    """No page (the page shows its problem instead): no items and no links onward."""
    return Listing(items=[], next_cursor=None, paged=False, first_href=path, next_href=None)


async def one_page(
    fetch: Fetch[T],
    cursor: str | None,
    *,
    path: str,
    param: str = "cursor",
    keep: Mapping[str, str | None] | None = None,
) -> Listing[T]:
    """The page at `cursor` (the API's), or the first page when there is none or it is not the API's.
    The links go to `path` with `keep` (the page's filters) and the next page's cursor as `param`."""
    kept = dict(keep or {})
    found: Page[T] | None = None
    if cursor:
        try:
            found = await fetch(cursor, PAGE)
        except (InvalidInput, msgspec.ValidationError):
            found, cursor = None, None
    if found is None:
        found = await fetch(None, PAGE)
    following = found.next_cursor
    return Listing(
        items=list(found.items),
        next_cursor=following,
        paged=bool(cursor),
        first_href=href(path, kept),
        next_href=href(path, kept | {param: following}) if following else None,
    )


@dataclass(frozen=True)
class Everything(Generic[T]):
    """Every item of a list, or the first `OPTIONS_BOUND` of them (`complete` False)."""

    items: list[T]
    complete: bool = True


async def every(fetch: Fetch[T], bound: int | None = None) -> Everything[T]:
    """Every page of a list, following the API's cursor, until the last page or `bound` items (OPTIONS_BOUND)."""
    limit = OPTIONS_BOUND if bound is None else bound
    items: list[T] = []
    cursor: str | None = None
    while True:
        found = await fetch(cursor, PAGE)
        items += found.items
        cursor = found.next_cursor
        if cursor is None:
            return Everything(items)
        if len(items) >= limit:
            return Everything(items[:limit], complete=False)
