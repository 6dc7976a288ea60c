"""A partner's own volunteers and interns in the console (issue 20), read only: a volunteer organisation sees the
volunteers it brought in (name, where they stand, where assigned, hours given) and the vacancies of its library, a
school the interns it sent with their period; neither sees the other's people, a partner that supplied nobody sees
no one, and library staff and the coordinator are refused the page."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from gateway.console.messages import EN, NL
from shared.clock import LOCAL_TIME
from shared.tenancy import Role
from tests.console.conftest import ConsoleClient, World
from tests.console.test_assignments import opening
from tests.console.test_browser import people  # noqa: F401  - the browser sessions fixture
from tests.services.volunteers.volunteer_tenant import activate_partnership, known_to_volunteers, register_partner


@dataclass
class Supplied:
    organisation_token: str
    school_token: str
    volunteer: str  # names
    intern: str
    vacancy: str


async def ok(response: Any) -> Any:
    assert response.status_code < 300, f"{response.request.method} {response.request.url}: {response.text}"
    return response.json()


async def supplied(world: World) -> Supplied:
    """A volunteer organisation's volunteer, active and assigned with 1:30 h logged; a school's intern."""
    tag = uuid.uuid4().hex[:6]
    platform, tenant = world.platform, world.tenant
    organisation = await register_partner(platform, tenant, f"Vrijwilligerscentrale {tag}", "volunteer_organisation")
    school = await register_partner(platform, tenant, f"ROC Midden {tag}", "adult_education_school")
    partnerships = [
        await activate_partnership(platform, tenant, organisation, tenant.library_a, "volunteer_supplier"),
        await activate_partnership(platform, tenant, school, tenant.library_a, "intern_supplier"),
    ]
    await known_to_volunteers(platform, [tenant.library_a], [organisation, school], partnerships)
    token = {
        p: platform.token(Role.PARTNER, municipality=tenant.municipality, partner=p) for p in (organisation, school)
    }
    names = Supplied(token[organisation], token[school], f"Lars Brouwer{tag}", f"Sara Yilmaz{tag}", f"Voorlezer {tag}")
    today = datetime.now(LOCAL_TIME).date()
    course = await opening(world, f"Taalcafé {tag}")
    async with platform.client(tenant.staff_a) as staff, platform.client(names.organisation_token) as partner:
        vacancy = await ok(await staff.post("/api/v1/vacancies", json={"title": names.vacancy}))
        await ok(await staff.post(f"/api/v1/vacancies/{vacancy['id']}/publish"))
        applied = await ok(
            await partner.post(
                "/api/v1/applications",
                json={
                    "person": {"name": names.volunteer, "email": "lars@example.org"},
                    "library": tenant.library_a,
                    "certificate_of_conduct_required": False,
                },
            )
        )
        for step in ("start_intake", "start_screening", "activate"):
            await ok(await staff.post(f"/api/v1/volunteers/{applied['id']}/{step}"))
        assignment = await ok(
            await staff.post(
                "/api/v1/assignments",
                json={
                    "volunteer_id": applied["id"],
                    "kind": "course",
                    "opening_id": course["id"],
                    "starts_on": str(today - timedelta(days=3)),
                },
            )
        )
        hours = {"worked_on": str(today), "minutes": 90, "note": "Notitie van de bibliotheek"}
        await ok(await staff.post(f"/api/v1/assignments/{assignment['id']}/hours", json=hours))
        intern = {
            "school_partner_id": school,
            "person": {"name": names.intern},
            "starts_on": str(today),
            "ends_on": str(today + timedelta(days=80)),
            "supervisor": {"name": "Mw. L. Smit"},
        }
        await ok(await staff.post("/api/v1/interns", json=intern))
    return names


async def test_each_partner_sees_only_the_people_it_supplied(console: ConsoleClient, world: World) -> None:
    made = await supplied(world)
    await console.sign_in(made.organisation_token)
    page = await console.get("/console/supplied")
    assert page.status_code == 200, page.text
    assert made.volunteer in page.text and "lars@example.org" in page.text and "1:30" in page.text
    assert made.vacancy in page.text and NL["volunteer_status.active"] in page.text
    assert made.intern not in page.text and "Notitie van de bibliotheek" not in page.text

    await console.sign_in(made.school_token)
    school_page = (await console.get("/console/supplied")).text
    assert made.intern in school_page and made.volunteer not in school_page
    assert NL["volunteer_status.intake"] in school_page and made.vacancy not in school_page  # not a volunteer supplier
    await console.post("/console/language", {"lang": "en", "next": "/console/supplied"})
    assert EN["supplied.interns"] in (await console.get("/console/supplied")).text

    await console.sign_in(world.tenant.partner_a_token)  # a referrer that supplied no one
    stranger = (await console.get("/console/supplied")).text
    assert made.volunteer not in stranger and made.intern not in stranger and made.vacancy not in stranger
    for token in (world.tenant.staff_a, world.coordinator):
        await console.sign_in(token)
        assert (await console.get("/console/supplied")).status_code == 403


async def test_in_chromium_a_volunteer_organisation_reads_its_volunteers(
    people: Any,  # noqa: F811  - the fixture imported above
    world: World,
    artifacts: Path,
) -> None:
    made = await supplied(world)
    partner = await people(made.organisation_token, bypass_csp=True)
    menu = partner.page.get_by_role("navigation", name=NL["a11y.main_nav"])
    await menu.get_by_role("link", name=NL["nav.supplied"]).click()
    await partner.page.get_by_role("heading", name=NL["supplied.title"], level=1).wait_for()
    assert await partner.page.locator("#supplied-volunteers").get_by_text(made.volunteer).count() == 1
    await partner.page.screenshot(path=str(artifacts / "partner-supplied.png"), full_page=True)
    assert await partner.axe() == []
