"""Events of the volunteers service: vacancies, a volunteer's or intern's way in, training and assignments.

Ids and tenants only: a volunteer's name or contact details never travel in an event; a participant
appears by pseudonym alone (a buddy).
Frozen: tests/contracts compares each type's JSON Schema with its snapshot.
"""

from __future__ import annotations

import enum
from datetime import date, datetime
from typing import ClassVar
from uuid import UUID

from shared.contracts import EventData, register
from shared.contracts.referrals.events import AnonymisationReason


class VolunteerKind(enum.StrEnum):
    VOLUNTEER = "volunteer"
    INTERN = "intern"


class ApplicationChannel(enum.StrEnum):
    LIBRARY = "library"  # the library's own channel
    VOLUNTEER_ORGANISATION = "volunteer_organisation"  # through a partner; `via_partner_id` says which
    EDUCATIONAL_INSTITUTION = "educational_institution"  # interns, supplied by a school


class ModuleDelivery(enum.StrEnum):
    LIBRARY = "library"
    VOLUNTEER_ORGANISATION = "volunteer_organisation"
    PURCHASE = "purchase"  # bought through the courses service's purchasing


class AssignmentKind(enum.StrEnum):
    COURSE = "course"  # guidance at a course (session) of the courses service
    BUDDY = "buddy"  # a buddy to one participant, known by pseudonym


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
class InternPeriodConfirmed(_VolunteerEvent, frozen=True, kw_only=True):
    """The school confirmed its intern's period as registered."""

    type: ClassVar[str] = "intern.period_confirmed"
    school_partner_id: UUID
    starts_on: date
    ends_on: date


@register
class InternAssessed(_VolunteerEvent, frozen=True, kw_only=True):
    """The library assessed its intern at the end of the period: the school reads it (`GET /api/v1/volunteers/{id}`);
    the assessment itself is about a person and stays sealed in the volunteers service."""

    type: ClassVar[str] = "intern.assessed"
    school_partner_id: UUID
    goals: int  # learning goals assessed
    goals_achieved: int


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
    scheduled_by_partner_id: UUID | None = None  # the volunteer organisation that runs it scheduled it itself


@register
class VolunteerQualified(_VolunteerEvent, frozen=True, kw_only=True):
    type: ClassVar[str] = "volunteer.qualified"
    qualification: str
    module_id: UUID
    session_id: UUID
    obtained_on: date
    valid_until: date | None = None
    granted_by_partner_id: UUID | None = None  # the volunteer organisation that trained them recorded it


@register
class QualificationRenewalRequested(_VolunteerEvent, frozen=True, kw_only=True):
    """A qualification of a volunteer a partner supplied runs out soon: the partner (its feed) sees to a training.
    Once per last valid day; a renewal that runs out later is told again when its time comes."""

    type: ClassVar[str] = "qualification.renewal_requested"
    qualification: str
    valid_until: date  # its last valid day


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
    referral_id: UUID | None = None  # a buddy's: the referral the participant is known by


class _BuddyEvent(EventData, frozen=True, kw_only=True):
    """A referred participant's language buddy, named like a referral event's parties so that the partners'
    feeds route it alike: the referrer learns its participant has a buddy. Which volunteer stays here."""

    service: ClassVar[str] = "volunteers"
    referral_id: UUID
    participant_pseudonym: str
    referring_partner_id: UUID | None  # None when a library referred
    receiving_partner_id: UUID | None  # None when the library receives
    library: str
    municipality: str
    assignment_id: UUID


@register
class BuddyAssigned(_BuddyEvent, frozen=True, kw_only=True):
    type: ClassVar[str] = "buddy.assigned"
    starts_on: date
    ends_on: date | None = None


@register
class BuddyEnded(_BuddyEvent, frozen=True, kw_only=True):
    type: ClassVar[str] = "buddy.ended"
    ended_on: date


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
    entry_id: UUID | None = None  # what a later correction or removal names


@register
class HoursCorrected(_VolunteerEvent, frozen=True, kw_only=True):
    """A wrong entry was put right: its day and minutes now, and before (a sum of hours adds the difference)."""

    type: ClassVar[str] = "hours.corrected"
    assignment_id: UUID
    entry_id: UUID
    worked_on: date
    minutes: int
    previous_worked_on: date
    previous_minutes: int


@register
class HoursRemoved(_VolunteerEvent, frozen=True, kw_only=True):
    """An entry logged by mistake no longer counts (it stays in the entry's history)."""

    type: ClassVar[str] = "hours.removed"
    assignment_id: UUID
    entry_id: UUID
    worked_on: date
    minutes: int


@register
class VolunteerAnonymised(_VolunteerEvent, frozen=True, kw_only=True):
    """The person's name, contact details, motivation, certificates of conduct and notes are erased; the record
    (status, dates, qualifications, assignments, hours) stays, nameless, for the figures."""

    type: ClassVar[str] = "volunteer.anonymised"
    reason: AnonymisationReason
    anonymised_at: datetime
