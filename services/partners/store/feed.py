"""The SQL that fills partners' feeds (in `store.metadata`): an event's entry and whom it reaches (whose course it
names, which volunteer organisations a library's vacancy reaches, the webhook deliveries of a new entry), and the
relay's statements that publish the entries on NATS."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import UUID as PgUUID
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from services.partners.store import (
    deliveries,
    feed_entries,
    feed_horizons,
    known_courses,
    partners,
    partnerships,
)
from shared.consumer import FIRST_TIME_CTE
from shared.contracts.partners.api.feeds import DeliveryStatus, WebhookStatus
from shared.contracts.partners.api.partnerships import PartnershipRole, PartnershipStatus
from shared.db import DirectConnection, DirectRow, Prepared, driver_sql
from shared.relay import RELAYS_WOKEN

# --- events into the feeds (every feed consumer; the referral events' a batch at a time), in asyncpg's SQL
# (shared/db.py driver_sql): one statement for the partners named, one for the entries, instead of two compiled by
# SQLAlchemy for every event and partner. JSON goes as text both ways.

COURSE_PROVIDERS = "SELECT course_id, partner_id FROM known_courses WHERE course_id = ANY($1::uuid[])"
FEED_TARGETS = (
    "SELECT p.id, p.status, p.feed_key,"
    " (json_agg(json_build_object('id', w.id, 'event_types', w.event_types)) FILTER (WHERE w.id IS NOT NULL))::text"
    " AS webhooks"
    " FROM partners p LEFT JOIN webhooks w"
    f" ON w.partner_id = p.id AND w.status = '{WebhookStatus.ACTIVE.value}' AND w.deleted_at IS NULL"
    " WHERE p.id = ANY($1::uuid[]) GROUP BY p.id"
)
# In the batch's order (WITH ORDINALITY … ORDER BY), so positions follow the stream as one by one they did.
APPEND_ENTRIES = (
    "INSERT INTO feed_entries (partner_id, event_id, event_type, time, library, data, source, subject, trace_context)"
    " SELECT e.partner_id, e.event_id, e.event_type, e.time, e.library, e.data::jsonb, e.source, e.subject,"
    " e.trace_context::jsonb"
    " FROM unnest($1::uuid[], $2::uuid[], $3::text[], $4::timestamptz[], $5::text[], $6::text[], $7::text[],"
    " $8::text[], $9::text[])"
    " WITH ORDINALITY AS e(partner_id, event_id, event_type, time, library, data, source, subject, trace_context, n)"
    " ORDER BY e.n"
    " ON CONFLICT DO NOTHING RETURNING position, partner_id, event_id"
)
ENTRY_COLUMNS = (
    "partner_id",
    "event_id",
    "event_type",
    "time",
    "library",
    "data",
    "source",
    "subject",
    "trace_context",
)


# --- the referral events' feed consumer: a batch in one statement with its inbox rows (shared/consumer.py
# StatementHandler), after its reads, on the service's direct connections in autocommit: no BEGIN, inbox or COMMIT
# round trips of their own, no SQLAlchemy session (issue 17: where someone waits for the entry on NATS).

COURSE_PROVIDERS_DIRECT = Prepared(
    "SELECT known_courses", sa.text(COURSE_PROVIDERS.replace("$1::uuid[]", "CAST(:course_ids AS uuid[])"))
)
FEED_TARGETS_DIRECT = Prepared(
    "SELECT feed targets", sa.text(FEED_TARGETS.replace("$1::uuid[]", "CAST(:partner_ids AS uuid[])"))
)
# The inbox rows (`first_time`), the entries of the events not handled before (in the batch's order, as
# APPEND_ENTRIES), a delivery per webhook that wants a new entry (joined to it for its position), and the setting
# that says which relays the writer wakes itself: the main query runs before the statement's AFTER triggers fire,
# the feed's and the deliveries' NOTIFY among them (shared/relay.py RELAYS_WOKEN). How many entries were new.
WRITE_FEED_BATCH = Prepared(
    "INSERT feed batch",
    sa.text(
        f"WITH {FIRST_TIME_CTE},"
        " entries AS ("
        "  INSERT INTO feed_entries (partner_id, event_id, event_type, time, library, data, source, subject,"
        "   trace_context)"
        "  SELECT e.partner_id, e.event_id, e.event_type, e.time, e.library, e.data::jsonb, e.source, e.subject,"
        "   e.trace_context::jsonb"
        "  FROM unnest(CAST(:partner_id AS uuid[]), CAST(:event_id AS uuid[]), CAST(:event_type AS text[]),"
        "   CAST(:time AS timestamptz[]), CAST(:library AS text[]), CAST(:data AS text[]), CAST(:source AS text[]),"
        "   CAST(:subject AS text[]), CAST(:trace_context AS text[]))"
        "  WITH ORDINALITY AS e(partner_id, event_id, event_type, time, library, data, source, subject, trace_context,"
        "   n)"
        "  WHERE e.event_id IN (SELECT event_id FROM first_time)"
        "  ORDER BY e.n"
        "  ON CONFLICT DO NOTHING RETURNING position, partner_id, event_id"
        " ),"
        " delivered AS ("
        "  INSERT INTO deliveries (id, webhook_id, partner_id, feed_position, event_id, event_type, status, attempts,"
        "   next_attempt_at, trace_context, created_at)"
        "  SELECT d.id, d.webhook_id, d.partner_id, w.position, d.event_id, d.event_type, :pending, 0, :now,"
        "   d.trace_context::jsonb, :now"
        "  FROM unnest(CAST(:delivery_id AS uuid[]), CAST(:delivery_webhook_id AS uuid[]),"
        "   CAST(:delivery_partner_id AS uuid[]), CAST(:delivery_event_id AS uuid[]),"
        "   CAST(:delivery_event_type AS text[]), CAST(:delivery_trace_context AS text[]))"
        "   AS d(id, webhook_id, partner_id, event_id, event_type, trace_context)"
        "  JOIN entries w ON w.partner_id = d.partner_id AND w.event_id = d.event_id"
        "  ON CONFLICT DO NOTHING"
        " )"
        " SELECT set_config(:relays_woken_setting, :relays_woken, true) AS woken,"
        " (SELECT count(*) FROM entries) AS written"
    ),
)
DELIVERY_COLUMNS = ("id", "webhook_id", "partner_id", "event_id", "event_type", "trace_context")


async def course_providers_of(connection: DirectConnection, course_ids: list[UUID]) -> dict[UUID, UUID]:
    rows = await connection.fetch(COURSE_PROVIDERS_DIRECT, course_ids=course_ids)
    return {row.course_id: row.partner_id for row in rows}


async def feed_targets_of(connection: DirectConnection, partner_ids: list[UUID]) -> dict[UUID, DirectRow]:
    """`feed_targets` on a direct connection."""
    return {row.id: row for row in await connection.fetch(FEED_TARGETS_DIRECT, partner_ids=partner_ids)}


async def write_feed_batch(
    connection: DirectConnection,
    consumer: str,
    event_ids: list[UUID],
    entries: list[dict[str, Any]],
    deliveries: list[dict[str, Any]],
    *,
    now: datetime,
    relays_woken: str,
) -> int:
    """A batch's inbox rows for `consumer`, its entries (ENTRY_COLUMNS, JSON as text) of the events not handled
    before and the deliveries (DELIVERY_COLUMNS) of the entries that are new, in one statement; `relays_woken` the
    value of RELAYS_WOKEN for it. How many entries were new."""
    row = await connection.fetchrow(
        WRITE_FEED_BATCH,
        consumer=consumer,
        event_ids=event_ids,
        **{name: [entry[name] for entry in entries] for name in ENTRY_COLUMNS},
        **{f"delivery_{name}": [delivery[name] for delivery in deliveries] for name in DELIVERY_COLUMNS},
        pending=DeliveryStatus.PENDING.value,
        now=now,
        relays_woken_setting=RELAYS_WOKEN,
        relays_woken=relays_woken,
    )
    assert row is not None
    return int(row.written)


async def course_providers(session: AsyncSession, course_ids: list[UUID]) -> dict[UUID, UUID]:
    return {row.course_id: row.partner_id for row in await driver_sql(session, COURSE_PROVIDERS, course_ids)}


async def feed_targets(session: AsyncSession, partner_ids: list[UUID]) -> dict[UUID, sa.Row[Any]]:
    """What writing events into partners' feeds needs, by partner: its status, its feed key (for its own
    pseudonyms) and its active webhooks with the event types each wants (`webhooks` as JSON text, NULL where none)."""
    return {row.id: row for row in await driver_sql(session, FEED_TARGETS, partner_ids)}


async def append_entries(session: AsyncSession, entries: list[dict[str, Any]]) -> dict[tuple[UUID, UUID], int]:
    """Each new entry's position by (partner, event); an entry the partner has already is left out."""
    columns = [[entry[name] for entry in entries] for name in ENTRY_COLUMNS]
    rows = await driver_sql(session, APPEND_ENTRIES, *columns)
    return {(row.partner_id, row.event_id): row.position for row in rows}


