"""A course's session in the console: its meetings, places and waiting list; change it or cancel it with a reason
(those who run the course); enrol a participant from a referral, by pseudonym or with a new code, and withdraw one
(whoever may: those who run it, and whoever enrolled the participant); the register of each meeting that has begun
(present or absent for everyone with a place) with its totals. Each posts the courses service's own operation (the
same as /api/v1/sessions… and /api/v1/enrolments…); the service decides who may and sees what."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

from litestar import Controller, Request, Response, get, post
from litestar.datastructures import FormMultiDict
from litestar.di import NamedDependency
from litestar.params import FromPath, FromQuery

from gateway.console import course_forms, forms, paging, steps
from gateway.console.explain import Explanation
from gateway.console.session import PREFIX, Visitor
from gateway.console.views import page
from shared.clock import LOCAL_TIME
from shared.contracts.courses.api import operations as ops
from shared.contracts.courses.api.courses import CourseStatus, GetCourse, GetSession, SessionStatus
from shared.contracts.courses.api.enrolments import EnrolmentView, GetEnrolment, ListEnrolments
from shared.contracts.courses.api.residents import (
    ListSessionResidents,
    RegisteredResident,
    ResidentDetail,
    SessionResidents,
)
from shared.contracts.courses.events import EnrolmentStatus
from shared.contracts.referrals.api import operations as referral_ops
from shared.contracts.referrals.api.referrals import ListReferrals, ReferralStatus, ReferralSummary
from shared.contracts.vocabulary import Page
from shared.errors import InvalidInput
from shared.rpc import RpcClient
from shared.tenancy import Actor, Role

READERS = (Role.STAFF, Role.COORDINATOR, Role.PARTNER)
ENROLLERS = (Role.STAFF, Role.PARTNER)
# What a form about a session does (the last part of its address); the courses service decides who may.
ACTS: dict[str, steps.Step] = {
    "change": steps.Step(ops.UPDATE_SESSION, course_forms.update_session),
    "cancel": steps.Step(ops.CANCEL_SESSION, course_forms.cancel_session),
    "enrol": steps.Step(ops.ENROL, course_forms.enrol),
    "withdraw": steps.Step(ops.CANCEL_ENROLMENT, lambda _session_id, form: course_forms.withdraw(form)),
    # The whole register in one call (all or nothing): a problem leaves every mark as it was.
    "attendance": steps.Step(ops.RECORD_REGISTER, course_forms.register),
    "erase_resident": steps.Step(ops.ERASE_RESIDENT_DATA, course_forms.erase_resident),
}
STEPS = tuple(ACTS)
DONE = ("scheduled", *STEPS)
# A referral takes an enrolment from its acceptance until it closes (as the courses service decides).
ENROLLING = frozenset(
    {ReferralStatus.ACCEPTED, ReferralStatus.INTAKE_PLANNED, ReferralStatus.INTAKE_HELD, ReferralStatus.ENROLLED}
)


@dataclass(frozen=True)
class MeetingRegister:
    number: int
    starts_at: datetime
    present: int
    absent: int
    open: int  # not recorded yet


def marks_of(enrolment: EnrolmentView) -> dict[int, bool]:
    return {mark.meeting: mark.present for mark in enrolment.attendance}


def registers(started: list[tuple[int, datetime]], confirmed: list[EnrolmentView]) -> list[MeetingRegister]:
    """Each meeting that has begun, with how many of those with a place were present, absent or not recorded."""
    found = []
    for number, starts_at in started:
        marks = [marks_of(e).get(number) for e in confirmed]
        present, absent = marks.count(True), marks.count(False)
        found.append(MeetingRegister(number, starts_at, present, absent, len(confirmed) - present - absent))
    return found


class SessionPages(Controller):
    path = "/sessions"

    @get("/{session_id:uuid}")
    async def session(
        self,
        session_id: FromPath[UUID],
        visitor: NamedDependency[Visitor],
        rpc: NamedDependency[RpcClient],
        done: FromQuery[str | None] = None,
        residents_cursor: FromQuery[str | None] = None,
    ) -> Response[str]:
        actor = visitor.signed_in(*READERS)
        notice = f"session_done.{done}" if done in DONE else None
        return await self._page(visitor, rpc, actor, session_id, notice=notice, residents_at=residents_cursor)

    @post("/{session_id:uuid}/{step:str}", status_code=303)
    async def take_step(
        self,
        session_id: FromPath[UUID],
        step: FromPath[str],
        request: Request[Any, Any, Any],
        visitor: NamedDependency[Visitor],
        rpc: NamedDependency[RpcClient],
    ) -> Response[Any]:
        actor = visitor.signed_in(*ENROLLERS)
        form = await request.form()

        async def act() -> Any:
            if step == "withdraw":  # a form of this page withdraws from this session only
                command = course_forms.withdraw(form)
                found = await rpc.call(ops.GET_ENROLMENT, actor, GetEnrolment(enrolment_id=command.enrolment_id))
                if found.session_id != session_id:
                    raise InvalidInput("the enrolment is not one of this session - at `$.enrolment_id`")
            return await steps.take(rpc, actor, ACTS, step, session_id, form)

        return await steps.submit(
            visitor,
            act,
            done=f"{PREFIX}/sessions/{session_id}?done={step}",
            again=lambda problem: self._page(
                visitor, rpc, actor, session_id, problem=problem, open_step=step, form=form
            ),
        )

    @staticmethod
    async def _page(
        visitor: Visitor,
        rpc: RpcClient,
        actor: Actor,
        session_id: UUID,
        *,
        notice: str | None = None,
        problem: Explanation | None = None,
        open_step: str | None = None,
        form: FormMultiDict | None = None,
        residents_at: str | None = None,
    ) -> Response[str]:
        problem = course_forms.as_the_form_names(visitor.lang, problem) if problem else None
        session = await rpc.call(ops.GET_SESSION, actor, GetSession(session_id=session_id))
        course, enrolments, referrals = await asyncio.gather(
            rpc.call(ops.GET_COURSE, actor, GetCourse(course_id=session.course_id)),
            # Every enrolment, page by page with the API's cursor: the registers' totals and the waiting list need all.
            paging.every(
                lambda at, limit: rpc.call(
                    ops.LIST_ENROLMENTS, actor, ListEnrolments(session_id=session_id, limit=limit, cursor=at)
                )
            ),
            enrolling_referrals(rpc, actor),
        )
        runs = course_forms.manages(actor, course.library, course.offered_by_partner_id)
        # Residents who signed up themselves, by name, for those who run the course only (each read is logged), a
        # page at a time with the API's cursor.
        residents: Residents | None = None
        if runs:
            residents = await session_residents(rpc, actor, session_id, residents_at)
        scheduled = session.status is SessionStatus.SCHEDULED
        now = datetime.now(LOCAL_TIME)
        started = [(n, m.starts_at) for n, m in enumerate(session.meetings, start=1) if m.starts_at <= now]
        confirmed = [e for e in enrolments.items if e.status is EnrolmentStatus.CONFIRMED]
        waiting = sorted(
            (e for e in enrolments.items if e.status is EnrolmentStatus.WAITLISTED),
            key=lambda e: e.waiting_list_position or 0,
        )
        taken = {e.participant_pseudonym for e in confirmed + waiting}
        meetings = course_forms.meeting_rows(session, 1)
        if form is not None and open_step == "change":
            meetings = course_forms.typed_meetings(form, len(meetings))
        return page(
            visitor,
            "session.html",
            status=problem.status if problem else 200,
            section="courses",
            s=session,
            c=course,
            runs=runs and scheduled,
            may_enrol=actor.role in ENROLLERS and scheduled and course.status is CourseStatus.PUBLISHED,
            may_withdraw=actor.role in ENROLLERS,
            confirmed=confirmed,
            waiting=waiting,
            cancelled=[e for e in enrolments.items if e.status is EnrolmentStatus.CANCELLED],
            marks={e.id: marks_of(e) for e in confirmed},
            registers=registers(started, confirmed) if runs or actor.role is Role.COORDINATOR else [],
            record=runs and scheduled and bool(started) and bool(confirmed),
            referrals=[r for r in referrals.items if r.participant_pseudonym not in taken],
            referral_options=referrals,
            enrolments_complete=enrolments.complete,
            enrolments_shown=len(enrolments.items),
            residents=residents,
            meetings=meetings,
            typed={key: forms.text(form, key) or "" for key in ("capacity", "place", "pseudonym")} if form else {},
            open_meeting=meeting_of(form) if form is not None else None,
            notice=notice,
            problem=problem,
            open_step=open_step,
        )


@dataclass(frozen=True)
class Residents:
    detail: ResidentDetail  # how much of them the visitor sees
    pages: paging.Listing[RegisteredResident]


async def session_residents(rpc: RpcClient, actor: Actor, session_id: UUID, cursor: str | None) -> Residents:
    """The page of the session's residents at `cursor` (the first page for a cursor not of ours), and how much of
    them the visitor sees (the service says so with each page)."""
    answered: list[SessionResidents] = []

    async def fetch(at: str | None, limit: int) -> Page[RegisteredResident]:
        found = await rpc.call(
            ops.LIST_SESSION_RESIDENTS, actor, ListSessionResidents(session_id=session_id, cursor=at, limit=limit)
        )
        answered.append(found)
        return Page(items=found.residents, next_cursor=found.next_cursor)

    listing = await paging.one_page(fetch, cursor, path=f"{PREFIX}/sessions/{session_id}", param="residents_cursor")
    return Residents(answered[-1].detail, listing)


async def enrolling_referrals(rpc: RpcClient, actor: Actor) -> paging.Everything[ReferralSummary]:
    """The caller's referrals that take an enrolment now (staff: their library's; a partner: its own), newest first;
    every one of each such status, page by page with the API's cursor."""
    if actor.role not in ENROLLERS:
        return paging.Everything([])

    def of_status(status: ReferralStatus) -> paging.Fetch[ReferralSummary]:
        return lambda at, limit: rpc.call(
            referral_ops.LIST_REFERRALS, actor, ListReferrals(status=status, limit=limit, cursor=at)
        )

    found = await asyncio.gather(*(paging.every(of_status(status)) for status in ENROLLING))
    referrals = sorted((r for listed in found for r in listed.items), key=lambda r: r.submitted_at, reverse=True)
    return paging.Everything(referrals, complete=all(listed.complete for listed in found))


def meeting_of(form: FormMultiDict) -> int | None:
    """The meeting whose register was posted, to open it again beside a problem."""
    try:
        return forms.number(form, "meeting")
    except InvalidInput:
        return None
