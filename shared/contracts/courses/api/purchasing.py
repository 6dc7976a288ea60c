"""Requests and views of purchasing: a library's request for a programme, quotes, approvals, the order,
delivery and invoice. Money is integer euro cents.
"""

from __future__ import annotations

import enum
from datetime import date, datetime
from typing import Annotated
from uuid import UUID

import msgspec

from shared.contracts.courses.events import Audience
from shared.contracts.vocabulary import (
    DEFAULT_LIMIT,
    Cents,
    Count,
    Cursor,
    ExpectedVersion,
    Limit,
    Name,
    Note,
    Reason,
    Short,
    Slug,
    Text,
    Year,
)


class PurchaseStatus(enum.StrEnum):
    REQUESTED = "requested"
    QUOTED = "quoted"
    AWAITING_SECOND_APPROVAL = "awaiting_second_approval"
    APPROVED = "approved"
    REJECTED = "rejected"
    CANCELLED = "cancelled"
    ORDERED = "ordered"
    DELIVERED = "delivered"
    INVOICE_AWAITING_APPROVAL = "invoice_awaiting_approval"  # an invoice above the approved amount
    INVOICED = "invoiced"
    CLOSED = "closed"


class RequestPurchase(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """A library buys or commissions a programme for its staff and volunteers."""

    title: Name
    purpose: Annotated[str, msgspec.Meta(min_length=1, max_length=2000)]
    audience: Annotated[list[Audience], msgspec.Meta(min_length=1)]
    estimated_cost_cents: Cents
    library: Slug | None = None  # staff: their own library
    budget_year: Year | None = None  # default: the current year


class Quote(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    provider_name: Name
    amount_cents: Cents
    provider_partner_id: UUID | None = None  # when the provider is a known partner
    description: Text = ""
    valid_until: date | None = None
    expected_version: ExpectedVersion | None = None


class AddQuote(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    purchase_id: UUID
    quote: Quote


class Approval(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    quote_id: UUID | None = None  # required for the first approval; a second approval approves the same quote
    note: Note | None = None
    expected_version: ExpectedVersion | None = None


class ApprovePurchase(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    purchase_id: UUID
    approval: Approval


class RejectPurchase(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    purchase_id: UUID
    reason: Reason
    expected_version: ExpectedVersion | None = None


class CancelPurchase(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    purchase_id: UUID
    reason: Reason
    expected_version: ExpectedVersion | None = None


class Order(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    order_reference: Short
    expected_version: ExpectedVersion | None = None


class OrderPurchase(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    purchase_id: UUID
    order: Order


class Delivery(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    sessions_held: Count
    participants: Count
    delivered_on: date
    expected_version: ExpectedVersion | None = None


class RecordDelivery(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    purchase_id: UUID
    delivery: Delivery


class Invoice(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    invoice_amount_cents: Cents
    invoice_reference: Short
    expected_version: ExpectedVersion | None = None


class RecordInvoice(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    purchase_id: UUID
    invoice: Invoice


class InvoiceApproval(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    note: Note | None = None
    expected_version: ExpectedVersion | None = None


class ApproveInvoice(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """A budget holder approves the difference of an invoice above the approved amount."""

    purchase_id: UUID
    approval: InvoiceApproval


class RefuseInvoice(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    purchase_id: UUID
    reason: Reason
    expected_version: ExpectedVersion | None = None


class Invitation(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    partner_id: UUID
    expected_version: ExpectedVersion | None = None


class InvitePartner(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """Ask a partner of the municipality (a course provider, a trainer) to submit its own quote."""

    purchase_id: UUID
    invitation: Invitation


class ClosePurchase(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    purchase_id: UUID
    expected_version: ExpectedVersion | None = None


class GetPurchase(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    purchase_id: UUID


class ListPurchases(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """Newest first."""

    library: Slug | None = None
    status: PurchaseStatus | None = None
    budget_year: Year | None = None
    cursor: Cursor | None = None
    limit: Limit = DEFAULT_LIMIT


class ProviderQuote(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """A partner's own quote: the provider is the partner itself, under its registered name."""

    amount_cents: Cents
    description: Text = ""
    valid_until: date | None = None


class SubmitQuote(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    partner_id: UUID
    purchase_id: UUID
    quote: ProviderQuote


class GetProviderPurchase(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    partner_id: UUID
    purchase_id: UUID


class ListProviderPurchases(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """The purchases a partner was invited to quote for, newest first."""

    partner_id: UUID
    cursor: Cursor | None = None
    limit: Limit = DEFAULT_LIMIT


class ProviderStanding(enum.StrEnum):
    """Where a partner stands with a purchase it was invited to."""

    INVITED = "invited"  # asked for a quote, none submitted yet
    QUOTED = "quoted"  # its quote is submitted; no quote is approved yet
    CHOSEN = "chosen"  # its quote was approved: the order, delivery and invoice are its own
    NOT_CHOSEN = "not_chosen"  # another quote was approved, or the purchase was rejected or cancelled


class ProviderPurchaseView(msgspec.Struct, frozen=True, kw_only=True):
    """A purchase as the partner invited to quote sees it: the request, its own quotes, and once its quote is
    chosen the order, delivery and invoice. Not the estimate, other quotes, approvals or the budget."""

    id: UUID
    library: str
    municipality: str
    title: str
    purpose: str
    audience: list[Audience]
    standing: ProviderStanding
    invited_at: datetime
    quotes: list[QuoteView]  # the partner's own
    status: PurchaseStatus | None  # the purchase's status once the partner's quote is chosen
    approved_amount_cents: int | None
    order_reference: str | None
    ordered_at: datetime | None
    delivered_on: date | None
    sessions_held: int | None
    participants: int | None
    invoice_amount_cents: int | None
    invoice_reference: str | None
    version: int


class QuoteView(msgspec.Struct, frozen=True, kw_only=True):
    id: UUID
    provider_name: str
    provider_partner_id: UUID | None
    amount_cents: int
    description: str
    valid_until: date | None
    added_at: datetime


class ApprovalView(msgspec.Struct, frozen=True, kw_only=True):
    approver: str
    quote_id: UUID
    amount_cents: int
    approved_at: datetime
    note: str | None


class InvoiceView(msgspec.Struct, frozen=True, kw_only=True):
    """An invoice above the approved amount: its difference waits for, got or was refused approval."""

    id: UUID
    amount_cents: int
    reference: str
    excess_cents: int
    approvers_needed: int
    approvers: list[str]
    status: str  # awaiting_approval | approved | refused
    recorded_by: str
    recorded_at: datetime
    decided_at: datetime | None
    decision_note: str | None


class PurchaseStepView(msgspec.Struct, frozen=True, kw_only=True):
    status: PurchaseStatus
    at: datetime
    actor: str
    note: str | None


class PurchaseView(msgspec.Struct, frozen=True, kw_only=True):
    id: UUID
    library: str
    municipality: str
    title: str
    purpose: str
    audience: list[Audience]
    for_volunteers: bool
    estimated_cost_cents: int
    budget_year: int
    status: PurchaseStatus
    quotes: list[QuoteView]
    chosen_quote_id: UUID | None
    approvals: list[ApprovalView]
    approved_amount_cents: int | None
    order_reference: str | None
    sessions_held: int | None
    participants: int | None
    delivered_on: date | None
    invoice_amount_cents: int | None
    invoice_reference: str | None
    requested_by: str
    requested_at: datetime
    history: list[PurchaseStepView]
    version: int
    # A draft the courses service made from the volunteers service's training needs (requested by
    # `system:training-needs`): the needs it answers, and the budget check with its numbers, for the approver.
    generated_from_training_needs: bool = False
    training_needs: list[PurchaseTrainingNeed] = []
    budget_check: BudgetCheck | None = None
    ordered_at: datetime | None = None
    invited_partner_ids: list[UUID] = []  # partners asked to submit their own quote
    invoices: list[InvoiceView] = []  # invoices above the approved amount, oldest first


class PurchaseTrainingNeed(msgspec.Struct, frozen=True, kw_only=True):
    need_id: UUID
    qualification: str
    volunteers: int
    needed_by: date
    expiring: int
    refused: int
    met: bool  # nobody needs it any more (renewed, or left)


class BudgetCheck(msgspec.Struct, frozen=True, kw_only=True):
    """The estimate against the budget of its year, as it stands now; a draft that does not fit is still made."""

    year: int
    budget_cents: int
    committed_cents: int
    spent_cents: int
    available_cents: int
    requested_cents: int
    fits: bool
    short_cents: int  # how much the budget lacks for it (0 when it fits)
