"""Figures for the gateway's municipality overview: places free and waiting lists, budgets committed and spent."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any
from uuid import UUID

import msgspec

from services.courses.domain.purchasing import budget_year_of, check_may_read_purchasing
from services.courses.store.figures import STATISTICS
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

NO_COURSES = CourseFigures(courses=0, places=0, places_free=0, waiting_list=0)
NO_PURCHASES = PurchaseFigures(budget_cents=0, committed_cents=0, spent_cents=0)


def scope_values(actor: Actor, query: GetCoursesStatistics) -> tuple[str | None, str | None]:
    """The municipality and the library in scope: operators all (or one municipality), coordinators their
    municipality, staff their library."""
    municipality = query.municipality if actor.role is Role.OPERATOR else actor.municipality
    library = actor.library if actor.role is Role.STAFF else query.library
    return municipality, library


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
    """One statement on a direct connection (store/figures.py STATISTICS), its rows merged per library and
    partner."""
    check_may_read_purchasing(actor)  # partners are not shown the libraries' figures
    now = work.clock.now()
    year = query.year or budget_year_of(now)
    municipality, library = scope_values(actor, query)
    values = {"municipality": municipality, "library": library}
    async with work.direct() as db:
        rows = await db.fetch(
            STATISTICS[(municipality is not None, library is not None)],
            now=now,
            year=year,
            **{name: value for name, value in values.items() if value is not None},
        )
    libraries: set[str] = set()
    counts: dict[str, list[tuple[Any, int]]] = {"library": [], "partner": []}
    places: dict[str, list[tuple[Any, int, int, int]]] = {"library": [], "partner": []}
    requests: dict[str, list[tuple[Any, int]]] = {"library": [], "partner": []}
    budgets: dict[str, PurchaseFigures] = {}
    from_partner: dict[UUID, PurchaseFigures] = {}
    for row in rows:
        key: Any = row.key if row.side == "library" else UUID(row.key)
        if row.kind == "known":
            libraries.add(row.key)
        elif row.kind == "courses":
            counts[row.side].append((key, int(row.a)))
        elif row.kind == "places":
            places[row.side].append((key, int(row.a or 0), int(row.b or 0), int(row.c or 0)))
        elif row.kind == "requests":
            requests[row.side].append((key, int(row.a)))
        elif row.kind == "budget":
            budgets[key] = PurchaseFigures(budget_cents=int(row.a), committed_cents=int(row.b), spent_cents=int(row.c))
        elif row.kind == "bought":
            from_partner[key] = PurchaseFigures(budget_cents=0, committed_cents=int(row.a), spent_cents=int(row.b))
    by_library = with_requests(merge(counts["library"], places["library"]), requests["library"])
    by_partner = with_requests(merge(counts["partner"], places["partner"]), requests["partner"])
    return CoursesStatistics(
        libraries=[
            LibraryCourseFigures(
                library=slug,
                courses=by_library.get(slug, NO_COURSES),
                purchases=budgets.get(slug, NO_PURCHASES),
            )
            for slug in sorted(libraries | set(by_library) | set(budgets))
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
