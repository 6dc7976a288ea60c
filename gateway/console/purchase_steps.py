"""One purchase, for the library's staff and the municipality's coordinator: the request, its quotes, approvals,
invitations and history, and its next steps as the purchase stands (add a quote, invite a partner to quote,
approve a quote, reject, cancel, order, record the delivery and the invoice, decide an invoice above the approved
amount, close); and a new purchase request. Each posts the courses service's own operation (the same as the
API's /api/v1/purchases routes) with the version shown; the service decides who may (budget holders approve)."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from litestar import Controller, Request, Response, get, post
from litestar.datastructures import FormMultiDict
from litestar.di import NamedDependency
from litestar.params import FromPath, FromQuery

from gateway.console import forms, paging, steps
from gateway.console.explain import Explanation
from gateway.console.names import load_names
from gateway.console.quotes import cents
from gateway.console.session import PREFIX, Visitor
from gateway.console.views import page
from shared.contracts.courses.api import purchasing_operations as course_ops
from shared.contracts.courses.api.purchasing import (
    AddQuote,
    ApproveInvoice,
    ApprovePurchase,
    CancelPurchase,
    ClosePurchase,
    GetPurchase,
    InvitePartner,
    OrderPurchase,
    PurchaseStatus,
    RecordDelivery,
    RecordInvoice,
    RefuseInvoice,
    RejectPurchase,
    RequestPurchase,
)
from shared.contracts.courses.events import Audience
from shared.contracts.partners.api import operations as partner_ops
from shared.contracts.partners.api.organisations import ListPartners, PartnerStatus, PartnerView
from shared.rpc import RpcClient
from shared.tenancy import Actor, Role

ROLES = (Role.STAFF, Role.COORDINATOR)
P = PurchaseStatus
# The steps the page offers in each status; the courses service decides (an illegal one is a 409).
STEPS: dict[PurchaseStatus, tuple[str, ...]] = {
    P.REQUESTED: ("add_quote", "invite", "reject", "cancel"),
    P.QUOTED: ("add_quote", "invite", "approve", "reject", "cancel"),
    P.AWAITING_SECOND_APPROVAL: ("approve", "reject", "cancel"),
    P.APPROVED: ("order", "cancel"),
    P.ORDERED: ("delivery",),
    P.DELIVERED: ("invoice",),
    P.INVOICE_AWAITING_APPROVAL: ("approve_invoice", "refuse_invoice"),
    P.INVOICED: ("close",),
}
ALL_STEPS = tuple(dict.fromkeys(step for steps in STEPS.values() for step in steps))


def _version(form: FormMultiDict) -> int | None:
    return forms.number(form, "expected_version")


def _reason(form: FormMultiDict) -> str | None:
    return forms.text(form, "reason")


# step → the courses service's operation and the command made from the form
COMMANDS: dict[str, steps.Step] = {
    "add_quote": steps.Step(
        course_ops.ADD_QUOTE,
        lambda pid, form: forms.convert(
            {
                "purchase_id": str(pid),
                "quote": {
                    "provider_name": forms.text(form, "provider_name"),
                    "amount_cents": cents(form, "amount"),
                    "description": forms.text(form, "description"),
                    "valid_until": forms.text(form, "valid_until"),
                    "expected_version": _version(form),
                },
            },
            AddQuote,
        ),
    ),
    "invite": steps.Step(
        course_ops.INVITE_PARTNER,
        lambda pid, form: forms.convert(
            {
                "purchase_id": str(pid),
                "invitation": {"partner_id": forms.text(form, "partner_id"), "expected_version": _version(form)},
            },
            InvitePartner,
        ),
    ),
    "approve": steps.Step(
        course_ops.APPROVE_PURCHASE,
        lambda pid, form: forms.convert(
            {
                "purchase_id": str(pid),
                "approval": {
                    "quote_id": forms.text(form, "quote_id"),
                    "note": forms.text(form, "note"),
                    "expected_version": _version(form),
                },
            },
            ApprovePurchase,
        ),
    ),
    "reject": steps.Step(
        course_ops.REJECT_PURCHASE,
        lambda pid, form: forms.convert(
            {"purchase_id": str(pid), "reason": _reason(form), "expected_version": _version(form)}, RejectPurchase
        ),
    ),
    "cancel": steps.Step(
        course_ops.CANCEL_PURCHASE,
        lambda pid, form: forms.convert(
            {"purchase_id": str(pid), "reason": _reason(form), "expected_version": _version(form)}, CancelPurchase
        ),
    ),
    "order": steps.Step(
        course_ops.ORDER_PURCHASE,
        lambda pid, form: forms.convert(
            {
                "purchase_id": str(pid),
                "order": {"order_reference": forms.text(form, "order_reference"), "expected_version": _version(form)},
            },
            OrderPurchase,
        ),
    ),
    "delivery": steps.Step(
        course_ops.RECORD_DELIVERY,
        lambda pid, form: forms.convert(
            {
                "purchase_id": str(pid),
                "delivery": {
                    "sessions_held": forms.number(form, "sessions_held"),
                    "participants": forms.number(form, "participants"),
                    "delivered_on": forms.text(form, "delivered_on"),
                    "expected_version": _version(form),
                },
            },
            RecordDelivery,
        ),
    ),
    "invoice": steps.Step(
        course_ops.RECORD_INVOICE,
        lambda pid, form: forms.convert(
            {
                "purchase_id": str(pid),
                "invoice": {
                    "invoice_amount_cents": cents(form, "amount"),
                    "invoice_reference": forms.text(form, "invoice_reference"),
                    "expected_version": _version(form),
                },
            },
            RecordInvoice,
        ),
    ),
    "approve_invoice": steps.Step(
        course_ops.APPROVE_INVOICE,
        lambda pid, form: forms.convert(
            {
                "purchase_id": str(pid),
                "approval": {"note": forms.text(form, "note"), "expected_version": _version(form)},
            },
            ApproveInvoice,
        ),
    ),
    "refuse_invoice": steps.Step(
        course_ops.REFUSE_INVOICE,
        lambda pid, form: forms.convert(
            {"purchase_id": str(pid), "reason": _reason(form), "expected_version": _version(form)}, RefuseInvoice
        ),
    ),
    "close": steps.Step(
        course_ops.CLOSE_PURCHASE,
        lambda pid, form: forms.convert({"purchase_id": str(pid), "expected_version": _version(form)}, ClosePurchase),
    ),
}


class PurchaseStepPages(Controller):
    path = "/purchases"

    @post("/", status_code=303)
    async def request_purchase(
        self, request: Request[Any, Any, Any], visitor: NamedDependency[Visitor], rpc: NamedDependency[RpcClient]
    ) -> Response[Any]:
        actor = visitor.signed_in(Role.STAFF)
        form = await request.form()

        def request_of() -> RequestPurchase:
            data = {
                "title": forms.text(form, "title"),
                "purpose": forms.text(form, "purpose"),
                "audience": form.getall("audience", []),
                "estimated_cost_cents": cents(form, "estimated_cost"),
                "budget_year": forms.number(form, "budget_year"),
            }
            return forms.convert(data, RequestPurchase)

        async def again(problem: Explanation) -> Response[str]:
            typed: dict[str, Any] = {
                key: forms.text(form, key) or "" for key in ("title", "purpose", "estimated_cost", "budget_year")
            }
            typed["audience"] = form.getall("audience", [])
            return page(
                visitor,
                "purchase_new.html",
                status=problem.status,
                section="purchases",
                problem=problem,
                values=typed,
                audiences=list(Audience),
            )

        return await steps.submit(
            visitor,
            lambda: rpc.call(course_ops.REQUEST_PURCHASE, actor, request_of()),
            done=lambda made: f"{PREFIX}/purchases/{made.id}?done=requested",
            again=again,
        )

    @get("/new")
    async def new_purchase(self, visitor: NamedDependency[Visitor]) -> Response[str]:
        visitor.signed_in(Role.STAFF)
        values = {"title": "", "purpose": "", "estimated_cost": "", "budget_year": "", "audience": []}
        return page(
            visitor, "purchase_new.html", section="purchases", problem=None, values=values, audiences=list(Audience)
        )

    @get("/{purchase_id:uuid}")
    async def purchase(
        self,
        purchase_id: FromPath[UUID],
        visitor: NamedDependency[Visitor],
        rpc: NamedDependency[RpcClient],
        done: FromQuery[str | None] = None,
    ) -> Response[str]:
        actor = visitor.signed_in(*ROLES)
        notice = f"purchase_done.{done}" if done in (*ALL_STEPS, "requested") else None
        return await self._page(visitor, rpc, actor, purchase_id, notice=notice)

    @post("/{purchase_id:uuid}/{step:str}", status_code=303)
    async def take_step(
        self,
        purchase_id: FromPath[UUID],
        step: FromPath[str],
        request: Request[Any, Any, Any],
        visitor: NamedDependency[Visitor],
        rpc: NamedDependency[RpcClient],
    ) -> Response[Any]:
        actor = visitor.signed_in(*ROLES)
        form = await request.form()
        return await steps.submit(
            visitor,
            lambda: steps.take(rpc, actor, COMMANDS, step, purchase_id, form),
            done=f"{PREFIX}/purchases/{purchase_id}?done={step}",
            again=lambda problem: self._page(visitor, rpc, actor, purchase_id, problem=problem, open_step=step),
        )

    @staticmethod
    async def _page(
        visitor: Visitor,
        rpc: RpcClient,
        actor: Actor,
        purchase_id: UUID,
        *,
        notice: str | None = None,
        problem: Explanation | None = None,
        open_step: str | None = None,
    ) -> Response[str]:
        purchase = await rpc.call(course_ops.GET_PURCHASE, actor, GetPurchase(purchase_id=purchase_id))
        steps = STEPS.get(purchase.status, ())
        if actor.role is not Role.STAFF:  # the library's staff only (budget holders among them approve)
            steps = ()
        offered = paging.Everything[PartnerView]([])
        if "invite" in steps:  # every active partner, over all pages (paging.every)
            active = PartnerStatus.ACTIVE
            offered = await paging.every(
                lambda at, limit: rpc.call(
                    partner_ops.LIST_PARTNERS, actor, ListPartners(status=active, limit=limit, cursor=at)
                )
            )
        partners = offered.items
        parties = await load_names(rpc, actor)
        return page(
            visitor,
            "purchase.html",
            status=problem.status if problem else 200,
            section="purchases",
            p=purchase,
            steps=steps,
            partners=[partner for partner in partners if partner.id not in purchase.invited_partner_ids],
            partner_options=offered,
            partner_names={str(partner.id): partner.name for partner in partners} | parties.partners,
            parties=parties,
            notice=notice,
            problem=problem,
            open_step=open_step,
        )
