"""Routes for a volunteer's rights (export, erasure, by the library's staff), the library's retention policy,
and re-sealing with a new key (operators)."""

from __future__ import annotations

from litestar import Router

from gateway.routes import passthrough
from shared.contracts.volunteers.api import operations as ops

VOLUNTEER = "/{volunteer_id:uuid}"

volunteer_privacy_routes = Router(
    path="/api/v1/volunteers",
    tags=["volunteers"],
    route_handlers=[
        passthrough("GET", "/policy", ops.GET_VOLUNTEER_POLICY, handler_name="policy"),
        passthrough("PUT", "/policy", ops.SET_VOLUNTEER_POLICY, body=True, if_match=True),
        passthrough("POST", "/encryption/rotate", ops.ROTATE_ENCRYPTION, status_code=200),
        passthrough("GET", "/access-log", ops.LIST_VOLUNTEER_READS, query=["cursor", "limit"]),
        passthrough(
            "GET",
            f"{VOLUNTEER}/access-log",
            ops.LIST_VOLUNTEER_READS,
            summary="Who read this person's personal data, newest first (staff)",
            handler_name="volunteer_access_log",
        ),
        passthrough("GET", f"{VOLUNTEER}/export", ops.EXPORT_VOLUNTEER_DATA),
        passthrough("POST", f"{VOLUNTEER}/erase", ops.ERASE_VOLUNTEER_DATA, status_code=200),
    ],
)
