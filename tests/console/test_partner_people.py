"""A partner's own people in the console (issue 24): a school sees the interns it supplied with their period and
learning goals, confirms the period with a button, and reads the library's assessment at the end; in Dutch and
English. Another partner sees none of them and cannot confirm them (nothing changes); staff get no such page."""

from __future__ import annotations

import uuid
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from gateway.console.messages import EN, NL
from shared.clock import local_today
from shared.tenancy import Role
from tests.console.conftest import ConsoleClient, World
from tests.console.test_browser import people  # noqa: F401  - the browser sessions fixture
from tests.services.volunteers.volunteer_tenant import activate_partnership, known_to_volunteers, register_partner

GOAL = "Zelfstandig een digicafé begeleiden"


async def school_with_intern(world: World, tag: str) -> tuple[str, str, str]:
    """A school partnering with library A as intern supplier, and an active intern it registered itself."""
    platform, tenant = world.platform, world.tenant
    school = await register_partner(platform, tenant, f"ROC {tag}", "educational_institution")
    partnership = await activate_partnership(platform, tenant, school, tenant.library_a, "intern_supplier")
    await known_to_volunteers(platform, [tenant.library_a], [school], [partnership])
    token = platform.token(Role.PARTNER, municipality=tenant.municipality, partner=school)
    return (
        school,
        token,
        await active_intern(world, school, token, f"Iris Stage{tag}", local_today() - timedelta(days=3)),
    )


async def active_intern(world: World, school: str, token: str, name: str, starts_on: date) -> str:
    """An intern the school registered at library A (until 40 days from now), taken into service by its staff."""
    body = {
        "school_partner_id": school,
        "library": world.tenant.library_a,
        "person": {"name": name},
        "starts_on": str(starts_on),
        "ends_on": str(local_today() + timedelta(days=40)),
        "supervisor": {"name": "Mw. T. Jong"},
        "learning_goals": [GOAL],
    }
    async with world.platform.client(token) as api:
        made = await api.post("/api/v1/interns", json=body)
    assert made.status_code == 201, made.text
    intern = str(made.json()["id"])
    async with world.platform.client(world.tenant.staff_a) as staff:
        for step in ("start_screening", "activate"):
            assert (await staff.post(f"/api/v1/volunteers/{intern}/{step}")).status_code == 200, step
    return intern


async def intern_record(world: World, intern: str) -> dict[str, Any]:
    async with world.platform.client(world.tenant.staff_a) as api:
        found = await api.get(f"/api/v1/volunteers/{intern}")
    assert found.status_code == 200, found.text
    return dict(found.json())


async def test_a_school_sees_its_interns_confirms_the_period_and_reads_the_assessment(
    console: ConsoleClient, world: World
) -> None:
    tag = uuid.uuid4().hex[:6]
    _, token, intern = await school_with_intern(world, tag)
    await console.sign_in(token)
    for lang, words in (("nl", NL), ("en", EN)):
        console.http.cookies.set("pn_lang", lang)
        shown = await console.get("/console/our-people")
        assert shown.status_code == 200, shown.text
        assert words["our_people.title"] in shown.text and f"Iris Stage{tag}" in shown.text
        assert GOAL in shown.text and words["our_people.not_confirmed"] in shown.text
        assert words["our_people.confirm"] in shown.text and words["our_people.no_assessment"] in shown.text
    console.http.cookies.set("pn_lang", "nl")

    confirmed = await console.post(f"/console/our-people/{intern}/confirm")
    assert confirmed.status_code == 303, confirmed.text
    after = await console.get(confirmed.headers["location"])
    assert NL["our_people.confirmed_done"] in after.text and NL["our_people.confirm"] not in after.text
    record = await intern_record(world, intern)
    assert record["internship"]["confirmed_at"] is not None
    again = await console.post(f"/console/our-people/{intern}/confirm")  # confirmed already: the service's 409
    assert again.status_code == 409 and 'role="alert"' in again.text
    assert (await intern_record(world, intern))["version"] == record["version"]

    # The library ends the internship and assesses it: the school reads it on its page.
    async with world.platform.client(world.tenant.staff_a) as staff:
        ended = await staff.post(f"/api/v1/interns/{intern}/end", json={"reason": "periode voorbij"})
        assert ended.status_code == 200, ended.text
        assessed = await staff.put(
            f"/api/v1/interns/{intern}/assessment",
            json={"summary": f"Zelfstandig en betrokken {tag}", "goals": [{"goal": GOAL, "result": "partly"}]},
        )
        assert assessed.status_code == 200, assessed.text
    for lang, words in (("nl", NL), ("en", EN)):
        console.http.cookies.set("pn_lang", lang)
        page = (await console.get("/console/our-people")).text
        assert f"Zelfstandig en betrokken {tag}" in page and words["goal_result.partly"] in page


async def test_another_partner_sees_none_of_a_schools_interns_and_confirms_nothing_and_staff_get_no_page(
    console: ConsoleClient, world: World
) -> None:
    tag = uuid.uuid4().hex[:6]
    _, _, intern = await school_with_intern(world, tag)
    before = await intern_record(world, intern)
    await console.sign_in(world.tenant.partner_a_token)
    own = await console.get("/console/our-people")
    assert own.status_code == 200 and f"Iris Stage{tag}" not in own.text
    refused = await console.post(f"/console/our-people/{intern}/confirm")
    assert refused.status_code == 404, refused.text
    assert await intern_record(world, intern) == before

    await console.sign_in(world.tenant.staff_a)
    assert (await console.get("/console/our-people")).status_code == 403
    assert (await console.post(f"/console/our-people/{intern}/confirm")).status_code == 403
    assert await intern_record(world, intern) == before


async def test_in_chromium_a_school_confirms_its_interns_period_by_keyboard_free_of_axe_violations(
    people: Any,  # noqa: F811  - the fixture imported above
    world: World,
    artifacts: Path,
) -> None:
    tag = uuid.uuid4().hex[:6]
    _, token, intern = await school_with_intern(world, tag)
    school = await people(token, bypass_csp=True)
    await school.goto("/console/inbox")
    await school.page.get_by_role("link", name=NL["nav.our_people"]).click()
    await school.page.get_by_role("heading", name=NL["our_people.title"], level=1).wait_for()
    assert await school.axe() == []
    await school.page.locator(f"#v-{intern} button[type=submit]").focus()
    await school.page.keyboard.press("Enter")
    await school.page.get_by_text(NL["our_people.confirmed_done"]).wait_for()
    await school.page.screenshot(path=str(artifacts / "school-our-people.png"), full_page=True)
    assert await school.axe() == []
    assert (await intern_record(world, intern))["internship"]["confirmed_at"] is not None
