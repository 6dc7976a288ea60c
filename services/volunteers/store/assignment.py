"""The SQL of assignment's tables (in `store.metadata`): open assignments from courses, assignments, hours, and
the counts read from them (places taken, minutes logged)."""

from __future__ import annotations

from typing import Any
from uuid import UUID

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from services.volunteers.store import assignments, hours, openings
from shared.contracts.volunteers.api.assignments import AssignmentStatus


async def lock_opening_of_course(session: AsyncSession, course_id: UUID) -> sa.Row | None:
    o = openings
    return (await session.execute(sa.select(o).where(o.c.course_id == course_id).with_for_update())).first()


async def add_opening(session: AsyncSession, **values: Any) -> None:
    await session.execute(openings.insert().values(**values))


async def update_opening(session: AsyncSession, opening_id: UUID, **values: Any) -> None:
    await session.execute(openings.update().where(openings.c.id == opening_id).values(**values))


async def add_assignment(session: AsyncSession, **values: Any) -> None:
    await session.execute(assignments.insert().values(**values))


async def update_assignment(session: AsyncSession, assignment_id: UUID, **values: Any) -> None:
    await session.execute(assignments.update().where(assignments.c.id == assignment_id).values(**values))


async def active_assignments(
    session: AsyncSession, *, opening_id: UUID | None = None, volunteer_id: UUID | None = None
) -> list[sa.Row]:
    """The active assignments of an opening, of a volunteer, or of both (one volunteer on one course)."""
    a = assignments
    statement = sa.select(a).where(a.c.status == AssignmentStatus.ACTIVE.value)
    if opening_id is not None:
        statement = statement.where(a.c.opening_id == opening_id)
    if volunteer_id is not None:
        statement = statement.where(a.c.volunteer_id == volunteer_id)
    return list((await session.execute(statement)).all())


async def add_hours(session: AsyncSession, **values: Any) -> None:
    await session.execute(hours.insert().values(**values))


async def update_hours(session: AsyncSession, entry_id: UUID, **values: Any) -> None:
    await session.execute(hours.update().where(hours.c.id == entry_id).values(**values))


async def lock_hours_entry(session: AsyncSession, assignment_id: UUID, entry_id: UUID) -> sa.Row | None:
    h = hours
    statement = sa.select(h).where(h.c.id == entry_id, h.c.assignment_id == assignment_id).with_for_update()
    return (await session.execute(statement)).first()


async def count_active_assignments(session: AsyncSession, opening_id: UUID) -> int:
    statement = sa.select(sa.func.count()).where(
        assignments.c.opening_id == opening_id, assignments.c.status == "active"
    )
    return int((await session.execute(statement)).scalar_one())


def assigned_count() -> sa.ScalarSelect[int]:
    """Active assignments of the opening in the enclosing query, for listing openings with their places left."""
    return (
        sa.select(sa.func.count())
        .where(assignments.c.opening_id == openings.c.id, assignments.c.status == "active")
        .scalar_subquery()
    )


COUNTING = hours.c.removed_at.is_(None)  # the entries that count (a removed one stays, for its history)


async def minutes_logged(session: AsyncSession, assignment_id: UUID) -> int:
    statement = sa.select(sa.func.coalesce(sa.func.sum(hours.c.minutes), 0)).where(
        hours.c.assignment_id == assignment_id, COUNTING
    )
    return int((await session.execute(statement)).scalar_one())


def minutes_logged_column() -> sa.ScalarSelect[int]:
    return (
        sa.select(sa.func.coalesce(sa.func.sum(hours.c.minutes), 0))
        .where(hours.c.assignment_id == assignments.c.id, COUNTING)
        .scalar_subquery()
    )
