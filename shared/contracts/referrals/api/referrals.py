"""Requests and views of referrals: submitting one, its lifecycle steps, lists, and the library's referral
policy (subjects `rpc.referrals.<operation>`).
"""

from __future__ import annotations

import enum
from datetime import date, datetime
from typing import Annotated, Generic, TypeVar
from uuid import UUID

import msgspec

from shared.contracts.referrals.api.duplicates import PossibleDuplicate
from shared.contracts.referrals.events import (
    ConsentSide,
    DeclineReason,
    Need,
    Outcome,
    RevocationChannel,
    SharedData,
    WithdrawReason,
)
from shared.contracts.vocabulary import (
    DEFAULT_LIMIT,
    AwareDatetime,
    Cursor,
    Email,
    ExpectedVersion,
    Limit,
    Name,
    Note,
    Phone,
    Reason,
    Short,
    Slug,
)


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
    INTAKE_HELD = "intake_held"  # the warm handover took place: outcomes may follow
    ENROLLED = "enrolled"
    COMPLETED = "completed"
    WITHDRAWN = "withdrawn"
    NO_SHOW = "no_show"
    EXPIRED = "expired"


class ReferralDirection(enum.StrEnum):
    TO_LIBRARY = "to_library"  # a partner refers a participant to a library (its language or digital offer)
    TO_PARTNER = "to_partner"  # a library refers a participant to a partner (a course of an adult-education school)


class Arrival(enum.StrEnum):
    """How a participant came without any partner: the library's staff log it, and no partner sees it."""

    WALK_IN = "walk_in"  # came to the library's desk without a referrer
    SELF_REFERRAL = "self_referral"  # signed up on their own (by phone, e-mail, a form)


class Participant(msgspec.Struct, frozen=True, kw_only=True):
    """Personal data: stored encrypted in the referrals service, never in an event, log or trace. As stored and
    shown, the phone and e-mail address are bounded only by length: what was sealed before the vocabulary's rules
    held for them must stay readable. What a request gives is a `GivenParticipant`."""

    name: Name
    birth_date: date | None = None
    phone: Annotated[str, msgspec.Meta(max_length=40)] | None = None
    email: Annotated[str, msgspec.Meta(max_length=200)] | None = None


