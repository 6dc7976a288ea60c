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

import msgspec
from litestar import Controller, Request, Response, get, post
from litestar.datastructures import FormMultiDict
from litestar.di import NamedDependency
from litestar.params import FromPath, FromQuery
from litestar.response import Redirect

from gateway.console import course_forms, forms
from gateway.console.explain import Explanation
from gateway.console.session import PREFIX, Visitor
from gateway.console.views import page
from shared.clock import LOCAL_TIME
from shared.contracts.courses.api import operations as ops
from shared.contracts.courses.api.courses import CourseStatus, GetCourse, GetSession, SessionStatus
from shared.contracts.courses.api.enrolments import EnrolmentView, GetEnrolment, ListEnrolments
from shared.contracts.courses.api.residents import EraseResidentData, ListSessionResidents, SessionResidents
from shared.contracts.courses.events import EnrolmentStatus
from shared.contracts.referrals.api import operations as referral_ops
from shared.contracts.referrals.api.referrals import ListReferrals, ReferralStatus, ReferralSummary
from shared.errors import InvalidInput, PartnernetError
from shared.rpc import RpcClient
from shared.tenancy import Actor, Role

READERS = (Role.STAFF, Role.COORDINATOR, Role.PARTNER)
ENROLLERS = (Role.STAFF, Role.PARTNER)
STEPS = ("change", "cancel", "enrol", "withdraw", "attendance", "erase_resident")
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
    ) -> Response[str]:
        actor = visitor.signed_in(*READERS)
        notice = f"session_done.{done}" if done in DONE else None
        return await self._page(visitor, rpc, actor, session_id, notice=notice)

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
        try:
            await self._step(rpc, actor, session_id, step, form)
        except (PartnernetError, msgspec.ValidationError) as exc:
            problem = course_forms.problem_of(visitor.lang, exc)
            return await self._page(visitor, rpc, actor, session_id, problem=problem, open_step=step, form=form)
        return Redirect(f"{PREFIX}/sessions/{session_id}?done={step}", status_code=303)

    @staticmethod
    async def _step(rpc: RpcClient, actor: Actor, session_id: UUID, step: str, form: FormMultiDict) -> None:
        if step == "change":
            await rpc.call(ops.UPDATE_SESSION, actor, course_forms.update_session(form, session_id))
        elif step == "cancel":
            await rpc.call(ops.CANCEL_SESSION, actor, course_forms.cancel_session(form, session_id))
        elif step == "enrol":
            await rpc.call(ops.ENROL, actor, course_forms.enrol(form, session_id))
        elif step == "withdraw":
            command = course_forms.withdraw(form)
            found = await rpc.call(ops.GET_ENROLMENT, actor, GetEnrolment(enrolment_id=command.enrolment_id))
            if found.session_id != session_id:  # a form of this page withdraws from this session only
                raise InvalidInput("the enrolment is not one of this session - at `$.enrolment_id`")
            await rpc.call(ops.CANCEL_ENROLMENT, actor, command)
        elif step == "attendance":
            # The whole register in one call (all or nothing): a problem leaves every mark as it was.
            await rpc.call(ops.RECORD_REGISTER, actor, course_forms.register(form, session_id))
        elif step == "erase_resident":
            # Only a registration of this session: the service answers another one as not found.
            registration = str(forms.uuid(form, "registration_id") or "")
            body = {"registration_id": registration, "session_id": str(session_id)}
            await rpc.call(ops.ERASE_RESIDENT_DATA, actor, forms.convert(body, EraseResidentData))
        else:
            raise InvalidInput(f"not a step of a session: {step[:40]}")

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
    ) -> Response[str]:
        session = await rpc.call(ops.GET_SESSION, actor, GetSession(session_id=session_id))
        course, enrolments, referrals = await asyncio.gather(
            rpc.call(ops.GET_COURSE, actor, GetCourse(course_id=session.course_id)),
            rpc.call(ops.LIST_ENROLMENTS, actor, ListEnrolments(session_id=session_id, limit=200)),
            enrolling_referrals(rpc, actor),
        )
        runs = course_forms.manages(actor, course.library, course.offered_by_partner_id)
        # Residents who signed up themselves, by name, for those who run the course only (each read is logged).
        residents: SessionResidents | None = None
        if runs:
            residents = await rpc.call(ops.LIST_SESSION_RESIDENTS, actor, ListSessionResidents(session_id=session_id))
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
            meetings = [
                {"starts_at": form.get(f"meeting-{n}-starts_at", ""), "ends_at": form.get(f"meeting-{n}-ends_at", "")}
                for n in range(len(meetings))
            ]
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
            referrals=[r for r in referrals if r.participant_pseudonym not in taken],
            residents=residents,
            meetings=meetings,
            typed={key: forms.text(form, key) or "" for key in ("capacity", "place", "pseudonym")} if form else {},
            open_meeting=meeting_of(form) if form is not None else None,
            notice=notice,
            problem=problem,
            open_step=open_step,
        )


async def enrolling_referrals(rpc: RpcClient, actor: Actor) -> list[ReferralSummary]:
    """The caller's referrals that take an enrolment now (staff: their library's; a partner: its own)."""
    if actor.role not in ENROLLERS:
        return []
    found = await rpc.call(referral_ops.LIST_REFERRALS, actor, ListReferrals(limit=200))
    return [r for r in found.items if r.status in ENROLLING]


def meeting_of(form: FormMultiDict) -> int | None:
    """The meeting whose register was posted, to open it again beside a problem."""
    try:
        return forms.number(form, "meeting")
    except InvalidInput:
        return None
