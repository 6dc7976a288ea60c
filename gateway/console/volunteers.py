"""Volunteers: the library's vacancies, its applicants in the pipeline (with the next steps), who holds which
qualification now, and the people's personal data: found by name, how long it is kept, exported or erased."""

from __future__ import annotations

import asyncio
from collections import defaultdict
from collections.abc import Awaitable, Callable
from functools import partial
from typing import Any
from uuid import UUID

import msgspec
from litestar import Controller, Request, Response, get, post
from litestar.datastructures import FormMultiDict
from litestar.di import NamedDependency
from litestar.params import FromPath, FromQuery

from gateway.console import forms, steps
from gateway.console.explain import Explanation, explain
from gateway.console.names import load_names
from gateway.console.session import PREFIX, Visitor
from gateway.console.views import download, page
from shared.contracts.volunteers.api import operations as ops
from shared.contracts.volunteers.api.personal_data import (
    EraseVolunteerData,
    ExportVolunteerData,
    GetVolunteerPolicy,
    SetVolunteerPolicy,
)
from shared.contracts.volunteers.api.vacancies import ListVacancies
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
from shared.errors import InvalidInput, PartnernetError
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
# An intern goes through intake and screening like a volunteer, and then ends with the internship period.
INTERN_NEXT_STEPS: dict[VolunteerStatus, tuple[VolunteerStep, ...]] = {
    V.INTAKE: (VolunteerStep.START_SCREENING,),
    V.SCREENING: (VolunteerStep.ACTIVATE,),
    V.ACTIVE: (VolunteerStep.END,),
}
# Who can take part in training or be assigned (the service says the same): on their way in or in service.
TRAINABLE = (V.INTAKE, V.SCREENING, V.ACTIVE, V.INACTIVE)
# What `?done=` after a redirect says.
DONE = {"step": "done.volunteer_step", "erased": "done.volunteer_erased", "policy": "done.volunteer_policy"}
STOP_STEPS: dict[VolunteerStatus, tuple[VolunteerStep, ...]] = {
    status: (VolunteerStep.REJECT, VolunteerStep.WITHDRAW) for status in (V.APPLIED, V.INTAKE, V.SCREENING)
}
INTERN_STOP_STEPS: dict[VolunteerStatus, tuple[VolunteerStep, ...]] = {
    status: (VolunteerStep.REJECT, VolunteerStep.END) for status in (V.INTAKE, V.SCREENING)
}


def person_name(person: VolunteerView) -> str:
    if person.person is not None:
        return person.person.name
    return "" if person.anonymised_at else str(person.id)[:8]


async def library_people(rpc: RpcClient, actor: Actor) -> dict[str, VolunteerView]:
    """Everyone who can take part in training or be assigned, by id (names as the service shows them to the visitor)."""
    found = await asyncio.gather(
        *(rpc.call(ops.LIST_VOLUNTEERS, actor, ListVolunteers(status=status, limit=200)) for status in TRAINABLE)
    )
    return {str(person.id): person for found_page in found for person in found_page.items}


PEOPLE_PAGE = 200  # people a page of the pipeline shows; the next page goes on with the API's cursor


async def load(rpc: RpcClient, actor: Actor, name: str | None = None, cursor: str | None = None) -> dict[str, Any]:
    """The page's data; `name` (staff only) narrows the people to those with every part of it in their name;
    `cursor` is the API's (`GET /api/v1/volunteers?cursor=`): the page of people after the one before."""
    wanted = {"limit": PEOPLE_PAGE, "name": name if actor.role is Role.STAFF else None, "cursor": cursor or None}
    search = forms.convert(wanted, ListVolunteers)
    vacancies, volunteers, qualifications, parties = await asyncio.gather(
        rpc.call(ops.LIST_VACANCIES, actor, ListVacancies(limit=200)),
        rpc.call(ops.LIST_VOLUNTEERS, actor, search),
        rpc.call(ops.LIST_QUALIFICATIONS, actor, ListQualifications(valid_only=True, limit=200)),
        load_names(rpc, actor),
    )
    columns: dict[str, list[VolunteerView]] = {status.value: [] for status in PIPELINE}
    others: list[VolunteerView] = []
    for person in volunteers.items:
        (columns[person.status.value] if person.status in PIPELINE else others).append(person)
    # An erased person has no name any more (the template says so); a coordinator sees a short id instead.
    names = {
        str(p.id): p.person.name if p.person else ("" if p.anonymised_at else str(p.id)[:8]) for p in volunteers.items
    }
    qualified: dict[str, list[HeldQualificationView]] = defaultdict(list)
    for held in qualifications.items:
        qualified[held.code].append(held)
    return {
        "vacancies": vacancies.items,
        "vacancy_titles": {str(v.id): v.title for v in vacancies.items},
        "columns": columns,
        "others": others,
        "names": names,
        "parties": parties,
        "qualified": dict(sorted(qualified.items())),
        "interns": [p for p in volunteers.items if p.kind is VolunteerKind.INTERN],
        "policy": await rpc.call(ops.GET_VOLUNTEER_POLICY, actor, GetVolunteerPolicy())
        if actor.role is Role.STAFF
        else None,
        "search": search.name or "",
        "next_cursor": volunteers.next_cursor,
        "paged": bool(cursor),
    }


