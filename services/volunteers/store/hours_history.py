"""The history of hours entries (migration 005): each correction or removal with what the entry said before it,
and the sums the rules on hours need."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Any
from uuid import UUID

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import UUID as PgUUID
from sqlalchemy.ext.asyncio import AsyncSession

from services.volunteers.store import hours, metadata
from services.volunteers.store.assignment import COUNTING

hours_changes = sa.Table(
    "hours_changes",
    metadata,
    sa.Column("id", sa.BigInteger, primary_key=True, autoincrement=True),
    sa.Column("entry_id", PgUUID(as_uuid=True), sa.ForeignKey("hours.id"), nullable=False),
    sa.Column("change", sa.Text, nullable=False),
    sa.Column("at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("actor", sa.Text, nullable=False),
    sa.Column("reason", sa.Text),
    sa.Column("worked_on", sa.Date, nullable=False),
    sa.Column("minutes", sa.Integer, nullable=False),
    sa.Column("note", sa.Text),
    sa.Index("hours_changes_by_entry", "entry_id", "id"),
)


async def minutes_on_day(session: AsyncSession, volunteer_id: UUID, day: date, *, besides: UUID | None = None) -> int:
    """The volunteer's minutes on `day` over all assignments (not counting entry `besides`, being corrected)."""
    statement = sa.select(sa.func.coalesce(sa.func.sum(hours.c.minutes), 0)).where(
        hours.c.volunteer_id == volunteer_id, hours.c.worked_on == day, COUNTING
    )
    if besides is not None:
        statement = statement.where(hours.c.id != besides)
    return int((await session.execute(statement)).scalar_one())


async def record_change(session: AsyncSession, entry: sa.Row, **values: Any) -> None:
    """Keep what the entry says now, before it changes."""
    await session.execute(
        hours_changes.insert().values(
            entry_id=entry.id, worked_on=entry.worked_on, minutes=entry.minutes, note=entry.note, **values
        )
    )


async def changes_of(session: AsyncSession, *entry_ids: UUID) -> Sequence[sa.Row]:
    statement = (
        sa.select(hours_changes)
        .where(hours_changes.c.entry_id.in_(entry_ids))
        .order_by(hours_changes.c.entry_id, hours_changes.c.id)
    )
    return (await session.execute(statement)).all()


async def forget_reasons(session: AsyncSession, volunteer_id: UUID) -> None:
    """Free text may say anything about the person: erased with their personal data."""
    entries = sa.select(hours.c.id).where(hours.c.volunteer_id == volunteer_id)
    await session.execute(
        hours_changes.update().where(hours_changes.c.entry_id.in_(entries)).values(reason=None, note=None)
    )
