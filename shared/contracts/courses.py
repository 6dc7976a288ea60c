"""Contracts of the courses service: its events, and the requests it answers over NATS.

The offer (courses, sessions, enrolment and waiting lists) and purchasing (requests, quotes,
approvals, orders, budgets). Participants appear by pseudonym only; money is integer euro cents.
"""

from __future__ import annotations

import enum
from datetime import date, datetime
from typing import Annotated, ClassVar
from uuid import UUID

import msgspec

from shared.contracts import EventData, register
from shared.contracts.partners import Name, Slug
from shared.contracts.referrals import AwareDatetime, Short, SkillArea
from shared.pagination import DEFAULT_LIMIT, Limit


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


class CourseStatus(enum.StrEnum):
    DRAFT = "draft"
    PUBLISHED = "published"
    CANCELLED = "cancelled"


class SessionStatus(enum.StrEnum):
    SCHEDULED = "scheduled"
    CANCELLED = "cancelled"


class EnrolmentStatus(enum.StrEnum):
    CONFIRMED = "confirmed"
    WAITLISTED = "waitlisted"
    CANCELLED = "cancelled"


class PurchaseStatus(enum.StrEnum):
    REQUESTED = "requested"
    QUOTED = "quoted"
    AWAITING_SECOND_APPROVAL = "awaiting_second_approval"
    APPROVED = "approved"
    REJECTED = "rejected"
    CANCELLED = "cancelled"
    ORDERED = "ordered"
    DELIVERED = "delivered"
    INVOICED = "invoiced"
    CLOSED = "closed"


Cents = Annotated[int, msgspec.Meta(ge=0, le=100_000_000_000, description="euro cents")]
Year = Annotated[int, msgspec.Meta(ge=2000, le=2100)]
Count = Annotated[int, msgspec.Meta(ge=0, le=100_000)]
Text = Annotated[str, msgspec.Meta(max_length=4000)]
Reason = Annotated[str, msgspec.Meta(min_length=1, max_length=1000)]
Pseudonym = Annotated[
    str,
    msgspec.Meta(
        pattern=r"^[A-Za-z0-9][A-Za-z0-9_-]{2,63}$", description="a participant's pseudonym, e.g. P-ABCDEF2345"
    ),
]
Version = Annotated[int, msgspec.Meta(ge=1)]

# --- events: the offer ----------------------------------------------------------------------------


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


# --- events: purchasing ---------------------------------------------------------------------------


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


# --- requests: courses (subjects `rpc.courses.<operation>`) ---------------------------------------


class Location(msgspec.Struct, frozen=True, kw_only=True):
    """Where a course is held: a library branch, the partner's premises, online, or an address elsewhere."""

    kind: LocationKind
    library: Slug | None = None  # for a library branch: the library (defaults to the course's library)
    branch: Name | None = None  # e.g. "Vestiging Overvecht"
    partner_id: UUID | None = None  # for the partner's premises
    address: Short | None = None
    place: Short | None = None  # the town or neighbourhood people search by


