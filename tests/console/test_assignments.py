"""Assignments and hours in the console (issue 20): the library's staff say what a course's guides need, assign an
active volunteer to the course (refused, with what lacks, when they do not qualify), log hours, correct and remove
an entry with a reason, and end the assignment; bad input is refused on the form and changes nothing. Another
library's staff (with its own volunteer too), the coordinator (who reads) and a partner change nothing."""

from __future__ import annotations

import re
import uuid
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

from gateway.console.messages import EN, NL
from shared.clock import LOCAL_TIME
from shared.contracts.courses.events import CoursePublished
from shared.contracts.vocabulary import SkillArea
from shared.ids import new_id
from tests.console.conftest import ConsoleClient, World
from tests.console.seed import referral
from tests.console.test_browser import people  # noqa: F401  - the browser sessions fixture
from tests.console.test_training import active_volunteer
from tests.services.volunteers.volunteer_tenant import publish_event
from tests.waiting import eventually

WEEK = timedelta(days=7)


def today() -> date:
    return datetime.now(LOCAL_TIME).date()


def version_of(html: str, after: str = "") -> str:
    found = re.search(re.escape(after) + r'.*?name="expected_version" value="(\d+)"', html, re.S)
    assert found is not None
    return found.group(1)


async def opening(world: World, title: str) -> dict[str, Any]:
    """A course of library A that needs two guides, as the courses service announces it."""
    event = CoursePublished(
        course_id=new_id(),
        municipality=world.tenant.municipality,
        library=world.tenant.library_a,
        offered_by_partner_id=None,
        title=title,
        skill_area=SkillArea.DIGITAL,
        volunteers_needed=2,
    )
    await publish_event(world.platform.settings.nats_url, event, municipality=event.municipality, library=event.library)

    async def found() -> dict[str, Any] | None:
        async with world.platform.client(world.tenant.staff_a) as api:
            page = (await api.get("/api/v1/open-assignments", params={"limit": 200})).json()
        return next((o for o in page["items"] if o["course_id"] == str(event.course_id)), None)

    return dict(await eventually(found, what="the course's open assignment"))


async def assignment_of(world: World, assignment_id: str) -> dict[str, Any]:
    async with world.platform.client(world.tenant.staff_a) as api:
        found = await api.get(f"/api/v1/assignments/{assignment_id}")
        hours = await api.get(f"/api/v1/assignments/{assignment_id}/hours")
    assert found.status_code == 200 and hours.status_code == 200, (found.text, hours.text)
    return dict(found.json()) | {"entries": hours.json()["items"]}


async def assigned(console: ConsoleClient, world: World, tag: str) -> tuple[str, str, dict[str, Any]]:
    volunteer = await active_volunteer(world, world.tenant.staff_a, f"Daan Hof{tag}")
    course = await opening(world, f"Klik & Tik {tag}")
    await console.sign_in(world.tenant.staff_a)
    await console.get("/console/assignments")
    made = await console.post(
        "/console/assignments",
        {"volunteer_id": volunteer, "kind": "course", "opening_id": course["id"], "starts_on": str(today() - WEEK)},
    )
    assert made.status_code == 303, made.text
    return str(made.headers["location"].split("?")[0]), volunteer, course


