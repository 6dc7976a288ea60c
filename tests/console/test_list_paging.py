"""The console's lists page through everything (issue 20): more referrals than a page holds are reached page by page
from the inbox, with the API's own cursor (`GET /api/v1/referrals?cursor=`), each exactly once; the live refresh keeps
the page shown; the later page passes axe in Chromium. Likewise the volunteers' pipeline (`GET /api/v1/volunteers`)
and the course offer. The page sizes are made small here (the same proof with a few rows instead of hundreds); a
middle page's pager reads as words, its links apart ("Eerste pagina · Volgende pagina")."""

from __future__ import annotations

import asyncio
import html
import re
import uuid
from pathlib import Path
from typing import Any

import pytest

from gateway.console import paging
from gateway.console.messages import NL
from tests.console.conftest import ConsoleClient, World
from tests.console.paging_support import every_once, section, walk
from tests.console.seed import referral
from tests.console.test_browser import people  # noqa: F401  - the browser sessions fixture
from tests.fixtures.tenants import Tenant, register_tenant
from tests.services.courses.support import course_body, courses_know
from tests.services.volunteers.volunteer_tenant import known_to_volunteers

ROW = re.compile(r'id="row-([0-9a-f-]{36})"')
PAGE = 2  # rows a page shows in these tests (five rows: three pages, the middle one with both links)
MIDDLE = f"{NL['inbox.first_page']} · {NL['inbox.more']} {NL['inbox.next_page']}"  # a middle page's inbox pager
NEXT = re.compile(r'href="(/console/inbox\?list_section=incoming&amp;cursor=[^"]+)" rel="next"')


async def crowded_library(world: World, count: int = 2 * PAGE + 1) -> tuple[Tenant, set[str]]:
    """A library of its own with more incoming referrals than two pages hold."""
    tenant = await register_tenant(world.platform)
    async with world.platform.client(tenant.partner_a_token) as partner:

        async def submit(n: int) -> str:
            made = await partner.post(
                "/api/v1/referrals", json=referral(tenant.library_a, tenant.partner_a, f"Deelnemer {n}")
            )
            assert made.status_code == 201, made.text
            return str(made.json()["id"])

        made = await asyncio.gather(*(submit(n) for n in range(count)))
    return tenant, set(made)


def pager_words(page: str) -> str:
    """The words of a page's pager (its `nav class="pages"`) as a person reads them: tags gone, spaces collapsed."""
    found = re.search(r'<nav class="pages"[^>]*>(.*?)</nav>', page, re.S)
    assert found is not None, "no pager"
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", found.group(1))).split())


def incoming(html: str) -> str:
    found = re.search(r'<section aria-labelledby="h-incoming".*?</section>', html, re.S)
    assert found is not None
    return found.group(0)


async def test_staff_reach_every_referral_of_the_inbox_page_by_page(
    console: ConsoleClient,
    world: World,
    monkeypatch: pytest.MonkeyPatch,
    people: Any,  # noqa: F811  - the fixture imported above
    artifacts: Path,
) -> None:
    monkeypatch.setattr(paging, "PAGE", PAGE)  # the inbox pages as every list does (paging.one_page)
    tenant, made = await crowded_library(world)
    await console.sign_in(tenant.staff_a)
    page = await console.get("/console/inbox")
    first = ROW.findall(incoming(page.text))
    assert len(first) == PAGE
    seen, path, pages = list(first), NEXT.search(incoming(page.text)), 1
    while path is not None:
        later = await console.get(path.group(1).replace("&amp;", "&"))
        assert later.status_code == 200, later.text
        section = incoming(later.text)
        assert 'rel="first"' in section
        if NEXT.search(section):  # a middle page: its words apart, not "Eerste paginaVolgende pagina"
            assert pager_words(section) == MIDDLE
        cursor = path.group(1).split("cursor=")[1]
        assert f'hx-get="/console/inbox/rows?list_section=incoming&amp;cursor={cursor}"' in later.text
        rows = await console.get(path.group(1).replace("&amp;", "&").replace("/inbox?", "/inbox/rows?"))
        assert ROW.findall(incoming(rows.text)) == ROW.findall(section)  # the live refresh keeps this page
        seen += ROW.findall(section)
        path, pages = NEXT.search(section), pages + 1
    assert pages == 3 and len(seen) == len(set(seen)) and set(seen) == made  # every one, once
    for typo in ("not-a-cursor", "geen cursor!"):  # a cursor not of ours: the first page, and the refresh keeps it
        first_again = await console.get("/console/inbox", params={"list_section": "incoming", "cursor": typo})
        assert first_again.status_code == 200 and ROW.findall(incoming(first_again.text)) == first
        assert 'rel="first"' not in incoming(first_again.text) and 'hx-get="/console/inbox/rows"' in first_again.text

    async with world.platform.client(tenant.staff_a) as api:  # the API pages the same list the same way
        listed: list[str] = []
        cursor_at: str | None = None
        while True:
            params: dict[str, Any] = {"limit": PAGE, "direction": "incoming"} | (
                {"cursor": cursor_at} if cursor_at else {}
            )
            found = (await api.get("/api/v1/referrals", params=params)).json()
            listed += [r["id"] for r in found["items"]]
            cursor_at = found.get("next_cursor")
            if not cursor_at:
                break
    assert listed == seen

    staff = await people(tenant.staff_a, bypass_csp=True)
    await staff.goto("/console/inbox")
    await staff.page.locator("#next-incoming").click()
    await staff.page.get_by_role("link", name=NL["inbox.first_page"]).wait_for()
    assert await staff.page.locator("section[aria-labelledby=h-incoming] tbody tr").count() == PAGE
    pager = staff.page.get_by_role("navigation", name=NL["inbox.pages"].format(section=NL["inbox.section_incoming"]))
    assert " ".join((await pager.inner_text()).split()) == MIDDLE  # as the browser lays it out
    await staff.page.screenshot(path=str(artifacts / "staff-inbox-page-2.png"), full_page=True)
    assert await staff.axe() == []


