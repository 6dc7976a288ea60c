"""A volunteer organisation does its part (issue 24), over HTTP against the real platform: where its partnership
with the library brings `training`, it adds its own modules, schedules their sessions and records who attended
and completed them, which gives the library's volunteers the same qualifications as the library's own modules; it
sees the hours and assignments of the volunteers it supplied (only those); and its feed tells it when a
qualification of one of them is about to run out. As an attacker: without the contribution, for another library,
another library's volunteer, another organisation's session, a suspended partnership, bad input: 4xx, nothing
changes.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import msgspec
import pytest
import sqlalchemy as sa

from services.volunteers import store
from services.volunteers.commands.training_needs import tell_suppliers_of_expiring_qualifications
from services.volunteers.domain.training import add_months
from shared.clock import FixedClock, local_date, local_today
from shared.outbox import outbox
from shared.unit_of_work import UnitOfWork
from tests.e2e.partner_feed import feed_entries
from tests.fixtures.platform import RunningPlatform
from tests.services.volunteers.volunteer_tenant import (
    CODE,
    VolunteerTenant,
    active_volunteer,
    bring_training,
    call,
    course_needing_volunteers,
    module_body,
    modules_given_by,
    opening_for,
    partnership_of,
    person,
    qualify,
    volunteer_tenant,
)
from tests.waiting import eventually

YESTERDAY = datetime.now(UTC) - timedelta(days=1)


@pytest.fixture(scope="module")
async def vt(platform: RunningPlatform) -> VolunteerTenant:
    return await volunteer_tenant(platform)


async def organisation_session(platform: RunningPlatform, vt: VolunteerTenant) -> tuple[dict[str, Any], dict[str, Any]]:
    """A module of the organisation for library A and a session of it that took place yesterday, both by the
    organisation itself."""
    module = await call(platform, vt.organisation_token, "POST", "/api/v1/trainings/modules", module_body(vt.library_a))
    assert not isinstance(module, httpx.Response), module.text
    session = await call(
        platform,
        vt.organisation_token,
        "POST",
        f"/api/v1/trainings/modules/{module['id']}/sessions",
        {"starts_at": YESTERDAY.isoformat(), "place": "Wijkcentrum De Brug", "capacity": 10},
    )
    assert not isinstance(session, httpx.Response), session.text
    return dict(module), dict(session)


async def outbox_data(platform: RunningPlatform, event_type: str) -> list[dict[str, Any]]:
    async with platform.services["volunteers"].sessions() as session:
        rows = (await session.execute(sa.select(outbox.c.payload).where(outbox.c.event_type == event_type))).all()
    return [msgspec.json.decode(row.payload)["data"] for row in rows]


async def test_a_volunteer_organisation_whose_partnership_brings_training_trains_the_librarys_volunteers(
    platform: RunningPlatform, vt: VolunteerTenant
) -> None:
    # Its partnership supplies volunteers but brings no training: it may not add a module of its own.
    refused = await call(
        platform, vt.organisation_token, "POST", "/api/v1/trainings/modules", module_body(vt.library_a)
    )
    assert refused.status_code == 403, refused.text
    assert "training" in refused.json()["detail"]
    assert await modules_given_by(platform, vt, vt.organisation) == []

    await bring_training(platform, vt, vt.organisation)
    module, session = await organisation_session(platform, vt)
    assert (module["provider_partner_id"], module["qualification"], module["library"]) == (
        vt.organisation,
        CODE,
        vt.library_a,
    )

    # One of the library's own volunteers (not one the organisation supplied) completes the training.
    volunteer = await active_volunteer(platform, vt)
    recorded = await call(
        platform,
        vt.organisation_token,
        "POST",
        f"/api/v1/trainings/sessions/{session['id']}/attendance",
        {"volunteer_id": volunteer["id"], "attended": True, "completed": True},
    )
    assert not isinstance(recorded, httpx.Response), recorded.text
    (attendance,) = recorded["attendance"]
    assert (attendance["volunteer_id"], attendance["completed"]) == (volunteer["id"], True)

    # The same qualification the library's own module gives, valid for the module's 24 months.
    held = await call(platform, vt.staff_a, "GET", "/api/v1/volunteers/qualifications", volunteer_id=volunteer["id"])
    (qualification,) = held["items"]
    obtained = local_date(YESTERDAY)
    assert (qualification["code"], qualification["obtained_on"], qualification["valid"]) == (CODE, str(obtained), True)
    assert qualification["valid_until"] == str(add_months(obtained, 24) - timedelta(days=1))
    # The library's staff see the organisation's session and its attendance; the organisation sees it too.
    seen = await call(platform, vt.staff_a, "GET", f"/api/v1/trainings/sessions/{session['id']}")
    assert [a["volunteer_id"] for a in seen["attendance"]] == [volunteer["id"]]

    # The acting partner is the actor: in the volunteer's history, on the attendance, in the events.
    export = await call(platform, vt.staff_a, "GET", f"/api/v1/volunteers/{volunteer['id']}/export")
    (line,) = [h for h in export["history"] if h["step"] == "qualified"]
    assert line["actor"].startswith(f"partner:{vt.organisation}:"), line
    async with platform.services["volunteers"].sessions() as db:
        recorded_by = (
            await db.execute(
                sa.select(store.attendance.c.recorded_by).where(
                    store.attendance.c.session_id == uuid.UUID(session["id"])
                )
            )
        ).scalar_one()
    assert recorded_by == line["actor"]
    qualified = [
        d
        for d in await outbox_data(platform, "nl.partnernet.volunteer.qualified.v1")
        if d["volunteer_id"] == volunteer["id"]
    ]
    assert [(d["granted_by_partner_id"], d["qualification"]) for d in qualified] == [(vt.organisation, CODE)]
    scheduled = [
        d
        for d in await outbox_data(platform, "nl.partnernet.training_session.scheduled.v1")
        if d["session_id"] == session["id"]
    ]
    assert [d["scheduled_by_partner_id"] for d in scheduled] == [vt.organisation]
    assert "name" not in qualified[0] and "email" not in qualified[0]


async def test_a_partner_trains_only_where_its_partnership_with_that_library_brings_training(
    platform: RunningPlatform, vt: VolunteerTenant
) -> None:
    await bring_training(platform, vt, vt.organisation)
    module, session = await organisation_session(platform, vt)
    attendance_path = f"/api/v1/trainings/sessions/{session['id']}/attendance"
    own = await active_volunteer(platform, vt)
    other_library = await call(
        platform,
        vt.staff_b,
        "POST",
        "/api/v1/applications",
        {"person": person("Bram Other"), "certificate_of_conduct_required": False},
    )
    library_module = await call(
        platform,
        vt.staff_a,
        "POST",
        "/api/v1/trainings/modules",
        {"title": "Bibliotheekmodule", "delivered_by": "library", "qualification": "balie"},
    )
    library_session = await call(
        platform,
        vt.staff_a,
        "POST",
        f"/api/v1/trainings/modules/{library_module['id']}/sessions",
        {"starts_at": YESTERDAY.isoformat(), "place": "Centrale bibliotheek"},
    )
    completed = {"attended": True, "completed": True}
    attempts = [
        # a partner without a partnership with the library, one for another library, a school
        (vt.stranger_token, "POST", "/api/v1/trainings/modules", module_body(vt.library_a), 403),
        (vt.organisation_token, "POST", "/api/v1/trainings/modules", module_body(vt.library_b), 403),
        (vt.school_token, "POST", "/api/v1/trainings/modules", module_body(vt.library_a), 403),
        # a module it does not give itself
        (
            vt.organisation_token,
            "POST",
            "/api/v1/trainings/modules",
            module_body(vt.library_a, delivered_by="library"),
            403,
        ),
        (
            vt.organisation_token,
            "POST",
            "/api/v1/trainings/modules",
            module_body(vt.library_a, provider_partner_id=vt.stranger),
            403,
        ),
        # another organisation's module or session, the library's own session
        (
            vt.stranger_token,
            "POST",
            f"/api/v1/trainings/modules/{module['id']}/sessions",
            {"starts_at": YESTERDAY.isoformat(), "place": "Elders"},
            404,
        ),
        (vt.stranger_token, "POST", attendance_path, {"volunteer_id": own["id"], **completed}, 404),
        (
            vt.organisation_token,
            "POST",
            f"/api/v1/trainings/sessions/{library_session['id']}/attendance",
            {"volunteer_id": own["id"], **completed},
            404,
        ),
        # another library's volunteer at its session
        (vt.organisation_token, "POST", attendance_path, {"volunteer_id": other_library["id"], **completed}, 404),
        # bad input: completed without attending, an unknown field, no library, a session ending before it starts
        (
            vt.organisation_token,
            "POST",
            attendance_path,
            {"volunteer_id": own["id"], "attended": False, "completed": True},
            422,
        ),
        (vt.organisation_token, "POST", attendance_path, {"volunteer_id": own["id"], "grade": 10}, 422),
        (vt.organisation_token, "POST", attendance_path, {"volunteer_id": "not-an-id"}, 422),
        (
            vt.organisation_token,
            "POST",
            "/api/v1/trainings/modules",
            {**module_body(vt.library_a), "library": None},
            422,
        ),
        (
            vt.organisation_token,
            "POST",
            f"/api/v1/trainings/modules/{module['id']}/sessions",
            {"starts_at": YESTERDAY.isoformat(), "ends_at": (YESTERDAY - timedelta(hours=1)).isoformat(), "place": "X"},
            422,
        ),
    ]
    for token, method, path, body, status in attempts:
        answer = await call(platform, token, method, path, body)
        assert isinstance(answer, httpx.Response), (path, body, answer)
        assert answer.status_code == status, (path, body, answer.status_code, answer.text)
        assert answer.headers["content-type"].startswith("application/problem+json")

    # Nothing changed: no module of the stranger or for library B, no attendance recorded, no qualification.
    assert await modules_given_by(platform, vt, vt.stranger) == []
    assert [m["library"] for m in await modules_given_by(platform, vt, vt.organisation)] == [vt.library_a] * len(
        await modules_given_by(platform, vt, vt.organisation)
    )
    assert (await call(platform, vt.staff_a, "GET", f"/api/v1/trainings/sessions/{session['id']}"))["attendance"] == []
    assert (await call(platform, vt.staff_a, "GET", f"/api/v1/trainings/sessions/{library_session['id']}"))[
        "attendance"
    ] == []
    for volunteer_id, staff in ((own["id"], vt.staff_a), (other_library["id"], vt.staff_b)):
        held = await call(platform, staff, "GET", "/api/v1/volunteers/qualifications", volunteer_id=volunteer_id)
        assert held["items"] == []


async def test_a_suspended_partnership_trains_nobody_until_it_is_resumed(platform: RunningPlatform) -> None:
    vt = await volunteer_tenant(platform)  # a tenant of its own: its partnership is suspended here
    await bring_training(platform, vt, vt.organisation)
    module, session = await organisation_session(platform, vt)
    volunteer = await active_volunteer(platform, vt)
    partnership = await partnership_of(platform, vt, vt.organisation)
    suspended = await call(platform, vt.staff_a, "POST", f"/api/v1/partnerships/{partnership['id']}/suspend")
    assert suspended["status"] == "suspended", suspended
    attendance = {"volunteer_id": volunteer["id"], "attended": True, "completed": True}
    path = f"/api/v1/trainings/sessions/{session['id']}/attendance"

    async def paused() -> bool:
        p = store.known_partnerships
        async with platform.services["volunteers"].sessions() as db:
            active = (
                await db.execute(sa.select(p.c.activated).where(p.c.id == uuid.UUID(partnership["id"])))
            ).scalar_one()
        return not active

    await eventually(paused, what="the suspension to reach the volunteers service")
    refused = await call(platform, vt.organisation_token, "POST", path, attendance)
    assert refused.status_code == 403 and "training" in refused.json()["detail"], refused.text
    new_session = await call(
        platform,
        vt.organisation_token,
        "POST",
        f"/api/v1/trainings/modules/{module['id']}/sessions",
        {"starts_at": YESTERDAY.isoformat(), "place": "Wijkcentrum"},
    )
    assert new_session.status_code == 403
    assert (await call(platform, vt.staff_a, "GET", f"/api/v1/trainings/sessions/{session['id']}"))["attendance"] == []

    resumed = await call(platform, vt.staff_a, "POST", f"/api/v1/partnerships/{partnership['id']}/resume")
    assert resumed["status"] == "active", resumed

    async def recorded() -> dict[str, Any] | None:
        answer = await call(platform, vt.organisation_token, "POST", path, attendance)
        return None if isinstance(answer, httpx.Response) else dict(answer)

    after = await eventually(recorded, what="the resumption to reach the volunteers service")
    assert after["attendance"][0]["completed"] is True


async def supplied_volunteer(platform: RunningPlatform, vt: VolunteerTenant, name: str) -> dict[str, Any]:
    """Applied through the volunteer organisation, taken through the pipeline by the library's staff."""
    applied = await call(
        platform,
        vt.organisation_token,
        "POST",
        "/api/v1/applications",
        {"person": person(name), "library": vt.library_a, "certificate_of_conduct_required": False},
    )
    assert not isinstance(applied, httpx.Response), applied.text
    for step in ("start_intake", "start_screening", "activate"):
        moved = await call(platform, vt.staff_a, "POST", f"/api/v1/volunteers/{applied['id']}/{step}")
        assert not isinstance(moved, httpx.Response), moved.text
    assert moved["via_partner_id"] == vt.organisation
    return dict(moved)


