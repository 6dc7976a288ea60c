"""Residents' personal data in the courses service (issue 22): who signed up for a session, for those who run it
(the library's staff: name and how to reach them; the partner that gives the course: names only), every read in
the access log; the resident's export through their link; erasure by the library's staff; re-sealing with the
newest key (operators, the same request and reply as the referrals and volunteers services')."""

from __future__ import annotations

import enum
from datetime import datetime
from uuid import UUID

import msgspec

from shared.contracts.courses.api.enrolments import AttendanceMark
from shared.contracts.courses.api.public import Language, RegistrationToken, RegistrationView
from shared.contracts.courses.events import EnrolmentStatus
from shared.contracts.vocabulary import DEFAULT_LIMIT, Cursor, Limit, Slug


class ListSessionResidents(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """A page at a time, in the order they came in (the reply's `next_cursor` as the next request's `cursor`)."""

    session_id: UUID
    cursor: Cursor | None = None
    limit: Limit = DEFAULT_LIMIT


class ResidentDetail(enum.StrEnum):
    """How much of a resident those who run the course see."""

    CONTACT = "contact"  # the library's staff: name, e-mail address, phone (to reach them)
    NAME = "name"  # the partner that gives the course: who is in the room, nothing to reach them by


class RegisteredResident(msgspec.Struct, frozen=True, kw_only=True):
    registration_id: UUID
    enrolment_id: UUID
    participant_pseudonym: str
    status: EnrolmentStatus  # confirmed (a place) or waitlisted
    name: str
    email: str | None  # None for a detail of NAME
    phone: str | None
    language: Language
    confirmed_at: datetime
    # A place offered from the waiting list and not yet accepted: until when it is held for them (status is still
    # waitlisted; the place goes to the next one after it).
    offer_expires_at: datetime | None = None


class SessionResidents(msgspec.Struct, frozen=True, kw_only=True):
    """A page of the residents with a place or on the waiting list, in the order they came in. Each read is in the
    access log (the page's residents only)."""

    session_id: UUID
    detail: ResidentDetail
    residents: list[RegisteredResident]
    next_cursor: str | None = None  # as a page (shared/contracts/vocabulary.py Page): absent on the last


class ResidentDataPurpose(enum.StrEnum):
    VIEW = "view"  # those who run the course listed the session's residents
    EXPORT = "export"  # the resident's own export
    ERASE = "erase"  # not a read: the library's staff erased the data, so the log tells the whole story


class ResidentDataRead(msgspec.Struct, frozen=True, kw_only=True):
    actor: str
    actor_role: str
    actor_organisation: str | None
    purpose: ResidentDataPurpose
    at: datetime


class ExportResidentData(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    token: RegistrationToken
    municipality: Slug  # whose pages the link came through (OpenRegistration): checked before the read is logged


class ResidentExport(msgspec.Struct, frozen=True, kw_only=True):
    """Everything held about a resident's registration (the right of access), by their link."""

    registration: RegistrationView
    name: str | None  # None once erased
    email: str | None
    phone: str | None
    participant_pseudonym: str | None  # their enrolment's, once confirmed
    registered_at: datetime
    confirmed_at: datetime | None
    closed_at: datetime | None
    erased_at: datetime | None
    kept_until: datetime | None  # when name and address go at the latest, if not erased before
    attendance: list[AttendanceMark]
    access_log: list[ResidentDataRead]  # who read the name and address, oldest first
    exported_at: datetime


class EraseResidentData(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    registration_id: UUID
    session_id: UUID | None = None  # given, the registration must be one of this session (else not found)


class ResidentErased(msgspec.Struct, frozen=True, kw_only=True):
    registration_id: UUID
    session_id: UUID
    erased_at: datetime
