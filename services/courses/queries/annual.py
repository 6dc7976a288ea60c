"""The courses part of the annual report: the year's groups with their places, enrolments and attendance, per
library, per partner offering courses and overall; and training bought on the year's budget."""

from __future__ import annotations

from typing import Any
from uuid import UUID

import sqlalchemy as sa

from services.courses import store
from services.courses.store import purchasing as purchasing_store
from services.courses.store.figures import COMMITTED, SPENT
from shared.contracts.courses.api.annual import (
    AnnualCourseFigures,
    CourseYearFigures,
    GetAnnualCourseFigures,
    PurchaseYearFigures,
)
from shared.contracts.courses.api.courses import CourseStatus, SessionStatus
from shared.contracts.courses.events import EnrolmentStatus
from shared.reporting import annual_scope, year_bounds
from shared.tenancy import Actor
from shared.unit_of_work import UnitOfWork

c, s, e, a = store.courses, store.sessions, store.enrolments, store.attendance
p, q, b = purchasing_store.purchases, purchasing_store.purchase_quotes, purchasing_store.budgets


def _groups(actor: Actor, query: GetAnnualCourseFigures) -> sa.CTE:
    """The year's groups: not cancelled, of a course not cancelled, whose first meeting fell in the year."""
    start, end = year_bounds(query.year)
    return (
        sa.select(s.c.id, s.c.capacity, c.c.id.label("course"), c.c.library, c.c.offered_by_partner_id.label("partner"))
        .select_from(s.join(c, c.c.id == s.c.course_id))
        .where(
            *annual_scope(actor, c.c.municipality, c.c.library, municipality=query.municipality, library=query.library),
            c.c.status == CourseStatus.PUBLISHED.value,
            s.c.status == SessionStatus.SCHEDULED.value,
            s.c.starts_at >= start,
            s.c.starts_at < end,
        )
        .cte("groups")
    )


def _per_group(groups: sa.CTE) -> sa.Subquery:
    """Per group: its confirmed enrolments, those present at least once, and the attendance marks."""
    per_enrolment = (
        sa.select(
            e.c.session_id,
            e.c.id,
            sa.func.count(a.c.meeting).filter(a.c.present).label("present"),
            sa.func.count(a.c.meeting).label("registered"),
        )
        .select_from(e.outerjoin(a, a.c.enrolment_id == e.c.id))
        .where(e.c.status == EnrolmentStatus.CONFIRMED.value, e.c.session_id.in_(sa.select(groups.c.id)))
        .group_by(e.c.session_id, e.c.id)
        .subquery()
    )
    return (
        sa.select(
            per_enrolment.c.session_id,
            sa.func.count().label("enrolled"),
            sa.func.count().filter(per_enrolment.c.present > 0).label("attended"),
            sa.func.sum(per_enrolment.c.present).label("present"),
            sa.func.sum(per_enrolment.c.registered).label("registered"),
        )
        .group_by(per_enrolment.c.session_id)
        .subquery()
    )


