"""The console's lists page through everything (issue 20): more referrals than a page holds are reached page by page
from the inbox, with the API's own cursor (`GET /api/v1/referrals?cursor=`), each exactly once; the live refresh keeps
the page shown; the later page passes axe in Chromium. Likewise the volunteers' pipeline (`GET /api/v1/volunteers`)."""

from __future__ import annotations

import asyncio
import re
import uuid
from pathlib import Path
from typing import Any

from gateway.console.messages import NL
from gateway.console.offer import OFFER_PAGE
from gateway.console.referrals import LIST_LIMIT
from gateway.console.volunteers import PEOPLE_PAGE
from tests.conftest import Tenant, register_tenant
from tests.console.conftest import ConsoleClient, World
from tests.console.seed import referral
from tests.console.test_browser import people  # noqa: F401  - the browser sessions fixture
from tests.services.courses.support import course_body, courses_know
from tests.services.volunteers.volunteer_tenant import known_to_volunteers

ROW = re.compile(r'id="row-([0-9a-f-]{36})"')
NEXT = re.compile(r'href="(/console/inbox\?list_section=incoming&amp;cursor=[^"]+)" rel="next"')


async def crowded_library(world: World, extra: int = 7) -> tuple[Tenant, set[str]]:
    """A library of its own with a page and a bit more of incoming referrals."""
    tenant = await register_tenant(world.platform)
    async with world.platform.client(tenant.partner_a_token) as partner:

        async def submit(n: int) -> str:
            made = await partner.post(
                "/api/v1/referrals", json=referral(tenant.library_a, tenant.partner_a, f"Deelnemer {n}")
            )
            assert made.status_code == 201, made.text
            return str(made.json()["id"])

        made: list[str] = []
        for start in range(0, LIST_LIMIT + extra, 10):
            made += await asyncio.gather(*(submit(n) for n in range(start, min(start + 10, LIST_LIMIT + extra))))
    return tenant, set(made)


def incoming(html: str) -> str:
    found = re.search(r'<section aria-labelledby="h-incoming".*?</section>', html, re.S)
    assert found is not None
    return found.group(0)


