"""Places kept for a referrer's referrals on a course planned for its request for tailored education (issue 24), over
HTTP against the real platform: the waiting list moves up around them (a kept place goes to that referrer's referral
on the list first, however far down), and they end, on the last day the library set or when the referrer says it
needs no more, after which the unused ones go to the general waiting list at once, with the end in the referrer's
feed. As an attacker: another referrer, staff, a second release, a last day gone by: 4xx, nothing changes.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import httpx
import pytest

from services.courses.commands import education
from services.courses.store import education as education_store
from shared.clock import FixedClock, local_date, local_today, start_of_day
from shared.unit_of_work import UnitOfWork
from tests.e2e.partner_feed import feed_entries
from tests.e2e.test_referrers_ask_tailored_education import PATH, accepted_referral, enrol, request_body
from tests.fixtures.platform import RunningPlatform
from tests.fixtures.tenants import Tenant
from tests.services.courses.support import course_tenant, partnership_state_known, published_course_with_session
from tests.services.volunteers.volunteer_tenant import activate_partnership, call
from tests.waiting import eventually


@pytest.fixture(scope="module")
async def tenant(platform: RunningPlatform) -> Tenant:
    """Partner A is library A's referrer by partnership; partner B refers by the municipality's agreement only."""
    tenant = await course_tenant(platform)
    partnership = await activate_partnership(platform, tenant, tenant.partner_a, tenant.library_a, "referrer")
    await partnership_state_known(platform, partnership, ended=False)
    return tenant


async def planned_request(
    platform: RunningPlatform, tenant: Tenant, *, clients: int, capacity: int, **answer: Any
) -> tuple[dict[str, Any], dict[str, Any]]:
    """Partner A's request, planned on a new course of library A with one session: (the request, the session)."""
    requested = await call(
        platform, tenant.partner_a_token, "POST", PATH, request_body(tenant.library_a, clients=clients)
    )
    assert not isinstance(requested, httpx.Response), requested.text
    course, session = await published_course_with_session(platform, tenant.staff_a, capacity=capacity)
    planned = await call(
        platform,
        tenant.staff_a,
        "POST",
        f"{PATH}/{requested['id']}/answer",
        {"decision": "plan", "course_id": course["id"], **answer},
    )
    assert not isinstance(planned, httpx.Response), planned.text
    return planned, session


async def status_of(platform: RunningPlatform, tenant: Tenant, enrolment: dict[str, Any]) -> str:
    return str((await call(platform, tenant.staff_a, "GET", f"/api/v1/enrolments/{enrolment['id']}"))["status"])


async def cancel(platform: RunningPlatform, tenant: Tenant, enrolment: dict[str, Any]) -> None:
    cancelled = await call(platform, tenant.staff_a, "POST", f"/api/v1/enrolments/{enrolment['id']}/cancel", {})
    assert not isinstance(cancelled, httpx.Response), cancelled.text
    assert cancelled["status"] == "cancelled"


async def reservation_end_in_feed(platform: RunningPlatform, tenant: Tenant, request_id: str) -> dict[str, Any]:
    async def ended() -> dict[str, Any] | None:
        entries = await feed_entries(
            platform, tenant.partner_a_token, tenant.partner_a, "education_request.reservation_ended"
        )
        found = [e["data"] for e in entries if e["data"]["request_id"] == request_id]
        return found[0] if found else None

    return await eventually(ended, what="the reservation's end in the referrer's feed")


