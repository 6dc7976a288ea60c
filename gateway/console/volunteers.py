"""Volunteers: the library's vacancies, its applicants in the pipeline (with the next steps), and who holds
which qualification now."""

from __future__ import annotations

import asyncio
from collections import defaultdict
from typing import Any
from uuid import UUID

import msgspec
from litestar import Controller, Request, Response, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath, FromQuery
from litestar.response import Redirect

from gateway.console import forms
from gateway.console.explain import Explanation, explain
from gateway.console.session import PREFIX, Visitor
from gateway.console.views import page
from shared.contracts.volunteers.api.vacancies import ListVacancies, VacancyView
from shared.contracts.volunteers.api.volunteers import (
    HeldQualificationView,
    ListQualifications,
    ListVolunteers,
    TakeVolunteerStep,
    VolunteerStatus,
    VolunteerStep,
    VolunteerView,
)
from shared.contracts.volunteers.events import VolunteerKind
from shared.errors import PartnernetError
from shared.pagination import Page
from shared.rpc import RpcClient
from shared.tenancy import Actor, Role

V = VolunteerStatus
PIPELINE = (V.APPLIED, V.INTAKE, V.SCREENING, V.ACTIVE)
# The next steps the console offers per status; the volunteers service decides.
NEXT_STEPS: dict[VolunteerStatus, tuple[VolunteerStep, ...]] = {
    V.APPLIED: (VolunteerStep.START_INTAKE,),
    V.INTAKE: (VolunteerStep.START_SCREENING,),
    V.SCREENING: (VolunteerStep.ACTIVATE,),
    V.ACTIVE: (VolunteerStep.DEACTIVATE,),
    V.INACTIVE: (VolunteerStep.REACTIVATE,),
}
STOP_STEPS: dict[VolunteerStatus, tuple[VolunteerStep, ...]] = {
    status: (VolunteerStep.REJECT, VolunteerStep.WITHDRAW) for status in (V.APPLIED, V.INTAKE, V.SCREENING)
}


async def load(rpc: RpcClient, actor: Actor) -> dict[str, Any]:
    vacancies, volunteers, qualifications = await asyncio.gather(
        rpc.call("volunteers", "list_vacancies", actor, ListVacancies(limit=200), Page[VacancyView]),
        rpc.call("volunteers", "list_volunteers", actor, ListVolunteers(limit=200), Page[VolunteerView]),
        rpc.call(
            "volunteers",
            "list_qualifications",
            actor,
            ListQualifications(valid_only=True, limit=200),
            Page[HeldQualificationView],
        ),
    )
    columns: dict[str, list[VolunteerView]] = {status.value: [] for status in PIPELINE}
    others: list[VolunteerView] = []
    for person in volunteers.items:
        (columns[person.status.value] if person.status in PIPELINE else others).append(person)
    names = {str(p.id): p.person.name if p.person else str(p.id)[:8] for p in volunteers.items}
    qualified: dict[str, list[HeldQualificationView]] = defaultdict(list)
    for held in qualifications.items:
        qualified[held.code].append(held)
    return {
        "vacancies": vacancies.items,
        "vacancy_titles": {str(v.id): v.title for v in vacancies.items},
        "columns": columns,
        "others": others,
        "names": names,
        "qualified": dict(sorted(qualified.items())),
        "interns": [p for p in volunteers.items if p.kind is VolunteerKind.INTERN],
    }


class VolunteerPages(Controller):
    path = "/volunteers"

    @get("/")
    async def volunteers(
        self,
        visitor: NamedDependency[Visitor],
        rpc: NamedDependency[RpcClient],
        done: FromQuery[str | None] = None,
    ) -> Response[str]:
        actor = visitor.signed_in(Role.STAFF, Role.COORDINATOR)
        return await self._page(visitor, rpc, actor, notice="done.volunteer_step" if done else None)

    @post("/{volunteer_id:uuid}/step", status_code=303)
    async def take_step(
        self,
        volunteer_id: FromPath[UUID],
        request: Request[Any, Any, Any],
        visitor: NamedDependency[Visitor],
        rpc: NamedDependency[RpcClient],
    ) -> Response[Any]:
        actor = visitor.signed_in(Role.STAFF)
        form = await request.form()
        try:
            body = forms.convert(
                {
                    "volunteer_id": str(volunteer_id),
                    "step": forms.text(form, "step"),
                    "reason": forms.text(form, "reason"),
                    "expected_version": forms.number(form, "expected_version"),
                },
                TakeVolunteerStep,
            )
            await rpc.call("volunteers", "take_volunteer_step", actor, body, VolunteerView)
        except (PartnernetError, msgspec.ValidationError) as exc:
            problem = explain(visitor.lang, exc)
            return await self._page(visitor, rpc, actor, problem=problem, status=problem.status)
        return Redirect(f"{PREFIX}/volunteers?done=step#v-{volunteer_id}", status_code=303)

    @staticmethod
    async def _page(
        visitor: Visitor,
        rpc: RpcClient,
        actor: Actor,
        *,
        notice: str | None = None,
        problem: Explanation | None = None,
        status: int = 200,
    ) -> Response[str]:
        return page(
            visitor,
            "volunteers.html",
            status=status,
            section="volunteers",
            notice=notice,
            problem=problem,
            pipeline=[status.value for status in PIPELINE],
            next_steps={s.value: [step.value for step in steps] for s, steps in NEXT_STEPS.items()},
            stop_steps={s.value: [step.value for step in steps] for s, steps in STOP_STEPS.items()},
            can_act=actor.role is Role.STAFF,
            **await load(rpc, actor),
        )
