"""A course's group in the console (issue 20): the library's staff enrol participants (from a referral, by
pseudonym, with a new code), a full group fills its waiting list and more places move it up, each begun meeting's
register is kept with its totals, a participant is withdrawn and the group cancelled with a reason; the service's
refusals show on the form. Another library's staff and partners see only the enrolments they made and run nothing;
the coordinator reads. Browser tests click through as staff and as a partner, with axe."""

from __future__ import annotations

import re
import uuid
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from gateway.console.explain import explain
from gateway.console.messages import NL
from shared.clock import LOCAL_TIME
from shared.errors import Conflict
from shared.versions import version_conflict
from tests.console.conftest import ConsoleClient, World
from tests.console.seed import referral
from tests.console.test_browser import people  # noqa: F401  - the browser sessions fixture
from tests.waiting import eventually


def pseudonym() -> str:
    return f"P-CC{uuid.uuid4().hex[:8].upper()}"


async def running_group(world: World, *, capacity: int = 2, publish: bool = True) -> tuple[str, str]:
    """A course of library A with a group whose first meeting began an hour ago and whose second is next week."""
    now = datetime.now(LOCAL_TIME)
    meetings = [
        {"starts_at": (now - timedelta(hours=1)).isoformat(), "ends_at": (now + timedelta(hours=1)).isoformat()},
        {"starts_at": (now + timedelta(days=7)).isoformat(), "ends_at": (now + timedelta(days=7, hours=2)).isoformat()},
    ]
    details = {
        "title": f"Taal op de werkvloer {uuid.uuid4().hex[:6]}",
        "skill_area": "language",
        "audience": "job_seekers",
        "format": "in_person",
        "location": {"kind": "library_branch", "branch": "Centrale bibliotheek"},
    }
    async with world.platform.client(world.tenant.staff_a) as api:
        course = (await api.post("/api/v1/courses", json={"details": details})).json()
        if publish:
            assert (await api.post(f"/api/v1/courses/{course['id']}/publish")).status_code == 200
        made = await api.post(
            f"/api/v1/courses/{course['id']}/sessions", json={"meetings": meetings, "capacity": capacity}
        )
    assert made.status_code == 201, made.text
    return str(course["id"]), str(made.json()["id"])


async def enrolments_of(world: World, session_id: str) -> dict[str, dict[str, Any]]:
    """By pseudonym, as those who run the course see them."""
    async with world.platform.client(world.tenant.staff_a) as api:
        found = await api.get(f"/api/v1/sessions/{session_id}/enrolments", params={"limit": 200})
    assert found.status_code == 200, found.text
    return {e["participant_pseudonym"]: e for e in found.json()["items"]}


async def accepted_referral(world: World) -> dict[str, Any]:
    async with (
        world.platform.client(world.tenant.partner_a_token) as partner,
        world.platform.client(world.tenant.staff_a) as staff,
    ):
        body = referral(world.tenant.library_a, world.tenant.partner_a, "Fatima el Idrissi")
        made = await partner.post("/api/v1/referrals", json=body)
        assert made.status_code == 201, made.text
        assert (await staff.post(f"/api/v1/referrals/{made.json()['id']}/accept")).status_code == 200
    return dict(made.json())


def version_of(html: str, enrolment_id: str) -> str:
    found = re.search(rf'name="version-{enrolment_id}" value="(\d+)"', html)
    assert found is not None
    return found.group(1)


