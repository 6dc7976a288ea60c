"""The courses service's tables (schema `courses`): the offer, enrolment and the projections, and the look-ups its
use cases share. Purchasing's, tailored education's, residents' and training needs' tables live in their own
modules beside it, on the same `metadata`."""

from __future__ import annotations

from uuid import UUID

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import JSONB, insert
from sqlalchemy.dialects.postgresql import UUID as PgUUID
from sqlalchemy.ext.asyncio import AsyncSession

from shared.db import find_row
from shared.known_parties import KnownParties, KnownPartnerships
from shared.tenancy import Actor, Role

metadata = sa.MetaData()
Uuid = PgUUID(as_uuid=True)
Time = sa.DateTime(timezone=True)

# --- local projections of other services' events ---------------------------------------------------

# Libraries and partners as the partners service's events describe them (shared/known_parties.py).
known = KnownParties(metadata)
partnerships = KnownPartnerships(metadata, terms=True)  # a partner offers courses at a library it partners with
known_libraries = known.libraries
known_partners = known.partners

known_referrals = sa.Table(
    "known_referrals",
    metadata,
    sa.Column("id", Uuid, primary_key=True),
    sa.Column("municipality", sa.Text, nullable=False),
    sa.Column("library", sa.Text, nullable=False),
    sa.Column("participant_pseudonym", sa.Text, nullable=False),
    sa.Column("referring_partner_id", Uuid),  # the referral's parties: only they enrol it
    sa.Column("receiving_partner_id", Uuid),
    sa.Column("status", sa.Text),  # the referral's status as its latest event says (migration 006)
    sa.Column("status_at", sa.DateTime(timezone=True)),
)

# --- the offer ---------------------------------------------------------------------------------------

courses = sa.Table(
    "courses",
    metadata,
    sa.Column("id", Uuid, primary_key=True),
    sa.Column("municipality", sa.Text, nullable=False),
    sa.Column("library", sa.Text),
    sa.Column("offered_by_partner_id", Uuid),
    sa.Column("title", sa.Text, nullable=False),
    sa.Column("description", sa.Text, nullable=False),
    sa.Column("skill_area", sa.Text, nullable=False),
    sa.Column("audience", sa.Text, nullable=False),
    sa.Column("audience_partner_id", Uuid),
    sa.Column("level", sa.Text),
    sa.Column("format", sa.Text, nullable=False),
    sa.Column("price_cents", sa.BigInteger, sa.CheckConstraint("price_cents >= 0"), nullable=False),
    sa.Column("location_kind", sa.Text, nullable=False),
    sa.Column("location_library", sa.Text),
    sa.Column("location_branch", sa.Text),
    sa.Column("location_partner_id", Uuid),
    sa.Column("location_address", sa.Text),
    sa.Column("location_place", sa.Text),
    sa.Column("volunteers_needed", sa.Integer, sa.CheckConstraint("volunteers_needed >= 0"), nullable=False),
    sa.Column("library_contributions", JSONB, nullable=False),
    sa.Column("status", sa.Text, nullable=False),
    sa.Column("version", sa.Integer, nullable=False),
    sa.Column("created_by", sa.Text, nullable=False),
    sa.Column("created_at", Time, nullable=False),
    sa.Column("published_at", Time),
    sa.Column("updated_at", Time, nullable=False),
    sa.CheckConstraint("library IS NOT NULL OR offered_by_partner_id IS NOT NULL"),
    sa.Index("courses_offer", "municipality", "title", "id"),
    # planned for a referrer's request for tailored education: places kept for its referrals (store/education.py)
    sa.Column("reserved_for_partner_id", Uuid),
    sa.Column("reserved_places", sa.Integer, nullable=False, server_default="0"),
    # the reservation's last day (None: until the referrer releases it) and when it ended (migration 011)
    sa.Column("reserved_until", sa.Date),
    sa.Column("reservation_ended_at", Time),
    # the hosting library's tasks for a partner's course: task → {"done_at", "done_by"} (queries/offer.py)
    sa.Column("library_tasks", JSONB, nullable=False, server_default=sa.text("'{}'::jsonb")),
    sa.Index("courses_by_library", "library"),
    sa.Index("courses_by_partner", "offered_by_partner_id"),
    sa.Index(
        "courses_reservations_running",
        "reserved_until",
        postgresql_where=sa.text("reserved_for_partner_id IS NOT NULL AND reservation_ended_at IS NULL"),
    ),
)