async def load_page(rpc: RpcClient, actor: Actor, name: str | None, cursor: str | None) -> dict[str, Any]:
    """A cursor not of ours (typed, cut short) shows the first page rather than an error."""
    if cursor:
        try:
            return await load(rpc, actor, name, cursor)
        except (InvalidInput, msgspec.ValidationError):
            pass
    return await load(rpc, actor, name)


POLICY_FIELDS = (
    "applicant_retention_days",
    "volunteer_retention_days",
    "certificate_validity_months",
    "certificate_max_age_months",
    "expected_version",
)


def take_step(volunteer_id: UUID, form: FormMultiDict) -> TakeVolunteerStep:
    """A step in the pipeline (or a stop with a reason), from the list's and the person's page alike."""
    data = {
        "volunteer_id": str(volunteer_id),
        "step": forms.text(form, "step"),
        "reason": forms.text(form, "reason"),
        "expected_version": forms.number(form, "expected_version"),
    }
    return forms.convert(data, TakeVolunteerStep)


class VolunteerPages(Controller):
    path = "/volunteers"

    @get("/")
    async def volunteers(
        self,
        visitor: NamedDependency[Visitor],
        rpc: NamedDependency[RpcClient],
        done: FromQuery[str | None] = None,
        name: FromQuery[str | None] = None,
        cursor: FromQuery[str | None] = None,
    ) -> Response[str]:
        actor = visitor.signed_in(Role.STAFF, Role.COORDINATOR)
        notice = DONE.get(done or "")
        wanted = (name or "").strip()[:200] or None
        return await self._page(visitor, rpc, actor, notice=notice, name=wanted, cursor=cursor)

    @get("/{volunteer_id:uuid}/export")
    async def export(
        self, volunteer_id: FromPath[UUID], visitor: NamedDependency[Visitor], rpc: NamedDependency[RpcClient]
    ) -> Response[Any]:
        """Everything held about the person as a JSON file, for staff to hand over (the right of access)."""
        actor = visitor.signed_in(Role.STAFF)
        try:
            exported = await rpc.call(ops.EXPORT_VOLUNTEER_DATA, actor, ExportVolunteerData(volunteer_id=volunteer_id))
        except PartnernetError as exc:
            problem = explain(visitor.lang, exc)
            return await self._page(visitor, rpc, actor, problem=problem, status=problem.status)
        return download(exported, f"volunteer-{volunteer_id}.json")

    @post("/{volunteer_id:uuid}/erase", status_code=303)
    async def erase(
        self,
        volunteer_id: FromPath[UUID],
        request: Request[Any, Any, Any],
        visitor: NamedDependency[Visitor],
        rpc: NamedDependency[RpcClient],
    ) -> Response[Any]:
        """Erase on the person's request; the form asks to confirm, as it cannot be undone."""
        actor = visitor.signed_in(Role.STAFF)
        form = await request.form()

        def erasure() -> EraseVolunteerData:
            if forms.text(form, "confirm") != "yes":
                raise InvalidInput("confirm that the personal data is to be erased")
            return EraseVolunteerData(volunteer_id=volunteer_id)

        return await self._submit(
            visitor, rpc, actor, lambda: rpc.call(ops.ERASE_VOLUNTEER_DATA, actor, erasure()), "erased#h-personal-data"
        )

    @post("/policy", status_code=303)
    async def set_policy(
        self, request: Request[Any, Any, Any], visitor: NamedDependency[Visitor], rpc: NamedDependency[RpcClient]
    ) -> Response[Any]:
        actor = visitor.signed_in(Role.STAFF)
        form = await request.form()

        def policy() -> SetVolunteerPolicy:
            return forms.convert({name: forms.number(form, name) for name in POLICY_FIELDS}, SetVolunteerPolicy)

        call = partial(rpc.call, ops.SET_VOLUNTEER_POLICY, actor)
        return await self._submit(visitor, rpc, actor, lambda: call(policy()), "policy#h-personal-data")

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
        call = partial(rpc.call, ops.TAKE_VOLUNTEER_STEP, actor)
        return await self._submit(
            visitor, rpc, actor, lambda: call(take_step(volunteer_id, form)), f"step#v-{volunteer_id}"
        )

    async def _submit(
        self, visitor: Visitor, rpc: RpcClient, actor: Actor, call: Callable[[], Awaitable[Any]], done: str
    ) -> Response[Any]:
        return await steps.submit(
            visitor,
            call,
            done=f"{PREFIX}/volunteers?done={done}",
            again=lambda problem: self._page(visitor, rpc, actor, problem=problem, status=problem.status),
        )

    @staticmethod
    async def _page(
        visitor: Visitor,
        rpc: RpcClient,
        actor: Actor,
        *,
        notice: str | None = None,
        problem: Explanation | None = None,
        status: int = 200,
        name: str | None = None,
        cursor: str | None = None,
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
            intern_next_steps={s.value: [step.value for step in steps] for s, steps in INTERN_NEXT_STEPS.items()},
            stop_steps={s.value: [step.value for step in steps] for s, steps in STOP_STEPS.items()},
            intern_stop_steps={s.value: [step.value for step in steps] for s, steps in INTERN_STOP_STEPS.items()},
            can_act=actor.role is Role.STAFF,
            **await load_page(rpc, actor, name, cursor),
        )
