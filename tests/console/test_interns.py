"""Interns in the console (issue 20): the library's staff register an intern a partner school supplies and see the
interns with their school, period, supervisor, hours and goals; a school without the partnership, a period that
ends before it starts and a missing supervisor are refused on the form and store nothing. Another library's staff,
the coordinator (who reads without names) and a partner change nothing."""

from __future__ import annotations

import re
import uuid
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from gateway.console import paging
from gateway.console.messages import EN, NL
from shared.clock import local_today
from tests.console.conftest import ConsoleClient, World
from tests.console.paging_support import every_once, section, walk
from tests.console.seed import ok
from tests.console.test_browser import people  # noqa: F401  - the browser sessions fixture
from tests.fixtures.tenants import register_tenant
from tests.services.volunteers.volunteer_tenant import activate_partnership, known_to_volunteers, register_partner

PAGE = 2  # paging.PAGE in the paging test


async def schools(world: World) -> tuple[str, str]:
    """A school partnering with library A as intern supplier, and one partnering with no library."""
    tag = uuid.uuid4().hex[:6]
    platform, tenant = world.platform, world.tenant
    roc = await register_partner(platform, tenant, f"ROC Zuid {tag}", "adult_education_school")
    other = await register_partner(platform, tenant, f"Hogeschool Noord {tag}", "educational_institution")
    partnership = await activate_partnership(platform, tenant, roc, tenant.library_a, "intern_supplier")
    await known_to_volunteers(platform, [tenant.library_a], [roc, other], [partnership])
    return roc, other


def intern_form(school: str, name: str, **overrides: str) -> dict[str, str]:
    form = {
        "school_partner_id": school,
        "person_name": name,
        "starts_on": str(local_today()),
        "ends_on": str(local_today() + timedelta(days=90)),
        "supervisor_name": "Mw. A. de Boer",
        "supervisor_email": "a.deboer@roc.example",
        "learning_goals": "Een groep begeleiden\nDigitale vaardigheden uitleggen",
        "hours": "240",
    }
    return form | overrides


async def interns_named(world: World, name: str, token: str | None = None) -> list[dict[str, Any]]:
    async with world.platform.client(token or world.tenant.staff_a) as api:
        found = await api.get("/api/v1/volunteers", params={"kind": "intern", "name": name})
    assert found.status_code == 200, found.text
    return list(found.json()["items"])


async def test_staff_register_an_intern_and_see_the_period(console: ConsoleClient, world: World) -> None:
    roc, other = await schools(world)
    name = f"Mila Peters{uuid.uuid4().hex[:6]}"
    await console.sign_in(world.tenant.staff_a)
    await console.get("/console/interns")
    backwards = await console.post(
        "/console/interns", intern_form(roc, name, ends_on=str(local_today() - timedelta(days=1)))
    )
    assert backwards.status_code == 422 and name in backwards.text
    no_supervisor = await console.post("/console/interns", intern_form(roc, name, supervisor_name=""))
    assert no_supervisor.status_code == 422 and 'aria-invalid="true"' in no_supervisor.text
    not_partnered = await console.post("/console/interns", intern_form(other, name))
    assert not_partnered.status_code == 422 and "partnership" in not_partnered.text
    assert await interns_named(world, name) == []  # nothing stored

    made = await console.post("/console/interns", intern_form(roc, name))
    assert made.status_code == 303, made.text
    [intern] = await interns_named(world, name)
    assert intern["status"] == "intake" and intern["internship"]["hours"] == 240
    assert intern["internship"]["learning_goals"] == ["Een groep begeleiden", "Digitale vaardigheden uitleggen"]
    page = await console.get(made.headers["location"].split("#")[0])
    assert NL["interns.registered"] in page.text and name in page.text and "Mw. A. de Boer" in page.text
    person = await console.get(f"/console/volunteers/{intern['id']}")
    assert "Digitale vaardigheden uitleggen" in person.text and NL["volunteer_step.start_screening"] in person.text
    await console.post("/console/language", {"lang": "en", "next": "/console/interns"})
    english = await console.get("/console/interns")
    assert EN["interns.title"] in english.text and EN["volunteer_status.intake"] in english.text


