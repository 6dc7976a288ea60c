"""The municipality's offer: courses and their sessions, as the caller may see them."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

import msgspec
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from services.courses import store
from services.courses.domain.offer import CourseScope, Division, division_of_work, may_read_course
from services.courses.store.offer import session_columns, session_with_course
from shared.clock import end_of_day, start_of_day
from shared.contracts.courses.api.courses import (
    CourseDetails,
    CourseStatus,
    CourseTask,
    CourseTaskView,
    CourseView,
    GetCourse,
    GetSession,
    ListCourses,
    ListSessions,
    Location,
    Meeting,
    SessionStatus,
    SessionView,
)
from shared.contracts.courses.events import Audience, CourseFormat, LibraryContribution, LocationKind
from shared.contracts.vocabulary import SkillArea
from shared.errors import InvalidInput, NotFound
from shared.pagination import Page, decode_cursor, encode_cursor
from shared.tenancy import Actor, Role
from shared.unit_of_work import UnitOfWork

c = store.courses
s = store.sessions


def course_scope(row: sa.Row) -> CourseScope:
    return CourseScope(
        id=row.id,
        municipality=row.municipality,
        library=row.library,
        offered_by_partner_id=row.offered_by_partner_id,
        status=CourseStatus(row.status),
        audience=Audience(row.audience),
        audience_partner_id=row.audience_partner_id,
    )


def course_parties(course: sa.Row) -> dict[str, Any]:
    """Who every event about a course (or one of its sessions) names: the course, its municipality, its library
    and the partner that offers it."""
    return {
        "course_id": course.id,
        "municipality": course.municipality,
        "library": course.library,
        "offered_by_partner_id": course.offered_by_partner_id,
    }


def location_of(row: sa.Row) -> Location:
    return Location(
        kind=LocationKind(row.location_kind),
        library=row.location_library,
        branch=row.location_branch,
        partner_id=row.location_partner_id,
        address=row.location_address,
        place=row.location_place,
    )


def details_of(row: sa.Row) -> CourseDetails:
    """A course's row as the details it was given, to apply changes to."""
    return CourseDetails(
        title=row.title,
        description=row.description,
        skill_area=SkillArea(row.skill_area),
        audience=Audience(row.audience),
        audience_partner_id=row.audience_partner_id,
        level=row.level,
        format=CourseFormat(row.format),
        price_cents=row.price_cents,
        location=location_of(row),
        volunteers_needed=row.volunteers_needed,
        library_contributions=[LibraryContribution(x) for x in row.library_contributions],
    )


def _offered_by() -> sa.ColumnElement[str]:
    partner_name = (
        sa.select(store.known_partners.c.name)
        .where(store.known_partners.c.id == c.c.offered_by_partner_id)
        .scalar_subquery()
    )
    library_name = sa.select(store.known_libraries.c.name).where(store.known_libraries.c.slug == c.c.library)
    return sa.func.coalesce(partner_name, library_name.scalar_subquery(), c.c.library, "").label("offered_by")


def _next_session(now: datetime) -> sa.ColumnElement[datetime]:
    return (
        sa.select(sa.func.min(s.c.starts_at))
        .where(s.c.course_id == c.c.id, s.c.status == SessionStatus.SCHEDULED.value, s.c.starts_at >= now)
        .scalar_subquery()
        .label("next_session_starts_at")
    )


def _partnership_terms() -> list[sa.ColumnElement[Any]]:
    """What each side of the partnership between a course's partner and its hosting library brings (None where no
    such partnership is known, or its contributions were never announced): the running one, else the newest."""
    p = store.partnerships.table

    def side(column: sa.ColumnElement[Any], label: str) -> sa.ColumnElement[Any]:
        return (
            sa.select(column)
            .where(p.c.partner_id == c.c.offered_by_partner_id, p.c.library == c.c.library)
            .order_by(sa.and_(p.c.activated, sa.not_(p.c.ended)).desc(), p.c.terms_version.desc(), p.c.id)
            .limit(1)
            .scalar_subquery()
            .label(label)
        )

    return [
        side(p.c.library_contributions, "partnership_library_contributions"),
        side(p.c.partner_contributions, "partnership_partner_contributions"),
    ]


def course_columns(now: datetime) -> sa.Select[tuple]:
    return sa.select(c, _offered_by(), _next_session(now), *_partnership_terms())


def division_of(row: sa.Row) -> Division:
    return division_of_work(
        partner_course_hosted=row.offered_by_partner_id is not None and row.library is not None,
        course_says=list(row.library_contributions),
        partnership_library=row.partnership_library_contributions,
        partnership_partner=row.partnership_partner_contributions,
    )


