"""Partnerships over time, over HTTP: suspended and resumed, not put in force past their end date, ended by the
clock, reviews that fall due remind the library (an event and the overview), and every change of a partner or
partnership is in a history the API shows to whoever may see it."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import httpx
import msgspec

from services.partners.commands.partnerships import end_lapsed_partnerships, remind_reviews
from shared.clock import local_today
from shared.contracts import Envelope
from shared.tenancy import Role
from tests.fixtures.platform import RunningPlatform
from tests.fixtures.tenants import Tenant
from tests.services.referrals.conftest import referral_events
from tests.services.volunteers.volunteer_tenant import call, person, volunteer_tenant
from tests.waiting import eventually


async def events_of(nats_url: str, municipality: str) -> list[Envelope]:
    """The partners service's events of one municipality as JetStream holds them."""
    found = await referral_events(nats_url, municipality, service="partners")
    return [msgspec.json.decode(raw, type=Envelope) for _, raw in found]


async def drafted(api: httpx.AsyncClient, tenant: Tenant, **dates: str) -> dict[str, Any]:
    body = {
        "library": tenant.library_a,
        "partner_id": tenant.partner_a,
        "roles": ["referrer"],
        "starts_on": "2026-01-01",
    }
    created = await api.post("/api/v1/partnerships", json=body | dates)
    assert created.status_code == 201, created.text
    return dict(created.json())


async def test_a_partnership_is_suspended_and_resumed_and_its_history_says_who_did_what(
    platform: RunningPlatform, tenant: Tenant
) -> None:
    async with platform.client(tenant.staff_a) as api:
        partnership = await drafted(api, tenant)
        path = f"/api/v1/partnerships/{partnership['id']}"
        assert (await api.post(f"{path}/activate")).status_code == 200
        suspended = await api.post(f"{path}/suspend", json={"reason": "reorganisatie bij de partner"})
        again = await api.post(f"{path}/suspend")
        changed = await api.patch(path, json={"roles": ["referrer", "outreach_partner"]})
        resumed = await api.post(f"{path}/resume")
        history = await api.get(f"{path}/history")
    assert suspended.status_code == 200, suspended.text
    assert suspended.json()["status"] == "suspended"
    assert again.status_code == 409 and again.json()["state"] == "suspended"
    assert changed.status_code == 200, changed.text
    assert resumed.status_code == 200 and resumed.json()["status"] == "active"
    assert resumed.json()["activated_at"] == suspended.json()["activated_at"]  # in force since it first was
    assert history.status_code == 200, history.text
    entries = history.json()["items"]
    assert [e["action"] for e in entries] == ["create", "activate", "suspend", "update", "resume"]
    assert entries[2]["reason"] == "reorganisatie bij de partner"
    assert entries[2]["changes"] == {"status": {"from": "active", "to": "suspended"}}
    assert entries[3]["changes"] == {"roles": {"from": ["referrer"], "to": ["referrer", "outreach_partner"]}}
    assert [e["version"] for e in entries] == [1, 2, 3, 4, 5]
    assert {e["actor"] for e in entries} == {entries[0]["actor"]}  # the library's staff member, each time

    # The partner reads its own partnership's history; another library's staff do not find it.
    async with platform.client(tenant.partner_a_token) as api:
        assert (await api.get(f"{path}/history")).status_code == 200
    async with platform.client(tenant.staff_b) as api:
        assert (await api.get(f"{path}/history")).status_code == 404
        partner_seen = await api.get(f"/api/v1/partners/{tenant.partner_a}/history")
    assert partner_seen.status_code == 200
    assert all(e["partnership_id"] != partnership["id"] for e in partner_seen.json()["items"])

    async def told() -> list[str]:
        found = await events_of(platform.settings.nats_url, tenant.municipality)
        return [e.type for e in found if e.data.get("partnership_id") == partnership["id"]]

    types = await eventually(
        lambda: _has(told, "nl.partnernet.partnership.suspended.v1"), what="the suspension announced"
    )
    assert types.count("nl.partnernet.partnership.activated.v1") == 2  # activated, and resumed


async def _has(read: Any, wanted: str) -> list[str] | None:
    found: list[str] = await read()
    return found if wanted in found else None


async def test_an_agreement_past_its_end_date_is_not_activated_and_ends_by_the_clock(
    platform: RunningPlatform, tenant: Tenant
) -> None:
    today = local_today()
    async with platform.client(tenant.staff_a) as api:
        lapsed = await drafted(api, tenant, ends_on=(today - timedelta(days=1)).isoformat())
        refused = await api.post(f"/api/v1/partnerships/{lapsed['id']}/activate")
        assert (await api.post(f"/api/v1/partnerships/{lapsed['id']}/end")).status_code == 200
        running = await drafted(api, tenant, ends_on=(today + timedelta(days=10)).isoformat())
        path = f"/api/v1/partnerships/{running['id']}"
        assert (await api.post(f"{path}/activate")).status_code == 200
        assert (await api.post(f"{path}/suspend")).status_code == 200
        work = platform.services["partners"].unit_of_work
        assert await end_lapsed_partnerships(work, today=today + timedelta(days=11)) >= 1
        ended = (await api.get(path)).json()
        history = (await api.get(f"{path}/history")).json()["items"]
    assert refused.status_code == 409, refused.text
    assert refused.json()["ends_on"] == (today - timedelta(days=1)).isoformat()
    # A suspended partnership ends on its end date too: a pause does not stretch the agreement.
    assert (ended["status"], ended["end_reason"]) == ("ended", "its end date passed")
    assert (history[-1]["action"], history[-1]["actor"]) == ("end", "partners:clock")


