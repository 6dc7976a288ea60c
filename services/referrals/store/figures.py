"""The read models of the statistics and the overview (migrations 011, 013, 020): counters per month of submission
and intake durations kept by a trigger in the transaction that changes a referral, and rebuilt from the referrals on
request."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import UUID as PgUUID

from services.referrals.store import metadata
from shared.db import Prepared


def _parties() -> list[sa.Column[Any]]:
    """The parties a figure belongs to, in every read model of the figures (migration 011)."""
    return [
        sa.Column("municipality", sa.Text, nullable=False),
        sa.Column("library", sa.Text, nullable=False),
        sa.Column("referring_partner_id", PgUUID(as_uuid=True)),
        sa.Column("receiving_partner_id", PgUUID(as_uuid=True)),
    ]


referral_intakes = sa.Table(
    "referral_intakes",
    metadata,
    sa.Column("referral_id", PgUUID(as_uuid=True), sa.ForeignKey("referrals.id"), primary_key=True),
    *_parties(),
    sa.Column("hours", sa.Double, nullable=False),
    sa.Index("referral_intakes_by_municipality", "municipality", "library"),
    sa.Index("referral_intakes_by_library", "library"),
    sa.Index("referral_intakes_by_referring", "referring_partner_id"),
    sa.Index("referral_intakes_by_receiving", "receiving_partner_id"),
)


def _month_table(name: str, *counted_by: sa.Column[Any]) -> sa.Table:
    """Migration 013's counters per month of submission: the month, the parties, what else is counted by, and the
    count (on one of several shards). Since migration 020 the only counters: the all-time figures are their sum over
    every month."""
    parties = _parties()
    return sa.Table(
        name,
        metadata,
        sa.Column("month", sa.Date, nullable=False),
        *parties,
        *counted_by,
        sa.Column("shard", sa.SmallInteger, nullable=False),
        sa.Column("count", sa.BigInteger, nullable=False),
        *(sa.Index(f"{name}_by_{party.name.removesuffix('_partner_id')}", party.name, "month") for party in parties),
    )


# The intake histogram (migration 013): per library and partners and 2 %-wide bucket of hours, a count and the
# exact sum of its hours.
referral_intake_hours = sa.Table(
    "referral_intake_hours",
    metadata,
    *_parties(),
    sa.Column("bucket", sa.Integer, nullable=False),
    sa.Column("shard", sa.SmallInteger, nullable=False),
    sa.Column("count", sa.BigInteger, nullable=False),
    sa.Column("hours", sa.Numeric, nullable=False),
    sa.Index("referral_intake_hours_by_municipality", "municipality", "library"),
    sa.Index("referral_intake_hours_by_library", "library"),
)
# How wide a bucket is: its hours h have floor(ln(1 + h) / ln(BUCKET_RATIO)) in common.
BUCKET_RATIO = 1.02

# A referral is counted by its status and flags; a need by its area.
referral_month_counts = _month_table(
    "referral_month_counts",
    sa.Column("status", sa.Text, nullable=False),
    sa.Column("overdue", sa.Boolean, nullable=False),
    sa.Column("was_overdue", sa.Boolean, nullable=False),
    sa.Column("course_finished", sa.Boolean, nullable=False),
    sa.Column("moved_to_work", sa.Boolean, nullable=False),
    sa.Column("further_education", sa.Boolean, nullable=False),
    sa.Column("anonymised", sa.Boolean, nullable=False),
)
referral_month_need_counts = _month_table("referral_month_need_counts", sa.Column("area", sa.Text))


def _overview(scope: str) -> sa.TextClause:
    """The overview's referral figures in one statement (one round trip instead of seven): per library and per
    partner taking part (as referrer, `by` true, or as receiver) the counters by status with the overdue among
    them, and per library and partner the intakes held with their median hours. `scope` is a fixed condition on
    the read models' municipality and library columns (a prepared statement per shape, so each uses its index).

    The median from the intake histogram: per key its buckets in order with the running count; the middle intake
    (ranks floor((n - 1) / 2) and floor(n / 2), from 0, as percentile_cont takes them) lies in the bucket whose
    running count passes its rank, and is taken as that bucket's mean (exact for a bucket of one value, else within
    the bucket's width, 2 %); two middle intakes in two buckets are averaged."""
    return sa.text(
        f"""
        WITH c AS (SELECT library, referring_partner_id, receiving_partner_id, status, overdue, count
                     FROM referral_month_counts WHERE {scope}),
             i AS (SELECT library, referring_partner_id, receiving_partner_id, bucket, count, hours
                     FROM referral_intake_hours WHERE {scope}),
             party AS (SELECT referring_partner_id::text AS key, true AS by, status, overdue, count
                         FROM c WHERE referring_partner_id IS NOT NULL
                       UNION ALL
                       SELECT receiving_partner_id::text, false, status, overdue, count
                         FROM c WHERE receiving_partner_id IS NOT NULL),
             keyed AS (SELECT 'library' AS side, library AS key, bucket, count, hours FROM i
                       UNION ALL
                       SELECT 'partner', referring_partner_id::text, bucket, count, hours
                         FROM i WHERE referring_partner_id IS NOT NULL
                       UNION ALL
                       SELECT 'partner', receiving_partner_id::text, bucket, count, hours
                         FROM i WHERE receiving_partner_id IS NOT NULL),
             buckets AS (SELECT side, key, bucket, sum(count) AS n, sum(hours) AS hours
                           FROM keyed GROUP BY side, key, bucket HAVING sum(count) > 0),
             running AS (SELECT side, key, n, hours / n AS mean,
                                sum(n) OVER (PARTITION BY side, key ORDER BY bucket) AS upto,
                                sum(n) OVER (PARTITION BY side, key) AS total
                           FROM buckets)
        SELECT 'library' AS side, library AS key, NULL::boolean AS by, status, sum(count) AS number,
               coalesce(sum(count) FILTER (WHERE overdue), 0) AS overdue, NULL::bigint AS intakes,
               NULL::double precision AS median
          FROM c GROUP BY library, status
        UNION ALL
        SELECT 'partner', key, by, status, sum(count), coalesce(sum(count) FILTER (WHERE overdue), 0), NULL, NULL
          FROM party GROUP BY key, by, status
        UNION ALL
        SELECT side, key, NULL, NULL, NULL, NULL, max(total)::bigint,
               avg(mean) FILTER (
                   WHERE (upto - n <= floor((total - 1) / 2) AND floor((total - 1) / 2) < upto)
                      OR (upto - n <= floor(total / 2) AND floor(total / 2) < upto)
               )::double precision
          FROM running GROUP BY side, key
        """
    ).bindparams(*(sa.bindparam(name, type_=sa.Text) for name in ("municipality", "library") if f":{name}" in scope))


