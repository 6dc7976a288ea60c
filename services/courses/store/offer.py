"""The SQL of the offer's tables (in `store.metadata`): courses and their sessions."""

from __future__ import annotations

from typing import Any
from uuid import UUID

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from services.courses.store import courses, sessions
from shared.contracts.courses.api.courses import SessionStatus


async def add_course(session: AsyncSession, **values: Any) -> None:
    await session.execute(courses.insert().values(**values))


async def update_course(session: AsyncSession, course_id: UUID, **values: Any) -> None:
    await session.execute(courses.update().where(courses.c.id == course_id).values(**values))


async def scheduled_sessions_of(session: AsyncSession, course_id: UUID) -> list[UUID]:
    """The course's sessions still scheduled, in a fixed order (so two cancellations lock them alike)."""
    s = sessions
    statement = (
        sa.select(s.c.id)
        .where(s.c.course_id == course_id, s.c.status == SessionStatus.SCHEDULED.value)
        .order_by(s.c.id)
    )
    return list((await session.execute(statement)).scalars())


async def add_session(session: AsyncSession, **values: Any) -> None:
    await session.execute(sessions.insert().values(**values))


async def update_session(session: AsyncSession, session_id: UUID, **values: Any) -> None:
    await session.execute(sessions.update().where(sessions.c.id == session_id).values(**values))


def session_columns() -> sa.Select[tuple]:
    """A session's columns and its course's scope (title, municipality, library, partner, status, audience)."""
    c = courses
    return sa.select(
        sessions,
        c.c.title.label("course_title"),
        c.c.municipality,
        c.c.library,
        c.c.offered_by_partner_id,
        c.c.status.label("course_status"),
        c.c.audience,
        c.c.audience_partner_id,
    ).join(c, c.c.id == sessions.c.course_id)


async def session_with_course(session: AsyncSession, session_id: UUID) -> sa.Row | None:
    """A session's row as `session_columns` has it, or None where there is no such session."""
    return (await session.execute(session_columns().where(sessions.c.id == session_id))).first()
