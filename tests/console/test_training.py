"""Training for volunteers in the console (issue 20): the library's staff add a module and change it, plan a session
and record who attended and completed it, which gives the module's qualification; bad input, a full session and a
stale version are refused on the form and change nothing. Another library's staff (with its own ids too), the
coordinator (who reads) and a partner change nothing
(a volunteer organisation's own training: test_partner_training.py)."""

from __future__ import annotations

import re
import uuid
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from gateway.console.messages import EN, NL
from shared.clock import LOCAL_TIME
from tests.console.conftest import ConsoleClient, World
from tests.console.test_browser import people  # noqa: F401  - the browser sessions fixture


def version_of(html: str) -> str:
    found = re.search(r'name="expected_version" value="(\d+)"', html)
    assert found is not None
    return found.group(1)


def local(moment: datetime) -> str:
    return moment.astimezone(LOCAL_TIME).strftime("%Y-%m-%dT%H:%M")


async def active_volunteer(world: World, token: str, name: str) -> str:
    """Someone in service at the token's library (no VOG needed for the role), made through the API."""
    async with world.platform.client(token) as api:
        made = await api.post(
            "/api/v1/applications", json={"person": {"name": name}, "certificate_of_conduct_required": False}
        )
        assert made.status_code == 201, made.text
        for step in ("start_intake", "start_screening", "activate"):
            assert (await api.post(f"/api/v1/volunteers/{made.json()['id']}/{step}")).status_code == 200, step
    return str(made.json()["id"])


async def module_made(console: ConsoleClient, world: World, code: str) -> str:
    await console.sign_in(world.tenant.staff_a)
    await console.get("/console/training")
    made = await console.post(
        "/console/training/modules",
        {"title": f"Digitaal begeleiden {code}", "delivered_by": "library", "qualification": code},
    )
    assert made.status_code == 303, made.text
    return str(made.headers["location"].split("?")[0])


async def session_planned(console: ConsoleClient, module_path: str, **form: str) -> str:
    started = datetime.now(LOCAL_TIME) - timedelta(hours=2)
    made = await console.post(f"{module_path}/sessions", {"starts_at": local(started), "place": "Zaal 1"} | form)
    assert made.status_code == 303, made.text
    return str(made.headers["location"].split("?")[0])


async def qualifications_of(world: World, volunteer_id: str) -> list[str]:
    async with world.platform.client(world.tenant.staff_a) as api:
        found = await api.get("/api/v1/volunteers/qualifications", params={"volunteer_id": volunteer_id})
    assert found.status_code == 200, found.text
    return [held["code"] for held in found.json()["items"]]


async def test_staff_add_a_module_plan_a_session_and_record_who_completed_it(
    console: ConsoleClient, world: World
) -> None:
    tag = uuid.uuid4().hex[:6]
    code = f"digital-guide-{tag}"
    first = await active_volunteer(world, world.tenant.staff_a, f"Kees Dam{tag}")
    second = await active_volunteer(world, world.tenant.staff_a, f"Lotte Ruis{tag}")
    await console.sign_in(world.tenant.staff_a)
    await console.get("/console/training")
    bad_code = await console.post("/console/training/modules", {"title": "X", "qualification": "Digi Guide"})
    assert bad_code.status_code == 422 and 'aria-invalid="true"' in bad_code.text
    no_provider = await console.post(
        "/console/training/modules", {"title": "X", "delivered_by": "volunteer_organisation"}
    )
    assert no_provider.status_code == 422 and NL["problem.invalid-input"] in no_provider.text

    path = await module_made(console, world, code)
    page = await console.get(path + "?done=added")
    assert NL["training_done.added"] in page.text and code in page.text
    changed = await console.post(
        path,
        {
            "title": f"Digitaal begeleiden {code}",
            "qualification": code,
            "validity_months": "24",
            "expected_version": version_of(page.text),
        },
    )
    assert changed.status_code == 303, changed.text
    stale = await console.post(path, {"title": "Oud", "expected_version": version_of(page.text)})
    assert stale.status_code == 409 and NL["problem.conflict"] in stale.text

    now = datetime.now(LOCAL_TIME)
    backwards = await console.post(
        f"{path}/sessions", {"starts_at": local(now), "ends_at": local(now - timedelta(hours=1)), "place": "Zaal 1"}
    )
    assert backwards.status_code == 422 and NL["problem.invalid-input"] in backwards.text
    session = await session_planned(console, path, capacity="1")
    await console.get(session)
    completed = await console.post(
        f"{session}/attendance", {"volunteer_id": first, "attended": "yes", "completed": "yes"}
    )
    assert completed.status_code == 303, completed.text
    full = await console.post(f"{session}/attendance", {"volunteer_id": second, "attended": "yes"})
    assert full.status_code == 409 and NL["problem.conflict_state"] in full.text
    nobody = await console.post(f"{session}/attendance", {"attended": "yes"})
    assert nobody.status_code == 422

    assert code in await qualifications_of(world, first)
    assert code not in await qualifications_of(world, second)
    shown = await console.get(session)
    assert f"Kees Dam{tag}" in shown.text and shown.text.count(f'href="/console/volunteers/{first}"') == 1
    assert (await console.get("/console/training")).text.count(f"Digitaal begeleiden {code}") >= 1
    await console.post("/console/language", {"lang": "en", "next": path})
    english = await console.get(path)
    assert EN["training.months"].replace("{count}", "24") in english.text


