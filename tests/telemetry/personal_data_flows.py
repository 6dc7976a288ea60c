"""The flows the personal-data scan runs (tests/telemetry/test_personal_data_scan.py) and the people in them:
every flow that touches a participant's, a volunteer's, an intern's or a resident's personal data, over HTTP."""

from __future__ import annotations

import dataclasses
import uuid
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import httpx
import sqlalchemy as sa

from services.courses.store.residents import ResidentVault, registrations
from shared.clock import local_today
from tests.e2e.calendar_support import schedule
from tests.fixtures.platform import RunningPlatform
from tests.referral_bodies import referral_body
from tests.services.courses.support import courses_know
from tests.services.volunteers.volunteer_tenant import (
    VolunteerTenant,
    call,
    course_needing_volunteers,
    give_certificate,
    opening_for,
)
from tests.waiting import PATIENCE_SECONDS, eventually

# Distinctive, so that a hit is a leak and not a coincidence (a name part like "Jan" would be in everything).
PARTICIPANT = {
    "name": "Wilhelmina Oosterhuis-Kwakkelstein",
    "birth_date": "1961-07-23",
    "phone": "0687654329",
    "email": "w.oosterhuis@voorbeeldpost.example",
}

REFERRER_CONTACT = {"name": "Gerrit Plompenbosch", "email": "g.plompenbosch@werkplein.example"}

VOLUNTEERS = [
    {"name": "Hendrika Zwanenburg", "email": "hendrika.zwanenburg@vrijwilliger.example", "phone": "0623456781"},
    {"name": "Barend Kloosterman", "email": "b.kloosterman@vrijwilliger.example", "phone": "0634567812"},
]

INTERN = {"name": "Jorinde Haverkamp", "email": "jorinde@roc-leerling.example", "phone": "0645678123"}

SUPERVISOR = {"name": "Anneloes Brinkhorst", "email": "a.brinkhorst@roc.example", "phone": "0201234987"}

MOTIVATION = "Ik heb zelf lang moeite gehad met lezen en wil Wilhelmina's buren helpen"

NEW_PHONE = "0656781234"

RESIDENT = {"name": "Wilhelmien Oosterbroek", "email": "w.oosterbroek@bewoner.example", "phone": "0667812345"}


@dataclass
class Scenario:
    """What the flows handed out that is secret: the participant's code and the tokens used."""

    codes: list[str] = dataclasses.field(default_factory=list)
    tokens: list[str] = dataclasses.field(default_factory=list)


