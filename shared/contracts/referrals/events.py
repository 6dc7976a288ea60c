"""Events of the referrals service: a referral's life from submission to its outcome.

Events carry the participant's pseudonym only; personal data never leaves the referrals service.
Every referral event names the same parties under the same names (`referral_id`,
`participant_pseudonym`, `referring_partner_id`, `receiving_partner_id`, `library`, `municipality`),
so a consumer can route any of them, e.g. into the feeds of the partners involved, without knowing
each type. Reasons and outcomes travel as codes; free-text notes stay in the service.

Frozen: tests/contracts compares each type's JSON Schema with its snapshot.
"""

from __future__ import annotations

import enum
from datetime import date, datetime
from typing import Annotated, ClassVar
from uuid import UUID

import msgspec

from shared.contracts import EventData, register
from shared.contracts.vocabulary import SkillArea


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


class SharedData(enum.StrEnum):
    CONTACT_DETAILS = "contact_details"  # who the participant is and how to reach them
    REASON = "reason"  # why the referrer refers them
    OUTCOME = "outcome"  # what became of it, back to the referrer


class ConsentSide(enum.StrEnum):
    REFERRING = "referring"
    RECEIVING = "receiving"


class RevocationChannel(enum.StrEnum):
    IN_PERSON = "in_person"  # at the desk
    PHONE = "phone"
    EMAIL = "email"
    LETTER = "letter"
    PARTICIPANT_PAGE = "participant_page"  # asked on their own page; staff record it


class NotificationReason(enum.StrEnum):
    PLACE_FROM_WAITING_LIST = "place_from_waiting_list"


class Need(msgspec.Struct, frozen=True, kw_only=True):
    area: SkillArea
    level: Annotated[str, msgspec.Meta(max_length=20)] | None = None  # e.g. "1F" or "A2", where known


class Outcome(msgspec.Struct, frozen=True, kw_only=True):
    """What became of the participant: goes back to the referrer, so it holds no personal data."""

    course_finished: bool
    moved_to_work: bool = False
    further_education: bool = False
    skill_levels_after: list[Need] = []


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


class ReferralParties(msgspec.Struct, frozen=True, kw_only=True):
    """What every referral event names, whatever its type: a consumer of all of them (types added later too)
    reads an envelope's data as this."""

    referral_id: UUID
    participant_pseudonym: str
    library: str
    municipality: str
    referring_partner_id: UUID | None = None
    receiving_partner_id: UUID | None = None


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
class ReferralIntakeHeld(ReferralEvent, frozen=True, kw_only=True):
    """The warm handover took place: the participant came (outcomes may follow)."""

    type: ClassVar[str] = "referral.intake_held"
    held_at: datetime
    recorded_at: datetime


@register
class ReferralEnrolled(ReferralEvent, frozen=True, kw_only=True):
    type: ClassVar[str] = "referral.enrolled"
    course_id: UUID
    enrolment_id: UUID
    enrolled_at: datetime
    promoted_from_waiting_list: bool = False  # a place came free for someone on the waiting list
    session_starts_at: datetime | None = None


@register
class ReferralWaitlisted(ReferralEvent, frozen=True, kw_only=True):
    """The course is full: the participant waits for a place (a place is `referral.enrolled` later)."""

    type: ClassVar[str] = "referral.waitlisted"
    course_id: UUID
    enrolment_id: UUID
    waiting_list_position: int
    waitlisted_at: datetime


@register
class ReferralNotificationRequested(ReferralEvent, frozen=True, kw_only=True):
    """The library is asked to tell the participant something (a place from the waiting list): by `channel`,
    the participant's preferred one, where the library may contact them; None: through the referrer."""

    type: ClassVar[str] = "referral.notification_requested"
    reason: NotificationReason
    channel: str | None
    course_id: UUID | None = None
    enrolment_id: UUID | None = None
    session_starts_at: datetime | None = None
    requested_at: datetime


@register
class ReferralCompleted(ReferralEvent, frozen=True, kw_only=True):
    """Closes the loop: the referrer learns what became of its referral."""

    type: ClassVar[str] = "referral.completed"
    outcome: Outcome
    completed_at: datetime


@register
class ReferralCompletedV2(ReferralEvent, frozen=True, kw_only=True):
    """Published where the participant's consent does not share the outcome with the referrer: the referral is
    completed, what became of the participant stays with the library (v1, with the outcome, where it is shared)."""

    type: ClassVar[str] = "referral.completed"
    version: ClassVar[int] = 2
    completed_at: datetime
    outcome: Outcome | None = None


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


@register
class ReferralConsentRevoked(ReferralEvent, frozen=True, kw_only=True):
    """The participant withdrew consent: from now on no party sees who they are; what was open is withdrawn."""

    type: ClassVar[str] = "referral.consent_revoked"
    recorded_by: ConsentSide
    told_via: RevocationChannel | None
    revoked_at: datetime


@register
class ReferralConsentExpired(ReferralEvent, frozen=True, kw_only=True):
    """The consent's last day passed: from now on no party sees who the participant is; what was open is withdrawn."""

    type: ClassVar[str] = "referral.consent_expired"
    valid_until: date
    expired_at: datetime
