"""Volunteers' personal data over time: rows from before sealing sealed, and (later in this module) retention,
erasure on request, export and key rotation."""

from __future__ import annotations

import logging

from services.volunteers.store import personal_data
from services.volunteers.store.personal_data import PersonVault
from shared.unit_of_work import UnitOfWork

log = logging.getLogger(__name__)

BATCH = 200  # rows per transaction; the periodic job comes back for the rest


async def seal_clear_rows(work: UnitOfWork, vault: PersonVault) -> int:
    """Rows written in clear by a version before sealing (migration 003), sealed in batches."""
    total = 0
    while True:
        async with work.transaction() as tx:
            sealed = await personal_data.seal_clear_rows(tx.session, vault, BATCH)
        total += sealed
        if sealed < BATCH:
            break
    if total:
        log.info("sealed the personal data of %d rows written in clear", total)
    return total
