"""Contracts of the referrals service: its events, and the requests it answers over NATS.

Events carry the participant's pseudonym only; personal data never leaves the referrals service.
Every referral event names the same parties under the same names (`referral_id`,
`participant_pseudonym`, `referring_partner_id`, `receiving_partner_id`, `library`, `municipality`),
so a consumer can route any of them, e.g. into the feeds of the partners involved, without knowing
each type. Reasons and outcomes travel as codes; free-text notes stay in the service.
"""

from __future__ import annotations

import enum
from datetime import date, datetime
from typing import Annotated, ClassVar, Generic, TypeVar
from uuid import UUID

import msgspec

from shared.contracts import EventData, register
from shared.contracts.partners import Name, Phone, Slug
from shared.pagination import DEFAULT_LIMIT, Limit


class SkillArea(enum.StrEnum):
    LANGUAGE = "language"
    DIGITAL = "digital"
    NUMERACY = "numeracy"
    JOB_SEEKING = "job_seeking"


class ContactChannel(enum.StrEnum):
    PHONE = "phone"
    EMAIL = "email"
    POST = "post"
    IN_PERSON = "in_person"
    VIA_REFERRER = "via_referrer"


class ReferralStatus(enum.StrEnum):
    SUBMITTED = "submitted"
    ACCEPTED = "accepted"
    DECLINED = "declined"
    INTAKE_PLANNED = "intake_planned"
    ENROLLED = "enrolled"
    COMPLETED = "completed"
    WITHDRAWN = "withdrawn"
    NO_SHOW = "no_show"
    EXPIRED = "expired"


class ReferralDirection(enum.StrEnum):
    TO_LIBRARY = "to_library"  # a partner refers a participant to a library (its language or digital offer)
    TO_PARTNER = "to_partner"  # a library refers a participant to a partner (a course of an adult-education school)


class DeclineReason(enum.StrEnum):
    NO_CAPACITY = "no_capacity"
    NOT_OUR_OFFER = "not_our_offer"
    NOT_ELIGIBLE = "not_eligible"
    PARTICIPANT_UNREACHABLE = "participant_unreachable"
    PARTICIPANT_NOT_INTERESTED = "participant_not_interested"
    OTHER = "other"


class WithdrawReason(enum.StrEnum):
    PARTICIPANT_REQUEST = "participant_request"
    NO_LONGER_NEEDED = "no_longer_needed"
    REFERRED_ELSEWHERE = "referred_elsewhere"
    CONSENT_WITHDRAWN = "consent_withdrawn"
    ERASURE_REQUESTED = "erasure_requested"  # the participant asked to be forgotten while the referral was open
    OTHER = "other"


class AnonymisationReason(enum.StrEnum):
    RETENTION = "retention"  # the retention period after closure ended
    ERASURE_REQUESTED = "erasure_requested"  # the participant used the right to erasure


class Need(msgspec.Struct, frozen=True, kw_only=True):
    area: SkillArea
    level: Annotated[str, msgspec.Meta(max_length=20)] | None = None  # e.g. "1F" or "A2", where known


class Outcome(msgspec.Struct, frozen=True, kw_only=True):
    """What became of the participant: goes back to the referrer, so it holds no personal data."""

    course_finished: bool
    moved_to_work: bool = False
    further_education: bool = False
    skill_levels_after: list[Need] = []


# --- events -------------------------------------------------------------------------------------


@register
class ReferralSubmitted(EventData, frozen=True, kw_only=True):
    """A partner referred a participant to a library. A library's own referral is `ReferralSubmittedV2`."""

    service: ClassVar[str] = "referrals"
    type: ClassVar[str] = "referral.submitted"
    referral_id: UUID
    participant_pseudonym: str
    referring_partner_id: UUID
    library: str
    municipality: str
    needs: list[Need]
    submitted_at: datetime
    receiving_partner_id: UUID | None = None  # always None in v1: the library receives
    referring_library: str | None = None  # always None in v1: a partner refers
    course_id: UUID | None = None
    respond_by: datetime | None = None


@register
class ReferralSubmittedV2(EventData, frozen=True, kw_only=True):
    """A referral in either direction; published for a library's referral to a partner, where v1 cannot say it.

    A partner's referral keeps being published as v1 (its consumers rely on `referring_partner_id`).
    Every v1 event's data is valid v2 data, so a consumer of both decodes them with this type.
    """

    service: ClassVar[str] = "referrals"
    type: ClassVar[str] = "referral.submitted"
    version: ClassVar[int] = 2
    referral_id: UUID
    participant_pseudonym: str
    referring_partner_id: UUID | None
    library: str
    municipality: str
    needs: list[Need]
    submitted_at: datetime
    receiving_partner_id: UUID | None = None
    referring_library: str | None = None
    course_id: UUID | None = None
    respond_by: datetime | None = None


