"""The public course calendar: what residents of a municipality see without signing in. Published courses for
the public (never training for staff or volunteers), their scheduled sessions to come, with the places free
and the waiting list as they are now."""

from __future__ import annotations

from datetime import datetime

import msgspec
import sqlalchemy as sa

from services.courses import store
from services.courses.domain.residents import PUBLIC_AUDIENCES
from services.courses.queries.offer import location_of
from shared.clock import LOCAL_TIME
from shared.contracts.courses.api.courses import CourseStatus, Meeting, SessionStatus
from shared.contracts.courses.api.public import PublicCalendar, PublicCalendarView, PublicLibrary, PublicSession
from shared.contracts.courses.events import Audience, CourseFormat
from shared.contracts.vocabulary import SkillArea
from shared.errors import NotFound
from shared.tenancy import Actor
from shared.unit_of_work import UnitOfWork

c = store.courses
s = store.sessions
libraries = store.known_libraries
MOST_SESSIONS = 500  # a municipality's calendar for the months ahead; a phone gets one page of it


def _like(text: str) -> str:
    return "%" + text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


def public_sessions(query: PublicCalendar, now: datetime) -> sa.Select[tuple]:
    library_name = sa.select(libraries.c.name).where(libraries.c.slug == c.c.library).scalar_subquery()
    partner_name = (
        sa.select(store.known_partners.c.name).where(store.known_partners.c.id == c.c.offered_by_partner_id)
    ).scalar_subquery()
    statement = (
        sa.select(
            s,
            c.c.title,
            c.c.description,
            c.c.skill_area,
            c.c.audience,
            c.c.level,
            c.c.format,
            c.c.price_cents,
            c.c.library,
            c.c.offered_by_partner_id,
            c.c.updated_at.label("course_updated_at"),
            c.c.location_kind,
            c.c.location_library,
            c.c.location_branch,
            c.c.location_partner_id,
            c.c.location_address,
            c.c.location_place,
            library_name.label("library_name"),
            sa.func.coalesce(partner_name, library_name, c.c.library, "").label("offered_by"),
        )
        .join(c, c.c.id == s.c.course_id)
        .where(
            c.c.municipality == query.municipality,
            c.c.status == CourseStatus.PUBLISHED.value,
            c.c.audience.in_([a.value for a in PUBLIC_AUDIENCES]),
            s.c.status == SessionStatus.SCHEDULED.value,
            s.c.ends_at > now,
        )
        .order_by(s.c.starts_at, s.c.id)
        .limit(MOST_SESSIONS)
    )
    if query.session_id is not None:
        statement = statement.where(s.c.id == query.session_id)
    if query.skill_area is not None:
        statement = statement.where(c.c.skill_area == query.skill_area.value)
    if query.audience is not None:
        statement = statement.where(c.c.audience == query.audience.value)
    if query.library is not None:
        statement = statement.where(c.c.library == query.library)
    if query.place is not None:
        pattern = _like(query.place)
        statement = statement.where(
            sa.or_(*(column.ilike(pattern) for column in (c.c.location_place, c.c.location_branch, s.c.place)))
        )
    if query.weekday is not None:
        local_start = sa.func.timezone(str(LOCAL_TIME), s.c.starts_at)
        statement = statement.where(sa.extract("isodow", local_start) == query.weekday)
    return statement


def public_session(row: sa.Row) -> PublicSession:
    return PublicSession(
        session_id=row.id,
        course_id=row.course_id,
        title=row.title,
        description=row.description,
        skill_area=SkillArea(row.skill_area),
        audience=Audience(row.audience),
        level=row.level,
        format=CourseFormat(row.format),
        price_cents=row.price_cents,
        offered_by=row.offered_by,
        library=row.library,
        library_name=row.library_name,
        location=location_of(row),
        place=row.place,
        meetings=msgspec.convert(row.meetings, list[Meeting]),
        starts_at=row.starts_at,
        ends_at=row.ends_at,
        capacity=row.capacity,
        places_free=max(0, row.capacity - row.confirmed_count),
        waiting_list=row.waitlisted_count,
        changed_at=max(row.updated_at, row.course_updated_at),
        offered_by_partner_id=row.offered_by_partner_id,
    )


async def public_calendar(work: UnitOfWork, actor: Actor, query: PublicCalendar) -> PublicCalendarView:
    """Anyone may ask (the gateway asks for residents); a municipality with no library known here is not found."""
    async with work.read() as session:
        known = (
            await session.execute(
                sa.select(libraries.c.slug, libraries.c.name)
                .where(libraries.c.municipality == query.municipality)
                .order_by(libraries.c.name, libraries.c.slug)
            )
        ).all()
        if not known:
            raise NotFound(f"municipality {query.municipality} has no course calendar")
        now = work.clock.now()
        rows = (await session.execute(public_sessions(query, now))).all()
    return PublicCalendarView(
        municipality=query.municipality,
        libraries=[PublicLibrary(slug=row.slug, name=row.name or row.slug) for row in known],
        sessions=[public_session(row) for row in rows],
        generated_at=now,
    )
