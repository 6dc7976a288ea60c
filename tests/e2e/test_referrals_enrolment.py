"""A referral and its enrolments over HTTP, across the courses and referrals services: an accepted referral enrols
before its intake is planned (recorded on the referral, the referrer told in its feed), a second course is
recorded too, an enrolment from a referral that cannot take one is refused at once, saying why, and a place from
the waiting list reaches the referral, the referrer, the library and (by the library) the participant."""

from __future__ import annotations

from typing import Any
from uuid import UUID

import httpx
import msgspec
import pytest
import sqlalchemy as sa

from services.courses import store
from shared.contracts import Envelope
from tests.fixtures.platform import RunningPlatform
from tests.fixtures.tenants import Tenant
from tests.referral_bodies import referral_body
from tests.services.courses.support import course_tenant, published_course_with_session
from tests.services.referrals.conftest import referral_events
from tests.waiting import eventually


@pytest.fixture(scope="module")
async def tenant(platform: RunningPlatform) -> Tenant:
    return await course_tenant(platform)


async def submitted_referral(platform: RunningPlatform, tenant: Tenant) -> dict[str, Any]:
    async with platform.client(tenant.partner_a_token) as partner:
        submitted = await partner.post("/api/v1/referrals", json=referral_body(tenant.library_a, tenant.partner_a))
    assert submitted.status_code == 201, submitted.text
    return dict(submitted.json())


async def enrol_until(api: httpx.AsyncClient, session_id: str, referral_id: str, status: int) -> httpx.Response:
    """Enrol from the referral until the courses service answers `status` (it learns of steps by events)."""

    async def answered() -> httpx.Response | None:
        answer = await api.post(f"/api/v1/sessions/{session_id}/enrolments", json={"referral_id": referral_id})
        return answer if answer.status_code == status else None

    return await eventually(answered, what=f"a {status} for an enrolment from referral {referral_id}")


async def courses_know_status(platform: RunningPlatform, referral_id: str, status: str) -> None:
    """Until then an enrolment may still slip in: the courses service learns of a referral's steps by events."""

    async def known() -> bool:
        async with platform.services["courses"].sessions() as session:
            r = store.known_referrals
            found = await session.scalar(sa.select(r.c.status).where(r.c.id == UUID(referral_id)))
        return found == status

    await eventually(known, what=f"the courses service to know referral {referral_id} is {status}")


async def feed_types(platform: RunningPlatform, tenant: Tenant, referral_id: str) -> list[str]:
    async with platform.client(tenant.partner_a_token) as api:
        response = await api.get(f"/api/v1/partners/{tenant.partner_a}/feed", params={"limit": 200})
    assert response.status_code == 200, response.text
    return [e["type"] for e in response.json()["items"] if e["data"].get("referral_id") == referral_id]


async def test_an_accepted_referral_enrols_before_its_intake_and_the_referrer_is_told(
    platform: RunningPlatform, tenant: Tenant
) -> None:
    _, session = await published_course_with_session(platform, tenant.staff_a, capacity=5)
    _, other_session = await published_course_with_session(platform, tenant.staff_a, capacity=5)
    referral = await submitted_referral(platform, tenant)
    async with platform.client(tenant.staff_a) as api:
        not_yet = await enrol_until(api, session["id"], referral["id"], 409)
        assert "accepts it first" in not_yet.json()["detail"]
        assert not_yet.json()["referral_status"] == "submitted"

        assert (await api.post(f"/api/v1/referrals/{referral['id']}/accept")).status_code == 200
        enrolment = (await enrol_until(api, session["id"], referral["id"], 201)).json()

        async def recorded() -> dict[str, Any] | None:
            seen = (await api.get(f"/api/v1/referrals/{referral['id']}")).json()
            return seen if seen["status"] == "enrolled" else None

        seen = await eventually(recorded, what="the enrolment recorded on the accepted referral")
        assert seen["enrolment_id"] == enrolment["id"]
        assert [entry["step"] for entry in seen["history"]] == ["submit", "accept", "enrol"]

        # The same session again is the same place; another course beside it is recorded as well.
        again = await api.post(f"/api/v1/sessions/{session['id']}/enrolments", json={"referral_id": referral["id"]})
        assert again.status_code == 409, again.text
        second = await api.post(
            f"/api/v1/sessions/{other_session['id']}/enrolments", json={"referral_id": referral["id"]}
        )
        assert second.status_code == 201, second.text

        async def both_recorded() -> dict[str, Any] | None:
            seen = (await api.get(f"/api/v1/referrals/{referral['id']}")).json()
            return seen if seen["enrolment_id"] == second.json()["id"] else None

        seen = await eventually(both_recorded, what="the second course recorded on the referral")
        assert [entry["step"] for entry in seen["history"]] == ["submit", "accept", "enrol", "enrol"]

    async def referrer_told() -> list[str] | None:
        types = await feed_types(platform, tenant, referral["id"])
        return types if types.count("nl.partnernet.referral.enrolled.v1") == 2 else None

    await eventually(referrer_told, what="both enrolments in the referring partner's feed")


