"""Requests and views of assignments: open assignments from courses that need guidance, a volunteer's
assignments, and the hours they log.
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
    ExpectedVersion,
    Limit,
    Pseudonym,
    Qualification,
    Reason,
    SkillArea,
    Slug,
)
from shared.contracts.volunteers.events import AssignmentKind


class AssignmentStatus(enum.StrEnum):
    ACTIVE = "active"
    ENDED = "ended"


class HoursChange(enum.StrEnum):
    CORRECTED = "corrected"
    REMOVED = "removed"


Minutes = Annotated[int, msgspec.Meta(ge=1, le=24 * 60, description="minutes worked on the day")]


Month = Annotated[str, msgspec.Meta(pattern=r"^[0-9]{4}-(0[1-9]|1[0-2])$", description="YYYY-MM")]


class GetOpening(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    opening_id: UUID


class ListOpenings(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    cursor: Cursor | None = None
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
    # A buddy assignment names the participant by the pseudonym of a referral the library received, or the referral.
    participant_pseudonym: Pseudonym | None = None
    referral_id: UUID | None = None
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
    cursor: Cursor | None = None
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
    referral_id: UUID | None = None  # a buddy's: the referral the participant is known by


class HoursRequest(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    worked_on: date
    minutes: Minutes
    note: Annotated[str, msgspec.Meta(max_length=500)] | None = None


class LogHours(HoursRequest, frozen=True, kw_only=True, forbid_unknown_fields=True):
    assignment_id: UUID


class HoursChangeView(msgspec.Struct, frozen=True, kw_only=True):
    """One correction or removal of an entry, with what the entry said before it."""

    change: HoursChange
    at: datetime
    by: str
    reason: str | None  # None once the person's data was erased
    worked_on: date
    minutes: int
    note: str | None


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
    version: int = 1
    removed_at: datetime | None = None  # removed: it no longer counts
    history: list[HoursChangeView] = []  # oldest first


class HoursCorrection(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """What was wrong in an entry, and why it is put right (kept in the entry's history)."""

    reason: Reason
    worked_on: date | None = None
    minutes: Minutes | None = None
    note: Annotated[str, msgspec.Meta(max_length=500)] | None = None
    expected_version: ExpectedVersion | None = None


class CorrectHours(HoursCorrection, frozen=True, kw_only=True, forbid_unknown_fields=True):
    assignment_id: UUID
    entry_id: UUID


class HoursRemoval(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    reason: Reason
    expected_version: ExpectedVersion | None = None


class RemoveHours(HoursRemoval, frozen=True, kw_only=True, forbid_unknown_fields=True):
    assignment_id: UUID
    entry_id: UUID


class ListHours(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """An assignment's entries, removed ones included (flagged), each with its history."""

    assignment_id: UUID
    cursor: Cursor | None = None
    limit: Limit = DEFAULT_LIMIT


class ListHoursTotals(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """Hours summed per volunteer, library and month."""

    cursor: Cursor | None = None
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
