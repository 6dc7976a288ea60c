"""The checks staff rely on for volunteers and interns (issue 18), over HTTP as each role: one application per
person and vacancy whatever the channel, interns from whoever the partnership names as intern supplier, starting
with an intake; requirements checked for the assignment's own dates; at most a day's worth of hours a day, none
before the assignment, and wrong entries corrected or removed with their history; certificates of conduct by the
library's policy. Language buddies and the checks at once: test_volunteers_buddies.py.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest

from services.volunteers.domain.training import add_months
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
    qualify,
    register_partner,
    start_intern,
    volunteer_tenant,
)

YESTERDAY = datetime.now(UTC) - timedelta(days=1)


@pytest.fixture(scope="module")
async def vt(platform: RunningPlatform) -> VolunteerTenant:
    return await volunteer_tenant(platform)


async def published_vacancy(platform: RunningPlatform, vt: VolunteerTenant, title: str) -> dict[str, Any]:
    body = {"title": title, "description": "Voorlezen op woensdagmiddag", "certificate_of_conduct_required": False}
    vacancy = await call(platform, vt.staff_a, "POST", "/api/v1/vacancies", body)
    return dict(await call(platform, vt.staff_a, "POST", f"/api/v1/vacancies/{vacancy['id']}/publish"))


# --- one application per person and vacancy ------------------------------------------------------


async def test_a_person_applies_once_to_a_vacancy_whatever_the_channel_and_the_case_of_the_address(
    platform: RunningPlatform, vt: VolunteerTenant
) -> None:
    vacancy = await published_vacancy(platform, vt, "Voorleesvrijwilliger")
    other = await published_vacancy(platform, vt, "Taalcafé-gastheer")
    sanne = person("Sanne Mulder", email="sanne.mulder@example.org")
    first = await call(
        platform, vt.staff_a, "POST", "/api/v1/applications", {"person": sanne, "vacancy_id": vacancy["id"]}
    )
    assert first["status"] == "applied", first

    via_organisation = await call(
        platform,
        vt.organisation_token,
        "POST",
        "/api/v1/applications",
        {
            "person": {**sanne, "email": "Sanne.MULDER@Example.org"},
            "vacancy_id": vacancy["id"],
            "library": vt.library_a,
        },
    )
    at_the_desk_again = await call(
        platform, vt.staff_a, "POST", "/api/v1/applications", {"person": sanne, "vacancy_id": vacancy["id"]}
    )
    for_another_vacancy = await call(
        platform, vt.staff_a, "POST", "/api/v1/applications", {"person": sanne, "vacancy_id": other["id"]}
    )

    assert via_organisation.status_code == 409, via_organisation.text
    # The organisation did not send the first application: it is not told which one it was.
    assert "volunteer_id" not in via_organisation.json() and first["id"] not in via_organisation.text
    assert at_the_desk_again.status_code == 409
    assert at_the_desk_again.json()["volunteer_id"] == first["id"]
    assert for_another_vacancy["status"] == "applied", for_another_vacancy
    listed = await call(platform, vt.staff_a, "GET", "/api/v1/applications", vacancy_id=vacancy["id"])
    assert [a["id"] for a in listed["items"]] == [first["id"]]

    withdrawn = await call(
        platform, vt.staff_a, "POST", f"/api/v1/volunteers/{first['id']}/withdraw", {"reason": "verhuisd"}
    )
    assert withdrawn["status"] == "withdrawn"
    again = await call(
        platform, vt.staff_a, "POST", "/api/v1/applications", {"person": sanne, "vacancy_id": vacancy["id"]}
    )
    assert again["status"] == "applied", again


# --- interns ---------------------------------------------------------------------------------------


def internship(school: str, library: str, name: str = "Lotte de Graaf", days: int = 90) -> dict[str, Any]:
    return {
        "school_partner_id": school,
        "library": library,
        "person": person(name, email=None),
        "starts_on": str(local_today()),
        "ends_on": str(local_today() + timedelta(days=days)),
        "supervisor": {"name": "Dhr. J. Smit", "email": "j.smit@roc.example"},
        "learning_goals": ["klanten helpen aan de balie"],
        "hours": 320,
    }


async def test_an_roc_with_the_intern_supplier_role_supplies_interns_who_start_with_an_intake(
    platform: RunningPlatform, vt: VolunteerTenant
) -> None:
    roc = await register_partner(platform, vt.base, f"ROC Zuid {vt.municipality}", "adult_education_school")
    partnership = await activate_partnership(platform, vt.base, roc, vt.library_a, "intern_supplier")
    await known_to_volunteers(platform, [vt.library_a], [roc], [partnership])
    roc_token = platform.token(Role.PARTNER, municipality=vt.municipality, partner=roc)
    intern = await call(platform, roc_token, "POST", "/api/v1/interns", internship(roc, vt.library_a))
    assert intern["status"] == "intake", intern
    assert intern["internship"]["school_partner_id"] == roc

    opening = await opening_for(platform, vt, await course_needing_volunteers(platform, vt, 1))
    too_soon = await call(
        platform,
        vt.staff_a,
        "POST",
        "/api/v1/assignments",
        {"volunteer_id": intern["id"], "kind": "course", "opening_id": opening["id"]},
    )
    assert too_soon.status_code == 409 and too_soon.json()["missing"][0]["requirement"] == "active"
    for step in ("start_screening", "activate"):
        moved = await call(platform, vt.staff_a, "POST", f"/api/v1/volunteers/{intern['id']}/{step}")
        assert moved["status"] in ("screening", "active"), moved
    assigned = await call(
        platform,
        vt.staff_a,
        "POST",
        "/api/v1/assignments",
        {"volunteer_id": intern["id"], "kind": "course", "opening_id": opening["id"]},
    )
    assert assigned["status"] == "active", assigned


async def test_a_partner_without_the_intern_supplier_role_supplies_no_interns(
    platform: RunningPlatform, vt: VolunteerTenant
) -> None:
    refused = await call(platform, vt.staff_a, "POST", "/api/v1/interns", internship(vt.organisation, vt.library_a))
    assert refused.status_code == 422, refused.text
    assert "intern supplier" in refused.json()["detail"]


async def test_a_school_ends_its_own_interns_internship_and_no_one_elses(
    platform: RunningPlatform, vt: VolunteerTenant
) -> None:
    intern = await call(
        platform, vt.school_token, "POST", "/api/v1/interns", internship(vt.school, vt.library_a, "Bram Kok")
    )
    assert intern["status"] == "intake", intern

    by_another_partner = await call(platform, vt.organisation_token, "POST", f"/api/v1/interns/{intern['id']}/end")
    moved_on_by_the_school = await call(
        platform, vt.school_token, "POST", f"/api/v1/volunteers/{intern['id']}/start_screening"
    )
    ended = await call(
        platform, vt.school_token, "POST", f"/api/v1/interns/{intern['id']}/end", {"reason": "stage elders voortgezet"}
    )

    assert by_another_partner.status_code == 404
    assert moved_on_by_the_school.status_code == 403
    assert ended["status"] == "ended", ended
    assert ended["internship"]["ended_on"] == str(local_today())
    history = await call(platform, vt.staff_a, "GET", f"/api/v1/volunteers/{intern['id']}")
    assert history["status_reason"] == "stage elders voortgezet"


# --- requirements on the assignment's own dates ----------------------------------------------------


async def assign(platform: RunningPlatform, vt: VolunteerTenant, volunteer_id: str, **body: Any) -> Any:
    return await call(platform, vt.staff_a, "POST", "/api/v1/assignments", {"volunteer_id": volunteer_id, **body})


async def test_a_qualification_is_checked_against_the_assignments_dates_not_today(
    platform: RunningPlatform, vt: VolunteerTenant
) -> None:
    volunteer = await active_volunteer(platform, vt)
    await qualify(platform, vt, volunteer["id"], "reading-guide", session_start=YESTERDAY, validity_months=1)
    held = await call(platform, vt.staff_a, "GET", f"/api/v1/volunteers/{volunteer['id']}")
    valid_until = date.fromisoformat(held["qualifications"][0]["valid_until"])
    opening = await opening_for(platform, vt, await course_needing_volunteers(platform, vt, 3))
    needs = await call(
        platform,
        vt.staff_a,
        "PATCH",
        f"/api/v1/open-assignments/{opening['id']}",
        {"qualifications_needed": ["reading-guide"]},
    )
    assert needs["qualifications_needed"] == ["reading-guide"], needs

    after_expiry = await assign(
        platform,
        vt,
        volunteer["id"],
        kind="course",
        opening_id=opening["id"],
        starts_on=str(valid_until + timedelta(days=1)),
    )
    past_expiry = await assign(
        platform,
        vt,
        volunteer["id"],
        kind="course",
        opening_id=opening["id"],
        ends_on=str(valid_until + timedelta(days=30)),
    )
    within = await assign(
        platform, vt, volunteer["id"], kind="course", opening_id=opening["id"], ends_on=str(valid_until)
    )

    assert after_expiry.status_code == 409, after_expiry.text
    assert after_expiry.json()["missing"][0]["qualification"] == "reading-guide"
    assert past_expiry.status_code == 409, past_expiry.text
    assert "before the assignment ends" in past_expiry.json()["detail"]
    assert within["status"] == "active", within


async def test_an_interns_assignment_must_fall_within_the_internship(
    platform: RunningPlatform, vt: VolunteerTenant
) -> None:
    registered = await call(
        platform, vt.staff_a, "POST", "/api/v1/interns", internship(vt.school, vt.library_a, "Yara Bos", 30)
    )
    intern = await start_intern(platform, vt, registered["id"])
    ends_on = date.fromisoformat(intern["internship"]["ends_on"])
    opening = await opening_for(platform, vt, await course_needing_volunteers(platform, vt, 2))

    running_past = await assign(
        platform, vt, intern["id"], kind="course", opening_id=opening["id"], ends_on=str(ends_on + timedelta(days=14))
    )
    starting_after = await assign(
        platform, vt, intern["id"], kind="course", opening_id=opening["id"], starts_on=str(ends_on + timedelta(days=1))
    )
    within = await assign(platform, vt, intern["id"], kind="course", opening_id=opening["id"], ends_on=str(ends_on))

    assert running_past.status_code == 409 and running_past.json()["missing"][0]["requirement"] == "internship_period"
    assert starting_after.status_code == 409, starting_after.text
    assert within["status"] == "active", within


# --- hours -------------------------------------------------------------------------------------------


async def log(platform: RunningPlatform, vt: VolunteerTenant, assignment_id: str, day: date, minutes: int) -> Any:
    body = {"worked_on": str(day), "minutes": minutes}
    return await call(platform, vt.staff_a, "POST", f"/api/v1/assignments/{assignment_id}/hours", body)


async def test_a_volunteer_logs_at_most_24_hours_a_day_and_not_before_the_assignment(
    platform: RunningPlatform, vt: VolunteerTenant
) -> None:
    volunteer = await active_volunteer(platform, vt)
    opening = await opening_for(platform, vt, await course_needing_volunteers(platform, vt, 1))
    other = await opening_for(platform, vt, await course_needing_volunteers(platform, vt, 1))
    today = local_today()
    guide = await assign(platform, vt, volunteer["id"], kind="course", opening_id=opening["id"])
    started_last_week = await assign(
        platform, vt, volunteer["id"], kind="course", opening_id=other["id"], starts_on=str(today - timedelta(days=7))
    )

    first = await log(platform, vt, guide["id"], today, 1000)
    second = await log(platform, vt, started_last_week["id"], today, 1000)
    rest_of_the_day = await log(platform, vt, started_last_week["id"], today, 440)
    before_it_existed = await log(platform, vt, guide["id"], today - timedelta(days=1), 60)
    since_its_start = await log(platform, vt, started_last_week["id"], today - timedelta(days=7), 60)
    before_its_start = await log(platform, vt, started_last_week["id"], today - timedelta(days=8), 60)

    assert first["minutes"] == 1000, first
    assert second.status_code == 409, second.text
    assert second.json()["minutes_left"] == 440
    assert rest_of_the_day["minutes"] == 440, rest_of_the_day
    assert before_it_existed.status_code == 422, before_it_existed.text
    assert since_its_start["minutes"] == 60, since_its_start
    assert before_its_start.status_code == 422
    totals = await call(platform, vt.staff_a, "GET", "/api/v1/volunteers/hours", volunteer_id=volunteer["id"])
    assert sum(t["minutes"] for t in totals["items"]) == 1500


async def test_a_wrong_entry_is_corrected_or_removed_with_its_history(
    platform: RunningPlatform, vt: VolunteerTenant
) -> None:
    volunteer = await active_volunteer(platform, vt)
    opening = await opening_for(platform, vt, await course_needing_volunteers(platform, vt, 1))
    guide = await assign(platform, vt, volunteer["id"], kind="course", opening_id=opening["id"])
    today = local_today()
    typo = await log(platform, vt, guide["id"], today, 1000)  # meant 100
    other = await log(platform, vt, guide["id"], today, 90)
    entries = f"/api/v1/assignments/{guide['id']}/hours"

    corrected = await call(
        platform, vt.staff_a, "PATCH", f"{entries}/{typo['id']}", {"minutes": 100, "reason": "tikfout: 100 minuten"}
    )
    too_much = await call(platform, vt.staff_a, "PATCH", f"{entries}/{other['id']}", {"minutes": 1400, "reason": "x"})
    stale = await call(
        platform, vt.staff_a, "PATCH", f"{entries}/{typo['id']}", {"minutes": 120, "reason": "x", "expected_version": 1}
    )
    removed = await call(
        platform, vt.staff_a, "POST", f"{entries}/{other['id']}/remove", {"reason": "dubbel ingevoerd"}
    )
    removed_again = await call(platform, vt.staff_a, "POST", f"{entries}/{other['id']}/remove", {"reason": "nogmaals"})
    without_reason = await call(platform, vt.staff_a, "PATCH", f"{entries}/{typo['id']}", {"minutes": 50})
    async with platform.client(vt.staff_b) as api:
        elsewhere = await api.patch(f"{entries}/{typo['id']}", json={"minutes": 5, "reason": "x"})

    assert corrected["minutes"] == 100 and corrected["version"] == 2, corrected
    assert [(c["change"], c["minutes"], c["reason"]) for c in corrected["history"]] == [
        ("corrected", 1000, "tikfout: 100 minuten")
    ]
    assert too_much.status_code == 409, too_much.text
    assert stale.status_code == 409
    assert removed["removed_at"] is not None and removed["history"][0]["change"] == "removed", removed
    assert removed_again.status_code == 409
    assert without_reason.status_code == 422
    assert elsewhere.status_code == 404
    listed = await call(platform, vt.staff_a, "GET", entries)
    assert {e["id"]: (e["minutes"], e["removed_at"] is not None) for e in listed["items"]} == {
        typo["id"]: (100, False),
        other["id"]: (90, True),
    }
    assert (await call(platform, vt.staff_a, "GET", f"/api/v1/assignments/{guide['id']}"))["minutes_logged"] == 100
    totals = await call(platform, vt.staff_a, "GET", "/api/v1/volunteers/hours", volunteer_id=volunteer["id"])
    assert [(t["minutes"], t["entries"]) for t in totals["items"]] == [(100, 1)]
    coordinator = await call(platform, vt.coordinator, "GET", entries)
    assert all(e["note"] is None and all(c["reason"] is None for c in e["history"]) for e in coordinator["items"])
    # What the person may ask for (the right of access) holds the corrections too.
    exported = await call(platform, vt.staff_a, "GET", f"/api/v1/volunteers/{volunteer['id']}/export")
    held = {h["id"]: h for h in exported["hours"]}
    assert held[typo["id"]]["history"][0]["reason"] == "tikfout: 100 minuten"
    assert held[other["id"]]["removed_at"] is not None


# --- certificates of conduct by the library's policy ----------------------------------------------


async def test_the_librarys_policy_dates_a_certificate_without_an_end_and_refuses_an_old_one(
    platform: RunningPlatform, vt: VolunteerTenant
) -> None:
    policy = await call(
        platform,
        vt.staff_b,
        "PUT",
        "/api/v1/volunteers/policy",
        {
            "applicant_retention_days": 28,
            "volunteer_retention_days": 730,
            "certificate_validity_months": 12,
            "certificate_max_age_months": 2,
        },
    )
    assert (policy["certificate_validity_months"], policy["certificate_max_age_months"]) == (12, 2), policy
    kept = await call(
        platform,
        vt.staff_b,
        "PUT",
        "/api/v1/volunteers/policy",
        {"applicant_retention_days": 21, "volunteer_retention_days": 730, "expected_version": policy["version"]},
    )
    assert (kept["certificate_validity_months"], kept["certificate_max_age_months"]) == (12, 2), kept
    applicant = await call(platform, vt.staff_b, "POST", "/api/v1/applications", {"person": person("Iris Vos")})
    base = f"/api/v1/volunteers/{applicant['id']}/certificate-of-conduct"
    await call(platform, vt.staff_b, "POST", f"{base}/requests")
    today = local_today()

    from_a_drawer = await call(
        platform, vt.staff_b, "POST", f"{base}/receipts", {"issued_on": str(today - timedelta(days=75))}
    )
    received = await call(platform, vt.staff_b, "POST", f"{base}/receipts", {"issued_on": str(today)})

    assert from_a_drawer.status_code == 422, from_a_drawer.text
    assert "more than 2 months before it was requested" in from_a_drawer.json()["detail"]
    certificate = received["certificate"]
    assert certificate["status"] == "valid" and certificate["issued_on"] == str(today), received
    assert certificate["valid_until"] == str(add_months(today, 12) - timedelta(days=1))
    default_library = await call(platform, vt.staff_a, "GET", "/api/v1/volunteers/policy")
    assert (default_library["certificate_validity_months"], default_library["certificate_max_age_months"]) == (36, 3)
