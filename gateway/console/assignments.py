"""Where volunteers help and the hours they give, for the library's staff (the coordinator reads along): the courses
that need guides (open assignments, with what they ask), assigning a volunteer or intern (to a course, or as a buddy
to a participant: the referral chosen from the library's that can have one, or its pseudonym typed), the assignments
and this month's hours; an assignment's page logs hours, corrects or removes an entry with a reason (its history
keeps what it said) and ends the assignment. Each form posts the volunteers service's own operation (as
/api/v1/assignments... and /open-assignments do); the service decides who fits (active, screened, qualified: a 409
says what lacks)."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any
from uuid import UUID

import msgspec
from litestar import Controller, Request, Response, get, post
from litestar.datastructures import FormMultiDict
from litestar.di import NamedDependency
from litestar.params import FromPath, FromQuery
from litestar.response import Redirect

from gateway.console import forms, steps
from gateway.console.explain import Explanation, explain
from gateway.console.names import load_names
from gateway.console.session import PREFIX, Visitor
from gateway.console.vacancies import qualification_codes
from gateway.console.views import page
from gateway.console.volunteers import library_people, person_name
from shared.clock import LOCAL_TIME
from shared.contracts.referrals.api import operations as referral_ops
from shared.contracts.referrals.api.referrals import ListReferrals, ReferralStatus, ReferralSummary
from shared.contracts.volunteers.api import operations as ops
from shared.contracts.volunteers.api.assignments import (
    AssignmentStatus,
    AssignVolunteer,
    CorrectHours,
    EndAssignment,
    GetAssignment,
    ListAssignments,
    ListHours,
    ListHoursTotals,
    ListOpenings,
    LogHours,
    RemoveHours,
    UpdateOpening,
)
from shared.contracts.volunteers.api.volunteers import VolunteerStatus
from shared.contracts.volunteers.events import AssignmentKind
from shared.errors import InvalidInput, PartnernetError
from shared.rpc import RpcClient
from shared.tenancy import Actor, Role

READERS = (Role.STAFF, Role.COORDINATOR)
DONE = ("logged", "corrected", "removed", "ended", "assigned", "opening")
# What a form about one assignment does (the last part of its address) → the operation and its request.
ACTS: dict[str, steps.Step] = {
    "hours": steps.Step(
        ops.LOG_HOURS,
        lambda aid, form: forms.convert(
            {
                "assignment_id": str(aid),
                "worked_on": forms.text(form, "worked_on"),
                "minutes": minutes_of(form),
                "note": forms.text(form, "note"),
            },
            LogHours,
        ),
    ),
    "end": steps.Step(
        ops.END_ASSIGNMENT,
        lambda aid, form: EndAssignment(assignment_id=aid, expected_version=forms.number(form, "expected_version")),
    ),
}
DONE_OF = {"hours": "logged", "end": "ended"}
ASSIGN_FIELDS = ("volunteer_id", "kind", "opening_id", "referral_id", "participant_pseudonym", "starts_on", "ends_on")
# A buddy is matched to a participant the library took on, until the referral closes (the volunteers service decides).
MATCHABLE = (
    ReferralStatus.ACCEPTED,
    ReferralStatus.INTAKE_PLANNED,
    ReferralStatus.INTAKE_HELD,
    ReferralStatus.ENROLLED,
)


def minutes_of(form: FormMultiDict) -> int | None:
    """Hours and minutes as two numbers (people think in hours); None when both are empty."""
    hours, minutes = forms.number(form, "hours"), forms.number(form, "minutes")
    if hours is None and minutes is None:
        return None
    if not 0 <= (minutes or 0) < 60 or (hours or 0) < 0:
        raise InvalidInput("hours and minutes are whole numbers, minutes below 60 - at `$.minutes`")
    return (hours or 0) * 60 + (minutes or 0)


def this_month() -> str:
    return datetime.now(LOCAL_TIME).strftime("%Y-%m")


class AssignmentPages(Controller):
    path = "/assignments"

    @get("/")
    async def assignments(
        self,
        visitor: NamedDependency[Visitor],
        rpc: NamedDependency[RpcClient],
        opening: FromQuery[UUID | None] = None,
        done: FromQuery[str | None] = None,
    ) -> Response[str]:
        actor = visitor.signed_in(*READERS)
        values = dict.fromkeys(ASSIGN_FIELDS, "") | {"kind": "course", "opening_id": str(opening or "")}
        notice = f"assignment_done.{done}" if done in DONE else None
        return await self._overview(visitor, rpc, actor, values=values, notice=notice)

    @post("/", status_code=303)
    async def assign(
        self, request: Request[Any, Any, Any], visitor: NamedDependency[Visitor], rpc: NamedDependency[RpcClient]
    ) -> Response[Any]:
        actor = visitor.signed_in(Role.STAFF)
        form = await request.form()
        try:
            kind = forms.text(form, "kind")
            data = {
                "volunteer_id": forms.text(form, "volunteer_id"),
                "kind": kind,
                "opening_id": forms.text(form, "opening_id") if kind == AssignmentKind.COURSE else None,
                "referral_id": forms.text(form, "referral_id") if kind == AssignmentKind.BUDDY else None,
                "participant_pseudonym": forms.text(form, "participant_pseudonym")
                if kind == AssignmentKind.BUDDY
                else None,
                "starts_on": forms.text(form, "starts_on"),
                "ends_on": forms.text(form, "ends_on"),
            }
            made = await rpc.call(ops.ASSIGN, actor, forms.convert(data, AssignVolunteer))
        except (PartnernetError, msgspec.ValidationError) as exc:
            values = {name: forms.text(form, name) or "" for name in ASSIGN_FIELDS}
            return await self._overview(visitor, rpc, actor, values=values, problem=explain(visitor.lang, exc))
        return Redirect(f"{PREFIX}/assignments/{made.id}?done=assigned", status_code=303)

    @post("/openings/{opening_id:uuid}", status_code=303)
    async def change_opening(
        self,
        opening_id: FromPath[UUID],
        request: Request[Any, Any, Any],
        visitor: NamedDependency[Visitor],
        rpc: NamedDependency[RpcClient],
    ) -> Response[Any]:
        actor = visitor.signed_in(Role.STAFF)
        form = await request.form()
        try:
            data = {
                "opening_id": str(opening_id),
                "qualifications_needed": qualification_codes(form),
                "certificate_of_conduct_required": forms.flag(form, "certificate_of_conduct_required"),
                "expected_version": forms.number(form, "expected_version"),
            }
            await rpc.call(ops.UPDATE_OPENING, actor, forms.convert(data, UpdateOpening))
        except (PartnernetError, msgspec.ValidationError) as exc:
            values = dict.fromkeys(ASSIGN_FIELDS, "") | {"kind": "course"}
            return await self._overview(visitor, rpc, actor, values=values, problem=explain(visitor.lang, exc))
        return Redirect(f"{PREFIX}/assignments?done=opening", status_code=303)

    @get("/{assignment_id:uuid}")
    async def assignment(
        self,
        assignment_id: FromPath[UUID],
        visitor: NamedDependency[Visitor],
        rpc: NamedDependency[RpcClient],
        done: FromQuery[str | None] = None,
    ) -> Response[str]:
        actor = visitor.signed_in(*READERS)
        notice = f"assignment_done.{done}" if done in DONE else None
        return await self._page(visitor, rpc, actor, assignment_id, notice=notice)

    @post("/{assignment_id:uuid}/{act:str}", status_code=303)
    async def act(
        self,
        assignment_id: FromPath[UUID],
        act: FromPath[str],
        request: Request[Any, Any, Any],
        visitor: NamedDependency[Visitor],
        rpc: NamedDependency[RpcClient],
    ) -> Response[Any]:
        """Log hours, or end the assignment."""
        actor = visitor.signed_in(Role.STAFF)
        form = await request.form()
        return await self._act(
            visitor,
            rpc,
            actor,
            assignment_id,
            DONE_OF.get(act, act),
            lambda: steps.take(rpc, actor, ACTS, act, assignment_id, form),
        )

    @post("/{assignment_id:uuid}/entries/{entry_id:uuid}/{change:str}", status_code=303)
    async def change_hours(
        self,
        assignment_id: FromPath[UUID],
        entry_id: FromPath[UUID],
        change: FromPath[str],
        request: Request[Any, Any, Any],
        visitor: NamedDependency[Visitor],
        rpc: NamedDependency[RpcClient],
    ) -> Response[Any]:
        actor = visitor.signed_in(Role.STAFF)
        form = await request.form()

        def command() -> Any:
            data = {
                "assignment_id": str(assignment_id),
                "entry_id": str(entry_id),
                "reason": forms.text(form, "reason"),
                "expected_version": forms.number(form, "expected_version"),
            }
            if change == "correct":
                data |= {
                    "worked_on": forms.text(form, "worked_on"),
                    "minutes": minutes_of(form),
                    "note": forms.text(form, "note"),
                }
                return forms.convert(data, CorrectHours)
            if change == "remove":
                return forms.convert(data, RemoveHours)
            raise InvalidInput(f"not a change of an hours entry: {change[:40]}")

        operation = ops.CORRECT_HOURS if change == "correct" else ops.REMOVE_HOURS
        done = "corrected" if change == "correct" else "removed"
        return await self._act(visitor, rpc, actor, assignment_id, done, lambda: rpc.call(operation, actor, command()))

    async def _act(
        self,
        visitor: Visitor,
        rpc: RpcClient,
        actor: Actor,
        assignment_id: UUID,
        done: str,
        call: Callable[[], Awaitable[Any]],
    ) -> Response[Any]:
        return await steps.submit(
            visitor,
            call,
            done=f"{PREFIX}/assignments/{assignment_id}?done={done}",
            again=lambda problem: self._page(visitor, rpc, actor, assignment_id, problem=problem),
        )

    @staticmethod
    async def _overview(
        visitor: Visitor,
        rpc: RpcClient,
        actor: Actor,
        *,
        values: dict[str, str],
        notice: str | None = None,
        problem: Explanation | None = None,
    ) -> Response[str]:
        month = this_month()
        openings, assignments, totals, people, parties, matchable = await asyncio.gather(
            rpc.call(ops.LIST_OPENINGS, actor, ListOpenings(limit=200)),
            rpc.call(ops.LIST_ASSIGNMENTS, actor, ListAssignments(limit=200)),
            rpc.call(ops.LIST_HOURS_TOTALS, actor, ListHoursTotals(month=month, limit=200)),
            library_people(rpc, actor),
            load_names(rpc, actor),
            buddy_referrals(rpc, actor),
        )
        return page(
            visitor,
            "assignments.html",
            status=problem.status if problem else 200,
            section="volunteers",
            openings=openings.items,
            opening_titles={str(o.id): o.title for o in openings.items},
            assignments=assignments.items,
            totals=totals.items,
            month=month,
            names={key: person_name(person) for key, person in people.items()},
            candidates=sorted((p for p in people.values() if p.status is VolunteerStatus.ACTIVE), key=person_name),
            kinds=[kind.value for kind in AssignmentKind],
            buddy_referrals=matchable,
            parties=parties,
            can_act=actor.role is Role.STAFF,
            values=values,
            notice=notice,
            problem=problem,
        )

    @staticmethod
    async def _page(
        visitor: Visitor,
        rpc: RpcClient,
        actor: Actor,
        assignment_id: UUID,
        *,
        notice: str | None = None,
        problem: Explanation | None = None,
    ) -> Response[str]:
        assignment, hours, people = await asyncio.gather(
            rpc.call(ops.GET_ASSIGNMENT, actor, GetAssignment(assignment_id=assignment_id)),
            rpc.call(ops.LIST_HOURS, actor, ListHours(assignment_id=assignment_id, limit=200)),
            library_people(rpc, actor),
        )
        return page(
            visitor,
            "assignment.html",
            status=problem.status if problem else 200,
            section="volunteers",
            a=assignment,
            entries=hours.items,
            more=hours.next_cursor is not None,
            name=person_name(people[str(assignment.volunteer_id)])
            if str(assignment.volunteer_id) in people
            else str(assignment.volunteer_id)[:8],
            can_end=actor.role is Role.STAFF and assignment.status is AssignmentStatus.ACTIVE,
            can_log=actor.role is Role.STAFF,
            notice=notice,
            problem=problem,
        )


async def buddy_referrals(rpc: RpcClient, actor: Actor) -> list[ReferralSummary]:
    """The referrals of the staff's library whose participant may get a buddy now, newest first: to choose from."""
    if actor.role is not Role.STAFF:
        return []
    found = await asyncio.gather(
        *(rpc.call(referral_ops.LIST_REFERRALS, actor, ListReferrals(status=s, limit=200)) for s in MATCHABLE)
    )
    mine = [r for listed in found for r in listed.items if r.library == actor.library]
    return sorted(mine, key=lambda r: r.submitted_at, reverse=True)
