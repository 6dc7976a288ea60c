"""Contracts of the partners service: its events, and the requests it answers over NATS."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Annotated, ClassVar
from uuid import UUID

import msgspec

from shared.contracts import EventData, register


class PartnerKind(enum.StrEnum):
    REFERRER = "referrer"
    ADULT_EDUCATION_SCHOOL = "adult_education_school"
    FOLK_UNIVERSITY = "folk_university"
    VOLUNTEER_ORGANISATION = "volunteer_organisation"
    EDUCATIONAL_INSTITUTION = "educational_institution"
    COURSE_PROVIDER = "course_provider"
    OTHER = "other"


Slug = Annotated[
    str, msgspec.Meta(pattern=r"^[a-z0-9][a-z0-9-]{1,62}$", description="lower-case letters, digits and dashes")
]
Name = Annotated[str, msgspec.Meta(min_length=1, max_length=200)]
ChamberOfCommerceNumber = Annotated[str, msgspec.Meta(pattern=r"^[0-9]{8}$", description="KvK number, 8 digits")]


# --- events -------------------------------------------------------------------------------------


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


@register
class PartnershipEnded(EventData, frozen=True, kw_only=True):
    service: ClassVar[str] = "partners"
    type: ClassVar[str] = "partnership.ended"
    partnership_id: UUID
    partner_id: UUID
    library: str
    municipality: str


# --- requests (subjects `rpc.partners.<operation>`) ---------------------------------------------


class RegisterMunicipality(msgspec.Struct, frozen=True, kw_only=True):
    slug: Slug
    name: Name


class RegisterLibrary(msgspec.Struct, frozen=True, kw_only=True):
    slug: Slug
    municipality: Slug
    name: Name


class RegisterPartner(msgspec.Struct, frozen=True, kw_only=True):
    name: Name
    kind: PartnerKind
    municipality: Slug
    chamber_of_commerce_number: ChamberOfCommerceNumber | None = None


class GetPartner(msgspec.Struct, frozen=True, kw_only=True):
    partner_id: UUID


class ListPartners(msgspec.Struct, frozen=True, kw_only=True):
    kind: PartnerKind | None = None


class GetFeed(msgspec.Struct, frozen=True, kw_only=True):
    partner_id: UUID
    after: Annotated[int, msgspec.Meta(ge=0)] = 0  # the position of the last entry the reader has seen
    limit: Annotated[int, msgspec.Meta(ge=1, le=200)] = 50


class MunicipalityView(msgspec.Struct, frozen=True, kw_only=True):
    slug: str
    name: str


class LibraryView(msgspec.Struct, frozen=True, kw_only=True):
    slug: str
    municipality: str
    name: str


class PartnerView(msgspec.Struct, frozen=True, kw_only=True):
    id: UUID
    name: str
    kind: PartnerKind
    municipality: str
    chamber_of_commerce_number: str | None
    registered_at: datetime


class PartnerList(msgspec.Struct, frozen=True, kw_only=True):
    items: list[PartnerView]


class FeedEntryView(msgspec.Struct, frozen=True, kw_only=True):
    position: int
    event_id: UUID
    type: str
    time: datetime
    library: str | None
    data: dict[str, object]


class FeedPage(msgspec.Struct, frozen=True, kw_only=True):
    items: list[FeedEntryView]
    next_after: int


# --- API keys of partners' systems (issued and stored hashed by the partners service) -----------


class AuthenticateApiKey(msgspec.Struct, frozen=True, kw_only=True):
    """`rpc.partners.authenticate_api_key`: the gateway asks who a presented key belongs to."""

    key: str


class ApiKeyIdentity(msgspec.Struct, frozen=True, kw_only=True):
    """Answer to AuthenticateApiKey; an unknown or revoked key is a NotFound error instead."""

    key_id: UUID
    partner_id: UUID
    municipality: str
    scopes: list[str]  # e.g. "referrals:write", "referrals:read", "feed:read"