async def test_another_library_the_coordinator_and_a_partner_register_nothing(
    console: ConsoleClient, world: World
) -> None:
    roc, _ = await schools(world)
    name = f"Tess Wouters{uuid.uuid4().hex[:6]}"
    await console.sign_in(world.tenant.staff_a)
    await console.get("/console/interns")
    assert (await console.post("/console/interns", intern_form(roc, name))).status_code == 303

    await console.sign_in(world.tenant.staff_b)
    page = await console.get("/console/interns")
    assert page.status_code == 200 and name not in page.text
    theirs = await console.post("/console/interns", intern_form(roc, name + "B"))
    assert theirs.status_code == 422  # the school supplies library A, not B
    await console.sign_in(world.coordinator)
    read = await console.get("/console/interns")
    assert read.status_code == 200 and name not in read.text and 'id="register-intern"' not in read.text
    assert (await console.post("/console/interns", intern_form(roc, name + "C"))).status_code == 403
    await console.sign_in(world.tenant.partner_a_token)
    assert (await console.get("/console/interns")).status_code == 403
    assert (await console.post("/console/interns", intern_form(roc, name + "D"))).status_code == 403
    for suffix in ("B", "C", "D"):
        for token in (world.tenant.staff_a, world.tenant.staff_b):
            assert await interns_named(world, name + suffix, token) == []


async def test_in_chromium_an_intern_is_registered(
    people: Any,  # noqa: F811  - the fixture imported above
    world: World,
    artifacts: Path,
) -> None:
    roc, _ = await schools(world)
    name = f"Jesse Vos{uuid.uuid4().hex[:6]}"
    staff = await people(world.tenant.staff_a, bypass_csp=True)
    await staff.goto("/console/volunteers")
    await staff.page.get_by_role("link", name=NL["volunteer_tabs.interns"]).click()
    await staff.page.get_by_role("heading", name=NL["interns.title"], level=1).wait_for()
    assert await staff.axe() == []
    await staff.page.locator("#f-school_partner_id").select_option(roc)
    await staff.page.locator("#f-person_name").fill(name)
    await staff.page.locator("#f-starts_on").fill(str(local_today()))
    await staff.page.locator("#f-ends_on").fill(str(local_today() + timedelta(days=60)))
    await staff.page.locator("#f-s-supervisor_name").fill("Dhr. K. Jansen")
    await staff.page.locator("#register-intern button[type=submit]").focus()
    await staff.page.keyboard.press("Enter")
    await staff.page.get_by_text(NL["interns.registered"]).wait_for()
    assert await staff.page.locator("#interns").get_by_role("link", name=name).count() == 1
    await staff.page.screenshot(path=str(artifacts / "staff-interns.png"), full_page=True)
    assert await staff.axe() == []


async def test_the_interns_page_through_everyone_with_the_apis_cursor(
    console: ConsoleClient, world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(paging, "PAGE", PAGE)
    monkeypatch.setattr(paging, "OPTIONS_BOUND", 1)  # the school list says it is cut short, not silently
    tenant = await register_tenant(world.platform)
    tag = uuid.uuid4().hex[:6]
    roc = await register_partner(world.platform, tenant, f"ROC West {tag}", "adult_education_school")
    other = await register_partner(world.platform, tenant, f"ROC Oost {tag}", "adult_education_school")
    partnership = await activate_partnership(world.platform, tenant, roc, tenant.library_a, "intern_supplier")
    await known_to_volunteers(world.platform, [tenant.library_a], [roc, other], [partnership])
    names = {f"Stagiair {tag} {n}" for n in range(5)}
    async with world.platform.client(tenant.staff_a) as api:
        for name in sorted(names):
            body = {
                "school_partner_id": roc,
                "person": {"name": name},
                "starts_on": str(local_today()),
                "ends_on": str(local_today() + timedelta(days=90)),
                "supervisor": {"name": "Mw. A. de Boer"},
                "hours": 240,
            }
            await ok(await api.post("/api/v1/interns", json=body))
    await console.sign_in(tenant.staff_a)

    def shown(page: str) -> list[str]:
        return re.findall(rf">(Stagiair {tag} \d)</a></th>", section(page, "h-interns"))

    pages, visited = await walk(console, "/console/interns", "next-interns", shown)
    assert [len(page) for page in pages] == [2, 2, 1] and set(every_once(pages)) == names
    assert all(address.startswith("/console/interns?cursor=") for address in visited[1:])
    first = await console.get("/console/interns")
    assert 'id="cut-school_partner_id"' in first.text  # more active partners than the bound of 1
    typo = await console.get("/console/interns?cursor=not-a-cursor")  # not ours: the first page
    assert typo.status_code == 200 and shown(typo.text) == pages[0]
