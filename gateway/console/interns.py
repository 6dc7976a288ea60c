"""Interns from schools, for the library's staff (the coordinator reads along without names): who they are, which
school sent them, their period, supervisor, hours and learning goals, where they stand; and registering an intern a
school supplies (the school must have an active partnership with the library as intern supplier: the volunteers
service checks). An intern's own page is the applicant's page (intake, screening, ending the internship early)."""

from __future__ import annotations

import asyncio
from typing import Any

from litestar import Controller, Request, Response, get, post
from litestar.datastructures import FormMultiDict
from litestar.di import NamedDependency
from litestar.params import FromQuery

from gateway.console import forms, paging, steps
from gateway.console.explain import Explanation
from gateway.console.names import load_names
from gateway.console.session import PREFIX, Visitor
from gateway.console.views import page
from gateway.console.volunteers import person_name
from shared.contracts.partners.api import operations as partner_ops
from shared.contracts.partners.api.organisations import ListPartners, PartnerStatus, PartnerView
from shared.contracts.volunteers.api import operations as ops
from shared.contracts.volunteers.api.volunteers import ListVolunteers, RegisterIntern
from shared.contracts.volunteers.events import VolunteerKind
from shared.rpc import RpcClient
from shared.tenancy import Actor, Role

READERS = (Role.STAFF, Role.COORDINATOR)
FIELDS = (
    "school_partner_id",
    "person_name",
    "person_email",
    "person_phone",
    "starts_on",
    "ends_on",
    "supervisor_name",
    "supervisor_email",
    "supervisor_phone",
    "learning_goals",
    "hours",
)


def learning_goals(form: FormMultiDict) -> list[str]:
    """One goal a line."""
    return [line.strip() for line in (forms.text(form, "learning_goals") or "").splitlines() if line.strip()]


class InternPages(Controller):
    path = "/interns"

    @get("/")
    async def interns(
        self,
        visitor: NamedDependency[Visitor],
        rpc: NamedDependency[RpcClient],
        done: FromQuery[str | None] = None,
        cursor: FromQuery[str | None] = None,
    ) -> Response[str]:
        """The interns a page at a time (paging.PAGE), the next by the API's cursor (`GET /api/v1/volunteers`)."""
        actor = visitor.signed_in(*READERS)
        values: dict[str, Any] = dict.fromkeys(FIELDS, "") | {"certificate_of_conduct_required": False}
        notice = "interns.registered" if done == "registered" else None
        return await self._page(visitor, rpc, actor, values=values, notice=notice, cursor=cursor)

    @post("/", status_code=303)
    async def register(
        self, request: Request[Any, Any, Any], visitor: NamedDependency[Visitor], rpc: NamedDependency[RpcClient]
    ) -> Response[Any]:
        actor = visitor.signed_in(Role.STAFF)
        form = await request.form()

        def intern() -> RegisterIntern:
            data = {
                "school_partner_id": forms.text(form, "school_partner_id"),
                "person": forms.person(form, "person"),
                "starts_on": forms.text(form, "starts_on"),
                "ends_on": forms.text(form, "ends_on"),
                "supervisor": forms.person(form, "supervisor"),
                "learning_goals": learning_goals(form),
                "hours": forms.number(form, "hours"),
                "certificate_of_conduct_required": forms.flag(form, "certificate_of_conduct_required"),
            }
            return forms.convert(data, RegisterIntern)

        values: dict[str, Any] = {name: forms.text(form, name) or "" for name in FIELDS}
        values["certificate_of_conduct_required"] = forms.flag(form, "certificate_of_conduct_required")
        return await steps.submit(
            visitor,
            lambda: rpc.call(ops.REGISTER_INTERN, actor, intern()),
            done=lambda made: f"{PREFIX}/interns?done=registered#i-{made.id}",
            again=lambda problem: self._page(visitor, rpc, actor, values=values, problem=problem),
        )

    @staticmethod
    async def _page(
        visitor: Visitor,
        rpc: RpcClient,
        actor: Actor,
        *,
        values: dict[str, Any],
        notice: str | None = None,
        problem: Explanation | None = None,
        cursor: str | None = None,
    ) -> Response[str]:
        can_act = actor.role is Role.STAFF
        interns, parties = await asyncio.gather(
            paging.one_page(
                lambda at, limit: rpc.call(
                    ops.LIST_VOLUNTEERS, actor, ListVolunteers(kind=VolunteerKind.INTERN, limit=limit, cursor=at)
                ),
                cursor,
                path=f"{PREFIX}/interns",
            ),
            load_names(rpc, actor),
        )
        schools = paging.Everything[PartnerView]([])
        if can_act:  # every active partner the library may choose as the school (the service checks the partnership)
            schools = await paging.every(
                lambda at, limit: rpc.call(
                    partner_ops.LIST_PARTNERS, actor, ListPartners(status=PartnerStatus.ACTIVE, limit=limit, cursor=at)
                )
            )
        return page(
            visitor,
            "interns.html",
            status=problem.status if problem else 200,
            section="volunteers",
            interns=interns.items,
            intern_pages=interns,
            names={str(p.id): person_name(p) for p in interns.items},
            school_names={str(s.id): s.name for s in schools.items} | parties.partners,
            schools=schools.items,
            school_options=schools,
            parties=parties,
            can_act=can_act,
            values=values,
            notice=notice,
            problem=problem,
        )
