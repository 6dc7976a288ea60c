"""A referrer asks for tailored education (maatwerkeducatie, issue 24), over HTTP against the real platform: its
request (target group, skill area, number of clients, preferred period) goes to a library it partners with as a
referrer; the library plans a course of its own for it, whose places are kept for that referrer's referrals (another
referrer's referral waits when only kept places are free), or declines; each state is in the referrer's feed. As an
attacker: another referrer, another library, a partnership without the referrer role or suspended, bad input: 4xx,
nothing changes.
"""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

import httpx
import pytest
import sqlalchemy as sa

from services.courses import store
from shared.clock import local_today
from tests.e2e.partner_feed import feed_entries
from tests.fixtures.platform import RunningPlatform
from tests.fixtures.tenants import Tenant
from tests.referral_bodies import referral_body
from tests.services.courses.support import (
    course_tenant,
    partnership_state_known,
    published_course_with_session,
)
from tests.services.volunteers.volunteer_tenant import activate_partnership, call
from tests.waiting import eventually

PATH = "/api/v1/education-requests"


def request_body(library: str, **overrides: Any) -> dict[str, Any]:
    today = local_today()
    return {
        "library": library,
        "target_group": "Werkzoekenden met weinig digitale vaardigheden",
        "skill_area": "digital",
        "clients": 2,
        "preferred_from": str(today + timedelta(days=14)),
        "preferred_until": str(today + timedelta(days=60)),
        **overrides,
    }


@pytest.fixture(scope="module")
async def tenant(platform: RunningPlatform) -> Tenant:
    """Partner A is the library A's referrer by partnership; partner B refers by the municipality's agreement only."""
    tenant = await course_tenant(platform)
    partnership = await activate_partnership(platform, tenant, tenant.partner_a, tenant.library_a, "referrer")
    await partnership_state_known(platform, partnership, ended=False)
    return tenant


async def accepted_referral(platform: RunningPlatform, tenant: Tenant, token: str, partner: str) -> dict[str, Any]:
    async with platform.client(token) as api:
        submitted = await api.post("/api/v1/referrals", json=referral_body(tenant.library_a, partner))
    assert submitted.status_code == 201, submitted.text
    accepted = await call(platform, tenant.staff_a, "POST", f"/api/v1/referrals/{submitted.json()['id']}/accept")
    assert not isinstance(accepted, httpx.Response), accepted.text
    return dict(submitted.json())


async def enrol(platform: RunningPlatform, tenant: Tenant, session_id: str, referral_id: str) -> dict[str, Any]:
    async def enrolled() -> dict[str, Any] | None:
        answer = await call(
            platform, tenant.staff_a, "POST", f"/api/v1/sessions/{session_id}/enrolments", {"referral_id": referral_id}
        )
        return None if isinstance(answer, httpx.Response) else dict(answer)

    return await eventually(enrolled, what="an enrolment from the referral, once the courses service knows it")


async def test_a_referrer_asks_for_tailored_education_and_the_library_plans_a_course_with_places_kept_for_it(
    platform: RunningPlatform, tenant: Tenant
) -> None:
    requested = await call(platform, tenant.partner_a_token, "POST", PATH, request_body(tenant.library_a))
    assert not isinstance(requested, httpx.Response), requested.text
    assert (requested["status"], requested["clients"], requested["partner_id"]) == ("requested", 2, tenant.partner_a)
    assert requested["requested_by"].startswith(f"partner:{tenant.partner_a}:")
    # The library's staff see it; a course of their own, with three places, is planned for it.
    listed = await call(platform, tenant.staff_a, "GET", PATH, status="requested")
    assert requested["id"] in {r["id"] for r in listed["items"]}
    course, session = await published_course_with_session(platform, tenant.staff_a, capacity=3)
    planned = await call(
        platform,
        tenant.staff_a,
        "POST",
        f"{PATH}/{requested['id']}/answer",
        {"decision": "plan", "course_id": course["id"]},
    )
    assert not isinstance(planned, httpx.Response), planned.text
    assert (planned["status"], planned["course_id"], planned["reserved_places"]) == ("planned", course["id"], 2)

    # Two of the three places are kept for partner A's referrals: partner B's first referral takes the free one,
    # its second waits; partner A's referrals get the kept places.
    first_b = await accepted_referral(platform, tenant, tenant.partner_b_token, tenant.partner_b)
    second_b = await accepted_referral(platform, tenant, tenant.partner_b_token, tenant.partner_b)
    first_a = await accepted_referral(platform, tenant, tenant.partner_a_token, tenant.partner_a)
    second_a = await accepted_referral(platform, tenant, tenant.partner_a_token, tenant.partner_a)
    assert (await enrol(platform, tenant, session["id"], first_b["id"]))["status"] == "confirmed"
    assert (await enrol(platform, tenant, session["id"], second_b["id"]))["status"] == "waitlisted"
    assert (await enrol(platform, tenant, session["id"], first_a["id"]))["status"] == "confirmed"
    assert (await enrol(platform, tenant, session["id"], second_a["id"]))["status"] == "confirmed"

    # The request's state is in the referrer's feed, and in no one else's.
    async def states() -> set[str] | None:
        entries = await feed_entries(platform, tenant.partner_a_token, tenant.partner_a, "education_request.")
        seen = {
            e["type"].removeprefix("nl.partnernet.").rsplit(".v", 1)[0]
            for e in entries
            if e["data"]["request_id"] == requested["id"]
        }
        return seen if {"education_request.submitted", "education_request.planned"} <= seen else None

    await eventually(states, what="the request's states in the referrer's feed")
    assert await feed_entries(platform, tenant.partner_b_token, tenant.partner_b, "education_request.") == []
    mine = await call(platform, tenant.partner_a_token, "GET", f"{PATH}/{requested['id']}")
    assert mine["status"] == "planned" and mine["answered_by"] and not mine["answered_by"].startswith("partner:")


