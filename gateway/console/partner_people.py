"""The people a partner supplied to the libraries, for its own people (issue 24): a volunteer organisation's
volunteers and a school's interns, each with their library, status, qualifications (until when they hold), the
assignments they have and the hours they worked; an intern's period with its learning goals, a button to confirm
it, and the library's assessment at its end; the people a page at a time (the next by the API's cursor), their
assignments and hours counted over every assignment. The same operations as GET /api/v1/volunteers,
/api/v1/assignments and POST /api/v1/interns/{id}/confirm; the volunteers service shows a partner only those it
supplied and decides whether it may confirm."""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Awaitable
from typing import Any
from uuid import UUID

from litestar import Controller, Response, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath, FromQuery

from gateway.console import paging, steps
from gateway.console.explain import Explanation
from gateway.console.names import load_names
from gateway.console.session import PREFIX, Visitor
from gateway.console.views import page
from shared.contracts.vocabulary import Page
from shared.contracts.volunteers.api import operations as ops
from shared.contracts.volunteers.api.assignments import AssignmentStatus, AssignmentView, ListAssignments
from shared.contracts.volunteers.api.volunteers import ConfirmInternship, ListVolunteers, VolunteerStatus, VolunteerView
from shared.rpc import RpcClient
from shared.tenancy import Actor, Role

# An intern's period is confirmed while the internship runs (the service says the same, and decides).
CONFIRMABLE = (VolunteerStatus.INTAKE, VolunteerStatus.SCREENING, VolunteerStatus.ACTIVE, VolunteerStatus.INACTIVE)
# Assignments read to count each person's and sum their hours; past it the page says its figures are not complete.
COUNTED_BOUND = 20_000


class PartnerPeoplePages(Controller):
    path = "/our-people"

    @get("/")
    async def people(
        self,
        visitor: NamedDependency[Visitor],
        rpc: NamedDependency[RpcClient],
        done: FromQuery[str | None] = None,
        cursor: FromQuery[str | None] = None,
    ) -> Response[str]:
        """The people a page (paging.PAGE), the next by the API's cursor (`GET /api/v1/volunteers?cursor=`)."""
        actor = visitor.signed_in(Role.PARTNER)
        notice = "our_people.confirmed_done" if done == "confirmed" else None
        return await self._page(visitor, rpc, actor, notice=notice, cursor=cursor)

    @post("/{volunteer_id:uuid}/confirm", status_code=303)
    async def confirm(
        self, volunteer_id: FromPath[UUID], visitor: NamedDependency[Visitor], rpc: NamedDependency[RpcClient]
    ) -> Response[Any]:
        actor = visitor.signed_in(Role.PARTNER)
        return await steps.submit(
            visitor,
            lambda: rpc.call(ops.CONFIRM_INTERNSHIP, actor, ConfirmInternship(volunteer_id=volunteer_id)),
            done=f"{PREFIX}/our-people?done=confirmed#v-{volunteer_id}",
            again=lambda problem: self._page(visitor, rpc, actor, problem=problem),
        )

    @staticmethod
    async def _page(
        visitor: Visitor,
        rpc: RpcClient,
        actor: Actor,
        *,
        notice: str | None = None,
        problem: Explanation | None = None,
        cursor: str | None = None,
    ) -> Response[str]:
        def people_from(at: str | None, limit: int) -> Awaitable[Page[VolunteerView]]:
            return rpc.call(ops.LIST_VOLUNTEERS, actor, ListVolunteers(limit=limit, cursor=at))

        def assignments_from(at: str | None, limit: int) -> Awaitable[Page[AssignmentView]]:
            return rpc.call(ops.LIST_ASSIGNMENTS, actor, ListAssignments(limit=limit, cursor=at))

        people, assignments, names = await asyncio.gather(
            paging.one_page(people_from, cursor, path=f"{PREFIX}/our-people"),
            paging.every(assignments_from, COUNTED_BOUND),
            load_names(rpc, actor),
        )
        # Hours per person: every hour counted is logged on one of their assignments (the service sums each), so the
        # sum over all their assignments is all their hours (as GET /api/v1/volunteers/hours sums them per month).
        minutes: Counter[str] = Counter()
        for assignment in assignments.items:
            minutes[str(assignment.volunteer_id)] += assignment.minutes_logged
        assigned = Counter(str(a.volunteer_id) for a in assignments.items if a.status is AssignmentStatus.ACTIVE)
        return page(
            visitor,
            "our_people.html",
            status=problem.status if problem else 200,
            section="our_people",
            people=people,
            counted_all=assignments.complete,
            hours={key: round(value / 60, 1) for key, value in minutes.items()},
            assigned=assigned,
            parties=names,
            confirmable=[s.value for s in CONFIRMABLE],
            notice=notice,
            problem=problem,
        )
