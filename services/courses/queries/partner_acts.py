"""What partners did in the libraries' offer over a period (issue 24), counts per partner for the overview and the
annual report: the courses a partner ran in a library and their confirmed places, and a referrer's requests for
tailored education with their outcome (planned, declined, the places its referrals took on the courses planned)."""

from __future__ import annotations

from collections import defaultdict
from uuid import UUID

from services.courses.queries.statistics import scope_values
from services.courses.store.figures import PARTNER_ACTS
from shared.clock import end_of_day, start_of_day
from shared.contracts.courses.api.statistics import (
    CoursePartnerActs,
    CoursesPartnerActs,
    GetCoursesPartnerActs,
    GetCoursesStatistics,
)
from shared.errors import InvalidInput
from shared.tenancy import Actor
from shared.unit_of_work import UnitOfWork

FIELDS = (
    "partner_run_courses",
    "partner_run_enrolments",
    "education_requests",
    "education_requests_planned",
    "education_requests_declined",
    "education_places_taken",
)


async def partner_acts(work: UnitOfWork, actor: Actor, query: GetCoursesPartnerActs) -> CoursesPartnerActs:
    """One statement on a direct connection (store/figures.py PARTNER_ACTS)."""
    if query.period_until < query.period_from:
        raise InvalidInput("the period cannot end before it starts")
    municipality, library = scope_values(
        actor, GetCoursesStatistics(municipality=query.municipality, library=query.library)
    )
    values = {"municipality": municipality, "library": library}
    async with work.direct() as db:
        rows = await db.fetch(
            PARTNER_ACTS[(municipality is not None, library is not None)],
            starts=start_of_day(query.period_from),
            ends=end_of_day(query.period_until),
            **{name: value for name, value in values.items() if value is not None},
        )
    counts: dict[UUID, dict[str, int]] = defaultdict(lambda: dict.fromkeys(FIELDS, 0))
    for row in rows:
        if row.kind == "courses":
            counts[row.partner_id]["partner_run_courses"] = int(row.a)
        elif row.kind == "enrolments":
            counts[row.partner_id]["partner_run_enrolments"] = int(row.a)
        elif row.kind == "requests":
            counts[row.partner_id].update(
                education_requests=int(row.a),
                education_requests_planned=int(row.b),
                education_requests_declined=int(row.c),
            )
        elif row.kind == "places":
            counts[row.partner_id]["education_places_taken"] = int(row.a)
    return CoursesPartnerActs(
        period_from=query.period_from,
        period_until=query.period_until,
        partners=[CoursePartnerActs(partner_id=p, **figures) for p, figures in sorted(counts.items())],
    )