class GivenParticipant(Participant, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """The participant as a request gives them: the phone number and e-mail address follow the vocabulary's rules,
    as everywhere else in the API."""

    phone: Phone | None = None
    email: Email | None = None


class ContactPerson(msgspec.Struct, frozen=True, kw_only=True):
    """Whom to reach at a party of the referral; as stored and shown (see `Participant`)."""

    name: Name
    phone: Annotated[str, msgspec.Meta(max_length=40)] | None = None
    email: Annotated[str, msgspec.Meta(max_length=200)] | None = None


class GivenContactPerson(ContactPerson, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """A contact person as a request gives one: phone and e-mail address by the vocabulary's rules."""

    phone: Phone | None = None
    email: Email | None = None


class ConsentParty(msgspec.Struct, frozen=True, kw_only=True):
    """A party of the referral that may receive the participant's data, by its id in the network (never a typed
    name): a library by its slug, or a partner by its id; exactly one of the two."""

    library: Slug | None = None
    partner_id: UUID | None = None


class Consent(msgspec.Struct, frozen=True, kw_only=True):
    """What the participant agreed to: which parties of this referral receive their data (the receiving one at
    least), what is shared with them, what for, and until which Dutch calendar day (inclusive)."""

    given_at: AwareDatetime
    given_to: Annotated[list[ConsentParty], msgspec.Meta(min_length=1, max_length=3)]
    shares: Annotated[list[SharedData], msgspec.Meta(min_length=1, max_length=3)]
    purpose: Annotated[str, msgspec.Meta(min_length=1, max_length=500)]
    valid_until: date


class ConsentState(enum.StrEnum):
    GIVEN = "given"
    REVOKED = "revoked"  # recorded by one of the parties (or by withdrawing with `consent_withdrawn`)
    EXPIRED = "expired"  # its last day has passed


class ConsentRevocation(msgspec.Struct, frozen=True, kw_only=True):
    """Who recorded the revocation (the side and the person), and when and how the participant said it."""

    recorded_by: ConsentSide
    recorded_by_actor: str
    recorded_at: datetime
    told_at: datetime
    told_via: RevocationChannel | None = None  # None: a withdrawal with reason `consent_withdrawn`


class Withholding(enum.StrEnum):
    """Why the caller is shown less of the participant than the referral holds."""

    NOT_ACCEPTED = "not_accepted"  # the receiving side sees what it needs to decide; contact details after accepting
    CONSENT_SCOPE = "consent_scope"  # the consent does not share it
    CONSENT_REVOKED = "consent_revoked"
    CONSENT_EXPIRED = "consent_expired"
    PARTNER_INACTIVE = "partner_inactive"  # the caller's organisation is suspended or ended
    PARTNERSHIP_ENDED = "partnership_ended"  # ended or suspended, with no other partnership or agreement in force
    # Coordinators and operators: no party of the referral. They see its course (status, needs, dates, outcome
    # codes), never the person nor the free text about them (the reason, the consent's purpose, notes).
    NOT_A_PARTY = "not_a_party"


class SubmitReferral(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """A partner refers to `library` (`referring_partner_id`), or `library` refers to a partner
    (`receiving_partner_id`, and the partner's course where one is chosen): exactly one of the two. Or the
    library's staff log a walk-in or self-referral (`arrival`): then neither, and no partner is involved."""

    library: Slug
    contact_person: GivenContactPerson
    participant: GivenParticipant
    needs: Annotated[list[Need], msgspec.Meta(min_length=1)]
    reason: Reason
    preferred_channel: ContactChannel
    consent: Consent
    referring_partner_id: UUID | None = None
    receiving_partner_id: UUID | None = None
    course_id: UUID | None = None
    arrival: Arrival | None = None


class GetReferral(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    referral_id: UUID


class AcceptReferral(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    expected_version: ExpectedVersion | None = None
    note: Note | None = None


class DeclineReferral(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    reason: DeclineReason
    expected_version: ExpectedVersion | None = None
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
    contact_person: GivenContactPerson
    expected_version: ExpectedVersion | None = None
    note: Note | None = None


class RecordIntakeHeld(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """The planned intake took place; `held_at` when it was not at the planned time (never in the future)."""

    held_at: AwareDatetime | None = None
    expected_version: ExpectedVersion | None = None
    note: Note | None = None


class CompleteReferral(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    outcome: Outcome
    expected_version: ExpectedVersion | None = None
    note: Note | None = None


class WithdrawReferral(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    reason: WithdrawReason
    expected_version: ExpectedVersion | None = None
    note: Note | None = None


class RecordNoShow(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    expected_version: ExpectedVersion | None = None
    note: Note | None = None


class RevokeConsent(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """The participant withdrew their consent, and told one of the parties: when, and how."""

    told_at: AwareDatetime
    told_via: RevocationChannel
    expected_version: ExpectedVersion | None = None
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

    cursor: Cursor | None = None
    limit: Limit = DEFAULT_LIMIT
    direction: ListDirection | None = None
    status: ReferralStatus | None = None
    overdue: bool | None = None
    pseudonym: Annotated[str, msgspec.Meta(max_length=40)] | None = None
    submitted_from: date | None = None
    submitted_until: date | None = None
    library: Slug | None = None  # for coordinators and operators
    partner_id: UUID | None = None  # referrals in which this partner refers or receives


class GetReferralPolicy(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    library: Slug | None = None  # staff: their own library; others name one


class SetReferralPolicy(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """The library's agreed response time, when an unanswered referral expires, and retention after closure."""

    response_days: Annotated[int, msgspec.Meta(ge=1, le=90)]
    expiry_days: Annotated[int, msgspec.Meta(ge=1, le=365)]
    retention_days: Annotated[int, msgspec.Meta(ge=0, le=3650)]
    library: Slug | None = None
    expected_version: Annotated[int, msgspec.Meta(ge=0)] | None = None  # 0: the library still has the default


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
    intake_held_at: datetime | None = None
    outcome: Outcome | None = None
    decline_reason: DeclineReason | None = None
    withdraw_reason: WithdrawReason | None = None
    closed_at: datetime | None = None
    anonymised_at: datetime | None = None
    history: list[HistoryEntry] = []
    consent_state: ConsentState = ConsentState.GIVEN
    consent_ended_at: datetime | None = None
    consent_revocation: ConsentRevocation | None = None
    # What of the participant the caller is not shown (the person, the reason, the outcome), and why.
    withheld: list[SharedData] = []
    withheld_because: Withholding | None = None
    arrival: Arrival | None = None  # a walk-in or self-referral: no partner
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
    arrival: Arrival | None = None


class ReferralPolicyView(msgspec.Struct, frozen=True, kw_only=True):
    library: str
    response_days: int
    expiry_days: int
    retention_days: int
    is_default: bool
    version: int  # 0 while the library has the default
