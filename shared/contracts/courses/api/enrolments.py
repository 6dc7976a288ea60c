"""Requests and views of enrolment in a session, its waiting list and attendance. Participants by pseudonym only."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated
from uuid import UUID

import msgspec

from shared.contracts.courses.events import EnrolmentStatus
from shared.contracts.vocabulary import DEFAULT_LIMIT, Cursor, ExpectedVersion, Limit, Pseudonym, Reason


class Enrol(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """From a referral (its pseudonym is used), or directly by pseudonym (one is made up when none is given)."""

    referral_id: UUID | None = None
    participant_pseudonym: Pseudonym | None = None


class EnrolParticipant(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    session_id: UUID
    enrolment: Enrol


class Cancellation(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    reason: Reason | None = None
    expected_version: ExpectedVersion | None = None


class CancelEnrolment(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    enrolment_id: UUID
    cancellation: Cancellation = msgspec.field(default_factory=Cancellation)  # without a reason or a version


class Attendance(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    meeting: Annotated[int, msgspec.Meta(ge=1, le=100)]  # 1-based number of the session's meeting
    present: bool
    expected_version: ExpectedVersion | None = None


class RecordAttendance(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    enrolment_id: UUID
    attendance: Attendance


class Presence(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """One person on a meeting's register."""

    enrolment_id: UUID
    present: bool
    expected_version: ExpectedVersion | None = None


class Register(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """A whole meeting's register: everyone in it is recorded, or (on any problem) nobody is."""

    meeting: Annotated[int, msgspec.Meta(ge=1, le=100)]  # 1-based number of the session's meeting
    marks: Annotated[list[Presence], msgspec.Meta(min_length=1, max_length=500)]


class RecordRegister(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    session_id: UUID
    register: Register


class RegisterView(msgspec.Struct, frozen=True, kw_only=True):
    session_id: UUID
    meeting: int
    enrolments: list[EnrolmentView]  # those recorded, in the register's order, as they are now


class GetEnrolment(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    enrolment_id: UUID


class ListEnrolments(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """In the order they came in: so a session's waiting list reads top to bottom."""

    session_id: UUID | None = None
    course_id: UUID | None = None
    status: EnrolmentStatus | None = None
    referral_id: UUID | None = None
    participant_pseudonym: Pseudonym | None = None
    cursor: Cursor | None = None
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
