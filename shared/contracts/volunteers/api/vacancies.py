"""Requests and views of a library's vacancies for volunteers (subjects `rpc.volunteers.<operation>`).

A body named `...Changes` or `...Request` is what the HTTP API takes; the gateway adds the id from the
path to make the operation's request.
"""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Annotated
from uuid import UUID

import msgspec
from msgspec import UNSET, UnsetType

from shared.contracts.vocabulary import (
    DEFAULT_LIMIT,
    Cursor,
    ExpectedVersion,
    Limit,
    MergePatch,
    Name,
    Qualification,
    Slug,
    Text,
)


class VacancyStatus(enum.StrEnum):
    DRAFT = "draft"
    PUBLISHED = "published"
    CLOSED = "closed"


class VacancyStep(enum.StrEnum):
    PUBLISH = "publish"
    CLOSE = "close"


class CreateVacancy(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    title: Name
    description: Text = ""
    hours_per_week: Annotated[int, msgspec.Meta(ge=0, le=80)] | None = None
    qualifications_needed: list[Qualification] = []
    certificate_of_conduct_required: bool = True
    library: Slug | None = None  # staff: their own library (the default); operators name one


class VacancyChanges(MergePatch, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """What to change, as a JSON merge patch (RFC 7396): a field left out stays; `null` clears the hours per week;
    the other fields cannot be null (no qualifications needed: `[]`)."""

    title: Name | UnsetType = UNSET
    description: Text | UnsetType = UNSET
    hours_per_week: Annotated[int, msgspec.Meta(ge=0, le=80)] | UnsetType | None = UNSET
    qualifications_needed: list[Qualification] | UnsetType = UNSET
    certificate_of_conduct_required: bool | UnsetType = UNSET
    expected_version: ExpectedVersion | None = None


class UpdateVacancy(VacancyChanges, frozen=True, kw_only=True, forbid_unknown_fields=True):
    vacancy_id: UUID


class VacancyStepRequest(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    expected_version: ExpectedVersion | None = None


class TakeVacancyStep(VacancyStepRequest, frozen=True, kw_only=True, forbid_unknown_fields=True):
    vacancy_id: UUID
    step: VacancyStep


class GetVacancy(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    vacancy_id: UUID


class ListVacancies(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    cursor: Cursor | None = None
    limit: Limit = DEFAULT_LIMIT
    status: VacancyStatus | None = None
    library: Slug | None = None


class VacancyView(msgspec.Struct, frozen=True, kw_only=True):
    id: UUID
    library: str
    municipality: str
    title: str
    description: str
    hours_per_week: int | None
    qualifications_needed: list[str]
    certificate_of_conduct_required: bool
    status: VacancyStatus
    version: int
    created_at: datetime
    published_at: datetime | None = None
    closed_at: datetime | None = None
