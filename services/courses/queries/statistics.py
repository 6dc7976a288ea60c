"""Figures for the gateway's municipality overview: places free and waiting lists, budgets committed and spent."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any
from uuid import UUID

import msgspec
import sqlalchemy as sa

from services.courses import store
from services.courses.domain.purchasing import budget_year_of, check_may_read_purchasing
from services.courses.store.education import education_requests
from shared.contracts.courses.api.courses import CourseStatus, SessionStatus
from shared.contracts.courses.api.education import EducationRequestStatus
from shared.contracts.courses.api.purchasing import PurchaseStatus
from shared.contracts.courses.api.statistics import (
    CourseFigures,
    CoursesStatistics,
    GetCoursesStatistics,
    LibraryCourseFigures,
    PartnerCourseFigures,
    PurchaseFigures,
)
from shared.tenancy import Actor, Role
from shared.unit_of_work import UnitOfWork

c, s, p, q, b = store.courses, store.sessions, store.purchases, store.purchase_quotes, store.budgets
COMMITTED = [
    PurchaseStatus.APPROVED.value,
    PurchaseStatus.ORDERED.value,
    PurchaseStatus.DELIVERED.value,
    PurchaseStatus.INVOICE_AWAITING_APPROVAL.value,  # the commitment stays until the invoice is booked
]
SPENT = [PurchaseStatus.INVOICED.value, PurchaseStatus.CLOSED.value]
NO_COURSES = CourseFigures(courses=0, places=0, places_free=0, waiting_list=0)
NO_PURCHASES = PurchaseFigures(budget_cents=0, committed_cents=0, spent_cents=0)


def in_scope(table: sa.Table, actor: Actor, query: GetCoursesStatistics) -> list[sa.ColumnElement[bool]]:
    """Operators all (or one municipality), coordinators their municipality, staff their library."""
    where: list[sa.ColumnElement[bool]] = []
    municipality = query.municipality if actor.role is Role.OPERATOR else actor.municipality
    if municipality is not None:
        where.append(table.c.municipality == municipality)
    library = actor.library if actor.role is Role.STAFF else query.library
    if library is not None:
        where.append(table.c.library == library)
    return where


def course_figures(
    now: datetime, group: sa.ColumnElement[Any], where: list[sa.ColumnElement[bool]]
) -> tuple[sa.Select[Any], sa.Select[Any]]:
    """Published courses not yet over, and the places of their sessions still to come, per `group`."""
    to_come = sa.and_(s.c.course_id == c.c.id, s.c.status == SessionStatus.SCHEDULED.value, s.c.ends_at > now)
    any_session = sa.exists(sa.select(s.c.id).where(s.c.course_id == c.c.id))
    courses = (
        sa.select(group, sa.func.count())
        .where(
            *where,
            group.is_not(None),
            c.c.status == CourseStatus.PUBLISHED.value,
            sa.or_(~any_session, sa.exists(sa.select(s.c.id).where(to_come))),
        )
        .group_by(group)
    )
    places = (
        sa.select(
            group,
            sa.func.sum(s.c.capacity),
            sa.func.sum(sa.func.greatest(s.c.capacity - s.c.confirmed_count, 0)),
            sa.func.sum(s.c.waitlisted_count),
        )
        .select_from(s.join(c, c.c.id == s.c.course_id))
        .where(*where, group.is_not(None), to_come, c.c.status == CourseStatus.PUBLISHED.value)
        .group_by(group)
    )
    return courses, places


def open_requests(group: sa.ColumnElement[Any], where: list[sa.ColumnElement[bool]]) -> sa.Select[Any]:
    """Requests for tailored education awaiting an answer, per `group` (the library asked, or the referrer)."""
    return (
        sa.select(group, sa.func.count())
        .where(*where, education_requests.c.status == EducationRequestStatus.REQUESTED.value)
        .group_by(group)
    )


def with_requests(figures: dict[Any, CourseFigures], requests: Iterable[Any]) -> dict[Any, CourseFigures]:
    for key, count in requests:
        figures[key] = msgspec.structs.replace(figures.get(key, NO_COURSES), education_requests=int(count))
    return figures


def merge(counts: Iterable[Any], places: Iterable[Any]) -> dict[Any, CourseFigures]:
    figures: dict[Any, CourseFigures] = {}
    for key, count in counts:
        figures[key] = CourseFigures(courses=count, places=0, places_free=0, waiting_list=0)
    for key, capacity, free, waiting in places:
        known = figures.get(key, NO_COURSES)
        figures[key] = CourseFigures(
            courses=known.courses, places=int(capacity or 0), places_free=int(free or 0), waiting_list=int(waiting or 0)
        )
    return figures


async def statistics(work: UnitOfWork, actor: Actor, query: GetCoursesStatistics) -> CoursesStatistics:
    check_may_read_purchasing(actor)  # partners are not shown the libraries' figures
    now = work.clock.now()
    year = query.year or budget_year_of(now)
    course_scope = in_scope(c, actor, query)
    async with work.read() as session:
        libraries_where = []
        municipality = query.municipality if actor.role is Role.OPERATOR else actor.municipality
        if municipality is not None:
            libraries_where.append(store.known_libraries.c.municipality == municipality)
        library = actor.library if actor.role is Role.STAFF else query.library
        if library is not None:
            libraries_where.append(store.known_libraries.c.slug == library)
        libraries = list(
            (await session.execute(sa.select(store.known_libraries.c.slug).where(*libraries_where))).scalars()
        )
        by_library = merge(*[(await session.execute(x)).all() for x in course_figures(now, c.c.library, course_scope)])
        by_partner = merge(
            *[(await session.execute(x)).all() for x in course_figures(now, c.c.offered_by_partner_id, course_scope)]
        )
        r = education_requests
        request_scope = in_scope(r, actor, query)
        with_requests(by_library, (await session.execute(open_requests(r.c.library, request_scope))).all())
        with_requests(by_partner, (await session.execute(open_requests(r.c.partner_id, request_scope))).all())
        budgets = {
            row.library: PurchaseFigures(
                budget_cents=row.amount_cents, committed_cents=row.committed_cents, spent_cents=row.spent_cents
            )
            for row in await session.execute(sa.select(b).where(*in_scope(b, actor, query), b.c.year == year))
        }
        bought = await session.execute(
            sa.select(
                q.c.provider_partner_id,
                sa.func.coalesce(sa.func.sum(p.c.approved_amount_cents).filter(p.c.status.in_(COMMITTED)), 0),
                sa.func.coalesce(sa.func.sum(p.c.invoice_amount_cents).filter(p.c.status.in_(SPENT)), 0),
            )
            .select_from(p.join(q, q.c.id == p.c.chosen_quote_id))
            .where(*in_scope(p, actor, query), p.c.budget_year == year, q.c.provider_partner_id.is_not(None))
            .group_by(q.c.provider_partner_id)
        )
        from_partner: dict[UUID, PurchaseFigures] = {
            partner_id: PurchaseFigures(budget_cents=0, committed_cents=int(committed), spent_cents=int(spent))
            for partner_id, committed, spent in bought
        }
    return CoursesStatistics(
        libraries=[
            LibraryCourseFigures(
                library=slug,
                courses=by_library.get(slug, NO_COURSES),
                purchases=budgets.get(slug, NO_PURCHASES),
            )
            for slug in sorted(set(libraries) | set(by_library) | set(budgets))
        ],
        partners=[
            PartnerCourseFigures(
                partner_id=partner_id,
                courses=by_partner.get(partner_id, NO_COURSES),
                purchases=from_partner.get(partner_id, NO_PURCHASES),
            )
            for partner_id in sorted(set(by_partner) | set(from_partner))
        ],
    )
