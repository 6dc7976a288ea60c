"""The SQL of enrolments (in `store.metadata`): places and waiting lists on a session, attendance, and the
referrals and attendee codes an enrolment is checked against."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from services.courses.store import attendance, courses, enrolments, known_referrals, sessions
from shared.contracts.courses.events import Audience, EnrolmentStatus

ACTIVE = [EnrolmentStatus.CONFIRMED.value, EnrolmentStatus.WAITLISTED.value]
e = enrolments
s = sessions


async def find_known_referral(session: AsyncSession, referral_id: UUID) -> sa.Row | None:
    r = known_referrals
    return (await session.execute(sa.select(r).where(r.c.id == referral_id))).first()


async def attendee_code_issued(session: AsyncSession, partner_id: UUID | None, code: str) -> bool:
    """Whether the platform made up this code for an earlier enrolment in a course for the partner's staff."""
    c = courses
    statement = (
        sa.select(e.c.id)
        .join(c, c.c.id == e.c.course_id)
        .where(
            e.c.participant_pseudonym == code,
            c.c.audience == Audience.PARTNER_STAFF.value,
            c.c.audience_partner_id == partner_id,
        )
        .limit(1)
    )
    return (await session.execute(statement)).first() is not None


async def take_place(session: AsyncSession, session_id: UUID, *, confirmed: bool) -> None:
    """A newcomer takes a place or the end of the waiting list, and the next sequence number."""
    await session.execute(
        s.update()
        .where(s.c.id == session_id)
        .values(
            confirmed_count=s.c.confirmed_count + (1 if confirmed else 0),
            waitlisted_count=s.c.waitlisted_count + (0 if confirmed else 1),
            next_sequence=s.c.next_sequence + 1,
        )
    )


async def add_enrolment(session: AsyncSession, **values: Any) -> None:
    await session.execute(e.insert().values(**values))


async def update_enrolment(session: AsyncSession, enrolment_id: UUID, **values: Any) -> None:
    await session.execute(e.update().where(e.c.id == enrolment_id).values(**values))


async def waiting_list_head(session: AsyncSession, session_id: UUID, count: int) -> list[sa.Row]:
    """The first `count` on the session's waiting list, locked."""
    statement = (
        sa.select(e)
        .where(e.c.session_id == session_id, e.c.status == EnrolmentStatus.WAITLISTED.value)
        .order_by(e.c.sequence)
        .limit(count)
        .with_for_update()
    )
    return list((await session.execute(statement)).all())


async def waiting_list_with_referrers(session: AsyncSession, session_id: UUID) -> list[sa.Row]:
    """The session's whole waiting list in order, locked, each with the referrer of its referral (None without)."""
    r = known_referrals
    statement = (
        sa.select(e, r.c.referring_partner_id)
        .select_from(e.outerjoin(r, r.c.id == e.c.referral_id))
        .where(e.c.session_id == session_id, e.c.status == EnrolmentStatus.WAITLISTED.value)
        .order_by(e.c.sequence)
        .with_for_update(of=e)
    )
    return list((await session.execute(statement)).all())


async def move_up(session: AsyncSession, session_id: UUID, count: int) -> None:
    """`count` of the waiting list got a place."""
    await session.execute(
        s.update()
        .where(s.c.id == session_id)
        .values(confirmed_count=s.c.confirmed_count + count, waitlisted_count=s.c.waitlisted_count - count)
    )


async def free_one(session: AsyncSession, session_id: UUID, was: EnrolmentStatus) -> None:
    """A place or a spot on the waiting list came free."""
    freed = {EnrolmentStatus.CONFIRMED: s.c.confirmed_count, EnrolmentStatus.WAITLISTED: s.c.waitlisted_count}[was]
    await session.execute(s.update().where(s.c.id == session_id).values({freed: freed - 1}))


async def active_enrolments_of(session: AsyncSession, session_id: UUID) -> list[sa.Row]:
    """The session's places and waiting list, in the order they came in."""
    statement = sa.select(e).where(e.c.session_id == session_id, e.c.status.in_(ACTIVE)).order_by(e.c.sequence)
    return list((await session.execute(statement)).all())


async def mark_attendance(
    session: AsyncSession, enrolment_id: UUID, meeting: int, *, present: bool, recorded_by: str, recorded_at: datetime
) -> None:
    """Presence at one meeting; a later mark for the same meeting replaces the earlier one."""
    a = attendance
    await session.execute(
        insert(a)
        .values(
            enrolment_id=enrolment_id,
            meeting=meeting,
            present=present,
            recorded_by=recorded_by,
            recorded_at=recorded_at,
        )
        .on_conflict_do_update(
            index_elements=[a.c.enrolment_id, a.c.meeting],
            set_={"present": present, "recorded_by": recorded_by, "recorded_at": recorded_at},
        )
    )


async def keep_known_referral(session: AsyncSession, **values: Any) -> None:
    """A referral as the referrals service told it. The latest event's status wins: the consumers of the several
    event types run side by side, so an older one arriving later changes nothing."""
    r = known_referrals
    statement = insert(r).values(**values)
    await session.execute(
        statement.on_conflict_do_update(
            index_elements=[r.c.id],
            set_={"status": statement.excluded.status, "status_at": statement.excluded.status_at},
            where=r.c.status_at.is_(None) | (r.c.status_at <= statement.excluded.status_at),
        )
    )
