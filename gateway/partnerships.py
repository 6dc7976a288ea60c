"""Routes for partnerships between a library and a partner: drafted and kept by the library's own staff.

Each passes a request through to one declared operation of the partners service, so they are made from the
declarations (gateway/routes.py).
"""

from __future__ import annotations

from litestar import Router

from gateway.routes import passthrough, step
from shared.contracts.partners.api import operations as ops
from shared.contracts.partners.api.partnerships import PartnershipStep

ONE = "/{partnership_id:uuid}"


partnership_routes = Router(
    path="/api/v1/partnerships",
    tags=["partnerships"],
    route_handlers=[
        passthrough("POST", "/", ops.CREATE_PARTNERSHIP, body=True, status_code=201, handler_name="create"),
        passthrough("GET", "/", ops.LIST_PARTNERSHIPS),
        passthrough("GET", ONE, ops.GET_PARTNERSHIP, handler_name="get_one"),
        passthrough("PATCH", ONE, ops.UPDATE_PARTNERSHIP, body="changes", if_match=True, handler_name="update"),
        step(
            ONE,
            ops.CHANGE_PARTNERSHIP_STATUS,
            PartnershipStep.ACTIVATE,
            "Activate a drafted partnership (not past its end date)",
            body="change",
        ),
        step(
            ONE,
            ops.CHANGE_PARTNERSHIP_STATUS,
            PartnershipStep.SUSPEND,
            "Suspend an active partnership (paused until resumed or ended; it still ends on its end date)",
            body="change",
        ),
        step(
            ONE,
            ops.CHANGE_PARTNERSHIP_STATUS,
            PartnershipStep.RESUME,
            "Resume a suspended partnership (not past its end date)",
            body="change",
        ),
        step(ONE, ops.CHANGE_PARTNERSHIP_STATUS, PartnershipStep.END, "End a partnership (final)", body="change"),
        passthrough("GET", f"{ONE}/history", ops.PARTNERSHIP_HISTORY, handler_name="history"),
    ],
)
