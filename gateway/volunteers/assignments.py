"""Routes for assignment: open assignments from courses, assignments of volunteers and interns, hours."""

from __future__ import annotations

from litestar import Router

from gateway.routes import passthrough
from shared.contracts.volunteers.api import operations as ops
from shared.contracts.volunteers.api.assignments import (
    AssignmentStepRequest,
    HoursCorrection,
    HoursRemoval,
    HoursRequest,
    OpeningChanges,
)

OPENING = "/open-assignments/{opening_id:uuid}"
ASSIGNMENT = "/assignments/{assignment_id:uuid}"
ENTRY = f"{ASSIGNMENT}/hours/{{entry_id:uuid}}"

assignment_routes = Router(
    path="/api/v1",
    tags=["volunteers"],
    route_handlers=[
        passthrough("GET", "/open-assignments", ops.LIST_OPENINGS),
        passthrough("GET", OPENING, ops.GET_OPENING),
        passthrough("PATCH", OPENING, ops.UPDATE_OPENING, body=OpeningChanges, if_match=True),
        passthrough("POST", "/assignments", ops.ASSIGN, body=True, status_code=201),
        passthrough("GET", "/assignments", ops.LIST_ASSIGNMENTS),
        passthrough("GET", ASSIGNMENT, ops.GET_ASSIGNMENT),
        passthrough(
            "POST",
            f"{ASSIGNMENT}/end",
            ops.END_ASSIGNMENT,
            body=AssignmentStepRequest,
            if_match=True,
            status_code=200,
        ),
        passthrough("GET", f"{ASSIGNMENT}/hours", ops.LIST_HOURS),
        passthrough("PATCH", ENTRY, ops.CORRECT_HOURS, body=HoursCorrection, if_match=True),
        passthrough("POST", f"{ENTRY}/remove", ops.REMOVE_HOURS, body=HoursRemoval, if_match=True, status_code=200),
        passthrough("POST", f"{ASSIGNMENT}/hours", ops.LOG_HOURS, body=HoursRequest, status_code=201),
    ],
)