async def test_staff_enrol_fill_the_waiting_list_keep_the_register_and_cancel_the_group(
    console: ConsoleClient, world: World
) -> None:
    course_id, session_id = await running_group(world)
    path = f"/console/sessions/{session_id}"
    referred = await accepted_referral(world)
    await console.sign_in(world.tenant.staff_a)
    course_page = await console.get(f"/console/courses/{course_id}")
    assert f'href="{path}"' in course_page.text
    page = await console.get(path)
    assert page.status_code == 200 and f'value="{referred["id"]}"' in page.text  # the accepted referral to choose

    async def enrolled_from_referral() -> bool:  # the courses service learns of the referral from its event
        done = await console.post(f"{path}/enrol", {"referral_id": referred["id"]})
        return done.status_code == 303

    await eventually(enrolled_from_referral, what="the referral to reach the courses service")
    typed = pseudonym()
    assert (await console.post(f"{path}/enrol", {"pseudonym": typed})).status_code == 303
    assert (await console.post(f"{path}/enrol", {})).status_code == 303  # a new code, on the waiting list
    again = await console.post(f"{path}/enrol", {"pseudonym": typed})
    assert again.status_code == 409 and NL["problem.conflict_state"] in again.text and f'value="{typed}"' in again.text
    assert (await console.post(f"{path}/enrol", {"pseudonym": "Jan Jansen"})).status_code == 422
    found = await enrolments_of(world, session_id)
    assert found[referred["participant_pseudonym"]]["referral_id"] == referred["id"]
    assert sorted(e["status"] for e in found.values()) == ["confirmed", "confirmed", "waitlisted"]
    page = await console.get(path)
    assert page.text.count('data-status="waitlisted"') == 1 and typed in page.text

    fewer = await console.post(f"{path}/change", {"capacity": "1"})
    assert fewer.status_code == 422 and "below the 2 confirmed" in fewer.text
    more = await console.post(f"{path}/change", {"capacity": "3", "place": "Zaal 3"})
    assert more.status_code == 303, more.text
    found = await enrolments_of(world, session_id)
    assert sorted(e["status"] for e in found.values()) == ["confirmed"] * 3  # the waiting list moved up

    page = await console.get(path)
    present, absent, _ = (e["id"] for e in found.values())
    register = {
        "meeting": "1",
        f"present-{present}": "yes",
        f"version-{present}": version_of(page.text, present),
        f"present-{absent}": "no",
        f"version-{absent}": version_of(page.text, absent),
    }
    assert (await console.post(f"{path}/attendance", {"meeting": "1"})).status_code == 422  # nobody chosen
    recorded = await console.post(f"{path}/attendance", register)
    assert recorded.status_code == 303, recorded.text
    page = await console.get(recorded.headers["location"])
    assert NL["session_done.attendance"] in page.text
    totals = re.search(r'id="totals-1">(.*?)</tr>', page.text, re.S)
    assert totals is not None and re.findall(r'class="num">(\d+)', totals.group(1)) == ["1", "1", "1"]
    stale = await console.post(f"{path}/attendance", register)  # the versions seen before
    assert stale.status_code == 409 and NL["problem.conflict"] in stale.text
    fresh = {
        **register,
        f"version-{present}": version_of(page.text, present),
        f"version-{absent}": version_of(page.text, absent),
    }
    future = await console.post(f"{path}/attendance", {**fresh, "meeting": "2"})
    assert future.status_code == 422 and "has not started yet" in future.text
    found = await enrolments_of(world, session_id)
    marks = {e["id"]: [(m["meeting"], m["present"]) for m in e["attendance"]] for e in found.values()}
    assert marks[present] == [(1, True)] and marks[absent] == [(1, False)]

    _, other_session = await running_group(world)
    async with world.platform.client(world.tenant.staff_a) as api:
        elsewhere = await api.post(f"/api/v1/sessions/{other_session}/enrolments", json={})
    assert elsewhere.status_code == 201
    foreign = await console.post(f"{path}/withdraw", {"enrolment_id": elsewhere.json()["id"]})
    assert foreign.status_code == 422  # a form of this group withdraws from this group only
    assert [e["status"] for e in (await enrolments_of(world, other_session)).values()] == ["confirmed"]
    withdrawn = await console.post(f"{path}/withdraw", {"enrolment_id": absent, "reason": "Verhuisd"})
    assert withdrawn.status_code == 303, withdrawn.text
    assert "Verhuisd" in (await console.get(path)).text

    assert (await console.post(f"{path}/cancel", {"reason": ""})).status_code == 422
    assert (await console.post(f"{path}/merge", {})).status_code == 422
    cancelled = await console.post(f"{path}/cancel", {"reason": "De ruimte is niet beschikbaar"})
    assert cancelled.status_code == 303, cancelled.text
    assert {e["status"] for e in (await enrolments_of(world, session_id)).values()} == {"cancelled"}
    page = await console.get(path)
    assert 'data-status="cancelled"' in page.text and f'action="{path}/enrol"' not in page.text


