"""Routes for partners' API keys: issue (the key is shown once), list and revoke.

A partner's keys are its own: the partner itself, with a person's token (an API key cannot manage keys), or an
operator for support, who says why (`support_reason`, kept with the key). Staff and coordinators get a 403.
A key acts as its partner within its scopes (see gateway/auth.py). Each route passes a request through to one
declared operation of the partners service, so they are made from the declarations (gateway/routes.py).
"""

from __future__ import annotations

from litestar import Router

from gateway.routes import passthrough
from shared.contracts.partners.api import operations as ops

api_key_routes = Router(
    path="/api/v1/partners/{partner_id:uuid}/api-keys",
    tags=["api keys"],
    route_handlers=[
        passthrough("POST", "/", ops.ISSUE_API_KEY, body="request", status_code=201, handler_name="issue"),
        passthrough("GET", "/", ops.LIST_API_KEYS, handler_name="list_keys"),
        passthrough("DELETE", "/{key_id:uuid}", ops.REVOKE_API_KEY, status_code=200, handler_name="revoke"),
    ],
)