async def test_a_review_that_falls_due_reminds_the_library_once(platform: RunningPlatform, tenant: Tenant) -> None:
    today = local_today()
    async with platform.client(tenant.staff_a) as api:
        partnership = await drafted(api, tenant, review_on=(today + timedelta(days=5)).isoformat())
        path = f"/api/v1/partnerships/{partnership['id']}"
        assert (await api.post(f"{path}/activate")).status_code == 200
        work = platform.services["partners"].unit_of_work
        await remind_reviews(work, today=today + timedelta(days=4))
        before = (await api.get(path)).json()
        await remind_reviews(work, today=today + timedelta(days=5))
        await remind_reviews(work, today=today + timedelta(days=6))  # the job runs again: no second reminder
        due = (await api.get(path)).json()
        history = (await api.get(f"{path}/history")).json()["items"]
        coordinator = platform.token(Role.COORDINATOR, municipality=tenant.municipality)
        async with platform.client(coordinator) as coord:
            overview = (await coord.get("/api/v1/overview")).json()
        reviewed = await api.patch(path, json={"review_on": (today + timedelta(days=370)).isoformat()})
    assert before["review_due"] is False
    assert due["review_due"] is True
    assert [e["action"] for e in history].count("review_due") == 1
    library = next(lib for lib in overview["libraries"] if lib["library"] == tenant.library_a)
    assert library["partnership_reviews_due"] == 1
    assert reviewed.json()["review_due"] is False  # a new review date: nothing due until then

    async def reminded() -> list[Any] | None:
        found = await events_of(platform.settings.nats_url, tenant.municipality)
        hits = [e for e in found if e.type.endswith("partnership.review_requested.v1")]
        return hits if hits else None

    (event,) = await eventually(reminded, what="the review reminder")  # once, however often the job runs
    assert (event.data["partnership_id"], event.data["library"]) == (partnership["id"], tenant.library_a)


async def test_partner_edits_leave_a_history(platform: RunningPlatform, tenant: Tenant) -> None:
    async with platform.client(tenant.partner_a_token) as api:
        before = (await api.get(f"/api/v1/partners/{tenant.partner_a}")).json()
        changed = await api.patch(f"/api/v1/partners/{tenant.partner_a}", json={"website": "https://nieuw.example"})
        assert changed.status_code == 200, changed.text
        history = await api.get(f"/api/v1/partners/{tenant.partner_a}/history")
    assert history.status_code == 200, history.text
    update = history.json()["items"][-1]
    assert update["action"] == "update" and update["partnership_id"] is None
    assert update["changes"] == {"website": {"from": before["website"], "to": "https://nieuw.example"}}
    assert update["version"] == changed.json()["version"]


async def test_a_school_supplies_no_interns_while_its_partnership_is_suspended(platform: RunningPlatform) -> None:
    vt = await volunteer_tenant(platform)
    listed = await call(platform, vt.staff_a, "GET", "/api/v1/partnerships", partner_id=vt.school)
    (partnership,) = listed["items"]
    path = f"/api/v1/partnerships/{partnership['id']}"
    today = local_today()
    internship = {
        "school_partner_id": vt.school,
        "library": vt.library_a,
        "person": person("Noor Visser", email=None),
        "starts_on": str(today),
        "ends_on": str(today + timedelta(days=60)),
        "supervisor": {"name": "Dhr. J. Smit", "email": "j.smit@roc.example"},
        "learning_goals": ["klanten helpen aan de balie"],
        "hours": 200,
    }
    assert (await call(platform, vt.staff_a, "POST", f"{path}/suspend"))["status"] == "suspended"

    async def refused() -> httpx.Response | None:
        answer = await call(platform, vt.school_token, "POST", "/api/v1/interns", internship)
        return answer if isinstance(answer, httpx.Response) and answer.status_code == 403 else None

    refusal = await eventually(refused, what="the volunteers service to count the suspended partnership out")
    assert "no active partnership" in refusal.json()["detail"]
    assert (await call(platform, vt.staff_a, "POST", f"{path}/resume"))["status"] == "active"

    async def taken() -> dict[str, Any] | None:
        answer = await call(platform, vt.school_token, "POST", "/api/v1/interns", internship)
        return answer if isinstance(answer, dict) else None

    assert (await eventually(taken, what="interns again once resumed"))["kind"] == "intern"
