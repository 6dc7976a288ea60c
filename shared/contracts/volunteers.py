"""Contracts of the volunteers service: its events, and the requests it answers over NATS.

Volunteers and interns are not participants: the volunteers service keeps their names and contact
details, but its events carry ids only. A participant appears here by pseudonym alone (a buddy).
"""

from __future__ import annotations

import enum
from datetime import date, datetime
from typing import Annotated, ClassVar
from uuid import UUID

import msgspec

from shared.contracts import EventData, register
from shared.contracts.partners import Name, Slug
from shared.contracts.referrals import AwareDatetime, SkillArea
from shared.pagination import DEFAULT_LIMIT, Limit


class VacancyStatus(enum.StrEnum):
    DRAFT = "draft"
    PUBLISHED = "published"
    CLOSED = "closed"


class VacancyStep(enum.StrEnum):
    PUBLISH = "publish"
    CLOSE = "close"


class VolunteerKind(enum.StrEnum):
    VOLUNTEER = "volunteer"
    INTERN = "intern"


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


class ApplicationChannel(enum.StrEnum):
    LIBRARY = "library"  # the library's own channel
    VOLUNTEER_ORGANISATION = "volunteer_organisation"  # through a partner; `via_partner_id` says which
    EDUCATIONAL_INSTITUTION = "educational_institution"  # interns, supplied by a school


class CertificateStatus(enum.StrEnum):
    """The certificate of conduct (VOG) as far as it is known now."""

    REQUESTED = "requested"
    VALID = "valid"
    EXPIRED = "expired"


class ModuleDelivery(enum.StrEnum):
    LIBRARY = "library"
    VOLUNTEER_ORGANISATION = "volunteer_organisation"
    PURCHASE = "purchase"  # bought through the courses service's purchasing


class AssignmentKind(enum.StrEnum):
    COURSE = "course"  # guidance at a course (session) of the courses service
    BUDDY = "buddy"  # a buddy to one participant, known by pseudonym


class AssignmentStatus(enum.StrEnum):
    ACTIVE = "active"
    ENDED = "ended"


Qualification = Annotated[
    str,
    msgspec.Meta(
        pattern=r"^[a-z0-9][a-z0-9-]{1,62}$",
        description="a qualification's code, e.g. `digital-guide`: lower-case letters, digits and dashes",
    ),
]
Text = Annotated[str, msgspec.Meta(max_length=4000)]
Reason = Annotated[str, msgspec.Meta(min_length=1, max_length=1000)]
Pseudonym = Annotated[str, msgspec.Meta(pattern=r"^P-[A-Z0-9]{4,40}$", description="a participant's pseudonym")]
Email = Annotated[str, msgspec.Meta(max_length=200, pattern=r"^[^@\s]+@[^@\s]+$")]
Phone = Annotated[str, msgspec.Meta(max_length=40)]
Hours = Annotated[int, msgspec.Meta(ge=0, le=2000)]
Minutes = Annotated[int, msgspec.Meta(ge=1, le=24 * 60, description="minutes worked on the day")]
Month = Annotated[str, msgspec.Meta(pattern=r"^[0-9]{4}-(0[1-9]|1[0-2])$", description="YYYY-MM")]
ExpectedVersion = Annotated[int, msgspec.Meta(ge=1)]


# --- events -------------------------------------------------------------------------------------
# Ids and tenants only: a volunteer's name or contact details never travel in an event.


@register
class VacancyPublished(EventData, frozen=True, kw_only=True):
    """Volunteer organisations that partner with the library see it in their feed."""

    service: ClassVar[str] = "volunteers"
    type: ClassVar[str] = "vacancy.published"
    vacancy_id: UUID
    library: str
    municipality: str
    title: str
    hours_per_week: int | None = None
    qualifications_needed: list[str] = []
    description: str | None = None
    certificate_of_conduct_required: bool | None = None


@register
class VacancyClosed(EventData, frozen=True, kw_only=True):
    service: ClassVar[str] = "volunteers"
    type: ClassVar[str] = "vacancy.closed"
    vacancy_id: UUID
    library: str
    municipality: str


