"""The course offer's other lists page through everything (issue 20), with a page size the test sets small so that a
few rows make several pages: the sessions; the tailored-education requests (staff and the referrer alike) with every
course of the library to plan on each request's form; the budgets and the purchase requests; a library's budget
holders and who changed them. Each links to its next page with the API's cursor and shows every row once; a later
page passes axe in Chromium. (The courses: tests/console/test_list_paging.py.)"""

from __future__ import annotations

import asyncio
import re
import uuid
from typing import Any

import pytest

from gateway.console import paging
from gateway.console.messages import NL
from shared.tenancy import Role
from tests.console.conftest import ConsoleClient, World
from tests.console.paging_support import every_once, walk
from tests.console.seed import YEAR, subject_of
from tests.console.test_assignment_paging import rows
from tests.console.test_browser import people  # noqa: F401  - the browser sessions fixture
from tests.console.test_reservation_pages import ask, referrer_of
from tests.fixtures.tenants import register_tenant
from tests.services.courses.support import course_body, courses_know, published_course_with_session


async def library_of_its_own(world: World) -> World:
    tenant = await register_tenant(world.platform)
    await courses_know(world.platform, tenant)
    coordinator = world.platform.token(Role.COORDINATOR, municipality=tenant.municipality)
    return World(world.platform, tenant, coordinator)


async def test_staff_and_the_referrer_reach_every_education_request_with_every_course_to_plan(
    monkeypatch: pytest.MonkeyPatch,
    console: ConsoleClient,
    world: World,
    people: Any,  # noqa: F811  - the fixture imported above
) -> None:
    monkeypatch.setattr(paging, "PAGE", 2)
    mine = await library_of_its_own(world)
    platform, tenant, tag = mine.platform, mine.tenant, uuid.uuid4().hex[:6]
    token = await referrer_of(mine, tag)
    async with platform.client(tenant.staff_a) as staff:

        async def offer(n: int) -> str:
            made = await staff.post("/api/v1/courses", json=course_body(details={"title": f"Cursus {tag} {n}"}))
            assert made.status_code == 201, made.text
            return str(made.json()["id"])

        asked = {str(r["id"]) for r in await asyncio.gather(*(ask(mine, token, f"Groep {tag} {n}") for n in range(5)))}
        courses = await asyncio.gather(*(offer(n) for n in range(3)))

    card = rows(r'<li class="card" id="r-([0-9a-f-]{36})">')
    for who in (tenant.staff_a, token):
        await console.sign_in(who)
        pages, visited = await walk(console, "/console/education-requests", "next-requests", card)
        assert len(pages) == 3 and set(every_once(pages)) == asked
    await console.sign_in(tenant.staff_a)
    for address in visited:  # each request's form offers every course of the library, not the first page's
        page = (await console.get(address)).text
        for request in card(page):
            plan = re.search(rf'<select id="f-course-{request}".*?</select>', page, re.S)
            assert plan is not None and sorted(re.findall(r'<option value="([^"]+)"', plan.group(0))) == sorted(courses)

    staff = await people(tenant.staff_a, bypass_csp=True)
    await staff.goto(visited[1])
    await staff.page.get_by_role("link", name=NL["inbox.first_page"]).wait_for()
    assert await staff.page.locator("#education-requests > li").count() == 2
    assert await staff.axe() == []


