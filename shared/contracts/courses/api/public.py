"""Requests and views of the public course calendar (issue 22): the municipality's offer as residents see it,
without signing in, and residents' own sign-ups. Nothing here names a person; a registration is reached by the
link in the resident's e-mail (its token), never by an id a caller could guess.
"""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Annotated, Literal
from uuid import UUID

import msgspec

from shared.contracts.courses.api.courses import Location, Meeting
from shared.contracts.courses.events import Audience, CourseFormat
from shared.contracts.vocabulary import Email, Name, Phone, SkillArea, Slug

Language = Literal["nl", "en"]
# A registration's link: its id in hex and a keyed digest (services/courses/domain/residents.py).
RegistrationToken = Annotated[str, msgspec.Meta(pattern=r"^[0-9a-f]{32}[A-Za-z0-9_-]{24}$")]
Weekday = Annotated[int, msgspec.Meta(ge=1, le=7, description="ISO weekday: 1 is Monday")]


class PublicCalendar(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """The published sessions to come of every library and partner of a municipality, for residents."""

    municipality: Slug
    skill_area: SkillArea | None = None
    audience: Audience | None = None
    library: Slug | None = None  # offered or hosted by this library
    place: Annotated[str, msgspec.Meta(min_length=1, max_length=100)] | None = None  # part of place, branch, address
    weekday: Weekday | None = None  # the first meeting's day, in Dutch time
    session_id: UUID | None = None  # one session only (its own page)


class PublicSession(msgspec.Struct, frozen=True, kw_only=True):
    session_id: UUID
    course_id: UUID
    title: str
    description: str
    skill_area: SkillArea
    audience: Audience
    level: str | None
    format: CourseFormat
    price_cents: int
    offered_by: str
    library: str | None
    library_name: str | None
    location: Location
    place: str | None  # the session's room or address, where it has one
    meetings: list[Meeting]
    starts_at: datetime
    ends_at: datetime
    capacity: int
    places_free: int
    waiting_list: int
    changed_at: datetime  # the later of the course's and the session's last change
    offered_by_partner_id: UUID | None = None  # a partner's own course (the open data publishes it if it agreed)


class PublicLibrary(msgspec.Struct, frozen=True, kw_only=True):
    slug: str
    name: str


class PublicCalendarView(msgspec.Struct, frozen=True, kw_only=True):
    municipality: str
    libraries: list[PublicLibrary]  # the municipality's libraries, for the filter and the per-library feeds
    sessions: list[PublicSession]  # by start time
    generated_at: datetime


class RegisterResident(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """A resident signs up: a name and an e-mail address to confirm with and be reached at (a phone if they
    like). Nothing happens to the places until they confirm from the e-mail."""

    municipality: Slug
    session_id: UUID
    name: Name
    email: Email
    phone: Phone | None = None
    language: Language = "nl"


class RegistrationReceived(msgspec.Struct, frozen=True, kw_only=True):
    """The same answer whether the address was new or had signed up already: it tells nobody who signed up."""

    session_id: UUID
    course_title: str
    starts_at: datetime
    confirm_within_hours: int


class RegistrationStep(enum.StrEnum):
    CONFIRM = "confirm"  # from the e-mail: take a place or a spot on the waiting list
    ACCEPT = "accept"  # a place offered from the waiting list
    CANCEL = "cancel"
    ERASE = "erase"  # cancel and forget the resident's name and address now


class OpenRegistration(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    token: RegistrationToken
    municipality: Slug  # whose pages the link came through: another municipality's link is no link there


class TakeRegistrationStep(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    token: RegistrationToken
    step: RegistrationStep
    # Checked by the service before the step is taken: a refused link changes nothing.
    municipality: Slug


class RegistrationState(enum.StrEnum):
    UNCONFIRMED = "unconfirmed"
    PLACE = "place"
    WAITING_LIST = "waiting_list"
    OFFERED = "offered"  # a place from the waiting list, held until `offer_expires_at`
    CANCELLED = "cancelled"
    EXPIRED = "expired"  # not confirmed in time


class RegistrationView(msgspec.Struct, frozen=True, kw_only=True):
    """What the resident's link shows: the course, where they stand, until when. No name or address."""

    municipality: str
    session_id: UUID
    course_title: str
    starts_at: datetime
    ends_at: datetime
    state: RegistrationState
    language: Language
    waiting_list_position: int | None = None
    offer_expires_at: datetime | None = None
    confirm_by: datetime | None = None
    cancel_reason: str | None = None  # by_resident, offer_lapsed, not_confirmed, session_cancelled
    erased: bool = False
