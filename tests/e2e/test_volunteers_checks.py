"""The checks staff rely on for volunteers and interns (issue 18), over HTTP as each role: one application per
person and vacancy whatever the channel, interns from whoever the partnership names as intern supplier, starting
with an intake.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest

from shared.tenancy import Role
from tests.conftest import RunningPlatform
from tests.services.volunteers.volunteer_tenant import (
    VolunteerTenant,
    activate_partnership,
    call,
    course_needing_volunteers,
    known_to_volunteers,
    opening_for,
    person,
    register_partner,
    volunteer_tenant,
)


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
        "starts_on": str(date.today()),
        "ends_on": str(date.today() + timedelta(days=days)),
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
    assert ended["internship"]["ended_on"] == str(date.today())
    history = await call(platform, vt.staff_a, "GET", f"/api/v1/volunteers/{intern['id']}")
    assert history["status_reason"] == "stage elders voortgezet"
