"""A course in the console, for the library's staff and partners who run it: offer one (a draft), change it,
publish it, cancel it with a reason, and schedule its sessions; everyone of the municipality who may see it reads
its page (coordinators, other libraries and partners: a published course, without steps). Each posts the courses
service's own operation (the same as POST/PATCH /api/v1/courses…) with the version shown; the service decides who
may, and a problem it answers shows on the form."""

from __future__ import annotations

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
from gateway.console.names import load_names
from gateway.console.session import PREFIX, Visitor
from gateway.console.views import Formats, page
from shared.contracts.courses.api import operations as ops
from shared.contracts.courses.api.courses import (
    CheckCourseTask,
    CourseStatus,
    CourseView,
    GetCourse,
    ListSessions,
    PublishCourse,
)
from shared.contracts.courses.events import Audience, CourseFormat, LibraryContribution, LocationKind
from shared.contracts.vocabulary import SkillArea
from shared.errors import Forbidden, InvalidInput, PartnernetError
from shared.rpc import RpcClient
from shared.tenancy import Actor, Role

READERS = (Role.STAFF, Role.COORDINATOR, Role.PARTNER)
OFFERERS = (Role.STAFF, Role.PARTNER)
STEPS = ("edit", "publish", "cancel", "schedule")
DONE = ("created", "task", *STEPS)
EMPTY_MEETINGS = 3  # rows offered for a new session's meetings


def steps_for(actor: Actor, course: CourseView) -> tuple[str, ...]:
    """The steps the page offers: to whoever runs the course, as its status allows (the service decides again)."""
    if not course_forms.manages(actor, course.library, course.offered_by_partner_id):
        return ()
    if course.status is CourseStatus.DRAFT:
        return ("edit", "publish", "schedule", "cancel")
    if course.status is CourseStatus.PUBLISHED:
        return ("edit", "schedule", "cancel")
    return ()


