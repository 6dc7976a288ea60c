"""Routes for purchasing: purchases and their steps, budgets per library and year, budget holders, threshold."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from litestar import Controller, delete, get, post, put
from litestar.di import NamedDependency
from litestar.params import FromPath, FromQuery, JSONBody, Parameter

from gateway.dependencies import CursorQuery, LibraryPath, LibraryQuery, LimitQuery, with_expected_version
from shared.contracts.courses.api.budgets import (
    AppointBudgetHolder,
    BudgetAmount,
    BudgetHolder,
    BudgetHolderChange,
    BudgetHolderView,
    BudgetView,
    GetBudget,
    GetPurchasingPolicy,
    ListBudgetHolderChanges,
    ListBudgetHolders,
    ListBudgets,
    PurchasingPolicyView,
    RemoveBudgetHolder,
    Removed,
    SetBudget,
    SetPurchasingPolicy,
    Threshold,
)
from shared.contracts.courses.api.courses import ReasonedStep, VersionedStep
from shared.contracts.courses.api.purchasing import (
    AddQuote,
    Approval,
    ApproveInvoice,
    ApprovePurchase,
    CancelPurchase,
    ClosePurchase,
    Delivery,
    GetProviderPurchase,
    GetPurchase,
    Invitation,
    InvitePartner,
    Invoice,
    InvoiceApproval,
    ListProviderPurchases,
    ListPurchases,
    Order,
    OrderPurchase,
    ProviderPurchaseView,
    ProviderQuote,
    PurchaseStatus,
    PurchaseView,
    Quote,
    RecordDelivery,
    RecordInvoice,
    RefuseInvoice,
    RejectPurchase,
    RequestPurchase,
    SubmitQuote,
)
from shared.contracts.vocabulary import DEFAULT_LIMIT
from shared.pagination import Page
from shared.rpc import RpcClient
from shared.tenancy import Actor

YearQuery = Annotated[int, Parameter(ge=2000, le=2100)]


class PurchaseController(Controller):
    path = "/api/v1/purchases"
    tags = ["purchasing"]

    @post("/", summary="Request a purchase (a programme for staff and volunteers); checked against the budget")
    async def request(
        self, data: JSONBody[RequestPurchase], actor: NamedDependency[Actor], rpc: NamedDependency[RpcClient]
    ) -> PurchaseView:
        return await rpc.call("courses", "request_purchase", actor, data, PurchaseView)

    @get("/", summary="Purchases the caller may see, newest first")
    async def list_purchases(
        self,
        actor: NamedDependency[Actor],
        rpc: NamedDependency[RpcClient],
        library: LibraryQuery = None,
        status: FromQuery[PurchaseStatus | None] = None,
        budget_year: FromQuery[YearQuery | None] = None,
        cursor: CursorQuery = None,
        limit: LimitQuery = DEFAULT_LIMIT,
    ) -> Page[PurchaseView]:
        query = ListPurchases(library=library, status=status, budget_year=budget_year, cursor=cursor, limit=limit)
        return await rpc.call("courses", "list_purchases", actor, query, Page[PurchaseView])

    @get("/{purchase_id:uuid}", summary="One purchase with its quotes, approvals and history")
    async def get_one(
        self, purchase_id: FromPath[UUID], actor: NamedDependency[Actor], rpc: NamedDependency[RpcClient]
    ) -> PurchaseView:
        return await rpc.call("courses", "get_purchase", actor, GetPurchase(purchase_id=purchase_id), PurchaseView)

    @post("/{purchase_id:uuid}/quotes", summary="Add a provider's quote")
    async def add_quote(
        self,
        purchase_id: FromPath[UUID],
        data: JSONBody[Quote],
        actor: NamedDependency[Actor],
        rpc: NamedDependency[RpcClient],
        if_match_version: NamedDependency[int | None],
    ) -> PurchaseView:
        command = AddQuote(purchase_id=purchase_id, quote=with_expected_version(data, if_match_version))
        return await rpc.call("courses", "add_quote", actor, command, PurchaseView)

    @post(
        "/{purchase_id:uuid}/approve",
        status_code=200,
        summary="Approve a quote (budget holders); above the threshold a second, different holder completes it",
    )
    async def approve(
        self,
        purchase_id: FromPath[UUID],
        data: JSONBody[Approval],
        actor: NamedDependency[Actor],
        rpc: NamedDependency[RpcClient],
        if_match_version: NamedDependency[int | None],
    ) -> PurchaseView:
        command = ApprovePurchase(purchase_id=purchase_id, approval=with_expected_version(data, if_match_version))
        return await rpc.call("courses", "approve_purchase", actor, command, PurchaseView)

    @post("/{purchase_id:uuid}/reject", status_code=200, summary="Reject a purchase (budget holders)")
    async def reject(
        self,
        purchase_id: FromPath[UUID],
        data: JSONBody[ReasonedStep],
        actor: NamedDependency[Actor],
        rpc: NamedDependency[RpcClient],
        if_match_version: NamedDependency[int | None],
    ) -> PurchaseView:
        step = with_expected_version(data, if_match_version)
        command = RejectPurchase(purchase_id=purchase_id, reason=step.reason, expected_version=step.expected_version)
        return await rpc.call("courses", "reject_purchase", actor, command, PurchaseView)

    @post("/{purchase_id:uuid}/cancel", status_code=200, summary="Cancel before ordering; a commitment is released")
    async def cancel(
        self,
        purchase_id: FromPath[UUID],
        data: JSONBody[ReasonedStep],
        actor: NamedDependency[Actor],
        rpc: NamedDependency[RpcClient],
        if_match_version: NamedDependency[int | None],
    ) -> PurchaseView:
        step = with_expected_version(data, if_match_version)
        command = CancelPurchase(purchase_id=purchase_id, reason=step.reason, expected_version=step.expected_version)
        return await rpc.call("courses", "cancel_purchase", actor, command, PurchaseView)

    @post("/{purchase_id:uuid}/order", status_code=200, summary="Order an approved purchase")
    async def order(
        self,
        purchase_id: FromPath[UUID],
        data: JSONBody[Order],
        actor: NamedDependency[Actor],
        rpc: NamedDependency[RpcClient],
        if_match_version: NamedDependency[int | None],
    ) -> PurchaseView:
        command = OrderPurchase(purchase_id=purchase_id, order=with_expected_version(data, if_match_version))
        return await rpc.call("courses", "order_purchase", actor, command, PurchaseView)

    @post("/{purchase_id:uuid}/delivery", status_code=200, summary="Record delivery: sessions held, participants")
    async def record_delivery(
        self,
        purchase_id: FromPath[UUID],
        data: JSONBody[Delivery],
        actor: NamedDependency[Actor],
        rpc: NamedDependency[RpcClient],
        if_match_version: NamedDependency[int | None],
    ) -> PurchaseView:
        command = RecordDelivery(purchase_id=purchase_id, delivery=with_expected_version(data, if_match_version))
        return await rpc.call("courses", "record_delivery", actor, command, PurchaseView)

    @post("/{purchase_id:uuid}/invoice", status_code=200, summary="Record the invoice: the commitment becomes spent")
    async def record_invoice(
        self,
        purchase_id: FromPath[UUID],
        data: JSONBody[Invoice],
        actor: NamedDependency[Actor],
        rpc: NamedDependency[RpcClient],
        if_match_version: NamedDependency[int | None],
    ) -> PurchaseView:
        command = RecordInvoice(purchase_id=purchase_id, invoice=with_expected_version(data, if_match_version))
        return await rpc.call("courses", "record_invoice", actor, command, PurchaseView)

    @post(
        "/{purchase_id:uuid}/invoice/approve",
        status_code=200,
        summary="Approve the difference of an invoice above the approved amount (budget holders; two above the "
        "threshold); the last approval books the invoice",
    )
    async def approve_invoice(
        self,
        purchase_id: FromPath[UUID],
        data: JSONBody[InvoiceApproval],
        actor: NamedDependency[Actor],
        rpc: NamedDependency[RpcClient],
        if_match_version: NamedDependency[int | None],
    ) -> PurchaseView:
        command = ApproveInvoice(purchase_id=purchase_id, approval=with_expected_version(data, if_match_version))
        return await rpc.call("courses", "approve_invoice", actor, command, PurchaseView)

    @post(
        "/{purchase_id:uuid}/invoice/refuse",
        status_code=200,
        summary="Refuse an invoice above the approved amount (budget holders): back to delivered",
    )
    async def refuse_invoice(
        self,
        purchase_id: FromPath[UUID],
        data: JSONBody[ReasonedStep],
        actor: NamedDependency[Actor],
        rpc: NamedDependency[RpcClient],
        if_match_version: NamedDependency[int | None],
    ) -> PurchaseView:
        step = with_expected_version(data, if_match_version)
        command = RefuseInvoice(purchase_id=purchase_id, reason=step.reason, expected_version=step.expected_version)
        return await rpc.call("courses", "refuse_invoice", actor, command, PurchaseView)

    @post(
        "/{purchase_id:uuid}/invitations",
        status_code=200,
        summary="Invite a partner of the municipality to submit its own quote",
    )
    async def invite(
        self,
        purchase_id: FromPath[UUID],
        data: JSONBody[Invitation],
        actor: NamedDependency[Actor],
        rpc: NamedDependency[RpcClient],
        if_match_version: NamedDependency[int | None],
    ) -> PurchaseView:
        command = InvitePartner(purchase_id=purchase_id, invitation=with_expected_version(data, if_match_version))
        return await rpc.call("courses", "invite_partner", actor, command, PurchaseView)

    @post("/{purchase_id:uuid}/close", status_code=200, summary="Close an invoiced purchase")
    async def close(
        self,
        purchase_id: FromPath[UUID],
        actor: NamedDependency[Actor],
        rpc: NamedDependency[RpcClient],
        if_match_version: NamedDependency[int | None],
        data: JSONBody[VersionedStep | None] = None,
    ) -> PurchaseView:
        step = with_expected_version(data or VersionedStep(), if_match_version)
        command = ClosePurchase(purchase_id=purchase_id, expected_version=step.expected_version)
        return await rpc.call("courses", "close_purchase", actor, command, PurchaseView)


class BudgetController(Controller):
    path = "/api/v1/budgets"
    tags = ["purchasing"]

    @get("/", summary="Budgets per library and year: amount, committed, spent, available")
    async def list_budgets(
        self,
        actor: NamedDependency[Actor],
        rpc: NamedDependency[RpcClient],
        library: LibraryQuery = None,
        year: FromQuery[YearQuery | None] = None,
        cursor: CursorQuery = None,
        limit: LimitQuery = DEFAULT_LIMIT,
    ) -> Page[BudgetView]:
        query = ListBudgets(library=library, year=year, cursor=cursor, limit=limit)
        return await rpc.call("courses", "list_budgets", actor, query, Page[BudgetView])

    @get("/{library:str}/{year:int}", summary="A library's budget of a year (zeros while none is set)")
    async def get_one(
        self,
        library: LibraryPath,
        year: FromPath[YearQuery],
        actor: NamedDependency[Actor],
        rpc: NamedDependency[RpcClient],
    ) -> BudgetView:
        return await rpc.call("courses", "get_budget", actor, GetBudget(library=library, year=year), BudgetView)

    @put("/{library:str}/{year:int}", summary="Set a library's budget of a year (its budget holders)")
    async def set_budget(
        self,
        library: LibraryPath,
        year: FromPath[YearQuery],
        data: JSONBody[BudgetAmount],
        actor: NamedDependency[Actor],
        rpc: NamedDependency[RpcClient],
        if_match_version: NamedDependency[int | None],
    ) -> BudgetView:
        command = SetBudget(library=library, year=year, budget=with_expected_version(data, if_match_version))
        return await rpc.call("courses", "set_budget", actor, command, BudgetView)


class BudgetHolderController(Controller):
    path = "/api/v1/budget-holders"
    tags = ["purchasing"]

    @get("/{library:str}", summary="Who may approve the library's purchases")
    async def list_holders(
        self,
        library: LibraryPath,
        actor: NamedDependency[Actor],
        rpc: NamedDependency[RpcClient],
        cursor: CursorQuery = None,
        limit: LimitQuery = DEFAULT_LIMIT,
    ) -> Page[BudgetHolderView]:
        query = ListBudgetHolders(library=library, cursor=cursor, limit=limit)
        return await rpc.call("courses", "list_budget_holders", actor, query, Page[BudgetHolderView])

    @get("/{library:str}/history", summary="Who appointed and removed the library's budget holders, oldest first")
    async def history(
        self,
        library: LibraryPath,
        actor: NamedDependency[Actor],
        rpc: NamedDependency[RpcClient],
        cursor: CursorQuery = None,
        limit: LimitQuery = DEFAULT_LIMIT,
    ) -> Page[BudgetHolderChange]:
        query = ListBudgetHolderChanges(library=library, cursor=cursor, limit=limit)
        return await rpc.call("courses", "list_budget_holder_changes", actor, query, Page[BudgetHolderChange])

    @post(
        "/{library:str}",
        summary="Appoint a budget holder (the municipality's coordinator or a budget holder of the library)",
    )
    async def appoint(
        self,
        library: LibraryPath,
        data: JSONBody[BudgetHolder],
        actor: NamedDependency[Actor],
        rpc: NamedDependency[RpcClient],
    ) -> BudgetHolderView:
        command = AppointBudgetHolder(library=library, holder=data)
        return await rpc.call("courses", "appoint_budget_holder", actor, command, BudgetHolderView)

    @delete(
        "/{library:str}/{subject:str}",
        status_code=200,
        summary="Remove a budget holder (the municipality's coordinator or a budget holder)",
    )
    async def remove(
        self,
        library: LibraryPath,
        subject: FromPath[str],
        actor: NamedDependency[Actor],
        rpc: NamedDependency[RpcClient],
    ) -> Removed:
        command = RemoveBudgetHolder(library=library, subject=subject)
        return await rpc.call("courses", "remove_budget_holder", actor, command, Removed)


class PurchasingPolicyController(Controller):
    path = "/api/v1/purchasing-policies"
    tags = ["purchasing"]

    @get("/{library:str}", summary="Above which amount a purchase needs a second approver (a default until set)")
    async def get_one(
        self, library: LibraryPath, actor: NamedDependency[Actor], rpc: NamedDependency[RpcClient]
    ) -> PurchasingPolicyView:
        query = GetPurchasingPolicy(library=library)
        return await rpc.call("courses", "get_purchasing_policy", actor, query, PurchasingPolicyView)

    @put("/{library:str}", summary="Set the second-approver threshold (the library's budget holders)")
    async def set_policy(
        self,
        library: LibraryPath,
        data: JSONBody[Threshold],
        actor: NamedDependency[Actor],
        rpc: NamedDependency[RpcClient],
        if_match_version: NamedDependency[int | None],
    ) -> PurchasingPolicyView:
        command = SetPurchasingPolicy(library=library, threshold=with_expected_version(data, if_match_version))
        return await rpc.call("courses", "set_purchasing_policy", actor, command, PurchasingPolicyView)


class ProviderPurchaseController(Controller):
    """A partner's side of purchasing: the purchases it was invited to quote for, and its own quotes."""

    path = "/api/v1/partners/{partner_id:uuid}/purchases"
    tags = ["purchasing"]

    @get("/", summary="Purchases the partner was invited to quote for, newest first (the partner itself)")
    async def list_purchases(
        self,
        partner_id: FromPath[UUID],
        actor: NamedDependency[Actor],
        rpc: NamedDependency[RpcClient],
        cursor: CursorQuery = None,
        limit: LimitQuery = DEFAULT_LIMIT,
    ) -> Page[ProviderPurchaseView]:
        query = ListProviderPurchases(partner_id=partner_id, cursor=cursor, limit=limit)
        return await rpc.call("courses", "list_provider_purchases", actor, query, Page[ProviderPurchaseView])

    @get(
        "/{purchase_id:uuid}",
        summary="One purchase as the invited partner sees it: its quotes, and its order, delivery and invoice",
    )
    async def get_one(
        self,
        partner_id: FromPath[UUID],
        purchase_id: FromPath[UUID],
        actor: NamedDependency[Actor],
        rpc: NamedDependency[RpcClient],
    ) -> ProviderPurchaseView:
        query = GetProviderPurchase(partner_id=partner_id, purchase_id=purchase_id)
        return await rpc.call("courses", "get_provider_purchase", actor, query, ProviderPurchaseView)

    @post("/{purchase_id:uuid}/quotes", summary="Submit the partner's own quote for a purchase it was invited to")
    async def submit_quote(
        self,
        partner_id: FromPath[UUID],
        purchase_id: FromPath[UUID],
        data: JSONBody[ProviderQuote],
        actor: NamedDependency[Actor],
        rpc: NamedDependency[RpcClient],
    ) -> ProviderPurchaseView:
        command = SubmitQuote(partner_id=partner_id, purchase_id=purchase_id, quote=data)
        return await rpc.call("courses", "submit_quote", actor, command, ProviderPurchaseView)


PURCHASING_CONTROLLERS = [
    PurchaseController,
    BudgetController,
    BudgetHolderController,
    PurchasingPolicyController,
    ProviderPurchaseController,
]
