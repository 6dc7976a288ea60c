"""A volunteer organisation trains the library's volunteers in the console (issues 20 and 24): where its partnership
brings `training` it adds its own module on the staff's training pages, plans a session and records who attended and
completed it, which gives the library's volunteer the qualification. Before its partnership brings training, a
partner without a partnership and another library's staff change nothing: the service's 403/404 is shown on the page.
"""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from gateway.console.messages import NL
from shared.clock import LOCAL_TIME
from tests.console.conftest import ConsoleClient, World
from tests.console.test_browser import people  # noqa: F401  - the browser sessions fixture
from tests.console.test_training import local
from tests.fixtures.platform import RunningPlatform
from tests.services.volunteers.volunteer_tenant import (
    VolunteerTenant,
    active_volunteer,
    bring_training,
    call,
    volunteer_tenant,
)


@pytest.fixture(scope="module")
async def vt(platform: RunningPlatform) -> VolunteerTenant:
    tenant = await volunteer_tenant(platform)
    await bring_training(platform, tenant, tenant.organisation)
    return tenant


async def module_by_organisation(console: ConsoleClient, vt: VolunteerTenant, code: str) -> str:
    await console.sign_in(vt.organisation_token)
    await console.get("/console/training")
    made = await console.post(
        "/console/training/modules",
        {"title": f"Eerste hulp {code}", "qualification": code, "validity_months": "12", "library": vt.library_a},
    )
    assert made.status_code == 303, made.text
    return str(made.headers["location"].split("?")[0])


async def test_a_volunteer_organisation_adds_a_module_plans_a_session_and_records_attendance(
    console: ConsoleClient, platform: RunningPlatform, vt: VolunteerTenant
) -> None:
    code = f"eerste-hulp-{uuid.uuid4().hex[:6]}"
    volunteer = await active_volunteer(platform, vt)
    path = await module_by_organisation(console, vt, code)
    page = await console.get(path + "?done=added")
    assert page.status_code == 200 and NL["training_done.added"] in page.text and code in page.text
    assert 'name="expected_version"' not in page.text  # changing a module stays with the library's staff
    overview = await console.get("/console/training")
    assert 'href="/console/training"' in overview.text and f"Eerste hulp {code}" in overview.text
    started = datetime.now(LOCAL_TIME) - timedelta(hours=2)
    planned = await console.post(f"{path}/sessions", {"starts_at": local(started), "place": "Wijkcentrum"})
    assert planned.status_code == 303, planned.text
    session = planned.headers["location"].split("?")[0]
    assert NL["training_done.scheduled"] in (await console.get(planned.headers["location"])).text
    recorded = await console.post(
        f"{session}/attendance", {"volunteer_id": volunteer["id"], "attended": "yes", "completed": "yes"}
    )
    assert recorded.status_code == 303, recorded.text
    held = await call(platform, vt.staff_a, "GET", "/api/v1/volunteers/qualifications", volunteer_id=volunteer["id"])
    assert [q["code"] for q in held["items"]] == [code]
    # The library's staff see the organisation's session and its attendance on their own pages.
    await console.sign_in(vt.staff_a)
    assert volunteer["person"]["name"] in (await console.get(session)).text


async def test_without_training_in_its_partnership_or_for_another_library_nothing_changes(
    console: ConsoleClient, platform: RunningPlatform, vt: VolunteerTenant
) -> None:
    code = f"voorlezen-{uuid.uuid4().hex[:6]}"
    volunteer = await active_volunteer(platform, vt)
    path = await module_by_organisation(console, vt, code)
    planned = await console.post(f"{path}/sessions", {"starts_at": "2030-01-01T10:00", "place": "Wijkcentrum"})
    session = planned.headers["location"].split("?")[0]
    # Another library: refused by the service, shown on the form.
    elsewhere = await console.post(
        "/console/training/modules", {"title": "Elders", "qualification": code, "library": vt.library_b}
    )
    assert elsewhere.status_code == 403 and NL["problem.forbidden"] in elsewhere.text

    # A volunteer organisation without a partnership that brings training, and another library's staff (whose own
    # new module would be its own library's, so only the organisation's session and attendance are tried).
    module_form = {"title": "Van ons", "qualification": code, "library": vt.library_a}
    at_session = {"volunteer_id": volunteer["id"], "completed": "yes", "attended": "yes"}
    later = {"starts_at": "2030-01-01T10:00", "place": "Elders"}
    tries = {
        vt.stranger_token: [("/console/training/modules", module_form, 403), (f"{path}/sessions", later, 404)],
        vt.staff_b: [(f"{path}/sessions", later, 404)],
    }
    for token, attempts in tries.items():
        await console.sign_in(token)
        await console.get("/console/training")
        for attempt, form, status in [*attempts, (f"{session}/attendance", at_session, 404)]:
            refused = await console.post(attempt, form)
            assert refused.status_code == status, (attempt, refused.text[-2000:])
        assert code not in (await console.get("/console/training")).text
        assert (await console.get(path)).status_code == 404
    modules = await call(platform, vt.staff_a, "GET", "/api/v1/trainings/modules", limit=200)
    assert [m["title"] for m in modules["items"] if m["qualification"] == code] == [f"Eerste hulp {code}"]
    seen = await call(platform, vt.staff_a, "GET", f"/api/v1/trainings/sessions/{session.rsplit('/', 1)[1]}")
    assert (seen["place"], seen["attendance"]) == ("Wijkcentrum", [])
    held = await call(platform, vt.staff_a, "GET", "/api/v1/volunteers/qualifications", volunteer_id=volunteer["id"])
    assert held["items"] == []


async def test_in_chromium_a_volunteer_organisation_adds_a_module_and_plans_a_session(
    people: Any,  # noqa: F811  - the fixture imported above
    vt: VolunteerTenant,
    world: World,
    artifacts: Path,
) -> None:
    tag = uuid.uuid4().hex[:6]
    organisation = await people(vt.organisation_token, bypass_csp=True)
    await organisation.goto("/console/inbox")
    await organisation.page.get_by_role("link", name=NL["nav.training"]).click()
    await organisation.page.get_by_role("heading", name=NL["training.title"], level=1).wait_for()
    assert await organisation.axe() == []
    await organisation.page.locator("#add-module summary").click()
    await organisation.page.get_by_label(NL["training.field_title"]).fill(f"Wegwijs online {tag}")
    await organisation.page.locator("#f-library").select_option(vt.library_a)
    await organisation.page.get_by_label(NL["training.field_qualification"]).fill(f"wegwijs-{tag}")
    await organisation.page.locator("#add-module button[type=submit]").click()
    await organisation.page.get_by_text(NL["training_done.added"]).wait_for()
    assert await organisation.axe() == []
    await organisation.page.locator("#plan-session summary").click()
    await organisation.page.locator("#f-s-starts_at").fill(local(datetime.now(LOCAL_TIME) + timedelta(days=3)))
    await organisation.page.locator("#f-s-place").fill("Buurthuis")
    await organisation.page.locator("#plan-session button[type=submit]").focus()
    await organisation.page.keyboard.press("Enter")
    await organisation.page.get_by_text(NL["training_done.scheduled"]).wait_for()
    await organisation.page.screenshot(path=str(artifacts / "partner-training-session.png"), full_page=True)
    assert await organisation.axe() == []
