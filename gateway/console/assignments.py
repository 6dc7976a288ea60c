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
from typing import Any, NamedTuple
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
from gateway.console.vacancies import qualification_codes
from gateway.console.views import page
from gateway.console.volunteers import library_people, person_name, trainable_people
from shared.clock import LOCAL_TIME
from shared.contracts.referrals.api import operations as referral_ops
from shared.contracts.referrals.api.referrals import ListDirection, ListReferrals, ReferralStatus, ReferralSummary
from shared.contracts.vocabulary import Page
from shared.contracts.volunteers.api import operations as ops
from shared.contracts.volunteers.api.assignments import (
    AssignmentStatus,
    AssignmentView,
    AssignVolunteer,
    CorrectHours,
    EndAssignment,
    GetAssignment,
    HoursEntryView,
    HoursTotalView,
    ListAssignments,
    ListHours,
    ListHoursTotals,
    ListOpenings,
    LogHours,
    OpeningView,
    RemoveHours,
    UpdateOpening,
)
from shared.contracts.volunteers.api.volunteers import VolunteerStatus
from shared.contracts.volunteers.events import AssignmentKind
from shared.errors import InvalidInput, PartnernetError
from shared.rpc import RpcClient
from shared.tenancy import Actor, Role

READERS = (Role.STAFF, Role.COORDINATOR)


class Cursors(NamedTuple):
    """Where each list of the overview goes on (the API's cursor; None: its first page)."""

    openings: str | None = None
    assignments: str | None = None
    totals: str | None = None


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


DAY_MINUTES = 24 * 60
LOG_FIELDS = ("worked_on", "hours", "minutes", "note")  # what the log-hours form keeps when it is refused


