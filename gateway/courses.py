"""Routes for the course offer: courses, their sessions, and enrolments with their waiting lists."""

from __future__ import annotations

from datetime import date
from typing import Annotated
from uuid import UUID

from litestar import Controller, get, patch, post
from litestar.di import NamedDependency
from litestar.params import FromPath, FromQuery, JSONBody, Parameter

from gateway.dependencies import CursorQuery, LibraryQuery, LimitQuery, MunicipalityQuery, with_expected_version
from gateway.problems import PROBLEM_RESPONSES
from shared.contracts.courses.api.courses import (
    CancelCourse,
    CancelSession,
    CourseChanges,
    CourseStatus,
    CourseView,
    CreateCourse,
    GetCourse,
    GetSession,
    ListCourses,
    ListSessions,
    PublishCourse,
    ReasonedStep,
    ScheduleSession,
    SessionChanges,
    SessionDetails,
    SessionStatus,
    SessionView,
    UpdateCourse,
    UpdateSession,
    VersionedStep,
)
from shared.contracts.courses.api.enrolments import (
    Attendance,
    CancelEnrolment,
    Cancellation,
    Enrol,
    EnrolmentView,
    EnrolParticipant,
    GetEnrolment,
    ListEnrolments,
    RecordAttendance,
)
from shared.contracts.courses.events import Audience, EnrolmentStatus
from shared.contracts.vocabulary import DEFAULT_LIMIT, SkillArea
from shared.pagination import Page
from shared.rpc import RpcClient
from shared.tenancy import Actor


class CourseController(Controller):
    path = "/api/v1/courses"
    tags = ["courses"]

    @post("/", summary="Offer a course (a draft until published): staff for their library, partners their own")
    async def create(
        self, data: JSONBody[CreateCourse], actor: NamedDependency[Actor], rpc: NamedDependency[RpcClient]
    ) -> CourseView:
        return await rpc.call("courses", "create_course", actor, data, CourseView)

    @get("/", summary="The municipality's offer: every library's and partner's course, by title; filters")
    async def list_courses(
        self,
        actor: NamedDependency[Actor],
        rpc: NamedDependency[RpcClient],
        skill_area: FromQuery[SkillArea | None] = None,
        audience: FromQuery[Audience | None] = None,
        audience_partner_id: FromQuery[UUID | None] = None,
        library: LibraryQuery = None,
        offered_by_partner_id: FromQuery[UUID | None] = None,
        place: FromQuery[Annotated[str | None, Parameter(min_length=1, max_length=200)]] = None,
        starts_from: FromQuery[date | None] = None,
        starts_until: FromQuery[date | None] = None,
        status: FromQuery[CourseStatus | None] = None,
        municipality: MunicipalityQuery = None,
        cursor: CursorQuery = None,
        limit: LimitQuery = DEFAULT_LIMIT,
    ) -> Page[CourseView]:
        query = ListCourses(
            skill_area=skill_area,
            audience=audience,
            audience_partner_id=audience_partner_id,
            library=library,
            offered_by_partner_id=offered_by_partner_id,
            place=place,
            starts_from=starts_from,
            starts_until=starts_until,
            status=status,
            municipality=municipality,
            cursor=cursor,
            limit=limit,
        )
        return await rpc.call("courses", "list_courses", actor, query, Page[CourseView])

    @get("/{course_id:uuid}", summary="One course")
    async def get_one(
        self, course_id: FromPath[UUID], actor: NamedDependency[Actor], rpc: NamedDependency[RpcClient]
    ) -> CourseView:
        return await rpc.call("courses", "get_course", actor, GetCourse(course_id=course_id), CourseView)

    @patch("/{course_id:uuid}", summary="Change a course (fields left out stay); If-Match or expected_version")
    async def update(
        self,
        course_id: FromPath[UUID],
        data: JSONBody[CourseChanges],
        actor: NamedDependency[Actor],
        rpc: NamedDependency[RpcClient],
        if_match_version: NamedDependency[int | None],
    ) -> CourseView:
        command = UpdateCourse(course_id=course_id, changes=with_expected_version(data, if_match_version))
        return await rpc.call("courses", "update_course", actor, command, CourseView)

    @post("/{course_id:uuid}/publish", status_code=200, summary="Publish a draft into the municipality's offer")
    async def publish(
        self,
        course_id: FromPath[UUID],
        actor: NamedDependency[Actor],
        rpc: NamedDependency[RpcClient],
        if_match_version: NamedDependency[int | None],
        data: JSONBody[VersionedStep | None] = None,
    ) -> CourseView:
        step = with_expected_version(data or VersionedStep(), if_match_version)
        command = PublishCourse(course_id=course_id, expected_version=step.expected_version)
        return await rpc.call("courses", "publish_course", actor, command, CourseView)

    @post(
        "/{course_id:uuid}/cancel",
        status_code=200,
        summary="Cancel a course: its sessions, places and waiting lists go with it",
        responses=PROBLEM_RESPONSES,
    )
    async def cancel(
        self,
        course_id: FromPath[UUID],
        data: JSONBody[ReasonedStep],
        actor: NamedDependency[Actor],
        rpc: NamedDependency[RpcClient],
        if_match_version: NamedDependency[int | None],
    ) -> CourseView:
        step = with_expected_version(data, if_match_version)
        command = CancelCourse(course_id=course_id, reason=step.reason, expected_version=step.expected_version)
        return await rpc.call("courses", "cancel_course", actor, command, CourseView)

    @post("/{course_id:uuid}/sessions", summary="Schedule a session: its meetings, place and capacity")
    async def schedule_session(
        self,
        course_id: FromPath[UUID],
        data: JSONBody[SessionDetails],
        actor: NamedDependency[Actor],
        rpc: NamedDependency[RpcClient],
    ) -> SessionView:
        command = ScheduleSession(course_id=course_id, details=data)
        return await rpc.call("courses", "schedule_session", actor, command, SessionView)

    @get("/{course_id:uuid}/sessions", summary="A course's sessions by start, with places free and waiting lists")
    async def list_course_sessions(
        self,
        course_id: FromPath[UUID],
        actor: NamedDependency[Actor],
        rpc: NamedDependency[RpcClient],
        status: FromQuery[SessionStatus | None] = None,
        cursor: CursorQuery = None,
        limit: LimitQuery = DEFAULT_LIMIT,
    ) -> Page[SessionView]:
        query = ListSessions(course_id=course_id, status=status, cursor=cursor, limit=limit)
        return await rpc.call("courses", "list_sessions", actor, query, Page[SessionView])


