"""Routes for notices by e-mail: a person's own choice of notices and address, and the mail outbox for operators.

Staff and partners' people (signed in as themselves, not with an API key) read and set their own choice; nobody
reads another's. Operators list the latest messages and how sending them went. Each route passes a request
through to one declared operation of the partners service, so they are made from the declarations.
"""

from __future__ import annotations

from litestar import Router

from gateway.routes import passthrough
from shared.contracts.partners.api import operations as ops

notice_routes = Router(
    path="/api/v1/notices",
    tags=["notices"],
    route_handlers=[
        passthrough("GET", "/preferences", ops.GET_NOTICE_PREFERENCES, handler_name="preferences"),
        passthrough("PUT", "/preferences", ops.SET_NOTICE_PREFERENCES, body=True, handler_name="choose"),
        passthrough("GET", "/mail", ops.LIST_MAIL, handler_name="mail"),
    ],
)
