"""Routes for partnerships between a library and a partner: drafted and kept by the library's own staff.

Each passes a request through to one declared operation of the partners service, so they are made from the
declarations (gateway/routes.py).
"""

from __future__ import annotations

from litestar import Router
from litestar.handlers import HTTPRouteHandler

from gateway.routes import passthrough
from shared.contracts.partners.api import operations as ops
from shared.contracts.partners.api.partnerships import PartnershipStep

ONE = "/{partnership_id:uuid}"


def _step(step: PartnershipStep, summary: str) -> HTTPRouteHandler:
    return passthrough(
        "POST",
        f"{ONE}/{step.value}",
        ops.CHANGE_PARTNERSHIP_STATUS,
        body="change",
        fixed={"step": step},
        if_match=True,
        status_code=200,
        summary=summary,
        handler_name=step.value,
    )


partnership_routes = Router(
    path="/api/v1/partnerships",
    tags=["partnerships"],
    route_handlers=[
        passthrough("POST", "/", ops.CREATE_PARTNERSHIP, body=True, status_code=201, handler_name="create"),
        passthrough("GET", "/", ops.LIST_PARTNERSHIPS),
        passthrough("GET", ONE, ops.GET_PARTNERSHIP, handler_name="get_one"),
        passthrough("PATCH", ONE, ops.UPDATE_PARTNERSHIP, body="changes", if_match=True, handler_name="update"),
        _step(PartnershipStep.ACTIVATE, "Activate a drafted partnership (not past its end date)"),
        _step(
            PartnershipStep.SUSPEND,
            "Suspend an active partnership (paused until resumed or ended; it still ends on its end date)",
        ),
        _step(PartnershipStep.RESUME, "Resume a suspended partnership (not past its end date)"),
        _step(PartnershipStep.END, "End a partnership (final)"),
        passthrough("GET", f"{ONE}/history", ops.PARTNERSHIP_HISTORY, handler_name="history"),
    ],
)
