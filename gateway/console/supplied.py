"""What a partner supplied to the libraries' volunteering, read only: the volunteers a volunteer organisation brought
in and the interns a school sent (their names and contacts, as the volunteers service shows them to the partner
that supplied them), where each stands, their certificate of conduct and qualifications, an intern's period; where
they are assigned and the hours they gave; and the published vacancies of the libraries the partner works with.
The volunteers service decides what a partner sees; this page only asks with the partner's own token."""

from __future__ import annotations

import asyncio

from litestar import Controller, Response, get
from litestar.di import NamedDependency

from gateway.console.names import load_names
from gateway.console.session import Visitor
from gateway.console.views import page
from gateway.console.volunteers import person_name
from shared.contracts.volunteers.api import operations as ops
from shared.contracts.volunteers.api.assignments import ListAssignments, ListHoursTotals
from shared.contracts.volunteers.api.vacancies import ListVacancies, VacancyStatus
from shared.contracts.volunteers.api.volunteers import ListVolunteers
from shared.contracts.volunteers.events import VolunteerKind
from shared.rpc import RpcClient
from shared.tenancy import Role

SHOWN = 200  # the newest first pages; a partner's own systems page through the API for more


class SuppliedPages(Controller):
    path = "/supplied"

    @get("/")
    async def supplied(self, visitor: NamedDependency[Visitor], rpc: NamedDependency[RpcClient]) -> Response[str]:
        actor = visitor.signed_in(Role.PARTNER)
        people, assignments, totals, vacancies, parties = await asyncio.gather(
            rpc.call(ops.LIST_VOLUNTEERS, actor, ListVolunteers(limit=SHOWN)),
            rpc.call(ops.LIST_ASSIGNMENTS, actor, ListAssignments(limit=SHOWN)),
            rpc.call(ops.LIST_HOURS_TOTALS, actor, ListHoursTotals(limit=SHOWN)),
            rpc.call(ops.LIST_VACANCIES, actor, ListVacancies(status=VacancyStatus.PUBLISHED, limit=SHOWN)),
            load_names(rpc, actor),
        )
        return page(
            visitor,
            "supplied.html",
            section="supplied",
            volunteers=[p for p in people.items if p.kind is VolunteerKind.VOLUNTEER],
            interns=[p for p in people.items if p.kind is VolunteerKind.INTERN],
            names={str(p.id): person_name(p) for p in people.items},
            assignments=assignments.items,
            totals=totals.items,
            vacancies=vacancies.items,
            parties=parties,
        )
