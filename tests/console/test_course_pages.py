"""A course in the console (issue 20): the library's staff offer one, change it, schedule a group, publish and cancel
it with a reason; a partner offers its own. Bad input and the service's refusals show on the form (a 4xx page, never
a 500) and change nothing; another library's staff, other partners and the coordinator take no step, and a draft
stays out of their sight. Browser tests click through as staff and as a partner, with axe."""

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

COURSE_FORM = {
    "title": "Digisterker",
    "description": "Zaken doen met de overheid, online",
    "skill_area": "digital",
    "audience": "general_public",
    "format": "in_person",
    "level": "beginners",
    "price": "12,50",
    "volunteers_needed": "0",
    "location_kind": "library_branch",
    "location_branch": "Vestiging Noord",
    "location_place": "Noord",
}


def local(moment: datetime) -> str:
    return moment.astimezone(LOCAL_TIME).strftime("%Y-%m-%dT%H:%M")


def version_of(html: str) -> str:
    found = re.search(r'name="expected_version" value="(\d+)"', html)
    assert found is not None
    return found.group(1)


async def course_of(world: World, token: str, course_id: str) -> dict[str, Any]:
    async with world.platform.client(token) as api:
        found = await api.get(f"/api/v1/courses/{course_id}")
    assert found.status_code == 200, found.text
    return dict(found.json())


async def draft_by_api(world: World, token: str, **details: Any) -> str:
    body = {
        "title": f"Taalcafé {uuid.uuid4().hex[:6]}",
        "skill_area": "language",
        "audience": "newcomers",
        "format": "walk_in",
        "location": {"kind": "library_branch", "branch": "Centrale bibliotheek"},
        **details,
    }
    async with world.platform.client(token) as api:
        made = await api.post("/api/v1/courses", json={"details": body})
    assert made.status_code == 201, made.text
    return str(made.json()["id"])


async def test_staff_offer_change_schedule_publish_and_cancel_a_course(console: ConsoleClient, world: World) -> None:
    await console.sign_in(world.tenant.staff_a)
    offer = await console.get("/console/courses")
    assert 'href="/console/courses/new"' in offer.text
    form = await console.get("/console/courses/new")
    assert form.status_code == 200 and NL["course_form.explained_new"] in form.text

    untitled = await console.post("/console/courses", {**COURSE_FORM, "title": ""})
    assert untitled.status_code == 422 and NL["problem.invalid-input"] in untitled.text
    assert 'value="Vestiging Noord"' in untitled.text  # what was typed stays
    for_nobody = await console.post("/console/courses", {**COURSE_FORM, "audience": "partner_staff"})
    assert for_nobody.status_code == 422 and "audience_partner_id" in for_nobody.text  # the service's own words
    assert (await console.post("/console/courses", {**COURSE_FORM, "price": "gratis"})).status_code == 422

    title = f"Digisterker {uuid.uuid4().hex[:6]}"
    made = await console.post("/console/courses", {**COURSE_FORM, "title": title})
    assert made.status_code == 303, made.text
    path = made.headers["location"].split("?")[0]
    course_id = path.rsplit("/", 1)[1]
    page = await console.get(made.headers["location"])
    assert NL["course_done.created"] in page.text and 'data-status="draft"' in page.text
    course = await course_of(world, world.tenant.staff_a, course_id)
    assert (course["library"], course["price_cents"], course["status"]) == (world.tenant.library_a, 1250, "draft")

    edit = await console.get(f"{path}/edit")
    assert edit.status_code == 200 and f'value="{title}"' in edit.text and 'value="12,50"' in edit.text
    changed = await console.post(
        f"{path}/edit",
        {**COURSE_FORM, "title": f"{title} (nieuw)", "level": "", "expected_version": version_of(edit.text)},
    )
    assert changed.status_code == 303, changed.text
    course = await course_of(world, world.tenant.staff_a, course_id)
    assert course["title"] == f"{title} (nieuw)" and not course["level"]
    stale = await console.post(f"{path}/edit", {**COURSE_FORM, "title": "Te laat", "expected_version": "1"})
    assert stale.status_code == 409 and NL["problem.conflict"] in stale.text
    assert 'value="Te laat"' in stale.text  # the form again, with what was typed

    start = (datetime.now(LOCAL_TIME) + timedelta(days=10)).replace(hour=10, minute=0, second=0, microsecond=0)
    no_meeting = await console.post(f"{path}/schedule", {"capacity": "8"})
    assert no_meeting.status_code == 422 and NL["problem.invalid-input"] in no_meeting.text
    backwards = {"meeting-0-starts_at": local(start), "meeting-0-ends_at": local(start - timedelta(hours=1))}
    refused = await console.post(f"{path}/schedule", {**backwards, "capacity": "8"})
    assert refused.status_code == 422 and "ends before it starts" in refused.text
    meetings = {
        "meeting-0-starts_at": local(start),
        "meeting-0-ends_at": local(start + timedelta(hours=2)),
        "meeting-1-starts_at": local(start + timedelta(days=7)),
        "meeting-1-ends_at": local(start + timedelta(days=7, hours=2)),
    }
    scheduled = await console.post(f"{path}/schedule", {**meetings, "capacity": "8", "place": "Zaal 2"})
    assert scheduled.status_code == 303, scheduled.text
    assert "/console/sessions/" in scheduled.headers["location"]

    page = await console.get(path)
    published = await console.post(f"{path}/publish", {"expected_version": version_of(page.text)})
    assert published.status_code == 303, published.text
    assert (await course_of(world, world.tenant.staff_a, course_id))["status"] == "published"
    page = await console.get(path)
    assert 'data-status="published"' in page.text and "Zaal 2" in page.text
    assert (await console.post(f"{path}/publish", {})).status_code == 409  # published already: the service says no
    assert (await console.post(f"{path}/cancel", {"reason": ""})).status_code == 422
    assert (await console.post(f"{path}/rename", {})).status_code == 422

    cancelled = await console.post(
        f"{path}/cancel", {"reason": "De docent is ziek", "expected_version": version_of(page.text)}
    )
    assert cancelled.status_code == 303, cancelled.text
    assert (await course_of(world, world.tenant.staff_a, course_id))["status"] == "cancelled"
    async with world.platform.client(world.tenant.staff_a) as api:
        sessions = (await api.get(f"/api/v1/courses/{course_id}/sessions")).json()["items"]
    assert [s["status"] for s in sessions] == ["cancelled"]
    await console.post("/console/language", {"lang": "en", "next": path})
    english = await console.get(path)
    assert EN["course_status.cancelled"] in english.text and EN["course_step.cancel"] not in english.text


