"""A course's groups and a group's enrolments reach past one page (issue 20): the course page shows its groups a page
at a time (paging.PAGE, made small here) and links to the next with the API's cursor, each group once; a group's page
shows every enrolment (its registers' totals and waiting list need them all) and offers every referral that takes an
enrolment now, each fetched page by page with the cursor. A later page of groups passes axe in Chromium."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from typing import Any

import pytest

from gateway.console import paging
from gateway.console.messages import NL
from shared.clock import LOCAL_TIME
from tests.console.conftest import ConsoleClient, World
from tests.console.paging_support import every_once, section, walk
from tests.console.seed import ok
from tests.console.test_browser import people  # noqa: F401  - the browser sessions fixture
from tests.console.test_session_pages import accepted_referral, running_group

PAGE = 2
SESSION = re.compile(r'href="/console/sessions/([0-9a-f-]{36})"')


async def test_a_course_pages_through_its_groups_and_a_group_shows_every_enrolment(
    console: ConsoleClient,
    world: World,
    monkeypatch: pytest.MonkeyPatch,
    people: Any,  # noqa: F811  - the fixture imported above
) -> None:
    monkeypatch.setattr(paging, "PAGE", PAGE)
    course_id, session_id = await running_group(world, capacity=3)
    later = datetime.now(LOCAL_TIME) + timedelta(days=30)
    groups = {session_id}
    referred = [await accepted_referral(world) for _ in range(3)]
    async with world.platform.client(world.tenant.staff_a) as api:
        for n in range(4):
            starts = later + timedelta(days=n)
            meeting = {"starts_at": starts.isoformat(), "ends_at": (starts + timedelta(hours=2)).isoformat()}
            made = await ok(
                await api.post(f"/api/v1/courses/{course_id}/sessions", json={"meetings": [meeting], "capacity": 10})
            )
            groups.add(made["id"])
        for _ in range(5):  # three places, two on the waiting list
            await ok(await api.post(f"/api/v1/sessions/{session_id}/enrolments", json={}))
    await console.sign_in(world.tenant.staff_a)

    def shown(page: str) -> list[str]:
        return SESSION.findall(section(page, "h-course-sessions"))

    pages, visited = await walk(console, f"/console/courses/{course_id}", "next-sessions", shown)
    assert [len(page) for page in pages] == [2, 2, 1] and set(every_once(pages)) == groups
    assert all(address.startswith(f"/console/courses/{course_id}?cursor=") for address in visited[1:])
    typo = await console.get(f"/console/courses/{course_id}?cursor=not-a-cursor")  # not ours: the first page
    assert typo.status_code == 200 and shown(typo.text) == pages[0]

    group = await console.get(f"/console/sessions/{session_id}")
    assert group.status_code == 200
    statuses = re.findall(r'id="enrolment-[0-9a-f-]{36}" data-status="(\w+)"', group.text)
    assert sorted(statuses) == ["confirmed"] * 3 + ["waitlisted"] * 2  # every enrolment, over three API pages
    assert 'id="enrolments-cut"' not in group.text
    options = re.search(r'<select id="f-enrol-referral_id".*?</select>', group.text, re.S)
    assert options is not None and all(f'value="{r["id"]}"' in options.group(0) for r in referred)

    staff = await people(world.tenant.staff_a, bypass_csp=True)
    await staff.goto(visited[1])
    await staff.page.get_by_role("link", name=NL["inbox.first_page"]).first.wait_for()
    assert await staff.page.get_by_role("navigation", name=NL["course_page.session_pages"]).count() == 1
    assert await staff.axe() == []
