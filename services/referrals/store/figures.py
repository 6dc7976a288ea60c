"""The read models of the statistics and the overview (migration 011): counters and intake durations kept by a
trigger in the transaction that changes a referral, and rebuilt from the referrals on request."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import UUID as PgUUID

from services.referrals.store import metadata

referral_counts = sa.Table(
    "referral_counts",
    metadata,
    sa.Column("municipality", sa.Text, nullable=False),
    sa.Column("library", sa.Text, nullable=False),
    sa.Column("referring_partner_id", PgUUID(as_uuid=True)),
    sa.Column("receiving_partner_id", PgUUID(as_uuid=True)),
    sa.Column("status", sa.Text, nullable=False),
    sa.Column("overdue", sa.Boolean, nullable=False),
    sa.Column("was_overdue", sa.Boolean, nullable=False),
    sa.Column("course_finished", sa.Boolean, nullable=False),
    sa.Column("moved_to_work", sa.Boolean, nullable=False),
    sa.Column("further_education", sa.Boolean, nullable=False),
    sa.Column("anonymised", sa.Boolean, nullable=False),
    sa.Column("shard", sa.SmallInteger, nullable=False),
    sa.Column("count", sa.BigInteger, nullable=False),
    sa.Index("referral_counts_by_library", "library"),
    sa.Index("referral_counts_by_referring", "referring_partner_id"),
    sa.Index("referral_counts_by_receiving", "receiving_partner_id"),
)

referral_need_counts = sa.Table(
    "referral_need_counts",
    metadata,
    sa.Column("municipality", sa.Text, nullable=False),
    sa.Column("library", sa.Text, nullable=False),
    sa.Column("referring_partner_id", PgUUID(as_uuid=True)),
    sa.Column("receiving_partner_id", PgUUID(as_uuid=True)),
    sa.Column("area", sa.Text),
    sa.Column("shard", sa.SmallInteger, nullable=False),
    sa.Column("count", sa.BigInteger, nullable=False),
    sa.Index("referral_need_counts_by_library", "library"),
)

referral_intakes = sa.Table(
    "referral_intakes",
    metadata,
    sa.Column("referral_id", PgUUID(as_uuid=True), sa.ForeignKey("referrals.id"), primary_key=True),
    sa.Column("municipality", sa.Text, nullable=False),
    sa.Column("library", sa.Text, nullable=False),
    sa.Column("referring_partner_id", PgUUID(as_uuid=True)),
    sa.Column("receiving_partner_id", PgUUID(as_uuid=True)),
    sa.Column("hours", sa.Double, nullable=False),
    sa.Index("referral_intakes_by_municipality", "municipality", "library"),
    sa.Index("referral_intakes_by_library", "library"),
    sa.Index("referral_intakes_by_referring", "referring_partner_id"),
    sa.Index("referral_intakes_by_receiving", "receiving_partner_id"),
)
