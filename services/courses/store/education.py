"""The SQL of tailored education: referrers' requests, and the places a course keeps for the referrer's referrals."""

from __future__ import annotations

from datetime import date
from typing import Any
from uuid import UUID

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from services.courses.store import Time, Uuid, courses, enrolments, known_referrals, metadata, partnerships
from shared.db import find_row

education_requests = sa.Table(
    "education_requests",
    metadata,
    sa.Column("id", Uuid, primary_key=True),
    sa.Column("library", sa.Text, nullable=False),
    sa.Column("municipality", sa.Text, nullable=False),
    sa.Column("partner_id", Uuid, nullable=False),
    sa.Column("target_group", sa.Text, nullable=False),
    sa.Column("skill_area", sa.Text, nullable=False),
    sa.Column("clients", sa.Integer, sa.CheckConstraint("clients > 0"), nullable=False),
    sa.Column("preferred_from", sa.Date, nullable=False),
    sa.Column("preferred_until", sa.Date, nullable=False),
    sa.Column("note", sa.Text),
    sa.Column("status", sa.Text, nullable=False),
    sa.Column("course_id", Uuid, sa.ForeignKey("courses.id")),
    sa.Column("reserved_places", sa.Integer),
    sa.Column("reason", sa.Text),
    sa.Column("requested_by", sa.Text, nullable=False),
    sa.Column("answered_by", sa.Text),
    sa.Column("created_at", Time, nullable=False),
    sa.Column("answered_at", Time),
    sa.Column("version", sa.Integer, nullable=False),
    sa.Column("reserved_until", sa.Date),
    sa.Column("reservation_ended_at", Time),
    sa.Column("reservation_end", sa.Text),  # a ReservationEnd
    sa.Index("education_requests_by_library", "library", "created_at", "id"),
    sa.Index("education_requests_by_partner", "partner_id", "created_at", "id"),
    sa.Index("education_requests_by_municipality", "municipality", "created_at", "id"),
)


async def add_request(session: AsyncSession, **values: Any) -> None:
    await session.execute(education_requests.insert().values(**values))


async def find_request(session: AsyncSession, request_id: UUID, *, for_update: bool = False) -> sa.Row | None:
    return await find_row(session, education_requests, request_id, for_update=for_update)


async def update_request(session: AsyncSession, request_id: UUID, **values: Any) -> None:
    await session.execute(education_requests.update().where(education_requests.c.id == request_id).values(**values))


async def reserve_places(
    session: AsyncSession, course_id: UUID, partner_id: UUID, places: int, *, until: date | None
) -> None:
    await session.execute(
        courses.update()
        .where(courses.c.id == course_id)
        .values(reserved_for_partner_id=partner_id, reserved_places=places, reserved_until=until)
    )


async def lapsed_reservations(session: AsyncSession, today: date) -> list[UUID]:
    """Planned requests whose course still keeps places after the reservation's last day (before `today`)."""
    c, r = courses, education_requests
    statement = (
        sa.select(r.c.id)
        .select_from(r.join(c, c.c.id == r.c.course_id))
        .where(
            c.c.reserved_for_partner_id.is_not(None),
            c.c.reservation_ended_at.is_(None),
            c.c.reserved_until < today,
            r.c.status == "planned",
            r.c.reservation_ended_at.is_(None),
        )
        .order_by(r.c.id)
    )
    return list((await session.execute(statement)).scalars())


async def places_taken_by_partner(session: AsyncSession, session_id: UUID, partner_id: UUID) -> int:
    """Confirmed places of a session held by the referrals of one referrer."""
    e, r = enrolments, known_referrals
    statement = (
        sa.select(sa.func.count())
        .select_from(e.join(r, r.c.id == e.c.referral_id))
        .where(e.c.session_id == session_id, e.c.status == "confirmed", r.c.referring_partner_id == partner_id)
    )
    return int((await session.execute(statement)).scalar_one())


async def is_referrer_of(session: AsyncSession, referral_id: UUID | None, partner_id: UUID) -> bool:
    if referral_id is None:
        return False
    r = known_referrals
    statement = sa.select(r.c.id).where(r.c.id == referral_id, r.c.referring_partner_id == partner_id)
    return (await session.execute(statement)).first() is not None


async def partners_as_referrer(session: AsyncSession, partner_id: UUID, library: str) -> bool:
    """Whether the partner's partnership with the library is running (not suspended or ended) as referrer."""
    p = partnerships.table
    statement = sa.select(p.c.id).where(
        p.c.partner_id == partner_id,
        p.c.library == library,
        p.c.activated,
        sa.not_(p.c.ended),
        p.c.roles.contains(["referrer"]),
    )
    return (await session.execute(statement.limit(1))).first() is not None