async def test_staff_assign_a_volunteer_and_log_correct_and_remove_hours(console: ConsoleClient, world: World) -> None:
    tag = uuid.uuid4().hex[:6]
    course = await opening(world, f"Digisterker {tag}")
    volunteer = await active_volunteer(world, world.tenant.staff_a, f"Emma Kuiper{tag}")
    await console.sign_in(world.tenant.staff_a)
    page = await console.get(f"/console/assignments?opening={course['id']}")
    assert f"Digisterker {tag}" in page.text and f"Emma Kuiper{tag}" in page.text
    needs = await console.post(
        f"/console/assignments/openings/{course['id']}",
        {"qualifications_needed": f"digital-guide-{tag}", "expected_version": version_of(page.text, course["id"])},
    )
    assert needs.status_code == 303, needs.text
    lacking = await console.post(
        "/console/assignments", {"volunteer_id": volunteer, "kind": "course", "opening_id": course["id"]}
    )
    assert lacking.status_code == 409 and f"digital-guide-{tag}" in lacking.text  # says what lacks
    no_one = await console.post("/console/assignments", {"kind": "course", "opening_id": course["id"]})
    assert no_one.status_code == 422
    async with world.platform.client(world.tenant.staff_a) as api:
        listed = await api.get("/api/v1/assignments", params={"volunteer_id": volunteer})
    assert listed.json()["items"] == []  # nothing was assigned

    path, _, _ = await assigned(console, world, tag)
    assignment_id = path.rsplit("/", 1)[1]
    await console.get(path)
    tomorrow = str(today() + timedelta(days=1))
    early = await console.post(f"{path}/hours", {"worked_on": tomorrow, "hours": "2"})
    assert early.status_code == 422 and NL["problem.invalid-input"] in early.text
    odd = await console.post(f"{path}/hours", {"worked_on": str(today()), "hours": "1", "minutes": "75"})
    assert odd.status_code == 422 and 'aria-invalid="true"' in odd.text
    # More than a day has: said of the hours typed, and what was typed is kept (it came back empty).
    typed = {"worked_on": str(today()), "hours": "25", "minutes": "30", "note": "oefenen in de bieb"}
    too_long = await console.post(f"{path}/hours", typed)
    assert too_long.status_code == 422 and "at most 24 hours on one day" in too_long.text
    assert NL["field.hours"] in too_long.text and "Expected `int`" not in too_long.text
    for name, value in typed.items():
        assert re.search(rf'name="{name}"[^>]*value="{re.escape(value)}"', too_long.text), name
    for day, hours in ((today(), "2"), (today() - timedelta(days=1), "1")):
        logged = await console.post(f"{path}/hours", {"worked_on": str(day), "hours": hours, "minutes": "30"})
        assert logged.status_code == 303, logged.text
    entries = (await assignment_of(world, assignment_id))["entries"]
    today_entry = next(e for e in entries if e["worked_on"] == str(today()))
    other = next(e for e in entries if e["id"] != today_entry["id"])
    base = f"{path}/entries/{today_entry['id']}"
    no_reason = await console.post(f"{base}/correct", {"hours": "3", "minutes": "0", "expected_version": "1"})
    assert no_reason.status_code == 422
    corrected = await console.post(
        f"{base}/correct", {"hours": "3", "minutes": "0", "reason": "Verkeerd overgenomen", "expected_version": "1"}
    )
    assert corrected.status_code == 303, corrected.text
    stale = await console.post(f"{base}/remove", {"reason": "Dubbel", "expected_version": "1"})
    assert stale.status_code == 409 and NL["problem.conflict"] in stale.text
    assert (await console.post(f"{base}/merge", {"reason": "x"})).status_code == 422
    removed = await console.post(f"{path}/entries/{other['id']}/remove", {"reason": "Dubbel ingevoerd"})
    assert removed.status_code == 303, removed.text
    page = await console.get(path)
    assert "Verkeerd overgenomen" in page.text and NL["assignment.removed"] in page.text and "3:00" in page.text
    ended = await console.post(f"{path}/end", {"expected_version": version_of(page.text, 'action="' + path + '/end"')})
    assert ended.status_code == 303, ended.text

    final = await assignment_of(world, assignment_id)
    assert (final["status"], final["minutes_logged"]) == ("ended", 180)
    assert [e["minutes"] for e in final["entries"] if e["removed_at"] is None] == [180]
    await console.post("/console/language", {"lang": "en", "next": path})
    english = await console.get(path)
    assert EN["assignment_status.ended"] in english.text and EN["hours_change.corrected"] in english.text


