"""Delivered webhook deliveries do not stay for ever: after their window they go with their tries.

Only delivered ones: a pending delivery is still being tried, and a failed one waits for its partner to replay it
(`POST /api/v1/webhooks/{id}/deliveries/{id}/replay`). The feed entry a delivery sent stays: it is the partner's
feed, whose cursor never skips an entry. A batch per transaction, rows the webhook worker holds skipped.
"""

from __future__ import annotations

import logging
from datetime import timedelta

from services.partners.store.notices import PRUNE_MAIL
from services.partners.store.subscriptions import PRUNE_DELIVERIES
from shared.retention import BATCH, prune
from shared.unit_of_work import UnitOfWork

log = logging.getLogger(__name__)


async def prune_delivered(work: UnitOfWork, window: timedelta, *, batch: int = BATCH) -> int:
    pruned = await prune(work, PRUNE_DELIVERIES, work.clock.now() - window, batch=batch)
    if pruned:
        log.info("pruned %d delivered webhook deliveries past their retention", pruned)
    return pruned


async def prune_mail(work: UnitOfWork, window: timedelta, *, batch: int = BATCH) -> int:
    pruned = await prune(work, PRUNE_MAIL, work.clock.now() - window, batch=batch)
    if pruned:
        log.info("pruned %d sent or failed notices past their retention", pruned)
    return pruned