@pytest.mark.parametrize("step", ["decline", "withdraw"])
async def test_a_closed_referral_takes_no_enrolment_and_says_why(
    platform: RunningPlatform, tenant: Tenant, step: str
) -> None:
    _, session = await published_course_with_session(platform, tenant.staff_a, capacity=5)
    referral = await submitted_referral(platform, tenant)
    token = tenant.staff_a if step == "decline" else tenant.partner_a_token
    async with platform.client(token) as api:
        closed = await api.post(f"/api/v1/referrals/{referral['id']}/{step}", json={"reason": "other", "note": "x"})
    assert closed.status_code == 200, closed.text
    await courses_know_status(platform, referral["id"], closed.json()["status"])
    async with platform.client(tenant.staff_a) as api:
        refused = await enrol_until(api, session["id"], referral["id"], 409)
        listed = await api.get(f"/api/v1/sessions/{session['id']}/enrolments")
    problem = refused.json()
    assert problem["referral_status"] == closed.json()["status"]
    assert "it is closed" in problem["detail"]
    assert listed.status_code == 200, listed.text
    assert listed.json()["items"] == []  # no place was taken


async def library_events(platform: RunningPlatform, tenant: Tenant, referral_id: str) -> dict[str, dict[str, Any]]:
    """The referral's events on the library's own subjects (what its live stream carries), by type."""
    found: dict[str, dict[str, Any]] = {}
    for subject, raw in await referral_events(platform.settings.nats_url, tenant.municipality):
        envelope = msgspec.json.decode(raw, type=Envelope)
        if envelope.data.get("referral_id") == referral_id and subject.endswith(f".{tenant.library_a}"):
            found[envelope.type.removeprefix("nl.partnernet.")] = envelope.data
    return found


@pytest.mark.parametrize("channel", ["phone", "via_referrer"])
async def test_a_place_from_the_waiting_list_is_told_to_the_referrer_the_library_and_the_participant(
    platform: RunningPlatform, tenant: Tenant, channel: str
) -> None:
    _, session = await published_course_with_session(platform, tenant.staff_a, capacity=1)
    async with platform.client(tenant.partner_a_token) as partner:
        body = referral_body(tenant.library_a, tenant.partner_a, preferred_channel=channel)
        submitted = await partner.post("/api/v1/referrals", json=body)
    assert submitted.status_code == 201, submitted.text
    referral = submitted.json()
    async with platform.client(tenant.staff_a) as api:
        first = await api.post(f"/api/v1/sessions/{session['id']}/enrolments", json={})
        assert first.status_code == 201, first.text
        assert (await api.post(f"/api/v1/referrals/{referral['id']}/accept")).status_code == 200
        waiting = (await enrol_until(api, session["id"], referral["id"], 201)).json()
        assert waiting["status"] == "waitlisted"

        async def waitlist_recorded() -> bool:
            seen = (await api.get(f"/api/v1/referrals/{referral['id']}")).json()
            return [entry["step"] for entry in seen["history"]][-1] == "waitlist"

        await eventually(waitlist_recorded, what="the waiting list recorded on the referral")
        cancelled = await api.post(f"/api/v1/enrolments/{first.json()['id']}/cancel", json={"reason": "verhuisd"})
        assert cancelled.status_code == 200, cancelled.text

        async def promoted() -> dict[str, Any] | None:
            seen = (await api.get(f"/api/v1/referrals/{referral['id']}")).json()
            return seen if seen["status"] == "enrolled" else None

        seen = await eventually(promoted, what="the place from the waiting list recorded on the referral")
    assert seen["enrolment_id"] == waiting["id"]
    steps = [entry["step"] for entry in seen["history"]]
    assert steps[-4:] == ["accept", "waitlist", "enrol", "request_notification"]

    async def told() -> dict[str, dict[str, Any]] | None:
        found = await library_events(platform, tenant, referral["id"])
        return found if "referral.notification_requested.v1" in found else None

    events = await eventually(told, what="the library asked to tell the participant")
    assert events["referral.enrolled.v1"]["promoted_from_waiting_list"] is True
    assert events["referral.waitlisted.v1"]["waiting_list_position"] == 1
    request = events["referral.notification_requested.v1"]
    assert request["reason"] == "place_from_waiting_list"
    # The library calls where it may; with contact through the referrer, the referrer (told below) does.
    assert request["channel"] == (None if channel == "via_referrer" else "phone")

    async def referrer_told() -> list[str] | None:
        types = await feed_types(platform, tenant, referral["id"])
        wanted = {"nl.partnernet.referral.waitlisted.v1", "nl.partnernet.referral.enrolled.v1"}
        return types if wanted <= set(types) else None

    await eventually(referrer_told, what="the waiting list and the place in the referrer's feed")
