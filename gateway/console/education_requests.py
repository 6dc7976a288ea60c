"""Requests for tailored education (maatwerkeducatie, issue 24) in the console: a referrer asks a library it partners
with for a course for a group of its clients and follows the answer; the library's staff plan one of their courses
for it (its places kept for the referrer's referrals, until a day they may set) or decline with a reason; the referrer
releases the kept places when it needs them no more; the coordinator reads along. The same
operations as /api/v1/education-requests; the courses service decides who may."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from typing import Any
from uuid import UUID

from litestar import Controller, Request, Response, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath, FromQuery

from gateway.console import forms, paging, steps
from gateway.console.explain import Explanation
from gateway.console.names import load_names
from gateway.console.session import PREFIX, Visitor
from gateway.console.views import page
from shared.contracts.courses.api import operations as ops
from shared.contracts.courses.api.courses import CourseStatus, CourseView, ListCourses
from shared.contracts.courses.api.education import (
    AnswerEducationRequest,
    EducationRequestView,
    ListEducationRequests,
    ReleaseReservation,
    RequestTailoredEducation,
)
from shared.contracts.vocabulary import Page, SkillArea
from shared.rpc import RpcClient
from shared.tenancy import Actor, Role

READERS = (Role.STAFF, Role.PARTNER, Role.COORDINATOR)
FIELDS = ("library", "target_group", "skill_area", "clients", "preferred_from", "preferred_until", "note")


class EducationRequestPages(Controller):
    path = "/education-requests"

    @get("/")
    async def requests(
        self,
        visitor: NamedDependency[Visitor],
        rpc: NamedDependency[RpcClient],
        done: FromQuery[str | None] = None,
        cursor: FromQuery[str | None] = None,
    ) -> Response[str]:
        """The requests a page (paging.PAGE), the next by the API's cursor (`/api/v1/education-requests?cursor=`)."""
        actor = visitor.signed_in(*READERS)
        notice = f"education_done.{done}" if done in ("asked", "answered", "released") else None
        return await self._page(visitor, rpc, actor, notice=notice, cursor=cursor)

    @post("/", status_code=303)
    async def ask(
        self, request: Request[Any, Any, Any], visitor: NamedDependency[Visitor], rpc: NamedDependency[RpcClient]
    ) -> Response[Any]:
        actor = visitor.signed_in(Role.PARTNER)
        form = await request.form()

        def asked() -> RequestTailoredEducation:
            data = {
                "library": forms.text(form, "library"),
                "target_group": forms.text(form, "target_group"),
                "skill_area": forms.text(form, "skill_area"),
                "clients": forms.number(form, "clients"),
                "preferred_from": forms.local_date(form, "preferred_from", "preferred_from"),
                "preferred_until": forms.local_date(form, "preferred_until", "preferred_until"),
                "note": forms.text(form, "note"),
            }
            return forms.convert(data, RequestTailoredEducation)

        typed = {name: forms.text(form, name) or "" for name in FIELDS}
        return await steps.submit(
            visitor,
            lambda: rpc.call(ops.REQUEST_TAILORED_EDUCATION, actor, asked()),
            done=f"{PREFIX}/education-requests?done=asked",
            again=lambda problem: self._page(visitor, rpc, actor, problem=problem, values=typed),
        )

    @post("/{request_id:uuid}/answer", status_code=303)
    async def answer(
        self,
        request_id: FromPath[UUID],
        request: Request[Any, Any, Any],
        visitor: NamedDependency[Visitor],
        rpc: NamedDependency[RpcClient],
    ) -> Response[Any]:
        actor = visitor.signed_in(Role.STAFF)
        form = await request.form()

        def answer() -> AnswerEducationRequest:
            data = {
                "request_id": str(request_id),
                "decision": forms.text(form, "decision"),
                "course_id": forms.text(form, "course_id"),
                "reason": forms.text(form, "reason"),
                "reserved_until": forms.local_date(form, "reserved_until", "reserved_until"),
            }
            return forms.convert(data, AnswerEducationRequest)

        return await steps.submit(
            visitor,
            lambda: rpc.call(ops.ANSWER_EDUCATION_REQUEST, actor, answer()),
            done=f"{PREFIX}/education-requests?done=answered",
            again=lambda problem: self._page(visitor, rpc, actor, problem=problem),
        )

    @post("/{request_id:uuid}/release", status_code=303)
    async def release(
        self, request_id: FromPath[UUID], visitor: NamedDependency[Visitor], rpc: NamedDependency[RpcClient]
    ) -> Response[Any]:
        """The referrer needs the places kept for its referrals no more: the unused ones go to the waiting list."""
        actor = visitor.signed_in(Role.PARTNER)
        return await steps.submit(
            visitor,
            lambda: rpc.call(ops.RELEASE_RESERVATION, actor, ReleaseReservation(request_id=request_id)),
            done=f"{PREFIX}/education-requests?done=released#r-{request_id}",
            again=lambda problem: self._page(visitor, rpc, actor, problem=problem),
        )

    @staticmethod
    async def _page(
        visitor: Visitor,
        rpc: RpcClient,
        actor: Actor,
        *,
        notice: str | None = None,
        problem: Explanation | None = None,
        values: dict[str, str] | None = None,
        cursor: str | None = None,
    ) -> Response[str]:
        def requests_from(at: str | None, limit: int) -> Awaitable[Page[EducationRequestView]]:
            return rpc.call(ops.LIST_EDUCATION_REQUESTS, actor, ListEducationRequests(limit=limit, cursor=at))

        def courses_from(at: str | None, limit: int) -> Awaitable[Page[CourseView]]:
            return rpc.call(ops.LIST_COURSES, actor, ListCourses(library=actor.library, limit=limit, cursor=at))

        found, parties = await asyncio.gather(
            paging.one_page(requests_from, cursor, path=f"{PREFIX}/education-requests"),
            load_names(rpc, actor),
        )
        # The library's own courses to plan one for a request: every one (all pages), not the first page's.
        own = await paging.every(courses_from) if actor.role is Role.STAFF else paging.Everything[CourseView]([])
        courses = paging.Everything(
            [c for c in own.items if c.offered_by_partner_id is None and c.status is not CourseStatus.CANCELLED],
            own.complete,
        )
        return page(
            visitor,
            "education_requests.html",
            status=problem.status if problem else 200,
            section="education_requests",
            requests=found,
            parties=parties,
            courses=courses,
            areas=[a.value for a in SkillArea],
            asks=actor.role is Role.PARTNER,
            answers=actor.role is Role.STAFF,
            notice=notice,
            problem=problem,
            values=values or dict.fromkeys(FIELDS, ""),
        )