class CoursePages(Controller):
    path = "/courses"

    @get("/new")
    async def new_course(self, visitor: NamedDependency[Visitor], rpc: NamedDependency[RpcClient]) -> Response[str]:
        actor = visitor.signed_in(*OFFERERS)
        return await self._form(visitor, rpc, actor, None, {"location_kind": LocationKind.LIBRARY_BRANCH.value})

    @post("/", status_code=303)
    async def create(
        self, request: Request[Any, Any, Any], visitor: NamedDependency[Visitor], rpc: NamedDependency[RpcClient]
    ) -> Response[Any]:
        actor = visitor.signed_in(*OFFERERS)
        form = await request.form()
        try:
            made = await rpc.call(ops.CREATE_COURSE, actor, course_forms.create_course(form, actor))
        except (PartnernetError, msgspec.ValidationError) as exc:
            problem = course_forms.problem_of(visitor.lang, exc)
            return await self._form(visitor, rpc, actor, None, course_forms.typed_course(form), problem=problem)
        return Redirect(f"{PREFIX}/courses/{made.id}?done=created", status_code=303)

    @get("/{course_id:uuid}")
    async def course(
        self,
        course_id: FromPath[UUID],
        visitor: NamedDependency[Visitor],
        rpc: NamedDependency[RpcClient],
        done: FromQuery[str | None] = None,
    ) -> Response[str]:
        actor = visitor.signed_in(*READERS)
        notice = f"course_done.{done}" if done in DONE else None
        return await self._page(visitor, rpc, actor, course_id, notice=notice)

    @get("/{course_id:uuid}/edit")
    async def edit(
        self, course_id: FromPath[UUID], visitor: NamedDependency[Visitor], rpc: NamedDependency[RpcClient]
    ) -> Response[str]:
        actor = visitor.signed_in(*OFFERERS)
        course = await rpc.call(ops.GET_COURSE, actor, GetCourse(course_id=course_id))
        if "edit" not in steps_for(actor, course):
            raise Forbidden(f"only the library or partner that runs course {course_id} may change it")
        euros = Formats(visitor.lang).money(course.price_cents).replace("€", "").strip()
        return await self._form(visitor, rpc, actor, course, course_forms.course_values(course, euros))

    @post("/{course_id:uuid}/edit", status_code=303)
    async def save(
        self,
        course_id: FromPath[UUID],
        request: Request[Any, Any, Any],
        visitor: NamedDependency[Visitor],
        rpc: NamedDependency[RpcClient],
    ) -> Response[Any]:
        # Its own route: the edit form's GET holds the path, so the step route below does not match it.
        return await self._post(visitor, rpc, course_id, "edit", await request.form())

    @post("/{course_id:uuid}/tasks/{task:str}", status_code=303)
    async def check_task(
        self,
        course_id: FromPath[UUID],
        task: FromPath[str],
        request: Request[Any, Any, Any],
        visitor: NamedDependency[Visitor],
        rpc: NamedDependency[RpcClient],
    ) -> Response[Any]:
        """The hosting library's staff tick a task of theirs off (or on again); the courses service decides."""
        actor = visitor.signed_in(Role.STAFF)
        form = await request.form()
        try:
            data = {"course_id": str(course_id), "task": task, "done": form.get("done") != "0"}
            await rpc.call(ops.CHECK_COURSE_TASK, actor, msgspec.convert(data, CheckCourseTask))
        except (PartnernetError, msgspec.ValidationError) as exc:
            return await self._page(visitor, rpc, actor, course_id, problem=course_forms.problem_of(visitor.lang, exc))
        return Redirect(f"{PREFIX}/courses/{course_id}?done=task#h-who-does-what", status_code=303)

    @post("/{course_id:uuid}/{step:str}", status_code=303)
    async def take_step(
        self,
        course_id: FromPath[UUID],
        step: FromPath[str],
        request: Request[Any, Any, Any],
        visitor: NamedDependency[Visitor],
        rpc: NamedDependency[RpcClient],
    ) -> Response[Any]:
        return await self._post(visitor, rpc, course_id, step, await request.form())

    async def _post(
        self, visitor: Visitor, rpc: RpcClient, course_id: UUID, step: str, form: FormMultiDict
    ) -> Response[Any]:
        actor = visitor.signed_in(*OFFERERS)
        try:
            target = await self._step(rpc, actor, course_id, step, form)
        except (PartnernetError, msgspec.ValidationError) as exc:
            problem = course_forms.problem_of(visitor.lang, exc)
            if step == "edit":
                course = await rpc.call(ops.GET_COURSE, actor, GetCourse(course_id=course_id))
                return await self._form(visitor, rpc, actor, course, course_forms.typed_course(form), problem=problem)
            return await self._page(visitor, rpc, actor, course_id, problem=problem, open_step=step, form=form)
        return Redirect(target, status_code=303)

    @staticmethod
    async def _step(rpc: RpcClient, actor: Actor, course_id: UUID, step: str, form: FormMultiDict) -> str:
        """Takes the step; where to go after it."""
        back = f"{PREFIX}/courses/{course_id}?done={step}"
        if step == "edit":
            await rpc.call(ops.UPDATE_COURSE, actor, course_forms.update_course(form, course_id))
        elif step == "publish":
            version = forms.number(form, "expected_version")
            await rpc.call(ops.PUBLISH_COURSE, actor, PublishCourse(course_id=course_id, expected_version=version))
        elif step == "cancel":
            await rpc.call(ops.CANCEL_COURSE, actor, course_forms.cancel_course(form, course_id))
        elif step == "schedule":
            made = await rpc.call(ops.SCHEDULE_SESSION, actor, course_forms.schedule_session(form, course_id))
            return f"{PREFIX}/sessions/{made.id}?done=scheduled"
        else:
            raise InvalidInput(f"not a step of a course: {step[:40]}")
        return back

    @staticmethod
    async def _page(
        visitor: Visitor,
        rpc: RpcClient,
        actor: Actor,
        course_id: UUID,
        *,
        notice: str | None = None,
        problem: Explanation | None = None,
        open_step: str | None = None,
        form: FormMultiDict | None = None,
    ) -> Response[str]:
        course = await rpc.call(ops.GET_COURSE, actor, GetCourse(course_id=course_id))
        sessions = await rpc.call(ops.LIST_SESSIONS, actor, ListSessions(course_id=course_id, limit=200))
        parties = await load_names(rpc, actor)
        typed = course_forms.meeting_rows(None, EMPTY_MEETINGS)
        if form is not None and open_step == "schedule":
            typed = [
                {"starts_at": form.get(f"meeting-{n}-starts_at", ""), "ends_at": form.get(f"meeting-{n}-ends_at", "")}
                for n in range(EMPTY_MEETINGS)
            ]
        return page(
            visitor,
            "course.html",
            status=problem.status if problem else 200,
            section="courses",
            c=course,
            sessions=sessions.items,
            steps=steps_for(actor, course),
            parties=parties,
            partner_name=parties.partners.get(str(course.audience_partner_id), ""),
            meetings=typed,
            typed={key: forms.text(form, key) or "" for key in ("capacity", "place")} if form else {},
            notice=notice,
            problem=problem,
            open_step=open_step,
            ticks=actor.role is Role.STAFF and actor.library == course.library,
        )

    @staticmethod
    async def _form(
        visitor: Visitor,
        rpc: RpcClient,
        actor: Actor,
        course: CourseView | None,
        values: dict[str, Any],
        *,
        problem: Explanation | None = None,
    ) -> Response[str]:
        parties = await load_names(rpc, actor)
        return page(
            visitor,
            "course_form.html",
            status=problem.status if problem else 200,
            section="courses",
            c=course,
            values={"library_contributions": [], **values},
            problem=problem,
            areas=list(SkillArea),
            audiences=list(Audience),
            formats=list(CourseFormat),
            location_kinds=list(LocationKind),
            contributions=list(LibraryContribution),
            partners=sorted(parties.partners.items(), key=lambda item: item[1]),
            libraries=sorted(parties.libraries.items(), key=lambda item: item[1]),
        )
