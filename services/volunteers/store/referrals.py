"""What this service keeps of the referrals of its libraries (migration 007): enough to match a language buddy to a
participant the library knows, and to tell the referrer. Built from the referrals service's events; pseudonyms
only, never a participant's personal data."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import UUID as PgUUID
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from services.volunteers.store import assignments, metadata

known_referrals = sa.Table(
    "known_referrals",
    metadata,
    sa.Column("id", PgUUID(as_uuid=True), primary_key=True),
    sa.Column("participant_pseudonym", sa.Text, nullable=False),
    sa.Column("library", sa.Text, nullable=False),
    sa.Column("municipality", sa.Text, nullable=False),
    sa.Column("referring_partner_id", PgUUID(as_uuid=True)),
    sa.Column("receiving_partner_id", PgUUID(as_uuid=True)),
    sa.Column("status", sa.Text, nullable=False),
    sa.Column("status_at", sa.DateTime(timezone=True), nullable=False),
    sa.Index("known_referrals_by_pseudonym", "participant_pseudonym"),
)


async def remember(
    session: AsyncSession,
    *,
    referral_id: UUID,
    participant_pseudonym: str,
    library: str,
    municipality: str,
    referring_partner_id: UUID | None,
    receiving_partner_id: UUID | None,
    status: str | None,
    at: datetime,
) -> None:
    """Keep the referral; its state follows the newest event (replicas may handle two events in either order), and
    an event that says nothing of the state (`status` None) only makes the referral known."""
    r = known_referrals
    statement = insert(r).values(
        id=referral_id,
        participant_pseudonym=participant_pseudonym,
        library=library,
        municipality=municipality,
        referring_partner_id=referring_partner_id,
        receiving_partner_id=receiving_partner_id,
        status=status or "submitted",
        status_at=at,
    )
    if status is None:
        await session.execute(statement.on_conflict_do_nothing(index_elements=["id"]))
        return
    await session.execute(
        statement.on_conflict_do_update(
            index_elements=["id"],
            set_={"status": status, "status_at": at},
            where=r.c.status_at <= at,
        )
    )


async def find_for_buddy(
    session: AsyncSession, library: str, *, referral_id: UUID | None, pseudonym: str | None
) -> sa.Row | None:
    """The library's referral the participant is known by, locked: one buddy match per participant at a time."""
    r = known_referrals
    statement = sa.select(r).where(r.c.library == library)
    if referral_id is not None:
        statement = statement.where(r.c.id == referral_id)
    if pseudonym is not None:
        statement = statement.where(r.c.participant_pseudonym == pseudonym)
    return (await session.execute(statement.order_by(r.c.status_at.desc()).limit(1).with_for_update())).first()


async def active_buddies(session: AsyncSession, referral_id: UUID) -> list[UUID]:
    """The volunteers who are this participant's buddy now."""
    a = assignments
    statement = sa.select(a.c.volunteer_id).where(
        a.c.referral_id == referral_id, a.c.kind == "buddy", a.c.status == "active"
    )
    return list((await session.execute(statement)).scalars())
