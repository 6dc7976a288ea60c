"""The library's end-of-period assessment of an intern, in the console (issue 20: every task the API offers staff
has its page; issue 24: the school receives it). On the intern's own page the library's staff write how the
internship went and each learning goal's result once the period has ended; before that the page says from when.
An empty summary is refused on the form and stores nothing; another library's staff, the coordinator and a
partner assess nothing. The school reads the assessment on its own page (Our people)."""

from __future__ import annotations

import uuid
from datetime import timedelta
from pathlib import Path
from typing import Any

from gateway.console.messages import EN, NL
from shared.clock import local_today
from shared.tenancy import Role
from tests.console.conftest import ConsoleClient, World
from tests.console.test_browser import people  # noqa: F401  - the browser sessions fixture
from tests.console.test_interns import schools

GOALS = ["Een groep begeleiden", "Digitale vaardigheden uitleggen"]


async def intern(world: World, school: str, *, ends_in_days: int) -> dict[str, Any]:
    """An intern of library A whose period began today and ends `ends_in_days` from now (0: today, its last day)."""
    body = {
        "school_partner_id": school,
        "person": {"name": f"Mila Peters{uuid.uuid4().hex[:6]}"},
        "starts_on": str(local_today()),
        "ends_on": str(local_today() + timedelta(days=ends_in_days)),
        "supervisor": {"name": "Mw. A. de Boer"},
        "learning_goals": GOALS,
    }
    async with world.platform.client(world.tenant.staff_a) as staff:
        made = await staff.post("/api/v1/interns", json=body)
    assert made.status_code == 201, made.text
    return dict(made.json())


async def read(world: World, intern_id: str, token: str | None = None) -> dict[str, Any]:
    async with world.platform.client(token or world.tenant.staff_a) as api:
        found = await api.get(f"/api/v1/volunteers/{intern_id}")
    assert found.status_code == 200, found.text
    return dict(found.json())


def school_token(world: World, school: str) -> str:
    return world.platform.token(Role.PARTNER, municipality=world.tenant.municipality, partner=school)


def assessment_form(version: int, summary: str, *results: str) -> dict[str, Any]:
    return {"expected_version": str(version), "summary": summary, "goal": GOALS, "result": list(results)}


async def test_staff_assess_their_intern_at_the_end_and_the_school_reads_it(
    console: ConsoleClient, world: World
) -> None:
    school, _ = await schools(world)
    running = await intern(world, school, ends_in_days=60)
    ending = await intern(world, school, ends_in_days=0)
    await console.sign_in(world.tenant.staff_a)

    # While the period runs: the page says from when, and offers no form.
    page = await console.get(f"/console/volunteers/{running['id']}")
    assert page.status_code == 200 and 'id="act-assessment"' not in page.text
    when = (local_today() + timedelta(days=60)).strftime("%-d")
    assert NL["applicant.assessment_from"].split("{date}")[0] in page.text and when in page.text

    # On the last day: the form, one choice per learning goal.
    page = await console.get(f"/console/volunteers/{ending['id']}")
    assert 'id="act-assessment"' in page.text and all(goal in page.text for goal in GOALS)
    empty = await console.post(
        f"/console/volunteers/{ending['id']}/assessment", assessment_form(ending["version"], "", "achieved", "")
    )
    assert empty.status_code == 422 and 'aria-invalid="true"' in empty.text
    assert (await read(world, ending["id"]))["internship"]["assessment"] is None  # nothing stored

    saved = await console.post(
        f"/console/volunteers/{ending['id']}/assessment",
        assessment_form(ending["version"], "Zelfstandig en betrouwbaar.", "achieved", "partly"),
    )
    assert saved.status_code == 303, saved.text
    shown = await console.get(saved.headers["location"])
    assert NL["applicant_done.assessed"] in shown.text and "Zelfstandig en betrouwbaar." in shown.text
    assert NL["goal_result.partly"] in shown.text and NL["applicant.assess_again_button"] in shown.text
    assessment = (await read(world, ending["id"]))["internship"]["assessment"]
    assert assessment["summary"] == "Zelfstandig en betrouwbaar."
    assert assessment["goals"] == [
        {"goal": GOALS[0], "result": "achieved"},
        {"goal": GOALS[1], "result": "partly"},
    ]

    # A goal left unassessed is left out; a new assessment replaces the one before.
    again = await console.post(
        f"/console/volunteers/{ending['id']}/assessment",
        assessment_form((await read(world, ending["id"]))["version"], "Goed afgerond.", "", "not_achieved"),
    )
    assert again.status_code == 303, again.text
    assessment = (await read(world, ending["id"]))["internship"]["assessment"]
    assert (assessment["summary"], assessment["goals"]) == (
        "Goed afgerond.",
        [{"goal": GOALS[1], "result": "not_achieved"}],
    )

    # The school reads it on its own page; in English the intern's page says the same.
    await console.sign_in(school_token(world, school))
    ours = await console.get("/console/our-people")
    assert ours.status_code == 200 and "Goed afgerond." in ours.text
    await console.sign_in(world.tenant.staff_a)
    console.http.cookies.set("pn_lang", "en")
    english = await console.get(f"/console/volunteers/{ending['id']}")
    assert EN["applicant.assess_again_button"] in english.text and EN["goal_result.not_achieved"] in english.text