async def test_others_neither_see_a_draft_nor_change_a_librarys_course(console: ConsoleClient, world: World) -> None:
    course_id = await draft_by_api(world, world.tenant.staff_a)
    path = f"/console/courses/{course_id}"
    before = await course_of(world, world.tenant.staff_a, course_id)
    attackers = (world.tenant.staff_b, world.tenant.partner_a_token, world.tenant.partner_b_token)
    start = datetime.now(LOCAL_TIME) + timedelta(days=7)
    next_week = {
        "meeting-0-starts_at": local(start),
        "meeting-0-ends_at": local(start + timedelta(hours=1)),
        "capacity": "1",
    }
    for token in attackers:
        await console.sign_in(token)
        assert (await console.get(path)).status_code == 404  # a draft is out of their sight
        assert (await console.get(f"{path}/edit")).status_code == 404
        await console.get("/console/courses")  # a CSRF token of their own
        for step, form in (
            ("publish", {}),
            ("cancel", {"reason": "Weg ermee"}),
            ("edit", COURSE_FORM),
            ("schedule", next_week),
        ):
            refused = await console.post(f"{path}/{step}", form)
            assert refused.status_code == 404, (step, refused.status_code)
    async with world.platform.client(world.tenant.staff_a) as api:
        assert (await api.post(f"/api/v1/courses/{course_id}/publish")).status_code == 200

    for token in attackers:
        await console.sign_in(token)
        page = await console.get(path)
        assert page.status_code == 200 and f'action="{path}/' not in page.text  # read, without steps
        assert (await console.get(f"{path}/edit")).status_code == 403
        for step, form in (("cancel", {"reason": "Weg ermee"}), ("edit", COURSE_FORM), ("schedule", next_week)):
            refused = await console.post(f"{path}/{step}", form)
            assert refused.status_code == 403, (step, refused.status_code)
            assert NL["problem.forbidden"] in refused.text
    await console.sign_in(world.coordinator)
    page = await console.get(path)
    assert page.status_code == 200 and f'action="{path}/' not in page.text
    assert (await console.post(f"{path}/cancel", {"reason": "Zomaar"})).status_code == 403
    assert (await console.get("/console/courses/new")).status_code == 403
    after = await course_of(world, world.tenant.staff_a, course_id)
    async with world.platform.client(world.tenant.staff_a) as api:
        assert (await api.get(f"/api/v1/courses/{course_id}/sessions")).json()["items"] == []
    assert (after["status"], after["title"], after["version"]) == ("published", before["title"], before["version"] + 1)


