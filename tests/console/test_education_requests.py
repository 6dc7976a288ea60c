"""Tailored education in the console (issue 24): a referrer asks a library it partners with for a course for a group
of its clients and follows the answer; the library's staff plan one of their courses for it; bad input is refused on
the form; another referrer sees none of it and another library's staff answer nothing. Dutch and English."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

from gateway.console.messages import EN, NL
from shared.clock import local_today
from shared.tenancy import Role
from tests.console.conftest import ConsoleClient, World
from tests.console.test_browser import people  # noqa: F401  - the browser sessions fixture
from tests.services.courses.support import partnership_state_known, published_course_with_session
from tests.services.volunteers.volunteer_tenant import activate_partnership, register_partner


async def requests_of(world: World) -> list[dict[str, Any]]:
    async with world.platform.client(world.tenant.staff_a) as api:
        found = await api.get("/api/v1/education-requests", params={"limit": 200})
    assert found.status_code == 200, found.text
    return list(found.json()["items"])


async def test_a_referrer_asks_and_the_library_plans_a_course_for_it(console: ConsoleClient, world: World) -> None:
    platform, tenant = world.platform, world.tenant
    tag = uuid.uuid4().hex[:6]
    referrer = await register_partner(platform, tenant, f"UWV {tag}", "referrer")
    partnership = await activate_partnership(platform, tenant, referrer, tenant.library_a, "referrer")
    await partnership_state_known(platform, partnership, ended=False)
    token = platform.token(Role.PARTNER, municipality=tenant.municipality, partner=referrer)
    group = f"Werkzoekenden {tag}"
    form = {
        "library": tenant.library_a,
        "target_group": group,
        "skill_area": "digital",
        "clients": "4",
        "preferred_from": str(local_today() + timedelta(days=10)),
        "preferred_until": str(local_today() + timedelta(days=40)),
    }
    await console.sign_in(token)
    for lang, words in (("nl", NL), ("en", EN)):
        console.http.cookies.set("pn_lang", lang)
        shown = await console.get("/console/education-requests")
        assert (
            shown.status_code == 200 and words["education.title"] in shown.text and words["education.ask"] in shown.text
        )
    console.http.cookies.set("pn_lang", "nl")
    bad = await console.post("/console/education-requests", {**form, "clients": "0"})
    assert bad.status_code == 422 and 'role="alert"' in bad.text
    assert [r for r in await requests_of(world) if r["target_group"] == group] == []
    asked = await console.post("/console/education-requests", form)
    assert asked.status_code == 303, asked.text
    listed = await console.get(asked.headers["location"])
    assert NL["education_done.asked"] in listed.text and group in listed.text
    (request,) = [r for r in await requests_of(world) if r["target_group"] == group]

    # Another referrer sees none of it.
    await console.sign_in(tenant.partner_b_token)
    assert group not in (await console.get("/console/education-requests")).text
    # Another library's staff answer nothing.
    await console.sign_in(tenant.staff_b)
    assert group not in (await console.get("/console/education-requests")).text
    refused = await console.post(
        f"/console/education-requests/{request['id']}/answer", {"decision": "decline", "reason": "niet van ons"}
    )
    assert refused.status_code == 404, refused.text[-1500:]
    # The library's staff plan a course of theirs for it.
    course, _ = await published_course_with_session(platform, tenant.staff_a, capacity=8)
    await console.sign_in(tenant.staff_a)
    page = (await console.get("/console/education-requests")).text
    assert group in page and NL["education.plan"] in page
    planned = await console.post(
        f"/console/education-requests/{request['id']}/answer", {"decision": "plan", "course_id": course["id"]}
    )
    assert planned.status_code == 303, planned.text
    (after,) = [r for r in await requests_of(world) if r["id"] == request["id"]]
    assert (after["status"], after["course_id"], after["reserved_places"]) == ("planned", course["id"], 4)
    await console.sign_in(token)
    assert NL["education_status.planned"] in (await console.get("/console/education-requests")).text


async def test_in_chromium_the_tailored_education_page_is_free_of_axe_violations(
    people: Any,  # noqa: F811  - the fixture imported above
    world: World,
) -> None:
    staff = await people(world.tenant.staff_a, bypass_csp=True)
    await staff.goto("/console/inbox")
    await staff.page.get_by_role("link", name=NL["nav.education_requests"]).click()
    await staff.page.get_by_role("heading", name=NL["education.title"], level=1).wait_for()
    assert await staff.axe() == []
    partner = await people(world.tenant.partner_a_token, bypass_csp=True)
    await partner.goto("/console/education-requests")
    await partner.page.locator("#ask summary").click()
    await partner.page.get_by_label(NL["education.target_group"]).wait_for()
    assert await partner.axe() == []
