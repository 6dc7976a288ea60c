"""Walking a paged console list (gateway/console/paging.py) page by page, as a person following its next-page link
does: what each page shows, and that the next page's link carries the API's cursor."""

from __future__ import annotations

import html
import re
from collections.abc import Callable

from tests.console.conftest import ConsoleClient


def section(page: str, heading_id: str) -> str:
    """The `<section aria-labelledby=heading_id>` of a page (the list and its pager)."""
    found = re.search(rf'<section aria-labelledby="{heading_id}".*?</section>', page, re.S)
    assert found is not None, f"no section {heading_id}"
    return found.group(0)


def next_link(page: str, link_id: str) -> str | None:
    found = re.search(rf'<a id="{link_id}" href="([^"]+)" rel="next">', page)
    return html.unescape(found.group(1)) if found else None


async def walk(
    console: ConsoleClient, first: str, link_id: str, shown: Callable[[str], list[str]]
) -> tuple[list[list[str]], list[str]]:
    """Every page from `first` by the link `link_id`: what `shown` finds on each, and the addresses visited."""
    pages: list[list[str]] = []
    visited: list[str] = []
    at: str | None = first
    while at is not None:
        response = await console.get(at)
        assert response.status_code == 200, response.text[-2000:]
        if visited:
            assert 'rel="first"' in response.text  # a later page leads back to the first
        pages.append(shown(response.text))
        visited.append(at)
        at = next_link(response.text, link_id)
        assert len(visited) < 50, "the pages do not end"
    return pages, visited


def every_once(pages: list[list[str]]) -> list[str]:
    """The rows of all pages, having checked that none shows twice."""
    rows = [row for page in pages for row in page]
    assert len(rows) == len(set(rows)), f"shown twice: {sorted(r for r in rows if rows.count(r) > 1)}"
    return rows
