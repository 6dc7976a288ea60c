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
