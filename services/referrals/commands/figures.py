"""The figures' counters folded back to shard 0 (migration 019), a periodic sweep of the referrals service.

A burst of submissions spreads a cell's count over up to 64 shard rows (migration 017: each writer takes a shard
no other transaction holds), and every read of the statistics and the overview sums them all. The sweep moves each
shard's counts onto shard 0, a shard per transaction, so a reader sees the figures before or after a move, both
exact. A shard a writer holds (or shard 0, when a writer holds it) is skipped and folded by a later sweep: the
fold never waits for a submission, and a submission never waits for the fold.
"""

from __future__ import annotations

import logging

from services.referrals.store.figures import FOLD_SHARD, SHARDS_TO_FOLD
from shared.unit_of_work import UnitOfWork

log = logging.getLogger(__name__)

FIGURES_FOLD_SECONDS = 60.0


async def fold_figure_shards(work: UnitOfWork) -> tuple[int, int]:
    """Fold every shard above 0 whose lock is free into shard 0: (shards folded, shards skipped as busy)."""
    async with work.transaction() as tx:
        shards = list((await tx.session.execute(SHARDS_TO_FOLD)).scalars())
    folded = skipped = 0
    for shard in shards:
        async with work.transaction() as tx:
            done = bool((await tx.session.execute(FOLD_SHARD, {"shard": shard})).scalar_one())
        folded, skipped = (folded + 1, skipped) if done else (folded, skipped + 1)
    if folded or skipped:
        log.info("folded the figures' counters of %d shards into shard 0, %d busy ones left", folded, skipped)
    return folded, skipped
