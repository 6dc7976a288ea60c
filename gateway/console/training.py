"""Training for volunteers, for the library's staff (the coordinator reads along): its modules (a new one, given by
the library or a volunteer organisation, and what it qualifies for), the sessions planned of a module, and who
attended a session and completed the module (which gives its qualification). Each form posts the volunteers
service's own operation (as /api/v1/trainings/modules and /sessions do); the service decides who may. A volunteer
organisation uses the same pages for its own modules: it adds one for a library it works with, plans its sessions and
records attendance where its partnership brings `training` (otherwise the service's 403/404 is shown on the form)."""

from __future__ import annotations

import asyncio
from typing import Any
from uuid import UUID

import msgspec
from litestar import Controller, Request, Response, get, post
from litestar.datastructures import FormMultiDict
from litestar.di import NamedDependency
from litestar.params import FromPath, FromQuery

from gateway.console import forms, paging, steps
from gateway.console.explain import Explanation
from gateway.console.names import load_names
from gateway.console.session import PREFIX, Visitor
from gateway.console.views import page
from gateway.console.volunteers import person_name, trainable_people
from shared.contracts.partners.api import operations as partner_ops
from shared.contracts.partners.api.organisations import ListPartners, PartnerStatus, PartnerView
from shared.contracts.volunteers.api import operations as ops
from shared.contracts.volunteers.api.training import (
    AddTrainingModule,
    GetTrainingModule,
    GetTrainingSession,
    ListTrainingModules,
    ListTrainingSessions,
    RecordAttendance,
    ScheduleTrainingSession,
    UpdateTrainingModule,
)
from shared.contracts.volunteers.events import ModuleDelivery
from shared.errors import PartnernetError
from shared.rpc import RpcClient
from shared.tenancy import Actor, Role

# A partner reads the modules it gives and their sessions; a volunteer organisation whose partnership brings
# `training` adds its own, plans their sessions and records attendance (the service checks the partnership).
READERS = (Role.STAFF, Role.COORDINATOR, Role.PARTNER)
TRAINERS = (Role.STAFF, Role.PARTNER)
DONE = ("added", "changed", "scheduled", "recorded")
# Bought training becomes a module when the courses service delivers the purchase; it is not added by hand.
DELIVERIES = (ModuleDelivery.LIBRARY, ModuleDelivery.VOLUNTEER_ORGANISATION)
MODULE_FIELDS = (
    "title",
    "description",
    "qualification",
    "validity_months",
    "delivered_by",
    "provider_partner_id",
    "library",
)
SESSION_FIELDS = ("starts_at", "ends_at", "place", "capacity")


def module_form(form: FormMultiDict) -> dict[str, Any]:
    return {
        "title": forms.text(form, "title"),
        "description": forms.text(form, "description") or "",
        "qualification": forms.text(form, "qualification"),
        "validity_months": forms.number(form, "validity_months"),
    }


def given_by(actor: Actor, form: FormMultiDict) -> dict[str, Any]:
    """Who gives a new module: staff choose; a volunteer organisation gives it itself, for a library it names."""
    if actor.role is Role.PARTNER:
        return {
            "delivered_by": ModuleDelivery.VOLUNTEER_ORGANISATION.value,
            "provider_partner_id": actor.partner,
            "library": forms.text(form, "library"),
        }
    return {
        "delivered_by": forms.text(form, "delivered_by"),
        "provider_partner_id": forms.text(form, "provider_partner_id"),
    }


def section_of(actor: Actor) -> str:
    """The menu item the page lights: a partner's own Training item, staff's Volunteers."""
    return "training" if actor.role is Role.PARTNER else "volunteers"


def typed(form: FormMultiDict, names: tuple[str, ...]) -> dict[str, str]:
    return {name: forms.text(form, name) or "" for name in names}


async def module_titles(rpc: RpcClient, actor: Actor, module_ids: set[str]) -> dict[str, str]:
    """The titles of the modules of sessions whose module is not on the modules' page shown (a module the visitor
    may not read keeps no title: the page shows a dash)."""

    async def title(module_id: str) -> tuple[str, str | None]:
        try:
            found = await rpc.call(ops.GET_TRAINING_MODULE, actor, GetTrainingModule(module_id=UUID(module_id)))
        except PartnernetError:
            return module_id, None
        return module_id, found.title

    found = await asyncio.gather(*(title(module_id) for module_id in sorted(module_ids)))
    return {module_id: shown for module_id, shown in found if shown is not None}


