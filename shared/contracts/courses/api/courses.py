"""Requests and views of the municipality's course offer: courses and their sessions
(subjects `rpc.courses.<operation>`).
"""

from __future__ import annotations

import enum
from datetime import date, datetime
from typing import Annotated
from uuid import UUID

import msgspec

from shared.contracts.courses.events import Audience, CourseFormat, LibraryContribution, LocationKind
from shared.contracts.vocabulary import (
    DEFAULT_LIMIT,
    AwareDatetime,
    Cents,
    Count,
    Cursor,
    ExpectedVersion,
    Limit,
    Name,
    Reason,
    Short,
    SkillArea,
    Slug,
    Text,
)


class CourseStatus(enum.StrEnum):
    DRAFT = "draft"
    PUBLISHED = "published"
    CANCELLED = "cancelled"


class SessionStatus(enum.StrEnum):
    SCHEDULED = "scheduled"
    CANCELLED = "cancelled"


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

    expected_version: ExpectedVersion | None = None
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

    expected_version: ExpectedVersion | None = None


class ReasonedStep(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    reason: Reason
    expected_version: ExpectedVersion | None = None


class PublishCourse(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    course_id: UUID
    expected_version: ExpectedVersion | None = None


class CancelCourse(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    course_id: UUID
    reason: Reason
    expected_version: ExpectedVersion | None = None


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
    cursor: Cursor | None = None
    limit: Limit = DEFAULT_LIMIT


class CourseTask(enum.StrEnum):
    """What the library does for a partner's course it hosts, one task per contribution it brings."""

    ROOM_BOOKED = "room_booked"  # location
    PROMOTION_DONE = "promotion_done"  # promotion
    PARTICIPANTS_RECRUITED = "participants_recruited"  # recruitment


class CourseTaskView(msgspec.Struct, frozen=True, kw_only=True):
    task: CourseTask
    done: bool
    done_at: datetime | None = None
    done_by: str | None = None


class CourseTaskCheck(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    done: bool = True


class CheckCourseTask(CourseTaskCheck, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """The hosting library's staff tick a task of theirs off (or on again)."""

    course_id: UUID
    task: CourseTask


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
    # A partner's course hosted at a library (the SeniorWeb model): who does what. The partner brings the content
    # and the guidance; the library what `library_contributions` says, each a task its staff tick off.
    partner_brings: list[str] = []
    library_tasks: list[CourseTaskView] = []


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

    expected_version: ExpectedVersion | None = None
    meetings: Annotated[list[Meeting], msgspec.Meta(min_length=1, max_length=100)] | None = None
    capacity: Annotated[int, msgspec.Meta(ge=1, le=10_000)] | None = None
    place: Short | None = None


class UpdateSession(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    session_id: UUID
    changes: SessionChanges


class CancelSession(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    session_id: UUID
    reason: Reason
    expected_version: ExpectedVersion | None = None


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
    cursor: Cursor | None = None
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
