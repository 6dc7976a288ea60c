"""Requests and views of the partners service: municipalities, libraries and partner organisations
(subjects `rpc.partners.<operation>`).
"""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Annotated
from uuid import UUID

import msgspec
from msgspec import UNSET, UnsetType

from shared.contracts.partners.events import PartnerKind
from shared.contracts.vocabulary import (
    DEFAULT_LIMIT,
    Cursor,
    Email,
    ExpectedVersion,
    Limit,
    MergePatch,
    Name,
    Phone,
    SkillArea,
    Slug,
)

ChamberOfCommerceNumber = Annotated[str, msgspec.Meta(pattern=r"^[0-9]{8}$", description="KvK number, 8 digits")]


Postcode = Annotated[
    str, msgspec.Meta(pattern=r"^[1-9][0-9]{3} ?[A-Z]{2}$", description="Dutch postcode, e.g. `3511 AB`")
]


Website = Annotated[str, msgspec.Meta(pattern=r"^https?://\S+$", max_length=500)]


class PartnerStatus(enum.StrEnum):
    ACTIVE = "active"
    SUSPENDED = "suspended"  # no new referrals from it until it is reactivated
    ENDED = "ended"  # final


class PartnerStep(enum.StrEnum):
    SUSPEND = "suspend"
    REACTIVATE = "reactivate"
    END = "end"


class ContactRole(enum.StrEnum):
    PRIMARY = "primary"
    REFERRALS = "referrals"
    COURSES = "courses"
    VOLUNTEERS = "volunteers"
    INTERNS = "interns"
    FINANCE = "finance"
    MANAGEMENT = "management"
    TECHNICAL = "technical"  # feeds, webhooks and API keys
    OTHER = "other"


class AddressKind(enum.StrEnum):
    VISITING = "visiting"
    POSTAL = "postal"


class Address(msgspec.Struct, frozen=True, kw_only=True):
    street: Name
    house_number: Annotated[str, msgspec.Meta(min_length=1, max_length=20)]
    postcode: Postcode
    city: Name
    kind: AddressKind = AddressKind.VISITING
    # Published as open data where the partner publishes its addresses (OpenDataChoices.addresses) and agreed
    # to this one: off until chosen, so an address sent without it (a client that does not know the field) is
    # never published by accident; a place that must stay unlisted (a shelter) stays off. Postal: never.
    open_data: bool = False


class PartnerContact(msgspec.Struct, frozen=True, kw_only=True):
    """A contact person of a partner organisation (not a participant): visible to the municipality's libraries."""

    name: Name
    roles: Annotated[list[ContactRole], msgspec.Meta(min_length=1)]
    email: Email | None = None
    phone: Phone | None = None
    job_title: Name | None = None


class OpenDataChoices(msgspec.Struct, frozen=True, kw_only=True):
    """What a partner agreed to publish as open data: the municipality's HSDS API and dataset (issue 22), which
    social maps and other referral systems import. Nothing until `publish`; then its name, kind, skill areas and
    website, and each of the rest as chosen. Its contact people are never published, nor its KvK number.
    In a view as well as a change, so it tolerates unknown fields (like Address): a misspelt choice is left at
    its default, and `publish` defaults to not published."""

    publish: bool = False
    addresses: bool = True  # its visiting addresses as locations (postal addresses never)
    email: bool = True  # its general e-mail address
    phone: bool = True  # its general phone number
    courses: bool = True  # its published courses open to residents, as services


