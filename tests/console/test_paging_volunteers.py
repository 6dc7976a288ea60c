"""The volunteers' lists page through everything (issue 20), a page at a time (paging.PAGE, made small here) with
the API's cursor and each row once: the pipeline (its name search kept), who holds which qualification, the
qualifications page's held qualifications, the training modules and sessions and a module's sessions; the vacancies'
titles come from all their pages; the attendance form offers everyone in training or service, past the first page."""

from __future__ import annotations

import re
import uuid
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
from tests.fixtures.tenants import register_tenant
from tests.services.volunteers.volunteer_tenant import known_to_volunteers

PAGE = 2
UUID = "[0-9a-f-]{36}"


async def test_the_volunteers_training_and_qualifications_lists_page_by_page(
    console: ConsoleClient,
    world: World,
    monkeypatch: pytest.MonkeyPatch,
    people: Any,  # noqa: F811  - the fixture imported above
) -> None:
    tenant = await register_tenant(world.platform)
    await known_to_volunteers(world.platform, [tenant.library_a, tenant.library_b], [], [])
    tag = uuid.uuid4().hex[:6]
    codes = [f"code-{tag}-{n}" for n in range(3)]
    started = datetime.now(LOCAL_TIME) - timedelta(hours=3)
    async with world.platform.client(tenant.staff_a) as staff:
        vacancies = []
        for n in range(3):
            vacancy = await ok(await staff.post("/api/v1/vacancies", json={"title": f"Vacature {tag} {n}"}))
            await ok(await staff.post(f"/api/v1/vacancies/{vacancy['id']}/publish"))
            vacancies.append(vacancy["id"])
        persons = []
        for n in range(3):
            body = {"person": {"name": f"Vrijwilliger {tag} {n}"}, "vacancy_id": vacancies[n]}
            person = await ok(await staff.post("/api/v1/applications", json=body))
            await ok(await staff.post(f"/api/v1/volunteers/{person['id']}/start_intake"))
            persons.append(person["id"])
        modules, sessions = [], []
        for n, code in enumerate(codes):
            body = {"title": f"Module {tag} {n}", "delivered_by": "library", "qualification": code}
            module = await ok(await staff.post("/api/v1/trainings/modules", json=body))
            modules.append(module["id"])
            for k in range(3 if n == 0 else 1):
                when = {"starts_at": (started + timedelta(minutes=10 * k + n)).isoformat(), "place": f"Zaal {k}"}
                made = await ok(await staff.post(f"/api/v1/trainings/modules/{module['id']}/sessions", json=when))
                sessions.append((module["id"], made["id"]))
            attendance = {"volunteer_id": persons[n], "attended": True, "completed": True}
            attended = next(s for m, s in sessions if m == module["id"])
            await ok(await staff.post(f"/api/v1/trainings/sessions/{attended}/attendance", json=attendance))
    monkeypatch.setattr(paging, "PAGE", PAGE)
    await console.sign_in(tenant.staff_a)

    # The pipeline, its name search kept on every page; the vacancies' titles past their first page.
    def in_pipeline(page: str) -> list[str]:
        return re.findall(rf'<li class="card person" id="v-({UUID})"', page)

    pages, visited = await walk(console, "/console/volunteers", "next-people", in_pipeline)
    assert [len(page) for page in pages] == [2, 1] and set(every_once(pages)) == set(persons)
    found, visited = await walk(console, f"/console/volunteers?name={tag}", "next-people", in_pipeline)
    assert set(every_once(found)) == set(persons) and all(f"name={tag}" in at for at in visited)
    first = await console.get("/console/volunteers")
    vacancy_rows = re.findall(rf'<a href="/console/vacancies/({UUID})">', section(first.text, "h-vacancies"))
    assert len(vacancy_rows) == PAGE and 'id="all-vacancies" href="/console/vacancies"' in first.text

    def vacancy_of_each(page: str) -> list[str]:
        return re.findall(rf"(Vacature {tag} \d) · ", page)  # on the cards in the pipeline

    titles, _ = await walk(console, "/console/volunteers", "next-people", vacancy_of_each)
    assert sorted(every_once(titles)) == [f"Vacature {tag} {n}" for n in range(3)]  # the third past their first page

    def qualified(page: str) -> list[str]:
        return re.findall(r'<th scope="row">(code-[^<]+)</th>', section(page, "h-qualified"))

    pages, _ = await walk(console, "/console/volunteers", "next-qualified", qualified)
    assert len(pages) == 2 and sorted(every_once(pages)) == codes

    def held(page: str) -> list[str]:
        return re.findall(r'<th scope="row">(code-[^<]+)</th>', section(page, "h-held-all"))

    pages, visited = await walk(console, "/console/qualifications", "next-held", held)
    assert len(pages) == 2 and sorted(every_once(pages)) == codes
    assert visited[1].startswith("/console/qualifications?cursor=")

    # Training: the modules, the sessions (with their module's title, past the modules' page), a module's sessions.
    def module_rows(page: str) -> list[str]:
        return re.findall(rf'<a href="/console/training/modules/({UUID})">', section(page, "h-modules"))

    pages, _ = await walk(console, "/console/training", "next-modules", module_rows)
    assert len(pages) == 2 and set(every_once(pages)) == set(modules)
    session_row = re.compile(rf'<a href="/console/training/sessions/({UUID})">.*?</a></th><td>([^<]*)</td>')

    def session_rows(page: str) -> list[str]:
        rows = session_row.findall(section(page, "h-sessions"))
        titles = {session: module for module, session in sessions}
        assert all(title == f"Module {tag} {modules.index(titles[s])}" for s, title in rows), rows
        return [s for s, _ in rows]

    pages, _ = await walk(console, "/console/training", "next-sessions", session_rows)
    assert len(pages) == 3 and set(every_once(pages)) == {s for _, s in sessions}

    def of_module(page: str) -> list[str]:
        return re.findall(rf'<a href="/console/training/sessions/({UUID})">', section(page, "h-module-sessions"))

    pages, visited = await walk(console, f"/console/training/modules/{modules[0]}", "next-sessions", of_module)
    assert [len(page) for page in pages] == [2, 1]
    assert set(every_once(pages)) == {s for m, s in sessions if m == modules[0]}

    monkeypatch.setattr(paging, "PAGE", 1)  # everyone in training is offered for attendance, page after page
    form = await console.get(f"/console/training/sessions/{sessions[0][1]}")
    select = re.search(r'<select id="f-volunteer_id".*?</select>', form.text, re.S)
    assert select is not None and set(persons) <= set(re.findall(rf'<option value="({UUID})"', select.group(0)))
    assert 'id="cut-volunteer_id"' not in form.text

    staff_browser = await people(tenant.staff_a, bypass_csp=True)
    await staff_browser.goto(visited[1])
    await staff_browser.page.get_by_role("link", name=NL["inbox.first_page"]).wait_for()
    assert await staff_browser.axe() == []