async def test_the_register_is_one_request_and_a_problem_with_one_person_records_nobody(
    console: ConsoleClient, world: World
) -> None:
    _, session_id = await running_group(world, capacity=5)
    path = f"/console/sessions/{session_id}"
    async with world.platform.client(world.tenant.staff_a) as api:
        for _ in range(3):
            assert (await api.post(f"/api/v1/sessions/{session_id}/enrolments", json={})).status_code == 201
    await console.sign_in(world.tenant.staff_a)
    page = await console.get(path)
    ids = [e["id"] for e in (await enrolments_of(world, session_id)).values()]
    register = {"meeting": "1"}
    for n, enrolment_id in enumerate(ids):
        register[f"present-{enrolment_id}"] = "yes" if n else "no"
        register[f"version-{enrolment_id}"] = version_of(page.text, enrolment_id)
    async with world.platform.client(world.tenant.staff_a) as api:  # someone else records the last one meanwhile
        last = ids[-1]
        changed = await api.post(f"/api/v1/enrolments/{last}/attendance", json={"meeting": 1, "present": False})
    assert changed.status_code == 200, changed.text
    stale = await console.post(f"{path}/attendance", register)
    assert stale.status_code == 409 and NL["problem.conflict"] in stale.text
    marks = {e["id"]: e["attendance"] for e in (await enrolments_of(world, session_id)).values()}
    assert [len(marks[i]) for i in ids] == [0, 0, 1]  # the two fresh marks were not kept either

    page = await console.get(path)
    register[f"version-{last}"] = version_of(page.text, last)
    recorded = await console.post(f"{path}/attendance", register)
    assert recorded.status_code == 303, recorded.text
    found = {e["id"]: e["attendance"] for e in (await enrolments_of(world, session_id)).values()}
    assert [[(m["meeting"], m["present"]) for m in found[i]] for i in ids] == [[(1, False)], [(1, True)], [(1, True)]]


async def test_others_see_only_their_own_enrolments_and_run_nothing(console: ConsoleClient, world: World) -> None:
    _, session_id = await running_group(world, capacity=5)
    path = f"/console/sessions/{session_id}"
    theirs = pseudonym()
    async with world.platform.client(world.tenant.staff_a) as api:
        made = await api.post(f"/api/v1/sessions/{session_id}/enrolments", json={"participant_pseudonym": theirs})
    assert made.status_code == 201, made.text
    enrolment_id = made.json()["id"]

    own: dict[str, str] = {}
    for token in (world.tenant.staff_b, world.tenant.partner_b_token):
        await console.sign_in(token)
        page = await console.get(path)
        assert page.status_code == 200 and theirs not in page.text and enrolment_id not in page.text
        assert f'action="{path}/change"' not in page.text and f'action="{path}/attendance"' not in page.text
        own[token] = pseudonym()
        assert (await console.post(f"{path}/enrol", {"pseudonym": own[token]})).status_code == 303
        page = await console.get(path)
        assert own[token] in page.text and theirs not in page.text
        assert (await console.post(f"{path}/change", {"capacity": "50"})).status_code == 403
        assert (await console.post(f"{path}/cancel", {"reason": "Weg ermee"})).status_code == 403
        refused = await console.post(f"{path}/withdraw", {"enrolment_id": enrolment_id})
        assert refused.status_code == 404 and NL["problem.not-found"] in refused.text
        register = {"meeting": "1", f"present-{enrolment_id}": "no"}
        assert (await console.post(f"{path}/attendance", register)).status_code == 404
        mine = re.search(r'name="enrolment_id" value="([0-9a-f-]{36})"', page.text)
        assert mine is not None
        register = {"meeting": "1", f"present-{mine.group(1)}": "yes"}
        assert (await console.post(f"{path}/attendance", register)).status_code == 403  # only those who run it

    await console.sign_in(world.coordinator)
    page = await console.get(path)
    assert page.status_code == 200 and theirs in page.text and all(p in page.text for p in own.values())
    assert 'id="attendance-totals"' in page.text and f'action="{path}/' not in page.text
    assert (await console.post(f"{path}/enrol", {})).status_code == 403

    found = await enrolments_of(world, session_id)
    assert found[theirs]["status"] == "confirmed" and found[theirs]["attendance"] == []
    assert all(e["attendance"] == [] for e in found.values())
    async with world.platform.client(world.tenant.staff_a) as api:
        assert (await api.get(f"/api/v1/sessions/{session_id}")).json()["capacity"] == 5

    _, draft_session = await running_group(world, publish=False)
    await console.sign_in(world.tenant.staff_b)
    assert (await console.get(f"/console/sessions/{draft_session}")).status_code == 404
    await console.get("/console/courses")
    assert (await console.post(f"/console/sessions/{draft_session}/enrol", {})).status_code == 404