class CourseDetails(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    title: Name
    skill_area: SkillArea
    audience: Audience
    format: CourseFormat
    location: Location
    description: Text = ""
    audience_partner_id: UUID | None = None  # required when the audience is partner_staff
    level: Annotated[str, msgspec.Meta(max_length=40)] | None = None  # e.g. "A2", "1F", "beginners"
    price_cents: Cents = 0
    volunteers_needed: Count = 0  # volunteers wanted as guides
    library_contributions: list[LibraryContribution] = []  # a host library's part in a partner's course


class CreateCourse(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """A new course, as a draft. Staff create their library's courses (or a partner's course it hosts);
    a partner creates its own (naming a host library where it is held in one)."""

    details: CourseDetails
    library: Slug | None = None  # the offering or hosting library; staff: their own
    offered_by_partner_id: UUID | None = None  # a partner's course; partners: themselves


class CourseChanges(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """Fields left out (null) stay as they are."""

    expected_version: Version | None = None
    title: Name | None = None
    description: Text | None = None
    skill_area: SkillArea | None = None
    audience: Audience | None = None
    audience_partner_id: UUID | None = None
    level: Annotated[str, msgspec.Meta(max_length=40)] | None = None
    format: CourseFormat | None = None
    price_cents: Cents | None = None
    location: Location | None = None
    volunteers_needed: Count | None = None
    library_contributions: list[LibraryContribution] | None = None


class UpdateCourse(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    course_id: UUID
    changes: CourseChanges


class VersionedStep(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """The body of a step that needs nothing but the version the caller saw."""

    expected_version: Version | None = None


class ReasonedStep(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    reason: Reason
    expected_version: Version | None = None


class PublishCourse(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    course_id: UUID
    expected_version: Version | None = None


class CancelCourse(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    course_id: UUID
    reason: Reason
    expected_version: Version | None = None


class GetCourse(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    course_id: UUID


class ListCourses(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """The municipality's offer: every library's and partner's course, by title."""

    skill_area: SkillArea | None = None
    audience: Audience | None = None
    audience_partner_id: UUID | None = None
    library: Slug | None = None  # offered or hosted by this library
    offered_by_partner_id: UUID | None = None
    place: Annotated[str, msgspec.Meta(min_length=1, max_length=200)] | None = None  # part of place, branch, address
    starts_from: date | None = None  # has a session that starts on or after this day
    starts_until: date | None = None  # has a session that starts on or before this day
    status: CourseStatus | None = None  # default: what the caller may see
    municipality: Slug | None = None  # operators only; everyone else sees their own municipality
    cursor: str | None = None
    limit: Limit = DEFAULT_LIMIT


class CourseView(msgspec.Struct, frozen=True, kw_only=True):
    id: UUID
    municipality: str
    library: str | None
    offered_by_partner_id: UUID | None
    offered_by: str  # the name of the library or partner that offers it
    title: str
    description: str
    skill_area: SkillArea
    audience: Audience
    audience_partner_id: UUID | None
    level: str | None
    format: CourseFormat
    price_cents: int
    location: Location
    volunteers_needed: int
    library_contributions: list[LibraryContribution]
    status: CourseStatus
    version: int
    created_at: datetime
    published_at: datetime | None
    next_session_starts_at: datetime | None = None


# --- requests: sessions ----------------------------------------------------------------------------


class Meeting(msgspec.Struct, frozen=True, kw_only=True):
    starts_at: AwareDatetime
    ends_at: AwareDatetime


class SessionDetails(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    meetings: Annotated[list[Meeting], msgspec.Meta(min_length=1, max_length=100)]
    capacity: Annotated[int, msgspec.Meta(ge=1, le=10_000)]
    place: Short | None = None  # room or address; the course's location where absent


class ScheduleSession(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    course_id: UUID
    details: SessionDetails


class SessionChanges(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """Fields left out (null) stay as they are. More capacity moves the waiting list up at once."""

    expected_version: Version | None = None
    meetings: Annotated[list[Meeting], msgspec.Meta(min_length=1, max_length=100)] | None = None
    capacity: Annotated[int, msgspec.Meta(ge=1, le=10_000)] | None = None
    place: Short | None = None


class UpdateSession(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    session_id: UUID
    changes: SessionChanges


class CancelSession(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    session_id: UUID
    reason: Reason
    expected_version: Version | None = None


class GetSession(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    session_id: UUID


class ListSessions(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """Sessions by start time: one course's, or the municipality's calendar."""

    course_id: UUID | None = None
    library: Slug | None = None
    starts_from: date | None = None
    starts_until: date | None = None
    with_free_places: bool = False
    status: SessionStatus | None = None
    cursor: str | None = None
    limit: Limit = DEFAULT_LIMIT


class SessionView(msgspec.Struct, frozen=True, kw_only=True):
    id: UUID
    course_id: UUID
    course_title: str
    municipality: str
    library: str | None
    offered_by_partner_id: UUID | None
    meetings: list[Meeting]
    starts_at: datetime
    ends_at: datetime
    place: str | None
    capacity: int
    confirmed: int
    waitlisted: int
    places_free: int
    status: SessionStatus
    version: int


# --- requests: enrolments --------------------------------------------------------------------------


class Enrol(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """From a referral (its pseudonym is used), or directly by pseudonym (one is made up when none is given)."""

    referral_id: UUID | None = None
    participant_pseudonym: Pseudonym | None = None


class EnrolParticipant(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    session_id: UUID
    enrolment: Enrol


class Cancellation(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    reason: Reason | None = None
    expected_version: Version | None = None


class CancelEnrolment(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    enrolment_id: UUID
    cancellation: Cancellation


class Attendance(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    meeting: Annotated[int, msgspec.Meta(ge=1, le=100)]  # 1-based number of the session's meeting
    present: bool
    expected_version: Version | None = None


class RecordAttendance(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    enrolment_id: UUID
    attendance: Attendance


class GetEnrolment(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    enrolment_id: UUID


class ListEnrolments(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """In the order they came in: so a session's waiting list reads top to bottom."""

    session_id: UUID | None = None
    course_id: UUID | None = None
    status: EnrolmentStatus | None = None
    referral_id: UUID | None = None
    participant_pseudonym: Pseudonym | None = None
    cursor: str | None = None
    limit: Limit = DEFAULT_LIMIT


class AttendanceMark(msgspec.Struct, frozen=True, kw_only=True):
    meeting: int
    present: bool
    recorded_at: datetime


class EnrolmentView(msgspec.Struct, frozen=True, kw_only=True):
    id: UUID
    session_id: UUID
    course_id: UUID
    municipality: str
    library: str | None
    offered_by_partner_id: UUID | None
    participant_pseudonym: str
    referral_id: UUID | None
    status: EnrolmentStatus
    waiting_list_position: int | None  # 1 is next in line; None unless waitlisted
    enrolled_at: datetime
    confirmed_at: datetime | None
    cancelled_at: datetime | None
    cancellation_reason: str | None
    attendance: list[AttendanceMark]
    version: int


# --- requests: purchasing --------------------------------------------------------------------------


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
    expected_version: Version | None = None


class AddQuote(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    purchase_id: UUID
    quote: Quote


class Approval(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    quote_id: UUID | None = None  # required for the first approval; a second approval approves the same quote
    note: Annotated[str, msgspec.Meta(max_length=1000)] | None = None
    expected_version: Version | None = None


class ApprovePurchase(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    purchase_id: UUID
    approval: Approval


class RejectPurchase(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    purchase_id: UUID
    reason: Reason
    expected_version: Version | None = None


class CancelPurchase(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    purchase_id: UUID
    reason: Reason
    expected_version: Version | None = None


class Order(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    order_reference: Short
    expected_version: Version | None = None


class OrderPurchase(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    purchase_id: UUID
    order: Order


class Delivery(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    sessions_held: Count
    participants: Count
    delivered_on: date
    expected_version: Version | None = None


class RecordDelivery(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    purchase_id: UUID
    delivery: Delivery


class Invoice(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    invoice_amount_cents: Cents
    invoice_reference: Short
    expected_version: Version | None = None


class RecordInvoice(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    purchase_id: UUID
    invoice: Invoice


class ClosePurchase(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    purchase_id: UUID
    expected_version: Version | None = None


class GetPurchase(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    purchase_id: UUID


class ListPurchases(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """Newest first."""

    library: Slug | None = None
    status: PurchaseStatus | None = None
    budget_year: Year | None = None
    cursor: str | None = None
    limit: Limit = DEFAULT_LIMIT


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


# --- requests: budgets, budget holders, the approval threshold -------------------------------------


class BudgetAmount(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    amount_cents: Cents
    expected_version: Version | None = None


class SetBudget(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    library: Slug
    year: Year
    budget: BudgetAmount


class GetBudget(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    library: Slug
    year: Year


class ListBudgets(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """By library, newest year first."""

    library: Slug | None = None
    year: Year | None = None
    cursor: str | None = None
    limit: Limit = DEFAULT_LIMIT


class BudgetView(msgspec.Struct, frozen=True, kw_only=True):
    library: str
    municipality: str
    year: int
    amount_cents: int
    committed_cents: int
    spent_cents: int
    available_cents: int
    version: int  # 0 while no budget has been set for the year


class BudgetHolder(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    subject: Annotated[str, msgspec.Meta(min_length=1, max_length=200)]  # the staff member's token subject


class AppointBudgetHolder(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    library: Slug
    holder: BudgetHolder


class RemoveBudgetHolder(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    library: Slug
    subject: Annotated[str, msgspec.Meta(min_length=1, max_length=200)]


class ListBudgetHolders(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    library: Slug
    cursor: str | None = None
    limit: Limit = DEFAULT_LIMIT


class BudgetHolderView(msgspec.Struct, frozen=True, kw_only=True):
    library: str
    subject: str
    appointed_by: str
    appointed_at: datetime


class Threshold(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    second_approver_above_cents: Cents  # approvals of more than this need two different budget holders
    expected_version: Version | None = None


class SetPurchasingPolicy(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    library: Slug
    threshold: Threshold


class GetPurchasingPolicy(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    library: Slug


class PurchasingPolicyView(msgspec.Struct, frozen=True, kw_only=True):
    library: str
    second_approver_above_cents: int
    version: int  # 0 while the library uses the default


class Removed(msgspec.Struct, frozen=True, kw_only=True):
    """The answer to a removal: what is gone."""

    library: str
    subject: str


# --- statistics for the gateway's municipality overview (`rpc.courses.statistics`) --------------


class GetCoursesStatistics(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """Course and purchasing figures within the actor's scope: operators all (or `municipality`),
    coordinators their municipality, staff their library; partners Forbidden. `library` narrows further;
    budgets are those of `year` (the current year by the service's clock when absent)."""

    municipality: str | None = None
    library: str | None = None
    year: int | None = None


class CourseFigures(msgspec.Struct, frozen=True, kw_only=True):
    courses: int  # published, not cancelled, not yet over
    places: int  # over the sessions still to come
    places_free: int
    waiting_list: int  # waitlisted enrolments


class PurchaseFigures(msgspec.Struct, frozen=True, kw_only=True):
    budget_cents: int
    committed_cents: int  # approved or ordered, not yet invoiced
    spent_cents: int  # invoiced or closed


class LibraryCourseFigures(msgspec.Struct, frozen=True, kw_only=True):
    library: str
    courses: CourseFigures
    purchases: PurchaseFigures


class PartnerCourseFigures(msgspec.Struct, frozen=True, kw_only=True):
    """Courses the partner offers, and what the libraries in scope buy from it."""

    partner_id: UUID
    courses: CourseFigures
    purchases: PurchaseFigures


class CoursesStatistics(msgspec.Struct, frozen=True, kw_only=True):
    libraries: list[LibraryCourseFigures]
    partners: list[PartnerCourseFigures]
