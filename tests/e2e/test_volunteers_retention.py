"""Volunteers', applicants' and interns' personal data over HTTP (issue 14): anonymised when the library's
retention passes or on request (with an event), exported whole; and who may do which, tried as each role would.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import msgspec
import nats
import nats.js.errors
import pytest

from services.volunteers.commands import privacy
from services.volunteers.store import personal_data
from shared.clock import FixedClock, local_today
from shared.contracts import Envelope
from shared.messaging import event_stream_name
from shared.tenancy import Role
from shared.unit_of_work import UnitOfWork
from tests.e2e.volunteers_privacy_support import everything_stored, unique_person
from tests.fixtures.platform import RunningPlatform
from tests.fixtures.tenants import register_tenant
from tests.services.volunteers.volunteer_tenant import (
    VolunteerTenant,
    active_volunteer,
    call,
    course_needing_volunteers,
    give_certificate,
    opening_for,
    volunteer_tenant,
)
from tests.waiting import eventually


@pytest.fixture(scope="module")
async def vt(platform: RunningPlatform) -> VolunteerTenant:
    return await volunteer_tenant(platform)


async def last_event(platform: RunningPlatform, vt: VolunteerTenant, event_type: str) -> Envelope | None:
    subject = f"events.volunteers.{event_type}.v1.{vt.municipality}.{vt.library_a}"
    nc = await nats.connect(platform.settings.nats_url)
    try:
        message = await nc.jetstream().get_last_msg(event_stream_name("volunteers"), subject)
    except nats.js.errors.NotFoundError:
        return None
    finally:
        await nc.close()
    return msgspec.json.decode(message.data or b"", type=Envelope)


async def anonymised_event_of(platform: RunningPlatform, vt: VolunteerTenant, volunteer_id: str) -> Envelope:
    async def arrived() -> Envelope | None:
        envelope = await last_event(platform, vt, "volunteer.anonymised")
        return envelope if envelope is not None and envelope.data["volunteer_id"] == volunteer_id else None

    return await eventually(arrived, what="volunteer.anonymised on the volunteers stream")


def sweep_at(platform: RunningPlatform, when: datetime) -> Any:
    """The retention job as the service runs it, on a clock `when`."""
    runtime = platform.services["volunteers"]
    return privacy.erase_after_retention(UnitOfWork(runtime.sessions, FixedClock(when)), when)


@pytest.fixture
async def own_library(platform: RunningPlatform) -> VolunteerTenant:
    """A tenant of its own: a test that sets a short retention erases only its own people."""
    return await volunteer_tenant(platform)


async def test_applicants_and_former_volunteers_are_anonymised_when_the_librarys_retention_passes(
    platform: RunningPlatform, own_library: VolunteerTenant
) -> None:
    vt = own_library
    policy = await call(
        platform,
        vt.staff_a,
        "PUT",
        "/api/v1/volunteers/policy",
        {"applicant_retention_days": 3, "volunteer_retention_days": 10},
    )
    assert policy == {
        "library": vt.library_a,
        "applicant_retention_days": 3,
        "volunteer_retention_days": 10,
        "is_default": False,
        "version": 1,
        "certificate_validity_months": 36,
        "certificate_max_age_months": 3,
    }
    applicant = unique_person("Fenna", "Kuipers")
    applied = await call(platform, vt.staff_a, "POST", "/api/v1/applications", {"person": applicant})
    withdrawn = await call(
        platform, vt.staff_a, "POST", f"/api/v1/volunteers/{applied['id']}/withdraw", {"reason": "verhuist"}
    )
    assert withdrawn["status"] == "withdrawn"
    former = await active_volunteer(platform, vt)
    await call(platform, vt.staff_a, "POST", f"/api/v1/volunteers/{former['id']}/deactivate")
    in_service = await active_volunteer(platform, vt)
    now = datetime.now(UTC)

    await sweep_at(platform, now + timedelta(days=2))
    assert (await call(platform, vt.staff_a, "GET", f"/api/v1/volunteers/{applied['id']}"))["person"] == applicant

    await sweep_at(platform, now + timedelta(days=4))
    gone = await call(platform, vt.staff_a, "GET", f"/api/v1/volunteers/{applied['id']}")
    assert gone["person"] is None and gone["motivation"] is None and gone["status_reason"] is None
    assert gone["anonymised_at"] is not None and gone["status"] == "withdrawn", "the record stays for the figures"
    envelope = await anonymised_event_of(platform, vt, applied["id"])
    assert envelope.data["reason"] == "retention"
    assert set(envelope.data) >= {"volunteer_id", "library", "anonymised_at"} and "person" not in envelope.data
    assert (await call(platform, vt.staff_a, "GET", "/api/v1/volunteers", name=applicant["name"]))["items"] == []
    assert [v for v in applicant.values() if v in await everything_stored(platform)] == []
    # A former volunteer is kept longer; someone in service is never due.
    assert (await call(platform, vt.staff_a, "GET", f"/api/v1/volunteers/{former['id']}"))["person"] is not None

    await sweep_at(platform, now + timedelta(days=11))
    assert (await call(platform, vt.staff_a, "GET", f"/api/v1/volunteers/{former['id']}"))["person"] is None
    assert (await call(platform, vt.staff_a, "GET", f"/api/v1/volunteers/{in_service['id']}"))["person"] is not None


async def test_the_default_policy_and_who_may_read_or_set_it(platform: RunningPlatform, vt: VolunteerTenant) -> None:
    default = await call(platform, vt.staff_b, "GET", "/api/v1/volunteers/policy")
    assert default == {
        "library": vt.library_b,
        "applicant_retention_days": 28,
        "volunteer_retention_days": 730,
        "is_default": True,
        "version": 0,
        "certificate_validity_months": 36,
        "certificate_max_age_months": 3,
    }
    body = {"applicant_retention_days": 20, "volunteer_retention_days": 365, "library": vt.library_b}
    # The municipality's coordinator may set it for one of its libraries, with the version it read.
    stale = await call(platform, vt.coordinator, "PUT", "/api/v1/volunteers/policy", {**body, "expected_version": 3})
    assert stale.status_code == 409
    set_ = await call(platform, vt.coordinator, "PUT", "/api/v1/volunteers/policy", {**body, "expected_version": 0})
    assert set_["version"] == 1 and set_["volunteer_retention_days"] == 365
    # Another library's staff do not see it; partners may not; another municipality's coordinator does not see it.
    assert (await call(platform, vt.staff_a, "PUT", "/api/v1/volunteers/policy", body)).status_code == 404
    assert (
        await call(platform, vt.staff_a, "GET", "/api/v1/volunteers/policy", library=vt.library_b)
    ).status_code == 404
    assert (await call(platform, vt.organisation_token, "PUT", "/api/v1/volunteers/policy", body)).status_code == 403
    elsewhere = platform.token(Role.COORDINATOR, municipality=(await register_tenant(platform)).municipality)
    assert (await call(platform, elsewhere, "PUT", "/api/v1/volunteers/policy", body)).status_code == 404
    too_long = {**body, "volunteer_retention_days": 99999}
    assert (await call(platform, vt.coordinator, "PUT", "/api/v1/volunteers/policy", too_long)).status_code == 422
    assert (await call(platform, vt.staff_b, "GET", "/api/v1/volunteers/policy"))["volunteer_retention_days"] == 365


async def test_staff_export_everything_held_about_a_volunteer_then_erase_it_on_request(
    platform: RunningPlatform, vt: VolunteerTenant
) -> None:
    person = unique_person("Teun", "Mulder")
    applied = await call(
        platform,
        vt.staff_a,
        "POST",
        "/api/v1/applications",
        {"person": person, "motivation": "Ik lees graag voor", "certificate_of_conduct_required": True},
    )
    volunteer_id = applied["id"]
    for step in ("start_intake", "start_screening"):
        await call(platform, vt.staff_a, "POST", f"/api/v1/volunteers/{volunteer_id}/{step}")
    await give_certificate(platform, vt, volunteer_id)
    await call(platform, vt.staff_a, "POST", f"/api/v1/volunteers/{volunteer_id}/activate")
    opening = await opening_for(platform, vt, await course_needing_volunteers(platform, vt, 1))
    assignment = await call(
        platform,
        vt.staff_a,
        "POST",
        "/api/v1/assignments",
        {"volunteer_id": volunteer_id, "kind": "course", "opening_id": opening["id"]},
    )
    await call(
        platform,
        vt.staff_a,
        "POST",
        f"/api/v1/assignments/{assignment['id']}/hours",
        {"worked_on": str(local_today()), "minutes": 60, "note": "Teun was er op tijd"},
    )

    exported = await call(platform, vt.staff_a, "GET", f"/api/v1/volunteers/{volunteer_id}/export")
    assert exported["volunteer"]["person"] == person and exported["volunteer"]["motivation"] == "Ik lees graag voor"
    assert [e["status"] for e in exported["history"]] == ["applied", "intake", "screening", "active"]
    assert exported["certificates_of_conduct"][0]["issued_on"] == str(local_today())
    assert [a["id"] for a in exported["assignments"]] == [assignment["id"]]
    assert exported["hours"][0]["minutes"] == 60 and exported["hours"][0]["note"] == "Teun was er op tijd"
    assert exported["retention"]["volunteer_retention_days"] == 730 and exported["erase_after"] is None

    erased = await call(platform, vt.staff_a, "POST", f"/api/v1/volunteers/{volunteer_id}/erase")
    assert erased["person"] is None and erased["anonymised_at"] is not None
    assert erased["status"] == "inactive", "someone in service leaves it first"
    assert erased["certificate"] is None or erased["certificate"]["status"] != "valid"
    ended = await call(platform, vt.staff_a, "GET", f"/api/v1/assignments/{assignment['id']}")
    assert ended["status"] == "ended"
    envelope = await anonymised_event_of(platform, vt, volunteer_id)
    assert envelope.data["reason"] == "erasure_requested"
    after = await call(platform, vt.staff_a, "GET", f"/api/v1/volunteers/{volunteer_id}/export")
    assert after["volunteer"]["person"] is None and after["certificates_of_conduct"] == []
    assert after["hours"][0]["note"] is None and after["hours"][0]["minutes"] == 60
    assert {e["reason"] for e in after["history"]} == {None}
    stored = await everything_stored(platform)
    assert [v for v in [*person.values(), "Teun was er op tijd"] if v in stored] == []
    again = await call(platform, vt.staff_a, "POST", f"/api/v1/volunteers/{volunteer_id}/erase")
    assert again["anonymised_at"] == erased["anonymised_at"], "erasing twice changes nothing"
    changed = await call(platform, vt.staff_a, "PATCH", f"/api/v1/volunteers/{volunteer_id}", {"person": person})
    assert changed.status_code == 409, "no one to change any more"


async def test_an_intern_erased_on_request_ends_the_internship_and_loses_the_supervisors_details(
    platform: RunningPlatform, vt: VolunteerTenant
) -> None:
    supervisor = unique_person("Ilse", "Dekker")
    intern = await call(
        platform,
        vt.school_token,
        "POST",
        "/api/v1/interns",
        {
            "library": vt.library_a,
            "school_partner_id": vt.school,
            "person": unique_person("Mees", "Peters"),
            "starts_on": str(local_today()),
            "ends_on": str(local_today() + timedelta(days=60)),
            "supervisor": supervisor,
            "learning_goals": ["balie"],
        },
    )
    erased = await call(platform, vt.staff_a, "POST", f"/api/v1/volunteers/{intern['id']}/erase")
    assert erased["status"] == "ended" and erased["internship"]["supervisor"] is None
    assert erased["internship"]["ended_on"] == str(local_today())
    # The job that seals rows from before sealing finds nothing to seal in an erased internship.
    vault = personal_data.PersonVault(platform.settings.encryption_key, platform.settings.blind_index_key)
    await privacy.seal_clear_rows(platform.services["volunteers"].unit_of_work, vault)
    assert [v for v in supervisor.values() if v in await everything_stored(platform)] == []


@pytest.mark.parametrize("operation", ["export", "erase"])
async def test_no_one_but_the_librarys_staff_exports_or_erases(
    platform: RunningPlatform, vt: VolunteerTenant, operation: str
) -> None:
    person = unique_person("Roos", "Smits")
    applied = await call(
        platform, vt.organisation_token, "POST", "/api/v1/applications", {"person": person, "library": vt.library_a}
    )
    method, path = ("GET", "export") if operation == "export" else ("POST", "erase")
    url = f"/api/v1/volunteers/{applied['id']}/{path}"
    attackers = {
        "another library's staff": (vt.staff_b, 404),
        "the municipality's coordinator": (vt.coordinator, 403),
        "the volunteer organisation that supplied them": (vt.organisation_token, 403),
        "another volunteer organisation": (vt.stranger_token, 403),
        "a school": (vt.school_token, 403),
        "an operator": (vt.base.operator, 403),
    }
    answers = {who: (await call(platform, token, method, url)).status_code for who, (token, _) in attackers.items()}
    assert answers == {who: status for who, (_, status) in attackers.items()}
    missing = await call(platform, vt.staff_a, method, f"/api/v1/volunteers/{uuid.uuid4()}/{path}")
    assert missing.status_code == 404
    # Nothing changed, nothing was given away.
    assert (await call(platform, vt.staff_a, "GET", f"/api/v1/volunteers/{applied['id']}"))["person"] == person