async def test_another_library_the_coordinator_and_a_partner_assess_nothing(
    console: ConsoleClient, world: World
) -> None:
    school, _ = await schools(world)
    ending = await intern(world, school, ends_in_days=0)
    form = assessment_form(ending["version"], "Niet van ons.", "achieved", "achieved")
    await console.sign_in(world.tenant.staff_b)
    await console.get("/console/volunteers")  # a page of their own first: the form's CSRF token
    assert (await console.post(f"/console/volunteers/{ending['id']}/assessment", form)).status_code == 404
    await console.sign_in(world.coordinator)
    page = await console.get(f"/console/volunteers/{ending['id']}")
    assert page.status_code == 200 and 'id="act-assessment"' not in page.text
    assert (await console.post(f"/console/volunteers/{ending['id']}/assessment", form)).status_code == 403
    await console.sign_in(school_token(world, school))
    await console.get("/console/our-people")
    assert (await console.post(f"/console/volunteers/{ending['id']}/assessment", form)).status_code == 403
    # Nobody signed in: no session, no form taken (the CSRF check refuses it before anything else).
    anonymous = ConsoleClient(world.platform)
    try:
        refused = await anonymous.post(f"/console/volunteers/{ending['id']}/assessment", form, csrf=False)
    finally:
        await anonymous.aclose()
    assert refused.status_code == 403
    assert (await read(world, ending["id"]))["internship"]["assessment"] is None


async def test_in_chromium_staff_assess_an_intern_by_keyboard_free_of_axe_violations(
    people: Any,  # noqa: F811  - the fixture imported above
    world: World,
    artifacts: Path,
) -> None:
    school, _ = await schools(world)
    ending = await intern(world, school, ends_in_days=0)
    staff = await people(world.tenant.staff_a, bypass_csp=True)
    await staff.goto(f"/console/volunteers/{ending['id']}")
    await staff.page.get_by_role("heading", name=NL["our_people.assessment"], level=2).wait_for()
    assert await staff.axe() == []
    await staff.page.get_by_label(NL["applicant.assessment_summary"]).fill("Zelfstandig en betrouwbaar.")
    await staff.page.get_by_label(GOALS[0]).select_option("achieved")
    await staff.page.get_by_label(GOALS[1]).select_option("partly")
    await staff.page.locator("#act-assessment button[type=submit]").focus()
    await staff.page.keyboard.press("Enter")
    await staff.page.get_by_text(NL["applicant_done.assessed"]).wait_for()
    assert await staff.page.locator("#assessment-summary").inner_text() == "Zelfstandig en betrouwbaar."
    await staff.page.screenshot(path=str(artifacts / "staff-intern-assessment.png"), full_page=True)
    assert await staff.axe() == []