def course_view(row: sa.Row) -> CourseView:
    division = division_of(row)
    return CourseView(
        id=row.id,
        municipality=row.municipality,
        library=row.library,
        offered_by_partner_id=row.offered_by_partner_id,
        offered_by=row.offered_by,
        title=row.title,
        description=row.description,
        skill_area=SkillArea(row.skill_area),
        audience=Audience(row.audience),
        audience_partner_id=row.audience_partner_id,
        level=row.level,
        format=CourseFormat(row.format),
        price_cents=row.price_cents,
        location=location_of(row),
        volunteers_needed=row.volunteers_needed,
        library_contributions=[LibraryContribution(x) for x in division.library_contributions],
        status=CourseStatus(row.status),
        version=row.version,
        created_at=row.created_at,
        published_at=row.published_at,
        next_session_starts_at=row.next_session_starts_at,
        partner_brings=division.partner_brings,
        library_tasks=library_tasks(row, division.library_contributions),
    )


# The hosting library's task for what it brings to a partner's course (services/courses/domain/offer.py).
TASK_OF = {
    LibraryContribution.LOCATION: CourseTask.ROOM_BOOKED,
    LibraryContribution.PROMOTION: CourseTask.PROMOTION_DONE,
    LibraryContribution.RECRUITMENT: CourseTask.PARTICIPANTS_RECRUITED,
}


def library_tasks(row: sa.Row, brings: list[str]) -> list[CourseTaskView]:
    """The hosting library's task for each contribution it brings to a partner's course, ticked off or not."""
    if row.offered_by_partner_id is None or row.library is None:
        return []
    done = row.library_tasks or {}
    tasks = [TASK_OF[LibraryContribution(x)] for x in brings if LibraryContribution(x) in TASK_OF]
    return [
        CourseTaskView(
            task=task,
            done=task.value in done,
            done_at=datetime.fromisoformat(done[task.value]["done_at"]) if task.value in done else None,
            done_by=done[task.value]["done_by"] if task.value in done else None,
        )
        for task in tasks
    ]


async def load_course_view(session: AsyncSession, course_id: UUID, now: datetime) -> CourseView:
    row = (await session.execute(course_columns(now).where(c.c.id == course_id))).one()
    return course_view(row)


async def get_course(work: UnitOfWork, actor: Actor, query: GetCourse) -> CourseView:
    async with work.read() as session:
        row = (await session.execute(course_columns(work.clock.now()).where(c.c.id == query.course_id))).first()
        municipality = await store.municipality_of(session, actor)
    if row is None or not may_read_course(actor, course_scope(row), municipality):
        raise NotFound(f"course {query.course_id} not found")
    return course_view(row)


def visible_courses(actor: Actor, municipality: str | None) -> sa.ColumnElement[bool]:
    """The SQL twin of `may_read_course`: the whole municipality's offer, drafts only for those who run them."""
    if actor.role is Role.OPERATOR:
        return sa.true()
    if municipality is None:
        return sa.false()
    in_municipality = c.c.municipality == municipality
    if actor.role is Role.COORDINATOR:
        return in_municipality
    runs_it: sa.ColumnElement[bool] = sa.false()
    if actor.role is Role.STAFF:
        runs_it = c.c.library == actor.library
    elif actor.role is Role.PARTNER:
        try:
            runs_it = c.c.offered_by_partner_id == UUID(actor.partner or "")
        except ValueError:
            runs_it = sa.false()
    return sa.or_(runs_it, sa.and_(in_municipality, c.c.status != CourseStatus.DRAFT.value))


