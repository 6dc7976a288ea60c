"""The referrals service's tables (schema `referrals`), the sealing of personal data, and its queries."""

from __future__ import annotations

import base64
import hashlib
import hmac
from uuid import UUID

import msgspec
import sqlalchemy as sa
from cryptography.fernet import Fernet
from sqlalchemy.dialects.postgresql import JSONB, insert
from sqlalchemy.dialects.postgresql import UUID as PgUUID
from sqlalchemy.ext.asyncio import AsyncSession

from shared.contracts.referrals import Participant

metadata = sa.MetaData()

known_libraries = sa.Table(
    "known_libraries",
    metadata,
    sa.Column("slug", sa.Text, primary_key=True),
    sa.Column("municipality", sa.Text, nullable=False),
)

known_partners = sa.Table(
    "known_partners",
    metadata,
    sa.Column("id", PgUUID(as_uuid=True), primary_key=True),
    sa.Column("municipality", sa.Text, nullable=False),
    sa.Column("name", sa.Text, nullable=False),
)

referrals = sa.Table(
    "referrals",
    metadata,
    sa.Column("id", PgUUID(as_uuid=True), primary_key=True),
    sa.Column("library", sa.Text, nullable=False),
    sa.Column("municipality", sa.Text, nullable=False),
    sa.Column("referring_partner_id", PgUUID(as_uuid=True), nullable=False),
    sa.Column("status", sa.Text, nullable=False),
    sa.Column("participant_pseudonym", sa.Text, nullable=False),
    sa.Column("participant_sealed", sa.LargeBinary, nullable=False),
    sa.Column("needs", JSONB, nullable=False),
    sa.Column("reason", sa.Text, nullable=False),
    sa.Column("preferred_channel", sa.Text, nullable=False),
    sa.Column("contact_person", JSONB, nullable=False),
    sa.Column("consent", JSONB, nullable=False),
    sa.Column("submitted_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    sa.Index("referrals_by_library", "library", "status", "submitted_at"),
    sa.Index("referrals_by_partner", "referring_partner_id", "submitted_at"),
    sa.Index("referrals_by_pseudonym", "participant_pseudonym"),
)

referral_history = sa.Table(
    "referral_history",
    metadata,
    sa.Column("id", sa.BigInteger, primary_key=True, autoincrement=True),
    sa.Column("referral_id", PgUUID(as_uuid=True), sa.ForeignKey("referrals.id"), nullable=False),
    sa.Column("status", sa.Text, nullable=False),
    sa.Column("at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("actor", sa.Text, nullable=False),
    sa.Column("note", sa.Text),
    sa.Index("referral_history_by_referral", "referral_id", "id"),
)


class ParticipantVault:
    """Seals participants' personal data at rest and derives their pseudonyms; the keys never leave this service."""

    def __init__(self, encryption_key: str, pseudonym_key: str) -> None:
        self._fernet = Fernet(encryption_key.encode())
        self._pseudonym_key = pseudonym_key.encode()

    def seal(self, participant: Participant) -> bytes:
        return self._fernet.encrypt(msgspec.json.encode(participant))

    def unseal(self, sealed: bytes) -> Participant:
        return msgspec.json.decode(self._fernet.decrypt(sealed), type=Participant)

    def pseudonym(self, referral_id: UUID) -> str:
        # Keyed, so a pseudonym cannot be traced back without the key; short enough to read out on the phone.
        digest = hmac.new(self._pseudonym_key, referral_id.bytes, hashlib.sha256).digest()
        return "P-" + base64.b32encode(digest[:6]).decode().rstrip("=")


async def find_library_municipality(session: AsyncSession, slug: str) -> str | None:
    return (
        await session.execute(sa.select(known_libraries.c.municipality).where(known_libraries.c.slug == slug))
    ).scalar_one_or_none()


async def find_partner_municipality(session: AsyncSession, partner_id: UUID) -> str | None:
    return (
        await session.execute(sa.select(known_partners.c.municipality).where(known_partners.c.id == partner_id))
    ).scalar_one_or_none()


async def find_referral(session: AsyncSession, referral_id: UUID) -> sa.Row | None:
    return (await session.execute(sa.select(referrals).where(referrals.c.id == referral_id))).first()


async def remember_library(session: AsyncSession, slug: str, municipality: str) -> None:
    await session.execute(
        insert(known_libraries)
        .values(slug=slug, municipality=municipality)
        .on_conflict_do_update(index_elements=["slug"], set_={"municipality": municipality})
    )


async def remember_partner(session: AsyncSession, partner_id: UUID, municipality: str, name: str) -> None:
    await session.execute(
        insert(known_partners)
        .values(id=partner_id, municipality=municipality, name=name)
        .on_conflict_do_update(index_elements=["id"], set_={"municipality": municipality, "name": name})
    )