async def test_another_library_the_coordinator_and_a_partner_change_nothing(
    console: ConsoleClient, world: World
) -> None:
    tag = uuid.uuid4().hex[:6]
    path, volunteer, course = await assigned(console, world, tag)
    assignment_id = path.rsplit("/", 1)[1]
    await console.get(path)
    assert (await console.post(f"{path}/hours", {"worked_on": str(today()), "hours": "1"})).status_code == 303
    entry = (await assignment_of(world, assignment_id))["entries"][0]
    theirs = await active_volunteer(world, world.tenant.staff_b, f"Joris Veen{tag}")
    # Library A's staff cannot put library B's volunteer on their course.
    await console.get("/console/assignments")
    foreign = await console.post(
        "/console/assignments", {"volunteer_id": theirs, "kind": "course", "opening_id": course["id"]}
    )
    assert foreign.status_code == 404 and f"Joris Veen{tag}" not in foreign.text

    attempts = {
        f"{path}/hours": {"worked_on": str(today()), "hours": "8"},
        f"{path}/entries/{entry['id']}/remove": {"reason": "Weg ermee"},
        f"{path}/end": {},
        f"/console/assignments/openings/{course['id']}": {"qualifications_needed": "nothing-at-all"},
        "/console/assignments": {"volunteer_id": volunteer, "kind": "course", "opening_id": course["id"]},
    }
    await console.sign_in(world.tenant.staff_b)
    assert (await console.get(path)).status_code == 404
    overview = await console.get("/console/assignments")
    assert f"Klik & Tik {tag}" not in overview.text and f"Daan Hof{tag}" not in overview.text
    for attempt, form in attempts.items():
        refused = await console.post(attempt, form)
        assert refused.status_code == 404, (attempt, refused.status_code)

    await console.sign_in(world.coordinator)
    read = await console.get(path)
    assert read.status_code == 200 and f"Daan Hof{tag}" not in read.text and 'id="log-hours"' not in read.text
    for attempt, form in attempts.items():
        assert (await console.post(attempt, form)).status_code == 403, attempt

    await console.sign_in(world.tenant.partner_a_token)
    for page_path in ("/console/assignments", path):
        assert (await console.get(page_path)).status_code == 403
    for attempt, form in attempts.items():
        assert (await console.post(attempt, form)).status_code == 403, attempt
    after = await assignment_of(world, assignment_id)
    assert (after["status"], after["minutes_logged"], len(after["entries"])) == ("active", 60, 1)
    async with world.platform.client(world.tenant.staff_a) as api:
        still = (await api.get(f"/api/v1/open-assignments/{course['id']}")).json()
    assert still["qualifications_needed"] == [] and still["assigned"] == 1


async def test_in_chromium_a_volunteer_is_assigned_and_hours_logged(
    people: Any,  # noqa: F811  - the fixture imported above
    world: World,
    artifacts: Path,
) -> None:
    tag = uuid.uuid4().hex[:6]
    volunteer = await active_volunteer(world, world.tenant.staff_a, f"Noor Smit{tag}")
    course = await opening(world, f"Werken met DigiD {tag}")
    staff = await people(world.tenant.staff_a, bypass_csp=True)
    await staff.goto("/console/volunteers")
    await staff.page.get_by_role("link", name=NL["volunteer_tabs.assignments"]).click()
    await staff.page.get_by_role("heading", name=NL["assignments.title"], level=1).wait_for()
    assert await staff.axe() == []
    await staff.page.locator("#f-volunteer_id").select_option(volunteer)
    await staff.page.locator("#f-opening_id").select_option(course["id"])
    await staff.page.locator("#assign button[type=submit]").click()
    await staff.page.get_by_text(NL["assignment_done.assigned"]).wait_for()
    assert await staff.axe() == []
    await staff.page.locator("#f-worked_on").fill(str(today()))
    await staff.page.locator("#f-hours").fill("1")
    await staff.page.locator("#f-minutes").fill("45")
    await staff.page.locator("#log-hours button[type=submit]").focus()
    await staff.page.keyboard.press("Enter")
    await staff.page.get_by_text(NL["assignment_done.logged"]).wait_for()
    assert "1:45" in await staff.page.locator("#minutes-logged").inner_text()
    await staff.page.screenshot(path=str(artifacts / "staff-assignment.png"), full_page=True)
    assert await staff.axe() == []


