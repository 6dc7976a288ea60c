"""The SQL of partnerships (in `store.metadata`): drafted, changed, moved through their states, ended with their
partner, and found by the clock when their end or review date comes."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any
from uuid import UUID

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from services.partners.store import partnerships
from shared.contracts.partners.api.partnerships import PartnershipStatus

S = partnerships
# The clock's jobs take a batch at a time, skipping rows another replica holds.
CLOCK_BATCH = 500


async def add_partnership(session: AsyncSession, **values: Any) -> None:
    await session.execute(S.insert().values(**values))


async def update_partnership(session: AsyncSession, partnership_id: UUID, **values: Any) -> None:
    await session.execute(S.update().where(S.c.id == partnership_id).values(**values))


async def end_all_of(session: AsyncSession, partner_id: UUID, *, reason: str, at: datetime) -> list[sa.Row]:
    """End every partnership of the partner not ended yet; the ones ended, with what their events need."""
    ended = await session.execute(
        S.update()
        .where(S.c.partner_id == partner_id, S.c.status != PartnershipStatus.ENDED.value)
        .values(
            status=PartnershipStatus.ENDED.value, ended_at=at, end_reason=reason, version=S.c.version + 1, updated_at=at
        )
        .returning(S.c.id, S.c.library, S.c.municipality, S.c.activated_at, S.c.version)
    )
    return list(ended.all())


async def running_past_end(session: AsyncSession, running: list[str], today: date) -> list[sa.Row]:
    statement = (
        sa.select(S)
        .where(S.c.status.in_(running), S.c.ends_on < today)
        .with_for_update(skip_locked=True)
        .limit(CLOCK_BATCH)
    )
    return list((await session.execute(statement)).all())


async def running_with_review_due(session: AsyncSession, running: list[str], today: date) -> list[sa.Row]:
    """Running partnerships whose review date has come and that were not reminded of that date yet."""
    statement = (
        sa.select(S)
        .where(
            S.c.status.in_(running),
            S.c.review_on <= today,
            S.c.review_reminded_for.is_distinct_from(S.c.review_on),
        )
        .with_for_update(skip_locked=True)
        .limit(CLOCK_BATCH)
    )
    return list((await session.execute(statement)).all())