class ReferralEvent(EventData, frozen=True, kw_only=True):
    """The parties every lifecycle event names (not registered itself)."""

    service: ClassVar[str] = "referrals"
    referral_id: UUID
    participant_pseudonym: str
    referring_partner_id: UUID | None  # None when a library referred
    receiving_partner_id: UUID | None  # None when the library receives
    library: str
    municipality: str


@register
class ReferralAccepted(ReferralEvent, frozen=True, kw_only=True):
    type: ClassVar[str] = "referral.accepted"
    accepted_at: datetime


@register
class ReferralDeclined(ReferralEvent, frozen=True, kw_only=True):
    type: ClassVar[str] = "referral.declined"
    reason: DeclineReason
    declined_at: datetime


@register
class ReferralIntakePlanned(ReferralEvent, frozen=True, kw_only=True):
    """The warm handover is planned; the place and contact person stay with the parties."""

    type: ClassVar[str] = "referral.intake_planned"
    intake_at: datetime
    replanned: bool
    planned_at: datetime


@register
class ReferralEnrolled(ReferralEvent, frozen=True, kw_only=True):
    type: ClassVar[str] = "referral.enrolled"
    course_id: UUID
    enrolment_id: UUID
    enrolled_at: datetime


@register
class ReferralCompleted(ReferralEvent, frozen=True, kw_only=True):
    """Closes the loop: the referrer learns what became of its referral."""

    type: ClassVar[str] = "referral.completed"
    outcome: Outcome
    completed_at: datetime


@register
class ReferralWithdrawn(ReferralEvent, frozen=True, kw_only=True):
    type: ClassVar[str] = "referral.withdrawn"
    reason: WithdrawReason
    withdrawn_at: datetime


@register
class ReferralNoShowRecorded(ReferralEvent, frozen=True, kw_only=True):
    type: ClassVar[str] = "referral.no_show_recorded"
    recorded_at: datetime


@register
class ReferralOverdue(ReferralEvent, frozen=True, kw_only=True):
    """Nobody answered within the agreed response time; a marker, the referral can still be answered."""

    type: ClassVar[str] = "referral.overdue"
    respond_by: datetime
    overdue_at: datetime


@register
class ReferralExpired(ReferralEvent, frozen=True, kw_only=True):
    type: ClassVar[str] = "referral.expired"
    expired_at: datetime


@register
class ReferralAnonymised(ReferralEvent, frozen=True, kw_only=True):
    """The participant's personal data is erased; the referral still counts in the statistics."""

    type: ClassVar[str] = "referral.anonymised"
    reason: AnonymisationReason
    anonymised_at: datetime


# --- requests (subjects `rpc.referrals.<operation>`) --------------------------------------------

Short = Annotated[str, msgspec.Meta(min_length=1, max_length=200)]
Note = Annotated[str, msgspec.Meta(max_length=1000)]


class Participant(msgspec.Struct, frozen=True, kw_only=True):
    """Personal data: stored encrypted in the referrals service, never in an event, log or trace."""

    name: Name
    birth_date: date | None = None
    phone: Annotated[str, msgspec.Meta(max_length=40)] | None = None
    email: Annotated[str, msgspec.Meta(max_length=200)] | None = None


class ContactPerson(msgspec.Struct, frozen=True, kw_only=True):
    name: Name
    phone: Annotated[str, msgspec.Meta(max_length=40)] | None = None
    email: Annotated[str, msgspec.Meta(max_length=200)] | None = None


AwareDatetime = Annotated[datetime, msgspec.Meta(tz=True, description="with a time zone")]


class Consent(msgspec.Struct, frozen=True, kw_only=True):
    given_at: AwareDatetime
    given_to: Short  # the organisation the participant gave consent to
    purpose: Annotated[str, msgspec.Meta(min_length=1, max_length=500)]
    valid_until: date