async def remember_course(session: AsyncSession, course_id: UUID, partner_id: UUID) -> None:
    await session.execute(
        insert(known_courses)
        .values(course_id=course_id, partner_id=partner_id)
        .on_conflict_do_update(index_elements=["course_id"], set_={"partner_id": partner_id})
    )


async def volunteer_suppliers_of(session: AsyncSession, library: str | None) -> list[UUID]:
    """The partners with an active partnership with the library in which they supply volunteers."""
    S = partnerships
    statement = (
        sa.select(S.c.partner_id)
        .where(
            S.c.library == library,
            S.c.status == PartnershipStatus.ACTIVE.value,
            S.c.roles.contains([PartnershipRole.VOLUNTEER_SUPPLIER.value]),
        )
        .distinct()
    )
    return list((await session.execute(statement)).scalars())


async def add_deliveries(session: AsyncSession, rows: list[dict[str, Any]]) -> None:
    """A delivery per webhook of an entry; one there already (the same event again) stays."""
    await session.execute(insert(deliveries).values(rows).on_conflict_do_nothing())


# --- the relay's SQL (shared/relay.py: its own connection, in autocommit) ------------------------------------

# Unpublished entries in position order, up to the first one the publisher may not send yet: one a writer that still
# runs may have taken a position before (it waits, with all after it), so that NATS, like the HTTP feed, never shows
# a position before an earlier one. A function of the schema (migrations 016, 017), in one round trip: how far every
# position is settled (feed_settled_through: the highest position taken, or the lowest a writer that still runs
# named in its lock, pg_locks), then, in a snapshot taken after it, the entries up to there. At least one row, whose
# `first_unsettled` is the first position held back (NULL if none) and whose entry columns are NULL when no entry
# may go yet. (Until migration 015 every transaction of the server older than an entry's writer held it back; 015
# only writers of entries, by their ids.)
FEED_PENDING = "SELECT * FROM feed_pending($1)"
FEED_MARK_PUBLISHED = "UPDATE feed_entries SET published_at = $2 WHERE position = ANY($1::bigint[])"
# A batch published whole: its mark and the read of the next batch in one statement, one round trip (migration 018).
# The read leaves out the positions being marked (its snapshot may still show them unpublished); an earlier position
# whose writer commits later is still found.
FEED_MARK_PUBLISHED_AND_NEXT = (
    "WITH marked AS (UPDATE feed_entries SET published_at = $2 WHERE position = ANY($1::bigint[]))"
    " SELECT * FROM feed_pending($3, $1::bigint[])"
)

