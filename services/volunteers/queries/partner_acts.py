"""What partners did for the libraries over a period (issue 24), counts per partner for the overview and the annual
report: the trainings a partner gave the library's volunteers and their attendance, the interns a school supplied
and the hours they worked. No names."""

from __future__ import annotations

from collections import defaultdict
from uuid import UUID

from services.volunteers.queries.statistics import Scope
from services.volunteers.store.figures import PARTNER_ACTS
from shared.clock import end_of_day, start_of_day
from shared.contracts.volunteers.api.statistics import (
    GetVolunteerPartnerActs,
    GetVolunteersStatistics,
    VolunteerPartnerActs,
    VolunteersPartnerActs,
)
from shared.errors import InvalidInput
from shared.tenancy import Actor
from shared.unit_of_work import UnitOfWork

FIELDS = ("trainings_given", "training_attendances", "interns_supplied", "intern_minutes")


async def partner_acts(work: UnitOfWork, actor: Actor, query: GetVolunteerPartnerActs) -> VolunteersPartnerActs:
    """One statement on a direct connection (store/figures.py PARTNER_ACTS)."""
    if query.period_until < query.period_from:
        raise InvalidInput("the period cannot end before it starts")
    scope = Scope(actor, GetVolunteersStatistics(municipality=query.municipality, library=query.library))
    counts: dict[UUID, dict[str, int]] = defaultdict(lambda: dict.fromkeys(FIELDS, 0))
    if not scope.nothing:
        async with work.direct() as db:
            rows = await db.fetch(
                PARTNER_ACTS[scope.shape],
                starts=start_of_day(query.period_from),
                ends=end_of_day(query.period_until),
                first_day=query.period_from,
                last_day=query.period_until,
                **scope.values(),
            )
        for row in rows:
            counts[row.partner_id][row.kind] = int(row.number)
    return VolunteersPartnerActs(
        period_from=query.period_from,
        period_until=query.period_until,
        partners=[VolunteerPartnerActs(partner_id=p, **figures) for p, figures in sorted(counts.items())],
    )
