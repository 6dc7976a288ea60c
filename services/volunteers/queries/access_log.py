"""Who read volunteers' personal data: the library's log, or one person's, for the library's staff."""

from __future__ import annotations

from uuid import UUID

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from services.volunteers import store
from services.volunteers.domain import retention
from services.volunteers.store.access_log import volunteer_data_reads
from shared.contracts.volunteers.api.access_log import ListVolunteerReads, VolunteerReadEntry, VolunteerReadPurpose
from shared.errors import NotFound
from shared.pagination import Page, keyset_page
from shared.tenancy import Actor
from shared.unit_of_work import UnitOfWork


def read_entry(row: sa.Row) -> VolunteerReadEntry:
    return VolunteerReadEntry(
        id=row.id,
        volunteer_id=row.volunteer_id,
        library=row.library,
        actor=row.actor,
        actor_role=row.actor_role,
        actor_organisation=row.actor_organisation,
        purpose=VolunteerReadPurpose(row.purpose),
        at=row.at,
    )


async def reads_of(session: AsyncSession, volunteer_id: UUID) -> list[VolunteerReadEntry]:
    """Every read of one person's data, oldest first (for their export)."""
    r = volunteer_data_reads
    rows = (await session.execute(sa.select(r).where(r.c.volunteer_id == volunteer_id).order_by(r.c.id))).all()
    return [read_entry(row) for row in rows]


async def list_volunteer_reads(work: UnitOfWork, actor: Actor, query: ListVolunteerReads) -> Page[VolunteerReadEntry]:
    """Newest first. Staff of the person's library only: the log says whose data was read, which is theirs to know."""
    library = retention.check_may_handle_personal_data(actor)
    r = volunteer_data_reads
    statement = sa.select(r).where(r.c.library == library)
    async with work.read() as session:
        if query.volunteer_id is not None:
            row = await store.find(session, store.volunteers, query.volunteer_id)
            if row is None or row.library != library:
                raise NotFound("volunteer not found")  # no id: it may have come as a filter of the whole log
            statement = statement.where(r.c.volunteer_id == query.volunteer_id)
        rows, next_cursor = await keyset_page(session, statement, [r.c.id], query.cursor, query.limit, descending=True)
    return Page(items=[read_entry(row) for row in rows], next_cursor=next_cursor)
