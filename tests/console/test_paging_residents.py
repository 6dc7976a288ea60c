"""A session's residents page through every one (issue 20): the API (`GET /api/v1/sessions/{id}/residents?cursor=`)
in the order they came in, each once, each page's residents (and only those) written to the access log, a cursor
not of ours a 422, another library's staff refused whatever cursor they send; the session's page in the console a
page at a time (paging.PAGE made small here) with the API's cursor, a cursor not of ours the first page, and axe on a
later page."""

from __future__ import annotations

import dataclasses
import re
from collections.abc import AsyncIterator
from typing import Any

import pytest
import sqlalchemy as sa

from gateway.console import paging
from gateway.console.messages import NL
from launcher.mail_catcher import MailCatcher
from services.courses.store.residents import data_reads
from shared.pagination import encode_cursor
from tests.console.conftest import ConsoleClient, World
from tests.console.paging_support import every_once, walk
from tests.console.test_browser import people  # noqa: F401  - the browser sessions fixture
from tests.e2e.calendar_support import registration_of, schedule, signed_up, someone
from tests.fixtures.platform import RunningPlatform, another_gateway


@pytest.fixture(scope="module")
async def site(platform: RunningPlatform) -> AsyncIterator[str]:
    generous = dataclasses.replace(platform.settings, calendar_sign_ups_per_minute=10_000)
    async with another_gateway(generous) as url:
        yield url


async def views_of(platform: RunningPlatform, links: list[str]) -> list[int]:
    """How often each resident's data was shown (`view` rows of the access log), in the order of `links`."""
    d = data_reads
    async with platform.services["courses"].sessions() as session:
        statement = sa.select(d.c.registration_id).where(d.c.purpose == "view")
        shown = list((await session.execute(statement)).scalars())
    return [shown.count(registration_of(link)) for link in links]


async def test_a_sessions_residents_page_in_the_order_they_came_each_once(
    console: ConsoleClient,
    world: World,
    mail_catcher: MailCatcher,
    site: str,
    monkeypatch: pytest.MonkeyPatch,
    people: Any,  # noqa: F811  - the fixture imported above
) -> None:
    platform, tenant = world.platform, world.tenant
    session_id = (await schedule(platform, tenant.staff_a, capacity=2))["session"]["id"]
    residents = [someone(first) for first in ("Anna", "Bram", "Cas", "Dirk", "Eva")]
    links = [await signed_up(site, mail_catcher, tenant.municipality, session_id, who) for who in residents]
    path = f"/api/v1/sessions/{session_id}/residents"

    pages: list[list[Any]] = []
    cursor: str | None = None
    async with platform.client(tenant.staff_a) as api:
        while True:
            found = await api.get(path, params={"limit": 2} | ({"cursor": cursor} if cursor else {}))
            assert found.status_code == 200, found.text
            pages.append(found.json()["residents"])
            assert found.json()["detail"] == "contact"
            cursor = found.json().get("next_cursor")
            if not cursor:
                break
            assert len(pages) < 10, "the pages do not end"
        first_page = (await api.get(path, params={"limit": 2})).json()
        wrong = ["not-a-cursor", encode_cursor("zeven"), encode_cursor(1, 2)]
        refused = [await api.get(path, params={"cursor": cursor}) for cursor in wrong]
    assert [[r["name"] for r in page] for page in pages] == [
        [residents[0]["name"], residents[1]["name"]],
        [residents[2]["name"], residents[3]["name"]],
        [residents[4]["name"]],
    ]  # in the order they came in, each once
    assert [r["status"] for page in pages for r in page] == ["confirmed"] * 2 + ["waitlisted"] * 3
    assert await views_of(platform, links) == [2, 2, 1, 1, 1]  # a page logs its own residents (the first twice)
    for answer in refused:
        assert answer.status_code == 422 and answer.headers["content-type"].startswith("application/problem+json")
    async with platform.client(tenant.staff_b) as api:  # another library's staff: not with a cursor either
        other = await api.get(path, params={"cursor": first_page["next_cursor"]})
    assert other.status_code in (403, 404) and residents[2]["name"] not in other.text
    assert await views_of(platform, links) == [2, 2, 1, 1, 1]  # and nothing read

    monkeypatch.setattr(paging, "PAGE", 2)
    await console.sign_in(tenant.staff_a)

    def names(page: str) -> list[str]:
        found = re.search(r'<table id="residents".*?</table>', page, re.S)
        return re.findall(r'<th scope="row">([^<]+)</th>', found.group(0)) if found else []

    shown, visited = await walk(console, f"/console/sessions/{session_id}", "next-residents", names)
    assert every_once(shown) == [who["name"] for who in residents] and [len(page) for page in shown] == [2, 2, 1]
    assert all("residents_cursor=" in address for address in visited[1:])
    typo = await console.get(f"/console/sessions/{session_id}?residents_cursor=not-a-cursor")  # the first page
    assert typo.status_code == 200 and names(typo.text) == shown[0]

    staff = await people(tenant.staff_a, bypass_csp=True)
    await staff.goto(visited[1])
    await staff.page.get_by_role("link", name=NL["inbox.first_page"]).first.wait_for()
    assert await staff.page.get_by_role("navigation", name=NL["session_page.resident_pages"]).count() == 1
    assert await staff.axe() == []
