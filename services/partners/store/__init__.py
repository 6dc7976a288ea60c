"""The partners service's tables (schema `partners`) and the look-ups its use cases share; the SQL of one concern
has a module of its own beside this one (organisations, partnership, credentials, feed, subscriptions, notices)."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

import msgspec
import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.dialects.postgresql import UUID as PgUUID
from sqlalchemy.ext.asyncio import AsyncSession

from shared.db import find_row

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
    sa.Column("email", sa.Text),  # its general address for notices (migration 009)
    sa.Column("phone", sa.Text),  # its general telephone number (migration 010)
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
    sa.Column("status", sa.Text, nullable=False, server_default="active"),
    sa.Column("status_reason", sa.Text),
    sa.Column("addresses", JSONB, nullable=False, server_default=sa.text("'[]'::jsonb")),
    sa.Column("contacts", JSONB, nullable=False, server_default=sa.text("'[]'::jsonb")),
    sa.Column("skill_areas", JSONB, nullable=False, server_default=sa.text("'[]'::jsonb")),
    sa.Column("email", sa.Text),
    sa.Column("phone", sa.Text),
    sa.Column("website", sa.Text),
    sa.Column("version", sa.Integer, nullable=False, server_default=sa.text("1")),
    sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("feed_key", sa.LargeBinary, nullable=False),  # keys the partner's own participant pseudonyms
    # What it agreed to publish as open data (migration 011): the contract's OpenDataChoices
    sa.Column("open_data", JSONB, nullable=False, server_default=sa.text("'{\"publish\": false}'::jsonb")),
    sa.Index("partners_by_municipality", "municipality", "name"),
    sa.Index("partners_by_kind", "municipality", "kind"),
)

partnerships = sa.Table(
    "partnerships",
    metadata,
    sa.Column("id", PgUUID(as_uuid=True), primary_key=True),
    sa.Column("library", sa.Text, sa.ForeignKey("libraries.slug"), nullable=False),
    sa.Column("municipality", sa.Text, sa.ForeignKey("municipalities.slug"), nullable=False),
    sa.Column("partner_id", PgUUID(as_uuid=True), sa.ForeignKey("partners.id"), nullable=False),
    sa.Column("roles", JSONB, nullable=False),
    sa.Column("library_contributions", JSONB, nullable=False),
    sa.Column("partner_contributions", JSONB, nullable=False),
    sa.Column("starts_on", sa.Date, nullable=False),
    sa.Column("ends_on", sa.Date),
    sa.Column("review_on", sa.Date),
    sa.Column("status", sa.Text, nullable=False),
    sa.Column("note", sa.Text),
    sa.Column("version", sa.Integer, nullable=False),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("activated_at", sa.DateTime(timezone=True)),
    sa.Column("ended_at", sa.DateTime(timezone=True)),
    sa.Column("end_reason", sa.Text),
    sa.Column("review_reminded_for", sa.Date),  # the review date the library was last reminded of
    sa.Index(
        "partnerships_one_living",
        "library",
        "partner_id",
        unique=True,
        postgresql_where=sa.text("status <> 'ended'"),
    ),
    sa.Index("partnerships_by_partner", "partner_id", "status"),
    sa.Index("partnerships_by_municipality", "municipality", "created_at", "id"),
    sa.Index("partnerships_by_library", "library", "status"),
)

# Every change of a partner or of one of its partnerships (migration 006), oldest first.
partner_history = sa.Table(
    "partner_history",
    metadata,
    sa.Column("id", sa.BigInteger, primary_key=True, autoincrement=True),
    sa.Column("partner_id", PgUUID(as_uuid=True), sa.ForeignKey("partners.id"), nullable=False),
    sa.Column("partnership_id", PgUUID(as_uuid=True), sa.ForeignKey("partnerships.id")),
    sa.Column("at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("actor", sa.Text, nullable=False),
    sa.Column("action", sa.Text, nullable=False),
    sa.Column("version", sa.Integer, nullable=False),
    sa.Column("changes", JSONB, nullable=False, server_default=sa.text("'{}'::jsonb")),
    sa.Column("reason", sa.Text),
    sa.Index("partner_history_by_partner", "partner_id", "id"),
    sa.Index(
        "partner_history_by_partnership",
        "partnership_id",
        "id",
        postgresql_where=sa.text("partnership_id IS NOT NULL"),
    ),
)

known_courses = sa.Table(
    "known_courses",
    metadata,
    sa.Column("course_id", PgUUID(as_uuid=True), primary_key=True),
    sa.Column("partner_id", PgUUID(as_uuid=True), nullable=False),
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
    sa.Column("source", sa.Text),
    sa.Column("subject", sa.Text),
    sa.Column("published_at", sa.DateTime(timezone=True)),  # on the partner's NATS subject
    # The trace of the event that caused the entry (migration 004): its publish on NATS continues it.
    sa.Column("trace_context", JSONB, nullable=False, server_default=sa.text("'{}'::jsonb")),
    sa.UniqueConstraint("partner_id", "event_id"),
    sa.Index("feed_entries_by_partner", "partner_id", "position"),
    sa.Index("feed_entries_unpublished", "position", postgresql_where=sa.text("published_at IS NULL")),
    sa.Index("feed_entries_by_age", "time"),
)

# Per partner, the highest feed position pruned (migration 010): a cursor below it is refused, never moved on.
feed_horizons = sa.Table(
    "feed_horizons",
    metadata,
    sa.Column("partner_id", PgUUID(as_uuid=True), sa.ForeignKey("partners.id"), primary_key=True),
    sa.Column("pruned_through", sa.BigInteger, nullable=False),
)

webhooks = sa.Table(
    "webhooks",
    metadata,
    sa.Column("id", PgUUID(as_uuid=True), primary_key=True),
    sa.Column("partner_id", PgUUID(as_uuid=True), sa.ForeignKey("partners.id"), nullable=False),
    sa.Column("url", sa.Text, nullable=False),
    sa.Column("event_types", JSONB, nullable=False),
    sa.Column("description", sa.Text),
    sa.Column("status", sa.Text, nullable=False),
    sa.Column("secret", sa.Text, nullable=False),
    sa.Column("previous_secret", sa.Text),
    sa.Column("previous_secret_expires_at", sa.DateTime(timezone=True)),
    sa.Column("secret_rotated_at", sa.DateTime(timezone=True)),
    sa.Column("version", sa.Integer, nullable=False),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("deleted_at", sa.DateTime(timezone=True)),
    sa.Index("webhooks_by_partner", "partner_id", "created_at", "id"),
)

deliveries = sa.Table(
    "deliveries",
    metadata,
    sa.Column("id", PgUUID(as_uuid=True), primary_key=True),
    sa.Column("webhook_id", PgUUID(as_uuid=True), sa.ForeignKey("webhooks.id"), nullable=False),
    sa.Column("partner_id", PgUUID(as_uuid=True), sa.ForeignKey("partners.id"), nullable=False),
    sa.Column("feed_position", sa.BigInteger, sa.ForeignKey("feed_entries.position"), nullable=False),
    sa.Column("event_id", PgUUID(as_uuid=True), nullable=False),
    sa.Column("event_type", sa.Text, nullable=False),
    sa.Column("status", sa.Text, nullable=False),
    sa.Column("attempts", sa.Integer, nullable=False),
    sa.Column("next_attempt_at", sa.DateTime(timezone=True)),
    sa.Column("lease_until", sa.DateTime(timezone=True)),  # a worker is trying it until then
    sa.Column("last_status_code", sa.Integer),
    sa.Column("last_error", sa.Text),
    sa.Column("trace_context", JSONB, nullable=False, server_default=sa.text("'{}'::jsonb")),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("delivered_at", sa.DateTime(timezone=True)),
    sa.Column("failed_at", sa.DateTime(timezone=True)),
    sa.UniqueConstraint("webhook_id", "event_id"),
    # The delivery worker's claim, per webhook: its oldest due deliveries and its count in flight (migration 019).
    sa.Index(
        "deliveries_due_by_webhook",
        "webhook_id",
        "next_attempt_at",
        "id",
        postgresql_where=sa.text("status = 'pending'"),
    ),
    sa.Index(
        "deliveries_leased_by_webhook",
        "webhook_id",
        "lease_until",
        postgresql_where=sa.text("status = 'pending' AND lease_until IS NOT NULL"),
    ),
    sa.Index("deliveries_by_webhook", "webhook_id", "created_at", "id"),
    sa.Index("deliveries_by_feed_position", "feed_position"),
    sa.Index("deliveries_delivered", "delivered_at", postgresql_where=sa.text("status = 'delivered'")),  # retention
)

delivery_attempts = sa.Table(
    "delivery_attempts",
    metadata,
    sa.Column("id", sa.BigInteger, primary_key=True, autoincrement=True),
    sa.Column("delivery_id", PgUUID(as_uuid=True), sa.ForeignKey("deliveries.id"), nullable=False),
    sa.Column("attempt", sa.Integer, nullable=False),
    sa.Column("at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("status_code", sa.Integer),
    sa.Column("error", sa.Text),
    sa.Column("duration_ms", sa.Integer, nullable=False),
    sa.Index("delivery_attempts_by_delivery", "delivery_id", "id"),
)

api_keys = sa.Table(
    "api_keys",
    metadata,
    sa.Column("id", PgUUID(as_uuid=True), primary_key=True),
    sa.Column("partner_id", PgUUID(as_uuid=True), sa.ForeignKey("partners.id"), nullable=False),
    sa.Column("name", sa.Text, nullable=False),
    sa.Column("scopes", JSONB, nullable=False),
    sa.Column("digest", sa.Text, nullable=False, unique=True),  # SHA-256 of the key; the key is never kept
    sa.Column("prefix", sa.Text, nullable=False),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("created_by", sa.Text, nullable=False),
    sa.Column("expires_at", sa.DateTime(timezone=True)),
    sa.Column("revoked_at", sa.DateTime(timezone=True)),
    sa.Column("last_used_at", sa.DateTime(timezone=True)),
    sa.Column("created_for_support", sa.Text),  # an operator's reason, where one issued it
    sa.Column("revoked_by", sa.Text),
    sa.Column("revoked_for_support", sa.Text),
    sa.Index("api_keys_by_partner", "partner_id", "created_at", "id"),
)


async def add_history(
    session: AsyncSession,
    *,
    partner_id: UUID,
    at: datetime,
    actor: str,
    action: str,
    version: int,
    partnership_id: UUID | None = None,
    changes: dict[str, Any] | None = None,
    reason: str | None = None,
) -> None:
    await session.execute(
        partner_history.insert().values(
            partner_id=partner_id,
            partnership_id=partnership_id,
            at=at,
            actor=actor,
            action=action,
            version=version,
            changes=changes or {},
            reason=reason,
        )
    )


def changed(row: sa.Row, values: dict[str, Any]) -> dict[str, Any]:
    """Each field a change touches that it really changes, as it was and as it becomes (JSON-ready)."""
    return {
        field: {"from": msgspec.to_builtins(getattr(row, field)), "to": msgspec.to_builtins(value)}
        for field, value in values.items()
        if getattr(row, field) != value
    }


async def municipality_exists(session: AsyncSession, slug: str) -> bool:
    return (
        await session.execute(sa.select(municipalities.c.slug).where(municipalities.c.slug == slug))
    ).first() is not None


async def find_library(session: AsyncSession, slug: str) -> sa.Row | None:
    return (await session.execute(sa.select(libraries).where(libraries.c.slug == slug))).first()


async def find_partner(session: AsyncSession, partner_id: UUID, *, for_update: bool = False) -> sa.Row | None:
    return await find_row(session, partners, partner_id, for_update=for_update)


async def find_partnership(session: AsyncSession, partnership_id: UUID, *, for_update: bool = False) -> sa.Row | None:
    statement = (
        sa.select(partnerships, partners.c.name.label("partner_name"), libraries.c.name.label("library_name"))
        .join(partners, partners.c.id == partnerships.c.partner_id)
        .join(libraries, libraries.c.slug == partnerships.c.library)
        .where(partnerships.c.id == partnership_id)
    )
    if for_update:
        statement = statement.with_for_update(of=partnerships)
    return (await session.execute(statement)).first()


async def find_webhook(
    session: AsyncSession, partner_id: UUID, webhook_id: UUID, *, for_update: bool = False
) -> sa.Row | None:
    statement = sa.select(webhooks).where(
        webhooks.c.id == webhook_id, webhooks.c.partner_id == partner_id, webhooks.c.deleted_at.is_(None)
    )
    if for_update:
        statement = statement.with_for_update()
    return (await session.execute(statement)).first()
