"""Enrolment over HTTP on real NATS and PostgreSQL: no overbooking under concurrency, the waiting list moves
up in order, and the enrolment event reaches JetStream naming its referral (which then becomes enrolled)."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest

from tests.fixtures.platform import RunningPlatform
from tests.fixtures.tenants import Tenant
from tests.referral_bodies import referral_body
from tests.services.courses.support import course_events, course_tenant, published_course_with_session
from tests.waiting import eventually


@pytest.fixture(scope="module")
async def tenant(platform: RunningPlatform) -> Tenant:
    return await course_tenant(platform)


async def enrol(api: httpx.AsyncClient, session_id: str, **body: Any) -> httpx.Response:
    return await api.post(f"/api/v1/sessions/{session_id}/enrolments", json=body)


async def test_twenty_at_once_for_the_last_place_one_gets_it_the_rest_wait_in_order(
    platform: RunningPlatform, tenant: Tenant
) -> None:
    _, session = await published_course_with_session(platform, tenant.staff_a, capacity=2)
    async with platform.client(tenant.staff_a) as api:
        first = await enrol(api, session["id"], participant_pseudonym="P-FIRST00001")
        assert first.json()["status"] == "confirmed"
        # 20 at once, from both libraries' staff and a partner, for the one place left.
        clients = [platform.client(t) for t in (tenant.staff_a, tenant.staff_b, tenant.partner_a_token)]
        try:
            answers = await asyncio.gather(
                *(enrol(clients[n % 3], session["id"], participant_pseudonym=f"P-RACE{n:06d}") for n in range(20))
            )
        finally:
            for client in clients:
                await client.aclose()
        assert all(a.status_code == 201 for a in answers), [a.text for a in answers if a.status_code != 201]
        outcomes = [a.json() for a in answers]
        confirmed = [o for o in outcomes if o["status"] == "confirmed"]
        waiting = sorted((o for o in outcomes if o["status"] == "waitlisted"), key=lambda o: o["waiting_list_position"])
        assert len(confirmed) == 1
        assert [o["waiting_list_position"] for o in waiting] == list(range(1, 20))

        seen = (await api.get(f"/api/v1/sessions/{session['id']}")).json()
        assert (seen["capacity"], seen["confirmed"], seen["waitlisted"], seen["places_free"]) == (2, 2, 19, 0)
        listed = (await api.get(f"/api/v1/sessions/{session['id']}/enrolments", params={"limit": 200})).json()
        in_order = [e["participant_pseudonym"] for e in listed["items"] if e["status"] == "waitlisted"]
        assert in_order == [o["participant_pseudonym"] for o in waiting]  # the list reads in the order they came

        # The one who got the place cancels: the first in line moves up, everyone else one place.
        cancelled = await api.post(f"/api/v1/enrolments/{confirmed[0]['id']}/cancel", json={"reason": "verhuisd"})
        assert cancelled.status_code == 200, cancelled.text
        assert cancelled.json()["status"] == "cancelled"
        promoted = (await api.get(f"/api/v1/enrolments/{waiting[0]['id']}")).json()
        assert promoted["status"] == "confirmed"
        assert promoted["waiting_list_position"] is None
        second = (await api.get(f"/api/v1/enrolments/{waiting[1]['id']}")).json()
        assert second["waiting_list_position"] == 1
        seen = (await api.get(f"/api/v1/sessions/{session['id']}")).json()
        assert (seen["confirmed"], seen["waitlisted"]) == (2, 18)

        # One on the waiting list leaving moves nobody up, but closes the gap.
        await api.post(f"/api/v1/enrolments/{waiting[1]['id']}/cancel")
        third = (await api.get(f"/api/v1/enrolments/{waiting[2]['id']}")).json()
        assert (third["status"], third["waiting_list_position"]) == ("waitlisted", 1)

        # More capacity moves the top of the list up at once.
        grown = await api.patch(f"/api/v1/sessions/{session['id']}", json={"capacity": 4})
        assert grown.status_code == 200, grown.text
        assert (grown.json()["confirmed"], grown.json()["waitlisted"]) == (4, 15)
        assert (await api.get(f"/api/v1/enrolments/{waiting[3]['id']}")).json()["status"] == "confirmed"

    async def promotion_published() -> list[Any]:
        events = await course_events(platform, "enrolment.confirmed", tenant.municipality)
        return [e for e in events if e.data["enrolment_id"] == waiting[0]["id"]]

    (event,) = await eventually(promotion_published, what="the promotion's enrolment.confirmed on JetStream")
    assert event.data["promoted_from_waiting_list"] is True
    waitlisted_events = await course_events(platform, "enrolment.waitlisted", tenant.municipality)
    assert len([e for e in waitlisted_events if e.data["session_id"] == session["id"]]) == 19


async def test_the_same_participant_cannot_take_two_places_in_one_session(
    platform: RunningPlatform, tenant: Tenant
) -> None:
    _, session = await published_course_with_session(platform, tenant.staff_a, capacity=5)
    async with platform.client(tenant.staff_a) as api:
        assert (await enrol(api, session["id"], participant_pseudonym="P-TWICE00001")).status_code == 201
        again = await enrol(api, session["id"], participant_pseudonym="P-TWICE00001")
    assert again.status_code == 409
    assert again.json()["current"]["status"] == "confirmed"


async def test_a_direct_enrolment_without_a_pseudonym_gets_one_made_up(
    platform: RunningPlatform, tenant: Tenant
) -> None:
    _, session = await published_course_with_session(platform, tenant.staff_a, capacity=5)
    async with platform.client(tenant.partner_b_token) as api:
        made = await enrol(api, session["id"])
    assert made.status_code == 201, made.text
    assert made.json()["participant_pseudonym"].startswith("P-")
    assert made.json()["referral_id"] is None


async def test_an_enrolment_from_a_referral_moves_the_referral_to_enrolled(
    platform: RunningPlatform, tenant: Tenant
) -> None:
    _, session = await published_course_with_session(platform, tenant.staff_a, capacity=10)
    async with platform.client(tenant.partner_a_token) as partner:
        submitted = await partner.post("/api/v1/referrals", json=referral_body(tenant.library_a, tenant.partner_a))
    assert submitted.status_code == 201, submitted.text
    referral = submitted.json()
    async with platform.client(tenant.staff_a) as api:
        accepted = await api.post(f"/api/v1/referrals/{referral['id']}/accept")
        assert accepted.status_code == 200, accepted.text
        intake = {
            "intake_at": "2099-02-01T10:00:00+01:00",
            "place": "Centrale bibliotheek, Taalhuis",
            "contact_person": {"name": "Els van het Taalhuis"},
        }
        planned = await api.post(f"/api/v1/referrals/{referral['id']}/plan-intake", json=intake)
        assert planned.status_code == 200, planned.text

        async def enrolled_from_referral() -> httpx.Response | None:
            # The courses service knows the referral once its submitted event has arrived.
            answer = await enrol(api, session["id"], referral_id=referral["id"])
            return answer if answer.status_code == 201 else None

        enrolment = (await eventually(enrolled_from_referral, what="an enrolment from the referral")).json()
        assert enrolment["referral_id"] == referral["id"]
        assert enrolment["participant_pseudonym"] == referral["participant_pseudonym"]
        assert enrolment["status"] == "confirmed"

        # The referral is about its own participant: naming it for someone else is refused.
        someone_else = await enrol(api, session["id"], referral_id=referral["id"], participant_pseudonym="P-NOTTHEM001")
        assert someone_else.status_code == 422
        assert "another participant" in someone_else.json()["detail"]

        async def confirmed_on_jetstream() -> list[Any]:
            events = await course_events(platform, "enrolment.confirmed", tenant.municipality)
            return [e for e in events if e.data["enrolment_id"] == enrolment["id"]]

        (event,) = await eventually(confirmed_on_jetstream, what="enrolment.confirmed on EVENTS_COURSES")
        assert event.data["referral_id"] == referral["id"]
        assert event.data["participant_pseudonym"] == referral["participant_pseudonym"]
        assert event.data["session_id"] == session["id"]

        async def referral_enrolled() -> bool:
            seen = await api.get(f"/api/v1/referrals/{referral['id']}")
            return seen.json()["status"] == "enrolled"

        await eventually(referral_enrolled, what="the referral to become enrolled")


async def test_an_enrolment_naming_an_unknown_referral_is_refused(platform: RunningPlatform, tenant: Tenant) -> None:
    _, session = await published_course_with_session(platform, tenant.staff_a, capacity=10)
    async with platform.client(tenant.staff_a) as api:
        unknown = await enrol(api, session["id"], referral_id="01a226a7-0000-7000-8000-000000000000")
    assert unknown.status_code == 422
    assert "not known" in unknown.json()["detail"]


async def test_cancelling_a_session_cancels_its_places_and_waiting_list(
    platform: RunningPlatform, tenant: Tenant
) -> None:
    _, session = await published_course_with_session(platform, tenant.staff_a, capacity=1)
    async with platform.client(tenant.staff_a) as api:
        placed = (await enrol(api, session["id"], participant_pseudonym="P-SESSCAN001")).json()
        waiting = (await enrol(api, session["id"], participant_pseudonym="P-SESSCAN002")).json()
        cancelled = await api.post(f"/api/v1/sessions/{session['id']}/cancel", json={"reason": "docent ziek"})
        assert cancelled.status_code == 200, cancelled.text
        assert (cancelled.json()["status"], cancelled.json()["confirmed"], cancelled.json()["waitlisted"]) == (
            "cancelled",
            0,
            0,
        )
        for one in (placed, waiting):
            assert (await api.get(f"/api/v1/enrolments/{one['id']}")).json()["status"] == "cancelled"
        late = await enrol(api, session["id"], participant_pseudonym="P-SESSCAN003")
    assert late.status_code == 409
    assert late.json()["type"] == "urn:partnernet:problem:illegal-transition"
