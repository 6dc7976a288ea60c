"""The referrals service's tables (schema `referrals`) and the look-ups every part of it uses: a referral, its
history, the library's policy. The SQL of one concern has a module of its own beside this one (personal_data,
partnerships, submission, deadlines, duplicates, participants, person, figures)."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import JSONB, aggregate_order_by, insert
from sqlalchemy.dialects.postgresql import UUID as PgUUID
from sqlalchemy.ext.asyncio import AsyncSession

from shared.db import Prepared
from shared.known_parties import KnownParties, KnownPartnerships

metadata = sa.MetaData()

# Libraries and partners as the partners service's events describe them (shared/known_parties.py).
known = KnownParties(metadata)
known_libraries = known.libraries
known_partners = known.partners
# Referrals only within a partnership: the library's partnerships, or the municipality's agreement (migration 006).
known_partnership_events = KnownPartnerships(metadata)
known_partnerships = known_partnership_events.table

referral_agreements = sa.Table(
    "referral_agreements",
    metadata,
    sa.Column("id", PgUUID(as_uuid=True), primary_key=True),
    sa.Column("municipality", sa.Text, nullable=False),
    sa.Column("partner_id", PgUUID(as_uuid=True), nullable=False),
    sa.Column("note", sa.Text),
    sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("recorded_by", sa.Text, nullable=False),
    sa.Column("ended_at", sa.DateTime(timezone=True)),
    sa.Column("ended_by", sa.Text),
    sa.Column("version", sa.Integer, nullable=False, server_default=sa.text("1")),
    sa.Index(
        "referral_agreements_in_force",
        "municipality",
        "partner_id",
        unique=True,
        postgresql_where=sa.text("ended_at IS NULL"),
    ),
    sa.Index("referral_agreements_by_municipality", "municipality", sa.text("recorded_at DESC"), sa.text("id DESC")),
)

library_policies = sa.Table(
    "library_policies",
    metadata,
    sa.Column("library", sa.Text, primary_key=True),
    sa.Column("response_days", sa.Integer, nullable=False),
    sa.Column("expiry_days", sa.Integer, nullable=False),
    sa.Column("retention_days", sa.Integer, nullable=False),
    sa.Column("version", sa.Integer, nullable=False, server_default=sa.text("1")),
    sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
)

referrals = sa.Table(
    "referrals",
    metadata,
    sa.Column("id", PgUUID(as_uuid=True), primary_key=True),
    sa.Column("library", sa.Text, nullable=False),
    sa.Column("municipality", sa.Text, nullable=False),
    sa.Column("referring_partner_id", PgUUID(as_uuid=True)),
    sa.Column("status", sa.Text, nullable=False),
    sa.Column("participant_pseudonym", sa.Text, nullable=False),
    sa.Column("participant_sealed", sa.LargeBinary),  # Fernet-sealed personal data; NULL once erased
    sa.Column("needs", JSONB, nullable=False),
    sa.Column("reason", sa.Text),
    sa.Column("preferred_channel", sa.Text, nullable=False),
    sa.Column("contact_person", JSONB, nullable=False),
    sa.Column("consent", JSONB, nullable=False),
    sa.Column("submitted_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("referring_library", sa.Text),
    sa.Column("receiving_partner_id", PgUUID(as_uuid=True)),
    sa.Column("course_id", PgUUID(as_uuid=True)),
    sa.Column("enrolment_id", PgUUID(as_uuid=True)),
    sa.Column("version", sa.Integer, nullable=False, server_default=sa.text("1")),
    sa.Column("respond_by", sa.DateTime(timezone=True), nullable=False),
    sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("overdue", sa.Boolean, nullable=False, server_default=sa.false()),
    sa.Column("overdue_at", sa.DateTime(timezone=True)),
    sa.Column("intake", JSONB),
    sa.Column("outcome", JSONB),
    sa.Column("decline_reason", sa.Text),
    sa.Column("withdraw_reason", sa.Text),
    sa.Column("closed_at", sa.DateTime(timezone=True)),
    sa.Column("erase_after", sa.DateTime(timezone=True)),
    sa.Column("anonymised_at", sa.DateTime(timezone=True)),
    sa.Column("intake_held_at", sa.DateTime(timezone=True)),
    # The consent's last day (also in `consent`), for the sweep that ends lapsed consents (migration 005).
    sa.Column("consent_valid_until", sa.Date, nullable=False),
    sa.Column("consent_ended_at", sa.DateTime(timezone=True)),
    sa.Column("consent_state", sa.Text, nullable=False, server_default="given"),  # a ConsentState
    sa.Column("consent_revocation", JSONB),
    sa.Column("consent_recorded_as", sa.Text),  # before migration 005, consent named its receiver in free text
    sa.Column("arrival", sa.Text),  # an Arrival: a walk-in or self-referral, without any partner (migration 007)
    # Its exact digest is to be given back (migration 016; commands/person.py ExactDigests): true or NULL.
    sa.Column("exact_digest_due", sa.Boolean),
    sa.CheckConstraint(
        "CASE WHEN arrival IS NULL THEN (referring_partner_id IS NULL) <> (referring_library IS NULL) "
        "ELSE referring_partner_id IS NULL AND referring_library IS NULL AND receiving_partner_id IS NULL END",
        name="referrals_one_referrer",
    ),
    sa.CheckConstraint(
        "referring_library IS NULL OR (referring_library = library AND receiving_partner_id IS NOT NULL)",
        name="referrals_library_refers_to_a_partner",
    ),
    sa.Index("referrals_by_partner", "referring_partner_id", "submitted_at"),
    sa.Index("referrals_by_pseudonym", "participant_pseudonym"),
    sa.Index(
        "referrals_worklist",
        "library",
        sa.text("overdue DESC"),
        sa.text("submitted_at DESC"),
        sa.text("id DESC"),
    ),
    sa.Index(
        "referrals_municipality_worklist",
        "municipality",
        sa.text("overdue DESC"),
        sa.text("submitted_at DESC"),
        sa.text("id DESC"),
    ),
    sa.Index(
        "referrals_by_receiving_partner",
        "receiving_partner_id",
        "submitted_at",
        postgresql_where=sa.text("receiving_partner_id IS NOT NULL"),
    ),
    sa.Index("referrals_awaiting_answer", "respond_by", postgresql_where=sa.text("status = 'submitted'")),
    sa.Index(
        "referrals_intakes_by_municipality",
        "municipality",
        "submitted_at",
        postgresql_where=sa.text("intake_held_at IS NOT NULL"),
    ),
    sa.Index("referrals_awaiting_expiry", "expires_at", postgresql_where=sa.text("status = 'submitted'")),
    sa.Index("referrals_awaiting_erasure", "erase_after", postgresql_where=sa.text("anonymised_at IS NULL")),
    sa.Index("referrals_consent_in_force", "consent_valid_until", postgresql_where=sa.text("consent_ended_at IS NULL")),
    sa.Index(
        "referrals_exact_digest_due",
        "id",
        postgresql_where=sa.text("exact_digest_due AND participant_sealed IS NOT NULL AND anonymised_at IS NULL"),
    ),
)

referral_history = sa.Table(
    "referral_history",
    metadata,
    sa.Column("id", sa.BigInteger, primary_key=True, autoincrement=True),
    sa.Column("referral_id", PgUUID(as_uuid=True), sa.ForeignKey("referrals.id"), nullable=False),
    sa.Column("status", sa.Text, nullable=False),
    sa.Column("at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("actor", sa.Text, nullable=False),
    sa.Column("note", sa.Text),  # free text: erased with the personal data
    sa.Column("step", sa.Text),
    sa.Column("version", sa.Integer),
    sa.Column("details", JSONB, nullable=False, server_default=sa.text("'{}'::jsonb")),
    sa.Index("referral_history_by_referral", "referral_id", "id"),
)

ACCESS_ENTRY_COLUMNS = (
    "referral_id",
    "library",
    "participant_pseudonym",
    "actor",
    "actor_role",
    "actor_organisation",
    "purpose",
    "at",
)

personal_data_reads = sa.Table(
    "personal_data_reads",
    metadata,
    sa.Column("id", sa.BigInteger, primary_key=True, autoincrement=True),
    sa.Column("referral_id", PgUUID(as_uuid=True), sa.ForeignKey("referrals.id"), nullable=False),
    sa.Column("library", sa.Text, nullable=False),
    sa.Column("participant_pseudonym", sa.Text, nullable=False),
    sa.Column("actor", sa.Text, nullable=False),
    sa.Column("actor_role", sa.Text, nullable=False),
    sa.Column("actor_organisation", sa.Text),
    sa.Column("purpose", sa.Text, nullable=False),
    sa.Column("at", sa.DateTime(timezone=True), nullable=False),
    sa.Index("personal_data_reads_by_library", "library", sa.text("id DESC")),
    sa.Index("personal_data_reads_by_referral", "referral_id", sa.text("id DESC")),
)


# --- referrals ----------------------------------------------------------------------------------


async def find_referral(session: AsyncSession, referral_id: UUID) -> sa.Row | None:
    return (await session.execute(sa.select(referrals).where(referrals.c.id == referral_id))).first()


def history_json() -> sa.Label[str]:
    """A referral's history, oldest first, as the JSON text of its `HistoryEntry`s (decoded by msgspec at once)."""
    h = referral_history
    entry = sa.func.json_build_object(
        *("status", h.c.status, "step", h.c.step, "at", h.c.at, "actor", h.c.actor),
        *("version", h.c.version, "details", h.c.details, "note", h.c.note),
    )
    entries = sa.func.coalesce(sa.func.json_agg(aggregate_order_by(entry, h.c.id)), sa.text("'[]'::json"))
    return (
        sa.select(sa.cast(entries, sa.Text)).where(h.c.referral_id == referrals.c.id).scalar_subquery().label("history")
    )


