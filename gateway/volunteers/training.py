"""Routes for training: modules (the library's, a volunteer organisation's, bought ones), sessions, attendance."""

from __future__ import annotations

from uuid import UUID

from litestar import Controller, get, patch, post
from litestar.di import NamedDependency
from litestar.params import FromPath, FromQuery, JSONBody

from gateway.dependencies import CursorQuery, LibraryQuery, LimitQuery, with_expected_version
from gateway.volunteers.calls import VERSIONED, call, fields
from shared.contracts.vocabulary import DEFAULT_LIMIT
from shared.contracts.volunteers.api.training import (
    AddTrainingModule,
    AttendanceRequest,
    GetTrainingModule,
    GetTrainingSession,
    ListTrainingModules,
    ListTrainingSessions,
    RecordAttendance,
    ScheduleTrainingSession,
    TrainingModuleChanges,
    TrainingModuleView,
    TrainingSessionRequest,
    TrainingSessionView,
    UpdateTrainingModule,
)
from shared.contracts.volunteers.events import ModuleDelivery
from shared.pagination import Page
from shared.rpc import RpcClient
from shared.tenancy import Actor


class TrainingController(Controller):
    path = "/api/v1/trainings"
    tags = ["volunteers"]
    dependencies = VERSIONED

    @post("/modules", summary="Add a training module given by the library or a volunteer organisation")
    async def add_module(
        self, data: JSONBody[AddTrainingModule], actor: NamedDependency[Actor], rpc: NamedDependency[RpcClient]
    ) -> TrainingModuleView:
        return await call(rpc, "add_training_module", actor, data, TrainingModuleView)

    @get("/modules", summary="Training modules in scope (bought ones included)")
    async def list_modules(
        self,
        actor: NamedDependency[Actor],
        rpc: NamedDependency[RpcClient],
        cursor: CursorQuery = None,
        limit: LimitQuery = DEFAULT_LIMIT,
        library: LibraryQuery = None,
        delivered_by: FromQuery[ModuleDelivery | None] = None,
    ) -> Page[TrainingModuleView]:
        query = ListTrainingModules(cursor=cursor, limit=limit, library=library, delivered_by=delivered_by)
        return await call(rpc, "list_training_modules", actor, query, Page[TrainingModuleView])

    @get("/modules/{module_id:uuid}", summary="One training module")
    async def get_module(
        self, module_id: FromPath[UUID], actor: NamedDependency[Actor], rpc: NamedDependency[RpcClient]
    ) -> TrainingModuleView:
        body = GetTrainingModule(module_id=module_id)
        return await call(rpc, "get_training_module", actor, body, TrainingModuleView)

    @patch("/modules/{module_id:uuid}", summary="Change a module: its qualification and how long it holds")
    async def update_module(
        self,
        module_id: FromPath[UUID],
        data: JSONBody[TrainingModuleChanges],
        actor: NamedDependency[Actor],
        rpc: NamedDependency[RpcClient],
        if_match_version: NamedDependency[int | None],
    ) -> TrainingModuleView:
        changes = with_expected_version(data, if_match_version)
        body = UpdateTrainingModule(module_id=module_id, **fields(changes))
        return await call(rpc, "update_training_module", actor, body, TrainingModuleView)

    @post("/modules/{module_id:uuid}/sessions", summary="Schedule a session of a module")
    async def schedule_session(
        self,
        module_id: FromPath[UUID],
        data: JSONBody[TrainingSessionRequest],
        actor: NamedDependency[Actor],
        rpc: NamedDependency[RpcClient],
    ) -> TrainingSessionView:
        body = ScheduleTrainingSession(module_id=module_id, **fields(data))
        return await call(rpc, "schedule_training_session", actor, body, TrainingSessionView)

    @get("/sessions", summary="Training sessions in scope, by start")
    async def list_sessions(
        self,
        actor: NamedDependency[Actor],
        rpc: NamedDependency[RpcClient],
        cursor: CursorQuery = None,
        limit: LimitQuery = DEFAULT_LIMIT,
        module_id: FromQuery[UUID | None] = None,
        library: LibraryQuery = None,
    ) -> Page[TrainingSessionView]:
        query = ListTrainingSessions(cursor=cursor, limit=limit, module_id=module_id, library=library)
        return await call(rpc, "list_training_sessions", actor, query, Page[TrainingSessionView])

    @get("/sessions/{session_id:uuid}", summary="One training session with its attendance")
    async def get_session(
        self, session_id: FromPath[UUID], actor: NamedDependency[Actor], rpc: NamedDependency[RpcClient]
    ) -> TrainingSessionView:
        body = GetTrainingSession(session_id=session_id)
        return await call(rpc, "get_training_session", actor, body, TrainingSessionView)

    @post(
        "/sessions/{session_id:uuid}/attendance",
        status_code=200,
        summary="Record attendance; completing the module gives its qualification",
    )
    async def record_attendance(
        self,
        session_id: FromPath[UUID],
        data: JSONBody[AttendanceRequest],
        actor: NamedDependency[Actor],
        rpc: NamedDependency[RpcClient],
    ) -> TrainingSessionView:
        body = RecordAttendance(session_id=session_id, **fields(data))
        return await call(rpc, "record_attendance", actor, body, TrainingSessionView)