sessions = sa.Table(
    "sessions",
    metadata,
    sa.Column("id", Uuid, primary_key=True),
    sa.Column("course_id", Uuid, sa.ForeignKey("courses.id"), nullable=False),
    sa.Column("meetings", JSONB, nullable=False),
    sa.Column("starts_at", Time, nullable=False),
    sa.Column("ends_at", Time, nullable=False),
    sa.Column("place", sa.Text),
    sa.Column("capacity", sa.Integer, sa.CheckConstraint("capacity > 0"), nullable=False),
    sa.Column("confirmed_count", sa.Integer, nullable=False, server_default="0"),
    sa.Column("waitlisted_count", sa.Integer, nullable=False, server_default="0"),
    sa.Column("next_sequence", sa.BigInteger, nullable=False, server_default="1"),
    sa.Column("status", sa.Text, nullable=False),
    sa.Column("version", sa.Integer, nullable=False),
    sa.Column("created_at", Time, nullable=False),
    sa.Column("updated_at", Time, nullable=False),
    sa.CheckConstraint("confirmed_count <= capacity", name="sessions_not_overbooked"),
    sa.CheckConstraint("confirmed_count >= 0 AND waitlisted_count >= 0"),
    sa.Index("sessions_by_course", "course_id", "starts_at"),
    sa.Index("sessions_by_start", "starts_at", "id"),
)

ACTIVE_ENROLMENT = "status IN ('confirmed', 'waitlisted')"

enrolments = sa.Table(
    "enrolments",
    metadata,
    sa.Column("id", Uuid, primary_key=True),
    sa.Column("session_id", Uuid, sa.ForeignKey("sessions.id"), nullable=False),
    sa.Column("course_id", Uuid, sa.ForeignKey("courses.id"), nullable=False),
    sa.Column("participant_pseudonym", sa.Text, nullable=False),
    sa.Column("referral_id", Uuid),
    sa.Column("status", sa.Text, nullable=False),
    sa.Column("sequence", sa.BigInteger, nullable=False),
    sa.Column("enrolled_by", sa.Text, nullable=False),
    sa.Column("enrolled_by_library", sa.Text),
    sa.Column("enrolled_by_partner_id", Uuid),
    sa.Column("enrolled_at", Time, nullable=False),
    sa.Column("confirmed_at", Time),
    sa.Column("cancelled_at", Time),
    sa.Column("cancellation_reason", sa.Text),
    sa.Column("version", sa.Integer, nullable=False),
    sa.Column("updated_at", Time, nullable=False),
    sa.UniqueConstraint("session_id", "sequence"),
    sa.Index(
        "enrolments_one_active",
        "session_id",
        "participant_pseudonym",
        unique=True,
        postgresql_where=sa.text(ACTIVE_ENROLMENT),
    ),
    sa.Index("enrolments_waiting_list", "session_id", "sequence", postgresql_where=sa.text("status = 'waitlisted'")),
    sa.Index("enrolments_by_course", "course_id", "enrolled_at"),
    sa.Index("enrolments_by_referral", "referral_id"),
    sa.Index("enrolments_by_pseudonym", "participant_pseudonym"),
)

attendance = sa.Table(
    "attendance",
    metadata,
    sa.Column("enrolment_id", Uuid, sa.ForeignKey("enrolments.id"), primary_key=True),
    sa.Column("meeting", sa.Integer, sa.CheckConstraint("meeting >= 1"), primary_key=True),
    sa.Column("present", sa.Boolean, nullable=False),
    sa.Column("recorded_by", sa.Text, nullable=False),
    sa.Column("recorded_at", Time, nullable=False),
)

# --- shared look-ups -------------------------------------------------------------------------------


async def partner_municipality(session: AsyncSession, partner_id: UUID | None) -> str | None:
    row = await known.find_partner(session, partner_id)
    return None if row is None else row.municipality


async def find_course(session: AsyncSession, course_id: UUID, *, for_update: bool = False) -> sa.Row | None:
    return await find_row(session, courses, course_id, for_update=for_update)


async def find_session(session: AsyncSession, session_id: UUID, *, for_update: bool = False) -> sa.Row | None:
    """A session row; `for_update` takes its row lock, which every change to its places goes through."""
    return await find_row(session, sessions, session_id, for_update=for_update)


async def find_enrolment(session: AsyncSession, enrolment_id: UUID, *, for_update: bool = False) -> sa.Row | None:
    return await find_row(session, enrolments, enrolment_id, for_update=for_update)


async def upsert(session: AsyncSession, table: sa.Table, key: list[str], **values: object) -> None:
    """Projections take the latest event's word for a row."""
    await session.execute(
        insert(table)
        .values(**values)
        .on_conflict_do_update(index_elements=key, set_={k: v for k, v in values.items() if k not in key})
    )


async def municipality_of(session: AsyncSession, actor: Actor) -> str | None:
    """The municipality whose offer the actor sees; None for operators, who see every municipality."""
    if actor.role is Role.STAFF:
        return await known.library_municipality(session, actor.library) or actor.municipality
    if actor.role is Role.PARTNER:
        try:
            partner_id = UUID(actor.partner or "")
        except ValueError:
            return None
        return await partner_municipality(session, partner_id) or actor.municipality
    return actor.municipality


def visible_to(actor: Actor, table: sa.Table) -> sa.ColumnElement[bool]:
    """The SQL twin of `Actor.can_see_library` for a table with `library` and `municipality`."""
    if actor.role is Role.OPERATOR:
        return sa.true()
    if actor.role is Role.COORDINATOR:
        return table.c.municipality == actor.municipality
    if actor.role is Role.STAFF:
        return table.c.library == actor.library
    return sa.false()