async def referral_flows(platform: RunningPlatform, vt: VolunteerTenant, scenario: Scenario) -> None:
    tenant = vt.base
    scenario.tokens += [tenant.staff_a, tenant.partner_a_token]
    body = referral_body(tenant.library_a, tenant.partner_a, participant=PARTICIPANT, contact_person=REFERRER_CONTACT)
    submitted = await call(platform, tenant.partner_a_token, "POST", "/api/v1/referrals", body)
    referral_id = submitted["id"]
    base = f"/api/v1/referrals/{referral_id}"
    for route, step in (
        ("accept", None),
        (
            "plan-intake",
            {
                "intake_at": "2030-05-01T10:00:00+02:00",
                "place": "Bibliotheek Centrum",
                "contact_person": {"name": "Anna"},
            },
        ),
    ):
        done = await call(platform, tenant.staff_a, "POST", f"{base}/{route}", step)
        assert isinstance(done, dict), done.text
    issued = await call(platform, tenant.staff_a, "POST", f"{base}/participant-code", {"contact_phone": "0101234567"})
    scenario.codes.append(issued["code"])
    async with platform.client() as browser:
        page = await browser.get(issued["path"])
        assert page.status_code == 200, page.text
        typed = await browser.post("/p/", data={"code": issued["code"]})
        assert typed.status_code == 200
        change = await browser.post("/p/change", data={"code": issued["code"], "kind": "reschedule"})
        assert change.status_code == 200, change.text
        asked = await browser.post("/p/change", data={"code": issued["code"], "kind": "export"})
        assert asked.status_code == 200, asked.text
    # The same person again while the first is open: a possible duplicate for the library's staff.
    again = await call(platform, tenant.partner_a_token, "POST", "/api/v1/referrals", body)

    async def warned() -> Any:
        page = await call(platform, tenant.staff_a, "GET", "/api/v1/referrals/duplicates")
        return [w for w in page["items"] if again["id"] in (w["referral_id"], w["duplicate_of"])]

    await eventually(warned, what="the duplicate warning")
    # Outcomes follow an intake that took place: the participant came earlier than planned.
    earlier = {
        "intake_at": "2026-01-05T10:00:00+01:00",
        "place": "Bibliotheek Centrum",
        "contact_person": {"name": "Anna"},
    }
    for route, step in (("plan-intake", earlier), ("intake-held", None)):
        done = await call(platform, tenant.staff_a, "POST", f"{base}/{route}", step)
        assert isinstance(done, dict), done.text
    completed = await call(platform, tenant.staff_a, "POST", f"{base}/complete", {"outcome": {"course_finished": True}})
    assert isinstance(completed, dict), completed.text
    for path in (f"{base}", f"{base}/export", f"{base}/access-log", "/api/v1/referrals"):
        read = await call(platform, tenant.staff_a, "GET", path)
        assert isinstance(read, dict), read.text
    erased = await call(platform, tenant.staff_a, "POST", f"/api/v1/referrals/{again['id']}/erase")
    assert isinstance(erased, dict), erased.text
    # The rights of the person across referrals: found by name and birth date, which travel in the body only.
    lookup = {"name": PARTICIPANT["name"], "birth_date": PARTICIPANT["birth_date"]}
    for route in ("export", "erase"):
        done = await call(platform, tenant.staff_a, "POST", f"/api/v1/referrals/person/{route}", lookup)
        assert isinstance(done, dict), done.text
    requests = await call(platform, tenant.staff_a, "GET", "/api/v1/referrals/change-requests", status="open")
    assert isinstance(requests, dict), requests.text


