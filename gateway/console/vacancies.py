"""A library's vacancies for volunteers, for its staff (the coordinator and partners read along): the list, a new
vacancy, and a vacancy's page with its applicants, the form to change what it asks, and publishing or closing it.
Each form posts the volunteers service's own operation (as POST/PATCH /api/v1/vacancies and .../publish|close do)
with the version shown; the service decides who may and what is legal (a closed one may be published again)."""

from __future__ import annotations

import asyncio
from typing import Any
from uuid import UUID

import msgspec
from litestar import Controller, Request, Response, get, post
from litestar.datastructures import FormMultiDict
from litestar.di import NamedDependency
from litestar.params import FromPath, FromQuery
from litestar.response import Redirect

from gateway.console import forms, paging, steps
from gateway.console.explain import Explanation, explain
from gateway.console.names import load_names
from gateway.console.session import PREFIX, Visitor
from gateway.console.views import page
from shared.contracts.volunteers.api import operations as ops
from shared.contracts.volunteers.api.vacancies import (
    CreateVacancy,
    GetVacancy,
    ListVacancies,
    TakeVacancyStep,
    UpdateVacancy,
    VacancyStatus,
    VacancyStep,
    VacancyView,
)
from shared.contracts.volunteers.api.volunteers import ListVolunteers
from shared.errors import PartnernetError
from shared.rpc import RpcClient
from shared.tenancy import Actor, Role

# Partners read too: the volunteers service shows a volunteer organisation the published vacancies of the libraries it
# supplies volunteers to, and of a vacancy's applicants only those it brought in.
READERS = (Role.STAFF, Role.COORDINATOR, Role.PARTNER)
# The steps a vacancy's page offers in each status; the volunteers service decides (an illegal one is a 409).
STEPS: dict[VacancyStatus, tuple[VacancyStep, ...]] = {
    VacancyStatus.DRAFT: (VacancyStep.PUBLISH, VacancyStep.CLOSE),
    VacancyStatus.PUBLISHED: (VacancyStep.CLOSE,),
    VacancyStatus.CLOSED: (VacancyStep.PUBLISH,),  # reopened
}
DONE = ("created", "changed", *(step.value for step in VacancyStep))
FIELDS = ("title", "description", "hours_per_week", "qualifications_needed")


def change(vacancy_id: UUID, form: FormMultiDict) -> UpdateVacancy:
    data = what_it_asks(form) | {
        "vacancy_id": str(vacancy_id),
        "expected_version": forms.number(form, "expected_version"),
    }
    # The form shows every field, so an emptied hours per week is cleared (a merge patch).
    return msgspec.convert(data, UpdateVacancy)


def step(step: VacancyStep) -> steps.Step:
    return steps.Step(
        ops.TAKE_VACANCY_STEP,
        lambda vacancy_id, form: TakeVacancyStep(
            vacancy_id=vacancy_id, step=step, expected_version=forms.number(form, "expected_version")
        ),
    )


# What a form about a vacancy does (the last part of its address): change what it asks, or one of its steps.
ACTS: dict[str, steps.Step] = {"change": steps.Step(ops.UPDATE_VACANCY, change)} | {
    s.value: step(s) for s in VacancyStep
}


def qualification_codes(form: FormMultiDict) -> list[str]:
    """Codes typed as a list (`digital-guide, taalcoach`), each checked by the service's pattern."""
    typed = forms.text(form, "qualifications_needed") or ""
    return [code.strip() for code in typed.replace(";", ",").split(",") if code.strip()]


def what_it_asks(form: FormMultiDict) -> dict[str, Any]:
    return {
        "title": forms.text(form, "title"),
        "description": forms.text(form, "description") or "",
        "hours_per_week": forms.number(form, "hours_per_week"),
        "qualifications_needed": qualification_codes(form),
        "certificate_of_conduct_required": forms.flag(form, "certificate_of_conduct_required"),
    }


def typed_values(form: FormMultiDict) -> dict[str, Any]:
    """What the person typed, to show again beside a problem."""
    values: dict[str, Any] = {name: forms.text(form, name) or "" for name in FIELDS}
    values["certificate_of_conduct_required"] = forms.flag(form, "certificate_of_conduct_required")
    return values


def shown_values(vacancy: VacancyView) -> dict[str, Any]:
    return {
        "title": vacancy.title,
        "description": vacancy.description,
        "hours_per_week": "" if vacancy.hours_per_week is None else str(vacancy.hours_per_week),
        "qualifications_needed": ", ".join(vacancy.qualifications_needed),
        "certificate_of_conduct_required": vacancy.certificate_of_conduct_required,
    }


