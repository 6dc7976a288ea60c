"""Events of the courses service: the offer (courses, sessions, enrolment and waiting lists) and purchasing.

Participants appear by pseudonym only; money is integer euro cents.
Frozen: tests/contracts compares each type's JSON Schema with its snapshot.
"""

from __future__ import annotations

import enum
from datetime import date, datetime
from typing import ClassVar
from uuid import UUID

from shared.contracts import EventData, register
from shared.contracts.vocabulary import SkillArea


class Audience(enum.StrEnum):
    JOB_SEEKERS = "job_seekers"
    SENIORS = "seniors"
    NEWCOMERS = "newcomers"  # newcomers learning Dutch
    PARENTS = "parents"
    YOUTH = "youth"
    GENERAL_PUBLIC = "general_public"
    PARTNER_STAFF = "partner_staff"  # the staff of one partner, named by `audience_partner_id`
    LIBRARY_STAFF = "library_staff"
    VOLUNTEERS = "volunteers"


class CourseFormat(enum.StrEnum):
    IN_PERSON = "in_person"
    ONLINE = "online"
    BLENDED = "blended"
    WALK_IN = "walk_in"  # a drop-in hour, e.g. a digital help desk


class LocationKind(enum.StrEnum):
    LIBRARY_BRANCH = "library_branch"
    PARTNER_PREMISES = "partner_premises"
    ONLINE = "online"
    ELSEWHERE = "elsewhere"


class LibraryContribution(enum.StrEnum):
    """What a library adds to a partner's course that it hosts."""

    LOCATION = "location"
    RECRUITMENT = "recruitment"
    PROMOTION = "promotion"
    VOLUNTEERS = "volunteers"


class EnrolmentStatus(enum.StrEnum):
    CONFIRMED = "confirmed"
    WAITLISTED = "waitlisted"
    CANCELLED = "cancelled"


@register
class CoursePublished(EventData, frozen=True, kw_only=True):
    """A course in the municipality's offer; `volunteers_needed` > 0 opens assignments in the volunteers service."""

    service: ClassVar[str] = "courses"
    type: ClassVar[str] = "course.published"
    course_id: UUID
    municipality: str
    library: str | None  # the library that offers it or hosts it; None for a partner's course held elsewhere
    offered_by_partner_id: UUID | None
    title: str
    skill_area: SkillArea
    volunteers_needed: int = 0
    audience: Audience | None = None
    audience_partner_id: UUID | None = None  # set when the audience is one partner's staff
    level: str | None = None
    format: CourseFormat | None = None
    price_cents: int | None = None
    location_kind: LocationKind | None = None
    place: str | None = None
    library_contributions: list[LibraryContribution] = []


@register
class CourseUpdated(EventData, frozen=True, kw_only=True):
    """A published course changed; the fields are its state after the change."""

    service: ClassVar[str] = "courses"
    type: ClassVar[str] = "course.updated"
    course_id: UUID
    municipality: str
    library: str | None
    offered_by_partner_id: UUID | None
    title: str
    skill_area: SkillArea
    audience: Audience
    audience_partner_id: UUID | None
    volunteers_needed: int
    price_cents: int
    course_version: int


@register
class CourseCancelled(EventData, frozen=True, kw_only=True):
    """Its sessions and their enrolments are cancelled with it (each with its own event)."""

    service: ClassVar[str] = "courses"
    type: ClassVar[str] = "course.cancelled"
    course_id: UUID
    municipality: str
    library: str | None
    offered_by_partner_id: UUID | None
    reason: str


@register
class SessionScheduled(EventData, frozen=True, kw_only=True):
    service: ClassVar[str] = "courses"
    type: ClassVar[str] = "session.scheduled"
    session_id: UUID
    course_id: UUID
    municipality: str
    library: str | None
    offered_by_partner_id: UUID | None
    starts_at: datetime
    ends_at: datetime
    capacity: int
    place: str | None = None


@register
class SessionCancelled(EventData, frozen=True, kw_only=True):
    service: ClassVar[str] = "courses"
    type: ClassVar[str] = "session.cancelled"
    session_id: UUID
    course_id: UUID
    municipality: str
    library: str | None
    offered_by_partner_id: UUID | None
    reason: str


@register
class EnrolmentConfirmed(EventData, frozen=True, kw_only=True):
    """Names the referral it came from, so the referrals service can move that referral to enrolled.

    Published for a place taken at once and for a promotion from the waiting list alike.
    """

    service: ClassVar[str] = "courses"
    type: ClassVar[str] = "enrolment.confirmed"
    enrolment_id: UUID
    course_id: UUID
    session_id: UUID | None
    participant_pseudonym: str
    referral_id: UUID | None
    municipality: str
    library: str | None
    offered_by_partner_id: UUID | None
    promoted_from_waiting_list: bool = False
    course_title: str | None = None
    session_starts_at: datetime | None = None


@register
class EnrolmentWaitlisted(EventData, frozen=True, kw_only=True):
    service: ClassVar[str] = "courses"
    type: ClassVar[str] = "enrolment.waitlisted"
    enrolment_id: UUID
    course_id: UUID
    session_id: UUID
    participant_pseudonym: str
    referral_id: UUID | None
    municipality: str
    library: str | None
    offered_by_partner_id: UUID | None
    waiting_list_position: int


@register
class EnrolmentCancelled(EventData, frozen=True, kw_only=True):
    service: ClassVar[str] = "courses"
    type: ClassVar[str] = "enrolment.cancelled"
    enrolment_id: UUID
    course_id: UUID
    session_id: UUID
    participant_pseudonym: str
    referral_id: UUID | None
    municipality: str
    library: str | None
    offered_by_partner_id: UUID | None
    was: EnrolmentStatus  # confirmed (a place freed) or waitlisted
    reason: str | None = None


@register
class AttendanceRecorded(EventData, frozen=True, kw_only=True):
    service: ClassVar[str] = "courses"
    type: ClassVar[str] = "attendance.recorded"
    enrolment_id: UUID
    course_id: UUID
    session_id: UUID
    participant_pseudonym: str
    referral_id: UUID | None
    municipality: str
    library: str | None
    meeting: int  # 1-based number of the session's meeting
    present: bool


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
