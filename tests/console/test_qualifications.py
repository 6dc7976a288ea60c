"""Certificates of conduct and qualifications across the library in the console (issue 20), read only: a VOG that
runs out within 60 days is marked, each held qualification is listed with its holder and end; another library's
staff see none of it, the coordinator sees no names and a partner is refused."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from gateway.console.messages import EN, NL
from shared.clock import LOCAL_TIME
from tests.console.conftest import ConsoleClient, World
from tests.console.seed import ok
from tests.console.test_browser import people  # noqa: F401  - the browser sessions fixture


async def screened_and_qualified(world: World, tag: str) -> tuple[str, str]:
    """Someone with a VOG that holds for 30 more days and a qualification from a completed module."""
    today = datetime.now(LOCAL_TIME).date()
    async with world.platform.client(world.tenant.staff_a) as staff:
        person = await ok(
            await staff.post(
                "/api/v1/applications",
                json={"person": {"name": f"Vera Kok{tag}"}, "certificate_of_conduct_required": True},
            )
        )
        base = f"/api/v1/volunteers/{person['id']}/certificate-of-conduct"
        await ok(await staff.post(f"{base}/requests"))
        receipt = {"issued_on": str(today), "valid_until": str(today + timedelta(days=30))}
        await ok(await staff.post(f"{base}/receipts", json=receipt))
        for step in ("start_intake", "start_screening", "activate"):
            await ok(await staff.post(f"/api/v1/volunteers/{person['id']}/{step}"))
        code = f"story-teller-{tag}"
        module = await ok(
            await staff.post(
                "/api/v1/trainings/modules",
                json={
                    "title": f"Vertellen {tag}",
                    "delivered_by": "library",
                    "qualification": code,
                    "validity_months": 12,
                },
            )
        )
        started = datetime.now(LOCAL_TIME) - timedelta(hours=1)
        session = await ok(
            await staff.post(
                f"/api/v1/trainings/modules/{module['id']}/sessions",
                json={"starts_at": started.isoformat(), "place": "Zaal 3"},
            )
        )
        attendance = {"volunteer_id": person["id"], "attended": True, "completed": True}
        await ok(await staff.post(f"/api/v1/trainings/sessions/{session['id']}/attendance", json=attendance))
    return str(person["id"]), code


async def test_staff_see_whose_vog_runs_out_and_who_holds_what(console: ConsoleClient, world: World) -> None:
    tag = uuid.uuid4().hex[:6]
    person, code = await screened_and_qualified(world, tag)
    await console.sign_in(world.tenant.staff_a)
    page = await console.get("/console/qualifications")
    assert page.status_code == 200, page.text
    row = page.text.split(f'id="c-{person}"', 1)[1].split("</tr>", 1)[0]
    assert f"Vera Kok{tag}" in row and NL["certificate.valid"] in row and NL["qualifications.soon"] in row
    held = page.text.split('id="held"', 1)[1]
    assert code in held and f"Vera Kok{tag}" in held
    await console.post("/console/language", {"lang": "en", "next": "/console/qualifications"})
    assert EN["qualifications.soon"] in (await console.get("/console/qualifications")).text

    await console.sign_in(world.tenant.staff_b)
    other = (await console.get("/console/qualifications")).text
    assert code not in other and f"Vera Kok{tag}" not in other and person not in other
    await console.sign_in(world.coordinator)
    read = (await console.get("/console/qualifications")).text
    assert code in read and f"Vera Kok{tag}" not in read  # the municipality's figures, without names
    await console.sign_in(world.tenant.partner_a_token)
    assert (await console.get("/console/qualifications")).status_code == 403


async def test_in_chromium_the_vog_and_qualifications_page_is_free_of_axe_violations(
    people: Any,  # noqa: F811  - the fixture imported above
    world: World,
    artifacts: Path,
) -> None:
    tag = uuid.uuid4().hex[:6]
    await screened_and_qualified(world, tag)
    staff = await people(world.tenant.staff_a, bypass_csp=True)
    await staff.goto("/console/volunteers")
    await staff.page.get_by_role("link", name=NL["volunteer_tabs.qualifications"]).click()
    await staff.page.get_by_role("heading", name=NL["qualifications.title"], level=1).wait_for()
    await staff.page.locator("#certificates").get_by_role("link", name=f"Vera Kok{tag}").click()
    await staff.page.get_by_role("heading", name=f"Vera Kok{tag}", level=1).wait_for()
    await staff.goto("/console/qualifications")
    await staff.page.screenshot(path=str(artifacts / "staff-qualifications.png"), full_page=True)
    assert await staff.axe() == []