def minutes_of(form: FormMultiDict) -> int | None:
    """Hours and minutes as two numbers (people think in hours); None when both are empty."""
    hours, minutes = forms.number(form, "hours"), forms.number(form, "minutes")
    if hours is None and minutes is None:
        return None
    if not 0 <= (minutes or 0) < 60 or (hours or 0) < 0:
        raise InvalidInput("hours and minutes are whole numbers, minutes below 60 - at `$.minutes`")
    total = (hours or 0) * 60 + (minutes or 0)
    if total > DAY_MINUTES:  # said of the hours typed, not as the API's "Expected `int` <= 1440 - at `$.minutes`"
        raise InvalidInput("at most 24 hours on one day - at `$.hours`")
    return total


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
        openings_cursor: FromQuery[str | None] = None,
        assignments_cursor: FromQuery[str | None] = None,
        totals_cursor: FromQuery[str | None] = None,
    ) -> Response[str]:
        """Each list a page (paging.PAGE), the next by the API's own cursor (`GET /api/v1/open-assignments?cursor=`,
        `/assignments?cursor=`, `/volunteers/hours?cursor=`)."""
        actor = visitor.signed_in(*READERS)
        values = dict.fromkeys(ASSIGN_FIELDS, "") | {"kind": "course", "opening_id": str(opening or "")}
        notice = f"assignment_done.{done}" if done in DONE else None
        cursors = Cursors(openings_cursor, assignments_cursor, totals_cursor)
        return await self._overview(visitor, rpc, actor, values=values, notice=notice, cursors=cursors)

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
        cursor: FromQuery[str | None] = None,
    ) -> Response[str]:
        """The entries a page, the next by the API's cursor (`GET /api/v1/assignments/{id}/hours?cursor=`)."""
        actor = visitor.signed_in(*READERS)
        notice = f"assignment_done.{done}" if done in DONE else None
        return await self._page(visitor, rpc, actor, assignment_id, notice=notice, cursor=cursor)

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
            typed={name: forms.text(form, name) or "" for name in LOG_FIELDS} if act == "hours" else None,
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
        *,
        typed: dict[str, str] | None = None,
    ) -> Response[Any]:
        """`typed`: what the log-hours form held, shown again where it is refused (it came back empty)."""
        return await steps.submit(
            visitor,
            call,
            done=f"{PREFIX}/assignments/{assignment_id}?done={done}",
            again=lambda problem: self._page(visitor, rpc, actor, assignment_id, problem=problem, typed=typed),
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
        cursors: Cursors | None = None,
    ) -> Response[str]:
        month, here, cursors = this_month(), f"{PREFIX}/assignments", cursors or Cursors()

        def openings_from(cursor: str | None, limit: int) -> Awaitable[Page[OpeningView]]:
            return rpc.call(ops.LIST_OPENINGS, actor, ListOpenings(limit=limit, cursor=cursor))

        def assignments_from(cursor: str | None, limit: int) -> Awaitable[Page[AssignmentView]]:
            return rpc.call(ops.LIST_ASSIGNMENTS, actor, ListAssignments(limit=limit, cursor=cursor))

        def totals_from(cursor: str | None, limit: int) -> Awaitable[Page[HoursTotalView]]:
            return rpc.call(ops.LIST_HOURS_TOTALS, actor, ListHoursTotals(month=month, limit=limit, cursor=cursor))

        (openings, every_opening, assignments, totals), ((people, everyone), parties, matchable) = await asyncio.gather(
            asyncio.gather(
                paging.one_page(openings_from, cursors.openings, path=here, param="openings_cursor"),
                paging.every(openings_from),
                paging.one_page(assignments_from, cursors.assignments, path=here, param="assignments_cursor"),
                paging.one_page(totals_from, cursors.totals, path=here, param="totals_cursor"),
            ),
            asyncio.gather(trainable_people(rpc, actor), load_names(rpc, actor), buddy_referrals(rpc, actor)),
        )
        return page(
            visitor,
            "assignments.html",
            status=problem.status if problem else 200,
            section="volunteers",
            openings=openings,
            every_opening=every_opening,
            opening_titles={str(o.id): o.title for o in every_opening.items},
            assignments=assignments,
            totals=totals,
            month=month,
            names={key: person_name(person) for key, person in people.items()},
            # Every active person (paging.every over each status; the form says so if OPTIONS_BOUND cut it short).
            candidates=paging.Everything(
                sorted((p for p in people.values() if p.status is VolunteerStatus.ACTIVE), key=person_name), everyone
            ),
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
        cursor: str | None = None,
        typed: dict[str, str] | None = None,
    ) -> Response[str]:
        def hours_from(at: str | None, limit: int) -> Awaitable[Page[HoursEntryView]]:
            return rpc.call(ops.LIST_HOURS, actor, ListHours(assignment_id=assignment_id, limit=limit, cursor=at))

        here = f"{PREFIX}/assignments/{assignment_id}"
        assignment, hours, people = await asyncio.gather(
            rpc.call(ops.GET_ASSIGNMENT, actor, GetAssignment(assignment_id=assignment_id)),
            paging.one_page(hours_from, cursor, path=here),
            library_people(rpc, actor),
        )
        return page(
            visitor,
            "assignment.html",
            status=problem.status if problem else 200,
            section="volunteers",
            a=assignment,
            entries=hours,
            name=person_name(people[str(assignment.volunteer_id)])
            if str(assignment.volunteer_id) in people
            else str(assignment.volunteer_id)[:8],
            can_end=actor.role is Role.STAFF and assignment.status is AssignmentStatus.ACTIVE,
            can_log=actor.role is Role.STAFF,
            notice=notice,
            problem=problem,
            typed=typed or {},
        )


async def buddy_referrals(rpc: RpcClient, actor: Actor) -> paging.Everything[ReferralSummary]:
    """The referrals of the staff's library whose participant may get a buddy now, newest first: to choose from,
    every one (each status's pages followed with the API's cursor, up to paging.OPTIONS_BOUND in all)."""
    if actor.role is not Role.STAFF:
        return paging.Everything([])

    def matchable(status: ReferralStatus) -> paging.Fetch[ReferralSummary]:
        def fetch(cursor: str | None, limit: int) -> Awaitable[Page[ReferralSummary]]:
            wanted = ListReferrals(status=status, direction=ListDirection.INCOMING, limit=limit, cursor=cursor)
            return rpc.call(referral_ops.LIST_REFERRALS, actor, wanted)

        return fetch

    found = await asyncio.gather(*(paging.every(matchable(status)) for status in MATCHABLE))
    mine = [r for listed in found for r in listed.items if r.library == actor.library]
    newest_first = sorted(mine, key=lambda r: r.submitted_at, reverse=True)
    return paging.Everything(newest_first, complete=all(listed.complete for listed in found))
