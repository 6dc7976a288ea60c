"""Routes for assignment: open assignments from courses, assignments of volunteers and interns, hours."""

from __future__ import annotations

from uuid import UUID

from litestar import Controller, get, patch, post
from litestar.di import NamedDependency
from litestar.params import FromPath, FromQuery, JSONBody

from gateway.dependencies import CursorQuery, LibraryQuery, LimitQuery, with_expected_version
from gateway.volunteers.calls import VERSIONED, call, fields
from shared.contracts.vocabulary import DEFAULT_LIMIT
from shared.contracts.volunteers.api.assignments import (
    AssignmentStatus,
    AssignmentStepRequest,
    AssignmentView,
    AssignVolunteer,
    CorrectHours,
    EndAssignment,
    GetAssignment,
    GetOpening,
    HoursCorrection,
    HoursEntryView,
    HoursRemoval,
    HoursRequest,
    ListAssignments,
    ListHours,
    ListOpenings,
    LogHours,
    OpeningChanges,
    OpeningView,
    RemoveHours,
    UpdateOpening,
)
from shared.pagination import Page
from shared.rpc import RpcClient
from shared.tenancy import Actor


class AssignmentController(Controller):
    path = "/api/v1"
    tags = ["volunteers"]
    dependencies = VERSIONED

    @get("/open-assignments", summary="Courses that need volunteers as guides, with the places left")
    async def list_openings(
        self,
        actor: NamedDependency[Actor],
        rpc: NamedDependency[RpcClient],
        cursor: CursorQuery = None,
        limit: LimitQuery = DEFAULT_LIMIT,
        library: LibraryQuery = None,
        open_only: FromQuery[bool] = True,
    ) -> Page[OpeningView]:
        query = ListOpenings(cursor=cursor, limit=limit, library=library, open_only=open_only)
        return await call(rpc, "list_openings", actor, query, Page[OpeningView])

    @get("/open-assignments/{opening_id:uuid}", summary="One open assignment")
    async def get_opening(
        self, opening_id: FromPath[UUID], actor: NamedDependency[Actor], rpc: NamedDependency[RpcClient]
    ) -> OpeningView:
        return await call(rpc, "get_opening", actor, GetOpening(opening_id=opening_id), OpeningView)

    @patch("/open-assignments/{opening_id:uuid}", summary="What the guides of this course need (qualifications, VOG)")
    async def update_opening(
        self,
        opening_id: FromPath[UUID],
        data: JSONBody[OpeningChanges],
        actor: NamedDependency[Actor],
        rpc: NamedDependency[RpcClient],
        if_match_version: NamedDependency[int | None],
    ) -> OpeningView:
        changes = with_expected_version(data, if_match_version)
        body = UpdateOpening(opening_id=opening_id, **fields(changes))
        return await call(rpc, "update_opening", actor, body, OpeningView)

    @post("/assignments", summary="Assign an active, screened and qualified volunteer or intern (409 says what lacks)")
    async def assign(
        self, data: JSONBody[AssignVolunteer], actor: NamedDependency[Actor], rpc: NamedDependency[RpcClient]
    ) -> AssignmentView:
        return await call(rpc, "assign", actor, data, AssignmentView)

    @get("/assignments", summary="Assignments in scope; a supplying partner sees those of its people")
    async def list_assignments(
        self,
        actor: NamedDependency[Actor],
        rpc: NamedDependency[RpcClient],
        cursor: CursorQuery = None,
        limit: LimitQuery = DEFAULT_LIMIT,
        volunteer_id: FromQuery[UUID | None] = None,
        opening_id: FromQuery[UUID | None] = None,
        status: FromQuery[AssignmentStatus | None] = None,
        library: LibraryQuery = None,
    ) -> Page[AssignmentView]:
        query = ListAssignments(
            cursor=cursor, limit=limit, volunteer_id=volunteer_id, opening_id=opening_id, status=status, library=library
        )
        return await call(rpc, "list_assignments", actor, query, Page[AssignmentView])

    @get("/assignments/{assignment_id:uuid}", summary="One assignment with the minutes logged on it")
    async def get_assignment(
        self, assignment_id: FromPath[UUID], actor: NamedDependency[Actor], rpc: NamedDependency[RpcClient]
    ) -> AssignmentView:
        body = GetAssignment(assignment_id=assignment_id)
        return await call(rpc, "get_assignment", actor, body, AssignmentView)

    @post("/assignments/{assignment_id:uuid}/end", status_code=200, summary="End an assignment")
    async def end_assignment(
        self,
        assignment_id: FromPath[UUID],
        actor: NamedDependency[Actor],
        rpc: NamedDependency[RpcClient],
        if_match_version: NamedDependency[int | None],
        data: JSONBody[AssignmentStepRequest | None] = None,
    ) -> AssignmentView:
        request = with_expected_version(data or AssignmentStepRequest(), if_match_version)
        body = EndAssignment(assignment_id=assignment_id, **fields(request))
        return await call(rpc, "end_assignment", actor, body, AssignmentView)

    @get(
        "/assignments/{assignment_id:uuid}/hours",
        summary="An assignment's hours entries, removed ones flagged, with history",
    )
    async def list_hours(
        self,
        assignment_id: FromPath[UUID],
        actor: NamedDependency[Actor],
        rpc: NamedDependency[RpcClient],
        cursor: CursorQuery = None,
        limit: LimitQuery = DEFAULT_LIMIT,
    ) -> Page[HoursEntryView]:
        query = ListHours(assignment_id=assignment_id, cursor=cursor, limit=limit)
        return await call(rpc, "list_hours", actor, query, Page[HoursEntryView])

    @patch(
        "/assignments/{assignment_id:uuid}/hours/{entry_id:uuid}",
        summary="Correct a wrong hours entry, with a reason (its history keeps what it said)",
    )
    async def correct_hours(
        self,
        assignment_id: FromPath[UUID],
        entry_id: FromPath[UUID],
        data: JSONBody[HoursCorrection],
        actor: NamedDependency[Actor],
        rpc: NamedDependency[RpcClient],
        if_match_version: NamedDependency[int | None],
    ) -> HoursEntryView:
        correction = with_expected_version(data, if_match_version)
        body = CorrectHours(assignment_id=assignment_id, entry_id=entry_id, **fields(correction))
        return await call(rpc, "correct_hours", actor, body, HoursEntryView)

    @post(
        "/assignments/{assignment_id:uuid}/hours/{entry_id:uuid}/remove",
        status_code=200,
        summary="Remove an hours entry logged by mistake, with a reason (it stays in the history, no longer counts)",
    )
    async def remove_hours(
        self,
        assignment_id: FromPath[UUID],
        entry_id: FromPath[UUID],
        data: JSONBody[HoursRemoval],
        actor: NamedDependency[Actor],
        rpc: NamedDependency[RpcClient],
        if_match_version: NamedDependency[int | None],
    ) -> HoursEntryView:
        removal = with_expected_version(data, if_match_version)
        body = RemoveHours(assignment_id=assignment_id, entry_id=entry_id, **fields(removal))
        return await call(rpc, "remove_hours", actor, body, HoursEntryView)

    @post("/assignments/{assignment_id:uuid}/hours", summary="Log hours worked on an assignment")
    async def log_hours(
        self,
        assignment_id: FromPath[UUID],
        data: JSONBody[HoursRequest],
        actor: NamedDependency[Actor],
        rpc: NamedDependency[RpcClient],
    ) -> HoursEntryView:
        body = LogHours(assignment_id=assignment_id, **fields(data))
        return await call(rpc, "log_hours", actor, body, HoursEntryView)
