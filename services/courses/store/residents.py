"""The SQL of residents' registrations and the messages to them (in `store.metadata`; migration 009)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

import msgspec
import sqlalchemy as sa
from opentelemetry import propagate
from sqlalchemy.dialects.postgresql import BYTEA, JSONB
from sqlalchemy.ext.asyncio import AsyncSession

from services.courses.domain.residents import RegistrationLinks
from services.courses.store import Time, Uuid, enrolments, metadata, sessions
from shared.ids import new_id
from shared.pagination import keyset_page
from shared.personal_data import KeyedDigests, Sealer


class ResidentContact(msgspec.Struct, frozen=True, kw_only=True):
    """What a resident gave to sign up, sealed at rest in `resident_registrations.sealed`."""

    name: str
    email: str
    phone: str | None = None


@dataclass(frozen=True)
class ResidentVault:
    """The keys for residents' data: sealing it (PARTNERNET_ENCRYPTION_KEY), the keyed digest of their address
    and the links in their e-mail (PARTNERNET_BLIND_INDEX_KEY, each for its own purpose)."""

    sealer: Sealer
    addresses: KeyedDigests
    links: RegistrationLinks

    @classmethod
    def from_keys(cls, encryption_key: str, blind_index_key: str) -> ResidentVault:
        return cls(
            Sealer(encryption_key),
            KeyedDigests(blind_index_key, "resident e-mail addresses"),
            RegistrationLinks(blind_index_key),
        )

    def seal(self, contact: ResidentContact) -> bytes:
        return self.sealer.seal(contact)

    def open(self, sealed: bytes) -> ResidentContact:
        return self.sealer.unseal(sealed, ResidentContact)


registrations = sa.Table(
    "resident_registrations",
    metadata,
    sa.Column("id", Uuid, primary_key=True),
    sa.Column("session_id", Uuid, sa.ForeignKey("sessions.id"), nullable=False),
    sa.Column("course_id", Uuid, sa.ForeignKey("courses.id"), nullable=False),
    sa.Column("municipality", sa.Text, nullable=False),
    sa.Column("language", sa.Text, nullable=False),
    sa.Column("status", sa.Text, nullable=False),
    sa.Column("sealed", BYTEA),
    sa.Column("email_digest", BYTEA),
    sa.Column("enrolment_id", Uuid, sa.ForeignKey("enrolments.id")),
    sa.Column("offer_expires_at", Time),
    sa.Column("cancel_reason", sa.Text),
    sa.Column("created_at", Time, nullable=False),
    sa.Column("confirmed_at", Time),
    sa.Column("closed_at", Time),
    sa.Column("erased_at", Time),
    sa.Column("version", sa.Integer, nullable=False),
    sa.Index(
        "resident_registrations_by_address",
        "email_digest",
        "created_at",
        postgresql_where=sa.text("email_digest IS NOT NULL"),
    ),
    sa.Index(
        "resident_registrations_by_enrolment", "enrolment_id", postgresql_where=sa.text("enrolment_id IS NOT NULL")
    ),
    sa.Index("resident_registrations_due", "status", "created_at"),
)

mail = sa.Table(
    "resident_mail",
    metadata,
    sa.Column("id", Uuid, primary_key=True),
    sa.Column("registration_id", Uuid, sa.ForeignKey("resident_registrations.id"), nullable=False),
    sa.Column("kind", sa.Text, nullable=False),
    sa.Column("trace_context", JSONB, nullable=False, server_default=sa.text("'{}'::jsonb")),
    sa.Column("created_at", Time, nullable=False),
    sa.Column("attempts", sa.Integer, nullable=False, server_default="0"),
    sa.Column("next_attempt_at", Time, nullable=False),
    sa.Column("lease_until", Time),
    sa.Column("failed_at", Time),
    sa.Column("last_error", sa.Text),
    sa.Index("resident_mail_due", "next_attempt_at", postgresql_where=sa.text("failed_at IS NULL")),
)

r = registrations


async def add_registration(session: AsyncSession, **values: Any) -> None:
    await session.execute(r.insert().values(**values))


async def find_registration(session: AsyncSession, registration_id: UUID, *, for_update: bool = False) -> sa.Row | None:
    """The registration with its enrolment's status (None before it is confirmed)."""
    statement = (
        sa.select(r, enrolments.c.status.label("enrolment_status"))
        .outerjoin(enrolments, enrolments.c.id == r.c.enrolment_id)
        .where(r.c.id == registration_id)
    )
    if for_update:
        statement = statement.with_for_update(of=r)
    return (await session.execute(statement)).first()