class TrainingPages(Controller):
    path = "/training"

    @get("/")
    async def training(
        self,
        visitor: NamedDependency[Visitor],
        rpc: NamedDependency[RpcClient],
        modules_cursor: FromQuery[str | None] = None,
        sessions_cursor: FromQuery[str | None] = None,
    ) -> Response[str]:
        actor = visitor.signed_in(*READERS)
        return await self._overview(visitor, rpc, actor, cursors=(modules_cursor, sessions_cursor))

    @post("/modules", status_code=303)
    async def add_module(
        self, request: Request[Any, Any, Any], visitor: NamedDependency[Visitor], rpc: NamedDependency[RpcClient]
    ) -> Response[Any]:
        actor = visitor.signed_in(*TRAINERS)
        form = await request.form()
        return await steps.submit(
            visitor,
            lambda: rpc.call(
                ops.ADD_TRAINING_MODULE,
                actor,
                forms.convert(module_form(form) | given_by(actor, form), AddTrainingModule),
            ),
            done=lambda made: f"{PREFIX}/training/modules/{made.id}?done=added",
            again=lambda problem: self._overview(
                visitor, rpc, actor, problem=problem, values=typed(form, MODULE_FIELDS)
            ),
        )

    @get("/modules/{module_id:uuid}")
    async def module(
        self,
        module_id: FromPath[UUID],
        visitor: NamedDependency[Visitor],
        rpc: NamedDependency[RpcClient],
        done: FromQuery[str | None] = None,
        cursor: FromQuery[str | None] = None,
    ) -> Response[str]:
        actor = visitor.signed_in(*READERS)
        notice = f"training_done.{done}" if done in DONE else None
        return await self._module_page(visitor, rpc, actor, module_id, notice=notice, cursor=cursor)

    @post("/modules/{module_id:uuid}", status_code=303)
    async def change_module(
        self,
        module_id: FromPath[UUID],
        request: Request[Any, Any, Any],
        visitor: NamedDependency[Visitor],
        rpc: NamedDependency[RpcClient],
    ) -> Response[Any]:
        actor = visitor.signed_in(Role.STAFF)
        form = await request.form()

        def change() -> UpdateTrainingModule:
            version = forms.number(form, "expected_version")
            data = module_form(form) | {"module_id": str(module_id), "expected_version": version}
            # The form shows every field, so an emptied qualification or validity is cleared (a merge patch).
            return msgspec.convert(data, UpdateTrainingModule)

        return await steps.submit(
            visitor,
            lambda: rpc.call(ops.UPDATE_TRAINING_MODULE, actor, change()),
            done=f"{PREFIX}/training/modules/{module_id}?done=changed",
            again=lambda problem: self._module_page(
                visitor, rpc, actor, module_id, problem=problem, open_form="change", values=typed(form, MODULE_FIELDS)
            ),
        )

    @post("/modules/{module_id:uuid}/sessions", status_code=303)
    async def schedule(
        self,
        module_id: FromPath[UUID],
        request: Request[Any, Any, Any],
        visitor: NamedDependency[Visitor],
        rpc: NamedDependency[RpcClient],
    ) -> Response[Any]:
        actor = visitor.signed_in(*TRAINERS)
        form = await request.form()

        def session() -> ScheduleTrainingSession:
            data = {
                "module_id": str(module_id),
                "starts_at": forms.local_datetime(form, "starts_at", "starts_at"),
                "ends_at": forms.local_datetime(form, "ends_at", "ends_at"),
                "place": forms.text(form, "place"),
                "capacity": forms.number(form, "capacity"),
            }
            return forms.convert(data, ScheduleTrainingSession)

        return await steps.submit(
            visitor,
            lambda: rpc.call(ops.SCHEDULE_TRAINING_SESSION, actor, session()),
            done=lambda made: f"{PREFIX}/training/sessions/{made.id}?done=scheduled",
            again=lambda problem: self._module_page(
                visitor, rpc, actor, module_id, problem=problem, open_form="session", values=typed(form, SESSION_FIELDS)
            ),
        )

    @get("/sessions/{session_id:uuid}")
    async def session(
        self,
        session_id: FromPath[UUID],
        visitor: NamedDependency[Visitor],
        rpc: NamedDependency[RpcClient],
        done: FromQuery[str | None] = None,
    ) -> Response[str]:
        actor = visitor.signed_in(*READERS)
        notice = f"training_done.{done}" if done in DONE else None
        return await self._session_page(visitor, rpc, actor, session_id, notice=notice)

    @post("/sessions/{session_id:uuid}/attendance", status_code=303)
    async def record_attendance(
        self,
        session_id: FromPath[UUID],
        request: Request[Any, Any, Any],
        visitor: NamedDependency[Visitor],
        rpc: NamedDependency[RpcClient],
    ) -> Response[Any]:
        actor = visitor.signed_in(*TRAINERS)
        form = await request.form()

        def attendance() -> RecordAttendance:
            data = {
                "session_id": str(session_id),
                "volunteer_id": forms.text(form, "volunteer_id"),
                "attended": forms.flag(form, "attended"),
                "completed": forms.flag(form, "completed"),
            }
            return forms.convert(data, RecordAttendance)

        return await steps.submit(
            visitor,
            lambda: rpc.call(ops.RECORD_ATTENDANCE, actor, attendance()),
            done=f"{PREFIX}/training/sessions/{session_id}?done=recorded",
            again=lambda problem: self._session_page(visitor, rpc, actor, session_id, problem=problem),
        )

    @staticmethod
    async def _overview(
        visitor: Visitor,
        rpc: RpcClient,
        actor: Actor,
        *,
        problem: Explanation | None = None,
        values: dict[str, str] | None = None,
        cursors: tuple[str | None, str | None] = (None, None),
    ) -> Response[str]:
        """The modules and the sessions a page each (paging.PAGE), the next by the API's cursor
        (`/api/v1/trainings/modules?cursor=`, `/sessions?cursor=`); a new module's provider from every active
        partner."""
        can_act = actor.role in TRAINERS
        path = f"{PREFIX}/training"
        modules, sessions, parties = await asyncio.gather(
            paging.one_page(
                lambda at, limit: rpc.call(
                    ops.LIST_TRAINING_MODULES, actor, ListTrainingModules(limit=limit, cursor=at)
                ),
                cursors[0],
                path=path,
                param="modules_cursor",
            ),
            paging.one_page(
                lambda at, limit: rpc.call(
                    ops.LIST_TRAINING_SESSIONS, actor, ListTrainingSessions(limit=limit, cursor=at)
                ),
                cursors[1],
                path=path,
                param="sessions_cursor",
            ),
            load_names(rpc, actor),
        )
        titles = {str(m.id): m.title for m in modules.items}
        titles |= await module_titles(rpc, actor, {str(s.module_id) for s in sessions.items} - set(titles))
        partners = paging.Everything[PartnerView]([])
        if actor.role is Role.STAFF:
            active = PartnerStatus.ACTIVE
            partners = await paging.every(
                lambda at, limit: rpc.call(
                    partner_ops.LIST_PARTNERS, actor, ListPartners(status=active, limit=limit, cursor=at)
                )
            )
        return page(
            visitor,
            "training.html",
            status=problem.status if problem else 200,
            section=section_of(actor),
            modules=modules.items,
            module_pages=modules,
            module_titles=titles,
            sessions=sessions.items,
            session_pages=sessions,
            parties=parties,
            partners=partners.items,
            partner_options=partners,
            deliveries=[d.value for d in DELIVERIES],
            can_act=can_act,
            is_partner=actor.role is Role.PARTNER,
            problem=problem,
            values=values or dict.fromkeys(MODULE_FIELDS, "") | {"delivered_by": ModuleDelivery.LIBRARY.value},
        )

    @staticmethod
    async def _module_page(
        visitor: Visitor,
        rpc: RpcClient,
        actor: Actor,
        module_id: UUID,
        *,
        notice: str | None = None,
        problem: Explanation | None = None,
        open_form: str | None = None,
        values: dict[str, str] | None = None,
        cursor: str | None = None,
    ) -> Response[str]:
        """The module and a page of its sessions (paging.PAGE), the next by the API's cursor."""
        module, sessions, parties = await asyncio.gather(
            rpc.call(ops.GET_TRAINING_MODULE, actor, GetTrainingModule(module_id=module_id)),
            paging.one_page(
                lambda at, limit: rpc.call(
                    ops.LIST_TRAINING_SESSIONS, actor, ListTrainingSessions(module_id=module_id, limit=limit, cursor=at)
                ),
                cursor,
                path=f"{PREFIX}/training/modules/{module_id}",
            ),
            load_names(rpc, actor),
        )
        shown = {
            "title": module.title,
            "description": module.description,
            "qualification": module.qualification or "",
            "validity_months": "" if module.validity_months is None else str(module.validity_months),
        }
        return page(
            visitor,
            "training_module.html",
            status=problem.status if problem else 200,
            section=section_of(actor),
            m=module,
            sessions=sessions.items,
            session_pages=sessions,
            parties=parties,
            can_act=actor.role in TRAINERS,
            can_change=actor.role is Role.STAFF,
            notice=notice,
            problem=problem,
            open_form=open_form,
            module_values=values if open_form == "change" and values else shown,
            session_values=values if open_form == "session" and values else dict.fromkeys(SESSION_FIELDS, ""),
        )

    @staticmethod
    async def _session_page(
        visitor: Visitor,
        rpc: RpcClient,
        actor: Actor,
        session_id: UUID,
        *,
        notice: str | None = None,
        problem: Explanation | None = None,
    ) -> Response[str]:
        session = await rpc.call(ops.GET_TRAINING_SESSION, actor, GetTrainingSession(session_id=session_id))
        module, (people, complete) = await asyncio.gather(
            rpc.call(ops.GET_TRAINING_MODULE, actor, GetTrainingModule(module_id=session.module_id)),
            trainable_people(rpc, actor),  # every page (paging.every): anyone may have attended
        )
        return page(
            visitor,
            "training_session.html",
            status=problem.status if problem else 200,
            section=section_of(actor),
            s=session,
            m=module,
            names={key: person_name(person) for key, person in people.items()},
            trainable=sorted(people.values(), key=person_name),
            trainable_options=paging.Everything(list(people.values()), complete),
            can_act=actor.role in TRAINERS,
            is_partner=actor.role is Role.PARTNER,
            notice=notice,
            problem=problem,
        )
