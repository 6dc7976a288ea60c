"""Retention of the plumbing every service has: sent outbox rows and inbox rows go once their window has passed.

The windows, and why they are this long (README, *Settings*):
- a sent outbox row is kept `outbox_retention_days` (30) after it was sent, so that `partnernet republish
  --since` can publish that range again after a broker lost it. Far beyond JetStream's de-duplication window
  (shared/messaging.py, 10 minutes), which only covers the relay's own retry after a lost ack;
- an inbox row is kept `inbox_retention_days` (90) after its event was handled. It must outlive every way the
  same event can arrive again: a republish of an outbox row (up to the outbox's window after the event) that then
  stays in its stream for the stream's `max_age` (30 days), where a consumer that is created again reads it.
  An event set aside as a dead letter can be replayed (`partnernet deadletters replay`) as long as the dead-letter
  stream keeps it (90 days, shared/messaging.py), and the consumer it names skips it if it handled the event
  meanwhile: the inbox row must still be there. `windows()` refuses settings under either, so the inbox's
  exactly-once guarantee holds for every event that can still be delivered.
- an `Idempotency-Key` row (shared/idempotency.py) is kept `idempotency_retention_hours` (24) after the call
  that made it: a client's retry within that window is answered with the first reply, a later one runs anew.

Rows go in small batches, each its own short transaction, the oldest first through an index (migration
kernel/003), and rows a writer holds are skipped (`SKIP LOCKED`) rather than waited for: the relay and the
consumers never wait on the sweep. A sweep that finds nothing costs one index probe per table.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa

from shared.idempotency import PRUNE_KEYS
from shared.messaging import DEAD_LETTER_STREAM, DUPLICATE_WINDOW_SECONDS, STREAMS
from shared.settings import Settings
from shared.unit_of_work import UnitOfWork

log = logging.getLogger(__name__)

RETENTION_SWEEP_SECONDS = 600.0
BATCH = 1000
# Per table and sweep: a backlog (the first sweep on a database that never pruned) is worked off over sweeps.
MAX_BATCHES = 100

PRUNE_OUTBOX = sa.text(
    "DELETE FROM outbox WHERE position IN ("
    " SELECT position FROM outbox WHERE sent_at < :before ORDER BY sent_at LIMIT :batch FOR UPDATE SKIP LOCKED)"
)
PRUNE_INBOX = sa.text(
    "DELETE FROM inbox WHERE (consumer, event_id) IN ("
    " SELECT consumer, event_id FROM inbox WHERE processed_at < :before ORDER BY processed_at LIMIT :batch"
    " FOR UPDATE SKIP LOCKED)"
)


def longest_stream_age() -> timedelta:
    """How long JetStream keeps events (the event streams'; the dead letters are replayed by hand)."""
    return timedelta(seconds=max(s.max_age_seconds for s in STREAMS if s.name.startswith("EVENTS_")))


def dead_letter_age() -> timedelta:
    """How long a dead letter can be replayed: as long as its stream keeps it."""
    return timedelta(seconds=next(s.max_age_seconds for s in STREAMS if s.name == DEAD_LETTER_STREAM))


@dataclass(frozen=True)
class Windows:
    outbox: timedelta
    inbox: timedelta
    idempotency: timedelta = timedelta(hours=24)


def windows(settings: Settings) -> Windows:
    """The configured windows, refused at start when they would break a guarantee."""
    outbox = timedelta(days=settings.outbox_retention_days)
    inbox = timedelta(days=settings.inbox_retention_days)
    if outbox.total_seconds() <= DUPLICATE_WINDOW_SECONDS:
        raise ValueError(
            f"PARTNERNET_OUTBOX_RETENTION_DAYS must exceed JetStream's de-duplication window "
            f"({DUPLICATE_WINDOW_SECONDS:.0f} s)"
        )
    needed = outbox + longest_stream_age()
    if inbox < needed:
        raise ValueError(
            f"PARTNERNET_INBOX_RETENTION_DAYS must be at least the outbox's window plus the streams' age "
            f"({needed.days} days): an event republished from the outbox stays that long in its stream, and a "
            "consumer reading it again must still find it in its inbox"
        )
    if inbox < dead_letter_age():
        raise ValueError(
            f"PARTNERNET_INBOX_RETENTION_DAYS must be at least the dead letters' age ({dead_letter_age().days} "
            "days): a dead letter replayed that late must still be recognised by a consumer that handled it"
        )
    idempotency = timedelta(hours=settings.idempotency_retention_hours)
    if idempotency <= timedelta(0):
        raise ValueError("PARTNERNET_IDEMPOTENCY_RETENTION_HOURS must be more than 0")
    return Windows(outbox=outbox, inbox=inbox, idempotency=idempotency)


async def prune(work: UnitOfWork, statement: sa.TextClause, before: datetime, *, batch: int = BATCH) -> int:
    """Delete what `statement` selects before `before`, a batch per transaction, until a batch comes up short."""
    deleted = 0
    for _ in range(MAX_BATCHES):
        async with work.transaction() as tx:
            result = await tx.session.execute(statement, {"before": before, "batch": batch})
        # A statement that says itself how many went (one row, one count), or a plain DELETE's row count.
        count = int(result.scalar_one()) if result.returns_rows else result.rowcount  # type: ignore[attr-defined]
        deleted += count
        if count < batch:
            break
    return deleted


async def prune_plumbing(work: UnitOfWork, windows: Windows, *, batch: int = BATCH) -> dict[str, int]:
    """The service's periodic sweep: sent outbox rows, inbox rows and Idempotency-Key rows past their windows."""
    now = work.clock.now()
    pruned = {
        "outbox": await prune(work, PRUNE_OUTBOX, now - windows.outbox, batch=batch),
        "inbox": await prune(work, PRUNE_INBOX, now - windows.inbox, batch=batch),
        "idempotency_keys": await prune(work, PRUNE_KEYS, now - windows.idempotency, batch=batch),
    }
    if any(pruned.values()):
        log.info("pruned the plumbing past its retention", extra={"pruned": pruned})
    return pruned
