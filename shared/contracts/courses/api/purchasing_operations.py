"""The courses service's purchasing operations (`rpc.courses.<name>`): purchases and their steps, a partner's
side of them, budgets, budget holders and the second-approver threshold.

Beside the offer's operations (operations.py) under the same service name; the service binds both
(services/courses/handlers.py), the gateway's purchasing routes call these (gateway/purchases.py).
"""

from __future__ import annotations

from shared.contracts.courses.api.budgets import (
    AppointBudgetHolder,
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
)
from shared.contracts.courses.api.purchasing import (
    AddQuote,
    ApproveInvoice,
    ApprovePurchase,
    CancelPurchase,
    ClosePurchase,
    GetProviderPurchase,
    GetPurchase,
    InvitePartner,
    ListProviderPurchases,
    ListPurchases,
    OrderPurchase,
    ProviderPurchaseView,
    PurchaseView,
    RecordDelivery,
    RecordInvoice,
    RefuseInvoice,
    RejectPurchase,
    RequestPurchase,
    SubmitQuote,
)
from shared.contracts.vocabulary import Page
from shared.operations import Operations
from shared.tenancy import Role

PURCHASING = Operations("courses")

# Who may ask: the library's staff buy, its budget holders among them approve; libraries and the municipality read
# purchasing, an invited partner its own side of it.
BUYERS = (Role.STAFF, Role.OPERATOR)
BUDGET_HOLDERS = (Role.STAFF,)
PURCHASING_READERS = (Role.STAFF, Role.COORDINATOR, Role.OPERATOR)
HOLDER_KEEPERS = (Role.STAFF, Role.COORDINATOR, Role.OPERATOR)
PROVIDERS = (Role.PARTNER,)

# --- purchasing: a purchase and its steps
REQUEST_PURCHASE = PURCHASING.declare(
    "request_purchase",
    RequestPurchase,
    PurchaseView,
    BUYERS,
    "Request a purchase (a programme for staff and volunteers); checked against the budget",
)
ADD_QUOTE = PURCHASING.declare("add_quote", AddQuote, PurchaseView, BUYERS, "Add a provider's quote")
APPROVE_PURCHASE = PURCHASING.declare(
    "approve_purchase",
    ApprovePurchase,
    PurchaseView,
    BUDGET_HOLDERS,
    "Approve a quote (budget holders); above the threshold a second, different holder completes it",
)
REJECT_PURCHASE = PURCHASING.declare(
    "reject_purchase", RejectPurchase, PurchaseView, BUDGET_HOLDERS, "Reject a purchase (budget holders)"
)
CANCEL_PURCHASE = PURCHASING.declare(
    "cancel_purchase", CancelPurchase, PurchaseView, BUYERS, "Cancel before ordering; a commitment is released"
)
ORDER_PURCHASE = PURCHASING.declare("order_purchase", OrderPurchase, PurchaseView, BUYERS, "Order an approved purchase")
RECORD_DELIVERY = PURCHASING.declare(
    "record_delivery", RecordDelivery, PurchaseView, BUYERS, "Record delivery: sessions held, participants"
)
RECORD_INVOICE = PURCHASING.declare(
    "record_invoice", RecordInvoice, PurchaseView, BUYERS, "Record the invoice: the commitment becomes spent"
)
APPROVE_INVOICE = PURCHASING.declare(
    "approve_invoice",
    ApproveInvoice,
    PurchaseView,
    BUDGET_HOLDERS,
    "Approve the difference of an invoice above the approved amount (budget holders; two above the "
    "threshold); the last approval books the invoice",
)
REFUSE_INVOICE = PURCHASING.declare(
    "refuse_invoice",
    RefuseInvoice,
    PurchaseView,
    BUDGET_HOLDERS,
    "Refuse an invoice above the approved amount (budget holders): back to delivered",
)
INVITE_PARTNER = PURCHASING.declare(
    "invite_partner",
    InvitePartner,
    PurchaseView,
    BUYERS,
    "Invite a partner of the municipality to submit its own quote",
)
CLOSE_PURCHASE = PURCHASING.declare("close_purchase", ClosePurchase, PurchaseView, BUYERS, "Close an invoiced purchase")
GET_PURCHASE = PURCHASING.declare(
    "get_purchase", GetPurchase, PurchaseView, PURCHASING_READERS, "One purchase with its quotes, approvals and history"
)
LIST_PURCHASES = PURCHASING.declare(
    "list_purchases",
    ListPurchases,
    Page[PurchaseView],
    PURCHASING_READERS,
    "Purchases the caller may see, newest first",
)

# --- a partner's side: the purchases it was invited to quote for, its own quotes
SUBMIT_QUOTE = PURCHASING.declare(
    "submit_quote",
    SubmitQuote,
    ProviderPurchaseView,
    PROVIDERS,
    "Submit the partner's own quote for a purchase it was invited to",
)
GET_PROVIDER_PURCHASE = PURCHASING.declare(
    "get_provider_purchase",
    GetProviderPurchase,
    ProviderPurchaseView,
    PROVIDERS,
    "One purchase as the invited partner sees it: its quotes, and its order, delivery and invoice",
)
LIST_PROVIDER_PURCHASES = PURCHASING.declare(
    "list_provider_purchases",
    ListProviderPurchases,
    Page[ProviderPurchaseView],
    PROVIDERS,
    "Purchases the partner was invited to quote for, newest first (the partner itself)",
)

# --- budgets, budget holders and the second-approver threshold
SET_BUDGET = PURCHASING.declare(
    "set_budget", SetBudget, BudgetView, BUYERS, "Set a library's budget of a year (its budget holders)"
)
GET_BUDGET = PURCHASING.declare(
    "get_budget", GetBudget, BudgetView, PURCHASING_READERS, "A library's budget of a year (zeros while none is set)"
)
LIST_BUDGETS = PURCHASING.declare(
    "list_budgets",
    ListBudgets,
    Page[BudgetView],
    PURCHASING_READERS,
    "Budgets per library and year: amount, committed, spent, available",
)
APPOINT_BUDGET_HOLDER = PURCHASING.declare(
    "appoint_budget_holder",
    AppointBudgetHolder,
    BudgetHolderView,
    HOLDER_KEEPERS,
    "Appoint a budget holder (the municipality's coordinator or a budget holder of the library)",
)
REMOVE_BUDGET_HOLDER = PURCHASING.declare(
    "remove_budget_holder",
    RemoveBudgetHolder,
    Removed,
    HOLDER_KEEPERS,
    "Remove a budget holder (the municipality's coordinator or a budget holder)",
)
LIST_BUDGET_HOLDERS = PURCHASING.declare(
    "list_budget_holders",
    ListBudgetHolders,
    Page[BudgetHolderView],
    PURCHASING_READERS,
    "Who may approve the library's purchases",
)
LIST_BUDGET_HOLDER_CHANGES = PURCHASING.declare(
    "list_budget_holder_changes",
    ListBudgetHolderChanges,
    Page[BudgetHolderChange],
    PURCHASING_READERS,
    "Who appointed and removed the library's budget holders, oldest first",
)
SET_PURCHASING_POLICY = PURCHASING.declare(
    "set_purchasing_policy",
    SetPurchasingPolicy,
    PurchasingPolicyView,
    BUYERS,
    "Set the second-approver threshold (the library's budget holders)",
)
GET_PURCHASING_POLICY = PURCHASING.declare(
    "get_purchasing_policy",
    GetPurchasingPolicy,
    PurchasingPolicyView,
    PURCHASING_READERS,
    "Above which amount a purchase needs a second approver (a default until set)",
)
