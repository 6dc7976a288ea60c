"""The SQL of partners' API keys (in `store.metadata`): issued, revoked, presented, and the partners that hold
a key to their feed."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from services.partners.store import api_keys, partners

K = api_keys


async def add_key(session: AsyncSession, **values: Any) -> sa.Row:
    return (await session.execute(K.insert().values(**values).returning(*K.c))).one()


async def lock_key(session: AsyncSession, partner_id: UUID, key_id: UUID) -> sa.Row | None:
    statement = sa.select(K).where(K.c.id == key_id, K.c.partner_id == partner_id).with_for_update()
    return (await session.execute(statement)).first()


async def update_key(session: AsyncSession, key_id: UUID, **values: Any) -> sa.Row:
    """The key as it is after the change."""
    return (await session.execute(K.update().where(K.c.id == key_id).values(**values).returning(*K.c))).one()


async def key_by_digest(session: AsyncSession, digest: str) -> sa.Row | None:
    """The key with its partner's municipality and status."""
    statement = (
        sa.select(K, partners.c.municipality, partners.c.status.label("partner_status"))
        .join(partners, partners.c.id == K.c.partner_id)
        .where(K.c.digest == digest)
    )
    return (await session.execute(statement)).first()


async def holders_of_scope(session: AsyncSession, scope: str, now: datetime) -> list[UUID]:
    """The partners holding a key with the scope that is neither revoked nor expired."""
    statement = (
        sa.select(K.c.partner_id)
        .distinct()
        .where(
            K.c.scopes.contains([scope]),
            K.c.revoked_at.is_(None),
            sa.or_(K.c.expires_at.is_(None), K.c.expires_at > now),
        )
    )
    return list((await session.execute(statement)).scalars())
