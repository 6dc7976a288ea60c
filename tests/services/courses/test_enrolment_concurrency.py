"""No overbooking when the enrolments really run at the same time: the use case called concurrently against
PostgreSQL, each in its own transaction (the gateway path hands a replica's requests over one by one)."""

from __future__ import annotations

import asyncio
from uuid import UUID

import pytest
import sqlalchemy as sa

from services.courses import store
from services.courses.commands.enrolment import cancel_enrolment, enrol
from shared.contracts.courses.api.enrolments import CancelEnrolment, Cancellation, Enrol, EnrolParticipant
from shared.contracts.courses.events import EnrolmentStatus
from shared.errors import PartnernetError
from shared.tenancy import Actor, Role
from tests.fixtures.platform import RunningPlatform
from tests.fixtures.tenants import Tenant
from tests.services.courses.support import course_tenant, published_course_with_session


@pytest.fixture(scope="module")
async def tenant(platform: RunningPlatform) -> Tenant:
    return await course_tenant(platform)


async def test_concurrent_enrolments_never_overbook_and_queue_in_the_order_they_were_decided(
    platform: RunningPlatform, tenant: Tenant
) -> None:
    _, session = await published_course_with_session(platform, tenant.staff_a, capacity=3)
    runtime = platform.services["courses"]
    staff = Actor(subject="concurrency", role=Role.STAFF, municipality=tenant.municipality, library=tenant.library_a)
    session_id = UUID(session["id"])

    results = await asyncio.gather(
        *(
            enrol(
                runtime.unit_of_work,
                staff,
                EnrolParticipant(session_id=session_id, enrolment=Enrol(participant_pseudonym=f"P-CONC{n:06d}")),
            )
            for n in range(20)
        )
    )

    assert [r.status for r in results].count(EnrolmentStatus.CONFIRMED) == 3
    positions = sorted(r.waiting_list_position or 0 for r in results if r.status is EnrolmentStatus.WAITLISTED)
    assert positions == list(range(1, 18))
    async with runtime.sessions() as db:
        row = await store.find_session(db, session_id)
        assert row is not None
        assert (row.confirmed_count, row.waitlisted_count, row.next_sequence) == (3, 17, 21)
        counted = (
            await db.execute(
                sa.select(store.enrolments.c.status, sa.func.count())
                .where(store.enrolments.c.session_id == session_id)
                .group_by(store.enrolments.c.status)
            )
        ).all()
    assert dict(counted) == {"confirmed": 3, "waitlisted": 17}

    # Three cancel at once: three move up, in the order they were queued, still never more than the capacity.
    confirmed = [r for r in results if r.status is EnrolmentStatus.CONFIRMED]
    await asyncio.gather(
        *(
            cancel_enrolment(
                runtime.unit_of_work, staff, CancelEnrolment(enrolment_id=r.id, cancellation=Cancellation())
            )
            for r in confirmed
        )
    )
    first_three = sorted(
        (r for r in results if r.status is EnrolmentStatus.WAITLISTED), key=lambda r: r.waiting_list_position or 0
    )[:3]
    async with runtime.sessions() as db:
        promoted = (
            await db.execute(
                sa.select(store.enrolments.c.id).where(
                    store.enrolments.c.session_id == session_id, store.enrolments.c.status == "confirmed"
                )
            )
        ).scalars()
        assert set(promoted) == {r.id for r in first_three}
        row = await store.find_session(db, session_id)
        assert row is not None
        assert (row.confirmed_count, row.waitlisted_count) == (3, 14)


async def test_the_database_refuses_overbooking_even_past_the_code(platform: RunningPlatform, tenant: Tenant) -> None:
    _, session = await published_course_with_session(platform, tenant.staff_a, capacity=1)
    sessions = store.sessions
    with pytest.raises(sa.exc.IntegrityError, match="sessions_not_overbooked"):
        async with platform.services["courses"].sessions.begin() as db:
            await db.execute(sessions.update().where(sessions.c.id == UUID(session["id"])).values(confirmed_count=2))


async def test_a_coordinator_cannot_enrol_and_nothing_is_written(platform: RunningPlatform, tenant: Tenant) -> None:
    _, session = await published_course_with_session(platform, tenant.staff_a, capacity=1)
    runtime = platform.services["courses"]
    coordinator = Actor(subject="co", role=Role.COORDINATOR, municipality=tenant.municipality)
    command = EnrolParticipant(session_id=UUID(session["id"]), enrolment=Enrol(participant_pseudonym="P-COORD00001"))
    with pytest.raises(PartnernetError) as raised:
        await enrol(runtime.unit_of_work, coordinator, command)
    assert raised.value.status == 403
    async with runtime.sessions() as db:
        row = await store.find_session(db, UUID(session["id"]))
    assert row is not None and row.confirmed_count == 0
