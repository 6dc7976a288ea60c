"""The SQL of notices by e-mail (in `store.metadata`, migration 008): a person's choice, and the mail outbox's
pruning once a message was sent or given up."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from services.partners.store import notice_preferences

P = notice_preferences

# Notices by e-mail, once sent or given up: they name staff's and partners' people's addresses, which stay no
# longer than the window (a pending one is still being tried and stays).
PRUNE_MAIL = sa.text(
    "WITH gone AS ("
    " SELECT id FROM mail_outbox WHERE created_at < :before AND (sent_at IS NOT NULL OR failed_at IS NOT NULL)"
    " ORDER BY created_at LIMIT :batch FOR UPDATE SKIP LOCKED)"
    " DELETE FROM mail_outbox m USING gone WHERE m.id = gone.id"
)


async def find_preferences(session: AsyncSession, subject: str, *, lock: bool = False) -> sa.Row[Any] | None:
    statement = sa.select(P).where(P.c.subject == subject)
    if lock:
        statement = statement.with_for_update()
    return (await session.execute(statement)).first()


async def save_preferences(session: AsyncSession, subject: str, *, first: bool, **values: Any) -> None:
    """The person's first choice, or a new version of it."""
    if first:
        await session.execute(P.insert().values(subject=subject, **values))
    else:
        await session.execute(P.update().where(P.c.subject == subject).values(**values))
