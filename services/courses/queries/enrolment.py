"""Enrolments as the caller may see them: a session's places and waiting list in the order they came in."""

from __future__ import annotations

from uuid import UUID

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from services.courses import store
from services.courses.domain.enrolment import EnrolmentScope, may_read_enrolment
from services.courses.domain.offer import may_read_course
from services.courses.queries.offer import check_course_visible, joined_course_scope
from services.courses.store.offer import session_with_course
from shared.contracts.courses.api.enrolments import AttendanceMark, EnrolmentView, GetEnrolment, ListEnrolments
from shared.contracts.courses.events import EnrolmentStatus
from shared.errors import InvalidInput, NotFound
from shared.pagination import Page, decode_cursor, encode_cursor
from shared.tenancy import Actor, Role
from shared.unit_of_work import UnitOfWork

e = store.enrolments
c = store.courses


def _waiting_list_position() -> sa.ColumnElement[int]:
    ahead = e.alias("ahead")
    return (
        sa.select(sa.func.count())
        .where(
            ahead.c.session_id == e.c.session_id,
            ahead.c.status == EnrolmentStatus.WAITLISTED.value,
            ahead.c.sequence <= e.c.sequence,
        )
        .scalar_subquery()
    )


async def enrolment_row(session: AsyncSession, enrolment_id: UUID) -> sa.Row:
    """An enrolment with what its scope needs (its course's library, partner, audience) and its place."""
    return (await session.execute(enrolment_columns().where(e.c.id == enrolment_id))).one()


async def active_enrolment_of(session: AsyncSession, session_id: UUID, pseudonym: str) -> sa.Row | None:
    """The participant's place or spot on the waiting list of a session, if any."""
    statement = enrolment_columns().where(
        e.c.session_id == session_id,
        e.c.participant_pseudonym == pseudonym,
        e.c.status.in_([EnrolmentStatus.CONFIRMED.value, EnrolmentStatus.WAITLISTED.value]),
    )
    return (await session.execute(statement)).first()


def enrolment_columns() -> sa.Select[tuple]:
    position = sa.case((e.c.status == EnrolmentStatus.WAITLISTED.value, _waiting_list_position()), else_=None)
    return sa.select(
        e,
        position.label("waiting_list_position"),
        c.c.municipality,
        c.c.library,
        c.c.offered_by_partner_id,
        c.c.status.label("course_status"),
        c.c.audience,
        c.c.audience_partner_id,
    ).join(c, c.c.id == e.c.course_id)


def enrolment_scope(row: sa.Row) -> EnrolmentScope:
    return EnrolmentScope(
        course=joined_course_scope(row),
        enrolled_by_library=row.enrolled_by_library,
        enrolled_by_partner_id=row.enrolled_by_partner_id,
    )


async def attendance_of(session: AsyncSession, enrolment_ids: list[UUID]) -> dict[UUID, list[AttendanceMark]]:
    marks: dict[UUID, list[AttendanceMark]] = {enrolment_id: [] for enrolment_id in enrolment_ids}
    if not enrolment_ids:
        return marks
    a = store.attendance
    rows = await session.execute(
        sa.select(a).where(a.c.enrolment_id.in_(enrolment_ids)).order_by(a.c.enrolment_id, a.c.meeting)
    )
    for row in rows:
        marks[row.enrolment_id].append(
            AttendanceMark(meeting=row.meeting, present=row.present, recorded_at=row.recorded_at)
        )
    return marks


def enrolment_view(row: sa.Row, attendance: list[AttendanceMark]) -> EnrolmentView:
    return EnrolmentView(
        id=row.id,
        session_id=row.session_id,
        course_id=row.course_id,
        municipality=row.municipality,
        library=row.library,
        offered_by_partner_id=row.offered_by_partner_id,
        participant_pseudonym=row.participant_pseudonym,
        referral_id=row.referral_id,
        status=EnrolmentStatus(row.status),
        waiting_list_position=row.waiting_list_position,
        enrolled_at=row.enrolled_at,
        confirmed_at=row.confirmed_at,
        cancelled_at=row.cancelled_at,
        cancellation_reason=row.cancellation_reason,
        attendance=attendance,
        version=row.version,
    )


