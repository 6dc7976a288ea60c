"""The referrals service's tables (schema `referrals`), the sealing of personal data, and its queries."""

from __future__ import annotations

import base64
import hashlib
import hmac
from datetime import datetime
from typing import Any
from uuid import UUID

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import ARRAY, JSONB, aggregate_order_by, insert
from sqlalchemy.dialects.postgresql import UUID as PgUUID
from sqlalchemy.ext.asyncio import AsyncSession

from shared.contracts.referrals.api.referrals import Participant
from shared.db import Prepared
from shared.known_parties import KnownParties, KnownPartnerships
from shared.personal_data import Sealer

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
    sa.CheckConstraint(
        "CASE WHEN arrival IS NULL THEN (referring_partner_id IS NULL) <> (referring_library IS NULL) "
        "ELSE referring_partner_id IS NULL AND referring_library IS NULL AND receiving_partner_id IS NULL END",
        name="referrals_one_referrer",
    ),
    sa.CheckConstraint(
        "referring_library IS NULL OR (referring_library = library AND receiving_partner_id IS NOT NULL)",
        name="referrals_library_refers_to_a_partner",
    ),
    sa.Index("referrals_by_library", "library", "status", "submitted_at"),
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
    sa.Index("referrals_awaiting_expiry", "expires_at", postgresql_where=sa.text("status = 'submitted'")),
    sa.Index("referrals_awaiting_erasure", "erase_after", postgresql_where=sa.text("anonymised_at IS NULL")),
    sa.Index("referrals_consent_in_force", "consent_valid_until", postgresql_where=sa.text("consent_ended_at IS NULL")),
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


class ParticipantVault:
    """Seals participants' personal data at rest and derives their pseudonyms; the keys never leave this service.

    `encryption_keys` is one Fernet key or several, comma-separated, newest first: data is sealed with
    the newest and opened with any of them, so a new key is introduced before `rotate` re-seals old data
    and the old key is retired.
    """

    def __init__(self, encryption_keys: str, pseudonym_key: str) -> None:
        self._sealer = Sealer(encryption_keys)
        self._pseudonym_key = pseudonym_key.encode()

    def seal(self, participant: Participant) -> bytes:
        return self._sealer.seal(participant)

    def unseal(self, sealed: bytes) -> Participant:
        return self._sealer.unseal(sealed, Participant)

    def reseal(self, sealed: bytes) -> bytes:
        """The same data sealed with the newest key."""
        return self._sealer.reseal(sealed)

    def pseudonym(self, referral_id: UUID) -> str:
        # Keyed, so a pseudonym cannot be traced back without the key; short enough to read out on the phone.
        digest = hmac.new(self._pseudonym_key, referral_id.bytes, hashlib.sha256).digest()
        return "P-" + base64.b32encode(digest[:6]).decode().rstrip("=")


def partnership_standing(
    partner: sa.ColumnElement[Any], library: sa.ColumnElement[Any], municipality: sa.ColumnElement[Any]
) -> tuple[sa.ColumnElement[bool], sa.ColumnElement[bool]]:
    """Whether the partner may take part in new referrals with the library (an active partnership with it, or the
    municipality's agreement in force), and whether one that was there has ended (then it sees pseudonyms only)."""
    p, a = known_partnerships, referral_agreements
    with_library = [p.c.partner_id == partner, p.c.library == library]
    in_municipality = [a.c.partner_id == partner, a.c.municipality == municipality]
    partnered = sa.or_(
        sa.exists().where(*with_library, p.c.activated, sa.not_(p.c.ended)),
        sa.exists().where(*in_municipality, a.c.ended_at.is_(None)),
    )
    # A suspended partnership counts as one that stopped, until it is resumed (then it is partnered again).
    ended = sa.or_(
        sa.exists().where(*with_library, sa.or_(p.c.ended, sa.not_(p.c.activated))),
        sa.exists().where(*in_municipality, a.c.ended_at.is_not(None)),
    )
    return partnered, ended


async def partnership_stopped_at(
    session: AsyncSession, partner_id: UUID, library: str, municipality: str
) -> datetime | None:
    """When the partner's last partnership with the library (or the municipality's agreement) stopped: the latest
    end or suspension of one; None where that time is not known (stopped before it was kept)."""
    p, a = known_partnerships, referral_agreements
    stopped = sa.func.coalesce(p.c.ended_at, p.c.changed_at)
    statement = sa.select(
        sa.func.greatest(
            sa.select(sa.func.max(stopped))
            .where(p.c.partner_id == partner_id, p.c.library == library, sa.or_(p.c.ended, sa.not_(p.c.activated)))
            .scalar_subquery(),
            sa.select(sa.func.max(a.c.ended_at))
            .where(a.c.partner_id == partner_id, a.c.municipality == municipality)
            .scalar_subquery(),
        )
    )
    return (await session.execute(statement)).scalar_one_or_none()


