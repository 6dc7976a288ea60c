"""Tables of the participant's page (in `store.metadata`, migration 003): personal codes (keyed hashes only),
the participant's change requests, and library names; and their queries."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import UUID as PgUUID
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from services.referrals.store import metadata
from shared.contracts.referrals.api.participant_page import ChangeRequestStatus

participant_codes = sa.Table(
    "participant_codes",
    metadata,
    sa.Column("referral_id", PgUUID(as_uuid=True), sa.ForeignKey("referrals.id"), primary_key=True),
    sa.Column("library", sa.Text, nullable=False),
    sa.Column("code_digest", sa.LargeBinary, nullable=False),
    sa.Column("contact_phone", sa.Text),
    sa.Column("issued_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("issued_by", sa.Text, nullable=False),
    sa.UniqueConstraint("code_digest", name="participant_codes_digest"),
)

change_requests = sa.Table(
    "participant_change_requests",
    metadata,
    sa.Column("id", PgUUID(as_uuid=True), primary_key=True),
    sa.Column("referral_id", PgUUID(as_uuid=True), sa.ForeignKey("referrals.id"), nullable=False),
    sa.Column("library", sa.Text, nullable=False),
    sa.Column("kind", sa.Text, nullable=False),
    sa.Column("status", sa.Text, nullable=False, server_default=sa.text("'open'")),
    sa.Column("requested_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("handled_at", sa.DateTime(timezone=True)),
    sa.Column("handled_by", sa.Text),
    sa.Column("version", sa.Integer, nullable=False, server_default=sa.text("1")),
    # Closed by the erasure of the person's data (migration 008), not by staff dealing with it.
    sa.Column("handled_by_erasure", sa.Boolean, nullable=False, server_default=sa.false()),
    sa.Index("participant_change_requests_by_library", "library", sa.text("requested_at DESC"), sa.text("id DESC")),
    sa.Index("participant_change_requests_by_referral", "referral_id", "status"),
)

library_names = sa.Table(
    "library_names",
    metadata,
    sa.Column("slug", sa.Text, primary_key=True),
    sa.Column("name", sa.Text, nullable=False),
)


REPLACED = ("code_digest", "contact_phone", "issued_at", "issued_by")


async def save_code(session: AsyncSession, **values: Any) -> None:
    """One working code per referral: a new one replaces the old, which then opens nothing."""
    statement = insert(participant_codes).values(**values)
    await session.execute(
        statement.on_conflict_do_update(
            index_elements=["referral_id"],
            set_={name: statement.excluded[name] for name in REPLACED},
        )
    )


async def find_by_digest(session: AsyncSession, digest: bytes) -> sa.Row | None:
    c = participant_codes
    return (await session.execute(sa.select(c).where(c.c.code_digest == digest))).first()


async def delete_code(session: AsyncSession, referral_id: UUID) -> bool:
    c = participant_codes
    deleted = await session.execute(c.delete().where(c.c.referral_id == referral_id).returning(c.c.referral_id))
    return deleted.first() is not None


async def open_requests(session: AsyncSession, referral_id: UUID) -> list[sa.Row]:
    """The referral's requests still waiting for the library, newest first."""
    r = change_requests
    statement = (
        sa.select(r)
        .where(r.c.referral_id == referral_id, r.c.status == ChangeRequestStatus.OPEN.value)
        .order_by(r.c.requested_at.desc(), r.c.id.desc())
    )
    return list((await session.execute(statement)).all())


async def requests_of(session: AsyncSession, referral_ids: set[UUID]) -> list[sa.Row]:
    """Every request about these referrals, handled or not, oldest first (a person's export)."""
    r = change_requests
    statement = sa.select(r).where(r.c.referral_id.in_(referral_ids)).order_by(r.c.requested_at, r.c.id)
    return list((await session.execute(statement)).all())


async def add_request(session: AsyncSession, **values: Any) -> None:
    await session.execute(change_requests.insert().values(**values))


async def lock_request(session: AsyncSession, request_id: UUID) -> sa.Row | None:
    r = change_requests
    return (await session.execute(sa.select(r).where(r.c.id == request_id).with_for_update())).first()


async def handle_request(session: AsyncSession, row: sa.Row, at: datetime, by: str) -> None:
    r = change_requests
    await session.execute(
        r.update()
        .where(r.c.id == row.id)
        .values(status=ChangeRequestStatus.HANDLED.value, handled_at=at, handled_by=by, version=row.version + 1)
    )


async def close_requests_by_erasure(session: AsyncSession, referral_id: UUID, at: datetime, by: str) -> int:
    """The referral's open requests are done once its personal data is erased: nothing is left to export, erase or
    stop sharing, and no appointment to change."""
    r = change_requests
    closed = await session.execute(
        r.update()
        .where(r.c.referral_id == referral_id, r.c.status == ChangeRequestStatus.OPEN.value)
        .values(
            status=ChangeRequestStatus.HANDLED.value,
            handled_at=at,
            handled_by=by,
            handled_by_erasure=True,
            version=r.c.version + 1,
        )
        .returning(r.c.id)
    )
    return len(closed.all())


async def remember_library_name(session: AsyncSession, slug: str, name: str) -> None:
    await session.execute(
        insert(library_names)
        .values(slug=slug, name=name)
        .on_conflict_do_update(index_elements=["slug"], set_={"name": name})
    )


async def library_name(session: AsyncSession, slug: str) -> str | None:
    return (
        await session.execute(sa.select(library_names.c.name).where(library_names.c.slug == slug))
    ).scalar_one_or_none()
