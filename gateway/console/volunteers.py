"""Volunteers: the library's vacancies, its applicants in the pipeline (with the next steps), who holds which
qualification now, and the people's personal data: found by name, how long it is kept, exported or erased."""

from __future__ import annotations

import asyncio
from collections import defaultdict
from collections.abc import Awaitable, Callable
from functools import partial
from typing import Any
from uuid import UUID

from litestar import Controller, Request, Response, get, post
from litestar.datastructures import FormMultiDict
from litestar.di import NamedDependency
from litestar.params import FromPath, FromQuery

from gateway.console import forms, paging, steps
from gateway.console.explain import Explanation, explain
from gateway.console.names import load_names
from gateway.console.session import PREFIX, Visitor
from gateway.console.views import download, page
from shared.contracts.vocabulary import Page
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


async def trainable_people(rpc: RpcClient, actor: Actor) -> tuple[dict[str, VolunteerView], bool]:
    """Everyone who can take part in training or be assigned, by id (names as the service shows them to the visitor),
    over every page of each status (paging.every); False when paging.OPTIONS_BOUND cut a status short."""

    def status_of(status: VolunteerStatus) -> paging.Fetch[VolunteerView]:
        return lambda at, limit: rpc.call(
            ops.LIST_VOLUNTEERS, actor, ListVolunteers(status=status, limit=limit, cursor=at)
        )

    found = await asyncio.gather(*(paging.every(status_of(status)) for status in TRAINABLE))
    people = {str(person.id): person for everyone in found for person in everyone.items}
    return people, all(everyone.complete for everyone in found)


async def library_people(rpc: RpcClient, actor: Actor) -> dict[str, VolunteerView]:
    """`trainable_people` without saying whether the bound cut it short."""
    return (await trainable_people(rpc, actor))[0]


async def load(
    rpc: RpcClient,
    actor: Actor,
    name: str | None = None,
    cursor: str | None = None,
    qualified_cursor: str | None = None,
) -> dict[str, Any]:
    """The page's data; `name` (staff only) narrows the people to those with every part of it in their name;
    `cursor` is the API's (`GET /api/v1/volunteers?cursor=`): the page of people after the one before (one not of
    ours shows the first). The vacancies' titles come from all their pages; the table shows the first page of them
    and leads to the vacancies page for the rest. Who holds which qualification goes on with `qualified_cursor`."""
    named = name if actor.role is Role.STAFF else None

    async def people(at: str | None, limit: int) -> Page[VolunteerView]:
        search = forms.convert({"limit": limit, "name": named, "cursor": at}, ListVolunteers)
        return await rpc.call(ops.LIST_VOLUNTEERS, actor, search)

    vacancies, volunteers, qualifications, parties = await asyncio.gather(
        paging.every(lambda at, limit: rpc.call(ops.LIST_VACANCIES, actor, ListVacancies(limit=limit, cursor=at))),
        paging.one_page(people, cursor, path=f"{PREFIX}/volunteers", keep={"name": named}),
        paging.one_page(
            lambda at, limit: rpc.call(
                ops.LIST_QUALIFICATIONS, actor, ListQualifications(valid_only=True, limit=limit, cursor=at)
            ),
            qualified_cursor,
            path=f"{PREFIX}/volunteers",
            param="qualified_cursor",
        ),
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
        "vacancies": vacancies.items[: paging.PAGE],
        "more_vacancies": len(vacancies.items) > paging.PAGE or not vacancies.complete,
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
        "search": named or "",
        "people_pages": volunteers,
        "qualified_pages": qualifications,
    }


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
        qualified_cursor: FromQuery[str | None] = None,
    ) -> Response[str]:
        actor = visitor.signed_in(Role.STAFF, Role.COORDINATOR)
        notice = DONE.get(done or "")
        wanted = (name or "").strip()[:200] or None
        return await self._page(
            visitor, rpc, actor, notice=notice, name=wanted, cursor=cursor, qualified_cursor=qualified_cursor
        )

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
        qualified_cursor: str | None = None,
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
            **await load(rpc, actor, name, cursor, qualified_cursor),
        )
