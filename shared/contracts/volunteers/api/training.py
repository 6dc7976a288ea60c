"""Requests and views of training for volunteers: modules, sessions and attendance."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated
from uuid import UUID

import msgspec
from msgspec import UNSET, UnsetType

from shared.contracts.vocabulary import (
    DEFAULT_LIMIT,
    AwareDatetime,
    Cursor,
    ExpectedVersion,
    Limit,
    MergePatch,
    Name,
    Qualification,
    Slug,
    Text,
)
from shared.contracts.volunteers.events import ModuleDelivery


class AddTrainingModule(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    title: Name
    delivered_by: ModuleDelivery
    description: Text = ""
    provider_partner_id: UUID | None = None  # the volunteer organisation that gives it
    qualification: Qualification | None = None
    validity_months: Annotated[int, msgspec.Meta(ge=1, le=240)] | None = None  # None: it does not expire
    library: Slug | None = None


class TrainingModuleChanges(MergePatch, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """What to change, as a JSON merge patch (RFC 7396): a field left out stays; `null` clears the qualification
    (completing the module then gives none) or the validity (it no longer expires); the title and description
    cannot be null."""

    title: Name | UnsetType = UNSET
    description: Text | UnsetType = UNSET
    qualification: Qualification | UnsetType | None = UNSET
    validity_months: Annotated[int, msgspec.Meta(ge=1, le=240)] | UnsetType | None = UNSET
    expected_version: ExpectedVersion | None = None


class UpdateTrainingModule(TrainingModuleChanges, frozen=True, kw_only=True, forbid_unknown_fields=True):
    module_id: UUID


class GetTrainingModule(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    module_id: UUID


class ListTrainingModules(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    cursor: Cursor | None = None
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
    cursor: Cursor | None = None
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