_one = sa.select(sa.literal(1).label("one")).subquery()
_partner = sa.bindparam("partner", type_=PgUUID(as_uuid=True))
_partnered, _partnership_ended = partnership_standing(_partner, sa.bindparam("library"), known_libraries.c.municipality)
# Built once, with bind parameters: a lookup on every submission should not build and compile SQL each time.
SUBMISSION_CONTEXT = (
    sa.select(
        known_libraries.c.municipality.label("library_municipality"),
        known_partners.c.municipality.label("partner_municipality"),
        known_partners.c.status.label("partner_status"),
        library_policies.c.response_days,
        library_policies.c.expiry_days,
        library_policies.c.retention_days,
        _partnered.label("partnered"),
    )
    .select_from(_one)
    .outerjoin(known_libraries, known_libraries.c.slug == sa.bindparam("library"))
    .outerjoin(known_partners, known_partners.c.id == _partner)
    .outerjoin(library_policies, library_policies.c.library == sa.bindparam("library"))
)


async def submission_context(session: AsyncSession, library: str, partner_id: UUID | None) -> sa.Row:
    """Everything a submission checks, in one round trip: the library's municipality, the partner on the other
    side (municipality, status, whether it partners with the library) and the library's policy. Each is NULL
    where unknown.

    One row always (outer joins from a single row); a check that needs more of what this service knows about
    the parties adds its join and columns to SUBMISSION_CONTEXT, so the submission stays one lookup.
    """
    return (await session.execute(SUBMISSION_CONTEXT, {"library": library, "partner": partner_id})).one()


async def partner_standing(session: AsyncSession, partner_id: UUID, library: str, municipality: str) -> sa.Row:
    """A partner as a party of a referral of `library`: its status, whether it partners with the library now, and
    whether a partnership or agreement it had has ended; one round trip, on every read by a partner."""
    partnered, ended = partnership_standing(sa.literal(partner_id), sa.literal(library), sa.literal(municipality))
    statement = sa.select(
        sa.select(known_partners.c.status).where(known_partners.c.id == partner_id).scalar_subquery().label("status"),
        partnered.label("partnered"),
        ended.label("partnership_ended"),
    )
    return (await session.execute(statement)).one()


# --- referrals ----------------------------------------------------------------------------------


async def find_referral(session: AsyncSession, referral_id: UUID) -> sa.Row | None:
    return (await session.execute(sa.select(referrals).where(referrals.c.id == referral_id))).first()


def _history_json() -> sa.Label[str]:
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
    "SELECT referral", sa.select(referrals, _history_json()).where(referrals.c.id == sa.bindparam("referral_id"))
)

# One read of a participant's personal data, in the access log (keywords: queries/referral.access_entry_values).
LOG_READ = Prepared(
    "INSERT personal_data_reads",
    personal_data_reads.insert().values({column: sa.bindparam(column) for column in ACCESS_ENTRY_COLUMNS}).inline(),
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


ERASED_TEXT_JSON = '"—"'  # what an erased free text reads as where a text must stay (the consent's purpose)


async def erase_personal_data(session: AsyncSession, referral_id: UUID) -> None:
    """Everything that may say who the participant is: the sealed data and free text about them."""
    # The consent's purpose and the consent as first recorded are free text as well: what it was for goes, the
    # parties, what was shared and until when (no one's name) stay for the history of who saw what.
    await session.execute(
        referrals.update()
        .where(referrals.c.id == referral_id)
        .values(
            participant_sealed=None,
            reason=None,
            consent_recorded_as=None,
            consent=sa.func.jsonb_set(
                referrals.c.consent, sa.literal(["purpose"], ARRAY(sa.Text)), sa.cast(ERASED_TEXT_JSON, JSONB)
            ),
        )
    )
    # A line whose note went says so (`note_erased`), so the history reads as erased, not as never written.
    h = referral_history
    await session.execute(
        h.update()
        .where(h.c.referral_id == referral_id, h.c.note.is_not(None))
        .values(note=None, details=h.c.details.op("||")(sa.cast({"note_erased": True}, JSONB)))
    )


async def due_for(
    session: AsyncSession, condition: sa.ColumnElement[bool], order: sa.ColumnElement[Any], limit: int
) -> list[sa.Row]:
    """Rows a periodic job should handle, locked; rows another replica holds are skipped, not waited for."""
    return list(
        (
            await session.execute(
                sa.select(referrals).where(condition).order_by(order).limit(limit).with_for_update(skip_locked=True)
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


# --- the access log -----------------------------------------------------------------------------


async def log_personal_data_read(session: AsyncSession, **values: Any) -> None:
    await session.execute(personal_data_reads.insert().values(**values))
