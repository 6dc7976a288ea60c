"""Time-driven rules: unanswered referrals become overdue and later expire; personal data is erased after
retention. Every replica's periodic job runs them; rows are claimed with SKIP LOCKED, so twice at once is safe.
Tests call them directly with a unit of work on a clock they control.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from services.referrals import store
from services.referrals.commands.consent import expire_lapsed_consents
from services.referrals.commands.lifecycle import event_parties, transition
from services.referrals.commands.privacy import anonymise
from services.referrals.domain import Step
from services.referrals.store import deadlines as due_store
from shared.contracts.referrals.events import AnonymisationReason, ReferralExpired, ReferralOverdue
from shared.unit_of_work import Transaction, UnitOfWork, in_batches

log = logging.getLogger(__name__)

SYSTEM = "system:referral-deadlines"  # the history's actor for what the clock did
BATCH = 200


async def mark_overdue(work: UnitOfWork, *, library: str | None = None) -> int:
    """Flag submitted referrals nobody answered in time: an event and a marker, not a state."""

    async def mark(tx: Transaction, row: sa.Row, now: datetime) -> None:
        # Not a version: answering with the version one read before the flag must still work.
        await store.update_referral(tx.session, row.id, overdue=True, overdue_at=now)
        await store.add_history(
            tx.session,
            row.id,
            status=row.status,
            at=now,
            actor=SYSTEM,
            step="mark_overdue",
            version=row.version,
            details={"respond_by": row.respond_by.isoformat()},
        )
        await tx.stage(
            ReferralOverdue(**event_parties(row), respond_by=row.respond_by, overdue_at=now),
            municipality=row.municipality,
            library=row.library,
        )

    marked = await in_batches(
        work, lambda tx, now: due_store.unanswered(tx.session, now, library, BATCH), mark, batch=BATCH
    )
    if marked:
        log.info("marked %d referrals overdue", marked)
    return marked


async def expire_unanswered(work: UnitOfWork, *, library: str | None = None) -> int:
    """Referrals still submitted at their expiry lapse."""

    async def expire(tx: Transaction, row: sa.Row, now: datetime) -> None:
        await transition(
            tx,
            row,
            Step.EXPIRE,
            actor=SYSTEM,
            event=lambda row, now: ReferralExpired(**event_parties(row), expired_at=now),
        )

    expired = await in_batches(
        work, lambda tx, now: due_store.past_expiry(tx.session, now, library, BATCH), expire, batch=BATCH
    )
    if expired:
        log.info("expired %d unanswered referrals", expired)
    return expired


async def anonymise_after_retention(work: UnitOfWork, *, library: str | None = None) -> int:
    """Erase the personal data of referrals closed longer ago than their library's retention period."""

    async def erase(tx: Transaction, row: sa.Row, now: datetime) -> None:
        await anonymise(tx, row, reason=AnonymisationReason.RETENTION, actor=SYSTEM)

    erased = await in_batches(
        work, lambda tx, now: due_store.past_retention(tx.session, now, library, BATCH), erase, batch=BATCH
    )
    if erased:
        log.info("erased the personal data of %d referrals after retention", erased)
    return erased


async def run_deadlines(work: UnitOfWork) -> dict[str, Any]:
    """The periodic job: in this order, so a referral that is overdue and expired at once gets both events."""
    return {
        "overdue": await mark_overdue(work),
        "expired": await expire_unanswered(work),
        "consents_expired": await expire_lapsed_consents(work),
        "anonymised": await anonymise_after_retention(work),
    }