class SessionController(Controller):
    path = "/api/v1/sessions"
    tags = ["courses"]

    @get("/", summary="The municipality's course calendar: sessions by start; places free, dates, library")
    async def list_sessions(
        self,
        actor: NamedDependency[Actor],
        rpc: NamedDependency[RpcClient],
        course_id: FromQuery[UUID | None] = None,
        library: LibraryQuery = None,
        starts_from: FromQuery[date | None] = None,
        starts_until: FromQuery[date | None] = None,
        with_free_places: FromQuery[bool] = False,
        status: FromQuery[SessionStatus | None] = None,
        cursor: CursorQuery = None,
        limit: LimitQuery = DEFAULT_LIMIT,
    ) -> Page[SessionView]:
        query = ListSessions(
            course_id=course_id,
            library=library,
            starts_from=starts_from,
            starts_until=starts_until,
            with_free_places=with_free_places,
            status=status,
            cursor=cursor,
            limit=limit,
        )
        return await rpc.call("courses", "list_sessions", actor, query, Page[SessionView])

    @get("/{session_id:uuid}", summary="One session, with its places and waiting list")
    async def get_one(
        self, session_id: FromPath[UUID], actor: NamedDependency[Actor], rpc: NamedDependency[RpcClient]
    ) -> SessionView:
        return await rpc.call("courses", "get_session", actor, GetSession(session_id=session_id), SessionView)

    @patch("/{session_id:uuid}", summary="Change a session's meetings, place or capacity (more moves the list up)")
    async def update(
        self,
        session_id: FromPath[UUID],
        data: JSONBody[SessionChanges],
        actor: NamedDependency[Actor],
        rpc: NamedDependency[RpcClient],
        if_match_version: NamedDependency[int | None],
    ) -> SessionView:
        command = UpdateSession(session_id=session_id, changes=with_expected_version(data, if_match_version))
        return await rpc.call("courses", "update_session", actor, command, SessionView)

    @post("/{session_id:uuid}/cancel", status_code=200, summary="Cancel a session with its enrolments")
    async def cancel(
        self,
        session_id: FromPath[UUID],
        data: JSONBody[ReasonedStep],
        actor: NamedDependency[Actor],
        rpc: NamedDependency[RpcClient],
        if_match_version: NamedDependency[int | None],
    ) -> SessionView:
        step = with_expected_version(data, if_match_version)
        command = CancelSession(session_id=session_id, reason=step.reason, expected_version=step.expected_version)
        return await rpc.call("courses", "cancel_session", actor, command, SessionView)

    @post(
        "/{session_id:uuid}/enrolments",
        summary="Enrol a participant by pseudonym or from a referral: a place, or the end of the waiting list",
    )
    async def enrol(
        self,
        session_id: FromPath[UUID],
        data: JSONBody[Enrol],
        actor: NamedDependency[Actor],
        rpc: NamedDependency[RpcClient],
    ) -> EnrolmentView:
        command = EnrolParticipant(session_id=session_id, enrolment=data)
        return await rpc.call("courses", "enrol", actor, command, EnrolmentView)

    @get("/{session_id:uuid}/enrolments", summary="A session's places and waiting list, in the order they came in")
    async def list_session_enrolments(
        self,
        session_id: FromPath[UUID],
        actor: NamedDependency[Actor],
        rpc: NamedDependency[RpcClient],
        status: FromQuery[EnrolmentStatus | None] = None,
        cursor: CursorQuery = None,
        limit: LimitQuery = DEFAULT_LIMIT,
    ) -> Page[EnrolmentView]:
        query = ListEnrolments(session_id=session_id, status=status, cursor=cursor, limit=limit)
        return await rpc.call("courses", "list_enrolments", actor, query, Page[EnrolmentView])