# By the scope's shape: a coordinator's municipality (or an operator's choice), a library (staff, or a library
# asked for), both, or everything (an operator without a municipality).
OVERVIEW = {
    (True, False): Prepared("SELECT referral figures of a municipality", _overview("municipality = :municipality")),
    (False, True): Prepared("SELECT referral figures of a library", _overview("library = :library")),
    (True, True): Prepared(
        "SELECT referral figures of a municipality's library",
        _overview("municipality = :municipality AND library = :library"),
    ),
    (False, False): Prepared("SELECT referral figures of every municipality", _overview("true")),
}


def _statistics(scope: str) -> sa.TextClause:
    """The statistics' figures in one statement: per status, per need area, and each flag's count (`kind`,
    `key`, `number`), summed over the counters per month in `scope` (a fixed condition on their party columns,
    and on the months for a period; every month for all time)."""
    flags = {
        "to_partner": "receiving_partner_id IS NOT NULL",
        "overdue_now": "overdue",
        "answered_late": "was_overdue AND status <> 'submitted'",
        "course_finished": "status = 'completed' AND course_finished",
        "moved_to_work": "status = 'completed' AND moved_to_work",
        "further_education": "status = 'completed' AND further_education",
        "anonymised": "anonymised",
    }
    sums = ",\n".join(
        f"coalesce(sum(count) FILTER (WHERE {condition}), 0) AS {name}" for name, condition in flags.items()
    )
    unpivot = "\n".join(f"UNION ALL SELECT '{name}', NULL, {name} FROM f" for name in flags)
    return sa.text(
        f"""
        WITH c AS (SELECT * FROM referral_month_counts WHERE {scope}),
             f AS (SELECT {sums} FROM c)
        SELECT 'status' AS kind, status AS key, sum(count) AS number FROM c GROUP BY status HAVING sum(count) > 0
        UNION ALL
        SELECT 'need', area, sum(count) FROM referral_month_need_counts WHERE {scope}
         GROUP BY area HAVING sum(count) > 0
        {unpivot}
        """
    )


_SCOPES = {
    "staff": "library = :own_library",
    "partner": "(referring_partner_id = :partner OR receiving_partner_id = :partner)",
    "coordinator": "municipality = :municipality",
    "operator": "true",
}
# By the caller's scope and whether one library is asked for: a prepared statement each.
STATISTICS = {
    (role, one_library): Prepared(
        f"SELECT referral statistics ({role}{', a library' if one_library else ''})",
        _statistics(scope + (" AND library = :library" if one_library else "")),
    )
    for role, scope in _SCOPES.items()
    for one_library in (False, True)
}

# For a period of whole months of submission (first and last month, inclusive), from the counters per month.
MONTHS = " AND month BETWEEN :first_month AND :last_month"
PERIOD_STATISTICS = {
    (role, one_library): Prepared(
        f"SELECT referral statistics of months ({role}{', a library' if one_library else ''})",
        _statistics(scope + (" AND library = :library" if one_library else "") + MONTHS),
    )
    for role, scope in _SCOPES.items()
    for one_library in (False, True)
}

# The shards above 0 that hold counters, for the fold (migration 019): one pass over each counter table, once a
# sweep, rather than 63 folds that each look through every table.
SHARDS_TO_FOLD = sa.text(
    """
    SELECT shard FROM referral_month_counts WHERE shard > 0
    UNION SELECT shard FROM referral_month_need_counts WHERE shard > 0
    UNION SELECT shard FROM referral_intake_hours WHERE shard > 0
    ORDER BY shard
    """
)
# One shard's counts onto shard 0's rows in one transaction; false when its lock or shard 0's was busy.
FOLD_SHARD = sa.text("SELECT fold_referral_figures(CAST(:shard AS smallint))")
