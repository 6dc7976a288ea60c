"""Events of the courses service's offer: courses, their sessions, enrolment and waiting lists, attendance; and the
words the offer and purchasing share (audiences, formats, locations).

Participants appear by pseudonym only. Frozen: tests/contracts compares each type's JSON Schema with its snapshot.
"""

from __future__ import annotations

import enum
from datetime import datetime
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
