"""Requests and views of tailored education (maatwerkeducatie): a referrer asks a library for a course for a group of
its clients; the library plans one, whose places are reserved for that referrer's referrals first, or declines."""

from __future__ import annotations

import enum
from datetime import date, datetime
from typing import Annotated
from uuid import UUID

import msgspec

from shared.contracts.vocabulary import DEFAULT_LIMIT, Cursor, ExpectedVersion, Limit, Name, Note, SkillArea, Slug


class EducationRequestStatus(enum.StrEnum):
    REQUESTED = "requested"
    PLANNED = "planned"  # a course is planned for it
    DECLINED = "declined"


class EducationDecision(enum.StrEnum):
    PLAN = "plan"
    DECLINE = "decline"


class ReservationEnd(enum.StrEnum):
    """Why the places kept for the referrer's referrals were given up."""

    DATE_PASSED = "date_passed"  # its last day, set by the library when planning, went by
    RELEASED = "released"  # the referrer said it needs no more


class RequestTailoredEducation(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """A referrer's request to a library it partners with as a referrer."""

    library: Slug
    target_group: Name  # who the clients are ("job seekers with low digital skills"): a group, never a person
    skill_area: SkillArea
    clients: Annotated[int, msgspec.Meta(ge=1, le=100)]
    preferred_from: date
    preferred_until: date
    note: Note | None = None


class EducationAnswer(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """The library's answer: a course of its own planned for the request (its places reserved for the referrer's
    referrals, up to the clients asked for), or a decline with a reason."""

    decision: EducationDecision
    course_id: UUID | None = None
    reason: Note | None = None
    # With a plan: the last day the places are kept for the referrer's referrals (today or later); after it, the
    # places it did not use go to the general waiting list. Without one they are kept until the referrer releases
    # them.
    reserved_until: date | None = None
    expected_version: ExpectedVersion | None = None


class AnswerEducationRequest(EducationAnswer, frozen=True, kw_only=True, forbid_unknown_fields=True):
    request_id: UUID


class ReservationRelease(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    expected_version: ExpectedVersion | None = None


class ReleaseReservation(ReservationRelease, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """The referrer needs the places kept for its referrals no more: the unused ones go to the waiting list."""

    request_id: UUID


class GetEducationRequest(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    request_id: UUID


class ListEducationRequests(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    status: EducationRequestStatus | None = None
    cursor: Cursor | None = None
    limit: Limit = DEFAULT_LIMIT


class EducationRequestView(msgspec.Struct, frozen=True, kw_only=True):
    id: UUID
    library: str
    municipality: str
    partner_id: UUID
    target_group: str
    skill_area: SkillArea
    clients: int
    preferred_from: date
    preferred_until: date
    note: str | None
    status: EducationRequestStatus
    course_id: UUID | None
    reserved_places: int | None
    reason: str | None
    requested_by: str
    answered_by: str | None
    created_at: datetime
    answered_at: datetime | None
    version: int
    # A planned request's reservation: kept through `reserved_until` (None: until released), ended when and why.
    reserved_until: date | None = None
    reservation_ended_at: datetime | None = None
    reservation_end: ReservationEnd | None = None