async def test_the_budgets_purchases_and_budget_holders_page_through_everything(
    monkeypatch: pytest.MonkeyPatch,
    console: ConsoleClient,
    world: World,
    people: Any,  # noqa: F811  - the fixture imported above
) -> None:
    mine = await library_of_its_own(world)
    platform, tenant, tag = mine.platform, mine.tenant, uuid.uuid4().hex[:6]
    holders = [f"test-staff-{tag}-{n}" for n in range(3)]
    async with (
        platform.client(mine.coordinator) as coordinator,
        platform.client(tenant.staff_a) as staff_a,
        platform.client(tenant.staff_b) as staff_b,
    ):
        for library, token, api in (
            (tenant.library_a, tenant.staff_a, staff_a),
            (tenant.library_b, tenant.staff_b, staff_b),
        ):
            appointed = await coordinator.post(f"/api/v1/budget-holders/{library}", json={"subject": subject_of(token)})
            assert appointed.status_code < 300, appointed.text
            budget = await api.put(f"/api/v1/budgets/{library}/{YEAR}", json={"amount_cents": 500_000})
            assert budget.status_code < 300, budget.text
        for subject in holders:
            appointed = await coordinator.post(f"/api/v1/budget-holders/{tenant.library_a}", json={"subject": subject})
            assert appointed.status_code < 300, appointed.text
        removed = await coordinator.delete(f"/api/v1/budget-holders/{tenant.library_a}/{holders[0]}")
        assert removed.status_code < 300, removed.text
        purchases = []
        for n in range(3):
            body = {
                "title": f"Inkoop {tag} {n}",
                "purpose": "Tablets",
                "audience": ["seniors"],
                "estimated_cost_cents": 100,
            }
            made = await staff_a.post("/api/v1/purchases", json=body | {"budget_year": YEAR})
            assert made.status_code == 201, made.text
            purchases.append(str(made.json()["id"]))

    monkeypatch.setattr(paging, "PAGE", 1)
    await console.sign_in(mine.coordinator)  # the coordinator reads every library's budget
    here = "/console/purchases"
    budget_row = rows(r'<tr><th scope="row">([^<]+)</th>', "h-budget")  # in the table, not the chart's own
    budgets, _ = await walk(
        console, here, "next-budgets", lambda html: budget_row(html.split("<figure")[0] + "</section>")
    )
    assert len(budgets) == 2 and len(every_once(budgets)) == 2
    bought, visited = await walk(
        console, here, "next-purchases", rows(r'href="/console/purchases/([0-9a-f-]{36})"', "h-purchases")
    )
    assert len(bought) == 3 and sorted(every_once(bought)) == sorted(purchases)

    monkeypatch.setattr(paging, "PAGE", 2)
    budget_page = f"/console/budget?library={tenant.library_a}"  # the coordinator's choice of library stays
    holder = rows(r"<li>([^ <]+)", "h-holders")
    kept, _ = await walk(console, budget_page, "next-holders", holder)
    assert len(kept) == 2 and sorted(every_once(kept)) == sorted([subject_of(tenant.staff_a), *holders[1:]])
    change = rows(r"<li><time[^>]*>[^<]*</time> — [^:]+: ([^ <]+)", "h-holders")
    changes, later = await walk(console, budget_page, "next-changes", change)
    # Each change once: the subjects over the pages are those of the five changes (one appointed and removed).
    assert len(changes) == 3 and sorted(s for shown in changes for s in shown) == sorted(
        [subject_of(tenant.staff_a), *holders, holders[0]]
    )
    assert all(f"library={tenant.library_a}" in address for address in later[1:])

    coordinator_page = await people(mine.coordinator, bypass_csp=True)
    await coordinator_page.goto(visited[1])
    await coordinator_page.page.get_by_role("link", name=NL["inbox.first_page"]).first.wait_for()
    assert await coordinator_page.axe() == []
    await coordinator_page.goto(later[1])
    await coordinator_page.page.get_by_role("link", name=NL["inbox.first_page"]).first.wait_for()
    assert await coordinator_page.axe() == []


async def test_the_course_offer_pages_through_every_session(
    monkeypatch: pytest.MonkeyPatch,
    console: ConsoleClient,
    world: World,
) -> None:
    """The courses are paged in test_list_paging.py; the sessions with free places the same way."""
    monkeypatch.setattr(paging, "PAGE", 2)
    mine, tag = await library_of_its_own(world), uuid.uuid4().hex[:6]
    given = await asyncio.gather(
        *(
            published_course_with_session(
                mine.platform, mine.tenant.staff_a, capacity=8, details={"title": f"Les {tag} {n}"}
            )
            for n in range(3)
        )
    )
    await console.sign_in(mine.tenant.staff_a)
    session = rows(rf'<a href="/console/sessions/([0-9a-f-]{{36}})">Les {tag}', "h-sessions")
    sessions, _ = await walk(console, "/console/courses", "next-sessions", session)
    assert len(sessions) == 2 and set(every_once(sessions)) == {str(group["id"]) for _, group in given}
    typo = await console.get("/console/courses?sessions_cursor=not-a-cursor")  # not ours: the first page
    assert typo.status_code == 200 and session(typo.text) == sessions[0]
