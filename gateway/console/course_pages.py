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

from gateway.console import course_forms, forms, paging, steps
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
)
from shared.contracts.courses.events import Audience, CourseFormat, LibraryContribution, LocationKind
from shared.contracts.vocabulary import SkillArea
from shared.errors import Forbidden
from shared.rpc import RpcClient
from shared.tenancy import Actor, Role

READERS = (Role.STAFF, Role.COORDINATOR, Role.PARTNER)
OFFERERS = (Role.STAFF, Role.PARTNER)
# What a form about a course does (the last part of its address); the courses service decides who may.
ACTS: dict[str, steps.Step] = {
    "edit": steps.Step(ops.UPDATE_COURSE, course_forms.update_course),
    "publish": steps.Step(ops.PUBLISH_COURSE, course_forms.publish_course),
    "cancel": steps.Step(ops.CANCEL_COURSE, course_forms.cancel_course),
    "schedule": steps.Step(ops.SCHEDULE_SESSION, course_forms.schedule_session),
}
STEPS = tuple(ACTS)
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
        return await steps.submit(
            visitor,
            lambda: rpc.call(ops.CREATE_COURSE, actor, course_forms.create_course(form, actor)),
            done=lambda made: f"{PREFIX}/courses/{made.id}?done=created",
            again=lambda problem: self._form(
                visitor, rpc, actor, None, course_forms.typed_course(form), problem=problem
            ),
        )

    @get("/{course_id:uuid}")
    async def course(
        self,
        course_id: FromPath[UUID],
        visitor: NamedDependency[Visitor],
        rpc: NamedDependency[RpcClient],
        done: FromQuery[str | None] = None,
        cursor: FromQuery[str | None] = None,
    ) -> Response[str]:
        """Its sessions a page at a time (paging.PAGE), the next by the API's cursor (`GET /api/v1/sessions`)."""
        actor = visitor.signed_in(*READERS)
        notice = f"course_done.{done}" if done in DONE else None
        return await self._page(visitor, rpc, actor, course_id, notice=notice, cursor=cursor)

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

        def tick() -> CheckCourseTask:
            data = {"course_id": str(course_id), "task": task, "done": form.get("done") != "0"}
            return msgspec.convert(data, CheckCourseTask)

        return await steps.submit(
            visitor,
            lambda: rpc.call(ops.CHECK_COURSE_TASK, actor, tick()),
            done=f"{PREFIX}/courses/{course_id}?done=task#h-who-does-what",
            again=lambda problem: self._page(visitor, rpc, actor, course_id, problem=problem),
        )

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

        async def again(problem: Explanation) -> Response[str]:
            if step == "edit":
                course = await rpc.call(ops.GET_COURSE, actor, GetCourse(course_id=course_id))
                return await self._form(visitor, rpc, actor, course, course_forms.typed_course(form), problem=problem)
            return await self._page(visitor, rpc, actor, course_id, problem=problem, open_step=step, form=form)

        return await steps.submit(
            visitor,
            lambda: steps.take(rpc, actor, ACTS, step, course_id, form),
            # A scheduled session is shown on its own page; any other step on the course's.
            done=lambda made: (
                f"{PREFIX}/sessions/{made.id}?done=scheduled"
                if step == "schedule"
                else f"{PREFIX}/courses/{course_id}?done={step}"
            ),
            again=again,
        )

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
        cursor: str | None = None,
    ) -> Response[str]:
        problem = course_forms.as_the_form_names(visitor.lang, problem) if problem else None
        course = await rpc.call(ops.GET_COURSE, actor, GetCourse(course_id=course_id))
        sessions = await paging.one_page(
            lambda at, limit: rpc.call(
                ops.LIST_SESSIONS, actor, ListSessions(course_id=course_id, limit=limit, cursor=at)
            ),
            cursor,
            path=f"{PREFIX}/courses/{course_id}",
        )
        parties = await load_names(rpc, actor)
        typed = course_forms.meeting_rows(None, EMPTY_MEETINGS)
        if form is not None and open_step == "schedule":
            typed = course_forms.typed_meetings(form, EMPTY_MEETINGS)
        return page(
            visitor,
            "course.html",
            status=problem.status if problem else 200,
            section="courses",
            c=course,
            sessions=sessions.items,
            session_pages=sessions,
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
        problem = course_forms.as_the_form_names(visitor.lang, problem) if problem else None
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