async def test_another_library_the_coordinator_and_a_partner_change_nothing(
    console: ConsoleClient, world: World
) -> None:
    tag = uuid.uuid4().hex[:6]
    code = f"reading-buddy-{tag}"
    ours = await active_volunteer(world, world.tenant.staff_a, f"Anouk Berg{tag}")
    theirs = await active_volunteer(world, world.tenant.staff_b, f"Ruben Stam{tag}")
    path = await module_made(console, world, code)
    await console.get(path)
    session = await session_planned(console, path)
    # Library A's staff cannot record library B's volunteer on their own session.
    await console.get(session)
    foreign = await console.post(f"{session}/attendance", {"volunteer_id": theirs, "completed": "yes"})
    assert foreign.status_code == 404 and f"Ruben Stam{tag}" not in foreign.text

    await console.sign_in(world.tenant.staff_b)
    for page_path in (path, session):
        assert (await console.get(page_path)).status_code == 404
    await console.get("/console/training")
    attempts = {
        path: {"title": "Van ons"},
        f"{path}/sessions": {"starts_at": "2030-01-01T10:00", "place": "Elders"},
        f"{session}/attendance": {"volunteer_id": ours, "completed": "yes"},
    }
    for attempt, form in attempts.items():
        assert (await console.post(attempt, form)).status_code == 404, attempt
    assert code not in (await console.get("/console/training")).text

    await console.sign_in(world.coordinator)
    read = await console.get(session)
    assert read.status_code == 200 and "record-attendance" not in read.text and f"Anouk Berg{tag}" not in read.text
    for attempt, form in attempts.items():
        assert (await console.post(attempt, form)).status_code == 403, attempt
    assert (await console.post("/console/training/modules", {"title": "Gemeente"})).status_code == 403

    # A partner sees only the modules it gives itself (tests/console/test_partner_training.py): not the library's.
    await console.sign_in(world.tenant.partner_a_token)
    overview = await console.get("/console/training")
    assert overview.status_code == 200 and code not in overview.text
    for page_path in (path, session):
        assert (await console.get(page_path)).status_code == 404
    for (attempt, form), status in zip(attempts.items(), (403, 404, 404), strict=True):
        assert (await console.post(attempt, form)).status_code == status, attempt
    async with world.platform.client(world.tenant.staff_a) as api:
        module = (await api.get(f"/api/v1/trainings/modules/{path.rsplit('/', 1)[1]}")).json()
        attendance = (await api.get(f"/api/v1/trainings/sessions/{session.rsplit('/', 1)[1]}")).json()["attendance"]
    assert (module["version"], attendance) == (1, [])
    assert await qualifications_of(world, ours) == []


async def test_in_chromium_a_module_is_added_a_session_planned_and_attendance_recorded(
    people: Any,  # noqa: F811  - the fixture imported above
    world: World,
    artifacts: Path,
) -> None:
    tag = uuid.uuid4().hex[:6]
    name = f"Sanne Mol{tag}"
    volunteer = await active_volunteer(world, world.tenant.staff_a, name)
    staff = await people(world.tenant.staff_a, bypass_csp=True)
    await staff.goto("/console/volunteers")
    await staff.page.get_by_role("link", name=NL["volunteer_tabs.training"]).click()
    await staff.page.get_by_role("heading", name=NL["training.title"], level=1).wait_for()
    assert await staff.axe() == []
    await staff.page.locator("#add-module summary").click()
    await staff.page.get_by_label(NL["training.field_title"]).fill(f"Voorlezen {tag}")
    await staff.page.get_by_label(NL["training.field_qualification"]).fill(f"reader-{tag}")
    await staff.page.locator("#add-module button[type=submit]").click()
    await staff.page.get_by_text(NL["training_done.added"]).wait_for()
    assert await staff.axe() == []
    await staff.page.locator("#plan-session summary").click()
    await staff.page.locator("#f-s-starts_at").fill(local(datetime.now(LOCAL_TIME) - timedelta(hours=1)))
    await staff.page.locator("#f-s-place").fill("Leeszaal")
    await staff.page.locator("#plan-session button[type=submit]").click()
    await staff.page.get_by_text(NL["training_done.scheduled"]).wait_for()
    await staff.page.get_by_label(NL["training.who"]).select_option(volunteer)
    await staff.page.locator("#f-completed").check()
    await staff.page.locator("#record-attendance button[type=submit]").focus()
    await staff.page.keyboard.press("Enter")
    await staff.page.get_by_text(NL["training_done.recorded"]).wait_for()
    assert await staff.page.locator("#attendance").get_by_text(name).count() == 1
    await staff.page.screenshot(path=str(artifacts / "staff-training-session.png"), full_page=True)
    assert await staff.axe() == []