async def test_staff_reach_every_volunteer_page_by_page(
    console: ConsoleClient,
    world: World,
    monkeypatch: pytest.MonkeyPatch,
    people: Any,  # noqa: F811  - the fixture imported above
) -> None:
    monkeypatch.setattr(paging, "PAGE", PAGE)
    tenant = await register_tenant(world.platform)
    await known_to_volunteers(world.platform, [tenant.library_a, tenant.library_b], [], [])
    tag = uuid.uuid4().hex[:6]
    async with world.platform.client(tenant.staff_a) as api:

        async def apply(n: int) -> str:
            made = await api.post("/api/v1/applications", json={"person": {"name": f"Vrijwilliger {tag} {n}"}})
            assert made.status_code == 201, made.text
            return str(made.json()["id"])

        made = set(await asyncio.gather(*(apply(n) for n in range(2 * PAGE + 1))))
    await console.sign_in(tenant.staff_a)
    page = await console.get("/console/volunteers")
    person = re.compile(r'<li [^>]*id="v-([0-9a-f-]{36})"')
    seen = person.findall(page.text)
    assert len(seen) == PAGE
    following = re.search(r'id="next-people" href="([^"]+)"', page.text)
    assert following is not None
    second_page = following.group(1).replace("&amp;", "&")
    pages = 1
    while following is not None:
        later = await console.get(following.group(1).replace("&amp;", "&"))
        assert later.status_code == 200 and 'rel="first"' in later.text
        seen += person.findall(later.text)
        following, pages = re.search(r'id="next-people" href="([^"]+)"', later.text), pages + 1
    assert pages == 3 and len(seen) == len(set(seen)) and set(seen) == made
    typo = await console.get("/console/volunteers?cursor=not-a-cursor")  # a cursor not of ours: the first page
    assert typo.status_code == 200 and len(person.findall(typo.text)) == PAGE, typo.text[-3000:]

    staff = await people(tenant.staff_a, bypass_csp=True)  # the second page
    await staff.goto(second_page)
    await staff.page.get_by_role("link", name=NL["inbox.first_page"]).wait_for()
    assert await staff.page.locator("li.person").count() == PAGE
    assert await staff.axe() == []


async def test_the_course_offer_pages_through_every_course(
    console: ConsoleClient,
    world: World,
    monkeypatch: pytest.MonkeyPatch,
    people: Any,  # noqa: F811  - the fixture imported above
) -> None:
    monkeypatch.setattr(paging, "PAGE", PAGE)
    tenant = await register_tenant(world.platform)
    await courses_know(world.platform, tenant)
    async with world.platform.client(tenant.staff_a) as api:

        async def offer_course(n: int) -> str:
            made = await api.post("/api/v1/courses", json=course_body(details={"title": f"Cursus {n:04d}"}))
            assert made.status_code == 201, made.text
            return str(made.json()["id"])

        made = set(await asyncio.gather(*(offer_course(n) for n in range(2 * PAGE + 1))))
    await console.sign_in(tenant.staff_a)
    course = re.compile(r'<a href="/console/courses/([0-9a-f-]{36})">Cursus')

    def offered(html: str) -> list[str]:
        return course.findall(section(html, "h-courses"))

    pages, visited = await walk(console, "/console/courses", "next-courses", offered)
    assert [len(page) for page in pages] == [2, 2, 1] and set(every_once(pages)) == made  # every course once
    middle = section((await console.get(visited[1])).text, "h-courses")  # its two links apart, as words
    both = f"{NL['inbox.first_page']} · {NL['paging.more']} {NL['inbox.next_page']}"
    assert pager_words(middle) == both
    typo = await console.get("/console/courses?courses_cursor=not-a-cursor")  # not ours: the first page
    assert typo.status_code == 200 and offered(typo.text) == pages[0]

    staff = await people(tenant.staff_a, bypass_csp=True)
    await staff.goto(visited[1])
    await staff.page.get_by_role("link", name=NL["inbox.first_page"]).first.wait_for()
    pager = staff.page.get_by_role("navigation", name=NL["courses.pages"].format(list=NL["courses.offer"]))
    assert " ".join((await pager.inner_text()).split()) == both  # as the browser lays it out
    assert await staff.axe() == []
