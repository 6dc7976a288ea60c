"""The SQL of training's tables (in `store.metadata`): modules, their sessions, and the qualifications they give."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from typing import Any
from uuid import UUID

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from services.volunteers.store import attendance, qualifications, training_modules, training_sessions, volunteers


async def add_module(session: AsyncSession, **values: Any) -> None:
    await session.execute(training_modules.insert().values(**values))


async def update_module(session: AsyncSession, module_id: UUID, **values: Any) -> None:
    await session.execute(training_modules.update().where(training_modules.c.id == module_id).values(**values))


async def module_of_purchase(session: AsyncSession, purchase_id: UUID) -> UUID | None:
    """The module a delivered purchase became already, if any."""
    m = training_modules
    return (await session.execute(sa.select(m.c.id).where(m.c.purchase_id == purchase_id))).scalars().first()


async def add_session(session: AsyncSession, **values: Any) -> None:
    await session.execute(training_sessions.insert().values(**values))


async def lock_qualification(session: AsyncSession, volunteer_id: UUID, code: str) -> sa.Row | None:
    q = qualifications
    statement = sa.select(q).where(q.c.volunteer_id == volunteer_id, q.c.code == code).with_for_update()
    return (await session.execute(statement)).first()


async def qualifications_past_validity(session: AsyncSession, today: date, batch: int) -> list[sa.Row]:
    """Qualifications past their last valid day not announced yet, with their holder's kind and supplier, locked
    (others' locks skipped)."""
    q, v = qualifications, volunteers
    statement = (
        sa.select(q, v.c.kind, v.c.via_partner_id)
        .join(v, v.c.id == q.c.volunteer_id)
        .where(q.c.expired_at.is_(None), q.c.valid_until < today)
        .order_by(q.c.valid_until, q.c.volunteer_id, q.c.code)
        .limit(batch)
        .with_for_update(of=q, skip_locked=True)
    )
    return list((await session.execute(statement)).all())


async def mark_expired(session: AsyncSession, volunteer_id: UUID, code: str, at: datetime) -> None:
    q = qualifications
    await session.execute(q.update().where(q.c.volunteer_id == volunteer_id, q.c.code == code).values(expired_at=at))


async def qualifications_to_tell_suppliers(
    session: AsyncSession, today: date, horizon: date, in_service: list[str], batch: int
) -> list[sa.Row]:
    """Qualifications still valid that run out by `horizon`, of volunteers in service a partner supplied, whose
    supplier was not told of this last valid day yet; locked (others' locks skipped)."""
    q, v = qualifications, volunteers
    statement = (
        sa.select(q, v.c.kind, v.c.via_partner_id)
        .join(v, v.c.id == q.c.volunteer_id)
        .where(
            v.c.via_partner_id.is_not(None),
            v.c.status.in_(in_service),
            q.c.expired_at.is_(None),
            q.c.valid_until.between(today, horizon),
            q.c.expiring_told_for.is_distinct_from(q.c.valid_until),
        )
        .order_by(q.c.valid_until, q.c.volunteer_id, q.c.code)
        .limit(batch)
        .with_for_update(of=q, skip_locked=True)
    )
    return list((await session.execute(statement)).all())


async def mark_supplier_told(session: AsyncSession, volunteer_id: UUID, code: str, valid_until: date) -> None:
    q = qualifications
    await session.execute(
        q.update().where(q.c.volunteer_id == volunteer_id, q.c.code == code).values(expiring_told_for=valid_until)
    )


async def find_attendance(session: AsyncSession, session_id: UUID) -> Sequence[sa.Row]:
    statement = (
        sa.select(attendance)
        .where(attendance.c.session_id == session_id)
        .order_by(attendance.c.recorded_at, attendance.c.volunteer_id)
    )
    return (await session.execute(statement)).all()
