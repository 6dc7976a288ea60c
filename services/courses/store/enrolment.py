"""The SQL of enrolments (in `store.metadata`): places and waiting lists on a session, attendance, and the
referrals and attendee codes an enrolment is checked against."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any
from uuid import UUID

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from services.courses.store import attendance, courses, enrolments, known_referrals, sessions
from shared.consumer import FIRST_TIME_CTE
from shared.contracts.courses.events import Audience, EnrolmentStatus
from shared.db import DirectConnection, Prepared, columns_of, driver_sql, in_rounds

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


# One statement for a consumer's batch (`in_rounds`: a referral twice in a batch goes in a second statement). The
# latest event's status wins: an older one arriving later (a submission redelivered after its acceptance) changes
# nothing.
KEEP_KNOWN_REFERRALS = (
    "INSERT INTO known_referrals AS r (id, municipality, library, participant_pseudonym, referring_partner_id,"
    " receiving_partner_id, status, status_at)"
    " SELECT * FROM unnest($1::uuid[], $2::text[], $3::text[], $4::text[], $5::uuid[], $6::uuid[], $7::text[],"
    " $8::timestamptz[])"
    " ON CONFLICT (id) DO UPDATE SET status = excluded.status, status_at = excluded.status_at"
    " WHERE r.status_at IS NULL OR r.status_at <= excluded.status_at"
)
KNOWN_REFERRAL_COLUMNS = (
    "id",
    "municipality",
    "library",
    "participant_pseudonym",
    "referring_partner_id",
    "receiving_partner_id",
    "status",
    "status_at",
)


# A consumer's batch that names each referral once, with its inbox rows, in one statement in autocommit
# (shared/consumer.py StatementHandler, FIRST_TIME_CTE): only the referrals of events not handled before are kept.
KEEP_KNOWN_REFERRALS_ONCE = Prepared(
    "INSERT known_referrals",
    sa.text(
        f"WITH {FIRST_TIME_CTE}"
        " INSERT INTO known_referrals AS r (id, municipality, library, participant_pseudonym, referring_partner_id,"
        " receiving_partner_id, status, status_at)"
        " SELECT e.id, e.municipality, e.library, e.participant_pseudonym, e.referring_partner_id,"
        " e.receiving_partner_id, e.status, e.status_at"
        " FROM unnest(CAST(:id AS uuid[]), CAST(:municipality AS text[]), CAST(:library AS text[]),"
        " CAST(:participant_pseudonym AS text[]), CAST(:referring_partner_id AS uuid[]),"
        " CAST(:receiving_partner_id AS uuid[]), CAST(:status AS text[]), CAST(:status_at AS timestamptz[]),"
        " CAST(:event_id AS uuid[]))"
        " AS e(id, municipality, library, participant_pseudonym, referring_partner_id, receiving_partner_id, status,"
        " status_at, event_id)"
        " WHERE e.event_id IN (SELECT event_id FROM first_time)"
        " ON CONFLICT (id) DO UPDATE SET status = excluded.status, status_at = excluded.status_at"
        " WHERE r.status_at IS NULL OR r.status_at <= excluded.status_at"
    ),
)


async def keep_known_referrals_once(
    connection: DirectConnection, consumer: str, event_ids: list[UUID], rows: Sequence[Mapping[str, Any]]
) -> None:
    """`keep_known_referrals` for a batch whose rows (KNOWN_REFERRAL_COLUMNS and their `event_id`) name each
    referral once, with the inbox rows of `event_ids` for `consumer`, in one statement."""
    await connection.execute(
        KEEP_KNOWN_REFERRALS_ONCE,
        consumer=consumer,
        event_ids=event_ids,
        **{name: [row[name] for row in rows] for name in (*KNOWN_REFERRAL_COLUMNS, "event_id")},
    )


async def keep_known_referrals(session: AsyncSession, rows: Sequence[Mapping[str, Any]]) -> None:
    """Referrals as the referrals service told them (KNOWN_REFERRAL_COLUMNS each), in the order they came."""
    for round_ in in_rounds(rows):
        await driver_sql(session, KEEP_KNOWN_REFERRALS, *columns_of(round_, KNOWN_REFERRAL_COLUMNS))