class RegisterMunicipality(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    slug: Slug
    name: Name


class RegisterLibrary(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    slug: Slug
    municipality: Slug
    name: Name
    email: Email | None = None  # its general address: the library's notices reach it while none of its staff chose
    phone: Phone | None = None  # its general telephone number


class GetLibrary(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    library: Slug


class LibraryChanges(MergePatch, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """As a JSON merge patch: left out stays, `null` clears the general address or phone."""

    email: Email | UnsetType | None = UNSET
    phone: Phone | UnsetType | None = UNSET


class UpdateLibrary(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """A library's own staff (or an operator) keep its general address, where its notices go by default."""

    library: Slug
    changes: LibraryChanges


class RegisterPartner(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    name: Name
    kind: PartnerKind
    municipality: Slug
    chamber_of_commerce_number: ChamberOfCommerceNumber | None = None
    addresses: Annotated[list[Address], msgspec.Meta(max_length=10)] = []
    contacts: Annotated[list[PartnerContact], msgspec.Meta(max_length=50)] = []
    skill_areas: list[SkillArea] = []  # the basic skills it works on
    email: Email | None = None
    phone: Phone | None = None
    website: Website | None = None


class GetPartner(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    partner_id: UUID


class ListPartners(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """Partners in the caller's scope (a partner: itself), by name."""

    kind: PartnerKind | None = None
    status: PartnerStatus | None = None
    skill_area: SkillArea | None = None
    search: Annotated[str, msgspec.Meta(min_length=1, max_length=100)] | None = None  # part of the name
    municipality: Slug | None = None  # operators
    cursor: Cursor | None = None
    limit: Limit = DEFAULT_LIMIT


class MunicipalityView(msgspec.Struct, frozen=True, kw_only=True):
    slug: str
    name: str


class LibraryView(msgspec.Struct, frozen=True, kw_only=True):
    slug: str
    municipality: str
    name: str
    email: str | None = None
    phone: str | None = None


class PartnerView(msgspec.Struct, frozen=True, kw_only=True):
    """A partner organisation and its contact details (visible to every library of its municipality)."""

    id: UUID
    name: str
    kind: PartnerKind
    municipality: str
    chamber_of_commerce_number: str | None
    registered_at: datetime
    status: PartnerStatus = PartnerStatus.ACTIVE
    status_reason: str | None = None
    addresses: list[Address] = []
    contacts: list[PartnerContact] = []
    skill_areas: list[SkillArea] = []
    email: str | None = None
    phone: str | None = None
    website: str | None = None
    version: int = 1
    updated_at: datetime | None = None
    open_data: OpenDataChoices = OpenDataChoices()


class PartnerList(msgspec.Struct, frozen=True, kw_only=True):
    items: list[PartnerView]


class PartnerChanges(MergePatch, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """What to change, as a JSON merge patch (RFC 7396): a field left out stays as it is; `null` clears an
    optional one (the KvK number, e-mail, phone, website; addresses, contacts and skill areas become empty, as
    `[]` does); the name and kind cannot be cleared. The partner itself may change its contact details
    (addresses, contacts, email, phone, website, skill areas) and what of it is published as open data
    (`open_data`); name, kind and KvK number are for staff."""

    name: Name | UnsetType = UNSET
    kind: PartnerKind | UnsetType = UNSET
    chamber_of_commerce_number: ChamberOfCommerceNumber | UnsetType | None = UNSET
    addresses: Annotated[list[Address], msgspec.Meta(max_length=10)] | UnsetType | None = UNSET
    contacts: Annotated[list[PartnerContact], msgspec.Meta(max_length=50)] | UnsetType | None = UNSET
    skill_areas: list[SkillArea] | UnsetType | None = UNSET
    email: Email | UnsetType | None = UNSET
    phone: Phone | UnsetType | None = UNSET
    website: Website | UnsetType | None = UNSET
    open_data: OpenDataChoices | UnsetType | None = UNSET  # the whole choice; `null`: published no more
    expected_version: ExpectedVersion | None = None


class UpdatePartner(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    partner_id: UUID
    changes: PartnerChanges


class StatusChange(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """The body of a lifecycle step (suspend, reactivate, end; activate or end a partnership)."""

    reason: Annotated[str, msgspec.Meta(min_length=1, max_length=500)] | None = None
    expected_version: ExpectedVersion | None = None


class ChangePartnerStatus(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """Suspending, reactivating or ending a partner: the municipality's coordinator (or an operator)."""

    partner_id: UUID
    step: PartnerStep
    change: StatusChange = StatusChange()


class ResolveActorScope(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """`rpc.partners.resolve_actor_scope`: the gateway asks whether a token's tenants exist and belong together."""

    municipality: str | None = None
    library: str | None = None
    partner: UUID | None = None


class ActorScope(msgspec.Struct, frozen=True, kw_only=True):
    """Answer to ResolveActorScope: the registered scope, with the municipality of the library or partner; a
    tenant that does not exist, or one of another municipality, is a NotFound error instead."""

    municipality: str | None
    library: str | None
    partner: UUID | None