async def update_registration(session: AsyncSession, registration_id: UUID, **values: Any) -> None:
    await session.execute(r.update().where(r.c.id == registration_id).values(**values))


async def sign_ups_since(session: AsyncSession, email_digest: bytes, since: datetime) -> int:
    statement = sa.select(sa.func.count()).where(r.c.email_digest == email_digest, r.c.created_at >= since)
    return int((await session.execute(statement)).scalar_one())


async def open_registration_of(session: AsyncSession, session_id: UUID, email_digest: bytes) -> UUID | None:
    """The address's sign-up for this session that still stands (unconfirmed or confirmed), if any."""
    statement = sa.select(r.c.id).where(
        r.c.session_id == session_id,
        r.c.email_digest == email_digest,
        r.c.status.in_(["unconfirmed", "confirmed"]),
    )
    return (await session.execute(statement.limit(1))).scalar_one_or_none()


async def add_mail(session: AsyncSession, registration_id: UUID, kind: str, now: datetime) -> None:
    carrier: dict[str, str] = {}
    propagate.inject(carrier)  # the send continues the trace of what caused the message
    await session.execute(
        mail.insert().values(
            id=new_id(),
            registration_id=registration_id,
            kind=kind,
            trace_context=carrier,
            created_at=now,
            next_attempt_at=now,
        )
    )


async def forget_mail(session: AsyncSession, registration_id: UUID) -> None:
    await session.execute(mail.delete().where(mail.c.registration_id == registration_id))


async def hold_offers(session: AsyncSession, enrolment_ids: list[UUID], *, until: datetime, now: datetime) -> None:
    """Enrolments just moved up from the waiting list: those that are residents' wait for their yes."""
    if not enrolment_ids:
        return
    held = await session.execute(
        r.update()
        .where(r.c.enrolment_id.in_(enrolment_ids), r.c.status == "confirmed")
        .values(offer_expires_at=until, version=r.c.version + 1)
        .returning(r.c.id)
    )
    for registration_id in held.scalars().all():
        await add_mail(session, registration_id, "offer", now)


async def tell_cancelled(session: AsyncSession, enrolment_ids: list[UUID], *, now: datetime) -> None:
    """Those who run the course cancelled enrolments (one, or a session's): residents among them are told. Their
    registration stays confirmed; its enrolment's status says it is cancelled (services/courses/domain/residents.py)."""
    held = await session.execute(
        r.update()
        .where(r.c.enrolment_id.in_(enrolment_ids), r.c.status == "confirmed")
        .values(offer_expires_at=None, version=r.c.version + 1)
        .returning(r.c.id)
    )
    for registration_id in held.scalars().all():
        await add_mail(session, registration_id, "cancelled", now)


async def lapsed_offers(session: AsyncSession, now: datetime, limit: int) -> list[sa.Row]:
    statement = (
        sa.select(r.c.id, r.c.session_id)
        .where(r.c.status == "confirmed", r.c.offer_expires_at <= now)
        .order_by(r.c.offer_expires_at)
        .limit(limit)
    )
    return list((await session.execute(statement)).all())


async def expire_unconfirmed(session: AsyncSession, created_before: datetime, now: datetime) -> int:
    """Sign-ups never confirmed took no place: they lapse, and the name and address go at once."""
    result = await session.execute(
        r.update()
        .where(r.c.status == "unconfirmed", r.c.created_at <= created_before)
        .values(status="expired", sealed=None, email_digest=None, closed_at=now, erased_at=now, version=r.c.version + 1)
        .returning(r.c.id)
    )
    expired = list(result.scalars().all())
    if expired:
        await session.execute(mail.delete().where(mail.c.registration_id.in_(expired)))
    return len(expired)


