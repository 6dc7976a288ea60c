"""What partners did for the libraries over a period (issue 24), counts per partner for the overview and the annual
report: the trainings a partner gave the library's volunteers and their attendance, the interns a school supplied
and the hours they worked. No names."""

from __future__ import annotations

from collections import defaultdict
from uuid import UUID

import sqlalchemy as sa

from services.volunteers import store
from services.volunteers.queries.statistics import scope_of
from shared.clock import end_of_day, start_of_day
from shared.contracts.volunteers.api.statistics import (
    GetVolunteerPartnerActs,
    GetVolunteersStatistics,
    VolunteerPartnerActs,
    VolunteersPartnerActs,
)
from shared.contracts.volunteers.events import VolunteerKind
from shared.errors import InvalidInput
from shared.tenancy import Actor
from shared.unit_of_work import UnitOfWork

FIELDS = ("trainings_given", "training_attendances", "interns_supplied", "intern_minutes")


async def partner_acts(work: UnitOfWork, actor: Actor, query: GetVolunteerPartnerActs) -> VolunteersPartnerActs:
    if query.period_until < query.period_from:
        raise InvalidInput("the period cannot end before it starts")
    scope = GetVolunteersStatistics(municipality=query.municipality, library=query.library)
    starts, ends = start_of_day(query.period_from), end_of_day(query.period_until)
    m, ts, a = store.training_modules, store.training_sessions, store.attendance
    i, v, h = store.internships, store.volunteers, store.hours
    in_period = sa.and_(ts.c.starts_at >= starts, ts.c.starts_at < ends)
    trainings = (
        sa.select(m.c.provider_partner_id, sa.func.count(ts.c.id))
        .select_from(ts.join(m, m.c.id == ts.c.module_id))
        .where(*scope_of(actor, scope, ts.c.library, ts.c.municipality), m.c.provider_partner_id.is_not(None))
        .where(in_period)
        .group_by(m.c.provider_partner_id)
    )
    attended = (
        sa.select(m.c.provider_partner_id, sa.func.count())
        .select_from(a.join(ts, ts.c.id == a.c.session_id).join(m, m.c.id == ts.c.module_id))
        .where(
            *scope_of(actor, scope, ts.c.library, ts.c.municipality),
            m.c.provider_partner_id.is_not(None),
            in_period,
            a.c.attended,
        )
        .group_by(m.c.provider_partner_id)
    )
    interns = (
        sa.select(i.c.school_partner_id, sa.func.count())
        .select_from(i.join(v, v.c.id == i.c.volunteer_id))
        .where(
            *scope_of(actor, scope, v.c.library, v.c.municipality),
            i.c.starts_on <= query.period_until,
            sa.func.coalesce(i.c.ended_on, i.c.ends_on) >= query.period_from,
        )
        .group_by(i.c.school_partner_id)
    )
    minutes = (
        sa.select(i.c.school_partner_id, sa.func.coalesce(sa.func.sum(h.c.minutes), 0))
        .select_from(h.join(i, i.c.volunteer_id == h.c.volunteer_id).join(v, v.c.id == h.c.volunteer_id))
        .where(
            *scope_of(actor, scope, h.c.library, h.c.municipality),
            v.c.kind == VolunteerKind.INTERN.value,
            h.c.removed_at.is_(None),
            h.c.worked_on.between(query.period_from, query.period_until),
        )
        .group_by(i.c.school_partner_id)
    )
    counts: dict[UUID, dict[str, int]] = defaultdict(lambda: dict.fromkeys(FIELDS, 0))
    async with work.read() as session:
        for field, statement in zip(FIELDS, (trainings, attended, interns, minutes), strict=True):
            for partner_id, count in (await session.execute(statement)).all():
                counts[partner_id][field] = int(count)
    return VolunteersPartnerActs(
        period_from=query.period_from,
        period_until=query.period_until,
        partners=[VolunteerPartnerActs(partner_id=p, **figures) for p, figures in sorted(counts.items())],
    )
