"""A library's vacancies in the console (issue 20): its staff create one as a draft, change what it asks, publish
and close it; bad input and stale or illegal steps are refused on the form and change nothing. Another library's
staff, the coordinator (who reads) and a partner change nothing."""

from __future__ import annotations

import re
import uuid
from pathlib import Path
from typing import Any

from gateway.console.messages import EN, NL
from shared.tenancy import Role
from tests.console.conftest import ConsoleClient, World
from tests.console.seed import ok
from tests.console.test_browser import people  # noqa: F401  - the browser sessions fixture
from tests.services.volunteers.volunteer_tenant import activate_partnership, known_to_volunteers, register_partner


def version_of(html: str) -> str:
    found = re.search(r'name="expected_version" value="(\d+)"', html)
    assert found is not None
    return found.group(1)


async def vacancy_of(world: World, vacancy_id: str) -> dict[str, Any]:
    async with world.platform.client(world.tenant.staff_a) as api:
        found = await api.get(f"/api/v1/vacancies/{vacancy_id}")
    assert found.status_code == 200, found.text
    return dict(found.json())


async def drafted(console: ConsoleClient, world: World, title: str) -> str:
    await console.sign_in(world.tenant.staff_a)
    assert (await console.get("/console/vacancies/new")).status_code == 200
    made = await console.post(
        "/console/vacancies",
        {"title": title, "hours_per_week": "4", "qualifications_needed": "digital-guide", "description": "Help"},
    )
    assert made.status_code == 303, made.text
    return str(made.headers["location"].split("?")[0])


async def test_staff_draft_change_publish_and_close_a_vacancy(console: ConsoleClient, world: World) -> None:
    title = f"Digihulp {uuid.uuid4().hex[:6]}"
    await console.sign_in(world.tenant.staff_a)
    await console.get("/console/vacancies/new")
    too_many = await console.post("/console/vacancies", {"title": title, "hours_per_week": "99"})
    assert too_many.status_code == 422 and 'aria-invalid="true"' in too_many.text and title in too_many.text
    bad_code = await console.post("/console/vacancies", {"title": title, "qualifications_needed": "Digi Guide!"})
    assert bad_code.status_code == 422 and NL["problem.invalid-input"] in bad_code.text
    async with world.platform.client(world.tenant.staff_a) as api:
        listed = (await api.get("/api/v1/vacancies", params={"limit": 200})).json()["items"]
    assert [v for v in listed if v["title"] == title] == []  # nothing was stored

    path = await drafted(console, world, title)
    vacancy_id = path.rsplit("/", 1)[1]
    page = await console.get(path + "?done=created")
    assert NL["vacancy_done.created"] in page.text and NL["vacancy_status.draft"] in page.text
    assert (await vacancy_of(world, vacancy_id))["certificate_of_conduct_required"] is False  # the box was unticked

    changed = await console.post(
        f"{path}/change",
        {
            "title": title + " (taalhuis)",
            "qualifications_needed": "digital-guide, language-coach",
            "certificate_of_conduct_required": "yes",
            "expected_version": version_of(page.text),
        },
    )
    assert changed.status_code == 303, changed.text
    stale = await console.post(f"{path}/change", {"title": "Oud", "expected_version": version_of(page.text)})
    assert stale.status_code == 409 and NL["problem.conflict"] in stale.text
    assert (await console.post(f"{path}/reopen", {})).status_code == 422
    for step in ("publish", "close"):
        page = await console.get(path)
        done = await console.post(f"{path}/{step}", {"expected_version": version_of(page.text)})
        assert done.status_code == 303, (step, done.text)
    again = await console.post(f"{path}/close", {})
    assert again.status_code == 409 and NL["problem.illegal-transition"] in again.text

    final = await vacancy_of(world, vacancy_id)
    assert final["status"] == "closed" and final["title"] == title + " (taalhuis)"
    assert final["qualifications_needed"] == ["digital-guide", "language-coach"]
    assert final["certificate_of_conduct_required"] is True
    closed = await console.get(path)
    assert f'action="{path}/publish"' in closed.text and f'action="{path}/close"' not in closed.text  # reopen
    listed_page = await console.get("/console/vacancies?status=closed")
    assert title in listed_page.text
    await console.post("/console/language", {"lang": "en", "next": path})
    english = await console.get(path)
    assert EN["vacancy_status.closed"] in english.text and EN["vacancies.applicants"] in english.text


async def test_another_library_the_coordinator_and_a_partner_change_nothing(
    console: ConsoleClient, world: World
) -> None:
    title = f"Voorleesvrijwilliger {uuid.uuid4().hex[:6]}"
    path = await drafted(console, world, title)
    vacancy_id = path.rsplit("/", 1)[1]

    await console.sign_in(world.tenant.staff_b)
    assert (await console.get(path)).status_code == 404
    assert title not in (await console.get("/console/vacancies")).text
    for attempt in (f"{path}/publish", f"{path}/change"):
        refused = await console.post(attempt, {"title": "Van ons"})
        assert refused.status_code == 404, (attempt, refused.status_code)

    await console.sign_in(world.coordinator)
    read = await console.get(path)
    assert read.status_code == 200 and title in read.text and f'action="{path}' not in read.text
    assert (await console.get("/console/vacancies/new")).status_code == 403
    assert (await console.post(f"{path}/publish", {})).status_code == 403
    assert (await console.post("/console/vacancies", {"title": "Van de gemeente"})).status_code == 403

    await console.sign_in(world.tenant.partner_a_token)
    assert title not in (await console.get("/console/vacancies")).text  # partners read published ones only
    assert (await console.get(path)).status_code == 404
    assert (await console.post(f"{path}/publish", {})).status_code == 403
    after = await vacancy_of(world, vacancy_id)
    assert (after["status"], after["title"], after["version"]) == ("draft", title, 1)