class SubmitReferral(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """A partner refers to `library` (`referring_partner_id`), or `library` refers to a partner
    (`receiving_partner_id`, and the partner's course where one is chosen): exactly one of the two."""

    library: Slug
    contact_person: ContactPerson
    participant: Participant
    needs: Annotated[list[Need], msgspec.Meta(min_length=1)]
    reason: Annotated[str, msgspec.Meta(min_length=1, max_length=1000)]
    preferred_channel: ContactChannel
    consent: Consent
    referring_partner_id: UUID | None = None
    receiving_partner_id: UUID | None = None
    course_id: UUID | None = None


class GetReferral(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    referral_id: UUID


ExpectedVersion = Annotated[int, msgspec.Meta(ge=1)] | None


class AcceptReferral(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    expected_version: ExpectedVersion = None
    note: Note | None = None


class DeclineReferral(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    reason: DeclineReason
    expected_version: ExpectedVersion = None
    note: Note | None = None


class Intake(msgspec.Struct, frozen=True, kw_only=True):
    """The warm handover: when, where, and who receives the participant."""

    at: AwareDatetime
    place: Short
    contact_person: ContactPerson


class PlanIntake(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """Plan the intake, or plan it again: a new date replaces the old one."""

    intake_at: AwareDatetime
    place: Short
    contact_person: ContactPerson
    expected_version: ExpectedVersion = None
    note: Note | None = None


class CompleteReferral(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    outcome: Outcome
    expected_version: ExpectedVersion = None
    note: Note | None = None


class WithdrawReferral(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    reason: WithdrawReason
    expected_version: ExpectedVersion = None
    note: Note | None = None


class RecordNoShow(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    expected_version: ExpectedVersion = None
    note: Note | None = None


C = TypeVar("C")


class ReferralStep(msgspec.Struct, Generic[C], frozen=True, kw_only=True, forbid_unknown_fields=True):
    """A lifecycle step on one referral: the path's id and the step's body, as one RPC body."""

    referral_id: UUID
    command: C


class ListDirection(enum.StrEnum):
    INCOMING = "incoming"  # referrals the caller's side receives
    OUTGOING = "outgoing"  # referrals the caller's side sent


class ListReferrals(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """Scoped by the caller: staff see their library's, a partner its own, a coordinator the municipality's.

    Overdue first, then newest first; dates are Dutch calendar days, both inclusive.
    """

    cursor: str | None = None
    limit: Limit = DEFAULT_LIMIT
    direction: ListDirection | None = None
    status: ReferralStatus | None = None
    overdue: bool | None = None
    pseudonym: Annotated[str, msgspec.Meta(max_length=40)] | None = None
    submitted_from: date | None = None
    submitted_until: date | None = None
    library: Slug | None = None  # for coordinators and operators
    partner_id: UUID | None = None  # referrals in which this partner refers or receives


class ListAccessLog(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    referral_id: UUID | None = None
    cursor: str | None = None
    limit: Limit = DEFAULT_LIMIT


class ExportParticipantData(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    referral_id: UUID


class EraseParticipantData(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    referral_id: UUID


class GetReferralPolicy(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    library: Slug | None = None  # staff: their own library; others name one


class SetReferralPolicy(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """The library's agreed response time, when an unanswered referral expires, and retention after closure."""

    response_days: Annotated[int, msgspec.Meta(ge=1, le=90)]
    expiry_days: Annotated[int, msgspec.Meta(ge=1, le=365)]
    retention_days: Annotated[int, msgspec.Meta(ge=0, le=3650)]
    library: Slug | None = None
    expected_version: Annotated[int, msgspec.Meta(ge=0)] | None = None  # 0: the library still has the default


class GetReferralStatistics(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    library: Slug | None = None
    submitted_from: date | None = None
    submitted_until: date | None = None


class RotateEncryption(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """Re-seal every participant's data with the newest key, so older keys can be retired (operators)."""


# --- views --------------------------------------------------------------------------------------


class HistoryEntry(msgspec.Struct, frozen=True, kw_only=True):
    status: ReferralStatus
    step: str | None
    at: datetime
    actor: str
    version: int | None = None
    details: dict[str, object] = {}
    note: str | None = None


class ReferralView(msgspec.Struct, frozen=True, kw_only=True):
    """What the parties to a referral see of it; the participant only for those who may read personal data."""

    id: UUID
    status: ReferralStatus
    library: str
    municipality: str
    referring_partner_id: UUID | None
    participant_pseudonym: str
    needs: list[Need]
    reason: str | None
    preferred_channel: ContactChannel
    contact_person: ContactPerson
    consent: Consent
    submitted_at: datetime
    participant: Participant | None = None  # staff of the library and the partner involved; reads are logged
    version: int = 1
    direction: ReferralDirection = ReferralDirection.TO_LIBRARY
    referring_library: str | None = None
    receiving_partner_id: UUID | None = None
    course_id: UUID | None = None
    enrolment_id: UUID | None = None
    respond_by: datetime | None = None
    expires_at: datetime | None = None
    overdue: bool = False
    intake: Intake | None = None
    outcome: Outcome | None = None
    decline_reason: DeclineReason | None = None
    withdraw_reason: WithdrawReason | None = None
    closed_at: datetime | None = None
    anonymised_at: datetime | None = None
    history: list[HistoryEntry] = []
    # Staff of the referral's library only: other open referrals in the municipality that may be of the same
    # person (found by the blind index), and the referrals they linked to this one.
    possible_duplicates: list[PossibleDuplicate] = []


class ReferralSummary(msgspec.Struct, frozen=True, kw_only=True):
    """A referral in a list: no personal data, so listing is not reading a participant."""

    id: UUID
    status: ReferralStatus
    direction: ReferralDirection
    library: str
    municipality: str
    referring_partner_id: UUID | None
    referring_library: str | None
    receiving_partner_id: UUID | None
    course_id: UUID | None
    participant_pseudonym: str
    needs: list[Need]
    submitted_at: datetime
    respond_by: datetime | None
    overdue: bool
    version: int
    updated_at: datetime
    anonymised: bool


class AccessPurpose(enum.StrEnum):
    VIEW = "view"
    EXPORT = "export"


class AccessLogEntry(msgspec.Struct, frozen=True, kw_only=True):
    """Who read a participant's personal data, when, and why."""

    id: int
    referral_id: UUID
    participant_pseudonym: str
    library: str
    actor: str
    actor_role: str
    actor_organisation: str | None
    purpose: AccessPurpose
    at: datetime


class ParticipantExport(msgspec.Struct, frozen=True, kw_only=True):
    """Everything held about the participant of one referral (the right of access)."""

    referral: ReferralView
    access_log: list[AccessLogEntry]
    exported_at: datetime


class ReferralPolicyView(msgspec.Struct, frozen=True, kw_only=True):
    library: str
    response_days: int
    expiry_days: int
    retention_days: int
    is_default: bool
    version: int  # 0 while the library has the default


class ReferralStatistics(msgspec.Struct, frozen=True, kw_only=True):
    """Counts only: they keep working after personal data is erased."""

    total: int
    by_status: dict[str, int]
    by_direction: dict[str, int]
    by_need_area: dict[str, int]
    overdue_now: int
    answered_late: int
    completed_with_course_finished: int
    completed_moved_to_work: int
    completed_further_education: int
    anonymised: int


class RotationResult(msgspec.Struct, frozen=True, kw_only=True):
    resealed: int


# --- statistics for the gateway's municipality overview (`rpc.referrals.overview_statistics`) ---


class GetReferralsOverviewStatistics(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """Referral figures per library and per referring partner, within the actor's scope: operators all
    (or `municipality`), coordinators their municipality, staff their library; partners Forbidden.
    `library` narrows further. (`statistics` answers one aggregate; the overview needs the breakdown.)"""

    municipality: str | None = None
    library: str | None = None


class ReferralFigures(msgspec.Struct, frozen=True, kw_only=True):
    by_status: dict[str, int]  # ReferralStatus value → count; statuses without referrals may be left out
    overdue: int  # open now and past the library's response time
    intakes: int  # referrals that got an intake planned: the time to intake is measured over these
    median_hours_to_intake: float | None = None  # from submission to the intake being planned


class LibraryReferralFigures(msgspec.Struct, frozen=True, kw_only=True):
    library: str
    figures: ReferralFigures


class PartnerReferralFigures(msgspec.Struct, frozen=True, kw_only=True):
    """Per referring partner, counting only the referrals within the actor's scope."""

    partner_id: UUID
    figures: ReferralFigures


class ReferralsOverviewStatistics(msgspec.Struct, frozen=True, kw_only=True):
    libraries: list[LibraryReferralFigures]
    partners: list[PartnerReferralFigures]


# --- possible duplicates: the blind index (`rpc.referrals.list_duplicates`, `.decide_duplicate`) ---------


class DuplicateDecision(enum.StrEnum):
    OPEN = "open"  # flagged, nobody decided yet
    LINKED = "linked"  # the same person: the referrals are linked, both stay
    SEPARATE = "separate"  # not the same person, or to be kept apart: the warning is dismissed


class DuplicateStep(enum.StrEnum):
    LINK = "link"
    SEPARATE = "separate"


class PossibleDuplicate(msgspec.Struct, frozen=True, kw_only=True):
    """Another referral that may be of the same participant, as the referral's own view shows it."""

    warning_id: UUID
    referral_id: UUID  # the other referral
    library: str  # the other referral's library: whom to call about it
    similarity: float  # 1.0 for the same name and birth date; less for a near match of the name
    exact: bool
    decision: DuplicateDecision
    flagged_at: datetime
    version: int


class DuplicateWarningView(msgspec.Struct, frozen=True, kw_only=True):
    """ "Possible duplicate of referral X": `referral_id` (of the caller's library) may be the same participant
    as `duplicate_of`, an open referral of the municipality submitted before it. No name, no digest."""

    id: UUID
    referral_id: UUID
    duplicate_of: UUID
    duplicate_library: str
    library: str
    similarity: float
    exact: bool
    decision: DuplicateDecision
    flagged_at: datetime
    decided_at: datetime | None = None
    decided_by: str | None = None
    version: int = 1


class ListDuplicateWarnings(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """The caller's library's warnings, newest first (staff only); `decision` narrows, e.g. to the open ones."""

    decision: DuplicateDecision | None = None
    referral_id: UUID | None = None
    cursor: str | None = None
    limit: Limit = DEFAULT_LIMIT


class DuplicateDecisionRequest(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    expected_version: ExpectedVersion = None


class DecideDuplicate(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """Link the two referrals (the same person; both stay), or keep them separate (the warning is dismissed)."""

    warning_id: UUID
    step: DuplicateStep
    expected_version: ExpectedVersion = None


# --- the participant's own page (`rpc.referrals.issue_participant_code`, `.open_participant_page` …) ----

ParticipantCodeText = Annotated[str, msgspec.Meta(min_length=1, max_length=40)]


class ParticipantChangeKind(enum.StrEnum):
    RESCHEDULE = "reschedule"  # another day or time, please
    CANCEL = "cancel"  # I will not come


class ChangeRequestStatus(enum.StrEnum):
    OPEN = "open"
    HANDLED = "handled"


class ParticipantCodeRequest(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """The library's phone number the page gives for changes; without one, the intake's contact person's."""

    contact_phone: Phone | None = None


class IssueParticipantCode(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """A new personal code for the referral's participant (staff of its library); an earlier code stops working."""

    referral_id: UUID
    contact_phone: Phone | None = None


class ParticipantCodeIssued(msgspec.Struct, frozen=True, kw_only=True):
    """The code in clear, this once: only its keyed hash is kept. `path` is the page's address on the gateway."""

    referral_id: UUID
    code: str
    path: str
    issued_at: datetime
    contact_phone: str | None = None


class RevokeParticipantCode(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    referral_id: UUID


class ParticipantCodeRevoked(msgspec.Struct, frozen=True, kw_only=True):
    referral_id: UUID
    revoked: bool  # False: there was no code


class OpenParticipantPage(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """The code is the credential; the actor of the call is the gateway's anonymous participant."""

    code: ParticipantCodeText


class ParticipantPage(msgspec.Struct, frozen=True, kw_only=True):
    """What the participant's page shows: their own referral only, and no name at all (not even their own).

    `works` is False once the referral is closed, expired or anonymised: the code expired with it, and
    nothing else is said.
    """

    works: bool
    receiver_kind: str | None = None  # "library" or "partner": whom they were referred to
    receiver_name: str | None = None
    status: ReferralStatus | None = None
    intake_at: datetime | None = None
    place: str | None = None
    meet_with: str | None = None  # the person who receives them at the intake
    contact_phone: str | None = None  # whom to call to change or cancel
    change_requested: ParticipantChangeKind | None = None  # a request already waiting for the library


class RequestParticipantChange(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    code: ParticipantCodeText
    kind: ParticipantChangeKind


class ParticipantChangeRecorded(msgspec.Struct, frozen=True, kw_only=True):
    kind: ParticipantChangeKind
    requested_at: datetime
    already_requested: bool  # the same request was waiting already: nothing new recorded


class ListChangeRequests(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """Participants' requests to change or cancel, of the caller's library (staff), newest first."""

    status: ChangeRequestStatus | None = None
    referral_id: UUID | None = None
    cursor: str | None = None
    limit: Limit = DEFAULT_LIMIT


class ChangeRequestView(msgspec.Struct, frozen=True, kw_only=True):
    id: UUID
    referral_id: UUID
    library: str
    participant_pseudonym: str
    kind: ParticipantChangeKind
    status: ChangeRequestStatus
    requested_at: datetime
    handled_at: datetime | None = None
    handled_by: str | None = None
    version: int = 1


class ChangeRequestStep(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    expected_version: ExpectedVersion = None


class HandleChangeRequest(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """The library called the participant back (or otherwise dealt with the request)."""

    request_id: UUID
    expected_version: ExpectedVersion = None