async def volunteer_flows(platform: RunningPlatform, vt: VolunteerTenant, scenario: Scenario) -> None:
    scenario.tokens += [vt.organisation_token, vt.school_token]
    own = await call(
        platform,
        vt.staff_a,
        "POST",
        "/api/v1/applications",
        {"person": VOLUNTEERS[0], "motivation": MOTIVATION, "certificate_of_conduct_required": True},
    )
    supplied = await call(
        platform,
        vt.organisation_token,
        "POST",
        "/api/v1/applications",
        {"person": VOLUNTEERS[1], "library": vt.library_a},
    )
    assert isinstance(supplied, dict), supplied.text
    volunteer_id = own["id"]
    for step in ("start_intake", "start_screening"):
        await call(platform, vt.staff_a, "POST", f"/api/v1/volunteers/{volunteer_id}/{step}")
    await give_certificate(platform, vt, volunteer_id)
    active = await call(platform, vt.staff_a, "POST", f"/api/v1/volunteers/{volunteer_id}/activate")
    assert active["status"] == "active", active
    changed = await call(
        platform,
        vt.staff_a,
        "PATCH",
        f"/api/v1/volunteers/{volunteer_id}",
        {"person": {**VOLUNTEERS[0], "phone": NEW_PHONE}},
    )
    assert isinstance(changed, dict), changed.text
    surname = VOLUNTEERS[0]["name"].split()[-1]
    found = await call(platform, vt.staff_a, "GET", "/api/v1/volunteers", name=surname)
    assert [v["id"] for v in found["items"]] == [volunteer_id]
    course_id = await course_needing_volunteers(platform, vt, 2)
    opening = await opening_for(platform, vt, course_id)
    assignment = await call(
        platform,
        vt.staff_a,
        "POST",
        "/api/v1/assignments",
        {"volunteer_id": volunteer_id, "kind": "course", "opening_id": opening["id"]},
    )
    assert isinstance(assignment, dict), assignment.text
    hours = await call(
        platform,
        vt.staff_a,
        "POST",
        f"/api/v1/assignments/{assignment['id']}/hours",
        {"worked_on": str(local_today()), "minutes": 90},
    )
    assert isinstance(hours, dict), hours.text
    intern = await call(
        platform,
        vt.school_token,
        "POST",
        "/api/v1/interns",
        {
            "library": vt.library_a,
            "school_partner_id": vt.school,
            "person": INTERN,
            "starts_on": str(local_today()),
            "ends_on": str(local_today() + timedelta(days=90)),
            "supervisor": SUPERVISOR,
            "learning_goals": ["klantcontact"],
        },
    )
    assert isinstance(intern, dict), intern.text
    for path in (
        f"/api/v1/volunteers/{volunteer_id}",
        f"/api/v1/volunteers/{intern['id']}",
        "/api/v1/volunteers",
        f"/api/v1/volunteers/{volunteer_id}/export",
        "/api/v1/volunteers/policy",
        "/api/v1/volunteers/access-log",
        f"/api/v1/volunteers/{volunteer_id}/access-log",
    ):
        read = await call(platform, vt.staff_a, "GET", path)
        assert isinstance(read, dict), read.text
    for path in (f"/api/v1/volunteers/{supplied['id']}/erase", f"/api/v1/volunteers/{intern['id']}/erase"):
        erased = await call(platform, vt.staff_a, "POST", path)
        assert isinstance(erased, dict) and erased["person"] is None, erased


async def resident_flows(platform: RunningPlatform, vt: VolunteerTenant, scenario: Scenario) -> None:
    """A resident signs up on the public calendar, opens their link, confirms, is listed to the library's staff,
    downloads their data, cancels and erases; the library's staff erase too (issue 22)."""
    await courses_know(platform, vt.base)
    session_id = (await schedule(platform, vt.staff_a, capacity=2))["session"]["id"]
    async with httpx.AsyncClient(base_url=platform.base_url, timeout=PATIENCE_SECONDS) as web:
        signed_up = await web.post(f"/m/{vt.municipality}/courses/{session_id}", data=RESIDENT)
        assert signed_up.status_code == 200, signed_up.text
        async with platform.services["courses"].sessions() as session:
            registration_id = (
                await session.execute(
                    sa.select(registrations.c.id).where(registrations.c.session_id == uuid.UUID(session_id))
                )
            ).scalar_one()
        # The link the e-mail would carry (no SMTP server in this run): the resident's key, a secret here too.
        token = ResidentVault.from_keys(
            platform.settings.encryption_key, platform.settings.blind_index_key
        ).links.token(registration_id)
        scenario.codes.append(token)
        link = f"/m/{vt.municipality}/registrations/{token}"
        assert (await web.get(link)).status_code == 200
        assert (await web.post(f"{link}/confirm")).status_code == 200
        # The library's staff read who signed up; the resident downloads their data (names in both answers).
        async with platform.client(vt.staff_a) as api:
            listed = await api.get(f"/api/v1/sessions/{session_id}/residents")
            assert listed.status_code == 200 and RESIDENT["email"] in listed.text, listed.text
        exported = await web.get(f"{link}/export")
        assert exported.status_code == 200 and RESIDENT["email"] in exported.text, exported.text
        for step in ("cancel", "erase"):
            answer = await web.post(f"{link}/{step}")
            assert answer.status_code == 200, (step, answer.text)
        async with platform.client(vt.staff_a) as api:  # asked of the library too: erased already, nothing more
            erased = await api.post(f"/api/v1/resident-registrations/{registration_id}/erase")
            assert erased.status_code == 200, erased.text
