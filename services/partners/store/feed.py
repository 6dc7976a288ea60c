"""The SQL that fills partners' feeds (in `store.metadata`): whose course an event names, which volunteer
organisations a library's vacancy reaches, and the webhook deliveries of a new feed entry."""

from __future__ import annotations

from typing import Any
from uuid import UUID

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from services.partners.store import deliveries, known_courses, partnerships
from shared.contracts.partners.api.partnerships import PartnershipRole, PartnershipStatus


async def course_provider(session: AsyncSession, course_id: UUID) -> UUID | None:
    c = known_courses
    return (await session.execute(sa.select(c.c.partner_id).where(c.c.course_id == course_id))).scalar_one_or_none()


async def remember_course(session: AsyncSession, course_id: UUID, partner_id: UUID) -> None:
    await session.execute(
        insert(known_courses)
        .values(course_id=course_id, partner_id=partner_id)
        .on_conflict_do_update(index_elements=["course_id"], set_={"partner_id": partner_id})
    )


async def volunteer_suppliers_of(session: AsyncSession, library: str | None) -> list[UUID]:
    """The partners with an active partnership with the library in which they supply volunteers."""
    S = partnerships
    statement = (
        sa.select(S.c.partner_id)
        .where(
            S.c.library == library,
            S.c.status == PartnershipStatus.ACTIVE.value,
            S.c.roles.contains([PartnershipRole.VOLUNTEER_SUPPLIER.value]),
        )
        .distinct()
    )
    return list((await session.execute(statement)).scalars())


async def add_deliveries(session: AsyncSession, rows: list[dict[str, Any]]) -> None:
    """A delivery per webhook of an entry; one there already (the same event again) stays."""
    await session.execute(insert(deliveries).values(rows).on_conflict_do_nothing())