async def test_a_kept_place_goes_to_the_referrers_referral_on_the_waiting_list_first_until_the_referrer_releases_it(
    platform: RunningPlatform, tenant: Tenant
) -> None:
    planned, session = await planned_request(platform, tenant, clients=2, capacity=3)
    assert (planned["reserved_places"], planned["reserved_until"], planned["reservation_end"]) == (2, None, None)
    referrer = {"a": (tenant.partner_a_token, tenant.partner_a), "b": (tenant.partner_b_token, tenant.partner_b)}
    referrals = {
        name: await accepted_referral(platform, tenant, *referrer[name[0]]) for name in ("b1", "a1", "a2", "b2", "a3")
    }
    places = {
        name: await enrol(platform, tenant, session["id"], referral["id"]) for name, referral in referrals.items()
    }
    assert {name: place["status"] for name, place in places.items()} == {
        "b1": "confirmed",  # the one place not kept
        "a1": "confirmed",
        "a2": "confirmed",
        "b2": "waitlisted",  # first on the list
        "a3": "waitlisted",
    }

    # a1 cancels: its kept place goes to a3, although b2 waits longer.
    await cancel(platform, tenant, places["a1"])
    assert await status_of(platform, tenant, places["a3"]) == "confirmed"
    assert await status_of(platform, tenant, places["b2"]) == "waitlisted"
    # a2 cancels: still kept (a3 holds one of the two), and no referral of partner A waits: b2 stays on the list.
    await cancel(platform, tenant, places["a2"])
    assert await status_of(platform, tenant, places["b2"]) == "waitlisted"
    free = await call(platform, tenant.staff_a, "GET", f"/api/v1/sessions/{session['id']}")
    assert free["places_free"] == 1, free

    # Another referrer, staff and a stale version release nothing.
    release = f"{PATH}/{planned['id']}/release"
    for token, body, status in (
        (tenant.partner_b_token, {}, 404),
        (tenant.staff_a, {}, 403),
        (tenant.partner_a_token, {"expected_version": planned["version"] + 5}, 409),
        (tenant.partner_a_token, {"places": 1}, 422),
    ):
        refused = await call(platform, token, "POST", release, body)
        assert isinstance(refused, httpx.Response) and refused.status_code == status, (token, refused)
    assert await status_of(platform, tenant, places["b2"]) == "waitlisted"

    # Partner A needs the places no more: the unused kept place goes to b2 at once.
    released = await call(platform, tenant.partner_a_token, "POST", release, {"expected_version": planned["version"]})
    assert not isinstance(released, httpx.Response), released.text
    assert released["reservation_end"] == "released" and released["reservation_ended_at"] is not None
    assert await status_of(platform, tenant, places["b2"]) == "confirmed"
    again = await call(platform, tenant.partner_a_token, "POST", release, {})
    assert isinstance(again, httpx.Response) and again.status_code == 409
    ended = await reservation_end_in_feed(platform, tenant, planned["id"])
    assert (ended["reason"], ended["places_released"], ended["promoted"]) == ("released", 1, 1)
    assert await feed_entries(platform, tenant.partner_b_token, tenant.partner_b, "education_request.") == []

    # With nothing kept any more, a place that frees goes to the next on the list, another referrer's referral.
    later = await accepted_referral(platform, tenant, tenant.partner_b_token, tenant.partner_b)
    waiting = await enrol(platform, tenant, session["id"], later["id"])
    assert waiting["status"] == "waitlisted"  # full: b1, a3, b2
    await cancel(platform, tenant, places["b1"])
    assert await status_of(platform, tenant, waiting) == "confirmed"


async def test_kept_places_end_after_their_last_day_and_go_to_the_waiting_list(
    platform: RunningPlatform, tenant: Tenant
) -> None:
    today = local_today()
    past = await call(platform, tenant.partner_a_token, "POST", PATH, request_body(tenant.library_a, clients=1))
    course, _ = await published_course_with_session(platform, tenant.staff_a, capacity=2)
    gone_by = {"decision": "plan", "course_id": course["id"], "reserved_until": str(today - timedelta(days=1))}
    refused = await call(platform, tenant.staff_a, "POST", f"{PATH}/{past['id']}/answer", gone_by)
    assert isinstance(refused, httpx.Response) and refused.status_code == 422, refused
    assert (await call(platform, tenant.staff_a, "GET", f"{PATH}/{past['id']}"))["status"] == "requested"

    planned, session = await planned_request(platform, tenant, clients=1, capacity=2, reserved_until=str(today))
    assert planned["reserved_until"] == str(today)
    first = await accepted_referral(platform, tenant, tenant.partner_b_token, tenant.partner_b)
    second = await accepted_referral(platform, tenant, tenant.partner_b_token, tenant.partner_b)
    assert (await enrol(platform, tenant, session["id"], first["id"]))["status"] == "confirmed"
    waiting = await enrol(platform, tenant, session["id"], second["id"])
    assert waiting["status"] == "waitlisted"  # the other place is kept for partner A through today

    runtime = platform.services["courses"]

    def job_on(day: datetime) -> UnitOfWork:
        return UnitOfWork(runtime.sessions, FixedClock(day))

    # Through its last day the place stays kept; the day after, the job gives it to the waiting list.
    assert planned["id"] not in await lapsed_on(job_on(start_of_day(today) + timedelta(hours=12)))
    assert await status_of(platform, tenant, waiting) == "waitlisted"
    tomorrow = start_of_day(today + timedelta(days=1)) + timedelta(hours=1)
    assert await education.release_lapsed_reservations(job_on(tomorrow)) >= 1
    assert await status_of(platform, tenant, waiting) == "confirmed"
    ended = await call(platform, tenant.partner_a_token, "GET", f"{PATH}/{planned['id']}")
    assert ended["reservation_end"] == "date_passed"
    data = await reservation_end_in_feed(platform, tenant, planned["id"])
    assert (data["reason"], data["places_released"], data["promoted"]) == ("date_passed", 1, 1)
    # Run again (or on another replica): nothing more ends, nothing changes.
    assert planned["id"] not in await lapsed_on(job_on(tomorrow))
    assert (await call(platform, tenant.partner_a_token, "GET", f"{PATH}/{planned['id']}"))["version"] == ended[
        "version"
    ]


async def lapsed_on(work: UnitOfWork) -> list[str]:
    """The requests the job would end now (without ending them)."""
    async with work.read() as session:
        return [str(x) for x in await education_store.lapsed_reservations(session, local_date(work.clock.now()))]
