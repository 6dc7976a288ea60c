"""The log of reads of volunteers' personal data (migration 007): one row per person shown to a caller."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from uuid import UUID

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import UUID as PgUUID
from sqlalchemy.ext.asyncio import AsyncSession

from services.volunteers.store import metadata
from shared.contracts.volunteers.api.access_log import VolunteerReadPurpose
from shared.tenancy import Actor

volunteer_data_reads = sa.Table(
    "volunteer_data_reads",
    metadata,
    sa.Column("id", sa.BigInteger, primary_key=True, autoincrement=True),
    sa.Column("volunteer_id", PgUUID(as_uuid=True), sa.ForeignKey("volunteers.id"), nullable=False),
    sa.Column("library", sa.Text, nullable=False),
    sa.Column("actor", sa.Text, nullable=False),
    sa.Column("actor_role", sa.Text, nullable=False),
    sa.Column("actor_organisation", sa.Text),
    sa.Column("purpose", sa.Text, nullable=False),
    sa.Column("at", sa.DateTime(timezone=True), nullable=False),
    sa.Index("volunteer_data_reads_by_volunteer", "volunteer_id", sa.text("id DESC")),
    sa.Index("volunteer_data_reads_by_library", "library", sa.text("id DESC")),
)

# Anonymised people whose access log waits for its window (migration 010), and the sweep's batch: the due ones
# oldest first (one another sweep holds skipped), their reads through the index by volunteer (the batch's ids as
# one array, an index scan whatever the planner guesses of its size); the count done.
erased_volunteer_trails = sa.Table(
    "erased_volunteer_trails",
    metadata,
    sa.Column("volunteer_id", PgUUID(as_uuid=True), sa.ForeignKey("volunteers.id"), primary_key=True),
    sa.Column("anonymised_at", sa.DateTime(timezone=True), nullable=False),
    sa.Index("erased_volunteer_trails_by_age", "anonymised_at"),
)
PRUNE_TRAILS = sa.text(
    """
    WITH due AS (
        SELECT volunteer_id FROM erased_volunteer_trails WHERE anonymised_at < :before
         ORDER BY anonymised_at LIMIT :batch FOR UPDATE SKIP LOCKED
    ),
    batch AS (SELECT coalesce(array_agg(volunteer_id), '{}') AS ids FROM due),
    reads AS (DELETE FROM volunteer_data_reads WHERE volunteer_id = ANY((SELECT ids FROM batch)::uuid[])),
    done AS (DELETE FROM erased_volunteer_trails WHERE volunteer_id = ANY((SELECT ids FROM batch)::uuid[]) RETURNING 1)
    SELECT count(*) FROM done
    """
)

LOG_READS = volunteer_data_reads.insert()  # built once: every view that shows a person runs it


async def log_reads(
    session: AsyncSession,
    shown: Iterable[tuple[UUID, str]],
    actor: Actor,
    purpose: VolunteerReadPurpose,
    at: datetime,
) -> None:
    """One row per person shown (their id and library), all in one round trip."""
    rows = [
        {
            "volunteer_id": volunteer_id,
            "library": library,
            "actor": actor.subject,
            "actor_role": actor.role.value,
            "actor_organisation": actor.library or actor.partner,
            "purpose": purpose.value,
            "at": at,
        }
        for volunteer_id, library in shown
    ]
    if rows:
        await session.execute(LOG_READS, rows)
