"""Finding 2: only a party to a referral enrols it (else the enrolment moves someone else's referral on and puts
it in the caller's feed), and a 409 on enrolment never carries another party's enrolment."""

from __future__ import annotations

import uuid

import httpx
import sqlalchemy as sa

from services.courses import store
from tests.fixtures.platform import RunningPlatform
from tests.referral_bodies import referral_body
from tests.services.courses.support import course_tenant, published_course_with_session
from tests.waiting import eventually

PARTNER_PREMISES = {"location": {"kind": "partner_premises", "address": "Kanaalweg 1", "place": "Zuilen"}}


async def courses_know_referral(platform: RunningPlatform, referral_id: str, status: str | None = None) -> None:
    """Until the courses service knows the referral (in the status given, if one is)."""

    async def known() -> bool:
        async with platform.services["courses"].sessions() as session:
            row = await session.execute(
                sa.select(store.known_referrals.c.status).where(store.known_referrals.c.id == referral_id)
            )
            found = row.first()
            return found is not None and status in (None, found.status)

    await eventually(known, what=f"the courses service to know the referral {status or ''}")


async def test_a_partner_cannot_enrol_a_referral_it_is_no_party_to_in_its_own_course(platform: RunningPlatform) -> None:
    tenant = await course_tenant(platform)
    _, session = await published_course_with_session(
        platform, tenant.partner_b_token, capacity=5, details=PARTNER_PREMISES
    )
    async with platform.client(tenant.partner_a_token) as api:
        submitted = await api.post("/api/v1/referrals", json=referral_body(tenant.library_a, tenant.partner_a))
    assert submitted.status_code == 201, submitted.text
    referral = submitted.json()
    await courses_know_referral(platform, referral["id"])

    path = f"/api/v1/sessions/{session['id']}/enrolments"
    async with platform.client(tenant.partner_b_token) as intruder:
        refused = await intruder.post(path, json={"referral_id": referral["id"]})
        unknown_id = str(uuid.uuid4())
        unknown = await intruder.post(path, json={"referral_id": unknown_id})
        listed = (await intruder.get(path)).json()
    assert refused.status_code == unknown.status_code == 422
    # The same answer as for a referral that does not exist: nothing tells them apart.
    assert refused.json()["detail"].replace(referral["id"], "ID") == unknown.json()["detail"].replace(unknown_id, "ID")
    assert referral["participant_pseudonym"] not in refused.text
    assert listed["items"] == []
    async with platform.client(tenant.staff_b) as other_library:
        assert (await other_library.post(path, json={"referral_id": referral["id"]})).status_code == 422

    # The referral's own partner may, once the library accepted it: it is a party to it.
    async with platform.client(tenant.staff_a) as library:
        assert (await library.post(f"/api/v1/referrals/{referral['id']}/accept")).status_code == 200
    async with platform.client(tenant.partner_a_token) as party:

        async def enrolled() -> httpx.Response | None:
            answer = await party.post(path, json={"referral_id": referral["id"]})
            return answer if answer.status_code == 201 else None

        await eventually(enrolled, what="the courses service to know the referral accepted")
    async with platform.client(tenant.partner_b_token) as api:
        feed = (await api.get(f"/api/v1/partners/{tenant.partner_b}/feed")).json()
    assert all(entry.get("referral_id") != referral["id"] for entry in feed["items"])


async def test_a_409_on_enrolment_shows_the_enrolment_only_to_who_may_read_it(platform: RunningPlatform) -> None:
    tenant = await course_tenant(platform)
    _, session = await published_course_with_session(platform, tenant.staff_a, capacity=5)
    path = f"/api/v1/sessions/{session['id']}/enrolments"
    pseudonym = "P-ONEPLACE001"
    async with platform.client(tenant.staff_a) as own:
        first = await own.post(path, json={"participant_pseudonym": pseudonym})
        assert first.status_code == 201, first.text
        again = await own.post(path, json={"participant_pseudonym": pseudonym})
    assert again.status_code == 409 and again.json()["current"]["id"] == first.json()["id"]

    for token in (tenant.staff_b, tenant.partner_a_token):
        async with platform.client(token) as other:
            conflict = await other.post(path, json={"participant_pseudonym": pseudonym})
        assert conflict.status_code == 409, conflict.text
        assert "current" not in conflict.json()
        assert first.json()["id"] not in conflict.text and pseudonym not in conflict.text
        assert "confirmed" not in conflict.text
