"""Volunteer figures for the municipality overview: counts only, no names."""

from __future__ import annotations

from collections import defaultdict
from uuid import UUID

import sqlalchemy as sa

from services.volunteers import store
from shared.contracts.volunteers.api.statistics import (
    GetVolunteersStatistics,
    LibraryVolunteerFigures,
    PartnerVolunteerFigures,
    VolunteerFigures,
    VolunteersStatistics,
)
from shared.contracts.volunteers.api.vacancies import VacancyStatus
from shared.contracts.volunteers.api.volunteers import VolunteerStatus
from shared.contracts.volunteers.events import VolunteerKind
from shared.errors import Forbidden
from shared.tenancy import Actor, Role
from shared.unit_of_work import UnitOfWork


def scope_of(
    actor: Actor, query: GetVolunteersStatistics, library: sa.ColumnElement[str], municipality: sa.ColumnElement[str]
) -> list[sa.ColumnElement[bool]]:
    if actor.role is Role.PARTNER:
        raise Forbidden("partners see no volunteer figures of libraries")
    conditions: list[sa.ColumnElement[bool]] = []
    if actor.role is Role.STAFF:
        conditions.append(library == actor.library)
    elif actor.role is Role.COORDINATOR:
        conditions.append(municipality == actor.municipality)
    elif query.municipality is not None:
        conditions.append(municipality == query.municipality)
    if query.library is not None:
        conditions.append(library == query.library)
    return conditions


async def statistics(work: UnitOfWork, actor: Actor, query: GetVolunteersStatistics) -> VolunteersStatistics:
    v, vac, libs = store.volunteers, store.vacancies, store.known_libraries
    active = v.c.status == VolunteerStatus.ACTIVE.value
    is_intern = v.c.kind == VolunteerKind.INTERN.value
    people = (
        sa.select(
            v.c.library,
            v.c.via_partner_id,
            sa.func.count().filter(sa.and_(active, sa.not_(is_intern))).label("volunteers"),
            sa.func.count().filter(sa.and_(active, is_intern)).label("interns"),
        )
        .where(*scope_of(actor, query, v.c.library, v.c.municipality))
        .group_by(v.c.library, v.c.via_partner_id)
    )
    open_vacancies = (
        sa.select(vac.c.library, sa.func.count())
        .where(*scope_of(actor, query, vac.c.library, vac.c.municipality))
        .where(vac.c.status == VacancyStatus.PUBLISHED.value)
        .group_by(vac.c.library)
    )
    by_library: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0])  # volunteers, interns, open vacancies
    by_partner: dict[UUID, list[int]] = defaultdict(lambda: [0, 0])
    # Every library in scope has figures, zeros included, so "no volunteers" is not mistaken for "no answer".
    known = sa.select(libs.c.slug).where(*scope_of(actor, query, libs.c.slug, libs.c.municipality))
    async with work.read() as session:
        for (library,) in (await session.execute(known)).all():
            by_library[library]
        for library, partner_id, volunteers, interns in (await session.execute(people)).all():
            by_library[library][0] += volunteers
            by_library[library][1] += interns
            if partner_id is not None:
                by_partner[partner_id][0] += volunteers
                by_partner[partner_id][1] += interns
        for library, count in (await session.execute(open_vacancies)).all():
            by_library[library][2] += count
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