async def annual_figures(work: UnitOfWork, actor: Actor, query: GetAnnualCourseFigures) -> AnnualCourseFigures:
    groups = _groups(actor, query)
    taken = _per_group(groups)

    def courses_by(*key: Any) -> sa.Select[Any]:
        return (
            sa.select(
                *key,
                sa.func.count(sa.distinct(groups.c.course)),
                sa.func.count(groups.c.id),
                sa.func.coalesce(sa.func.sum(groups.c.capacity), 0),
                sa.func.coalesce(sa.func.sum(taken.c.enrolled), 0),
                sa.func.coalesce(sa.func.sum(taken.c.attended), 0),
                sa.func.coalesce(sa.func.sum(taken.c.present), 0),
                sa.func.coalesce(sa.func.sum(taken.c.registered), 0),
            )
            .select_from(groups.outerjoin(taken, taken.c.session_id == groups.c.id))
            .group_by(*key)
        )

    bought_scope = annual_scope(
        actor, p.c.municipality, p.c.library, municipality=query.municipality, library=query.library
    )
    counted = p.c.status.in_([*COMMITTED, *SPENT])

    def bought_by(*key: Any) -> sa.Select[Any]:
        return (
            sa.select(
                *key,
                sa.func.coalesce(sa.func.sum(p.c.approved_amount_cents).filter(p.c.status.in_(COMMITTED)), 0),
                sa.func.coalesce(sa.func.sum(p.c.invoice_amount_cents).filter(p.c.status.in_(SPENT)), 0),
                sa.func.count().filter(counted),
                sa.func.count().filter(counted, p.c.delivered_on.is_not(None)),
                sa.func.coalesce(sa.func.sum(p.c.participants).filter(counted, p.c.delivered_on.is_not(None)), 0),
            )
            .select_from(p.outerjoin(q, q.c.id == p.c.chosen_quote_id))
            .where(*bought_scope, p.c.budget_year == query.year)
            .group_by(*key)
        )

    budget_scope = annual_scope(
        actor, b.c.municipality, b.c.library, municipality=query.municipality, library=query.library
    )
    async with work.read() as session:
        by_library = (await session.execute(courses_by(groups.c.library).where(groups.c.library.is_not(None)))).all()
        by_partner = (await session.execute(courses_by(groups.c.partner).where(groups.c.partner.is_not(None)))).all()
        overall = (await session.execute(courses_by())).one()
        budgets = {
            row.library: row
            for row in (await session.execute(sa.select(b).where(*budget_scope, b.c.year == query.year))).all()
        }
        bought = {row[0]: row[1:] for row in (await session.execute(bought_by(p.c.library))).all()}
        from_partner = (
            await session.execute(bought_by(q.c.provider_partner_id).where(q.c.provider_partner_id.is_not(None)))
        ).all()
    libraries = []
    for library in sorted(set(budgets) | set(bought)):
        budget = budgets.get(library)
        _, _, purchases, delivered, participants = bought.get(library, (0, 0, 0, 0, 0))
        libraries.append(
            PurchaseYearFigures(
                library=library,
                budget_cents=budget.amount_cents if budget is not None else 0,
                committed_cents=budget.committed_cents if budget is not None else 0,
                spent_cents=budget.spent_cents if budget is not None else 0,
                purchases=int(purchases),
                delivered=int(delivered),
                participants=int(participants),
            )
        )
    total = PurchaseYearFigures(
        budget_cents=sum(x.budget_cents for x in libraries),
        committed_cents=sum(x.committed_cents for x in libraries),
        spent_cents=sum(x.spent_cents for x in libraries),
        purchases=sum(x.purchases for x in libraries),
        delivered=sum(x.delivered for x in libraries),
        participants=sum(x.participants for x in libraries),
    )
    return AnnualCourseFigures(
        year=query.year,
        courses=[
            *(_courses(row[1:], library=row[0]) for row in by_library),
            *(_courses(row[1:], partner_id=row[0]) for row in by_partner),
            _courses(tuple(overall)),
        ],
        purchases=[
            *libraries,
            *(
                PurchaseYearFigures(
                    partner_id=row[0],
                    budget_cents=0,
                    committed_cents=int(row[1]),
                    spent_cents=int(row[2]),
                    purchases=int(row[3]),
                    delivered=int(row[4]),
                    participants=int(row[5]),
                )
                for row in from_partner
            ),
            total,
        ],
    )


def _courses(
    values: tuple[Any, ...], *, library: str | None = None, partner_id: UUID | None = None
) -> CourseYearFigures:
    courses, groups, places, enrolled, attended, present, registered = (int(v or 0) for v in values)
    return CourseYearFigures(
        library=library,
        partner_id=partner_id,
        courses=courses,
        groups=groups,
        places=places,
        enrolled=enrolled,
        attended=attended,
        present=present,
        registered=registered,
    )
