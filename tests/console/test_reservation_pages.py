"""The places kept for a referrer's referrals in the console (issue 24): the library's staff set the last day they are
kept when planning a course for a request (a day gone by is refused on the form, nothing changes); the referrer sees
until when and releases them with a button (another referrer has no button and releases nothing); the page says it
ended. Dutch and English; in Chromium by keyboard, free of axe violations."""

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
from tests.services.courses.support import partnership_state_known, published_course_with_session
from tests.services.volunteers.volunteer_tenant import activate_partnership, register_partner


async def asked_request(world: World, tag: str) -> tuple[str, dict[str, Any]]:
    """A referrer of its own partnering with library A, and its request (through the API): (its token, the request)."""
    token = await referrer_of(world, tag)
    return token, await ask(world, token, f"Werkzoekenden {tag}")


async def referrer_of(world: World, tag: str) -> str:
    """The token of a referrer of its own, partnering with library A (the courses service knows it)."""
    platform, tenant = world.platform, world.tenant
    referrer = await register_partner(platform, tenant, f"UWV {tag}", "referrer")
    partnership = await activate_partnership(platform, tenant, referrer, tenant.library_a, "referrer")
    await partnership_state_known(platform, partnership, ended=False)
    return platform.token(Role.PARTNER, municipality=tenant.municipality, partner=referrer)


async def ask(world: World, token: str, group: str) -> dict[str, Any]:
    """The referrer's request to library A for a course for two of its clients (through the API)."""
    body = {
        "library": world.tenant.library_a,
        "target_group": group,
        "skill_area": "digital",
        "clients": 2,
        "preferred_from": str(local_today() + timedelta(days=10)),
        "preferred_until": str(local_today() + timedelta(days=40)),
    }
    async with world.platform.client(token) as api:
        made = await api.post("/api/v1/education-requests", json=body)
    assert made.status_code == 201, made.text
    return dict(made.json())


async def request_now(world: World, request_id: str) -> dict[str, Any]:
    async with world.platform.client(world.tenant.staff_a) as api:
        found = await api.get(f"/api/v1/education-requests/{request_id}")
    assert found.status_code == 200, found.text
    return dict(found.json())


async def test_staff_keep_the_places_until_a_day_and_the_referrer_releases_them(
    console: ConsoleClient, world: World
) -> None:
    tag = uuid.uuid4().hex[:6]
    token, request = await asked_request(world, tag)
    course, _ = await published_course_with_session(world.platform, world.tenant.staff_a, capacity=6)
    answer = f"/console/education-requests/{request['id']}/answer"
    await console.sign_in(world.tenant.staff_a)
    assert NL["education.reserved_until"] in (await console.get("/console/education-requests")).text
    gone_by = str(local_today() - timedelta(days=1))
    refused = await console.post(answer, {"decision": "plan", "course_id": course["id"], "reserved_until": gone_by})
    assert refused.status_code == 422 and 'role="alert"' in refused.text
    assert (await request_now(world, request["id"]))["status"] == "requested"
    until = local_today() + timedelta(days=5)
    planned = await console.post(answer, {"decision": "plan", "course_id": course["id"], "reserved_until": str(until)})
    assert planned.status_code == 303, planned.text
    assert (await request_now(world, request["id"]))["reserved_until"] == str(until)

    # Another referrer has no button and releases nothing.
    await console.sign_in(world.tenant.partner_b_token)
    assert NL["education.release"] not in (await console.get("/console/education-requests")).text
    other = await console.post(f"/console/education-requests/{request['id']}/release")
    assert other.status_code == 404, other.text
    assert (await request_now(world, request["id"]))["reservation_end"] is None

    await console.sign_in(token)
    for lang, words in (("nl", NL), ("en", EN)):
        console.http.cookies.set("pn_lang", lang)
        page = (await console.get("/console/education-requests")).text
        assert words["education.kept"] in page and words["education.release"] in page
    console.http.cookies.set("pn_lang", "nl")
    released = await console.post(f"/console/education-requests/{request['id']}/release")
    assert released.status_code == 303, released.text
    after = (await console.get(released.headers["location"])).text
    assert NL["education_done.released"] in after and NL["education.release"] not in after
    assert (await request_now(world, request["id"]))["reservation_end"] == "released"
    again = await console.post(f"/console/education-requests/{request['id']}/release")
    assert again.status_code == 409 and 'role="alert"' in again.text


async def test_in_chromium_the_referrer_releases_the_kept_places_by_keyboard_free_of_axe_violations(
    people: Any,  # noqa: F811  - the fixture imported above
    world: World,
    artifacts: Path,
) -> None:
    tag = uuid.uuid4().hex[:6]
    token, request = await asked_request(world, tag)
    course, _ = await published_course_with_session(world.platform, world.tenant.staff_a, capacity=6)
    staff = await people(world.tenant.staff_a, bypass_csp=True)
    await staff.goto("/console/education-requests")
    card = staff.page.locator(f"#r-{request['id']}")
    await card.get_by_label(NL["education.plan_course"]).select_option(course["id"])
    await card.get_by_label(NL["education.reserved_until"]).fill(str(local_today() + timedelta(days=3)))
    assert await staff.axe() == []
    await card.get_by_role("button", name=NL["education.plan"]).click()
    await staff.page.get_by_text(NL["education_done.answered"]).wait_for()

    referrer = await people(token, bypass_csp=True)
    await referrer.goto("/console/education-requests")
    button = referrer.page.locator(f"#r-{request['id']}").get_by_role("button", name=NL["education.release"])
    assert await referrer.axe() == []
    await button.focus()
    await referrer.page.keyboard.press("Enter")
    await referrer.page.get_by_text(NL["education_done.released"]).wait_for()
    await referrer.page.screenshot(path=str(artifacts / "referrer-released.png"), full_page=True)
    assert await referrer.axe() == []
    assert (await request_now(world, request["id"]))["reservation_end"] == "released"
