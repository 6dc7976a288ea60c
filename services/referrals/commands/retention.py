"""An erased referral's trail does not stay for ever: its history and its access log go
PARTNERNET_TRAIL_RETENTION_DAYS after the participant's data was erased (README, *Privacy*).

Until the erasure both stay with the referral: the history is its course, the access log what the person's export
shows of who read their data. After it neither names anyone, and the person can no longer be found to be shown
them; they are kept for the window so that a complaint about a read or an incident can still be looked into,
then deleted. The referral itself stays, nameless, for the figures (status, needs, dates, outcome).
"""

from __future__ import annotations

import logging
from datetime import timedelta

from services.referrals.store.retention import PRUNE_TRAILS
from shared.retention import prune
from shared.unit_of_work import UnitOfWork

log = logging.getLogger(__name__)

# Referrals a transaction: each brings its few history lines and reads.
BATCH = 200


async def prune_erased_trails(work: UnitOfWork, window: timedelta, *, batch: int = BATCH) -> int:
    pruned = await prune(work, PRUNE_TRAILS, work.clock.now() - window, batch=batch)
    if pruned:
        log.info("pruned the history and access log of %d referrals erased past the trail's retention", pruned)
    return pruned