# A referral and its history in one round trip, for the read of one referral (queries/referral.py).
READ_REFERRAL = Prepared(
    "SELECT referral", sa.select(referrals, history_json()).where(referrals.c.id == sa.bindparam("referral_id"))
)


async def lock_referral(session: AsyncSession, referral_id: UUID) -> sa.Row | None:
    # FOR NO KEY UPDATE: a step changes the referral, never its id, so it need not wait for submissions that
    # only reference it (a duplicate warning's foreign key takes FOR KEY SHARE on the referral it names).
    statement = sa.select(referrals).where(referrals.c.id == referral_id).with_for_update(key_share=True)
    return (await session.execute(statement)).first()


async def update_referral(session: AsyncSession, referral_id: UUID, **values: Any) -> None:
    await session.execute(referrals.update().where(referrals.c.id == referral_id).values(**values))


async def add_history(
    session: AsyncSession,
    referral_id: UUID,
    *,
    status: str,
    at: datetime,
    actor: str,
    step: str | None = None,
    version: int | None = None,
    details: dict[str, Any] | None = None,
    note: str | None = None,
) -> None:
    # Parameters apart from the statement: compiled once and cached, not built again for every call.
    await session.execute(
        referral_history.insert(),
        {
            "referral_id": referral_id,
            "status": status,
            "at": at,
            "actor": actor,
            "step": step,
            "version": version,
            "details": details or {},
            "note": note,
        },
    )


async def history_of(session: AsyncSession, referral_id: UUID) -> list[sa.Row]:
    return list(
        (
            await session.execute(
                sa.select(referral_history)
                .where(referral_history.c.referral_id == referral_id)
                .order_by(referral_history.c.id)
            )
        ).all()
    )


# --- the library's policy -----------------------------------------------------------------------


async def find_policy(session: AsyncSession, library: str, *, lock: bool = False) -> sa.Row | None:
    statement = sa.select(library_policies).where(library_policies.c.library == library)
    return (await session.execute(statement.with_for_update() if lock else statement)).first()


async def save_policy(
    session: AsyncSession, library: str, *, response_days: int, expiry_days: int, retention_days: int, now: datetime
) -> None:
    values = {"response_days": response_days, "expiry_days": expiry_days, "retention_days": retention_days}
    await session.execute(
        insert(library_policies)
        .values(library=library, updated_at=now, **values)
        .on_conflict_do_update(
            index_elements=["library"],
            set_={**values, "updated_at": now, "version": library_policies.c.version + 1},
        )
    )
