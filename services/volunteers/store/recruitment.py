"""The SQL of recruitment's tables (in `store.metadata`): vacancies, volunteers and interns with their history,
internships and certificates of conduct."""

from __future__ import annotations

from datetime import date
from typing import Any
from uuid import UUID

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from services.volunteers.store import certificates, internships, vacancies, volunteer_history, volunteers
from shared.contracts.volunteers.events import VolunteerKind


async def add_vacancy(session: AsyncSession, **values: Any) -> None:
    await session.execute(vacancies.insert().values(**values))


async def update_vacancy(session: AsyncSession, vacancy_id: UUID, **values: Any) -> None:
    await session.execute(vacancies.update().where(vacancies.c.id == vacancy_id).values(**values))


async def add_volunteer(session: AsyncSession, **values: Any) -> None:
    await session.execute(volunteers.insert().values(**values))


async def update_volunteer(session: AsyncSession, volunteer_id: UUID, **values: Any) -> None:
    await session.execute(volunteers.update().where(volunteers.c.id == volunteer_id).values(**values))


async def add_history(session: AsyncSession, **values: Any) -> None:
    await session.execute(volunteer_history.insert().values(**values))


async def add_internship(session: AsyncSession, **values: Any) -> None:
    await session.execute(internships.insert().values(**values))


async def update_internship(session: AsyncSession, volunteer_id: UUID, **values: Any) -> None:
    await session.execute(internships.update().where(internships.c.volunteer_id == volunteer_id).values(**values))


async def interns_past_their_period(session: AsyncSession, running: list[str], today: date, batch: int) -> list[sa.Row]:
    """Interns still in a running status whose internship ended before today, locked (others' locks skipped)."""
    v, i = volunteers, internships
    statement = (
        sa.select(v, i.c.school_partner_id, i.c.ends_on)
        .join(i, i.c.volunteer_id == v.c.id)
        .where(v.c.kind == VolunteerKind.INTERN.value, v.c.status.in_(running), i.c.ends_on < today)
        .order_by(i.c.ends_on, v.c.id)
        .limit(batch)
        .with_for_update(of=v, skip_locked=True)
    )
    return list((await session.execute(statement)).all())


async def add_certificate(session: AsyncSession, **values: Any) -> None:
    await session.execute(certificates.insert().values(**values))


async def update_certificate(session: AsyncSession, certificate_id: UUID, **values: Any) -> None:
    await session.execute(certificates.update().where(certificates.c.id == certificate_id).values(**values))