async def test_a_referrer_asks_only_where_its_partnership_covers_it_and_only_the_library_answers(
    platform: RunningPlatform, tenant: Tenant
) -> None:
    mine = await call(platform, tenant.partner_a_token, "POST", PATH, request_body(tenant.library_a))
    assert not isinstance(mine, httpx.Response), mine.text
    course_b, _ = await published_course_with_session(platform, tenant.staff_b, capacity=5)
    answer = f"{PATH}/{mine['id']}/answer"
    attempts = [
        # partner B refers by the municipality's agreement, without a partnership as referrer; partner A has none
        # with library B; nobody asks for a library it cannot see
        (tenant.partner_b_token, "POST", PATH, request_body(tenant.library_a), 403),
        (tenant.partner_a_token, "POST", PATH, request_body(tenant.library_b), 403),
        (tenant.partner_a_token, "POST", PATH, request_body("bieb-elders-onbekend"), 404),
        (tenant.staff_a, "POST", PATH, request_body(tenant.library_a), 403),
        # only the library's own staff answer; another referrer does not see the request
        (tenant.partner_a_token, "POST", answer, {"decision": "decline", "reason": "zelf"}, 403),
        (tenant.staff_b, "POST", answer, {"decision": "decline", "reason": "niet van ons"}, 404),
        (tenant.partner_b_token, "GET", f"{PATH}/{mine['id']}", None, 404),
        # bad input
        (tenant.partner_a_token, "POST", PATH, request_body(tenant.library_a, clients=0), 422),
        (tenant.partner_a_token, "POST", PATH, request_body(tenant.library_a, clients="veel"), 422),
        (tenant.partner_a_token, "POST", PATH, request_body(tenant.library_a, skill_area="juggling"), 422),
        (
            tenant.partner_a_token,
            "POST",
            PATH,
            request_body(tenant.library_a, preferred_until=str(local_today())),
            422,
        ),
        (tenant.partner_a_token, "POST", PATH, {**request_body(tenant.library_a), "client_names": ["Jan"]}, 422),
        (tenant.staff_a, "POST", answer, {"decision": "plan"}, 422),
        (tenant.staff_a, "POST", answer, {"decision": "plan", "course_id": course_b["id"]}, 422),
        (tenant.staff_a, "POST", answer, {"decision": "decline"}, 422),
        (tenant.staff_a, "POST", answer, {"decision": "maybe"}, 422),
        (tenant.staff_a, "POST", answer, {"decision": "decline", "reason": "x", "expected_version": 0}, 422),
    ]
    for token, method, path, body, status in attempts:
        got = await call(platform, token, method, path, body)
        assert isinstance(got, httpx.Response), (path, body, got)
        assert got.status_code == status, (path, body, got.status_code, got.text)
        assert got.headers["content-type"].startswith("application/problem+json")
    unchanged = await call(platform, tenant.staff_a, "GET", f"{PATH}/{mine['id']}")
    assert (unchanged["status"], unchanged["version"]) == ("requested", mine["version"])
    assert (await call(platform, tenant.partner_b_token, "GET", PATH))["items"] == []

    async def open_for_library_a(token: str) -> int:
        overview = await call(platform, token, "GET", "/api/v1/overview")
        (mine_,) = [x for x in overview["libraries"] if x["library"] == tenant.library_a]
        return int(mine_["courses"]["education_requests"])

    # The overview counts the requests awaiting the library's answer (the first test's was answered).
    assert await open_for_library_a(tenant.staff_a) == 1
    assert await open_for_library_a(tenant.coordinator or tenant.operator) == 1
    declined = await call(platform, tenant.staff_a, "POST", answer, {"decision": "decline", "reason": "geen docent"})
    assert declined["status"] == "declined" and declined["reason"] == "geen docent"
    again = await call(platform, tenant.staff_a, "POST", answer, {"decision": "decline", "reason": "nogmaals"})
    assert again.status_code == 409

    async def in_feed() -> bool:
        entries = await feed_entries(platform, tenant.partner_a_token, tenant.partner_a, "education_request.declined")
        return any(e["data"]["request_id"] == mine["id"] for e in entries)

    await eventually(in_feed, what="the decline in the referrer's feed")
    assert await open_for_library_a(tenant.staff_a) == 0


async def test_a_suspended_partnership_asks_for_nothing(platform: RunningPlatform) -> None:
    tenant = await course_tenant(platform)  # a tenant of its own: its partnership is suspended here
    partnership = await activate_partnership(platform, tenant, tenant.partner_a, tenant.library_a, "referrer")
    await partnership_state_known(platform, partnership, ended=False)
    suspended = await call(platform, tenant.staff_a, "POST", f"/api/v1/partnerships/{partnership}/suspend")
    assert suspended["status"] == "suspended", suspended

    async def paused() -> bool:
        p = store.partnerships.table
        async with platform.services["courses"].sessions() as db:
            row = (await db.execute(sa.select(p.c.activated).where(p.c.id == uuid.UUID(partnership)))).first()
        return row is not None and not row.activated

    await eventually(paused, what="the suspension to reach the courses service")
    refused = await call(platform, tenant.partner_a_token, "POST", PATH, request_body(tenant.library_a))
    assert isinstance(refused, httpx.Response) and refused.status_code == 403, refused
    assert (await call(platform, tenant.staff_a, "GET", PATH))["items"] == []
