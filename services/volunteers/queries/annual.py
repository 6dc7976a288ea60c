"""The volunteers part of the annual report: who worked in the year and their hours, per library, per partner
that supplied them and overall. Counted from the hours logged for a day of the year (removed entries not)."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from services.volunteers import store
from shared.contracts.volunteers.api.annual import (
    AnnualVolunteerFigures,
    GetAnnualVolunteerFigures,
    VolunteerYearFigures,
)
from shared.contracts.volunteers.events import VolunteerKind
from shared.reporting import annual_scope, year_days
from shared.tenancy import Actor
from shared.unit_of_work import UnitOfWork

h, v = store.hours, store.volunteers


async def annual_figures(work: UnitOfWork, actor: Actor, query: GetAnnualVolunteerFigures) -> AnnualVolunteerFigures:
    first, last = year_days(query.year)
    intern = v.c.kind == VolunteerKind.INTERN.value

    def by(*key: Any) -> sa.Select[Any]:
        return (
            sa.select(
                *key,
                sa.func.count(sa.distinct(v.c.id)).filter(sa.not_(intern)),
                sa.func.count(sa.distinct(v.c.id)).filter(intern),
                sa.func.coalesce(sa.func.sum(h.c.minutes).filter(sa.not_(intern)), 0),
                sa.func.coalesce(sa.func.sum(h.c.minutes).filter(intern), 0),
            )
            .select_from(h.join(v, v.c.id == h.c.volunteer_id))
            .where(
                *annual_scope(
                    actor, h.c.municipality, h.c.library, municipality=query.municipality, library=query.library
                ),
                h.c.removed_at.is_(None),
                h.c.worked_on >= first,
                h.c.worked_on <= last,
            )
            .group_by(*key)
        )

    async with work.read() as session:
        by_library = (await session.execute(by(h.c.library))).all()
        by_partner = (await session.execute(by(v.c.via_partner_id).having(v.c.via_partner_id.is_not(None)))).all()
        overall = (await session.execute(by())).one()
    return AnnualVolunteerFigures(
        year=query.year,
        figures=[
            *(_figures(row[1:], library=row[0]) for row in by_library),
            *(_figures(row[1:], partner_id=row[0]) for row in by_partner),
            _figures(tuple(overall)),
        ],
    )


def _figures(values: tuple[Any, ...], **key: Any) -> VolunteerYearFigures:
    volunteers, interns, volunteer_minutes, intern_minutes = (int(x or 0) for x in values)
    return VolunteerYearFigures(
        **key,
        volunteers=volunteers,
        interns=interns,
        volunteer_minutes=volunteer_minutes,
        intern_minutes=intern_minutes,
    )