async def load_enrolment_view(session: AsyncSession, enrolment_id: UUID) -> EnrolmentView:
    row = (await session.execute(enrolment_columns().where(e.c.id == enrolment_id))).one()
    return enrolment_view(row, (await attendance_of(session, [row.id]))[row.id])


async def get_enrolment(work: UnitOfWork, actor: Actor, query: GetEnrolment) -> EnrolmentView:
    async with work.read() as session:
        row = (await session.execute(enrolment_columns().where(e.c.id == query.enrolment_id))).first()
        municipality = await store.municipality_of(session, actor)
        if row is None or not may_read_enrolment(actor, enrolment_scope(row), municipality):
            raise NotFound(f"enrolment {query.enrolment_id} not found")
        return enrolment_view(row, (await attendance_of(session, [row.id]))[row.id])


async def check_session_visible(
    session: AsyncSession, actor: Actor, session_id: UUID, municipality: str | None
) -> None:
    """A session's enrolments are a 404 where the session is (unknown, or its course out of sight), not a list."""
    row = await session_with_course(session, session_id)
    if row is None or not may_read_course(actor, joined_course_scope(row), municipality):
        raise NotFound(f"session {session_id} not found")


def visible_enrolments(actor: Actor, municipality: str | None) -> sa.ColumnElement[bool]:
    """The SQL twin of `may_read_enrolment`."""
    if actor.role is Role.OPERATOR:
        return sa.true()
    if actor.role is Role.COORDINATOR:
        return c.c.municipality == municipality if municipality else sa.false()
    if actor.role is Role.STAFF:
        return sa.or_(c.c.library == actor.library, e.c.enrolled_by_library == actor.library)
    try:
        partner_id = UUID(actor.partner or "")
    except ValueError:
        return sa.false()
    return sa.or_(c.c.offered_by_partner_id == partner_id, e.c.enrolled_by_partner_id == partner_id)


async def list_enrolments(work: UnitOfWork, actor: Actor, query: ListEnrolments) -> Page[EnrolmentView]:
    after = decode_cursor(query.cursor)
    statement = enrolment_columns()
    async with work.read() as session:
        municipality = await store.municipality_of(session, actor)
        statement = statement.where(visible_enrolments(actor, municipality))
        if query.session_id is not None:
            await check_session_visible(session, actor, query.session_id, municipality)
            statement = statement.where(e.c.session_id == query.session_id)
        if query.course_id is not None:
            await check_course_visible(session, actor, query.course_id, municipality)
            statement = statement.where(e.c.course_id == query.course_id)
        if query.status is not None:
            statement = statement.where(e.c.status == query.status.value)
        if query.referral_id is not None:
            statement = statement.where(e.c.referral_id == query.referral_id)
        if query.participant_pseudonym is not None:
            statement = statement.where(e.c.participant_pseudonym == query.participant_pseudonym)
        if after is not None:
            try:
                session_id, sequence = UUID(str(after[0])), int(after[1])
            except (IndexError, ValueError, TypeError) as exc:
                raise InvalidInput("the cursor is not valid") from exc
            statement = statement.where(
                sa.tuple_(e.c.session_id, e.c.sequence)
                > sa.tuple_(sa.literal(session_id, store.Uuid), sa.literal(sequence))
            )
        rows = (await session.execute(statement.order_by(e.c.session_id, e.c.sequence).limit(query.limit + 1))).all()
        page = rows[: query.limit]
        marks = await attendance_of(session, [row.id for row in page])
    items = [enrolment_view(row, marks[row.id]) for row in page]
    more = len(rows) > query.limit
    last = page[-1] if page else None
    cursor = encode_cursor(str(last.session_id), last.sequence) if more and last is not None else None
    return Page(items=items, next_cursor=cursor)
