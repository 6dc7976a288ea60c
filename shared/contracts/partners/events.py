"""Events of the partners service: tenants, partner organisations and partnerships.

Frozen: tests/contracts compares each type's JSON Schema with its snapshot.
"""

from __future__ import annotations

import enum
from datetime import date
from typing import ClassVar
from uuid import UUID

from shared.contracts import EventData, register


class PartnerKind(enum.StrEnum):
    REFERRER = "referrer"
    ADULT_EDUCATION_SCHOOL = "adult_education_school"
    FOLK_UNIVERSITY = "folk_university"
    VOLUNTEER_ORGANISATION = "volunteer_organisation"
    EDUCATIONAL_INSTITUTION = "educational_institution"
    COURSE_PROVIDER = "course_provider"
    OTHER = "other"


@register
class MunicipalityRegistered(EventData, frozen=True, kw_only=True):
    service: ClassVar[str] = "partners"
    type: ClassVar[str] = "municipality.registered"
    municipality: str
    name: str


@register
class LibraryRegistered(EventData, frozen=True, kw_only=True):
    service: ClassVar[str] = "partners"
    type: ClassVar[str] = "library.registered"
    library: str
    municipality: str
    name: str


@register
class PartnerRegistered(EventData, frozen=True, kw_only=True):
    service: ClassVar[str] = "partners"
    type: ClassVar[str] = "partner.registered"
    partner_id: UUID
    municipality: str
    name: str
    kind: PartnerKind


@register
class PartnerSuspended(EventData, frozen=True, kw_only=True):
    """Other services act on it: the referrals service stops accepting new referrals from this partner."""

    service: ClassVar[str] = "partners"
    type: ClassVar[str] = "partner.suspended"
    partner_id: UUID
    municipality: str
    reason: str | None = None


@register
class PartnerReactivated(EventData, frozen=True, kw_only=True):
    service: ClassVar[str] = "partners"
    type: ClassVar[str] = "partner.reactivated"
    partner_id: UUID
    municipality: str


@register
class PartnerEnded(EventData, frozen=True, kw_only=True):
    service: ClassVar[str] = "partners"
    type: ClassVar[str] = "partner.ended"
    partner_id: UUID
    municipality: str


@register
class PartnershipActivated(EventData, frozen=True, kw_only=True):
    service: ClassVar[str] = "partners"
    type: ClassVar[str] = "partnership.activated"
    partnership_id: UUID
    partner_id: UUID
    library: str
    municipality: str
    roles: list[str]
    # What each side brings in (Contribution values) and the partnership's version then: a partner acts in the
    # library's training only where its side brings `training` (services/volunteers). Absent in older events.
    library_contributions: list[str] | None = None
    partner_contributions: list[str] | None = None
    partnership_version: int | None = None


@register
class PartnershipChanged(EventData, frozen=True, kw_only=True):
    """A running partnership's terms changed (roles or what each side brings in): services that act on them follow.
    `partnership_version` orders it against `partnership.activated`, which arrives on another consumer."""

    service: ClassVar[str] = "partners"
    type: ClassVar[str] = "partnership.changed"
    partnership_id: UUID
    partner_id: UUID
    library: str
    municipality: str
    roles: list[str]
    library_contributions: list[str]
    partner_contributions: list[str]
    partnership_version: int


@register
class PartnershipEnded(EventData, frozen=True, kw_only=True):
    service: ClassVar[str] = "partners"
    type: ClassVar[str] = "partnership.ended"
    partnership_id: UUID
    partner_id: UUID
    library: str
    municipality: str


@register
class PartnershipSuspended(EventData, frozen=True, kw_only=True):
    """Paused: the partner does not act in its roles for the library until resumed (`partnership.activated` again)."""

    service: ClassVar[str] = "partners"
    type: ClassVar[str] = "partnership.suspended"
    partnership_id: UUID
    partner_id: UUID
    library: str
    municipality: str


@register
class PartnershipReviewRequested(EventData, frozen=True, kw_only=True):
    """The agreed review date of a partnership has come: the library reviews it (and sets the next date)."""

    service: ClassVar[str] = "partners"
    type: ClassVar[str] = "partnership.review_requested"
    partnership_id: UUID
    partner_id: UUID
    library: str
    municipality: str
    review_on: date


@register
class ApiKeyCreated(EventData, frozen=True, kw_only=True):
    """A partner's API key (or NATS feed credentials, which are one) was issued: by the partner, or by an operator
    for support (`support_reason`). Never the key."""

    service: ClassVar[str] = "partners"
    type: ClassVar[str] = "api_key.created"
    key_id: UUID
    partner_id: UUID
    municipality: str
    scopes: list[str]
    by: str
    support_reason: str | None = None


@register
class ApiKeyRevoked(EventData, frozen=True, kw_only=True):
    """Gateways end what the key holds open (live streams) when they hear it, and forget it in their cache."""

    service: ClassVar[str] = "partners"
    type: ClassVar[str] = "api_key.revoked"
    key_id: UUID
    partner_id: UUID
    municipality: str
    by: str
    support_reason: str | None = None