async def test_in_chromium_a_vacancy_is_made_and_published_with_the_keyboard(
    people: Any,  # noqa: F811  - the fixture imported above
    world: World,
    artifacts: Path,
) -> None:
    title = f"Taalmaatje {uuid.uuid4().hex[:6]}"
    staff = await people(world.tenant.staff_a, bypass_csp=True)
    await staff.goto("/console/volunteers")
    await staff.page.get_by_role("link", name=NL["volunteer_tabs.vacancies"]).click()
    await staff.page.get_by_role("link", name=NL["vacancies.new_title"]).click()
    await staff.page.get_by_role("heading", name=NL["vacancies.new_title"], level=1).wait_for()
    assert await staff.axe() == []
    await staff.page.get_by_label(NL["vacancies.field_title"]).fill(title)
    await staff.page.get_by_label(NL["vacancies.field_hours"]).fill("3")
    await staff.page.get_by_label(NL["vacancies.field_certificate"]).check()
    await staff.page.get_by_role("button", name=NL["vacancies.create"]).click()
    await staff.page.get_by_text(NL["vacancy_done.created"]).wait_for()
    assert await staff.axe() == []
    await staff.page.get_by_role("button", name=NL["vacancy_step.publish"]).focus()
    await staff.page.keyboard.press("Enter")
    await staff.page.get_by_text(NL["vacancy_done.publish"]).wait_for()
    await staff.page.screenshot(path=str(artifacts / "staff-vacancy.png"), full_page=True)
    assert await staff.axe() == []
    await staff.goto("/console/vacancies")
    assert await staff.page.get_by_role("link", name=title).count() == 1
    assert await staff.axe() == []


async def test_a_volunteer_organisation_reads_the_published_vacancies_and_its_own_applicants(
    console: ConsoleClient, world: World
) -> None:
    tag = uuid.uuid4().hex[:6]
    platform, tenant = world.platform, world.tenant
    organisation = await register_partner(platform, tenant, f"Vrijwilligerspunt {tag}", "volunteer_organisation")
    partnership = await activate_partnership(platform, tenant, organisation, tenant.library_a, "volunteer_supplier")
    await known_to_volunteers(platform, [tenant.library_a], [organisation], [partnership])
    token = platform.token(Role.PARTNER, municipality=tenant.municipality, partner=organisation)
    async with platform.client(tenant.staff_a) as staff, platform.client(token) as partner:
        published = await ok(await staff.post("/api/v1/vacancies", json={"title": f"Gastheer {tag}"}))
        await ok(await staff.post(f"/api/v1/vacancies/{published['id']}/publish"))
        draft = await ok(await staff.post("/api/v1/vacancies", json={"title": f"Concept {tag}"}))
        ours = {"person": {"name": f"Rik Mulder{tag}"}, "vacancy_id": published["id"], "library": tenant.library_a}
        await ok(await partner.post("/api/v1/applications", json=ours))
        theirs = {"person": {"name": f"Eva Dekker{tag}"}, "vacancy_id": published["id"]}
        await ok(await staff.post("/api/v1/applications", json=theirs))

    await console.sign_in(token)
    listed = await console.get("/console/vacancies")
    assert listed.status_code == 200 and f"Gastheer {tag}" in listed.text and f"Concept {tag}" not in listed.text
    page = await console.get(f"/console/vacancies/{published['id']}")
    assert f"Rik Mulder{tag}" in page.text and f"Eva Dekker{tag}" not in page.text
    assert 'action="/console/vacancies' not in page.text  # reads only
    assert (await console.get(f"/console/vacancies/{draft['id']}")).status_code == 404
    assert (await console.get("/console/vacancies/new")).status_code == 403
    assert (await console.post(f"/console/vacancies/{published['id']}/close", {})).status_code == 403
    assert (await console.post("/console/vacancies", {"title": f"Van ons {tag}"})).status_code == 403

    await console.sign_in(tenant.partner_a_token)  # a referrer, no volunteer supplier
    assert f"Gastheer {tag}" not in (await console.get("/console/vacancies")).text
    assert (await console.get(f"/console/vacancies/{published['id']}")).status_code == 404
    assert (await vacancy_of(world, published["id"]))["status"] == "published"


async def test_in_chromium_a_partner_reads_the_vacancies_from_its_menu(
    people: Any,  # noqa: F811  - the fixture imported above
    world: World,
) -> None:
    partner = await people(world.tenant.partner_a_token, bypass_csp=True)
    menu = partner.page.get_by_role("navigation", name=NL["a11y.main_nav"])
    await menu.get_by_role("link", name=NL["nav.vacancies"]).click()
    await partner.page.get_by_role("heading", name=NL["vacancies.title"], level=1).wait_for()
    assert await partner.axe() == []
