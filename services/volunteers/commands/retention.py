"""An anonymised person's access log does not stay for ever: it goes PARTNERNET_TRAIL_RETENTION_DAYS after the
anonymisation (README, *Privacy*), as the referrals service's does. Until then it is what their export shows and,
after, what a complaint about a read can still be checked against; the anonymised record itself stays."""

from __future__ import annotations

import logging
from datetime import timedelta

from services.volunteers.store.access_log import PRUNE_TRAILS
from shared.retention import prune
from shared.unit_of_work import UnitOfWork

log = logging.getLogger(__name__)

BATCH = 200  # people a transaction, each with their reads


async def prune_erased_trails(work: UnitOfWork, window: timedelta, *, batch: int = BATCH) -> int:
    pruned = await prune(work, PRUNE_TRAILS, work.clock.now() - window, batch=batch)
    if pruned:
        log.info("pruned the access log of %d people anonymised past the trail's retention", pruned)
    return pruned
