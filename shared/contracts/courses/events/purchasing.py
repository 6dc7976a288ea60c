"""Events of the courses service's purchasing: a library's purchase from request, quotes and approvals to order,
delivery, invoice and close; budget holders and budgets.

Money is integer euro cents. Frozen: tests/contracts compares each type's JSON Schema with its snapshot.
"""

from __future__ import annotations

from datetime import date
from typing import ClassVar
from uuid import UUID

from shared.contracts import EventData, register
from shared.contracts.courses.events.offer import Audience


@register
class PurchaseRequested(EventData, frozen=True, kw_only=True):
    service: ClassVar[str] = "courses"
    type: ClassVar[str] = "purchase.requested"
    purchase_id: UUID
    library: str
    municipality: str
    title: str
    audience: list[Audience]
    estimated_cost_cents: int
    budget_year: int
    # Drafted by the courses service itself from the volunteers service's training needs, for staff to approve.
    generated_from_training_needs: bool = False
    training_need_ids: list[UUID] = []


@register
class PurchaseQuoted(EventData, frozen=True, kw_only=True):
    service: ClassVar[str] = "courses"
    type: ClassVar[str] = "purchase.quoted"
    purchase_id: UUID
    library: str
    municipality: str
    quote_id: UUID
    provider_name: str
    provider_partner_id: UUID | None
    amount_cents: int


@register
class PurchasePartlyApproved(EventData, frozen=True, kw_only=True):
    """The first of two approvals an amount above the library's threshold needs; nothing is committed yet."""

    service: ClassVar[str] = "courses"
    type: ClassVar[str] = "purchase.partly_approved"
    purchase_id: UUID
    library: str
    municipality: str
    quote_id: UUID
    amount_cents: int
    approver: str


@register
class PurchaseApproved(EventData, frozen=True, kw_only=True):
    """Fully approved: the amount is committed on the library's budget of the year."""

    service: ClassVar[str] = "courses"
    type: ClassVar[str] = "purchase.approved"
    purchase_id: UUID
    library: str
    municipality: str
    quote_id: UUID
    amount_cents: int
    budget_year: int
    approvers: list[str]
    provider_partner_id: UUID | None


@register
class PurchaseRejected(EventData, frozen=True, kw_only=True):
    service: ClassVar[str] = "courses"
    type: ClassVar[str] = "purchase.rejected"
    purchase_id: UUID
    library: str
    municipality: str
    reason: str
    rejected_by: str


@register
class PurchaseCancelled(EventData, frozen=True, kw_only=True):
    service: ClassVar[str] = "courses"
    type: ClassVar[str] = "purchase.cancelled"
    purchase_id: UUID
    library: str
    municipality: str
    reason: str
    released_cents: int  # the commitment given back to the budget (0 before approval)


@register
class PurchaseOrdered(EventData, frozen=True, kw_only=True):
    service: ClassVar[str] = "courses"
    type: ClassVar[str] = "purchase.ordered"
    purchase_id: UUID
    library: str
    municipality: str
    order_reference: str
    provider_name: str
    provider_partner_id: UUID | None
    amount_cents: int


@register
class PurchaseDelivered(EventData, frozen=True, kw_only=True):
    """A bought programme was delivered; one for volunteers becomes a training module in the volunteers service."""

    service: ClassVar[str] = "courses"
    type: ClassVar[str] = "purchase.delivered"
    purchase_id: UUID
    library: str
    municipality: str
    title: str
    provider_partner_id: UUID | None
    for_volunteers: bool
    purpose: str | None = None
    audience: list[Audience] = []
    provider_name: str | None = None
    sessions_held: int | None = None
    participants: int | None = None
    delivered_on: date | None = None
    # For a purchase drafted from training needs: the qualifications the bought training gives (renews).
    qualifications: list[str] = []
    training_need_ids: list[UUID] = []


@register
class PurchaseInvoiced(EventData, frozen=True, kw_only=True):
    """The commitment moved to spent on the budget of the year."""

    service: ClassVar[str] = "courses"
    type: ClassVar[str] = "purchase.invoiced"
    purchase_id: UUID
    library: str
    municipality: str
    budget_year: int
    committed_cents: int  # what approval had committed, now released
    invoice_amount_cents: int  # what is now spent
    # For an invoice above the approved amount: the budget holders who approved the difference.
    excess_approvers: list[str] = []


@register
class PurchaseInvoiceHeld(EventData, frozen=True, kw_only=True):
    """An invoice above the approved amount: nothing is spent until budget holders approve the difference."""

    service: ClassVar[str] = "courses"
    type: ClassVar[str] = "purchase.invoice_held"
    purchase_id: UUID
    library: str
    municipality: str
    invoice_id: UUID
    invoice_amount_cents: int
    approved_amount_cents: int
    excess_cents: int
    approvers_needed: int  # 1, or 2 when the invoiced amount is above the library's threshold


@register
class PurchaseExcessPartlyApproved(EventData, frozen=True, kw_only=True):
    """The first of the two approvals the difference of an invoice above the threshold needs."""

    service: ClassVar[str] = "courses"
    type: ClassVar[str] = "purchase.excess_partly_approved"
    purchase_id: UUID
    library: str
    municipality: str
    invoice_id: UUID
    excess_cents: int
    approver: str


@register
class PurchaseInvoiceRefused(EventData, frozen=True, kw_only=True):
    """The difference was not approved: the invoice goes back to the provider; the purchase is delivered again."""

    service: ClassVar[str] = "courses"
    type: ClassVar[str] = "purchase.invoice_refused"
    purchase_id: UUID
    library: str
    municipality: str
    invoice_id: UUID
    invoice_amount_cents: int
    reason: str
    refused_by: str


@register
class PurchaseProviderInvited(EventData, frozen=True, kw_only=True):
    """The library asked a partner for a quote: the partner submits it itself."""

    service: ClassVar[str] = "courses"
    type: ClassVar[str] = "purchase.provider_invited"
    purchase_id: UUID
    library: str
    municipality: str
    partner_id: UUID
    title: str


@register
class BudgetHolderAppointed(EventData, frozen=True, kw_only=True):
    service: ClassVar[str] = "courses"
    type: ClassVar[str] = "budget_holder.appointed"
    library: str
    municipality: str
    subject: str
    appointed_by: str
    appointed_by_role: str  # coordinator, staff (a budget holder) or operator


@register
class BudgetHolderRemoved(EventData, frozen=True, kw_only=True):
    service: ClassVar[str] = "courses"
    type: ClassVar[str] = "budget_holder.removed"
    library: str
    municipality: str
    subject: str
    removed_by: str
    removed_by_role: str


@register
class PurchaseClosed(EventData, frozen=True, kw_only=True):
    service: ClassVar[str] = "courses"
    type: ClassVar[str] = "purchase.closed"
    purchase_id: UUID
    library: str
    municipality: str


@register
class BudgetAllocated(EventData, frozen=True, kw_only=True):
    service: ClassVar[str] = "courses"
    type: ClassVar[str] = "budget.allocated"
    library: str
    municipality: str
    year: int
    amount_cents: int