# --- retention (services/partners/commands/retention.py) -----------------------------------------------------

# A batch of entries past the window, the oldest first (feed_entries_by_age), and each partner's horizon raised to
# the highest position that went, in the same transaction. An entry stays while the relay still owes it to NATS or
# a webhook delivery still needs it (pending, or failed and waiting for the partner's replay); rows a writer
# holds are skipped, not waited for. The count of the entries that went.
PRUNE_FEED = sa.text(
    """
    WITH gone AS (
        DELETE FROM feed_entries WHERE position IN (
            SELECT f.position FROM feed_entries f
             WHERE f.time < :before AND f.published_at IS NOT NULL
               AND NOT EXISTS (SELECT 1 FROM deliveries d WHERE d.feed_position = f.position)
             ORDER BY f.time LIMIT :batch FOR UPDATE SKIP LOCKED)
        RETURNING partner_id, position
    ),
    raised AS (
        INSERT INTO feed_horizons AS h (partner_id, pruned_through)
        SELECT partner_id, max(position) FROM gone GROUP BY partner_id
        ON CONFLICT (partner_id) DO UPDATE SET pruned_through = greatest(h.pruned_through, excluded.pruned_through)
    )
    SELECT count(*) FROM gone
    """
)


def _feed_page() -> sa.Select[Any]:
    """A page of a partner's feed after a position, and whether the partner exists: one row per entry, or one row
    without an entry (its `position` NULL) for a partner whose page is empty, or no row for no such partner. Each
    row carries the partner's horizon (`pruned_through`, NULL while nothing was pruned), read in the same snapshot
    as the entries."""
    e = feed_entries
    page = (
        sa.select(e.c.position, e.c.event_id, e.c.event_type, e.c.time, e.c.library, e.c.data)
        .where(
            # A range of one partner rather than `=`, ordered by (partner, position): with `=` PostgreSQL may walk
            # `feed_entries_pkey` in position order and filter out every other partner's entries before this
            # one's (303 ms at two partners of 200,000 entries, issue 25); this order only `feed_entries_by_partner`
            # gives (0.5 ms). The same rows.
            e.c.partner_id.between(partners.c.id, partners.c.id),
            e.c.position > sa.bindparam("after", type_=sa.BigInteger),
            # Up to where every position is settled (FEED_SETTLED_THROUGH, read before this statement): an entry
            # shown before an earlier one commits would let `after` pass the earlier one for good.
            e.c.position <= sa.bindparam("through", type_=sa.BigInteger),
        )
        .order_by(e.c.partner_id, e.c.position)
        .limit(sa.bindparam("limit", type_=sa.Integer))
        .lateral("page")
    )
    h = feed_horizons
    return (
        sa.select(partners.c.id.label("partner_id"), h.c.pruned_through, *page.c)
        .select_from(partners.outerjoin(h, h.c.partner_id == partners.c.id).outerjoin(page, sa.true()))
        .where(partners.c.id == sa.bindparam("partner_id", type_=PgUUID(as_uuid=True)))
        .order_by(page.c.position)
    )


# The feed every partner system polls: read on a direct connection (shared/db.py DirectReads), in two round trips:
# how far every position is settled (migration 017), then the page up to there, in a snapshot taken after it.
FEED_SETTLED_THROUGH = Prepared("SELECT feed_settled_through", sa.text("SELECT feed_settled_through() AS through"))
READ_FEED_PAGE = Prepared("SELECT feed_entries", _feed_page())


async def read_feed_page(db: DirectConnection, partner_id: UUID, after: int, limit: int) -> list[DirectRow]:
    """A page of a partner's feed after a position (`_feed_page`), only entries no earlier one can still join."""
    settled = await db.fetchrow(FEED_SETTLED_THROUGH)
    assert settled is not None
    return await db.fetch(READ_FEED_PAGE, partner_id=partner_id, after=after, limit=limit, through=settled.through)