class _VolunteerEvent(EventData, frozen=True, kw_only=True):
    """What every step of a volunteer's pipeline says: who (by id), where, and through which partner."""

    service: ClassVar[str] = "volunteers"
    volunteer_id: UUID
    library: str
    municipality: str
    kind: VolunteerKind = VolunteerKind.VOLUNTEER
    via_partner_id: UUID | None = None  # the volunteer organisation or school that supplied them


@register
class VolunteerApplied(_VolunteerEvent, frozen=True, kw_only=True):
    type: ClassVar[str] = "volunteer.applied"
    vacancy_id: UUID | None = None
    channel: ApplicationChannel


@register
class VolunteerIntakeStarted(_VolunteerEvent, frozen=True, kw_only=True):
    type: ClassVar[str] = "volunteer.intake_started"


@register
class VolunteerScreeningStarted(_VolunteerEvent, frozen=True, kw_only=True):
    type: ClassVar[str] = "volunteer.screening_started"


@register
class VolunteerActivated(_VolunteerEvent, frozen=True, kw_only=True):
    type: ClassVar[str] = "volunteer.activated"


@register
class VolunteerWithdrawn(_VolunteerEvent, frozen=True, kw_only=True):
    type: ClassVar[str] = "volunteer.withdrawn"


@register
class VolunteerRejected(_VolunteerEvent, frozen=True, kw_only=True):
    type: ClassVar[str] = "volunteer.rejected"


@register
class VolunteerDeactivated(_VolunteerEvent, frozen=True, kw_only=True):
    type: ClassVar[str] = "volunteer.deactivated"


@register
class VolunteerReactivated(_VolunteerEvent, frozen=True, kw_only=True):
    type: ClassVar[str] = "volunteer.reactivated"


@register
class CertificateRequested(_VolunteerEvent, frozen=True, kw_only=True):
    """A certificate of conduct (VOG) was requested, first or as a renewal."""

    type: ClassVar[str] = "certificate.requested"


@register
class CertificateReceived(_VolunteerEvent, frozen=True, kw_only=True):
    type: ClassVar[str] = "certificate.received"
    issued_on: date
    valid_until: date | None = None


@register
class InternRegistered(_VolunteerEvent, frozen=True, kw_only=True):
    type: ClassVar[str] = "intern.registered"
    school_partner_id: UUID
    starts_on: date
    ends_on: date


@register
class InternEnded(_VolunteerEvent, frozen=True, kw_only=True):
    type: ClassVar[str] = "intern.ended"
    school_partner_id: UUID
    ended_on: date
    before_period_end: bool = False  # ended by staff before the internship period was over


@register
class TrainingModuleAdded(EventData, frozen=True, kw_only=True):
    service: ClassVar[str] = "volunteers"
    type: ClassVar[str] = "training_module.added"
    module_id: UUID
    library: str
    municipality: str
    title: str
    delivered_by: ModuleDelivery
    provider_partner_id: UUID | None = None
    purchase_id: UUID | None = None
    qualification: str | None = None


@register
class TrainingSessionScheduled(EventData, frozen=True, kw_only=True):
    service: ClassVar[str] = "volunteers"
    type: ClassVar[str] = "training_session.scheduled"
    session_id: UUID
    module_id: UUID
    library: str
    municipality: str
    starts_at: datetime


@register
class VolunteerQualified(_VolunteerEvent, frozen=True, kw_only=True):
    type: ClassVar[str] = "volunteer.qualified"
    qualification: str
    module_id: UUID
    session_id: UUID
    obtained_on: date
    valid_until: date | None = None


@register
class QualificationExpired(_VolunteerEvent, frozen=True, kw_only=True):
    type: ClassVar[str] = "qualification.expired"
    qualification: str
    expired_on: date  # the first day it no longer holds


