"""The console's page of who read a volunteer's personal data (issue 14): the library's staff see each read
(when, who, why) without the data; nobody else gets the page."""

from __future__ import annotations

import re
import uuid
from typing import Any

import pytest

from gateway.console import paging
from gateway.console.messages import EN, NL
from tests.console.conftest import ConsoleClient, World
from tests.console.paging_support import every_once, walk
from tests.console.seed import ok
from tests.console.test_browser import people  # noqa: F401  - the browser sessions fixture
from tests.console.test_volunteers_privacy import applicant

PAGE = 2


async def test_staff_see_who_read_a_volunteers_personal_data(console: ConsoleClient, world: World) -> None:
    person = await applicant(world, f"Lotte Dekker{uuid.uuid4().hex[:6]}")
    await console.sign_in(world.tenant.staff_a)
    listed = await console.get("/console/volunteers")  # shows the name: a read, in the log
    assert f"/console/volunteers/{person['id']}/access-log" in listed.text
    page = await console.get(f"/console/volunteers/{person['id']}/access-log")
    assert page.status_code == 200, page.text
    assert NL["volunteer_reads.title"] in page.text
    assert NL["volunteer_read.list"] in page.text and NL["volunteer_read.change"] in page.text
    assert person["person"]["name"] not in page.text and person["person"]["email"] not in page.text
    await console.post("/console/language", {"lang": "en", "next": "/console/volunteers"})
    english = await console.get(f"/console/volunteers/{person['id']}/access-log")
    assert EN["volunteer_reads.title"] in english.text


async def test_others_get_no_page_of_reads(console: ConsoleClient, world: World) -> None:
    person = await applicant(world, f"Bram Kok{uuid.uuid4().hex[:6]}")
    await console.sign_in(world.coordinator)
    assert (await console.get(f"/console/volunteers/{person['id']}/access-log")).status_code == 403
    await console.sign_in(world.tenant.staff_b)
    assert (await console.get(f"/console/volunteers/{person['id']}/access-log")).status_code == 404


async def test_every_read_of_a_person_is_reached_page_by_page(
    console: ConsoleClient,
    world: World,
    monkeypatch: pytest.MonkeyPatch,
    people: Any,  # noqa: F811  - the fixture imported above
) -> None:
    """More reads than a page holds (paging.PAGE made small): each read once over the pages, by the API's cursor;
    a cursor not of ours shows the first page; a later page passes axe in Chromium (issue 20)."""
    monkeypatch.setattr(paging, "PAGE", PAGE)
    person = await applicant(world, f"Sanne Visser{uuid.uuid4().hex[:6]}")
    async with world.platform.client(world.tenant.staff_a) as staff:
        for _ in range(2 * PAGE):  # each a read of the person's data, in the log
            await ok(await staff.get(f"/api/v1/volunteers/{person['id']}"))
        logged = await ok(await staff.get(f"/api/v1/volunteers/{person['id']}/access-log", params={"limit": 200}))
    assert len(logged["items"]) > 2 * PAGE
    await console.sign_in(world.tenant.staff_a)
    reads = f"/console/volunteers/{person['id']}/access-log"

    def shown(page: str) -> list[str]:
        return re.findall(r'<tr id="read-(\d+)">', page)

    pages, visited = await walk(console, reads, "next-reads", shown)
    assert len(pages) >= 3 and all(len(page) == PAGE for page in pages[:-1])
    assert every_once(pages) == [str(entry["id"]) for entry in logged["items"]]  # every read once, newest first
    assert all(address.startswith(f"{reads}?cursor=") for address in visited[1:])
    typo = await console.get(f"{reads}?cursor=not-a-cursor")  # not ours: the first page
    assert typo.status_code == 200 and shown(typo.text) == pages[0]

    browser = await people(world.tenant.staff_a, bypass_csp=True)
    await browser.goto(visited[1])
    await browser.page.get_by_role("link", name=NL["inbox.first_page"]).wait_for()
    assert await browser.page.get_by_role("navigation", name=NL["volunteer_reads.pages"]).count() == 1
    assert await browser.axe() == []
