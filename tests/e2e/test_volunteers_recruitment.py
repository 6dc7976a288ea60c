"""Recruitment over HTTP: vacancies published as events, applications through the library or a volunteer
organisation, the pipeline, the certificate of conduct before activation, scope and versions.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from shared.clock import local_today
from tests.fixtures.platform import RunningPlatform
from tests.services.volunteers.volunteer_tenant import VolunteerTenant, person, volunteer_tenant
from tests.waiting import eventually, last_event

PROBLEM = "application/problem+json"


@pytest.fixture(scope="module")
async def vt(platform: RunningPlatform) -> VolunteerTenant:
    """One tenant for the module: each test makes its own vacancies, volunteers and courses in it."""
    return await volunteer_tenant(platform)


async def create_vacancy(platform: RunningPlatform, token: str, **overrides: Any) -> dict[str, Any]:
    body = {
        "title": "Begeleider digitale vaardigheden",
        "description": "Helpt deelnemers op dinsdagochtend met de computer",
        "hours_per_week": 3,
        "qualifications_needed": ["digital-guide"],
        "certificate_of_conduct_required": True,
        **overrides,
    }
    async with platform.client(token) as api:
        response = await api.post("/api/v1/vacancies", json=body)
    assert response.status_code == 201, response.text
    return response.json()


async def publish(platform: RunningPlatform, token: str, vacancy_id: str) -> dict[str, Any]:
    async with platform.client(token) as api:
        response = await api.post(f"/api/v1/vacancies/{vacancy_id}/publish")
    assert response.status_code == 200, response.text
    return response.json()


async def apply(platform: RunningPlatform, token: str, **body: Any) -> Any:
    async with platform.client(token) as api:
        return await api.post("/api/v1/applications", json={"person": person(), **body})


async def step(platform: RunningPlatform, token: str, volunteer_id: str, name: str, **body: Any) -> Any:
    async with platform.client(token) as api:
        return await api.post(f"/api/v1/volunteers/{volunteer_id}/{name}", json=body or None)


# --- vacancies ----------------------------------------------------------------------------------


async def test_a_published_vacancy_is_a_vacancy_published_event_on_the_volunteers_stream(
    platform: RunningPlatform, vt: VolunteerTenant
) -> None:
    vacancy = await create_vacancy(platform, vt.staff_a)
    assert vacancy["status"] == "draft" and vacancy["version"] == 1

    published = await publish(platform, vt.staff_a, vacancy["id"])

    assert published["status"] == "published" and published["version"] == 2
    subject = f"events.volunteers.vacancy.published.v1.{vt.municipality}.{vt.library_a}"
    envelope = await eventually(
        lambda: last_event(platform.settings.nats_url, "volunteers", subject), what="vacancy.published"
    )
    assert envelope.type == "nl.partnernet.vacancy.published.v1"
    assert envelope.data["vacancy_id"] == vacancy["id"]
    assert envelope.data["library"] == vt.library_a
    assert envelope.data["qualifications_needed"] == ["digital-guide"]
    assert envelope.data["certificate_of_conduct_required"] is True


async def test_a_published_vacancy_reaches_the_feed_of_the_partnering_volunteer_organisation(
    platform: RunningPlatform, vt: VolunteerTenant
) -> None:
    vacancy = await create_vacancy(platform, vt.staff_a, title="Voorleesvrijwilliger")
    await publish(platform, vt.staff_a, vacancy["id"])

    async def in_feed(token: str, partner_id: str) -> list[dict[str, Any]]:
        async with platform.client(token) as api:
            response = await api.get(f"/api/v1/partners/{partner_id}/feed", params={"limit": 200})
        response.raise_for_status()
        return [e for e in response.json()["items"] if e["data"].get("vacancy_id") == vacancy["id"]]

    async def arrived() -> list[dict[str, Any]]:
        return await in_feed(vt.organisation_token, vt.organisation)

    (entry,) = await eventually(arrived, what="the vacancy in the volunteer organisation's feed")
    assert entry["type"] == "nl.partnernet.vacancy.published.v1"
    assert entry["library"] == vt.library_a
    assert entry["data"]["title"] == "Voorleesvrijwilliger"
    # Not for a volunteer organisation without a partnership, nor for the school (it supplies interns).
    assert await in_feed(vt.stranger_token, vt.stranger) == []
    assert await in_feed(vt.school_token, vt.school) == []


async def test_a_partnering_volunteer_organisation_sees_published_vacancies_only(
    platform: RunningPlatform, vt: VolunteerTenant
) -> None:
    draft = await create_vacancy(platform, vt.staff_a, title="Taalmaatje")
    published = await create_vacancy(platform, vt.staff_a, title="Huiswerkbegeleider")
    await publish(platform, vt.staff_a, published["id"])
    elsewhere = await create_vacancy(platform, vt.staff_b, title="Voorlezer")
    await publish(platform, vt.staff_b, elsewhere["id"])

    async with platform.client(vt.organisation_token) as api:
        listed = (await api.get("/api/v1/vacancies")).json()["items"]
        draft_read = await api.get(f"/api/v1/vacancies/{draft['id']}")
    async with platform.client(vt.stranger_token) as api:
        stranger_listed = (await api.get("/api/v1/vacancies")).json()["items"]

    listed_ids = [v["id"] for v in listed]
    assert published["id"] in listed_ids
    assert draft["id"] not in listed_ids and elsewhere["id"] not in listed_ids  # not the draft, not library B's
    assert all(v["status"] == "published" and v["library"] == vt.library_a for v in listed)
    assert draft_read.status_code == 404
    assert stranger_listed == []


async def test_vacancy_update_with_a_stale_version_is_a_conflict_with_the_current_state(
    platform: RunningPlatform, vt: VolunteerTenant
) -> None:
    vacancy = await create_vacancy(platform, vt.staff_a)
    async with platform.client(vt.staff_a) as api:
        first = await api.patch(f"/api/v1/vacancies/{vacancy['id']}", json={"hours_per_week": 4, "expected_version": 1})
        stale = await api.patch(f"/api/v1/vacancies/{vacancy['id']}", json={"hours_per_week": 6, "expected_version": 1})

    assert first.status_code == 200 and first.json()["version"] == 2 and first.json()["hours_per_week"] == 4
    assert stale.status_code == 409
    assert stale.json()["current"]["hours_per_week"] == 4
    assert stale.json()["current"]["version"] == 2


async def test_closing_twice_is_an_illegal_step(platform: RunningPlatform, vt: VolunteerTenant) -> None:
    vacancy = await create_vacancy(platform, vt.staff_a)
    async with platform.client(vt.staff_a) as api:
        assert (await api.post(f"/api/v1/vacancies/{vacancy['id']}/close")).status_code == 200
        again = await api.post(f"/api/v1/vacancies/{vacancy['id']}/close")
    assert again.status_code == 409
    assert again.json()["type"] == "urn:partnernet:problem:illegal-transition"
    assert again.json()["state"] == "closed" and again.json()["step"] == "close"


# --- applications and the pipeline --------------------------------------------------------------


async def test_application_through_a_volunteer_organisation_records_which_one(
    platform: RunningPlatform, vt: VolunteerTenant
) -> None:
    vacancy = await create_vacancy(platform, vt.staff_a)
    await publish(platform, vt.staff_a, vacancy["id"])

    response = await apply(platform, vt.organisation_token, library=vt.library_a, vacancy_id=vacancy["id"])

    assert response.status_code == 201, response.text
    applicant = response.json()
    assert applicant["status"] == "applied"
    assert applicant["channel"] == "volunteer_organisation"
    assert applicant["via_partner_id"] == vt.organisation
    assert applicant["person"]["name"] == "Sanne de Vries"  # the organisation that sent them sees who
    subject = f"events.volunteers.volunteer.applied.v1.{vt.municipality}.{vt.library_a}"
    envelope = await eventually(
        lambda: last_event(platform.settings.nats_url, "volunteers", subject), what="volunteer.applied"
    )
    assert envelope.data["volunteer_id"] == applicant["id"]
    assert envelope.data["via_partner_id"] == vt.organisation
    # Volunteers' names and contact details stay in the service: the event carries ids.
    assert "Sanne" not in str(envelope.data) and "0611122233" not in str(envelope.data)


async def test_each_organisation_sees_only_the_applications_it_submitted(
    platform: RunningPlatform, vt: VolunteerTenant
) -> None:
    mine = (await apply(platform, vt.organisation_token, library=vt.library_a)).json()
    own_channel = (await apply(platform, vt.staff_a)).json()
    assert own_channel["channel"] == "library" and own_channel["via_partner_id"] is None

    async with platform.client(vt.organisation_token) as api:
        listed = (await api.get("/api/v1/applications")).json()["items"]
        other = await api.get(f"/api/v1/volunteers/{own_channel['id']}")
    assert mine["id"] in [a["id"] for a in listed]
    assert own_channel["id"] not in [a["id"] for a in listed]
    assert all(a["via_partner_id"] == vt.organisation for a in listed)
    assert other.status_code == 404


async def test_a_volunteer_organisation_without_a_partnership_cannot_apply(
    platform: RunningPlatform, vt: VolunteerTenant
) -> None:
    refused = await apply(platform, vt.stranger_token, library=vt.library_a)
    for_another = await apply(platform, vt.organisation_token, library=vt.library_a, via_partner_id=vt.stranger)
    staff_naming_a_stranger = await apply(platform, vt.staff_a, via_partner_id=vt.stranger)

    assert refused.status_code == 403
    assert for_another.status_code == 403
    assert staff_naming_a_stranger.status_code == 422


async def test_the_pipeline_from_application_to_active_with_a_valid_certificate_of_conduct(
    platform: RunningPlatform, vt: VolunteerTenant
) -> None:
    applicant = (await apply(platform, vt.staff_a)).json()
    volunteer_id = applicant["id"]
    assert applicant["certificate_of_conduct_required"] is True

    assert (await step(platform, vt.staff_a, volunteer_id, "start_intake")).json()["status"] == "intake"
    assert (await step(platform, vt.staff_a, volunteer_id, "start_screening")).json()["status"] == "screening"
    refused = await step(platform, vt.staff_a, volunteer_id, "activate")
    assert refused.status_code == 409
    assert refused.json()["missing"][0]["requirement"] == "certificate_of_conduct"
    assert "certificate of conduct" in refused.json()["detail"]

    async with platform.client(vt.staff_a) as api:
        requested = await api.post(f"/api/v1/volunteers/{volunteer_id}/certificate-of-conduct/requests")
        assert requested.json()["certificate"]["status"] == "requested"
        still_refused = await api.post(f"/api/v1/volunteers/{volunteer_id}/activate")
        assert still_refused.status_code == 409
        issued_on = local_today() - timedelta(days=3)
        received = await api.post(
            f"/api/v1/volunteers/{volunteer_id}/certificate-of-conduct/receipts",
            json={"issued_on": issued_on.isoformat(), "valid_until": (issued_on + timedelta(days=730)).isoformat()},
        )
    assert received.status_code == 200, received.text
    assert received.json()["certificate"]["status"] == "valid"

    activated = await step(platform, vt.staff_a, volunteer_id, "activate")
    assert activated.status_code == 200, activated.text
    assert activated.json()["status"] == "active"
    deactivated = await step(platform, vt.staff_a, volunteer_id, "deactivate")
    assert deactivated.json()["status"] == "inactive"


async def test_an_expired_certificate_of_conduct_does_not_activate_until_renewed(
    platform: RunningPlatform, vt: VolunteerTenant
) -> None:
    volunteer_id = (await apply(platform, vt.staff_a)).json()["id"]
    await step(platform, vt.staff_a, volunteer_id, "start_intake")
    await step(platform, vt.staff_a, volunteer_id, "start_screening")
    base = f"/api/v1/volunteers/{volunteer_id}/certificate-of-conduct"
    async with platform.client(vt.staff_a) as api:
        await api.post(f"{base}/requests")
        # Recent enough to be accepted (the library's policy), but the library let it count only until yesterday.
        yesterday = local_today() - timedelta(days=1)
        old = {"issued_on": str(yesterday - timedelta(days=30)), "valid_until": str(yesterday)}
        assert (await api.post(f"{base}/receipts", json=old)).json()["certificate"]["status"] == "expired"
        refused = await api.post(f"/api/v1/volunteers/{volunteer_id}/activate")
        assert refused.status_code == 409
        assert str(yesterday) in refused.json()["detail"]
        await api.post(f"{base}/requests")  # the renewal
        await api.post(f"{base}/receipts", json={"issued_on": local_today().isoformat()})
        activated = await api.post(f"/api/v1/volunteers/{volunteer_id}/activate")
    assert activated.status_code == 200, activated.text


async def test_a_role_without_a_certificate_requirement_activates_without_one(
    platform: RunningPlatform, vt: VolunteerTenant
) -> None:
    vacancy = await create_vacancy(platform, vt.staff_a, certificate_of_conduct_required=False)
    await publish(platform, vt.staff_a, vacancy["id"])
    volunteer_id = (await apply(platform, vt.staff_a, vacancy_id=vacancy["id"])).json()["id"]
    for name in ("start_intake", "start_screening"):
        await step(platform, vt.staff_a, volunteer_id, name)

    activated = await step(platform, vt.staff_a, volunteer_id, "activate")

    assert activated.status_code == 200, activated.text
    assert activated.json()["status"] == "active"


async def test_rejection_needs_a_reason_and_is_final(platform: RunningPlatform, vt: VolunteerTenant) -> None:
    volunteer_id = (await apply(platform, vt.staff_a)).json()["id"]
    without = await step(platform, vt.staff_a, volunteer_id, "reject")
    rejected = await step(platform, vt.staff_a, volunteer_id, "reject", reason="past de rol niet")
    afterwards = await step(platform, vt.staff_a, volunteer_id, "start_intake")

    assert without.status_code == 422
    assert rejected.json()["status"] == "rejected" and rejected.json()["status_reason"] == "past de rol niet"
    assert afterwards.status_code == 409
    assert afterwards.json()["state"] == "rejected" and afterwards.json()["step"] == "start_intake"


async def test_the_organisation_may_withdraw_its_applicant_but_not_move_them_on(
    platform: RunningPlatform, vt: VolunteerTenant
) -> None:
    volunteer_id = (await apply(platform, vt.organisation_token, library=vt.library_a)).json()["id"]

    forbidden = await step(platform, vt.organisation_token, volunteer_id, "start_intake")
    withdrawn = await step(platform, vt.organisation_token, volunteer_id, "withdraw", reason="heeft ander werk")

    assert forbidden.status_code == 403
    assert withdrawn.status_code == 200 and withdrawn.json()["status"] == "withdrawn"


# --- scope --------------------------------------------------------------------------------------


async def test_scope_staff_own_library_coordinator_reads_municipality(
    platform: RunningPlatform, vt: VolunteerTenant
) -> None:
    volunteer = (await apply(platform, vt.staff_a)).json()
    vacancy = await create_vacancy(platform, vt.staff_a)

    async with platform.client(vt.staff_b) as api:
        other_staff_read = await api.get(f"/api/v1/volunteers/{volunteer['id']}")
        other_staff_step = await api.post(f"/api/v1/volunteers/{volunteer['id']}/start_intake")
        other_staff_vacancy = await api.patch(f"/api/v1/vacancies/{vacancy['id']}", json={"hours_per_week": 1})
        other_staff_list = (await api.get("/api/v1/volunteers")).json()["items"]
    async with platform.client(vt.coordinator) as api:
        coordinator_read = await api.get(f"/api/v1/volunteers/{volunteer['id']}")
        coordinator_step = await api.post(f"/api/v1/volunteers/{volunteer['id']}/start_intake")
        coordinator_create = await api.post("/api/v1/vacancies", json={"title": "x"})

    assert other_staff_read.status_code == 404
    assert other_staff_step.status_code == 404
    assert other_staff_vacancy.status_code == 404
    assert volunteer["id"] not in [v["id"] for v in other_staff_list]
    assert coordinator_read.status_code == 200
    assert coordinator_read.json()["person"] is None  # coordinators see the record, not the person's details
    assert coordinator_step.status_code == 403
    assert coordinator_create.status_code == 403


async def test_lists_are_cursor_paginated(platform: RunningPlatform, vt: VolunteerTenant) -> None:
    created = [(await create_vacancy(platform, vt.staff_b, title=f"Vacature {i}"))["id"] for i in range(5)]
    seen: list[str] = []
    cursor = None
    async with platform.client(vt.staff_b) as api:
        for _ in range(5):
            params: dict[str, Any] = {"limit": 2}
            if cursor:
                params["cursor"] = cursor
            page = (await api.get("/api/v1/vacancies", params=params)).json()
            seen += [v["id"] for v in page["items"]]
            cursor = page.get("next_cursor")
            if not cursor:
                break
        bad = await api.get("/api/v1/vacancies", params={"cursor": "not-a-cursor"})
    assert [v for v in seen if v in created] == created
    assert len(seen) == len(set(seen))
    assert bad.status_code == 422