@register
class TrainingNeeded(EventData, frozen=True, kw_only=True):
    """A library needs volunteers trained for a qualification: theirs runs out soon, or an assignment was refused
    for lack of it. One open need per library and qualification; a change in the numbers publishes it again with
    a higher `revision` (the newest wins). Counts only: which volunteers stays in the volunteers service."""

    service: ClassVar[str] = "volunteers"
    type: ClassVar[str] = "training.needed"
    need_id: UUID
    library: str
    municipality: str
    qualification: str
    volunteers: int  # how many volunteers need the training
    needed_by: date  # the first day one of them would be without it (or soon, after a refusal)
    expiring: int = 0  # of them: the qualification runs out within the horizon, or ran out
    refused: int = 0  # of them: an assignment was refused for lack of it
    revision: int = 1
    validity_months: int | None = None  # how long the qualification holds once obtained, where the library knows


@register
class TrainingNeedMet(EventData, frozen=True, kw_only=True):
    """Nobody needs the training any more (renewed, or left): the need is closed."""

    service: ClassVar[str] = "volunteers"
    type: ClassVar[str] = "training_need.met"
    need_id: UUID
    library: str
    municipality: str
    qualification: str
    revision: int


@register
class VolunteerAssigned(_VolunteerEvent, frozen=True, kw_only=True):
    type: ClassVar[str] = "volunteer.assigned"
    assignment_id: UUID
    assignment_kind: AssignmentKind
    course_id: UUID | None = None
    course_session_id: UUID | None = None
    participant_pseudonym: str | None = None


@register
class AssignmentEnded(_VolunteerEvent, frozen=True, kw_only=True):
    type: ClassVar[str] = "assignment.ended"
    assignment_id: UUID
    course_id: UUID | None = None


@register
class HoursLogged(_VolunteerEvent, frozen=True, kw_only=True):
    type: ClassVar[str] = "hours.logged"
    assignment_id: UUID
    worked_on: date
    minutes: int


# --- requests (subjects `rpc.volunteers.<operation>`) -------------------------------------------
# A body named `...Changes` or `...Request` is what the HTTP API takes; the gateway adds the id
# from the path to make the operation's request.


class VolunteerPerson(msgspec.Struct, frozen=True, kw_only=True):
    """A volunteer's or intern's own name and contact details: kept here, never in an event."""

    name: Name
    email: Email | None = None
    phone: Phone | None = None


class SchoolSupervisor(msgspec.Struct, frozen=True, kw_only=True):
    name: Name
    email: Email | None = None
    phone: Phone | None = None


# Vacancies


