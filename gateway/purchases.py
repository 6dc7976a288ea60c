"""Routes for purchasing: purchases and their steps, budgets per library and year, budget holders, threshold,
and a partner's side of it (the purchases it was invited to quote for).

Each passes a request through to one declared operation of the courses service
(shared/contracts/courses/api/purchasing_operations.py), so they are made from the declarations (gateway/routes.py).
"""

from __future__ import annotations

from typing import Any

from litestar import Router
from litestar.handlers import HTTPRouteHandler

from gateway.routes import passthrough
from shared.contracts.courses.api import purchasing_operations as ops
from shared.contracts.courses.api.courses import ReasonedStep, VersionedStep
from shared.operations import Operation

PURCHASE = "/{purchase_id:uuid}"
LIBRARY = "/{library:str}"


def _step(path: str, operation: Operation[Any, Any], body: str | type[Any], handler_name: str) -> HTTPRouteHandler:
    """A step of a purchase: the path names it, the body says how, If-Match the version it was based on."""
    return passthrough(
        "POST", f"{PURCHASE}{path}", operation, body=body, if_match=True, status_code=200, handler_name=handler_name
    )


purchase_routes = Router(
    path="/api/v1/purchases",
    tags=["purchasing"],
    route_handlers=[
        passthrough("POST", "/", ops.REQUEST_PURCHASE, body=True, status_code=201, handler_name="request"),
        passthrough("GET", "/", ops.LIST_PURCHASES),
        passthrough("GET", PURCHASE, ops.GET_PURCHASE, handler_name="get_one"),
        passthrough("POST", f"{PURCHASE}/quotes", ops.ADD_QUOTE, body="quote", if_match=True, status_code=201),
        _step("/approve", ops.APPROVE_PURCHASE, "approval", "approve"),
        _step("/reject", ops.REJECT_PURCHASE, ReasonedStep, "reject"),
        _step("/cancel", ops.CANCEL_PURCHASE, ReasonedStep, "cancel"),
        _step("/order", ops.ORDER_PURCHASE, "order", "order"),
        _step("/delivery", ops.RECORD_DELIVERY, "delivery", "record_delivery"),
        _step("/invoice", ops.RECORD_INVOICE, "invoice", "record_invoice"),
        _step("/invoice/approve", ops.APPROVE_INVOICE, "approval", "approve_invoice"),
        _step("/invoice/refuse", ops.REFUSE_INVOICE, ReasonedStep, "refuse_invoice"),
        _step("/invitations", ops.INVITE_PARTNER, "invitation", "invite"),
        _step("/close", ops.CLOSE_PURCHASE, VersionedStep, "close"),
    ],
)

budget_routes = Router(
    path="/api/v1/budgets",
    tags=["purchasing"],
    route_handlers=[
        passthrough("GET", "/", ops.LIST_BUDGETS),
        passthrough("GET", f"{LIBRARY}/{{year:int}}", ops.GET_BUDGET, handler_name="get_one"),
        passthrough("PUT", f"{LIBRARY}/{{year:int}}", ops.SET_BUDGET, body="budget", if_match=True),
    ],
)

budget_holder_routes = Router(
    path="/api/v1/budget-holders",
    tags=["purchasing"],
    route_handlers=[
        passthrough("GET", LIBRARY, ops.LIST_BUDGET_HOLDERS, handler_name="list_holders"),
        passthrough("GET", f"{LIBRARY}/history", ops.LIST_BUDGET_HOLDER_CHANGES, handler_name="history"),
        passthrough("POST", LIBRARY, ops.APPOINT_BUDGET_HOLDER, body="holder", status_code=201, handler_name="appoint"),
        passthrough(
            "DELETE", f"{LIBRARY}/{{subject:str}}", ops.REMOVE_BUDGET_HOLDER, status_code=200, handler_name="remove"
        ),
    ],
)

purchasing_policy_routes = Router(
    path="/api/v1/purchasing-policies",
    tags=["purchasing"],
    route_handlers=[
        passthrough("GET", LIBRARY, ops.GET_PURCHASING_POLICY, handler_name="get_one"),
        passthrough(
            "PUT", LIBRARY, ops.SET_PURCHASING_POLICY, body="threshold", if_match=True, handler_name="set_policy"
        ),
    ],
)

provider_purchase_routes = Router(
    path="/api/v1/partners/{partner_id:uuid}/purchases",
    tags=["purchasing"],
    route_handlers=[
        passthrough("GET", "/", ops.LIST_PROVIDER_PURCHASES, handler_name="list_purchases"),
        passthrough("GET", PURCHASE, ops.GET_PROVIDER_PURCHASE, handler_name="get_one"),
        passthrough("POST", f"{PURCHASE}/quotes", ops.SUBMIT_QUOTE, body="quote", status_code=201),
    ],
)

PURCHASING_CONTROLLERS = [
    purchase_routes,
    budget_routes,
    budget_holder_routes,
    purchasing_policy_routes,
    provider_purchase_routes,
]
