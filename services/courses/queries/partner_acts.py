"""What partners did in the libraries' offer over a period (issue 24), counts per partner for the overview and the
annual report: the courses a partner ran in a library and their confirmed places, and a referrer's requests for
tailored education with their outcome (planned, declined, the places its referrals took on the courses planned)."""

from __future__ import annotations

from collections import defaultdict
from uuid import UUID

import sqlalchemy as sa

from services.courses import store
from services.courses.queries.statistics import in_scope
from services.courses.store.education import education_requests
from shared.clock import end_of_day, start_of_day
from shared.contracts.courses.api.courses import CourseStatus, SessionStatus
from shared.contracts.courses.api.education import EducationRequestStatus
from shared.contracts.courses.api.statistics import (
    CoursePartnerActs,
    CoursesPartnerActs,
    GetCoursesPartnerActs,
    GetCoursesStatistics,
)
from shared.contracts.courses.events import EnrolmentStatus
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
    if query.period_until < query.period_from:
        raise InvalidInput("the period cannot end before it starts")
    scope = GetCoursesStatistics(municipality=query.municipality, library=query.library)
    starts, ends = start_of_day(query.period_from), end_of_day(query.period_until)
    c, s, e, r, k = store.courses, store.sessions, store.enrolments, education_requests, store.known_referrals
    partner_run = sa.and_(
        *in_scope(c, actor, scope),
        c.c.offered_by_partner_id.is_not(None),
        c.c.library.is_not(None),
        c.c.status != CourseStatus.CANCELLED.value,
        s.c.status != SessionStatus.CANCELLED.value,
        s.c.starts_at >= starts,
        s.c.starts_at < ends,
    )
    courses = (
        sa.select(c.c.offered_by_partner_id, sa.func.count(sa.distinct(c.c.id)))
        .select_from(c.join(s, s.c.course_id == c.c.id))
        .where(partner_run)
        .group_by(c.c.offered_by_partner_id)
    )
    enrolments = (
        sa.select(c.c.offered_by_partner_id, sa.func.count(e.c.id))
        .select_from(c.join(s, s.c.course_id == c.c.id).join(e, e.c.session_id == s.c.id))
        .where(partner_run, e.c.status == EnrolmentStatus.CONFIRMED.value)
        .group_by(c.c.offered_by_partner_id)
    )
    asked = sa.and_(*in_scope(r, actor, scope), r.c.created_at >= starts, r.c.created_at < ends)
    requests = (
        sa.select(
            r.c.partner_id,
            sa.func.count(),
            sa.func.count().filter(r.c.status == EducationRequestStatus.PLANNED.value),
            sa.func.count().filter(r.c.status == EducationRequestStatus.DECLINED.value),
        )
        .where(asked)
        .group_by(r.c.partner_id)
    )
    places_taken = (
        sa.select(r.c.partner_id, sa.func.count(e.c.id))
        .select_from(
            r.join(e, e.c.course_id == r.c.course_id).join(
                k, sa.and_(k.c.id == e.c.referral_id, k.c.referring_partner_id == r.c.partner_id)
            )
        )
        .where(asked, r.c.status == EducationRequestStatus.PLANNED.value, e.c.status == EnrolmentStatus.CONFIRMED.value)
        .group_by(r.c.partner_id)
    )
    counts: dict[UUID, dict[str, int]] = defaultdict(lambda: dict.fromkeys(FIELDS, 0))
    async with work.read() as session:
        for partner_id, count in (await session.execute(courses)).all():
            counts[partner_id]["partner_run_courses"] = int(count)
        for partner_id, count in (await session.execute(enrolments)).all():
            counts[partner_id]["partner_run_enrolments"] = int(count)
        for partner_id, made, planned, declined in (await session.execute(requests)).all():
            counts[partner_id].update(
                education_requests=int(made),
                education_requests_planned=int(planned),
                education_requests_declined=int(declined),
            )
        for partner_id, count in (await session.execute(places_taken)).all():
            counts[partner_id]["education_places_taken"] = int(count)
    return CoursesPartnerActs(
        period_from=query.period_from,
        period_until=query.period_until,
        partners=[CoursePartnerActs(partner_id=p, **figures) for p, figures in sorted(counts.items())],
    )
