"""Live feeds over server-sent events: a client that reconnects with Last-Event-ID gets every entry exactly once."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import timedelta

import httpx

from services.referrals.commands import deadlines
from tests.fixtures.platform import RunningPlatform
from tests.fixtures.tenants import Tenant
from tests.referral_bodies import referral_body
from tests.services.referrals.conftest import now, pooled_tenant, work_at
from tests.waiting import PATIENCE_SECONDS, eventually


@dataclass
class Event:
    id: str | None = None
    event: str | None = None
    data: list[str] = field(default_factory=list)
    retry: int | None = None


class EventStream:
    """A minimal SSE reader over httpx: events one by one, comments skipped."""

    def __init__(self, response: httpx.Response) -> None:
        self.response = response
        self.lines = response.aiter_lines()

    async def next(self, timeout: float = PATIENCE_SECONDS) -> Event:
        async def read() -> Event:
            event = Event()
            async for line in self.lines:
                if line == "":
                    if event.id is not None or event.data or event.retry is not None:
                        return event
                    continue
                name, _, value = line.partition(":")
                value = value.removeprefix(" ")
                if name == "id":
                    event.id = value
                elif name == "event":
                    event.event = value
                elif name == "data":
                    event.data.append(value)
                elif name == "retry":
                    event.retry = int(value)
            raise AssertionError("the stream ended")

        return await asyncio.wait_for(read(), timeout)

    async def entries(self, count: int) -> list[Event]:
        found: list[Event] = []
        while len(found) < count:
            event = await self.next()
            if event.id is not None:
                found.append(event)
        return found


@asynccontextmanager
async def live(
    platform: RunningPlatform, token: str, path: str, last_event_id: str | None = None
) -> AsyncIterator[EventStream]:
    headers = {"Last-Event-ID": last_event_id} if last_event_id else {}
    async with platform.client(token) as api, api.stream("GET", path, headers=headers) as response:
        assert response.status_code == 200, await response.aread()
        assert response.headers["content-type"].startswith("text/event-stream")
        stream = EventStream(response)
        hello = await stream.next()
        assert hello.retry is not None  # the stream is open (and subscribed) from here on
        yield stream


async def submit(platform: RunningPlatform, token: str, library: str, partner: str) -> str:
    async with platform.client(token) as api:
        response = await api.post("/api/v1/referrals", json=referral_body(library, partner))
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


async def test_partner_feed_resumes_after_last_event_id_without_gaps_or_duplicates(
    platform: RunningPlatform, tenant: Tenant
) -> None:
    sent = [await submit(platform, tenant.partner_a_token, tenant.library_a, tenant.partner_a) for _ in range(3)]

    async def in_feed() -> bool:
        async with platform.client(tenant.partner_a_token) as api:
            items = (await api.get(f"/api/v1/partners/{tenant.partner_a}/feed")).json()["items"]
        return len(items) >= 3

    await eventually(in_feed, what="the first referrals to reach the partner's feed")
    path = f"/api/v1/partners/{tenant.partner_a}/feed/live"
    async with live(platform, tenant.partner_a_token, path) as stream:
        first = await stream.entries(2)
    # Disconnected: more happens meanwhile.
    sent += [await submit(platform, tenant.partner_a_token, tenant.library_a, tenant.partner_a) for _ in range(2)]
    async with live(platform, tenant.partner_a_token, path, last_event_id=first[-1].id) as stream:
        rest = await stream.entries(3)
        positions = [int(e.id or 0) for e in first + rest]
        assert positions == sorted(positions) and len(set(positions)) == 5
        received = [json.loads("\n".join(e.data))["data"]["referral_id"] for e in first + rest]
        assert sorted(received) == sorted(sent), "every entry exactly once"
        assert {e.event for e in first + rest} == {"nl.partnernet.referral.submitted.v1"}
        # Nothing else arrives in between: the next entry is the next referral, no repeat of the backlog.
        marker = await submit(platform, tenant.partner_a_token, tenant.library_a, tenant.partner_a)
        (following,) = await stream.entries(1)
        assert json.loads("\n".join(following.data))["data"]["referral_id"] == marker
        assert int(following.id or 0) > positions[-1]


async def test_staff_follow_their_librarys_new_referrals_and_resume(platform: RunningPlatform, tenant: Tenant) -> None:
    path = f"/api/v1/libraries/{tenant.library_a}/referrals/live"
    async with live(platform, tenant.staff_a, path) as stream:
        sent = [await submit(platform, tenant.partner_a_token, tenant.library_a, tenant.partner_a) for _ in range(2)]
        elsewhere = await submit(platform, tenant.partner_a_token, tenant.library_b, tenant.partner_a)
        first = await stream.entries(2)
    sent += [await submit(platform, tenant.partner_b_token, tenant.library_a, tenant.partner_b) for _ in range(2)]
    async with live(platform, tenant.staff_a, path, last_event_id=first[-1].id) as stream:
        rest = await stream.entries(2)
        # Another library's referral is not streamed: the next entry is the library's own that came after it.
        await submit(platform, tenant.partner_a_token, tenant.library_b, tenant.partner_a)
        marker = await submit(platform, tenant.partner_a_token, tenant.library_a, tenant.partner_a)
        (following,) = await stream.entries(1)
        assert json.loads("\n".join(following.data))["data"]["referral_id"] == marker
    envelopes = [json.loads("\n".join(e.data)) for e in first + rest]
    assert [env["data"]["referral_id"] for env in envelopes] == sent
    assert all(env["library"] == tenant.library_a for env in envelopes)
    assert elsewhere not in {env["data"]["referral_id"] for env in envelopes}
    assert "participant" not in envelopes[0]["data"], "pseudonyms only"


async def test_live_feeds_outside_the_callers_scope_are_refused_before_streaming(
    platform: RunningPlatform, tenant: Tenant
) -> None:
    async with platform.client(tenant.partner_b_token) as api:
        assert (await api.get(f"/api/v1/partners/{tenant.partner_a}/feed/live")).status_code == 404
        assert (await api.get(f"/api/v1/libraries/{tenant.library_a}/referrals/live")).status_code == 403
    async with platform.client(tenant.staff_b) as api:
        other_library = await api.get(f"/api/v1/libraries/{tenant.library_a}/referrals/live")
        assert other_library.status_code == 404
        assert other_library.headers["content-type"].startswith("application/problem+json")
    async with platform.client(tenant.staff_a) as api:
        bad = await api.get(
            f"/api/v1/libraries/{tenant.library_a}/referrals/live", headers={"Last-Event-ID": "yesterday"}
        )
        assert bad.status_code == 422


async def test_staff_follow_every_step_of_their_librarys_referrals(platform: RunningPlatform) -> None:
    """Not only new submissions: accepts, declines, overdue, completed and expired reach the library's stream."""
    tenant = await pooled_tenant(platform)
    path = f"/api/v1/libraries/{tenant.library_a}/referrals/live"
    intake = {"intake_at": "2026-01-05T10:00:00+01:00", "place": "Taalhuis", "contact_person": {"name": "Els"}}
    async with live(platform, tenant.staff_a, path) as stream:
        completed, declined, late = [
            await submit(platform, tenant.partner_a_token, tenant.library_a, tenant.partner_a) for _ in range(3)
        ]
        async with platform.client(tenant.staff_a) as api:
            for route, body in (("accept", None), ("plan-intake", intake), ("intake-held", None)):
                assert (await api.post(f"/api/v1/referrals/{completed}/{route}", json=body)).is_success
            done = await api.post(
                f"/api/v1/referrals/{completed}/complete", json={"outcome": {"course_finished": True}}
            )
            assert done.status_code == 200, done.text
            no = await api.post(f"/api/v1/referrals/{declined}/decline", json={"reason": "no_capacity"})
            assert no.status_code == 200, no.text
        # The clock moves on for the library's unanswered referral: overdue first, then expired.
        for days, job in ((11, deadlines.mark_overdue), (31, deadlines.expire_unanswered)):
            work, _ = work_at(platform, now() + timedelta(days=days))
            assert await job(work, library=tenant.library_a) == 1

        seen: dict[str, set[str]] = {}

        async def everything() -> bool:
            event = await stream.next()
            if event.event is not None and event.data:
                referral_id = json.loads("\n".join(event.data))["data"]["referral_id"]
                seen.setdefault(referral_id, set()).add(event.event)
            return {"referral.completed", "referral.accepted"} <= seen.get(completed, set()) and {
                "referral.overdue",
                "referral.expired",
            } <= seen.get(late, set())

        await eventually(everything, what="every step of the library's referrals on its live stream")
    assert {"referral.submitted", "referral.accepted", "referral.intake_planned", "referral.intake_held"} <= seen[
        completed
    ]
    assert seen[declined] == {"referral.submitted", "referral.declined"}