async def test_a_volunteer_organisation_sees_the_hours_and_assignments_of_the_volunteers_it_supplied_only(
    platform: RunningPlatform, vt: VolunteerTenant
) -> None:
    supplied = await supplied_volunteer(platform, vt, "Mees Geleverd")
    own = await active_volunteer(platform, vt)
    opening = await opening_for(platform, vt, await course_needing_volunteers(platform, vt, 2, title="Digicafé"))
    today = local_today()
    assignments = {}
    for volunteer, minutes in ((supplied, 150), (own, 45)):
        assigned = await call(
            platform,
            vt.staff_a,
            "POST",
            "/api/v1/assignments",
            {"volunteer_id": volunteer["id"], "kind": "course", "opening_id": opening["id"]},
        )
        assert not isinstance(assigned, httpx.Response), assigned.text
        logged = await call(
            platform,
            vt.staff_a,
            "POST",
            f"/api/v1/assignments/{assigned['id']}/hours",
            {"worked_on": str(today), "minutes": minutes, "note": "Hielp mevrouw Jansen met DigiD"},
        )
        assert logged["minutes"] == minutes, logged
        assignments[volunteer["id"]] = assigned

    org = vt.organisation_token
    totals = await call(platform, org, "GET", "/api/v1/volunteers/hours", month=f"{today:%Y-%m}")
    assert [(t["volunteer_id"], t["minutes"]) for t in totals["items"]] == [(supplied["id"], 150)]
    listed = await call(platform, org, "GET", "/api/v1/assignments")
    assert {a["id"] for a in listed["items"]} == {assignments[supplied["id"]]["id"]}
    entries = await call(platform, org, "GET", f"/api/v1/assignments/{assignments[supplied['id']]['id']}/hours")
    (entry,) = entries["items"]
    assert (entry["minutes"], entry["note"]) == (150, None)  # the library's notes may name people: not for it

    # Not another's: the library's own volunteer, nor anything for a partner that supplied nobody.
    other = await call(platform, org, "GET", f"/api/v1/assignments/{assignments[own['id']]['id']}/hours")
    assert other.status_code == 404
    assert (await call(platform, vt.stranger_token, "GET", "/api/v1/volunteers/hours"))["items"] == []
    stranger = await call(
        platform, vt.stranger_token, "GET", f"/api/v1/assignments/{assignments[supplied['id']]['id']}/hours"
    )
    assert stranger.status_code == 404
    assert (await call(platform, org, "GET", "/api/v1/volunteers/hours", month="13-2026")).status_code == 422


