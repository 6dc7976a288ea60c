"""The access log: who read which participant's personal data in the caller's library, newest first."""

from __future__ import annotations

import sqlalchemy as sa

from services.referrals import domain
from services.referrals.queries.referral import access_entry, may_read_personal_data
from services.referrals.store import find_referral, personal_data_reads
from shared.contracts.referrals.api.participant_data import AccessLogEntry, ListAccessLog
from shared.errors import InvalidInput, NotFound
from shared.pagination import Page, decode_cursor, encode_cursor
from shared.tenancy import Actor
from shared.unit_of_work import UnitOfWork


async def list_access_log(work: UnitOfWork, actor: Actor, query: ListAccessLog) -> Page[AccessLogEntry]:
    """Newest first: who read which participant's personal data in the caller's library."""
    domain.check_may_manage_personal_data(actor)
    conditions = [personal_data_reads.c.library == actor.library]
    if query.referral_id is not None:
        conditions.append(personal_data_reads.c.referral_id == query.referral_id)
    key = decode_cursor(query.cursor)
    if key is not None:
        if len(key) != 1 or not isinstance(key[0], int):
            raise InvalidInput("the cursor is not valid")
        conditions.append(personal_data_reads.c.id < key[0])
    statement = (
        sa.select(personal_data_reads)
        .where(*conditions)
        .order_by(personal_data_reads.c.id.desc())
        .limit(query.limit + 1)
    )
    async with work.read() as session:
        if query.referral_id is not None:
            referral = await find_referral(session, query.referral_id)
            # Another library's referral answers like a missing one: its log is not this library's to read.
            # (No id in the answer: it may have come as a filter of the library's whole log.)
            if referral is None or not may_read_personal_data(actor, referral):
                raise NotFound("referral not found")
        rows = list((await session.execute(statement)).all())
    page = rows[: query.limit]
    next_cursor = encode_cursor(page[-1].id) if len(rows) > query.limit else None
    return Page(items=[access_entry(row) for row in page], next_cursor=next_cursor)
