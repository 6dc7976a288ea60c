"""Tables of training needs and of refusals for lack of a qualification (in `store.metadata`, migration 002),
and the queries that find who needs which qualification."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any
from uuid import UUID

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import UUID as PgUUID
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from services.volunteers import store
from services.volunteers.domain.training_needs import IN_SERVICE as COUNTED
from services.volunteers.domain.training_needs import Holder, Refusal

OPEN, MET = "open", "met"

training_needs = sa.Table(
    "training_needs",
    store.metadata,
    sa.Column("id", PgUUID(as_uuid=True), primary_key=True),
    sa.Column("library", sa.Text, nullable=False),
    sa.Column("municipality", sa.Text, nullable=False),
    sa.Column("qualification", sa.Text, nullable=False),
    sa.Column("status", sa.Text, nullable=False),
    sa.Column("volunteers", sa.Integer, nullable=False),
    sa.Column("expiring", sa.Integer, nullable=False),
    sa.Column("refused", sa.Integer, nullable=False),
    sa.Column("needed_by", sa.Date, nullable=False),
    sa.Column("validity_months", sa.Integer),
    sa.Column("revision", sa.Integer, nullable=False),
    sa.Column("opened_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("met_at", sa.DateTime(timezone=True)),
    sa.Index(
        "training_needs_one_open",
        "library",
        "qualification",
        unique=True,
        postgresql_where=sa.text("status = 'open'"),
    ),
    sa.Index("training_needs_by_library", "library", "opened_at", "id"),
)

qualification_refusals = sa.Table(
    "qualification_refusals",
    store.metadata,
    sa.Column("volunteer_id", PgUUID(as_uuid=True), sa.ForeignKey("volunteers.id"), primary_key=True),
    sa.Column("qualification", sa.Text, primary_key=True),
    sa.Column("library", sa.Text, nullable=False),
    sa.Column("municipality", sa.Text, nullable=False),
    sa.Column("refused_at", sa.DateTime(timezone=True), nullable=False),
    sa.Index("qualification_refusals_by_library", "library", "qualification"),
)

IN_SERVICE = [status.value for status in COUNTED]


@dataclass(frozen=True)
class NeedKey:
    library: str
    municipality: str
    qualification: str


async def keys_to_review(session: AsyncSession, until: date, library: str | None = None) -> list[NeedKey]:
    """Every library and qualification where a need may be, or may have ended: expiring grants, refusals, and
    the open needs themselves."""
    q, v, r, n = store.qualifications, store.volunteers, qualification_refusals, training_needs
    expiring = (
        sa.select(q.c.library, q.c.municipality, q.c.code.label("qualification"))
        .join(v, v.c.id == q.c.volunteer_id)
        .where(q.c.valid_until.is_not(None), q.c.valid_until <= until, v.c.status.in_(IN_SERVICE))
    )
    refused = sa.select(r.c.library, r.c.municipality, r.c.qualification)
    still_open = sa.select(n.c.library, n.c.municipality, n.c.qualification).where(n.c.status == OPEN)
    if library is not None:
        expiring = expiring.where(q.c.library == library)
        refused = refused.where(r.c.library == library)
        still_open = still_open.where(n.c.library == library)
    union = sa.union(expiring, refused, still_open).subquery()
    rows = await session.execute(sa.select(union).order_by(union.c.library, union.c.qualification))
    return [NeedKey(row.library, row.municipality, row.qualification) for row in rows]


async def lock_key(session: AsyncSession, key: NeedKey) -> None:
    """One decision per library and qualification at a time, whichever replica or request makes it."""
    await session.execute(
        sa.select(sa.func.pg_advisory_xact_lock(sa.func.hashtext(f"training-need:{key.library}:{key.qualification}")))
    )


async def holders(session: AsyncSession, key: NeedKey) -> list[Holder]:
    q, v = store.qualifications, store.volunteers
    rows = await session.execute(
        sa.select(q.c.volunteer_id, q.c.valid_until)
        .join(v, v.c.id == q.c.volunteer_id)
        .where(q.c.library == key.library, q.c.code == key.qualification, v.c.status.in_(IN_SERVICE))
    )
    return [Holder(row.volunteer_id, row.valid_until) for row in rows]


async def refusals(session: AsyncSession, key: NeedKey, local_date: Callable[[datetime], date]) -> list[Refusal]:
    r, q, v = qualification_refusals, store.qualifications, store.volunteers
    rows = await session.execute(
        sa.select(r.c.volunteer_id, r.c.refused_at, q.c.code.is_not(None).label("holds"), q.c.valid_until)
        .join(v, v.c.id == r.c.volunteer_id)
        .outerjoin(q, sa.and_(q.c.volunteer_id == r.c.volunteer_id, q.c.code == r.c.qualification))
        .where(r.c.library == key.library, r.c.qualification == key.qualification, v.c.status.in_(IN_SERVICE))
    )
    return [Refusal(row.volunteer_id, local_date(row.refused_at), bool(row.holds), row.valid_until) for row in rows]


async def forget_refusals(session: AsyncSession, key: NeedKey, volunteer_ids: list[UUID]) -> None:
    """Refusals of volunteers who hold the qualification now (or left): they no longer say anything."""
    if volunteer_ids:
        r = qualification_refusals
        await session.execute(
            r.delete().where(r.c.qualification == key.qualification, r.c.volunteer_id.in_(volunteer_ids))
        )


async def record_refusal(
    session: AsyncSession, volunteer_id: UUID, qualification: str, library: str, municipality: str, at: datetime
) -> None:
    """The first refusal counts: it says since when the volunteer waits for the training."""
    await session.execute(
        insert(qualification_refusals)
        .values(
            volunteer_id=volunteer_id,
            qualification=qualification,
            library=library,
            municipality=municipality,
            refused_at=at,
        )
        .on_conflict_do_nothing()
    )


async def open_need(session: AsyncSession, key: NeedKey) -> sa.Row | None:
    n = training_needs
    return (
        await session.execute(
            sa.select(n).where(n.c.library == key.library, n.c.qualification == key.qualification, n.c.status == OPEN)
        )
    ).first()


async def add_need(session: AsyncSession, **values: Any) -> None:
    await session.execute(training_needs.insert().values(status=OPEN, **values))


async def update_need(session: AsyncSession, need_id: UUID, **values: Any) -> None:
    await session.execute(training_needs.update().where(training_needs.c.id == need_id).values(**values))


async def validity_evidence(session: AsyncSession, key: NeedKey) -> tuple[list[int | None], list[tuple[date, date]]]:
    """What the library's modules say of the qualification's validity, and how long its grants held."""
    m, q = store.training_modules, store.qualifications
    modules = (
        await session.execute(
            sa.select(m.c.validity_months).where(m.c.library == key.library, m.c.qualification == key.qualification)
        )
    ).scalars()
    grants = await session.execute(
        sa.select(q.c.obtained_on, q.c.valid_until).where(
            q.c.library == key.library, q.c.code == key.qualification, q.c.valid_until.is_not(None)
        )
    )
    return list(modules), [(row.obtained_on, row.valid_until) for row in grants]
