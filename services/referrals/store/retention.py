"""The trail an erased referral leaves (migration 012): its history and the access log of its data, queued at the
erasure and deleted a batch of referrals at a time once their window has passed."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import UUID as PgUUID

from services.referrals.store import metadata

erased_trails = sa.Table(
    "erased_trails",
    metadata,
    sa.Column("referral_id", PgUUID(as_uuid=True), sa.ForeignKey("referrals.id"), primary_key=True),
    sa.Column("anonymised_at", sa.DateTime(timezone=True), nullable=False),
    sa.Index("erased_trails_by_age", "anonymised_at"),
)

# Referrals erased before `before`, the oldest first; a referral another sweep holds is skipped. Their history and
# access log go through the indexes by referral, and so does the queue's row: the count of referrals done. The
# batch's ids go to the deletes as one array (`= ANY`, an index scan whatever the planner guesses of the batch's
# size; joined to the batch, a guess of 1,000 rows made it read the whole history, tests/.../test_query_plans.py).
PRUNE_TRAILS = sa.text(
    """
    WITH due AS (
        SELECT referral_id FROM erased_trails WHERE anonymised_at < :before
         ORDER BY anonymised_at LIMIT :batch FOR UPDATE SKIP LOCKED
    ),
    batch AS (SELECT coalesce(array_agg(referral_id), '{}') AS ids FROM due),
    history AS (DELETE FROM referral_history WHERE referral_id = ANY((SELECT ids FROM batch)::uuid[])),
    reads AS (DELETE FROM personal_data_reads WHERE referral_id = ANY((SELECT ids FROM batch)::uuid[])),
    done AS (DELETE FROM erased_trails WHERE referral_id = ANY((SELECT ids FROM batch)::uuid[]) RETURNING 1)
    SELECT count(*) FROM done
    """
)
