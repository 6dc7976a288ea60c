"""Requests and views of partnerships between a library and a partner, and the municipality's partner map
(`rpc.partners.*_partnership`, `rpc.partners.partner_map`).
"""

from __future__ import annotations

import enum
from datetime import date, datetime
from typing import Annotated
from uuid import UUID

import msgspec
from msgspec import UNSET, UnsetType

from shared.contracts.partners.api.organisations import PartnerView, StatusChange
from shared.contracts.partners.events import PartnerKind
from shared.contracts.vocabulary import DEFAULT_LIMIT, Cursor, ExpectedVersion, Limit, MergePatch, Note, SkillArea, Slug


class PartnershipRole(enum.StrEnum):
    """What a partner does for (or with) a library."""

    OUTREACH_PARTNER = "outreach_partner"  # a place where participants are found (vindplaats)
    REFERRER = "referrer"
    COURSE_PROVIDER = "course_provider"
    VOLUNTEER_SUPPLIER = "volunteer_supplier"
    INTERN_SUPPLIER = "intern_supplier"
    STAFF_TRAINER = "staff_trainer"  # trains the library's staff (professional development)
    TRAINING_BUYER = "training_buyer"  # buys the library's training for its own staff


class Contribution(enum.StrEnum):
    """What one side of a partnership brings in."""

    LOCATION = "location"
    RECRUITMENT = "recruitment"
    PROMOTION = "promotion"
    CONTENT = "content"
    GUIDANCE = "guidance"
    TRAINING = "training"


class PartnershipStatus(enum.StrEnum):
    DRAFT = "draft"
    ACTIVE = "active"
    SUSPENDED = "suspended"  # paused (a dispute, a reorganisation): resumed or ended later
    ENDED = "ended"  # final


class PartnershipStep(enum.StrEnum):
    ACTIVATE = "activate"
    SUSPEND = "suspend"
    RESUME = "resume"
    END = "end"


class CreatePartnership(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """A new partnership starts as a draft; only the library's own staff create it."""

    library: Slug
    partner_id: UUID
    roles: Annotated[list[PartnershipRole], msgspec.Meta(min_length=1)]
    library_contributions: list[Contribution] = []
    partner_contributions: list[Contribution] = []
    starts_on: date
    ends_on: date | None = None
    review_on: date | None = None
    note: Note | None = None


class PartnershipChanges(MergePatch, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """What to change, as a JSON merge patch (RFC 7396): a field left out stays; `null` clears the end date, the
    review date, the note or a side's contributions (empty, as `[]`); the roles and start date cannot be cleared."""

    roles: Annotated[list[PartnershipRole], msgspec.Meta(min_length=1)] | UnsetType = UNSET
    library_contributions: list[Contribution] | UnsetType | None = UNSET
    partner_contributions: list[Contribution] | UnsetType | None = UNSET
    starts_on: date | UnsetType = UNSET
    ends_on: date | UnsetType | None = UNSET
    review_on: date | UnsetType | None = UNSET
    note: Note | UnsetType | None = UNSET
    expected_version: ExpectedVersion | None = None


class UpdatePartnership(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    partnership_id: UUID
    changes: PartnershipChanges


class ChangePartnershipStatus(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    partnership_id: UUID
    step: PartnershipStep
    change: StatusChange = StatusChange()


class GetPartnership(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    partnership_id: UUID


class ListPartnerships(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """Partnerships the caller may see: its library's (staff), the municipality's (coordinator), its own (partner)."""

    library: Slug | None = None
    partner_id: UUID | None = None
    status: PartnershipStatus | None = None
    role: PartnershipRole | None = None
    review_before: date | None = None  # those whose review date falls before this day
    cursor: Cursor | None = None
    limit: Limit = DEFAULT_LIMIT


class PartnershipView(msgspec.Struct, frozen=True, kw_only=True):
    id: UUID
    library: str
    municipality: str
    partner_id: UUID
    partner_name: str
    roles: list[PartnershipRole]
    library_contributions: list[Contribution]
    partner_contributions: list[Contribution]
    starts_on: date
    ends_on: date | None
    review_on: date | None
    status: PartnershipStatus
    note: str | None
    version: int
    created_at: datetime
    updated_at: datetime
    activated_at: datetime | None = None
    ended_at: datetime | None = None
    end_reason: str | None = None
    review_due: bool = False  # its review date has come (active or suspended): the library reviews it
    library_name: str | None = None  # the library's registered name, to show where people expect a name


class GetPartnershipHistory(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    partnership_id: UUID


class GetPartnerHistory(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    partner_id: UUID


class HistoryEntry(msgspec.Struct, frozen=True, kw_only=True):
    """One change of a partner or partnership: who, when, which step, and each changed field (`from`, `to`)."""

    at: datetime
    actor: str
    action: str  # register, create, update, activate, suspend, resume, reactivate, end, review_due
    version: int
    changes: dict[str, object] = {}
    partnership_id: UUID | None = None  # in a partner's history: the partnership it concerns
    reason: str | None = None


class History(msgspec.Struct, frozen=True, kw_only=True):
    items: list[HistoryEntry]  # oldest first


class GetPartnerMap(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """Which partners work with which libraries in which roles. Every library of the municipality sees the
    partners' contact details; a partnership only its library, the coordinator and the partner itself.
    `role` and `library` filter on the partnerships the caller may see."""

    municipality: Slug | None = None  # operators name one; everyone else sees their own
    kind: PartnerKind | None = None
    role: PartnershipRole | None = None
    skill_area: SkillArea | None = None
    library: Slug | None = None
    include_ended: bool = False
    cursor: Cursor | None = None
    limit: Limit = DEFAULT_LIMIT


class MapPartnership(msgspec.Struct, frozen=True, kw_only=True):
    partnership_id: UUID
    library: str
    roles: list[PartnershipRole]
    status: PartnershipStatus
    library_contributions: list[Contribution]
    partner_contributions: list[Contribution]
    starts_on: date
    ends_on: date | None


class PartnerMapEntry(msgspec.Struct, frozen=True, kw_only=True):
    partner: PartnerView
    partnerships: list[MapPartnership]  # only those the caller may see
