"""The vacancies page through everything (issue 20): the vacancies list (with its status filter) and a vacancy's
applicants a page at a time (paging.PAGE, made small here) with the API's cursor, each row once; the new
application's form offers every published vacancy and every active partner, past the first page, and says so when
the options are cut short (paging.OPTIONS_BOUND)."""

from __future__ import annotations

import re
import uuid
from typing import Any

import pytest

from gateway.console import paging
from gateway.console.messages import NL
from tests.console.conftest import ConsoleClient, World
from tests.console.paging_support import every_once, section, walk
from tests.console.seed import ok
from tests.console.test_browser import people  # noqa: F401  - the browser sessions fixture
from tests.fixtures.tenants import register_tenant
from tests.services.volunteers.volunteer_tenant import known_to_volunteers

PAGE = 2
UUID = "[0-9a-f-]{36}"


async def test_vacancies_and_their_applicants_page_by_page_and_every_one_is_offered(
    console: ConsoleClient,
    world: World,
    monkeypatch: pytest.MonkeyPatch,
    people: Any,  # noqa: F811  - the fixture imported above
) -> None:
    monkeypatch.setattr(paging, "PAGE", PAGE)
    tenant = await register_tenant(world.platform)
    await known_to_volunteers(world.platform, [tenant.library_a, tenant.library_b], [], [])
    tag = uuid.uuid4().hex[:6]
    async with world.platform.client(tenant.staff_a) as staff:
        vacancies = [
            (await ok(await staff.post("/api/v1/vacancies", json={"title": f"Vacature {tag} {n}"})))["id"]
            for n in range(5)
        ]
        published = vacancies[:3]
        for vacancy in published:
            await ok(await staff.post(f"/api/v1/vacancies/{vacancy}/publish"))
        applicants = {
            (
                await ok(
                    await staff.post(
                        "/api/v1/applications",
                        json={"person": {"name": f"Aanmelder {tag} {n}"}, "vacancy_id": published[0]},
                    )
                )
            )["id"]
            for n in range(5)
        }
    await console.sign_in(tenant.staff_a)

    def listed(page: str) -> list[str]:
        return re.findall(rf'<a href="/console/vacancies/({UUID})">', page)

    pages, visited = await walk(console, "/console/vacancies", "next-vacancies", listed)
    assert [len(page) for page in pages] == [2, 2, 1] and set(every_once(pages)) == set(vacancies)
    pages, visited = await walk(console, "/console/vacancies?status=published", "next-vacancies", listed)
    assert set(every_once(pages)) == set(published) and all("status=published" in at for at in visited)
    typo = await console.get("/console/vacancies?cursor=not-a-cursor")  # not ours: the first page
    assert typo.status_code == 200 and len(listed(typo.text)) == PAGE

    def applied(page: str) -> list[str]:
        return re.findall(rf'<a href="/console/volunteers/({UUID})">', section(page, "h-vacancy-applicants"))

    vacancy_page = f"/console/vacancies/{published[0]}"
    pages, visited = await walk(console, vacancy_page, "next-applicants", applied)
    assert len(pages) == 3 and set(every_once(pages)) == applicants
    assert visited[1].startswith(f"{vacancy_page}?cursor=")

    form = await console.get("/console/volunteers/new")  # every published vacancy, every active partner
    offered = set(re.findall(rf'<option value="({UUID})"', form.text))
    assert offered >= set(published) and not offered & set(vacancies[3:])
    assert 'id="cut-vacancy_id"' not in form.text
    monkeypatch.setattr(paging, "PAGE", 1)  # the municipality's two partners: the second past the first page
    form = await console.get("/console/volunteers/new")
    assert {tenant.partner_a, tenant.partner_b} <= set(re.findall(rf'<option value="({UUID})"', form.text))
    monkeypatch.setattr(paging, "OPTIONS_BOUND", PAGE)  # more than the bound: the form says the list is cut short
    cut = await console.get("/console/volunteers/new")
    note = re.search(r'<p class="hint" id="cut-vacancy_id">([^<]+)</p>', cut.text)
    assert note is not None and note.group(1) == NL["paging.options_cut"].format(count=PAGE)
    assert len(set(re.findall(rf'<option value="({UUID})"', cut.text)) & set(published)) == PAGE

    staff_browser = await people(tenant.staff_a, bypass_csp=True)
    await staff_browser.goto(visited[1])
    await staff_browser.page.get_by_role("link", name=NL["inbox.first_page"]).wait_for()
    assert await staff_browser.axe() == []
