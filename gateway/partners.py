"""Routes for the partner network: municipalities, libraries, partners and the partner map, a partner's feed.

A partner's token (or API key) reaches only the partner itself: its record, its feed, its credentials;
the partners service checks that again. Staff and coordinators register and keep the partners of their
municipality; suspending or ending a partner is the coordinator's. Every route passes a request through to one
declared operation (shared/contracts/partners/api/operations.py), so they are made from the declarations.
"""

from __future__ import annotations

from litestar import Router

from gateway.routes import passthrough, step
from shared.contracts.partners.api import operations as ops
from shared.contracts.partners.api.organisations import PartnerStep

ONE = "/{partner_id:uuid}"

tenant_routes = Router(
    path="/api/v1",
    tags=["tenants"],
    route_handlers=[
        passthrough("POST", "/municipalities", ops.REGISTER_MUNICIPALITY, body=True, status_code=201),
        passthrough("POST", "/libraries", ops.REGISTER_LIBRARY, body=True, status_code=201),
        passthrough("GET", "/libraries/{library:str}", ops.GET_LIBRARY, handler_name="get_library"),
        passthrough("PATCH", "/libraries/{library:str}", ops.UPDATE_LIBRARY, body="changes", handler_name="update"),
    ],
)


partner_routes = Router(
    path="/api/v1/partners",
    tags=["partners"],
    route_handlers=[
        passthrough("POST", "/", ops.REGISTER_PARTNER, body=True, status_code=201, handler_name="register"),
        passthrough("GET", "/", ops.LIST_PARTNERS),
        passthrough(
            "GET",
            "/map",
            ops.PARTNER_MAP,
            description=(
                "Every library of the municipality sees the partners' contact details; a partnership only its "
                "library, the municipality's coordinator and the partner itself. `role` and `library` filter on "
                "the partnerships the caller may see."
            ),
        ),
        passthrough("GET", ONE, ops.GET_PARTNER, handler_name="get_one"),
        passthrough("GET", f"{ONE}/history", ops.PARTNER_HISTORY, handler_name="history"),
        passthrough("PATCH", ONE, ops.UPDATE_PARTNER, body="changes", if_match=True, handler_name="update"),
        step(
            ONE,
            ops.CHANGE_PARTNER_STATUS,
            PartnerStep.SUSPEND,
            "Suspend a partner: no new referrals from it",
            body="change",
        ),
        step(ONE, ops.CHANGE_PARTNER_STATUS, PartnerStep.REACTIVATE, "Reactivate a suspended partner", body="change"),
        step(
            ONE,
            ops.CHANGE_PARTNER_STATUS,
            PartnerStep.END,
            "End a partner, and with it its partnerships (final)",
            body="change",
        ),
        passthrough(
            "GET",
            f"{ONE}/feed",
            ops.GET_FEED,
            handler_name="feed",
            description=(
                "The partner's entries after the position `after`, oldest first; read on from `next_after`. "
                "Entries are kept `PARTNERNET_FEED_RETENTION_DAYS` (90 by default): a cursor below the oldest "
                "kept is refused with 410 and `restart_after`, the cursor to read on from, never moved on silently."
            ),
        ),
        passthrough("GET", f"{ONE}/feed/nats", ops.NATS_FEED_ACCESS, handler_name="nats_access"),
        passthrough(
            "POST",
            f"{ONE}/feed/nats-credentials",
            ops.ISSUE_NATS_CREDENTIALS,
            query=["support_reason"],
            status_code=201,
            description=(
                "Connect with `nats.connect(servers, token=token, inbox_prefix=inbox_prefix)`, then "
                "`js.pull_subscribe_bind(durable=durable, stream=stream)`, `fetch` and `ack`: a durable consumer, "
                "so a partner that was away continues where it was. The token is an API key with scope "
                "`feed:read`; revoke it under /partners/{id}/api-keys: a new connection with it is refused at "
                "once, one already open is ended when its session does (the server re-authorises every connection "
                "every 10 minutes), so it may read on for up to 10 minutes."
            ),
        ),
    ],
)
