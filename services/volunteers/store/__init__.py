"""The volunteers service's tables (schema `volunteers`) and the queries its use cases need."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any
from uuid import UUID

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import JSONB, insert
from sqlalchemy.dialects.postgresql import UUID as PgUUID
from sqlalchemy.ext.asyncio import AsyncSession

from shared.db import find_row
from shared.known_parties import KnownParties, KnownPartnerships

metadata = sa.MetaData()


def _uuid(name: str, *args: Any, **kwargs: Any) -> sa.Column[Any]:
    return sa.Column(name, PgUUID(as_uuid=True), *args, **kwargs)


def _time(name: str, **kwargs: Any) -> sa.Column[Any]:
    return sa.Column(name, sa.DateTime(timezone=True), **kwargs)


# --- projections of the partners service's events -----------------------------------------------

# Libraries and partners as the partners service's events describe them (shared/known_parties.py).
known = KnownParties(metadata)
known_libraries = known.libraries
known_partners = known.partners

# Partnerships with their terms (roles, what each side brings in), the same piece as the courses service's.
partnerships = KnownPartnerships(metadata, terms=True)
known_partnerships = partnerships.table

# --- recruitment --------------------------------------------------------------------------------

vacancies = sa.Table(
    "vacancies",
    metadata,
    _uuid("id", primary_key=True),
    sa.Column("library", sa.Text, nullable=False),
    sa.Column("municipality", sa.Text, nullable=False),
    sa.Column("title", sa.Text, nullable=False),
    sa.Column("description", sa.Text, nullable=False),
    sa.Column("hours_per_week", sa.Integer),
    sa.Column("qualifications_needed", JSONB, nullable=False),
    sa.Column("certificate_of_conduct_required", sa.Boolean, nullable=False),
    sa.Column("status", sa.Text, nullable=False),
    sa.Column("version", sa.Integer, nullable=False),
    _time("created_at", nullable=False),
    _time("updated_at", nullable=False),
    _time("published_at"),
    _time("closed_at"),
    sa.Index("vacancies_by_library", "library", "created_at", "id"),
    sa.Index("vacancies_by_municipality", "municipality", "created_at", "id"),
)

volunteers = sa.Table(
    "volunteers",
    metadata,
    _uuid("id", primary_key=True),
    sa.Column("kind", sa.Text, nullable=False),
    sa.Column("library", sa.Text, nullable=False),
    sa.Column("municipality", sa.Text, nullable=False),
    sa.Column("status", sa.Text, nullable=False),
    sa.Column("status_reason", sa.Text),
    sa.Column("channel", sa.Text, nullable=False),
    _uuid("via_partner_id"),
    _uuid("vacancy_id", sa.ForeignKey("vacancies.id")),
    # Written in clear before migration 003 only: the privacy sweep seals such rows and empties these.
    sa.Column("name", sa.Text),
    sa.Column("email", sa.Text),
    sa.Column("phone", sa.Text),
    sa.Column("motivation", sa.Text),
    sa.Column("person_sealed", sa.LargeBinary),  # name, e-mail, phone, motivation (store/personal_data.py)
    sa.Column("email_digest", sa.LargeBinary),
    sa.Column("certificate_of_conduct_required", sa.Boolean, nullable=False),
    sa.Column("version", sa.Integer, nullable=False),
    _time("applied_at", nullable=False),
    _time("updated_at", nullable=False),
    _time("left_service_at"),
    _time("anonymised_at"),
    sa.Index("volunteers_by_library", "library", "applied_at", "id"),
    sa.Index("volunteers_by_municipality", "municipality", "applied_at", "id"),
    sa.Index("volunteers_by_partner", "via_partner_id", "applied_at", "id"),
    sa.Index(
        "volunteers_by_email_digest", "library", "email_digest", postgresql_where=sa.text("email_digest IS NOT NULL")
    ),
    sa.Index("volunteers_in_clear", "id", postgresql_where=sa.text("name IS NOT NULL")),
    sa.Index(
        "volunteers_awaiting_erasure",
        "library",
        "left_service_at",
        postgresql_where=sa.text("anonymised_at IS NULL AND left_service_at IS NOT NULL"),
    ),
)

volunteer_history = sa.Table(
    "volunteer_history",
    metadata,
    sa.Column("id", sa.BigInteger, primary_key=True, autoincrement=True),
    _uuid("volunteer_id", sa.ForeignKey("volunteers.id"), nullable=False),
    sa.Column("status", sa.Text, nullable=False),
    sa.Column("step", sa.Text),
    _time("at", nullable=False),
    sa.Column("actor", sa.Text, nullable=False),
    sa.Column("reason", sa.Text),
    sa.Index("volunteer_history_by_volunteer", "volunteer_id", "id"),
)

internships = sa.Table(
    "internships",
    metadata,
    _uuid("volunteer_id", sa.ForeignKey("volunteers.id"), primary_key=True),
    _uuid("school_partner_id", nullable=False),
    sa.Column("starts_on", sa.Date, nullable=False),
    sa.Column("ends_on", sa.Date, nullable=False),
    sa.Column("supervisor", JSONB(none_as_null=True)),  # in clear before migration 003 only, like the volunteer's name
    sa.Column("supervisor_sealed", sa.LargeBinary),
    sa.Column("learning_goals", JSONB, nullable=False),
    sa.Column("hours", sa.Integer, nullable=False),
    sa.Column("ended_on", sa.Date),
    sa.Index("internships_by_end", "ended_on", "ends_on"),
    _time("confirmed_at"),  # the school confirmed the period
    sa.Column("confirmed_by", sa.Text),
    sa.Column("assessment_sealed", sa.LargeBinary),  # the library's assessment at the end (InternAssessment)
    _time("assessed_at"),
    sa.Column("assessed_by", sa.Text),
)

certificates = sa.Table(
    "certificates",
    metadata,
    _uuid("id", primary_key=True),
    _uuid("volunteer_id", sa.ForeignKey("volunteers.id"), nullable=False),
    _time("requested_at", nullable=False),
    _time("received_at"),
    sa.Column("issued_on", sa.Date),
    sa.Column("valid_until", sa.Date),
    sa.Index("certificates_by_volunteer", "volunteer_id", "requested_at"),
)

# --- training -----------------------------------------------------------------------------------

training_modules = sa.Table(
    "training_modules",
    metadata,
    _uuid("id", primary_key=True),
    sa.Column("library", sa.Text, nullable=False),
    sa.Column("municipality", sa.Text, nullable=False),
    sa.Column("title", sa.Text, nullable=False),
    sa.Column("description", sa.Text, nullable=False),
    sa.Column("delivered_by", sa.Text, nullable=False),
    _uuid("provider_partner_id"),
    _uuid("purchase_id", unique=True),
    sa.Column("qualification", sa.Text),
    sa.Column("validity_months", sa.Integer),
    sa.Column("version", sa.Integer, nullable=False),
    _time("created_at", nullable=False),
    _time("updated_at", nullable=False),
    sa.Index("training_modules_by_library", "library", "created_at", "id"),
)

training_sessions = sa.Table(
    "training_sessions",
    metadata,
    _uuid("id", primary_key=True),
    _uuid("module_id", sa.ForeignKey("training_modules.id"), nullable=False),
    sa.Column("library", sa.Text, nullable=False),
    sa.Column("municipality", sa.Text, nullable=False),
    _time("starts_at", nullable=False),
    _time("ends_at"),
    sa.Column("place", sa.Text, nullable=False),
    sa.Column("capacity", sa.Integer),
    _time("created_at", nullable=False),
    sa.Index("training_sessions_by_module", "module_id", "starts_at", "id"),
    sa.Column("scheduled_by", sa.Text),
    sa.Index("training_sessions_by_library", "library", "starts_at", "id"),
    sa.Index("training_sessions_by_municipality", "municipality", "starts_at", "id"),
)

attendance = sa.Table(
    "attendance",
    metadata,
    _uuid("session_id", sa.ForeignKey("training_sessions.id"), primary_key=True),
    _uuid("volunteer_id", sa.ForeignKey("volunteers.id"), primary_key=True),
    sa.Column("attended", sa.Boolean, nullable=False),
    sa.Column("completed", sa.Boolean, nullable=False),
    _time("recorded_at", nullable=False),
    sa.Column("recorded_by", sa.Text),
)

qualifications = sa.Table(
    "qualifications",
    metadata,
    _uuid("volunteer_id", sa.ForeignKey("volunteers.id"), primary_key=True),
    sa.Column("code", sa.Text, primary_key=True),
    sa.Column("library", sa.Text, nullable=False),
    sa.Column("municipality", sa.Text, nullable=False),
    _uuid("module_id", sa.ForeignKey("training_modules.id")),
    _uuid("session_id", sa.ForeignKey("training_sessions.id")),
    sa.Column("obtained_on", sa.Date, nullable=False),
    sa.Column("valid_until", sa.Date),
    _time("expired_at"),
    sa.Index("qualifications_by_expiry", "expired_at", "valid_until"),
    sa.Column("expiring_told_for", sa.Date),  # the last valid day its holder's supplier was told of
)

# --- assignment ---------------------------------------------------------------------------------

openings = sa.Table(
    "openings",
    metadata,
    _uuid("id", primary_key=True),
    _uuid("course_id", nullable=False, unique=True),
    sa.Column("library", sa.Text, nullable=False),
    sa.Column("municipality", sa.Text, nullable=False),
    sa.Column("title", sa.Text, nullable=False),
    sa.Column("skill_area", sa.Text, nullable=False),
    sa.Column("volunteers_needed", sa.Integer, nullable=False),
    sa.Column("qualifications_needed", JSONB, nullable=False),
    sa.Column("certificate_of_conduct_required", sa.Boolean, nullable=False),
    sa.Column("version", sa.Integer, nullable=False),
    _time("opened_at", nullable=False),
    _time("updated_at", nullable=False),
    _time("cancelled_at"),
    sa.Index("openings_by_library", "library", "opened_at", "id"),
)

assignments = sa.Table(
    "assignments",
    metadata,
    _uuid("id", primary_key=True),
    _uuid("volunteer_id", sa.ForeignKey("volunteers.id"), nullable=False),
    sa.Column("library", sa.Text, nullable=False),
    sa.Column("municipality", sa.Text, nullable=False),
    sa.Column("kind", sa.Text, nullable=False),
    sa.Column("status", sa.Text, nullable=False),
    _uuid("opening_id", sa.ForeignKey("openings.id")),
    _uuid("course_id"),
    _uuid("course_session_id"),
    sa.Column("participant_pseudonym", sa.Text),
    _uuid("referral_id"),  # a buddy's: the referral the participant is known by (store/referrals.py)
    sa.Column("starts_on", sa.Date),
    sa.Column("ends_on", sa.Date),
    sa.Column("version", sa.Integer, nullable=False),
    _time("assigned_at", nullable=False),
    _time("ended_at"),
    sa.Column("assigned_by", sa.Text, nullable=False),
    sa.Index("assignments_by_library", "library", "assigned_at", "id"),
    sa.Index("assignments_by_volunteer", "volunteer_id", "assigned_at", "id"),
    sa.Index("assignments_by_opening", "opening_id", "status"),
    sa.Index("assignments_by_referral", "referral_id", "status", postgresql_where=sa.text("referral_id IS NOT NULL")),
)

hours = sa.Table(
    "hours",
    metadata,
    _uuid("id", primary_key=True),
    _uuid("assignment_id", sa.ForeignKey("assignments.id"), nullable=False),
    _uuid("volunteer_id", sa.ForeignKey("volunteers.id"), nullable=False),
    sa.Column("library", sa.Text, nullable=False),
    sa.Column("municipality", sa.Text, nullable=False),
    sa.Column("worked_on", sa.Date, nullable=False),
    sa.Column("month", sa.Text, nullable=False),
    sa.Column("minutes", sa.Integer, nullable=False),
    sa.Column("note", sa.Text),
    _time("logged_at", nullable=False),
    sa.Column("logged_by", sa.Text, nullable=False),
    sa.Column("version", sa.Integer, nullable=False, server_default=sa.text("1")),
    _time("removed_at"),  # removed: it stays, and no longer counts
    sa.Index("hours_by_assignment", "assignment_id"),
    sa.Index("hours_by_month", "month", "library", "volunteer_id"),
    sa.Index("hours_by_volunteer_day", "volunteer_id", "worked_on", postgresql_where=sa.text("removed_at IS NULL")),
    sa.Index("hours_by_library_day", "library", "worked_on", postgresql_where=sa.text("removed_at IS NULL")),
    sa.Index("hours_by_municipality_day", "municipality", "worked_on", postgresql_where=sa.text("removed_at IS NULL")),
)


# --- lookups ------------------------------------------------------------------------------------


def _active_partnership(
    partner_id: UUID | None, role: str | None, contribution: str | None = None
) -> list[sa.ColumnElement[bool]]:
    p = known_partnerships
    conditions = [is_partner(p.c.partner_id, partner_id), p.c.activated, sa.not_(p.c.ended)]
    if role is not None:
        conditions.append(p.c.roles.contains([role]))
    if contribution is not None:
        conditions.append(p.c.partner_contributions.contains([contribution]))
    return conditions


async def has_active_partnership(
    session: AsyncSession, partner_id: UUID, library: str, role: str | None, contribution: str | None = None
) -> bool:
    """Whether the partner actively partners with the library, in `role` (bringing `contribution`) where named."""
    p = known_partnerships
    statement = sa.select(p.c.id).where(p.c.library == library, *_active_partnership(partner_id, role, contribution))
    return (await session.execute(statement.limit(1))).first() is not None


def partnered_libraries(partner_id: UUID | None, role: str) -> sa.Select[tuple[str]]:
    """The libraries a partner actively partners with in `role`, as a subquery for scoping lists."""
    return sa.select(known_partnerships.c.library).where(*_active_partnership(partner_id, role))


def is_partner(column: sa.ColumnElement[Any], partner_id: UUID | None) -> sa.ColumnElement[bool]:
    """`column = partner_id`, and nothing at all for no partner (never `IS NULL`, which would match others)."""
    return sa.false() if partner_id is None else column == partner_id


async def find(session: AsyncSession, table: sa.Table, row_id: UUID, *, for_update: bool = False) -> sa.Row | None:
    return await find_row(session, table, row_id, for_update=for_update)


async def find_internship(session: AsyncSession, volunteer_id: UUID) -> sa.Row | None:
    return (await session.execute(sa.select(internships).where(internships.c.volunteer_id == volunteer_id))).first()


async def find_internships(session: AsyncSession, *volunteer_ids: UUID) -> Sequence[sa.Row]:
    return (await session.execute(sa.select(internships).where(internships.c.volunteer_id.in_(volunteer_ids)))).all()


async def find_certificates(session: AsyncSession, *volunteer_ids: UUID) -> Sequence[sa.Row]:
    statement = (
        sa.select(certificates)
        .where(certificates.c.volunteer_id.in_(volunteer_ids))
        .order_by(certificates.c.requested_at, certificates.c.id)
    )
    return (await session.execute(statement)).all()


async def find_qualifications(session: AsyncSession, *volunteer_ids: UUID) -> Sequence[sa.Row]:
    statement = (
        sa.select(qualifications)
        .where(qualifications.c.volunteer_id.in_(volunteer_ids))
        .order_by(qualifications.c.code)
    )
    return (await session.execute(statement)).all()


async def upsert(
    session: AsyncSession, table: sa.Table, values: dict[str, Any], *, key: list[str], update: list[str]
) -> None:
    statement = insert(table).values(**values)
    if update:
        await session.execute(
            statement.on_conflict_do_update(
                index_elements=key, set_={name: statement.excluded[name] for name in update}
            )
        )
    else:
        await session.execute(statement.on_conflict_do_nothing(index_elements=key))
