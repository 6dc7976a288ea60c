"""A volunteer's personal data and their rights: the export (right of access), erasure, the library's retention
policy, and re-sealing it with the newest key (the referrals service's request and result, the same for both).
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated
from uuid import UUID

import msgspec

from shared.contracts.vocabulary import Slug
from shared.contracts.volunteers.api.access_log import VolunteerReadEntry
from shared.contracts.volunteers.api.assignments import AssignmentStatus, HoursChangeView
from shared.contracts.volunteers.api.volunteers import VolunteerStatus, VolunteerView
from shared.contracts.volunteers.events import AssignmentKind

RetentionDays = Annotated[int, msgspec.Meta(ge=1, le=3650)]


class ExportVolunteerData(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    volunteer_id: UUID


class EraseVolunteerData(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """Erase now: someone still in service leaves it first (withdrawn, made inactive, or the internship ended)."""

    volunteer_id: UUID


class VolunteerHistoryEntry(msgspec.Struct, frozen=True, kw_only=True):
    status: VolunteerStatus
    step: str | None
    at: datetime
    actor: str
    reason: str | None


class CertificateRecord(msgspec.Struct, frozen=True, kw_only=True):
    requested_at: datetime
    received_at: datetime | None
    issued_on: date | None
    valid_until: date | None


class AssignmentRecord(msgspec.Struct, frozen=True, kw_only=True):
    id: UUID
    kind: AssignmentKind
    status: AssignmentStatus
    course_id: UUID | None
    starts_on: date | None
    ends_on: date | None
    assigned_at: datetime
    ended_at: datetime | None


class HoursRecord(msgspec.Struct, frozen=True, kw_only=True):
    assignment_id: UUID
    worked_on: date
    minutes: int
    note: str | None
    logged_at: datetime
    removed_at: datetime | None = None  # logged by mistake: it no longer counts
    id: UUID | None = None
    history: list[HoursChangeView] = []  # corrections and removal, with what the entry said before


class TrainingRecord(msgspec.Struct, frozen=True, kw_only=True):
    session_id: UUID
    attended: bool
    completed: bool
    recorded_at: datetime


class VolunteerExport(msgspec.Struct, frozen=True, kw_only=True):
    """Everything the volunteers service holds about one person (the right of access), machine-readable."""

    volunteer: VolunteerView  # with name, contact details, motivation, internship and its supervisor
    history: list[VolunteerHistoryEntry]
    certificates_of_conduct: list[CertificateRecord]
    assignments: list[AssignmentRecord]
    hours: list[HoursRecord]
    training: list[TrainingRecord]
    retention: VolunteerPolicyView  # how long the library keeps it after the person leaves
    erase_after: datetime | None  # when it goes if nothing changes; None while the person is in service
    exported_at: datetime
    access_log: list[VolunteerReadEntry] = []  # every read of their personal data, this export's own included


class GetVolunteerPolicy(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    library: Slug | None = None  # staff: their own library; coordinators and operators name one


CertificateValidityMonths = Annotated[int, msgspec.Meta(ge=1, le=120)]
CertificateMaxAgeMonths = Annotated[int, msgspec.Meta(ge=1, le=24)]


class SetVolunteerPolicy(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """How long the library keeps the personal data of people who left, in days after leaving, and its rules for
    certificates of conduct (VOG); a certificate rule left out stays as it is."""

    applicant_retention_days: RetentionDays  # applicants who never served (withdrawn or rejected)
    volunteer_retention_days: RetentionDays  # volunteers and interns who served
    # How long a certificate counts after its issue date when its receipt names no end (default 36).
    certificate_validity_months: CertificateValidityMonths | None = None
    # How recent it must be: issued at most this many months before it was requested (default 3).
    certificate_max_age_months: CertificateMaxAgeMonths | None = None
    library: Slug | None = None
    expected_version: Annotated[int, msgspec.Meta(ge=0)] | None = None  # 0: the library still has the default


class VolunteerPolicyView(msgspec.Struct, frozen=True, kw_only=True):
    library: str
    applicant_retention_days: int
    volunteer_retention_days: int
    is_default: bool
    version: int  # 0 while the library has the default
    certificate_validity_months: int = 36
    certificate_max_age_months: int = 3
