"""What the mail outbox holds: its messages for operators, newest first and a page at a time, and what waits to be
sent for the gauges."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa

from services.partners.store import notices as notice_store
from shared.contracts.partners.api.notices import ListMail, MailStatus, MailView, NoticeKind
from shared.pagination import Page, keyset_page
from shared.tenancy import Actor, Role
from shared.unit_of_work import UnitOfWork

M = notice_store.mail_outbox


async def list_mail(work: UnitOfWork, actor: Actor, query: ListMail) -> Page[MailView]:
    """Operators only: addresses of staff and partners' people are theirs to see, not other tenants'. Keyset on
    (created_at, id) along the index of migration 013, so a page never shifts while the relay writes new messages."""
    actor.require(Role.OPERATOR)
    async with work.read() as session:
        rows, following = await keyset_page(
            session, sa.select(M), [M.c.created_at, M.c.id], query.cursor, query.limit, descending=True
        )
    return Page(
        items=[
            MailView(
                id=row.id,
                kind=NoticeKind(row.kind),
                recipient=row.recipient,
                subject=row.subject,
                status=MailStatus.SENT if row.sent_at else MailStatus.FAILED if row.failed_at else MailStatus.PENDING,
                attempts=row.attempts,
                created_at=row.created_at,
                sent_at=row.sent_at,
                failed_at=row.failed_at,
                last_error=row.last_error,
            )
            for row in rows
        ],
        next_cursor=following,
    )


async def mail_backlog(work: UnitOfWork) -> tuple[int, datetime | None]:
    """Messages not yet sent nor given up (retries included: a server away shows as a growing backlog)."""
    async with work.read() as session:
        row = (
            await session.execute(
                sa.select(sa.func.count(), sa.func.min(M.c.created_at)).where(
                    M.c.sent_at.is_(None), M.c.failed_at.is_(None)
                )
            )
        ).one()
    return int(row[0]), row[1]
