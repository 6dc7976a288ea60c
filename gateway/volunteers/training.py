"""Routes for training: modules (the library's, a volunteer organisation's, bought ones), sessions, attendance."""

from __future__ import annotations

from litestar import Router

from gateway.routes import passthrough
from shared.contracts.volunteers.api import operations as ops
from shared.contracts.volunteers.api.training import AttendanceRequest, TrainingModuleChanges, TrainingSessionRequest

MODULE = "/modules/{module_id:uuid}"
SESSION = "/sessions/{session_id:uuid}"

training_routes = Router(
    path="/api/v1/trainings",
    tags=["volunteers"],
    route_handlers=[
        passthrough("POST", "/modules", ops.ADD_TRAINING_MODULE, body=True, status_code=201, handler_name="add_module"),
        passthrough("GET", "/modules", ops.LIST_TRAINING_MODULES, handler_name="list_modules"),
        passthrough("GET", MODULE, ops.GET_TRAINING_MODULE, handler_name="get_module"),
        passthrough(
            "PATCH",
            MODULE,
            ops.UPDATE_TRAINING_MODULE,
            body=TrainingModuleChanges,
            if_match=True,
            handler_name="update_module",
        ),
        passthrough(
            "POST",
            f"{MODULE}/sessions",
            ops.SCHEDULE_TRAINING_SESSION,
            body=TrainingSessionRequest,
            status_code=201,
            handler_name="schedule_session",
        ),
        passthrough("GET", "/sessions", ops.LIST_TRAINING_SESSIONS, handler_name="list_sessions"),
        passthrough("GET", SESSION, ops.GET_TRAINING_SESSION, handler_name="get_session"),
        passthrough("POST", f"{SESSION}/attendance", ops.RECORD_ATTENDANCE, body=AttendanceRequest, status_code=200),
    ],
)