class CreateVacancy(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    title: Name
    description: Text = ""
    hours_per_week: Annotated[int, msgspec.Meta(ge=0, le=80)] | None = None
    qualifications_needed: list[Qualification] = []
    certificate_of_conduct_required: bool = True
    library: Slug | None = None  # staff: their own library (the default); operators name one


class VacancyChanges(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """Fields left out (or null) stay as they are."""

    title: Name | None = None
    description: Text | None = None
    hours_per_week: Annotated[int, msgspec.Meta(ge=0, le=80)] | None = None
    qualifications_needed: list[Qualification] | None = None
    certificate_of_conduct_required: bool | None = None
    expected_version: ExpectedVersion | None = None


class UpdateVacancy(VacancyChanges, frozen=True, kw_only=True, forbid_unknown_fields=True):
    vacancy_id: UUID


class VacancyStepRequest(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    expected_version: ExpectedVersion | None = None


class TakeVacancyStep(VacancyStepRequest, frozen=True, kw_only=True, forbid_unknown_fields=True):
    vacancy_id: UUID
    step: VacancyStep


class GetVacancy(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    vacancy_id: UUID


class ListVacancies(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    cursor: str | None = None
    limit: Limit = DEFAULT_LIMIT
    status: VacancyStatus | None = None
    library: Slug | None = None


class VacancyView(msgspec.Struct, frozen=True, kw_only=True):
    id: UUID
    library: str
    municipality: str
    title: str
    description: str
    hours_per_week: int | None
    qualifications_needed: list[str]
    certificate_of_conduct_required: bool
    status: VacancyStatus
    version: int
    created_at: datetime
    published_at: datetime | None = None
    closed_at: datetime | None = None


# Applications and the pipeline


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
    cursor: str | None = None
    limit: Limit = DEFAULT_LIMIT
    kind: VolunteerKind | None = None
    status: VolunteerStatus | None = None
    library: Slug | None = None
    vacancy_id: UUID | None = None
    via_partner_id: UUID | None = None
    # Parts of the name ("jansen", "Piet Jansen"), whole parts only: matched on keyed digests, never in clear.
    name: Name | None = None


# Screening: the certificate of conduct (VOG)


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


# Interns


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


class InternshipView(msgspec.Struct, frozen=True, kw_only=True):
    school_partner_id: UUID
    starts_on: date
    ends_on: date
    supervisor: SchoolSupervisor | None  # contact details, for the library's staff and the school
    learning_goals: list[str]
    hours: int
    ended_on: date | None = None


class QualificationView(msgspec.Struct, frozen=True, kw_only=True):
    code: str
    module_id: UUID | None
    obtained_on: date
    valid_until: date | None
    valid: bool  # on today's date


class ListQualifications(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """Who holds which qualification: for a volunteer, or for a code across the library or municipality."""

    cursor: str | None = None
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


# Training


class AddTrainingModule(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    title: Name
    delivered_by: ModuleDelivery
    description: Text = ""
    provider_partner_id: UUID | None = None  # the volunteer organisation that gives it
    qualification: Qualification | None = None
    validity_months: Annotated[int, msgspec.Meta(ge=1, le=240)] | None = None  # None: it does not expire
    library: Slug | None = None


class TrainingModuleChanges(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    title: Name | None = None
    description: Text | None = None
    qualification: Qualification | None = None
    validity_months: Annotated[int, msgspec.Meta(ge=1, le=240)] | None = None
    expected_version: ExpectedVersion | None = None


class UpdateTrainingModule(TrainingModuleChanges, frozen=True, kw_only=True, forbid_unknown_fields=True):
    module_id: UUID


class GetTrainingModule(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    module_id: UUID


class ListTrainingModules(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    cursor: str | None = None
    limit: Limit = DEFAULT_LIMIT
    library: Slug | None = None
    delivered_by: ModuleDelivery | None = None


class TrainingModuleView(msgspec.Struct, frozen=True, kw_only=True):
    id: UUID
    library: str
    municipality: str
    title: str
    description: str
    delivered_by: ModuleDelivery
    provider_partner_id: UUID | None
    purchase_id: UUID | None
    qualification: str | None
    validity_months: int | None
    version: int
    created_at: datetime


class TrainingSessionRequest(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    starts_at: AwareDatetime
    place: Name
    ends_at: AwareDatetime | None = None
    capacity: Annotated[int, msgspec.Meta(ge=1, le=500)] | None = None


class ScheduleTrainingSession(TrainingSessionRequest, frozen=True, kw_only=True, forbid_unknown_fields=True):
    module_id: UUID


class GetTrainingSession(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    session_id: UUID


class ListTrainingSessions(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    cursor: str | None = None
    limit: Limit = DEFAULT_LIMIT
    module_id: UUID | None = None
    library: Slug | None = None


class AttendanceRequest(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    volunteer_id: UUID
    attended: bool = True
    completed: bool = False  # the module is completed: it gives its qualification


class RecordAttendance(AttendanceRequest, frozen=True, kw_only=True, forbid_unknown_fields=True):
    session_id: UUID


class AttendanceView(msgspec.Struct, frozen=True, kw_only=True):
    volunteer_id: UUID
    attended: bool
    completed: bool
    recorded_at: datetime


class TrainingSessionView(msgspec.Struct, frozen=True, kw_only=True):
    id: UUID
    module_id: UUID
    library: str
    municipality: str
    starts_at: datetime
    ends_at: datetime | None
    place: str
    capacity: int | None
    attendance: list[AttendanceView]
    created_at: datetime


# Assignments: open assignments (from courses that need guidance), assignments, hours


class GetOpening(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    opening_id: UUID


class ListOpenings(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    cursor: str | None = None
    limit: Limit = DEFAULT_LIMIT
    library: Slug | None = None
    open_only: bool = True  # only those that still need volunteers


class OpeningChanges(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """What the library asks of the volunteers who guide this course."""

    qualifications_needed: list[Qualification] | None = None
    certificate_of_conduct_required: bool | None = None
    expected_version: ExpectedVersion | None = None


class UpdateOpening(OpeningChanges, frozen=True, kw_only=True, forbid_unknown_fields=True):
    opening_id: UUID


class OpeningView(msgspec.Struct, frozen=True, kw_only=True):
    """A course that needs volunteers as guides: an open assignment until enough are assigned."""

    id: UUID
    course_id: UUID
    library: str
    municipality: str
    title: str
    skill_area: SkillArea
    volunteers_needed: int
    assigned: int
    places_left: int
    qualifications_needed: list[str]
    certificate_of_conduct_required: bool
    version: int
    opened_at: datetime
    cancelled_at: datetime | None = None  # the course was cancelled


class AssignVolunteer(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    volunteer_id: UUID
    kind: AssignmentKind
    opening_id: UUID | None = None  # a course assignment fills an open assignment
    course_session_id: UUID | None = None  # one session of that course, or the whole course
    participant_pseudonym: Pseudonym | None = None  # a buddy assignment names the participant by pseudonym
    qualifications_needed: list[Qualification] = []  # on top of what the role and the course ask
    starts_on: date | None = None
    ends_on: date | None = None


class AssignmentStepRequest(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    expected_version: ExpectedVersion | None = None


class EndAssignment(AssignmentStepRequest, frozen=True, kw_only=True, forbid_unknown_fields=True):
    assignment_id: UUID


class GetAssignment(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    assignment_id: UUID


class ListAssignments(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    cursor: str | None = None
    limit: Limit = DEFAULT_LIMIT
    volunteer_id: UUID | None = None
    opening_id: UUID | None = None
    status: AssignmentStatus | None = None
    library: Slug | None = None


class AssignmentView(msgspec.Struct, frozen=True, kw_only=True):
    id: UUID
    volunteer_id: UUID
    library: str
    municipality: str
    kind: AssignmentKind
    status: AssignmentStatus
    opening_id: UUID | None
    course_id: UUID | None
    course_session_id: UUID | None
    participant_pseudonym: str | None
    starts_on: date | None
    ends_on: date | None
    minutes_logged: int
    version: int
    assigned_at: datetime
    ended_at: datetime | None = None


class HoursRequest(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    worked_on: date
    minutes: Minutes
    note: Annotated[str, msgspec.Meta(max_length=500)] | None = None


class LogHours(HoursRequest, frozen=True, kw_only=True, forbid_unknown_fields=True):
    assignment_id: UUID


class HoursEntryView(msgspec.Struct, frozen=True, kw_only=True):
    id: UUID
    assignment_id: UUID
    volunteer_id: UUID
    library: str
    worked_on: date
    month: str
    minutes: int
    note: str | None
    logged_at: datetime


class ListHoursTotals(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """Hours summed per volunteer, library and month."""

    cursor: str | None = None
    limit: Limit = DEFAULT_LIMIT
    volunteer_id: UUID | None = None
    library: Slug | None = None
    month: Month | None = None


class HoursTotalView(msgspec.Struct, frozen=True, kw_only=True):
    volunteer_id: UUID
    library: str
    month: str
    minutes: int
    entries: int


# --- statistics for the gateway's municipality overview (`rpc.volunteers.statistics`) -----------


class GetVolunteersStatistics(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """Volunteer figures within the actor's scope: operators all (or `municipality`), coordinators their
    municipality, staff their library; partners Forbidden. `library` narrows further."""

    municipality: str | None = None
    library: str | None = None


class VolunteerFigures(msgspec.Struct, frozen=True, kw_only=True):
    active_volunteers: int  # volunteers and interns whose involvement is active now
    open_vacancies: int  # published vacancies not yet filled or closed
    active_interns: int = 0


class LibraryVolunteerFigures(msgspec.Struct, frozen=True, kw_only=True):
    library: str
    figures: VolunteerFigures


class PartnerVolunteerFigures(msgspec.Struct, frozen=True, kw_only=True):
    """Per partner that supplies volunteers or interns (volunteer organisations, schools), within scope."""

    partner_id: UUID
    figures: VolunteerFigures


class VolunteersStatistics(msgspec.Struct, frozen=True, kw_only=True):
    libraries: list[LibraryVolunteerFigures]
    partners: list[PartnerVolunteerFigures]