class EnrolmentController(Controller):
    path = "/api/v1/enrolments"
    tags = ["courses"]

    @get("/", summary="Enrolments the caller may see: by session, course, referral or pseudonym")
    async def list_enrolments(
        self,
        actor: NamedDependency[Actor],
        rpc: NamedDependency[RpcClient],
        session_id: FromQuery[UUID | None] = None,
        course_id: FromQuery[UUID | None] = None,
        status: FromQuery[EnrolmentStatus | None] = None,
        referral_id: FromQuery[UUID | None] = None,
        pseudonym: FromQuery[str | None] = None,
        cursor: CursorQuery = None,
        limit: LimitQuery = DEFAULT_LIMIT,
    ) -> Page[EnrolmentView]:
        query = ListEnrolments(
            session_id=session_id,
            course_id=course_id,
            status=status,
            referral_id=referral_id,
            participant_pseudonym=pseudonym,
            cursor=cursor,
            limit=limit,
        )
        return await rpc.call("courses", "list_enrolments", actor, query, Page[EnrolmentView])

    @get("/{enrolment_id:uuid}", summary="One enrolment, with its place on the waiting list and attendance")
    async def get_one(
        self, enrolment_id: FromPath[UUID], actor: NamedDependency[Actor], rpc: NamedDependency[RpcClient]
    ) -> EnrolmentView:
        return await rpc.call("courses", "get_enrolment", actor, GetEnrolment(enrolment_id=enrolment_id), EnrolmentView)

    @post(
        "/{enrolment_id:uuid}/cancel",
        status_code=200,
        summary="Cancel an enrolment; a place freed goes to the first on the waiting list",
    )
    async def cancel(
        self,
        enrolment_id: FromPath[UUID],
        actor: NamedDependency[Actor],
        rpc: NamedDependency[RpcClient],
        if_match_version: NamedDependency[int | None],
        data: JSONBody[Cancellation | None] = None,
    ) -> EnrolmentView:
        cancellation = with_expected_version(data or Cancellation(), if_match_version)
        command = CancelEnrolment(enrolment_id=enrolment_id, cancellation=cancellation)
        return await rpc.call("courses", "cancel_enrolment", actor, command, EnrolmentView)

    @post("/{enrolment_id:uuid}/attendance", status_code=200, summary="Record presence at one of the meetings")
    async def record_attendance(
        self,
        enrolment_id: FromPath[UUID],
        data: JSONBody[Attendance],
        actor: NamedDependency[Actor],
        rpc: NamedDependency[RpcClient],
        if_match_version: NamedDependency[int | None],
    ) -> EnrolmentView:
        command = RecordAttendance(enrolment_id=enrolment_id, attendance=with_expected_version(data, if_match_version))
        return await rpc.call("courses", "record_attendance", actor, command, EnrolmentView)


COURSE_CONTROLLERS = [CourseController, SessionController, EnrolmentController]
