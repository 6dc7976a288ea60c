"""Contracts of the partners service: its events, and the requests it answers over NATS.

Partner organisations, partnerships with libraries and the municipality's partner map; each partner's
feed of the referral events that concern it (over HTTP, on its own NATS subject, and as signed
webhooks); partners' API keys. Feeds carry a per-partner pseudonym of the participant, never the person.
"""

from __future__ import annotations

import enum
from datetime import date, datetime
from typing import Annotated, ClassVar
from uuid import UUID

import msgspec

from shared.contracts import EventData, register
from shared.pagination import DEFAULT_LIMIT, Limit


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
Text = Annotated[str, msgspec.Meta(max_length=1000)]
Postcode = Annotated[
    str, msgspec.Meta(pattern=r"^[1-9][0-9]{3} ?[A-Z]{2}$", description="Dutch postcode, e.g. `3511 AB`")
]
Email = Annotated[str, msgspec.Meta(pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$", max_length=200)]
Phone = Annotated[str, msgspec.Meta(pattern=r"^\+?[0-9][0-9 ()-]{5,24}$")]
Website = Annotated[str, msgspec.Meta(pattern=r"^https?://\S+$", max_length=500)]
ExpectedVersion = Annotated[int, msgspec.Meta(ge=1)] | None


class PartnerStatus(enum.StrEnum):
    ACTIVE = "active"
    SUSPENDED = "suspended"  # no new referrals from it until it is reactivated
    ENDED = "ended"  # final


class PartnerStep(enum.StrEnum):
    SUSPEND = "suspend"
    REACTIVATE = "reactivate"
    END = "end"


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
    ENDED = "ended"  # final


class PartnershipStep(enum.StrEnum):
    ACTIVATE = "activate"
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


class PartnerContact(msgspec.Struct, frozen=True, kw_only=True):
    """A contact person of a partner organisation (not a participant): visible to the municipality's libraries."""

    name: Name
    roles: Annotated[list[ContactRole], msgspec.Meta(min_length=1)]
    email: Email | None = None
    phone: Phone | None = None
    job_title: Name | None = None


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


class RegisterMunicipality(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    slug: Slug
    name: Name


class RegisterLibrary(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    slug: Slug
    municipality: Slug
    name: Name


class RegisterPartner(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    name: Name
    kind: PartnerKind
    municipality: Slug
    chamber_of_commerce_number: ChamberOfCommerceNumber | None = None
    addresses: Annotated[list[Address], msgspec.Meta(max_length=10)] = []
    contacts: Annotated[list[PartnerContact], msgspec.Meta(max_length=50)] = []
    skill_areas: list[referral_contracts.SkillArea] = []  # the basic skills it works on
    email: Email | None = None
    phone: Phone | None = None
    website: Website | None = None


class GetPartner(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    partner_id: UUID


class ListPartners(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """Partners in the caller's scope (a partner: itself), by name."""

    kind: PartnerKind | None = None
    status: PartnerStatus | None = None
    skill_area: referral_contracts.SkillArea | None = None
    search: Annotated[str, msgspec.Meta(min_length=1, max_length=100)] | None = None  # part of the name
    municipality: Slug | None = None  # operators
    cursor: str | None = None
    limit: Limit = DEFAULT_LIMIT


class GetFeed(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
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
    skill_areas: list[referral_contracts.SkillArea] = []
    email: str | None = None
    phone: str | None = None
    website: str | None = None
    version: int = 1
    updated_at: datetime | None = None


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


class AuthenticateApiKey(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """`rpc.partners.authenticate_api_key`: the gateway asks who a presented key belongs to."""

    key: str


class ApiKeyIdentity(msgspec.Struct, frozen=True, kw_only=True):
    """Answer to AuthenticateApiKey; an unknown or revoked key is a NotFound error instead."""

    key_id: UUID
    partner_id: UUID
    municipality: str
    scopes: list[str]  # e.g. "referrals:write", "referrals:read", "feed:read"


# --- statistics for the gateway's municipality overview (`rpc.partners.statistics`) -------------


class GetPartnersStatistics(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """The libraries and partners an overview is about, within the actor's scope.

    Operators: every municipality, or `municipality`; coordinators: their municipality; staff: their
    library (and the partners it works with); partners: Forbidden. `library` narrows further.
    """

    municipality: str | None = None
    library: str | None = None


class StatisticsLibrary(msgspec.Struct, frozen=True, kw_only=True):
    library: str
    municipality: str
    name: str
    active_partnerships: int


class StatisticsPartner(msgspec.Struct, frozen=True, kw_only=True):
    partner_id: UUID
    municipality: str
    name: str
    kind: PartnerKind
    status: str  # "active", "suspended", "ended"
    active_partnerships: int


class PartnersStatistics(msgspec.Struct, frozen=True, kw_only=True):
    libraries: list[StatisticsLibrary]
    partners: list[StatisticsPartner]


# --- changing a partner (`rpc.partners.update_partner`, `.change_partner_status`) ---------------


class PartnerChanges(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """What to change; a field left out stays as it is. The partner itself may change its contact details
    (addresses, contacts, email, phone, website, skill areas); name, kind and KvK number are for staff."""

    name: Name | None = None
    kind: PartnerKind | None = None
    chamber_of_commerce_number: ChamberOfCommerceNumber | None = None
    addresses: Annotated[list[Address], msgspec.Meta(max_length=10)] | None = None
    contacts: Annotated[list[PartnerContact], msgspec.Meta(max_length=50)] | None = None
    skill_areas: list[referral_contracts.SkillArea] | None = None
    email: Email | None = None
    phone: Phone | None = None
    website: Website | None = None
    expected_version: ExpectedVersion = None


class UpdatePartner(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    partner_id: UUID
    changes: PartnerChanges


class StatusChange(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """The body of a lifecycle step (suspend, reactivate, end; activate or end a partnership)."""

    reason: Annotated[str, msgspec.Meta(min_length=1, max_length=500)] | None = None
    expected_version: ExpectedVersion = None


class ChangePartnerStatus(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """Suspending, reactivating or ending a partner: the municipality's coordinator (or an operator)."""

    partner_id: UUID
    step: PartnerStep
    change: StatusChange = StatusChange()


# --- partnerships between a library and a partner (`rpc.partners.*_partnership`) -----------------


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
    note: Text | None = None


class PartnershipChanges(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    roles: Annotated[list[PartnershipRole], msgspec.Meta(min_length=1)] | None = None
    library_contributions: list[Contribution] | None = None
    partner_contributions: list[Contribution] | None = None
    starts_on: date | None = None
    ends_on: date | None = None
    review_on: date | None = None
    note: Text | None = None
    expected_version: ExpectedVersion = None


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
    cursor: str | None = None
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


# --- the municipality's partner map (`rpc.partners.partner_map`) --------------------------------


class GetPartnerMap(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """Which partners work with which libraries in which roles. Every library of the municipality sees the
    partners' contact details; a partnership only its library, the coordinator and the partner itself.
    `role` and `library` filter on the partnerships the caller may see."""

    municipality: Slug | None = None  # operators name one; everyone else sees their own
    kind: PartnerKind | None = None
    role: PartnershipRole | None = None
    skill_area: referral_contracts.SkillArea | None = None
    library: Slug | None = None
    include_ended: bool = False
    cursor: str | None = None
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


# --- a partner's feed over NATS (`rpc.partners.nats_feed_access`, `.issue_nats_credentials`) -----


class GetNatsFeedAccess(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    partner_id: UUID


class NatsFeedAccess(msgspec.Struct, frozen=True, kw_only=True):
    """How a partner reads its feed over NATS: connect to `servers` with `token=<key>` and
    `inbox_prefix=<inbox_prefix>`, bind a pull subscription to `durable` on `stream`, fetch and ack.
    The credentials may read `subject` and this consumer only."""

    servers: list[str]
    stream: str
    durable: str
    subject: str
    inbox_prefix: str
    enforced: bool  # whether the server checks credentials (the embedded server of `partnernet up` does)


class IssueNatsCredentials(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    partner_id: UUID
    name: Name = "NATS feed"


class NatsFeedCredentials(msgspec.Struct, frozen=True, kw_only=True):
    """The key is shown once (an API key with scope `feed:read`); revoke it like any API key."""

    access: NatsFeedAccess
    key_id: UUID
    token: str


# --- webhooks (`rpc.partners.*_webhook*`, `.*deliver*`) ------------------------------------------

EventTypePattern = Annotated[
    str,
    msgspec.Meta(
        pattern=r"^(\*|[a-z][a-z_]*\.(\*|[a-z][a-z_]*))$",
        description="`referral.accepted`, `referral.*` or `*` (every version of the type)",
    ),
]
WebhookUrl = Annotated[
    str, msgspec.Meta(max_length=2000, description="https://…; plain http only for localhost / 127.0.0.1")
]


class WebhookStatus(enum.StrEnum):
    ACTIVE = "active"
    PAUSED = "paused"  # no new deliveries; those already made keep their course


class DeliveryStatus(enum.StrEnum):
    PENDING = "pending"
    DELIVERED = "delivered"
    FAILED = "failed"  # every try failed: replay it when the endpoint is back


class WebhookRegistration(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    url: WebhookUrl
    event_types: Annotated[list[EventTypePattern], msgspec.Meta(min_length=1, max_length=50)]
    description: Name | None = None


class RegisterWebhook(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    partner_id: UUID
    registration: WebhookRegistration


class WebhookChanges(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    url: WebhookUrl | None = None
    event_types: Annotated[list[EventTypePattern], msgspec.Meta(min_length=1, max_length=50)] | None = None
    description: Name | None = None
    status: WebhookStatus | None = None
    expected_version: ExpectedVersion = None


class UpdateWebhook(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    partner_id: UUID
    webhook_id: UUID
    changes: WebhookChanges


class SecretRotation(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """During the overlap every delivery is signed with the old secret and the new one."""

    overlap_seconds: Annotated[int, msgspec.Meta(ge=0, le=30 * 24 * 3600)] = 24 * 3600
    expected_version: ExpectedVersion = None


class RotateWebhookSecret(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    partner_id: UUID
    webhook_id: UUID
    rotation: SecretRotation = SecretRotation()


class WebhookRef(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """One webhook of a partner (get, delete, replay every failed delivery)."""

    partner_id: UUID
    webhook_id: UUID


class ListWebhooks(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    partner_id: UUID
    cursor: str | None = None
    limit: Limit = DEFAULT_LIMIT


class WebhookView(msgspec.Struct, frozen=True, kw_only=True):
    id: UUID
    partner_id: UUID
    url: str
    event_types: list[str]
    description: str | None
    status: WebhookStatus
    version: int
    created_at: datetime
    updated_at: datetime
    secret_rotated_at: datetime | None = None
    previous_secret_valid_until: datetime | None = None  # the old secret still signs until then


class WebhookWithSecret(msgspec.Struct, frozen=True, kw_only=True):
    """The signing secret is shown once: on registration and on rotation."""

    webhook: WebhookView
    secret: str


class ListDeliveries(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    partner_id: UUID
    webhook_id: UUID
    status: DeliveryStatus | None = None
    cursor: str | None = None
    limit: Limit = DEFAULT_LIMIT


class DeliveryRef(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    partner_id: UUID
    webhook_id: UUID
    delivery_id: UUID


class DeliveryAttemptView(msgspec.Struct, frozen=True, kw_only=True):
    attempt: int
    at: datetime
    status_code: int | None
    error: str | None
    duration_ms: int


class DeliveryView(msgspec.Struct, frozen=True, kw_only=True):
    id: UUID
    webhook_id: UUID
    event_id: UUID  # the CloudEvent's `id`: the same on every try, so a receiver can drop repeats
    event_type: str
    feed_position: int
    status: DeliveryStatus
    attempts: int  # tries since it was made (or last replayed)
    created_at: datetime
    next_attempt_at: datetime | None = None
    delivered_at: datetime | None = None
    failed_at: datetime | None = None
    last_status_code: int | None = None
    last_error: str | None = None
    attempt_log: list[DeliveryAttemptView] = []  # every try, oldest first (in `get` only)


class ReplayResult(msgspec.Struct, frozen=True, kw_only=True):
    replayed: int


# --- managing partners' API keys (`rpc.partners.issue_api_key`, `.list_api_keys`, `.revoke_api_key`)

Scope = Annotated[
    str, msgspec.Meta(pattern=r"^[a-z][a-z-]*:(read|write)$", description="`<resource>:read` or `<resource>:write`")
]


class ApiKeyRequest(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    name: Name
    scopes: Annotated[list[Scope], msgspec.Meta(min_length=1, max_length=40)]
    expires_at: Annotated[datetime, msgspec.Meta(tz=True)] | None = None


class IssueApiKey(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    partner_id: UUID
    request: ApiKeyRequest


class ListApiKeys(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    partner_id: UUID
    include_revoked: bool = False
    cursor: str | None = None
    limit: Limit = DEFAULT_LIMIT


class RevokeApiKey(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    partner_id: UUID
    key_id: UUID


class ApiKeyView(msgspec.Struct, frozen=True, kw_only=True):
    id: UUID
    partner_id: UUID
    name: str
    scopes: list[str]
    prefix: str  # the first characters of the key, to recognise it
    created_at: datetime
    created_by: str
    expires_at: datetime | None = None
    revoked_at: datetime | None = None
    last_used_at: datetime | None = None


class ApiKeyIssued(msgspec.Struct, frozen=True, kw_only=True):
    """The key itself is shown once; only its SHA-256 is kept."""

    api_key: ApiKeyView
    key: str


# Imported last: the referrals' contracts import this module's Name and Slug; the annotations above
# that name a SkillArea are resolved when a struct is first used, when both modules are complete.
import shared.contracts.referrals as referral_contracts  # noqa: E402
