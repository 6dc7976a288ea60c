"""A school that supplies interns does its part (issue 24), over HTTP against the real platform: it registers its
intern with a period and learning goals, confirms the period, sees the intern's assignments and hours, ends the
period, and receives the library's end-of-period assessment (in the intern's record, and word of it in its feed,
without the assessment's text). As an attacker: another school, a volunteer organisation, a volunteer who is no
intern, another library's staff, a suspended partnership, bad input: 4xx, nothing changes.
"""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

import httpx
import pytest
import sqlalchemy as sa

from services.volunteers import store
from shared.clock import local_today
from shared.tenancy import Role
from tests.fixtures.platform import RunningPlatform
from tests.services.volunteers.volunteer_tenant import (
    VolunteerTenant,
    activate_partnership,
    active_volunteer,
    call,
    course_needing_volunteers,
    known_to_volunteers,
    opening_for,
    person,
    register_partner,
    start_intern,
    volunteer_tenant,
)
from tests.waiting import eventually

GOALS = ["Zelfstandig een digicafé begeleiden", "Uitleg geven over DigiD"]
ASSESSMENT = {
    "summary": "Liep zelfstandig het digicafé; uitleg over DigiD nog met hulp.",
    "goals": [{"goal": GOALS[0], "result": "achieved"}, {"goal": GOALS[1], "result": "partly"}],
}


@pytest.fixture(scope="module")
async def vt(platform: RunningPlatform) -> VolunteerTenant:
    return await volunteer_tenant(platform)


async def register(platform: RunningPlatform, vt: VolunteerTenant, name: str = "Lotte Stagiair") -> dict[str, Any]:
    today = local_today()
    intern = await call(
        platform,
        vt.school_token,
        "POST",
        "/api/v1/interns",
        {
            "school_partner_id": vt.school,
            "library": vt.library_a,
            "person": person(name),
            "starts_on": str(today - timedelta(days=7)),
            "ends_on": str(today + timedelta(days=60)),
            "supervisor": {"name": "Docent Bakker", "email": "bakker@roc.example"},
            "learning_goals": GOALS,
            "hours": 320,
        },
    )
    assert not isinstance(intern, httpx.Response), intern.text
    return dict(intern)


async def feed_of(platform: RunningPlatform, token: str, partner_id: str, volunteer_id: str) -> list[dict[str, Any]]:
    async with platform.client(token) as api:
        response = await api.get(f"/api/v1/partners/{partner_id}/feed", params={"limit": 200})
    assert response.status_code == 200, response.text
    return [e for e in response.json()["items"] if e["data"].get("volunteer_id") == volunteer_id]


async def test_a_school_registers_confirms_follows_and_ends_its_interns_period_and_receives_the_assessment(
    platform: RunningPlatform, vt: VolunteerTenant
) -> None:
    intern = await register(platform, vt)
    assert intern["internship"]["learning_goals"] == GOALS and intern["internship"]["confirmed_at"] is None
    await start_intern(platform, vt, intern["id"])

    confirmed = await call(platform, vt.school_token, "POST", f"/api/v1/interns/{intern['id']}/confirm")
    assert not isinstance(confirmed, httpx.Response), confirmed.text
    assert confirmed["internship"]["confirmed_at"] is not None
    assert confirmed["internship"]["confirmed_by"].startswith(f"partner:{vt.school}:")
    again = await call(platform, vt.school_token, "POST", f"/api/v1/interns/{intern['id']}/confirm")
    assert again.status_code == 409

    # The library assigns the intern and logs hours: the school follows both.
    opening = await opening_for(platform, vt, await course_needing_volunteers(platform, vt, 1, title="Taalcafé"))
    assignment = await call(
        platform,
        vt.staff_a,
        "POST",
        "/api/v1/assignments",
        {"volunteer_id": intern["id"], "kind": "course", "opening_id": opening["id"]},
    )
    assert not isinstance(assignment, httpx.Response), assignment.text
    today = local_today()
    await call(
        platform,
        vt.staff_a,
        "POST",
        f"/api/v1/assignments/{assignment['id']}/hours",
        {"worked_on": str(today), "minutes": 240},
    )
    seen = await call(platform, vt.school_token, "GET", "/api/v1/assignments", volunteer_id=intern["id"])
    assert [a["id"] for a in seen["items"]] == [assignment["id"]]
    hours = await call(platform, vt.school_token, "GET", "/api/v1/volunteers/hours", volunteer_id=intern["id"])
    assert [(t["volunteer_id"], t["minutes"]) for t in hours["items"]] == [(intern["id"], 240)]

    # Before the period's end there is no assessment yet; the school ends the period early, then the library assesses.
    early = await call(platform, vt.staff_a, "PUT", f"/api/v1/interns/{intern['id']}/assessment", ASSESSMENT)
    assert early.status_code == 409
    ended = await call(platform, vt.school_token, "POST", f"/api/v1/interns/{intern['id']}/end", {"reason": "ziek"})
    assert not isinstance(ended, httpx.Response), ended.text
    assert ended["status"] == "ended" and ended["internship"]["ended_on"] == str(today)
    assessed = await call(platform, vt.staff_a, "PUT", f"/api/v1/interns/{intern['id']}/assessment", ASSESSMENT)
    assert not isinstance(assessed, httpx.Response), assessed.text

    read = await call(platform, vt.school_token, "GET", f"/api/v1/volunteers/{intern['id']}")
    assessment = read["internship"]["assessment"]
    assert (assessment["summary"], assessment["goals"]) == (ASSESSMENT["summary"], ASSESSMENT["goals"])
    # The school's feed says what happened, without the assessment's words.
    wanted = {"intern.registered", "intern.period_confirmed", "intern.ended", "intern.assessed"}

    async def all_in_feed() -> list[dict[str, Any]] | None:
        entries = await feed_of(platform, vt.school_token, vt.school, intern["id"])
        kinds = {e["type"].removeprefix("nl.partnernet.").rsplit(".v", 1)[0] for e in entries}
        return entries if wanted <= kinds else None

    entries = await eventually(all_in_feed, what="the intern's steps in the school's feed")
    (assessed_entry,) = [e for e in entries if "intern.assessed" in e["type"]]
    assert (assessed_entry["data"]["goals"], assessed_entry["data"]["goals_achieved"]) == (2, 1)
    assert str(ASSESSMENT["summary"]) not in str(entries) and "Lotte" not in str(entries)

    # Each act under its actor: the school's person for the school, the library's for the library.
    export = await call(platform, vt.staff_a, "GET", f"/api/v1/volunteers/{intern['id']}/export")
    actors = {h["step"]: h["actor"] for h in export["history"]}
    assert actors["period_confirmed"].startswith(f"partner:{vt.school}:")
    assert actors["end"].startswith(f"partner:{vt.school}:")
    assert not actors["assessed"].startswith("partner:")