async def test_staff_reach_every_referral_of_the_inbox_page_by_page(
    console: ConsoleClient,
    world: World,
    people: Any,  # noqa: F811  - the fixture imported above
    artifacts: Path,
) -> None:
    tenant, made = await crowded_library(world)
    await console.sign_in(tenant.staff_a)
    page = await console.get("/console/inbox")
    first = ROW.findall(incoming(page.text))
    assert len(first) == LIST_LIMIT
    seen, path, pages = list(first), NEXT.search(incoming(page.text)), 1
    while path is not None:
        later = await console.get(path.group(1).replace("&amp;", "&"))
        assert later.status_code == 200, later.text
        section = incoming(later.text)
        assert 'rel="first"' in section
        cursor = path.group(1).split("cursor=")[1]
        assert f'hx-get="/console/inbox/rows?list_section=incoming&amp;cursor={cursor}"' in later.text
        rows = await console.get(path.group(1).replace("&amp;", "&").replace("/inbox?", "/inbox/rows?"))
        assert ROW.findall(incoming(rows.text)) == ROW.findall(section)  # the live refresh keeps this page
        seen += ROW.findall(section)
        path, pages = NEXT.search(section), pages + 1
    assert pages >= 2 and len(seen) == len(set(seen)) and set(seen) == made  # every one, once

    async with world.platform.client(tenant.staff_a) as api:  # the API pages the same list the same way
        listed: list[str] = []
        cursor_at: str | None = None
        while True:
            params: dict[str, Any] = {"limit": LIST_LIMIT, "direction": "incoming"} | (
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
    assert await staff.page.locator("section[aria-labelledby=h-incoming] tbody tr").count() == len(made) - LIST_LIMIT
    await staff.page.screenshot(path=str(artifacts / "staff-inbox-page-2.png"), full_page=True)
    assert await staff.axe() == []


async def test_staff_reach_every_volunteer_page_by_page(
    console: ConsoleClient,
    world: World,
    people: Any,  # noqa: F811  - the fixture imported above
) -> None:
    tenant = await register_tenant(world.platform)
    await known_to_volunteers(world.platform, [tenant.library_a, tenant.library_b], [], [])
    tag = uuid.uuid4().hex[:6]
    async with world.platform.client(tenant.staff_a) as api:

        async def apply(n: int) -> str:
            made = await api.post("/api/v1/applications", json={"person": {"name": f"Vrijwilliger {tag} {n}"}})
            assert made.status_code == 201, made.text
            return str(made.json()["id"])

        made: set[str] = set()
        for start in range(0, PEOPLE_PAGE + 5, 10):
            made |= set(await asyncio.gather(*(apply(n) for n in range(start, min(start + 10, PEOPLE_PAGE + 5)))))
    await console.sign_in(tenant.staff_a)
    page = await console.get("/console/volunteers")
    person = re.compile(r'<li [^>]*id="v-([0-9a-f-]{36})"')
    seen = person.findall(page.text)
    assert len(seen) == PEOPLE_PAGE
    following = re.search(r'id="next-people" href="([^"]+)"', page.text)
    assert following is not None
    second_page = following.group(1).replace("&amp;", "&")
    pages = 1
    while following is not None:
        later = await console.get(following.group(1).replace("&amp;", "&"))
        assert later.status_code == 200 and 'rel="first"' in later.text
        seen += person.findall(later.text)
        following, pages = re.search(r'id="next-people" href="([^"]+)"', later.text), pages + 1
    assert pages == 2 and len(seen) == len(set(seen)) and set(seen) == made
    typo = await console.get("/console/volunteers?cursor=not-a-cursor")  # a cursor not of ours: the first page
    assert typo.status_code == 200 and len(person.findall(typo.text)) == PEOPLE_PAGE, typo.text[-3000:]

    staff = await people(tenant.staff_a, bypass_csp=True)  # the second page (the first, 200 cards, loads slowly)
    await staff.goto(second_page)
    await staff.page.get_by_role("link", name=NL["inbox.first_page"]).wait_for()
    assert await staff.page.locator("li.person").count() == len(made) - PEOPLE_PAGE
    assert await staff.axe() == []


async def test_the_course_offer_pages_through_every_course(
    console: ConsoleClient,
    world: World,
    people: Any,  # noqa: F811  - the fixture imported above
) -> None:
    tenant = await register_tenant(world.platform)
    await courses_know(world.platform, tenant)
    async with world.platform.client(tenant.staff_a) as api:

        async def offer(n: int) -> str:
            made = await api.post("/api/v1/courses", json=course_body(details={"title": f"Cursus {n:04d}"}))
            assert made.status_code == 201, made.text
            return str(made.json()["id"])

        made: set[str] = set()
        for start in range(0, OFFER_PAGE + 5, 10):
            made |= set(await asyncio.gather(*(offer(n) for n in range(start, min(start + 10, OFFER_PAGE + 5)))))
    await console.sign_in(tenant.staff_a)
    course = re.compile(r'<a href="/console/courses/([0-9a-f-]{36})">Cursus')
    page = await console.get("/console/courses")
    seen = course.findall(page.text)
    assert len(seen) == OFFER_PAGE
    following = re.search(r'id="next-courses" href="([^"]+)"', page.text)
    assert following is not None
    second_page = following.group(1).replace("&amp;", "&")
    later = await console.get(second_page)
    assert later.status_code == 200 and 'rel="first"' in later.text
    seen += course.findall(later.text)
    assert 'id="next-courses"' not in later.text
    assert len(seen) == len(set(seen)) and set(seen) == made  # every course once, over two pages
    typo = await console.get("/console/courses?courses_cursor=not-a-cursor")  # not ours: back to the first pages
    assert typo.status_code == 303 and typo.headers["location"] == "/console/courses"

    staff = await people(tenant.staff_a, bypass_csp=True)
    await staff.goto(second_page)
    await staff.page.get_by_role("link", name=NL["inbox.first_page"]).first.wait_for()
    assert await staff.axe() == []
