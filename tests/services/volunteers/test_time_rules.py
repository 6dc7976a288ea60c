"""Time-driven rules on real NATS and PostgreSQL with a clock the test controls: interns end when their
period is over, and an expired qualification is announced once.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

import msgspec
import pytest
import sqlalchemy as sa

from services.volunteers.commands.interns import end_finished_internships
from services.volunteers.commands.training import expire_qualifications
from shared.clock import LOCAL_TIME, FixedClock, local_today
from shared.contracts import Envelope
from shared.outbox import outbox
from shared.unit_of_work import UnitOfWork
from tests.fixtures.platform import RunningPlatform
from tests.services.volunteers.volunteer_tenant import (
    VolunteerTenant,
    active_volunteer,
    call,
    course_needing_volunteers,
    opening_for,
    person,
    qualify,
    start_intern,
    volunteer_tenant,
)
from tests.waiting import eventually, last_event

AMSTERDAM = LOCAL_TIME  # the platform's local time (shared/clock.py), where days and months begin


@pytest.fixture(scope="module")
async def vt(platform: RunningPlatform) -> VolunteerTenant:
    return await volunteer_tenant(platform)


def work_at(platform: RunningPlatform, at: datetime) -> UnitOfWork:
    return UnitOfWork(platform.services["volunteers"].sessions, FixedClock(at))


async def staged(platform: RunningPlatform, event_type: str, volunteer_id: str) -> list[dict[str, Any]]:
    """The events of one type about one volunteer that the service wrote to its outbox."""
    async with platform.services["volunteers"].sessions() as session:
        payloads = (
            await session.execute(sa.select(outbox.c.payload).where(outbox.c.event_type == event_type))
        ).scalars()
        envelopes = [msgspec.json.decode(p, type=Envelope) for p in payloads]
    return [e.data for e in envelopes if e.data.get("volunteer_id") == volunteer_id]


async def test_an_intern_ends_when_the_internship_period_is_over(
    platform: RunningPlatform, vt: VolunteerTenant
) -> None:
    starts_on = local_today()
    ends_on = starts_on + timedelta(days=20)
    body = {
        "school_partner_id": vt.school,
        "person": person("Noor Visser"),
        "starts_on": str(starts_on),
        "ends_on": str(ends_on),
        "supervisor": {"name": "Dhr. P. de Boer"},
        "learning_goals": ["een taalcafé begeleiden"],
        "hours": 240,
    }
    intern = await start_intern(platform, vt, (await call(platform, vt.staff_a, "POST", "/api/v1/interns", body))["id"])
    never_started = await call(platform, vt.staff_a, "POST", "/api/v1/interns", {**body, "person": person("Ties Wit")})
    assert never_started["status"] == "intake", never_started
    opening = await opening_for(platform, vt, await course_needing_volunteers(platform, vt, 1))
    assignment = await call(
        platform,
        vt.staff_a,
        "POST",
        "/api/v1/assignments",
        {"volunteer_id": intern["id"], "kind": "course", "opening_id": opening["id"]},
    )
    assert assignment["status"] == "active", assignment

    last_evening = datetime.combine(ends_on, datetime.min.time(), AMSTERDAM) + timedelta(hours=23, minutes=30)
    await end_finished_internships(work_at(platform, last_evening), last_evening)
    on_the_last_day = await call(platform, vt.staff_a, "GET", f"/api/v1/volunteers/{intern['id']}")
    assert on_the_last_day["status"] == "active"

    next_morning = last_evening + timedelta(hours=1)  # 00:30 the day after, Dutch time
    await end_finished_internships(work_at(platform, next_morning), next_morning)
    await end_finished_internships(work_at(platform, next_morning), next_morning)  # a second replica, or run

    ended = await call(platform, vt.staff_a, "GET", f"/api/v1/volunteers/{intern['id']}")
    assert ended["status"] == "ended"
    # One who never got past the intake ends with the period too: nothing is left waiting for ever.
    assert (await call(platform, vt.staff_a, "GET", f"/api/v1/volunteers/{never_started['id']}"))["status"] == "ended"
    assert ended["internship"]["ended_on"] == str(ends_on)
    guided = await call(platform, vt.staff_a, "GET", f"/api/v1/assignments/{assignment['id']}")
    assert guided["status"] == "ended"  # an intern whose period is over guides nothing any more
    events = await staged(platform, "nl.partnernet.intern.ended.v1", intern["id"])
    assert len(events) == 1
    assert events[0]["ended_on"] == str(ends_on) and events[0]["before_period_end"] is False
    assert events[0]["school_partner_id"] == vt.school
    subject = f"events.volunteers.intern.ended.v1.{vt.municipality}.{vt.library_a}"
    envelope = await eventually(
        lambda: last_event(platform.settings.nats_url, "volunteers", subject), what="intern.ended on JetStream"
    )
    assert envelope.data["volunteer_id"] in (intern["id"], never_started["id"])


async def test_an_expired_qualification_is_announced_once(platform: RunningPlatform, vt: VolunteerTenant) -> None:
    volunteer = await active_volunteer(platform, vt)
    await qualify(
        platform,
        vt,
        volunteer["id"],
        "homework-help",
        session_start=datetime(2020, 3, 2, 10, tzinfo=UTC),
        validity_months=6,
    )
    now = datetime.now(UTC)

    await expire_qualifications(work_at(platform, now), now)
    await expire_qualifications(work_at(platform, now), now)

    # Once, whether this run announced it or the service's own periodic job did.
    (event,) = await staged(platform, "nl.partnernet.qualification.expired.v1", volunteer["id"])
    assert event["qualification"] == "homework-help"
    assert event["expired_on"] == "2020-09-02"
    assert UUID(event["volunteer_id"]) == UUID(volunteer["id"])
