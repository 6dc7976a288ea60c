"""Volunteer figures for the municipality overview: counts only, no names."""

from __future__ import annotations

from collections import defaultdict
from typing import Any
from uuid import UUID

from services.volunteers.store.figures import STATISTICS
from shared.contracts.volunteers.api.statistics import (
    GetVolunteersStatistics,
    LibraryVolunteerFigures,
    PartnerVolunteerFigures,
    VolunteerFigures,
    VolunteersStatistics,
)
from shared.errors import Forbidden
from shared.tenancy import Actor, Role
from shared.unit_of_work import UnitOfWork


class Scope:
    """The municipality and the library in scope: staff their library, coordinators their municipality, operators
    any (or one municipality); a library asked for narrows it. `nothing`: a library asked for that is not the
    staff member's own."""

    def __init__(self, actor: Actor, query: GetVolunteersStatistics) -> None:
        if actor.role is Role.PARTNER:
            raise Forbidden("partners see no volunteer figures of libraries")
        self.municipality: str | None = None
        self.library: str | None = None
        if actor.role is Role.STAFF:
            self.library = actor.library
        elif actor.role is Role.COORDINATOR:
            self.municipality = actor.municipality
        else:
            self.municipality = query.municipality
        self.nothing = query.library is not None and self.library not in (None, query.library)
        if query.library is not None:
            self.library = query.library

    @property
    def shape(self) -> tuple[bool, bool]:
        return self.municipality is not None, self.library is not None

    def values(self) -> dict[str, Any]:
        values = {"municipality": self.municipality, "library": self.library}
        return {name: value for name, value in values.items() if value is not None}


async def statistics(work: UnitOfWork, actor: Actor, query: GetVolunteersStatistics) -> VolunteersStatistics:
    """One statement on a direct connection (store/figures.py STATISTICS), its rows merged per library and
    partner."""
    scope = Scope(actor, query)
    by_library: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0])  # volunteers, interns, open vacancies
    by_partner: dict[UUID, list[int]] = defaultdict(lambda: [0, 0])
    if not scope.nothing:
        async with work.direct() as db:
            rows = await db.fetch(STATISTICS[scope.shape], **scope.values())
        for row in rows:
            if row.kind == "known":
                # Every library in scope has figures, zeros included, so "no volunteers" is not mistaken for "no
                # answer".
                by_library[row.key]
            elif row.kind == "library":
                by_library[row.key][0] += int(row.a)
                by_library[row.key][1] += int(row.b)
            elif row.kind == "partner":
                figures = by_partner[UUID(row.key)]
                figures[0] += int(row.a)
                figures[1] += int(row.b)
            elif row.kind == "vacancies":
                by_library[row.key][2] += int(row.a)
    return VolunteersStatistics(
        libraries=[
            LibraryVolunteerFigures(
                library=library,
                figures=VolunteerFigures(active_volunteers=f[0], active_interns=f[1], open_vacancies=f[2]),
            )
            for library, f in sorted(by_library.items())
        ],
        partners=[
            PartnerVolunteerFigures(
                partner_id=partner_id,
                figures=VolunteerFigures(active_volunteers=f[0], active_interns=f[1], open_vacancies=0),
            )
            for partner_id, f in sorted(by_partner.items())
        ],
    )