async def test_a_volunteer_organisation_is_told_when_a_qualification_of_someone_it_supplied_runs_out_soon(
    platform: RunningPlatform, vt: VolunteerTenant
) -> None:
    now = datetime.now(UTC)
    expires_on = local_date(now) + timedelta(days=30)
    taken = datetime.combine(add_months(expires_on + timedelta(days=1), -12), datetime.min.time(), UTC)
    supplied = await supplied_volunteer(platform, vt, "Noor Verloopt")
    own = await active_volunteer(platform, vt)
    for volunteer in (supplied, own):
        await qualify(
            platform, vt, volunteer["id"], "voorlezen", session_start=taken.replace(hour=9), validity_months=12
        )

    work = UnitOfWork(platform.services["volunteers"].sessions, FixedClock(now))
    told = await tell_suppliers_of_expiring_qualifications(work, now)
    assert told >= 0  # the platform's own periodic job may have told it a moment earlier

    async def in_feed() -> list[dict[str, Any]]:
        entries = await feed_entries(
            platform, vt.organisation_token, vt.organisation, "qualification.renewal_requested"
        )
        return [e for e in entries if e["data"]["volunteer_id"] == supplied["id"]]

    (entry,) = await eventually(in_feed, what="the renewal request in the organisation's feed")
    assert (entry["data"]["qualification"], entry["data"]["valid_until"], entry["library"]) == (
        "voorlezen",
        str(expires_on),
        vt.library_a,
    )
    assert "name" not in entry["data"] and "email" not in entry["data"]
    # Once per last valid day; the library's own volunteer concerns no partner; others hear nothing.
    await tell_suppliers_of_expiring_qualifications(work, now)
    assert len(await in_feed()) == 1
    renewals = await outbox_data(platform, "nl.partnernet.qualification.renewal_requested.v1")
    assert own["id"] not in {d["volunteer_id"] for d in renewals}
    assert await feed_entries(platform, vt.stranger_token, vt.stranger, "qualification.") == []