async def test_a_school_acts_only_on_its_own_interns_while_its_partnership_runs(platform: RunningPlatform) -> None:
    vt = await volunteer_tenant(platform)  # a tenant of its own: its school's partnership is suspended here
    other_school = await register_partner(platform, vt.base, "Andere school", "educational_institution")
    other_partnership = await activate_partnership(platform, vt.base, other_school, vt.library_a, "intern_supplier")
    await known_to_volunteers(platform, [vt.library_a], [other_school], [other_partnership])
    other_school_token = platform.token(Role.PARTNER, municipality=vt.municipality, partner=other_school)
    intern = await register(platform, vt)
    volunteer = await active_volunteer(platform, vt)
    confirm = f"/api/v1/interns/{intern['id']}/confirm"
    attempts = [
        (other_school_token, "POST", confirm, None, 404),  # another school's intern
        (vt.organisation_token, "POST", confirm, None, 404),  # a volunteer organisation
        (vt.school_token, "POST", f"/api/v1/interns/{volunteer['id']}/confirm", None, 404),  # not theirs, no intern
        (vt.staff_a, "POST", confirm, None, 403),  # the school confirms, not the library
        (vt.school_token, "PUT", f"/api/v1/interns/{intern['id']}/assessment", ASSESSMENT, 403),  # the library assesses
        (vt.staff_b, "PUT", f"/api/v1/interns/{intern['id']}/assessment", ASSESSMENT, 404),  # another library
        (vt.staff_a, "PUT", f"/api/v1/interns/{volunteer['id']}/assessment", ASSESSMENT, 404),  # no intern
        (vt.school_token, "POST", confirm, {"expected_version": 0}, 422),
        (vt.staff_a, "PUT", f"/api/v1/interns/{intern['id']}/assessment", {"summary": ""}, 422),
        (
            vt.staff_a,
            "PUT",
            f"/api/v1/interns/{intern['id']}/assessment",
            {**ASSESSMENT, "goals": [{"goal": "x"}]},
            422,
        ),
        (
            vt.staff_a,
            "PUT",
            f"/api/v1/interns/{intern['id']}/assessment",
            {**ASSESSMENT, "goals": [{"goal": "x", "result": "brilliant"}]},
            422,
        ),
        (vt.staff_a, "PUT", f"/api/v1/interns/{intern['id']}/assessment", {**ASSESSMENT, "grade": 9}, 422),
    ]
    for token, method, path, body, status in attempts:
        answer = await call(platform, token, method, path, body)
        assert isinstance(answer, httpx.Response), (path, body, answer)
        assert answer.status_code == status, (path, body, answer.status_code, answer.text)
        assert answer.headers["content-type"].startswith("application/problem+json")

    # A suspended partnership: the school neither confirms nor ends until it is resumed.
    page = await call(platform, vt.staff_a, "GET", "/api/v1/partnerships", partner_id=vt.school)
    (partnership,) = page["items"]
    await call(platform, vt.staff_a, "POST", f"/api/v1/partnerships/{partnership['id']}/suspend")

    async def paused() -> bool:
        p = store.known_partnerships
        async with platform.services["volunteers"].sessions() as db:
            active = (
                await db.execute(sa.select(p.c.activated).where(p.c.id == uuid.UUID(partnership["id"])))
            ).scalar_one()
        return not active

    await eventually(paused, what="the suspension to reach the volunteers service")
    end = await call(platform, vt.school_token, "POST", f"/api/v1/interns/{intern['id']}/end", {"reason": "ziek"})
    assert end.status_code == 403, end
    assert (await call(platform, vt.school_token, "POST", confirm)).status_code == 403
    unchanged = await call(platform, vt.staff_a, "GET", f"/api/v1/volunteers/{intern['id']}")
    assert unchanged["status"] == intern["status"] and unchanged["version"] == intern["version"]
    assert unchanged["internship"]["confirmed_at"] is None and unchanged["internship"]["assessment"] is None
    history = (await call(platform, vt.staff_a, "GET", f"/api/v1/volunteers/{intern['id']}/export"))["history"]
    assert [h["step"] for h in history if h["step"]] == []
