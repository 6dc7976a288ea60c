"""The SQL of the tenants' and partners' tables (in `store.metadata`): municipalities, libraries, partners."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from sqlalchemy.ext.asyncio import AsyncSession

from services.partners.store import libraries, municipalities, partners


async def add_municipality(session: AsyncSession, **values: Any) -> None:
    await session.execute(municipalities.insert().values(**values))


async def add_library(session: AsyncSession, **values: Any) -> None:
    await session.execute(libraries.insert().values(**values))


async def update_library(session: AsyncSession, slug: str, **values: Any) -> None:
    await session.execute(libraries.update().where(libraries.c.slug == slug).values(**values))


async def add_partner(session: AsyncSession, **values: Any) -> None:
    await session.execute(partners.insert().values(**values))


async def update_partner(session: AsyncSession, partner_id: UUID, **values: Any) -> None:
    await session.execute(partners.update().where(partners.c.id == partner_id).values(**values))