async def test_in_chromium_staff_enrol_keep_the_register_and_withdraw(
    people: Any,  # noqa: F811  - the fixture imported above
    world: World,
    artifacts: Path,
) -> None:
    course_id, _ = await running_group(world)
    staff = await people(world.tenant.staff_a, bypass_csp=True)
    page = staff.page
    await staff.goto(f"/console/courses/{course_id}")
    await page.locator("#course-sessions a").first.click()
    await page.locator("#step-enrol summary").click()
    await page.locator("#step-enrol").get_by_role("button", name=NL["session_step.enrol"]).click()
    await page.get_by_text(NL["session_done.enrol"]).wait_for()
    assert await page.locator("#confirmed tbody tr").count() == 1
    assert await staff.axe() == []

    await page.locator("#register-1 summary").click()
    await page.locator("#register-1").get_by_label(NL["session_page.present"]).check()
    await page.locator("#register-1").get_by_role("button", name=NL["session_step.attendance"]).click()
    await page.get_by_text(NL["session_done.attendance"]).wait_for()
    assert await page.locator("#totals-1 td").all_inner_texts() == ["1", "0", "0"]
    await page.screenshot(path=str(artifacts / "staff-session.png"), full_page=True)
    assert await staff.axe() == []

    await page.locator("#confirmed details.inline-step summary").click()
    await page.locator("#confirmed details.inline-step input[name=reason]").fill("Ziek")
    await page.locator("#confirmed details.inline-step button").click()
    await page.get_by_text(NL["session_done.withdraw"]).wait_for()
    assert await page.locator("#confirmed").count() == 0
    assert await staff.axe() == []


async def test_in_chromium_a_partner_enrols_a_participant_in_a_librarys_group(
    people: Any,  # noqa: F811  - the fixture imported above
    world: World,
) -> None:
    _, session_id = await running_group(world)
    partner = await people(world.tenant.partner_b_token, bypass_csp=True)
    page = partner.page
    await partner.goto(f"/console/sessions/{session_id}")
    await page.locator("#step-enrol summary").click()
    typed = pseudonym()
    await page.get_by_label(NL["session_page.pseudonym"]).fill(typed)
    await page.locator("#step-enrol").get_by_role("button", name=NL["session_step.enrol"]).click()
    await page.get_by_text(NL["session_done.enrol"]).wait_for()
    assert typed in await page.locator("#confirmed").inner_text()
    assert await page.locator("#register-1").count() == 0  # the library runs the group: no register for others
    assert await partner.axe() == []


def test_only_a_version_conflict_is_explained_as_someone_elses_change() -> None:
    """Every 409 said 'someone else changed this in the meantime': an intake recorded before its time, an address
    that applied already, more hours than a day has."""
    stale = explain("nl", version_conflict("session 7", 3, {"version": 4}))
    refused = explain(
        "nl", Conflict("the intake is planned for 2026-12-05T13:13: record that it took place once it has")
    )
    assert stale.sentence == NL["problem.conflict"] and refused.sentence == NL["problem.conflict_state"]
    assert refused.status == 409 and "record that it took place once it has" in refused.detail
