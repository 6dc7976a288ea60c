"""What the clock's jobs find due (commands/deadlines.py, commands/consent.py): referrals nobody answered in
time, ones to expire, consents past their last day, and personal data past retention; claimed a batch at a time."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from services.referrals.store import referrals
from shared.contracts.referrals.api.referrals import ConsentState, ReferralStatus

r = referrals


async def due_for(
    session: AsyncSession, condition: sa.ColumnElement[bool], order: sa.ColumnElement[Any], limit: int
) -> list[sa.Row]:
    """Rows a periodic job should handle, locked; rows another replica holds are skipped, not waited for."""
    return list(
        (
            await session.execute(
                sa.select(referrals).where(condition).order_by(order).limit(limit).with_for_update(skip_locked=True)
            )
        ).all()
    )


def _in(library: str | None) -> list[sa.ColumnElement[bool]]:
    # `library` narrows a sweep to one library (for an operator's run, and for tests on a shared database).
    return [] if library is None else [r.c.library == library]


async def unanswered(session: AsyncSession, now: datetime, library: str | None, limit: int) -> list[sa.Row]:
    """Submitted referrals past their answer-by time and not flagged overdue yet."""
    due = sa.and_(
        r.c.status == ReferralStatus.SUBMITTED.value,
        r.c.overdue.is_(False),
        r.c.overdue_at.is_(None),
        r.c.respond_by <= now,
        *_in(library),
    )
    return await due_for(session, due, r.c.respond_by, limit)


async def past_expiry(session: AsyncSession, now: datetime, library: str | None, limit: int) -> list[sa.Row]:
    """Referrals still submitted at their expiry."""
    due = sa.and_(r.c.status == ReferralStatus.SUBMITTED.value, r.c.expires_at <= now, *_in(library))
    return await due_for(session, due, r.c.expires_at, limit)


async def lapsed_consents(session: AsyncSession, today: date, library: str | None, limit: int) -> list[sa.Row]:
    """Referrals whose consent is still given but whose last day was before `today`."""
    due = sa.and_(
        r.c.consent_ended_at.is_(None),
        r.c.consent_state == ConsentState.GIVEN.value,
        r.c.consent_valid_until < sa.bindparam("today", today),
        *_in(library),
    )
    return await due_for(session, due, r.c.consent_valid_until, limit)


async def past_retention(session: AsyncSession, now: datetime, library: str | None, limit: int) -> list[sa.Row]:
    """Referrals whose personal data is kept past their erase-after time."""
    due = sa.and_(r.c.anonymised_at.is_(None), r.c.erase_after <= now, *_in(library))
    return await due_for(session, due, r.c.erase_after, limit)
