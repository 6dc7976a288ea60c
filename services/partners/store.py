"""The partners service's tables (schema `partners`) and the queries its use cases need."""

from __future__ import annotations

from uuid import UUID

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import JSONB, insert
from sqlalchemy.dialects.postgresql import UUID as PgUUID
from sqlalchemy.ext.asyncio import AsyncSession

metadata = sa.MetaData()

municipalities = sa.Table(
    "municipalities",
    metadata,
    sa.Column("slug", sa.Text, primary_key=True),
    sa.Column("name", sa.Text, nullable=False),
    sa.Column("registered_at", sa.DateTime(timezone=True), nullable=False),
)

libraries = sa.Table(
    "libraries",
    metadata,
    sa.Column("slug", sa.Text, primary_key=True),
    sa.Column("municipality", sa.Text, sa.ForeignKey("municipalities.slug"), nullable=False),
    sa.Column("name", sa.Text, nullable=False),
    sa.Column("registered_at", sa.DateTime(timezone=True), nullable=False),
)

partners = sa.Table(
    "partners",
    metadata,
    sa.Column("id", PgUUID(as_uuid=True), primary_key=True),
    sa.Column("municipality", sa.Text, sa.ForeignKey("municipalities.slug"), nullable=False),
    sa.Column("name", sa.Text, nullable=False),
    sa.Column("kind", sa.Text, nullable=False),
    sa.Column("chamber_of_commerce_number", sa.Text),
    sa.Column("registered_at", sa.DateTime(timezone=True), nullable=False),
    sa.Index("partners_by_municipality", "municipality", "name"),
)

feed_entries = sa.Table(
    "feed_entries",
    metadata,
    sa.Column("position", sa.BigInteger, primary_key=True, autoincrement=True),
    sa.Column("partner_id", PgUUID(as_uuid=True), sa.ForeignKey("partners.id"), nullable=False),
    sa.Column("event_id", PgUUID(as_uuid=True), nullable=False),
    sa.Column("event_type", sa.Text, nullable=False),
    sa.Column("time", sa.DateTime(timezone=True), nullable=False),
    sa.Column("library", sa.Text),
    sa.Column("data", JSONB, nullable=False),
    sa.UniqueConstraint("partner_id", "event_id"),
    sa.Index("feed_entries_by_partner", "partner_id", "position"),
)


async def municipality_exists(session: AsyncSession, slug: str) -> bool:
    return (
        await session.execute(sa.select(municipalities.c.slug).where(municipalities.c.slug == slug))
    ).first() is not None


async def find_library(session: AsyncSession, slug: str) -> sa.Row | None:
    return (await session.execute(sa.select(libraries).where(libraries.c.slug == slug))).first()


async def find_partner(session: AsyncSession, partner_id: UUID) -> sa.Row | None:
    return (await session.execute(sa.select(partners).where(partners.c.id == partner_id))).first()


async def append_to_feed(session: AsyncSession, **entry: object) -> None:
    # The unique (partner, event) pair makes a second copy of the same event a no-op.
    await session.execute(insert(feed_entries).values(**entry).on_conflict_do_nothing())
