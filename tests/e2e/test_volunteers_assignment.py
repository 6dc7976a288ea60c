"""Qualifications and assignment over HTTP, with the courses service's events as real envelopes: courses that
need guidance open assignments, qualifications gate assignments, hours are summed per volunteer, library and month,
an intern is assigned within the internship (training itself: test_volunteers_training.py).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from shared.clock import local_today
from shared.contracts.courses.events import Audience, CourseCancelled, CourseUpdated
from shared.contracts.vocabulary import SkillArea
from tests.fixtures.platform import RunningPlatform
from tests.services.volunteers.volunteer_tenant import (
    VolunteerTenant,
    active_volunteer,
    call,
    course_needing_volunteers,
    give_certificate,
    opening_for,
    person,
    publish_event,
    qualify,
    referred_participant,
    start_intern,
    volunteer_tenant,
)
from tests.waiting import eventually

YESTERDAY = datetime.now(UTC) - timedelta(days=1)


@pytest.fixture(scope="module")
async def vt(platform: RunningPlatform) -> VolunteerTenant:
    """One tenant for the module: each test makes its own vacancies, volunteers and courses in it."""
    return await volunteer_tenant(platform)


async def assign(platform: RunningPlatform, vt: VolunteerTenant, volunteer_id: str, **body: Any) -> Any:
    async with platform.client(vt.staff_a) as api:
        return await api.post("/api/v1/assignments", json={"volunteer_id": volunteer_id, **body})


# --- open assignments from the courses service ---------------------------------------------------


async def test_a_course_that_needs_volunteers_appears_as_an_open_assignment(
    platform: RunningPlatform, vt: VolunteerTenant
) -> None:
    needing = await course_needing_volunteers(platform, vt, 1, title="Digisterker")
    not_needing = await course_needing_volunteers(platform, vt, 0, title="Taalcafé")
    opening = await opening_for(platform, vt, needing)
    assert opening["title"] == "Digisterker"
    assert opening["volunteers_needed"] == 1 and opening["places_left"] == 1
    assert opening["library"] == vt.library_a

    volunteer = await active_volunteer(platform, vt)
    first = await assign(platform, vt, volunteer["id"], kind="course", opening_id=opening["id"])
    assert first.status_code == 201, first.text
    assert first.json()["course_id"] == str(needing)
    second_volunteer = await active_volunteer(platform, vt)
    full = await assign(platform, vt, second_volunteer["id"], kind="course", opening_id=opening["id"])

    assert full.status_code == 409
    filled = await call(platform, vt.staff_a, "GET", f"/api/v1/open-assignments/{opening['id']}")
    assert filled["places_left"] == 0
    still_open = await call(platform, vt.staff_a, "GET", "/api/v1/open-assignments")
    assert opening["id"] not in [o["id"] for o in still_open["items"]]
    everything = await call(platform, vt.staff_a, "GET", "/api/v1/open-assignments", open_only="false")
    assert str(not_needing) not in [o["course_id"] for o in everything["items"]]
    async with platform.client(vt.staff_b) as api:
        assert (await api.get(f"/api/v1/open-assignments/{opening['id']}")).status_code == 404
    async with platform.client(vt.organisation_token) as api:
        assert (await api.get("/api/v1/open-assignments")).status_code == 403


async def test_the_open_assignment_follows_course_updates_and_closes_when_the_course_is_cancelled(
    platform: RunningPlatform, vt: VolunteerTenant
) -> None:
    course_id = await course_needing_volunteers(platform, vt, 2, title="Digicafé")
    opening = await opening_for(platform, vt, course_id)
    volunteer = await active_volunteer(platform, vt)
    assignment = (await assign(platform, vt, volunteer["id"], kind="course", opening_id=opening["id"])).json()
    updated = CourseUpdated(
        course_id=course_id,
        municipality=vt.municipality,
        library=vt.library_a,
        offered_by_partner_id=None,
        title="Digicafé (op donderdag)",
        skill_area=SkillArea.DIGITAL,
        audience=Audience.SENIORS,
        audience_partner_id=None,
        volunteers_needed=1,
        price_cents=0,
        course_version=2,
    )
    await publish_event(platform.settings.nats_url, updated, municipality=vt.municipality, library=vt.library_a)

    async def renamed() -> dict[str, Any] | None:
        found = await call(platform, vt.staff_a, "GET", f"/api/v1/open-assignments/{opening['id']}")
        return found if found["title"] == "Digicafé (op donderdag)" else None

    assert (await eventually(renamed, what="the course update"))["places_left"] == 0
    cancelled = CourseCancelled(
        course_id=course_id,
        municipality=vt.municipality,
        library=vt.library_a,
        offered_by_partner_id=None,
        reason="te weinig aanmeldingen",
    )
    await publish_event(platform.settings.nats_url, cancelled, municipality=vt.municipality, library=vt.library_a)

    async def closed() -> dict[str, Any] | None:
        found = await call(platform, vt.staff_a, "GET", f"/api/v1/open-assignments/{opening['id']}")
        return found if found["cancelled_at"] else None

    await eventually(closed, what="the course cancellation")
    assert (await call(platform, vt.staff_a, "GET", f"/api/v1/assignments/{assignment['id']}"))["status"] == "ended"
    late = await assign(
        platform, vt, (await active_volunteer(platform, vt))["id"], kind="course", opening_id=opening["id"]
    )
    assert late.status_code == 409


# --- qualifications gate assignments -------------------------------------------------------------


async def test_assignment_is_refused_without_the_qualification_and_accepted_after_the_training(
    platform: RunningPlatform, vt: VolunteerTenant
) -> None:
    course_id = await course_needing_volunteers(platform, vt, 2)
    opening = await opening_for(platform, vt, course_id)
    changed = await call(
        platform,
        vt.staff_a,
        "PATCH",
        f"/api/v1/open-assignments/{opening['id']}",
        {"qualifications_needed": ["digital-guide"], "expected_version": opening["version"]},
    )
    assert changed["qualifications_needed"] == ["digital-guide"]
    volunteer = await active_volunteer(platform, vt)

    refused = await assign(platform, vt, volunteer["id"], kind="course", opening_id=opening["id"])

    assert refused.status_code == 409
    assert refused.json()["missing"] == [
        {
            "requirement": "qualification",
            "qualification": "digital-guide",
            "detail": "qualification digital-guide is missing",
        }
    ]
    await qualify(platform, vt, volunteer["id"], "digital-guide", session_start=YESTERDAY, validity_months=24)
    qualified = await call(platform, vt.staff_a, "GET", f"/api/v1/volunteers/{volunteer['id']}")
    assert [(q["code"], q["valid"]) for q in qualified["qualifications"]] == [("digital-guide", True)]

    accepted = await assign(platform, vt, volunteer["id"], kind="course", opening_id=opening["id"])

    assert accepted.status_code == 201, accepted.text
    assert accepted.json()["status"] == "active"
    after = await call(platform, vt.staff_a, "GET", f"/api/v1/open-assignments/{opening['id']}")
    assert after["assigned"] == 1 and after["places_left"] == 1


async def test_an_expired_qualification_blocks_new_assignments(platform: RunningPlatform, vt: VolunteerTenant) -> None:
    volunteer = await active_volunteer(platform, vt, certificate=True)
    # Completed in January 2020, valid for a year: it held until 9 January 2021.
    long_ago = datetime(2020, 1, 10, 9, 30, tzinfo=UTC)
    await qualify(platform, vt, volunteer["id"], "language-buddy", session_start=long_ago, validity_months=12)
    seen = await call(platform, vt.staff_a, "GET", f"/api/v1/volunteers/{volunteer['id']}")
    assert seen["qualifications"][0]["valid_until"] == "2021-01-09"
    assert seen["qualifications"][0]["valid"] is False

    participant = await referred_participant(platform, vt)
    refused = await assign(
        platform,
        vt,
        volunteer["id"],
        kind="buddy",
        participant_pseudonym=participant["participant_pseudonym"],
        qualifications_needed=["language-buddy"],
    )

    assert refused.status_code == 409
    (missing,) = refused.json()["missing"]
    assert missing["requirement"] == "qualification" and missing["qualification"] == "language-buddy"
    assert "expired" in missing["detail"]


async def test_a_buddy_needs_a_valid_certificate_of_conduct_and_is_known_by_pseudonym_only(
    platform: RunningPlatform, vt: VolunteerTenant
) -> None:
    volunteer = await active_volunteer(platform, vt)
    pseudonym = (await referred_participant(platform, vt))["participant_pseudonym"]
    refused = await assign(platform, vt, volunteer["id"], kind="buddy", participant_pseudonym=pseudonym)
    assert refused.status_code == 409
    assert [m["requirement"] for m in refused.json()["missing"]] == ["certificate_of_conduct"]

    await give_certificate(platform, vt, volunteer["id"])
    accepted = await assign(platform, vt, volunteer["id"], kind="buddy", participant_pseudonym=pseudonym)
    not_a_pseudonym = await assign(platform, vt, volunteer["id"], kind="buddy", participant_pseudonym="Fatima")

    assert accepted.status_code == 201, accepted.text
    assert accepted.json()["participant_pseudonym"] == pseudonym
    assert not_a_pseudonym.status_code == 422


async def test_only_an_active_volunteer_is_assigned_and_leaving_ends_the_assignments(
    platform: RunningPlatform, vt: VolunteerTenant
) -> None:
    applicant = await call(platform, vt.staff_a, "POST", "/api/v1/applications", {"person": person()})
    course_id = await course_needing_volunteers(platform, vt, 3)
    opening = await opening_for(platform, vt, course_id)
    refused = await assign(platform, vt, applicant["id"], kind="course", opening_id=opening["id"])
    assert refused.status_code == 409
    assert refused.json()["missing"][0]["requirement"] == "active"

    volunteer = await active_volunteer(platform, vt)
    assignment = (await assign(platform, vt, volunteer["id"], kind="course", opening_id=opening["id"])).json()
    await call(platform, vt.staff_a, "POST", f"/api/v1/volunteers/{volunteer['id']}/deactivate")

    ended = await call(platform, vt.staff_a, "GET", f"/api/v1/assignments/{assignment['id']}")
    assert ended["status"] == "ended"
    assert (await call(platform, vt.staff_a, "GET", f"/api/v1/open-assignments/{opening['id']}"))["places_left"] == 3


# --- hours ----------------------------------------------------------------------------------------


async def test_hours_are_logged_per_assignment_and_summed_per_volunteer_library_and_month(
    platform: RunningPlatform, vt: VolunteerTenant
) -> None:
    today = local_today()
    last_month = today.replace(day=1) - timedelta(days=1)
    # Screened before last month: a role that needs a certificate of conduct needs it from an assignment's start.
    volunteer = await active_volunteer(platform, vt, certificate=True, issued_on=last_month - timedelta(days=5))
    pseudonym = (await referred_participant(platform, vt))["participant_pseudonym"]
    buddy = (await assign(platform, vt, volunteer["id"], kind="buddy", participant_pseudonym=pseudonym)).json()
    course_id = await course_needing_volunteers(platform, vt, 1)
    opening = await opening_for(platform, vt, course_id)
    # Guiding since last month already (hours count from an assignment's start).
    guide = (
        await assign(platform, vt, volunteer["id"], kind="course", opening_id=opening["id"], starts_on=str(last_month))
    ).json()
    entries = [(buddy, today, 90), (guide, today, 120), (guide, last_month, 60)]
    for assignment, day, minutes in entries:
        logged = await call(
            platform,
            vt.staff_a,
            "POST",
            f"/api/v1/assignments/{assignment['id']}/hours",
            {"worked_on": str(day), "minutes": minutes},
        )
        assert logged["minutes"] == minutes, logged
    future = await call(
        platform,
        vt.staff_a,
        "POST",
        f"/api/v1/assignments/{buddy['id']}/hours",
        {"worked_on": str(today + timedelta(days=2)), "minutes": 30},
    )
    assert future.status_code == 422

    totals = await call(platform, vt.staff_a, "GET", "/api/v1/volunteers/hours", volunteer_id=volunteer["id"])

    by_month = {t["month"]: (t["minutes"], t["entries"], t["library"]) for t in totals["items"]}
    assert by_month == {
        f"{today:%Y-%m}": (210, 2, vt.library_a),
        f"{last_month:%Y-%m}": (60, 1, vt.library_a),
    }
    assert (await call(platform, vt.staff_a, "GET", f"/api/v1/assignments/{guide['id']}"))["minutes_logged"] == 180
    coordinator = await call(platform, vt.coordinator, "GET", "/api/v1/volunteers/hours", month=f"{today:%Y-%m}")
    assert any(t["volunteer_id"] == volunteer["id"] and t["minutes"] == 210 for t in coordinator["items"])
    async with platform.client(vt.staff_b) as api:
        other = (await api.get("/api/v1/volunteers/hours", params={"volunteer_id": volunteer["id"]})).json()
        refused = await api.post(
            f"/api/v1/assignments/{buddy['id']}/hours", json={"worked_on": str(today), "minutes": 5}
        )
    assert other["items"] == []
    assert refused.status_code == 404


# --- interns --------------------------------------------------------------------------------------


async def test_an_intern_from_a_partner_school_is_assigned_within_the_internship_period(
    platform: RunningPlatform, vt: VolunteerTenant
) -> None:
    today = local_today()
    body = {
        "school_partner_id": vt.school,
        "library": vt.library_a,
        "person": person("Daan Jansen"),
        "starts_on": str(today - timedelta(days=10)),
        "ends_on": str(today + timedelta(days=80)),
        "supervisor": {"name": "Mw. K. Bakker", "email": "k.bakker@roc.example"},
        "learning_goals": ["begeleiden van een groep", "digitale vaardigheden uitleggen"],
        "hours": 400,
    }
    intern = await call(platform, vt.school_token, "POST", "/api/v1/interns", body)
    assert intern["kind"] == "intern" and intern["status"] == "intake", intern
    intern = await start_intern(platform, vt, intern["id"])
    assert intern["internship"]["supervisor"]["name"] == "Mw. K. Bakker"
    assert intern["internship"]["hours"] == 400
    stranger_school = await call(
        platform, vt.stranger_token, "POST", "/api/v1/interns", {**body, "school_partner_id": vt.stranger}
    )
    assert stranger_school.status_code == 403  # a volunteer organisation is no school, and has no partnership

    course_id = await course_needing_volunteers(platform, vt, 1)
    opening = await opening_for(platform, vt, course_id)
    assigned = await assign(platform, vt, intern["id"], kind="course", opening_id=opening["id"])
    assert assigned.status_code == 201, assigned.text

    interns = await call(platform, vt.school_token, "GET", "/api/v1/interns")
    assert [i["id"] for i in interns["items"]] == [intern["id"]]
    ended = await call(platform, vt.staff_a, "POST", f"/api/v1/interns/{intern['id']}/end")
    assert ended["status"] == "ended" and ended["internship"]["ended_on"] == str(today)
    assert (await call(platform, vt.staff_a, "GET", f"/api/v1/assignments/{assigned.json()['id']}"))[
        "status"
    ] == "ended"