class VacancyPages(Controller):
    path = "/vacancies"

    @get("/")
    async def vacancies(
        self,
        visitor: NamedDependency[Visitor],
        rpc: NamedDependency[RpcClient],
        status: FromQuery[str | None] = None,
        cursor: FromQuery[str | None] = None,
    ) -> Response[str]:
        """A page of vacancies (paging.PAGE), the next by the API's cursor (`GET /api/v1/vacancies?cursor=`)."""
        actor = visitor.signed_in(*READERS)
        shown = VacancyStatus(status) if status in set(VacancyStatus) else None
        found, parties = await asyncio.gather(
            paging.one_page(
                lambda at, limit: rpc.call(
                    ops.LIST_VACANCIES, actor, ListVacancies(status=shown, limit=limit, cursor=at)
                ),
                cursor,
                path=f"{PREFIX}/vacancies",
                keep={"status": shown.value if shown else None},
            ),
            load_names(rpc, actor),
        )
        return page(
            visitor,
            "vacancies.html",
            section="volunteers",
            vacancies=found.items,
            pages=found,
            statuses=[s.value for s in VacancyStatus],
            shown=shown.value if shown else None,
            parties=parties,
            can_act=actor.role is Role.STAFF,
        )

    @get("/new")
    async def new_vacancy(self, visitor: NamedDependency[Visitor]) -> Response[str]:
        visitor.signed_in(Role.STAFF)
        values = {name: "" for name in FIELDS} | {"certificate_of_conduct_required": True}
        return page(visitor, "vacancy_new.html", section="volunteers", problem=None, values=values)

    @post("/", status_code=303)
    async def create(
        self, request: Request[Any, Any, Any], visitor: NamedDependency[Visitor], rpc: NamedDependency[RpcClient]
    ) -> Response[Any]:
        actor = visitor.signed_in(Role.STAFF)
        form = await request.form()
        try:
            made = await rpc.call(ops.CREATE_VACANCY, actor, forms.convert(what_it_asks(form), CreateVacancy))
        except (PartnernetError, msgspec.ValidationError) as exc:
            problem = explain(visitor.lang, exc)
            return page(
                visitor,
                "vacancy_new.html",
                status=problem.status,
                section="volunteers",
                problem=problem,
                values=typed_values(form),
            )
        return Redirect(f"{PREFIX}/vacancies/{made.id}?done=created", status_code=303)

    @get("/{vacancy_id:uuid}")
    async def vacancy(
        self,
        vacancy_id: FromPath[UUID],
        visitor: NamedDependency[Visitor],
        rpc: NamedDependency[RpcClient],
        done: FromQuery[str | None] = None,
        cursor: FromQuery[str | None] = None,
    ) -> Response[str]:
        actor = visitor.signed_in(*READERS)
        notice = f"vacancy_done.{done}" if done in DONE else None
        return await self._page(visitor, rpc, actor, vacancy_id, notice=notice, cursor=cursor)

    @post("/{vacancy_id:uuid}/{act:str}", status_code=303)
    async def act(
        self,
        vacancy_id: FromPath[UUID],
        act: FromPath[str],
        request: Request[Any, Any, Any],
        visitor: NamedDependency[Visitor],
        rpc: NamedDependency[RpcClient],
    ) -> Response[Any]:
        """Change what it asks, or a step (publish, close, reopen …): the volunteers service decides."""
        actor = visitor.signed_in(Role.STAFF)
        form = await request.form()
        values = typed_values(form) if act == "change" else None
        return await steps.submit(
            visitor,
            lambda: steps.take(rpc, actor, ACTS, act, vacancy_id, form),
            done=f"{PREFIX}/vacancies/{vacancy_id}?done={'changed' if act == 'change' else act}",
            again=lambda problem: self._page(visitor, rpc, actor, vacancy_id, problem=problem, values=values),
        )

    @staticmethod
    async def _page(
        visitor: Visitor,
        rpc: RpcClient,
        actor: Actor,
        vacancy_id: UUID,
        *,
        notice: str | None = None,
        problem: Explanation | None = None,
        values: dict[str, Any] | None = None,
        cursor: str | None = None,
    ) -> Response[str]:
        """The vacancy and a page of its applicants (paging.PAGE), the next by the API's cursor."""
        vacancy = await rpc.call(ops.GET_VACANCY, actor, GetVacancy(vacancy_id=vacancy_id))
        applicants, parties = await asyncio.gather(
            paging.one_page(
                lambda at, limit: rpc.call(
                    ops.LIST_VOLUNTEERS, actor, ListVolunteers(vacancy_id=vacancy_id, limit=limit, cursor=at)
                ),
                cursor,
                path=f"{PREFIX}/vacancies/{vacancy_id}",
            ),
            load_names(rpc, actor),
        )
        can_act = actor.role is Role.STAFF
        return page(
            visitor,
            "vacancy.html",
            status=problem.status if problem else 200,
            section="volunteers",
            vac=vacancy,
            applicants=applicants.items,
            applicant_pages=applicants,
            parties=parties,
            steps=[step.value for step in STEPS.get(vacancy.status, ())] if can_act else [],
            can_change=can_act,
            values=values or shown_values(vacancy),
            notice=notice,
            problem=problem,
        )
