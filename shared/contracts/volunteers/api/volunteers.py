"""Requests and views of volunteers and interns: applications, the pipeline, screening (the certificate of
conduct, VOG), internships and the qualifications they hold.

Volunteers and interns are not participants: the volunteers service keeps their names and contact
details, but never in an event. A body named `...Changes` or `...Request` is what the HTTP API takes;
the gateway adds the id from the path to make the operation's request.
"""

from __future__ import annotations

import enum
from datetime import date, datetime
from typing import Annotated
from uuid import UUID

import msgspec

from shared.contracts.vocabulary import (
    DEFAULT_LIMIT,
    Cursor,
    Email,
    ExpectedVersion,
    Limit,
    Name,
    Phone,
    Qualification,
    Reason,
    Slug,
    Text,
)
from shared.contracts.volunteers.events import ApplicationChannel, VolunteerKind


class VolunteerStatus(enum.StrEnum):
    APPLIED = "applied"
    INTAKE = "intake"
    SCREENING = "screening"
    ACTIVE = "active"
    INACTIVE = "inactive"
    WITHDRAWN = "withdrawn"
    REJECTED = "rejected"
    ENDED = "ended"  # interns only: the internship is over


class VolunteerStep(enum.StrEnum):
    START_INTAKE = "start_intake"
    START_SCREENING = "start_screening"
    ACTIVATE = "activate"
    WITHDRAW = "withdraw"
    REJECT = "reject"
    DEACTIVATE = "deactivate"
    REACTIVATE = "reactivate"
    END = "end"  # interns only: before the period is over (afterwards it happens by itself)


class CertificateStatus(enum.StrEnum):
    """The certificate of conduct (VOG) as far as it is known now."""

    REQUESTED = "requested"
    VALID = "valid"
    EXPIRED = "expired"


Hours = Annotated[int, msgspec.Meta(ge=0, le=2000)]


class VolunteerPerson(msgspec.Struct, frozen=True, kw_only=True):
    """A volunteer's or intern's own name and contact details: kept here, never in an event."""

    name: Name
    email: Email | None = None
    phone: Phone | None = None


class SchoolSupervisor(msgspec.Struct, frozen=True, kw_only=True):
    name: Name
    email: Email | None = None
    phone: Phone | None = None


