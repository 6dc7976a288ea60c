"""The SQL of a partner's webhooks and their deliveries (in `store.metadata`), as their use cases change them;
the delivery worker's own statements stay beside the tables (`store.PENDING_DELIVERIES` …)."""

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
