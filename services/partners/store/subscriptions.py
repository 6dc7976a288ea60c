"""The SQL of a partner's webhooks and their deliveries (in `store.metadata`): as their use cases change them, and
the delivery worker's own statements (its own connection, in autocommit) that claim and settle the tries."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from services.partners.store import deliveries, webhooks
from shared.contracts.partners.api.feeds import DeliveryStatus

W = webhooks
D = deliveries

# Delivered deliveries past their window go with their tries, in one statement: the tries of a batch of
# delivered deliveries, then the deliveries (the foreign key is checked at
# the statement's end, when both are gone).
PRUNE_DELIVERIES = sa.text(
    "WITH gone AS ("
    " SELECT id FROM deliveries WHERE status = 'delivered' AND delivered_at < :before"
    " ORDER BY delivered_at LIMIT :batch FOR UPDATE SKIP LOCKED),"
    " tries AS (DELETE FROM delivery_attempts a USING gone WHERE a.delivery_id = gone.id)"
    " DELETE FROM deliveries d USING gone WHERE d.id = gone.id"
)


async def add_webhook(session: AsyncSession, **values: Any) -> None:
    await session.execute(W.insert().values(**values))


async def update_webhook(session: AsyncSession, webhook_id: UUID, **values: Any) -> None:
    await session.execute(W.update().where(W.c.id == webhook_id).values(**values))


async def drop_pending(session: AsyncSession, webhook_id: UUID, *, at: datetime, reason: str) -> None:
    """The webhook's deliveries still waiting fail with the reason."""
    await session.execute(
        D.update()
        .where(D.c.webhook_id == webhook_id, D.c.status == DeliveryStatus.PENDING.value)
        .values(status=DeliveryStatus.FAILED.value, failed_at=at, last_error=reason)
    )


async def lock_delivery(session: AsyncSession, partner_id: UUID, webhook_id: UUID, delivery_id: UUID) -> sa.Row | None:
    statement = (
        sa.select(D)
        .where(D.c.id == delivery_id, D.c.webhook_id == webhook_id, D.c.partner_id == partner_id)
        .with_for_update()
    )
    return (await session.execute(statement)).first()


async def update_delivery(session: AsyncSession, delivery_id: UUID, **values: Any) -> sa.Row:
    """The delivery as it is after the change."""
    return (await session.execute(D.update().where(D.c.id == delivery_id).values(**values).returning(*D.c))).one()


async def update_failed_deliveries(session: AsyncSession, webhook_id: UUID, **values: Any) -> int:
    """How many of the webhook's failed deliveries changed."""
    changed = await session.execute(
        D.update()
        .where(D.c.webhook_id == webhook_id, D.c.status == DeliveryStatus.FAILED.value)
        .values(**values)
        .returning(D.c.id)
    )
    return len(changed.all())


# --- the delivery worker's SQL -------------------------------------------------------------------------------

# Claims the due deliveries (a lease, so a worker that dies lets them go) with what a try needs to send, at most
# $4 of one webhook in flight at once: a delivery whose lease runs is in flight (on any replica), and a webhook's
# due deliveries get the places its deliveries in flight leave, oldest first. One slow endpoint with a backlog
# then holds $4 of a relay's places, not all of them, and the others' deliveries are claimed beside it. (A soft
# limit: two replicas claiming at the same instant each count from the same snapshot. The row lock and the
# lease's re-check on it still claim each row once.) Only the webhooks with pending deliveries are visited, one
# probe each (a skip scan of `deliveries_due_by_webhook`, partners migration 019); per webhook its deliveries in
# flight are counted on `deliveries_leased_by_webhook` and its free places taken from the head of its due rows: the
# statement reads about what it claims, not the whole due backlog of a replay nor every webhook there is.
# (The skip scan orders by the index's whole key, which no other index gives; the candidates are looked up by
# their ids as an array, so that no guess of how many they are leads the planner to read the table whole.)
DELIVERIES_CLAIM = """
WITH RECURSIVE pending_webhooks AS (
    (SELECT webhook_id FROM deliveries WHERE status = 'pending' ORDER BY webhook_id, next_attempt_at, id LIMIT 1)
    UNION ALL
    SELECT (SELECT webhook_id FROM deliveries WHERE status = 'pending' AND webhook_id > p.webhook_id
            ORDER BY webhook_id, next_attempt_at, id LIMIT 1)
    FROM pending_webhooks p WHERE p.webhook_id IS NOT NULL
), within_limit AS (
    SELECT due.id
    FROM pending_webhooks p
    CROSS JOIN LATERAL (
        SELECT count(*) AS n FROM deliveries
        WHERE webhook_id = p.webhook_id AND status = 'pending' AND lease_until >= $1 AND next_attempt_at <= $1
    ) in_flight
    CROSS JOIN LATERAL (
        SELECT id FROM deliveries
        WHERE webhook_id = p.webhook_id AND status = 'pending' AND next_attempt_at <= $1
          AND (lease_until IS NULL OR lease_until < $1)
        ORDER BY next_attempt_at, id
        LIMIT greatest($4 - in_flight.n, 0)
    ) due
), claimable AS (
    SELECT id FROM deliveries
    WHERE id = ANY (ARRAY(SELECT id FROM within_limit))
      AND status = 'pending' AND next_attempt_at <= $1 AND (lease_until IS NULL OR lease_until < $1)
    ORDER BY next_attempt_at, id
    LIMIT $2
    FOR UPDATE SKIP LOCKED
), claimed AS (
    UPDATE deliveries d SET lease_until = $3 FROM claimable WHERE d.id = claimable.id
    RETURNING d.id, d.webhook_id, d.partner_id, d.feed_position, d.event_id, d.event_type, d.attempts, d.trace_context
)
SELECT claimed.*, w.url, w.secret, w.previous_secret, w.previous_secret_expires_at,
       f.source, f.subject, f.library AS event_library, f.time AS event_time, f.data
FROM claimed
JOIN webhooks w ON w.id = claimed.webhook_id
JOIN feed_entries f ON f.position = claimed.feed_position
"""
# One try in the delivery's log (numbered on from earlier tries, replays included) ...
DELIVERY_ATTEMPT_LOGGED = """
INSERT INTO delivery_attempts (delivery_id, attempt, at, status_code, error, duration_ms)
SELECT $1, count(*) + 1, $2, $3, $4, $5 FROM delivery_attempts WHERE delivery_id = $1
"""
# ... and the delivery after it: only if nobody replayed or deleted it meanwhile.
DELIVERY_TRIED = """
UPDATE deliveries SET attempts = $2, lease_until = NULL, last_status_code = $3, last_error = $4, status = $5,
    delivered_at = $6, failed_at = $7, next_attempt_at = coalesce($8, next_attempt_at)
WHERE id = $1 AND status = 'pending'
"""
