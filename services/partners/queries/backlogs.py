"""What waits to go out to partners, for the service's gauges: feed entries not yet on NATS, webhook deliveries due."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa

from services.partners import store
from shared.contracts.partners.api.feeds import DeliveryStatus
from shared.unit_of_work import UnitOfWork


async def feed_backlog(work: UnitOfWork) -> tuple[int, datetime | None]:
    """Feed entries not yet published on their partner's NATS subject, and the oldest one's event time."""
    entries = store.feed_entries
    async with work.read() as session:
        row = (
            await session.execute(
                sa.select(sa.func.count(), sa.func.min(entries.c.time)).where(entries.c.published_at.is_(None))
            )
        ).one()
    return int(row[0]), row[1]


async def webhook_backlog(work: UnitOfWork) -> tuple[int, datetime | None]:
    """Deliveries due now and not yet tried (a worker's backlog, not a partner's retries), and since when."""
    deliveries = store.deliveries
    async with work.read() as session:
        row = (
            await session.execute(
                sa.select(sa.func.count(), sa.func.min(deliveries.c.next_attempt_at)).where(
                    deliveries.c.status == DeliveryStatus.PENDING.value,
                    deliveries.c.next_attempt_at <= sa.func.now(),
                    sa.or_(deliveries.c.lease_until.is_(None), deliveries.c.lease_until < sa.func.now()),
                )
            )
        ).one()
    return int(row[0]), row[1]
