"""The assignments' lists page through everything (issue 20), with a page size the test sets small (2) so that a few
rows make several pages: the open assignments, the assignments and this month's hours per person each link to their
next page with the API's cursor and show every row once; an assignment's hours likewise; the forms offer every
course that needs guides and every referral that can have a buddy (fetched page by page, not the first page only);
a cursor not of ours shows the first page; a form cut short by paging.OPTIONS_BOUND says so; a later page passes axe
in Chromium."""

from __future__ import annotations

import asyncio
import re
import uuid
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest

from gateway.console import paging, partner_people
from gateway.console.messages import NL
from shared.tenancy import Role
from tests.console.conftest import ConsoleClient, World
from tests.console.paging_support import every_once, section, walk
from tests.console.test_assignments import WEEK, accepted_referral, opening, today
from tests.console.test_browser import people  # noqa: F401  - the browser sessions fixture
from tests.console.test_partner_people import active_intern, school_with_intern
from tests.console.test_training import active_volunteer
from tests.fixtures.tenants import register_tenant
from tests.services.volunteers.volunteer_tenant import known_to_volunteers

SMALL = 2


@pytest.fixture
def small_pages(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(paging, "PAGE", SMALL)


def rows(pattern: str, heading: str = "") -> Callable[[str], list[str]]:
    """What a page shows of one list: the matches of `pattern` in its section (or the whole page)."""
    found = re.compile(pattern)
    return lambda html: found.findall(section(html, heading) if heading else html)


async def library_of_its_own(world: World) -> World:
    tenant = await register_tenant(world.platform)
    await known_to_volunteers(world.platform, [tenant.library_a, tenant.library_b], [], [])
    coordinator = world.platform.token(Role.COORDINATOR, municipality=tenant.municipality)
    return World(world.platform, tenant, coordinator)


async def test_staff_reach_every_opening_assignment_hour_and_referral_page_by_page(
    small_pages: None,
    monkeypatch: pytest.MonkeyPatch,
    console: ConsoleClient,
    world: World,
    people: Any,  # noqa: F811  - the fixture imported above
) -> None:
    mine = await library_of_its_own(world)
    tag = uuid.uuid4().hex[:6]
    courses = await asyncio.gather(*(opening(mine, f"Cursus {tag} {n}") for n in range(5)))
    volunteers = await asyncio.gather(
        *(active_volunteer(mine, mine.tenant.staff_a, f"Gids {tag} {n}") for n in range(3))
    )
    referrals = [await accepted_referral(mine) for _ in range(3)]
    async with mine.platform.client(mine.tenant.staff_a) as api:
        made = []
        for volunteer, course in zip(volunteers, courses, strict=False):
            body = {"volunteer_id": volunteer, "kind": "course", "opening_id": course["id"], "starts_on": str(today())}
            response = await api.post("/api/v1/assignments", json=body)
            assert response.status_code == 201, response.text
            made.append(response.json()["id"])
        entries = []
        for n, assignment in enumerate(made + [made[0]] * 4):
            logged = await api.post(
                f"/api/v1/assignments/{assignment}/hours", json={"worked_on": str(today()), "minutes": 30 + n}
            )
            assert logged.status_code == 201, logged.text
            entries += [logged.json()["id"]] if assignment == made[0] else []

    await console.sign_in(mine.tenant.staff_a)
    here = "/console/assignments"
    title = rows(rf'<th scope="row">(Cursus {tag} \d)</th>', "h-openings")
    openings, _ = await walk(console, here, "next-openings", title)
    assert len(openings) == 3 and sorted(every_once(openings)) == sorted(c["title"] for c in courses)
    listed, _ = await walk(
        console, here, "next-assignments", rows(rf'href="{here}/([0-9a-f-]{{36}})"', "h-assignments")
    )
    assert len(listed) == 2 and sorted(every_once(listed)) == sorted(made)
    named, _ = await walk(console, here, "next-totals", rows(rf'<th scope="row">(Gids {tag} \d)</th>', "h-totals"))
    assert len(named) == 2 and sorted(every_once(named)) == [f"Gids {tag} {n}" for n in range(3)]
    entry = rows(r'<li id="entry-([0-9a-f-]{36})"')
    hours, visited = await walk(console, f"{here}/{made[0]}", "next-entries", entry)
    assert len(hours) == 3 and sorted(every_once(hours)) == sorted(entries)

    form = section((await console.get(here)).text, "h-assign")
    for course in courses:  # the form offers every course that needs guides, not the first page's
        assert f'<option value="{course["id"]}"' in form
    for taken_on in referrals:  # and every referral that can have a buddy
        assert f'<option value="{taken_on["id"]}"' in form
    for volunteer in volunteers:  # and everyone active to assign
        assert f'<option value="{volunteer}"' in form
    assert not re.search(r'id="cut-', form)
    monkeypatch.setattr(paging, "OPTIONS_BOUND", 4)  # more courses than the form may offer: it says so
    cut = section((await console.get(here)).text, "h-assign")
    assert sum(f'<option value="{c["id"]}"' in cut for c in courses) == 4 and 'id="cut-opening_id"' in cut
    assert 'id="cut-referral_id"' not in cut and 'id="cut-volunteer_id"' not in cut
    monkeypatch.setattr(paging, "OPTIONS_BOUND", 2)  # fewer than the people and the referrals too
    cut = section((await console.get(here)).text, "h-assign")
    assert 'id="cut-volunteer_id"' in cut and 'id="cut-referral_id"' in cut
    monkeypatch.setattr(paging, "OPTIONS_BOUND", 2000)

    typo = await console.get(f"{here}?openings_cursor=not-a-cursor&totals_cursor={'A' * 30}")  # not ours: first
    assert typo.status_code == 200 and title(typo.text) == openings[0]
    again = await console.get(f"{here}/{made[0]}?cursor=not-a-cursor")
    assert again.status_code == 200 and entry(again.text) == hours[0]

    staff = await people(mine.tenant.staff_a, bypass_csp=True)
    await staff.goto("/console/assignments")
    await staff.page.locator("#next-openings").click()
    await staff.page.get_by_role("link", name=NL["inbox.first_page"]).first.wait_for()
    assert await staff.page.locator("#openings tbody tr").count() == SMALL
    assert await staff.axe() == []
    await staff.goto(visited[-1])  # the last page of the assignment's hours
    await staff.page.get_by_role("link", name=NL["inbox.first_page"]).wait_for()
    assert await staff.page.locator("#entries > li").count() == 1
    assert await staff.axe() == []


async def test_a_partner_reaches_every_person_it_supplied_with_all_their_assignments_and_hours(
    small_pages: None,
    monkeypatch: pytest.MonkeyPatch,
    console: ConsoleClient,
    world: World,
    people: Any,  # noqa: F811  - the fixture imported above
) -> None:
    mine = await library_of_its_own(world)
    platform, tenant, tag = mine.platform, mine.tenant, uuid.uuid4().hex[:6]
    school, token, first = await school_with_intern(mine, tag)
    started = today() - timedelta(days=40)
    interns = [first] + [await active_intern(mine, school, token, f"Stagiair {tag} {n}", started) for n in range(1, 5)]
    async with platform.client(tenant.staff_a) as staff:
        courses = await asyncio.gather(*(opening(mine, f"Cursus {tag} {n}") for n in range(3)))
        # Intern 1 guides two courses and worked in two months; intern 2 one course this month; intern 3 is assigned
        # but logged nothing; the others are not assigned.
        plan = ((1, 0, ((35, 45), (0, 30))), (1, 1, ((0, 20),)), (2, 0, ((0, 60),)), (3, 2, ()))
        period = {"starts_on": str(today() - timedelta(days=38)), "ends_on": str(today() + WEEK)}
        for who, course, hours in plan:
            body = {"volunteer_id": interns[who], "kind": "course", "opening_id": courses[course]["id"]}
            assigned = await staff.post("/api/v1/assignments", json=body | period)
            assert assigned.status_code == 201, assigned.text
            for days_ago, minutes in hours:
                worked = {"worked_on": str(today() - timedelta(days=days_ago)), "minutes": minutes}
                logged = await staff.post(f"/api/v1/assignments/{assigned.json()['id']}/hours", json=worked)
                assert logged.status_code == 201, logged.text

    await console.sign_in(token)
    card = re.compile(
        r'<li class="card person" id="v-([0-9a-f-]{36})">.*?'
        rf"{re.escape(NL['our_people.assignments'])}</dt><dd>(\d+)</dd>.*?"
        rf"{re.escape(NL['our_people.hours'])}</dt><dd>([\d.]+)</dd>",
        re.S,
    )

    def cards(html: str) -> list[str]:  # each person shown: "id assignments hours"
        return [" ".join(found) for found in card.findall(html)]

    pages, visited = await walk(console, "/console/our-people", "next-people", cards)
    assert len(pages) == 3 and len(every_once(pages)) == len(interns)
    shown = {person: (count, hours) for person, count, hours in (row.split() for row in every_once(pages))}
    expected = {interns[1]: ("2", "1.6"), interns[2]: ("1", "1.0"), interns[3]: ("1", "0.0")}
    assert shown == {intern: expected.get(intern, ("0", "0")) for intern in interns}  # 95 minutes over two months
    assert 'id="counted-part"' not in (await console.get(visited[1])).text
    monkeypatch.setattr(partner_people, "COUNTED_BOUND", 2)  # more assignments than it may read: the page says so
    assert 'id="counted-part"' in (await console.get("/console/our-people")).text

    school_page = await people(token, bypass_csp=True)
    await school_page.goto(visited[1])
    await school_page.page.get_by_role("link", name=NL["inbox.first_page"]).wait_for()
    assert await school_page.page.locator("li.person").count() == SMALL
    assert await school_page.axe() == []
