"""What this service keeps of the referrals of its libraries (migration 007): enough to match a language buddy to a
participant the library knows, and to tell the referrer. Built from the referrals service's events; pseudonyms
only, never a participant's personal data."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any
from uuid import UUID

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import UUID as PgUUID
from sqlalchemy.ext.asyncio import AsyncSession

from services.volunteers.store import assignments, metadata
from shared.consumer import FIRST_TIME_CTE
from shared.db import DirectConnection, Prepared, columns_of, driver_sql, in_rounds

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


# One statement for a consumer's batch per kind of event (`in_rounds`: a referral twice in a batch goes in a second
# round): an event that says nothing of the state only makes the referral known; one that does moves it, unless
# the referral's state is newer (replicas may handle two events in either order).
_REMEMBER = (
    "INSERT INTO known_referrals AS r (id, participant_pseudonym, library, municipality, referring_partner_id,"
    " receiving_partner_id, status, status_at)"
    " SELECT * FROM unnest($1::uuid[], $2::text[], $3::text[], $4::text[], $5::uuid[], $6::uuid[], $7::text[],"
    " $8::timestamptz[])"
)
KNOWN = _REMEMBER + " ON CONFLICT (id) DO NOTHING"
MOVED = (
    _REMEMBER + " ON CONFLICT (id) DO UPDATE SET status = excluded.status, status_at = excluded.status_at"
    " WHERE r.status_at <= excluded.status_at"
)
COLUMNS = (
    "id",
    "participant_pseudonym",
    "library",
    "municipality",
    "referring_partner_id",
    "receiving_partner_id",
    "status",
    "status_at",
)


# A consumer's batch that names each referral once, with its inbox rows, in one statement in autocommit
# (shared/consumer.py StatementHandler, FIRST_TIME_CTE): the events not handled before, each referral in one of the
# two inserts (KNOWN, MOVED), so no row is touched twice.
REMEMBER_ONCE = Prepared(
    "INSERT known_referrals",
    sa.text(
        f"WITH {FIRST_TIME_CTE},"
        " fresh AS ("
        "  SELECT e.* FROM unnest(CAST(:id AS uuid[]), CAST(:participant_pseudonym AS text[]),"
        "   CAST(:library AS text[]), CAST(:municipality AS text[]), CAST(:referring_partner_id AS uuid[]),"
        "   CAST(:receiving_partner_id AS uuid[]), CAST(:status AS text[]), CAST(:status_at AS timestamptz[]),"
        "   CAST(:event_id AS uuid[]))"
        "   AS e(id, participant_pseudonym, library, municipality, referring_partner_id, receiving_partner_id, status,"
        "   status_at, event_id)"
        "  WHERE e.event_id IN (SELECT event_id FROM first_time)"
        " ),"
        " known AS ("
        "  INSERT INTO known_referrals (id, participant_pseudonym, library, municipality, referring_partner_id,"
        "   receiving_partner_id, status, status_at)"
        "  SELECT id, participant_pseudonym, library, municipality, referring_partner_id, receiving_partner_id,"
        "   'submitted', status_at FROM fresh WHERE status IS NULL"
        "  ON CONFLICT (id) DO NOTHING"
        " )"
        " INSERT INTO known_referrals AS r (id, participant_pseudonym, library, municipality, referring_partner_id,"
        " receiving_partner_id, status, status_at)"
        " SELECT id, participant_pseudonym, library, municipality, referring_partner_id, receiving_partner_id, status,"
        " status_at FROM fresh WHERE status IS NOT NULL"
        " ON CONFLICT (id) DO UPDATE SET status = excluded.status, status_at = excluded.status_at"
        " WHERE r.status_at <= excluded.status_at"
    ),
)


async def remember_once(
    connection: DirectConnection, consumer: str, event_ids: list[UUID], rows: Sequence[Mapping[str, Any]]
) -> None:
    """`remember` for a batch whose rows (COLUMNS and their `event_id`) name each referral once, with the inbox
    rows of `event_ids` for `consumer`, in one statement."""
    await connection.execute(
        REMEMBER_ONCE,
        consumer=consumer,
        event_ids=event_ids,
        **{name: [row[name] for row in rows] for name in (*COLUMNS, "event_id")},
    )


async def remember(session: AsyncSession, rows: Sequence[Mapping[str, Any]]) -> None:
    """Keep the referrals (COLUMNS each, `status` None for an event that says nothing of the state), in the order
    their events came."""
    for round_ in in_rounds(rows):
        known = [{**row, "status": "submitted"} for row in round_ if row["status"] is None]
        moved = [row for row in round_ if row["status"] is not None]
        for statement, part in ((KNOWN, known), (MOVED, moved)):
            if part:
                await driver_sql(session, statement, *columns_of(part, COLUMNS))


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