class Apply(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """An application: through the library's own channel (staff) or through a volunteer organisation.

    A partner applies on its own behalf (`via_partner_id` is then the partner); staff record an
    application that came through an organisation by naming it.
    """

    person: VolunteerPerson
    vacancy_id: UUID | None = None
    motivation: Text | None = None
    via_partner_id: UUID | None = None
    library: Slug | None = None
    # Without a vacancy: whether the role needs a certificate of conduct (with one, the vacancy says).
    certificate_of_conduct_required: bool | None = None


class VolunteerStepRequest(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    reason: Reason | None = None  # required to withdraw or reject
    expected_version: ExpectedVersion | None = None


class TakeVolunteerStep(VolunteerStepRequest, frozen=True, kw_only=True, forbid_unknown_fields=True):
    volunteer_id: UUID
    step: VolunteerStep


class VolunteerChanges(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    person: VolunteerPerson | None = None
    motivation: Text | None = None
    certificate_of_conduct_required: bool | None = None
    expected_version: ExpectedVersion | None = None


class UpdateVolunteer(VolunteerChanges, frozen=True, kw_only=True, forbid_unknown_fields=True):
    volunteer_id: UUID


class GetVolunteer(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    volunteer_id: UUID


class ListVolunteers(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    cursor: Cursor | None = None
    limit: Limit = DEFAULT_LIMIT
    kind: VolunteerKind | None = None
    status: VolunteerStatus | None = None
    library: Slug | None = None
    vacancy_id: UUID | None = None
    via_partner_id: UUID | None = None
    # Parts of the name ("jansen", "Piet Jansen"), whole parts only: matched on keyed digests, never in clear.
    name: Name | None = None


class CertificateRequest(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    expected_version: ExpectedVersion | None = None


class RequestCertificate(CertificateRequest, frozen=True, kw_only=True, forbid_unknown_fields=True):
    volunteer_id: UUID


class CertificateReceipt(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    issued_on: date  # the date on the certificate
    valid_until: date | None = None  # the library's own rule for how long it counts, if any
    expected_version: ExpectedVersion | None = None


class ReceiveCertificate(CertificateReceipt, frozen=True, kw_only=True, forbid_unknown_fields=True):
    volunteer_id: UUID


class CertificateView(msgspec.Struct, frozen=True, kw_only=True):
    status: CertificateStatus
    requested_at: datetime | None = None
    received_at: datetime | None = None
    issued_on: date | None = None
    valid_until: date | None = None
    renewal_requested_at: datetime | None = None  # a renewal is under way while this one still counts


class RegisterIntern(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    school_partner_id: UUID
    person: VolunteerPerson
    starts_on: date
    ends_on: date
    supervisor: SchoolSupervisor
    learning_goals: Annotated[
        list[Annotated[str, msgspec.Meta(min_length=1, max_length=500)]], msgspec.Meta(max_length=30)
    ] = []
    hours: Hours = 0  # hours the internship asks of the intern in total
    certificate_of_conduct_required: bool = False
    library: Slug | None = None


class GoalResult(enum.StrEnum):
    ACHIEVED = "achieved"
    PARTLY = "partly"
    NOT_ACHIEVED = "not_achieved"


class AssessedGoal(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    goal: Annotated[str, msgspec.Meta(min_length=1, max_length=500)]
    result: GoalResult


class InternAssessment(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """The library's end-of-period assessment of an intern, for the school: how each learning goal went and a word
    on the whole. About a person: sealed, shown to the library's staff and the school only, never in an event."""

    summary: Annotated[str, msgspec.Meta(min_length=1, max_length=5000)]
    goals: Annotated[list[AssessedGoal], msgspec.Meta(max_length=30)] = []


class InternAssessmentRequest(InternAssessment, frozen=True, kw_only=True, forbid_unknown_fields=True):
    expected_version: ExpectedVersion | None = None


class AssessIntern(InternAssessmentRequest, frozen=True, kw_only=True, forbid_unknown_fields=True):
    volunteer_id: UUID


class ConfirmInternshipRequest(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    expected_version: ExpectedVersion | None = None


class ConfirmInternship(ConfirmInternshipRequest, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """The school confirms the internship's period as registered (its own interns, while its partnership runs)."""

    volunteer_id: UUID


class AssessedGoalView(msgspec.Struct, frozen=True, kw_only=True):
    goal: str
    result: GoalResult


class AssessmentView(msgspec.Struct, frozen=True, kw_only=True):
    summary: str
    goals: list[AssessedGoalView]
    assessed_at: datetime
    assessed_by: str


class InternshipView(msgspec.Struct, frozen=True, kw_only=True):
    school_partner_id: UUID
    starts_on: date
    ends_on: date
    supervisor: SchoolSupervisor | None  # contact details, for the library's staff and the school
    learning_goals: list[str]
    hours: int
    ended_on: date | None = None
    confirmed_at: datetime | None = None  # the school confirmed the period
    confirmed_by: str | None = None
    assessment: AssessmentView | None = None  # the library's, at the end: for its staff and the school only


class QualificationView(msgspec.Struct, frozen=True, kw_only=True):
    code: str
    module_id: UUID | None
    obtained_on: date
    valid_until: date | None
    valid: bool  # on today's date


class ListQualifications(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """Who holds which qualification: for a volunteer, or for a code across the library or municipality."""

    cursor: Cursor | None = None
    limit: Limit = DEFAULT_LIMIT
    volunteer_id: UUID | None = None
    code: Qualification | None = None
    library: Slug | None = None
    valid_only: bool = False  # only those that hold today


class HeldQualificationView(msgspec.Struct, frozen=True, kw_only=True):
    volunteer_id: UUID
    library: str
    code: str
    module_id: UUID | None
    obtained_on: date
    valid_until: date | None
    valid: bool


class VolunteerView(msgspec.Struct, frozen=True, kw_only=True):
    id: UUID
    kind: VolunteerKind
    library: str
    municipality: str
    status: VolunteerStatus
    channel: ApplicationChannel
    via_partner_id: UUID | None
    vacancy_id: UUID | None
    certificate_of_conduct_required: bool
    certificate: CertificateView | None
    qualifications: list[QualificationView]
    version: int
    applied_at: datetime
    updated_at: datetime
    status_reason: str | None = None
    internship: InternshipView | None = None
    # Only for the library's own staff and the partner that supplied the volunteer.
    person: VolunteerPerson | None = None
    motivation: str | None = None
    anonymised_at: datetime | None = None  # personal data erased (retention or a request); the record stays