async def test_a_partner_offers_its_own_course_and_a_library_does_not_run_it(
    console: ConsoleClient, world: World
) -> None:
    await console.sign_in(world.tenant.partner_a_token)
    form = await console.get("/console/courses/new")
    assert form.status_code == 200 and 'name="library"' in form.text and 'name="offered_by_partner_id"' not in form.text
    own = {
        **COURSE_FORM,
        "location_kind": "partner_premises",
        "location_branch": "",
        "location_address": "Stationsplein 1",
    }
    at_b = await console.post(
        "/console/courses", {**own, "library": world.tenant.library_b, "location_kind": "library_branch"}
    )
    assert at_b.status_code == 403 and NL["problem.forbidden"] in at_b.text  # no partnership with library B
    made = await console.post("/console/courses", own)
    assert made.status_code == 303, made.text
    path = made.headers["location"].split("?")[0]
    course = await course_of(world, world.tenant.partner_a_token, path.rsplit("/", 1)[1])
    assert course["offered_by_partner_id"] == world.tenant.partner_a and course["library"] is None
    page = await console.get(path)
    assert (await console.post(f"{path}/publish", {"expected_version": version_of(page.text)})).status_code == 303

    await console.sign_in(world.tenant.staff_a)  # the municipality's offer: read, not run
    page = await console.get(path)
    assert page.status_code == 200 and f'action="{path}/' not in page.text
    await console.get("/console/courses")
    assert (await console.post(f"{path}/cancel", {"reason": "Niet van ons"})).status_code == 403
    assert (await course_of(world, world.tenant.partner_a_token, course["id"]))["status"] == "published"


async def test_in_chromium_staff_offer_a_course_and_publish_it(
    people: Any,  # noqa: F811  - the fixture imported above
    world: World,
    artifacts: Path,
) -> None:
    staff = await people(world.tenant.staff_a, bypass_csp=True)
    page = staff.page
    await staff.goto("/console/courses")
    await page.get_by_role("link", name=NL["course_page.new"]).click()
    await page.get_by_role("heading", name=NL["course_form.new_title"], level=1).wait_for()
    assert await staff.axe() == []
    title = f"Klik & Tik {uuid.uuid4().hex[:6]}"
    await page.locator("#f-title").fill(title)
    await page.locator("#f-skill_area").select_option("digital")
    await page.locator("#f-audience").select_option("seniors")
    await page.locator("#f-format").select_option("in_person")
    await page.get_by_label(NL["course_form.branch"]).fill("Vestiging Zuid")
    await page.get_by_role("button", name=NL["course_form.create"]).click()
    await page.get_by_text(NL["course_done.created"]).wait_for()
    assert await staff.axe() == []

    start = (datetime.now(LOCAL_TIME) + timedelta(days=3)).replace(hour=14, minute=0)
    schedule = page.locator("#step-schedule")
    await schedule.locator("#f-meeting-0-starts_at").fill(local(start))
    await schedule.locator("#f-meeting-0-ends_at").fill(local(start + timedelta(hours=2)))
    await schedule.locator("#f-schedule-capacity").fill("6")
    await schedule.get_by_role("button", name=NL["course_step.schedule"]).click()
    await page.get_by_text(NL["session_done.scheduled"]).wait_for()
    await page.get_by_role("link", name=NL["session_page.back"].format(course=title)).click()
    await page.get_by_role("button", name=NL["course_step.publish"]).click()
    await page.get_by_text(NL["course_done.publish"]).wait_for()
    assert await page.locator("#course-status").get_attribute("data-status") == "published"
    await page.get_by_role("link", name=NL["course_step.edit"]).click()
    await page.get_by_label(NL["courses.level"]).fill("A1")
    await page.get_by_role("button", name=NL["course_form.save"]).click()
    await page.get_by_text(NL["course_done.edit"]).wait_for()
    await page.screenshot(path=str(artifacts / "staff-course.png"), full_page=True)

    await page.locator("#step-cancel summary").click()
    await page.locator("#step-cancel").get_by_role("button", name=NL["course_step.cancel"]).click()
    assert await page.locator("#f-cancel-reason").evaluate("field => field.validity.valueMissing") is True
    await page.locator("#f-cancel-reason").fill("Te weinig aanmeldingen")
    await page.locator("#step-cancel").get_by_role("button", name=NL["course_step.cancel"]).click()
    await page.get_by_text(NL["course_done.cancel"]).wait_for()
    assert await page.locator("#course-status").get_attribute("data-status") == "cancelled"
    assert await staff.axe() == []


async def test_in_chromium_a_partner_offers_its_own_course(
    people: Any,  # noqa: F811  - the fixture imported above
    world: World,
) -> None:
    partner = await people(world.tenant.partner_a_token, bypass_csp=True)
    page = partner.page
    await partner.goto("/console/courses/new")
    title = f"Sollicitatietraining {uuid.uuid4().hex[:6]}"
    await page.locator("#f-title").fill(title)
    await page.locator("#f-skill_area").select_option("job_seeking")
    await page.locator("#f-audience").select_option("job_seekers")
    await page.locator("#f-format").select_option("in_person")
    await page.locator("#f-location_kind").select_option("partner_premises")
    await page.get_by_label(NL["course_form.address"]).fill("Stationsplein 1")
    await page.get_by_role("button", name=NL["course_form.create"]).click()
    await page.get_by_text(NL["course_done.created"]).wait_for()
    await page.get_by_role("button", name=NL["course_step.publish"]).click()
    await page.get_by_text(NL["course_done.publish"]).wait_for()
    await partner.goto("/console/courses")
    await page.get_by_role("link", name=title).click()
    await page.get_by_role("heading", name=title, level=1).wait_for()
    assert await partner.axe() == []