async def erase_retained(session: AsyncSession, before: datetime, now: datetime) -> int:
    """Name and address of registrations closed, or whose session ended, before `before`."""
    ended = sa.select(sessions.c.id).where(sessions.c.id == r.c.session_id, sessions.c.ends_at <= before).exists()
    result = await session.execute(
        r.update()
        .where(r.c.sealed.is_not(None), (r.c.closed_at <= before) | ended)
        .values(sealed=None, email_digest=None, erased_at=now, version=r.c.version + 1)
        .returning(r.c.id)
    )
    erased = list(result.scalars().all())
    if erased:
        await session.execute(mail.delete().where(mail.c.registration_id.in_(erased)))
    return len(erased)


# The mail relay's claim: new messages (due at once, whatever clock wrote them) and retries that fell due,
# with what the message needs (sealed), leased so a replica takes each once.
MAIL_CLAIM = """
WITH due AS (
    SELECT id FROM resident_mail
    WHERE failed_at IS NULL AND (attempts = 0 OR next_attempt_at <= $1) AND (lease_until IS NULL OR lease_until < $1)
    ORDER BY next_attempt_at, id
    LIMIT $2
    FOR UPDATE SKIP LOCKED
)
UPDATE resident_mail m SET lease_until = $3
FROM due, resident_registrations g, sessions s, courses c
WHERE m.id = due.id AND g.id = m.registration_id AND s.id = g.session_id AND c.id = s.course_id
RETURNING m.id, m.kind, m.registration_id, m.trace_context, m.created_at, m.attempts, g.sealed, g.language,
    g.municipality, g.session_id, g.offer_expires_at, g.created_at AS registered_at, c.title, s.starts_at,
    coalesce(s.place, c.location_branch, c.location_place, c.location_address) AS place
"""
MAIL_SENT = "DELETE FROM resident_mail WHERE id = $1"
MAIL_TRIED = """
UPDATE resident_mail SET attempts = $2, lease_until = NULL, last_error = $3, failed_at = $4,
    next_attempt_at = coalesce($5, next_attempt_at)
WHERE id = $1
"""


# Every read of a resident's name and address, and their erasure by staff (migration 013).
data_reads = sa.Table(
    "resident_data_reads",
    metadata,
    sa.Column("id", sa.BigInteger, primary_key=True, autoincrement=True),
    sa.Column("registration_id", Uuid, sa.ForeignKey("resident_registrations.id"), nullable=False),
    sa.Column("course_id", Uuid, nullable=False),
    sa.Column("library", sa.Text),
    sa.Column("participant_pseudonym", sa.Text),
    sa.Column("actor", sa.Text, nullable=False),
    sa.Column("actor_role", sa.Text, nullable=False),
    sa.Column("actor_organisation", sa.Text),
    sa.Column("purpose", sa.Text, nullable=False),
    sa.Column("at", Time, nullable=False),
    sa.Index("resident_data_reads_by_registration", "registration_id", "id"),
)


async def log_reads(session: AsyncSession, entries: list[dict[str, Any]]) -> None:
    if entries:
        await session.execute(data_reads.insert(), entries)


async def reads_of(session: AsyncSession, registration_id: UUID) -> list[sa.Row]:
    d = data_reads
    statement = sa.select(d).where(d.c.registration_id == registration_id).order_by(d.c.id)
    return list((await session.execute(statement)).all())


async def residents_of_session(
    session: AsyncSession, session_id: UUID, cursor: str | None, limit: int
) -> tuple[Sequence[sa.Row], str | None]:
    """A page of the confirmed registrations of the session that hold a place or a spot on its waiting list and still
    hold their sealed data, with their enrolment, in the order they came in (the enrolment's sequence, along the
    unique index of (session_id, sequence)), and the next page's cursor."""
    e = enrolments
    statement = (
        sa.select(r, e.c.participant_pseudonym, e.c.status.label("enrolment_status"), e.c.sequence)
        .join(e, e.c.id == r.c.enrolment_id)
        .where(
            r.c.session_id == session_id,
            e.c.session_id == session_id,
            r.c.status == "confirmed",
            r.c.sealed.is_not(None),
            e.c.status.in_(["confirmed", "waitlisted"]),
        )
    )
    return await keyset_page(session, statement, [e.c.sequence], cursor, limit)