def like_pattern(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


async def list_courses(work: UnitOfWork, actor: Actor, query: ListCourses) -> Page[CourseView]:
    after = decode_cursor(query.cursor)
    now = work.clock.now()
    statement = course_columns(now)
    async with work.read() as session:
        municipality = await store.municipality_of(session, actor)
        statement = statement.where(visible_courses(actor, municipality))
        if query.municipality is not None and actor.role is Role.OPERATOR:
            statement = statement.where(c.c.municipality == query.municipality)
        statement = statement.where(*course_filters(query))
        if after is not None:
            try:
                title, last_id = str(after[0]), UUID(str(after[1]))
            except (IndexError, ValueError) as exc:
                raise InvalidInput("the cursor is not valid") from exc
            statement = statement.where(
                sa.tuple_(c.c.title, c.c.id) > sa.tuple_(sa.literal(title, sa.Text), sa.literal(last_id, store.Uuid))
            )
        rows = (await session.execute(statement.order_by(c.c.title, c.c.id).limit(query.limit + 1))).all()
    items = [course_view(row) for row in rows[: query.limit]]
    more = len(rows) > query.limit
    return Page(items=items, next_cursor=encode_cursor(items[-1].title, str(items[-1].id)) if more else None)


def course_filters(query: ListCourses) -> list[sa.ColumnElement[bool]]:
    filters: list[sa.ColumnElement[bool]] = []
    if query.skill_area is not None:
        filters.append(c.c.skill_area == query.skill_area.value)
    if query.audience is not None:
        filters.append(c.c.audience == query.audience.value)
    if query.audience_partner_id is not None:
        filters.append(c.c.audience_partner_id == query.audience_partner_id)
    if query.library is not None:
        filters.append(c.c.library == query.library)
    if query.offered_by_partner_id is not None:
        filters.append(c.c.offered_by_partner_id == query.offered_by_partner_id)
    if query.status is not None:
        filters.append(c.c.status == query.status.value)
    if query.place is not None:
        pattern = like_pattern(query.place)
        library_name = sa.select(store.known_libraries.c.name).where(store.known_libraries.c.slug == c.c.library)
        filters.append(
            sa.or_(
                c.c.location_place.ilike(pattern),
                c.c.location_branch.ilike(pattern),
                c.c.location_address.ilike(pattern),
                library_name.scalar_subquery().ilike(pattern),
            )
        )
    if query.starts_from is not None or query.starts_until is not None:
        when = [s.c.course_id == c.c.id, s.c.status == SessionStatus.SCHEDULED.value]
        if query.starts_from is not None:
            when.append(s.c.starts_at >= start_of_day(query.starts_from))
        if query.starts_until is not None:
            when.append(s.c.starts_at < end_of_day(query.starts_until))
        filters.append(sa.exists(sa.select(s.c.id).where(*when)))
    return filters


# --- sessions --------------------------------------------------------------------------------------


def joined_course_scope(row: sa.Row) -> CourseScope:
    """The course's scope from a row of something joined with its course (a session, an enrolment)."""
    return CourseScope(
        id=row.course_id,
        municipality=row.municipality,
        library=row.library,
        offered_by_partner_id=row.offered_by_partner_id,
        status=CourseStatus(row.course_status),
        audience=Audience(row.audience),
        audience_partner_id=row.audience_partner_id,
    )


def session_view(row: sa.Row) -> SessionView:
    return SessionView(
        id=row.id,
        course_id=row.course_id,
        course_title=row.course_title,
        municipality=row.municipality,
        library=row.library,
        offered_by_partner_id=row.offered_by_partner_id,
        meetings=msgspec.convert(row.meetings, list[Meeting]),
        starts_at=row.starts_at,
        ends_at=row.ends_at,
        place=row.place,
        capacity=row.capacity,
        confirmed=row.confirmed_count,
        waitlisted=row.waitlisted_count,
        places_free=max(0, row.capacity - row.confirmed_count) if row.status == SessionStatus.SCHEDULED.value else 0,
        status=SessionStatus(row.status),
        version=row.version,
    )


async def load_session_view(session: AsyncSession, session_id: UUID) -> SessionView:
    row = await session_with_course(session, session_id)
    if row is None:
        raise NotFound(f"session {session_id} not found")
    return session_view(row)


async def get_session(work: UnitOfWork, actor: Actor, query: GetSession) -> SessionView:
    async with work.read() as session:
        row = await session_with_course(session, query.session_id)
        municipality = await store.municipality_of(session, actor)
    if row is None or not may_read_course(actor, joined_course_scope(row), municipality):
        raise NotFound(f"session {query.session_id} not found")
    return session_view(row)


async def check_course_visible(session: AsyncSession, actor: Actor, course_id: UUID, municipality: str | None) -> None:
    """A list under a course (its sessions, its enrolments) is a 404 where the course is, not an empty list."""
    row = (await session.execute(sa.select(c).where(c.c.id == course_id))).first()
    if row is None or not may_read_course(actor, course_scope(row), municipality):
        raise NotFound(f"course {course_id} not found")


async def list_sessions(work: UnitOfWork, actor: Actor, query: ListSessions) -> Page[SessionView]:
    after = decode_cursor(query.cursor)
    statement = session_columns()
    async with work.read() as session:
        municipality = await store.municipality_of(session, actor)
        statement = statement.where(visible_courses(actor, municipality))
        if query.course_id is not None:
            await check_course_visible(session, actor, query.course_id, municipality)
            statement = statement.where(s.c.course_id == query.course_id)
        if query.library is not None:
            statement = statement.where(c.c.library == query.library)
        if query.status is not None:
            statement = statement.where(s.c.status == query.status.value)
        if query.with_free_places:
            statement = statement.where(s.c.status == SessionStatus.SCHEDULED.value, s.c.confirmed_count < s.c.capacity)
        if query.starts_from is not None:
            statement = statement.where(s.c.starts_at >= start_of_day(query.starts_from))
        if query.starts_until is not None:
            statement = statement.where(s.c.starts_at < end_of_day(query.starts_until))
        if after is not None:
            try:
                starts_at, last_id = datetime.fromisoformat(str(after[0])), UUID(str(after[1]))
            except (IndexError, ValueError) as exc:
                raise InvalidInput("the cursor is not valid") from exc
            statement = statement.where(
                sa.tuple_(s.c.starts_at, s.c.id)
                > sa.tuple_(sa.literal(starts_at, store.Time), sa.literal(last_id, store.Uuid))
            )
        rows = (await session.execute(statement.order_by(s.c.starts_at, s.c.id).limit(query.limit + 1))).all()
    items = [session_view(row) for row in rows[: query.limit]]
    more = len(rows) > query.limit
    cursor = encode_cursor(items[-1].starts_at.isoformat(), str(items[-1].id)) if more else None
    return Page(items=items, next_cursor=cursor)