async def test_in_chromium_staff_choose_the_buddy_and_the_participants_referral_from_lists(
    people: Any,  # noqa: F811  - the fixture imported above
    console: ConsoleClient,
    world: World,
) -> None:
    tag = uuid.uuid4().hex[:6]
    volunteer = await active_volunteer(world, world.tenant.staff_a, f"Mila Buddy{tag}")
    certificate = f"/api/v1/volunteers/{volunteer}/certificate-of-conduct"
    async with world.platform.client(world.tenant.staff_a) as api:  # a buddy works one to one: a VOG first
        assert (await api.post(f"{certificate}/requests")).status_code < 300
        issued = await api.post(f"{certificate}/receipts", json={"issued_on": str(today())})
    assert issued.status_code < 300, issued.text
    taken_on = await accepted_referral(world)
    waiting = await submitted_referral(world)
    await console.sign_in(world.tenant.staff_a)
    page = await console.get("/console/assignments")
    options = re.search(r'<select id="f-referral_id".*?</select>', page.text, re.S)
    assert options is not None
    # Only what can get a buddy now: the accepted referral, not the one still waiting for the library's answer.
    assert f'value="{taken_on["id"]}"' in options.group(0) and waiting["id"] not in options.group(0)
    assert taken_on["participant_pseudonym"] in options.group(0)
    assert "Fatima" not in page.text  # the list names the participant by pseudonym only
    await console.sign_in(world.tenant.staff_b)  # another library's staff are offered none of library A's
    assert taken_on["id"] not in (await console.get("/console/assignments")).text

    await console.sign_in(world.tenant.staff_a)
    await console.get("/console/assignments")
    first = await accepted_referral(world)

    async def matched_over_http() -> bool:  # the volunteers service learns of the acceptance from its event
        form = {"volunteer_id": volunteer, "kind": "buddy", "referral_id": first["id"]}
        done = await console.post("/console/assignments", form)
        assert done.status_code in (303, 409, 422), done.text  # 422, 409: not known, or not as accepted yet
        return done.status_code == 303

    await eventually(matched_over_http, what="the volunteers service to know the accepted referral")

    staff = await people(world.tenant.staff_a, bypass_csp=True)
    await staff.goto("/console/assignments")
    assert await staff.axe() == []
    await staff.page.get_by_label(NL["training.who"]).select_option(volunteer)
    await staff.page.get_by_label(NL["assignment_kind.buddy"]).check()
    await staff.page.get_by_label(NL["assignments.referral"]).select_option(taken_on["id"])
    await staff.page.locator("#assign button[type=submit]").click()
    await staff.page.get_by_text(NL["assignment_done.assigned"]).wait_for()
    assert await staff.axe() == []
    assignment_id = staff.page.url.split("/console/assignments/")[1].split("?")[0]
    made = await assignment_of(world, assignment_id)
    assert (made["kind"], made["volunteer_id"], made["referral_id"]) == ("buddy", volunteer, taken_on["id"])
    assert made["participant_pseudonym"] == taken_on["participant_pseudonym"]


async def accepted_referral(world: World) -> dict[str, Any]:
    made = await submitted_referral(world)
    async with world.platform.client(world.tenant.staff_a) as staff:
        assert (await staff.post(f"/api/v1/referrals/{made['id']}/accept")).status_code == 200
    return made


async def submitted_referral(world: World) -> dict[str, Any]:
    async with world.platform.client(world.tenant.partner_a_token) as partner:
        body = referral(world.tenant.library_a, world.tenant.partner_a, "Fatima el Idrissi")
        made = await partner.post("/api/v1/referrals", json=body)
    assert made.status_code == 201, made.text
    return dict(made.json())
