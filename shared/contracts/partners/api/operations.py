"""Every operation the partners service answers (`rpc.partners.<name>`): its request, its reply, who may call it.

The service binds a use case to each (services/partners/handlers.py); the gateway calls them by these names.
Roles are the ones that may ask at all; the use case still checks the actor's municipality, library or partner
(and answers what lies outside it as not found).
"""

from __future__ import annotations

from shared.contracts.partners.api.api_keys import (
    ApiKeyIdentity,
    ApiKeyIssued,
    ApiKeyView,
    AuthenticateApiKey,
    IssueApiKey,
    ListApiKeys,
    RevokeApiKey,
)
from shared.contracts.partners.api.feeds import (
    DeleteWebhook,
    DeliveryRef,
    DeliveryView,
    FeedPage,
    GetFeed,
    GetNatsFeedAccess,
    IssueNatsCredentials,
    ListDeliveries,
    ListWebhooks,
    NatsFeedAccess,
    NatsFeedCredentials,
    RegisterWebhook,
    ReplayResult,
    RotateWebhookSecret,
    UpdateWebhook,
    WebhookRef,
    WebhookView,
    WebhookWithSecret,
)
from shared.contracts.partners.api.notices import (
    GetNoticePreferences,
    ListMail,
    MailView,
    NoticePreferences,
    SetNoticePreferences,
)
from shared.contracts.partners.api.open_data import GetOpenData, OpenDataView
from shared.contracts.partners.api.organisations import (
    ActorScope,
    ChangePartnerStatus,
    GetLibrary,
    GetPartner,
    LibraryView,
    ListPartners,
    MunicipalityView,
    PartnerView,
    RegisterLibrary,
    RegisterMunicipality,
    RegisterPartner,
    ResolveActorScope,
    UpdateLibrary,
    UpdatePartner,
)
from shared.contracts.partners.api.partnerships import (
    ChangePartnershipStatus,
    CreatePartnership,
    GetPartnerHistory,
    GetPartnerMap,
    GetPartnership,
    GetPartnershipHistory,
    History,
    ListPartnerships,
    PartnerMapEntry,
    PartnershipView,
    UpdatePartnership,
)
from shared.contracts.partners.api.statistics import GetPartnersStatistics, PartnersStatistics
from shared.contracts.vocabulary import Page
from shared.operations import EVERYONE, Operations
from shared.tenancy import Role

PARTNERS = Operations("partners")

OPERATORS = (Role.OPERATOR,)
# Municipalities and libraries are the tenants: the platform's operators register them; the gateway (as the
# system actor, an operator) asks whose a key or a token's scope is.
# A partner's credentials and subscriptions are its own: the partner, or an operator for support.
THE_PARTNER = (Role.OPERATOR, Role.PARTNER)
# A library's partnerships are made and kept by its own staff.
LIBRARY_STAFF = (Role.OPERATOR, Role.STAFF)

REGISTER_MUNICIPALITY = PARTNERS.declare(
    "register_municipality", RegisterMunicipality, MunicipalityView, OPERATORS, "Register a municipality (operators)"
)
REGISTER_LIBRARY = PARTNERS.declare(
    "register_library", RegisterLibrary, LibraryView, OPERATORS, "Register a library of a municipality (operators)"
)
UPDATE_LIBRARY = PARTNERS.declare(
    "update_library",
    UpdateLibrary,
    LibraryView,
    LIBRARY_STAFF,
    "Change a library's general address, where its notices go while none of its staff chose (its staff)",
)
GET_LIBRARY = PARTNERS.declare(
    "get_library",
    GetLibrary,
    LibraryView,
    EVERYONE,
    "One library of the caller's municipality, with its general address",
)

REGISTER_PARTNER = PARTNERS.declare(
    "register_partner",
    RegisterPartner,
    PartnerView,
    (Role.OPERATOR, Role.COORDINATOR, Role.STAFF),
    "Register a partner organisation (staff and coordinators of its municipality)",
)
UPDATE_PARTNER = PARTNERS.declare(
    "update_partner",
    UpdatePartner,
    PartnerView,
    EVERYONE,
    "Change a partner's record (the partner itself: its contact details); If-Match for the version",
)
CHANGE_PARTNER_STATUS = PARTNERS.declare(
    "change_partner_status",
    ChangePartnerStatus,
    PartnerView,
    (Role.OPERATOR, Role.COORDINATOR),
    "Suspend, reactivate or end a partner (the municipality's coordinator)",
)
GET_PARTNER = PARTNERS.declare("get_partner", GetPartner, PartnerView, EVERYONE, "One partner organisation")
LIST_PARTNERS = PARTNERS.declare(
    "list_partners",
    ListPartners,
    Page[PartnerView],
    EVERYONE,
    "Partners the caller may see, by name; filters and search",
)
PARTNER_MAP = PARTNERS.declare(
    "partner_map",
    GetPartnerMap,
    Page[PartnerMapEntry],
    EVERYONE,
    "The municipality's partner map: who works with which library in which roles",
)
OPEN_DATA = PARTNERS.declare(
    "open_data",
    GetOpenData,
    OpenDataView,
    EVERYONE,
    "A municipality's libraries and the partners that agreed to publish, as they agreed (issue 22's open data)",
)
PARTNERS_STATISTICS = PARTNERS.declare(
    "statistics",
    GetPartnersStatistics,
    PartnersStatistics,
    EVERYONE,
    "The partners part of the municipality's overview",
)

CREATE_PARTNERSHIP = PARTNERS.declare(
    "create_partnership",
    CreatePartnership,
    PartnershipView,
    LIBRARY_STAFF,
    "Draft a partnership of the caller's library with a partner (the library's staff)",
)
UPDATE_PARTNERSHIP = PARTNERS.declare(
    "update_partnership",
    UpdatePartnership,
    PartnershipView,
    LIBRARY_STAFF,
    "Change roles, contributions, dates or the review date; If-Match",
)
CHANGE_PARTNERSHIP_STATUS = PARTNERS.declare(
    "change_partnership_status",
    ChangePartnershipStatus,
    PartnershipView,
    LIBRARY_STAFF,
    "Activate, suspend, resume or end a partnership (the library's staff)",
)
GET_PARTNERSHIP = PARTNERS.declare("get_partnership", GetPartnership, PartnershipView, EVERYONE, "One partnership")
LIST_PARTNERSHIPS = PARTNERS.declare(
    "list_partnerships",
    ListPartnerships,
    Page[PartnershipView],
    EVERYONE,
    "Partnerships the caller may see: its library's, the municipality's, or the partner's own",
)
PARTNERSHIP_HISTORY = PARTNERS.declare(
    "partnership_history",
    GetPartnershipHistory,
    History,
    EVERYONE,
    "Every change of the partnership: who, when, what it was and became",
)
PARTNER_HISTORY = PARTNERS.declare(
    "partner_history",
    GetPartnerHistory,
    History,
    EVERYONE,
    "Every change of the partner and of the partnerships the caller sees",
)

GET_FEED = PARTNERS.declare(
    "get_feed", GetFeed, FeedPage, EVERYONE, "The partner's own event feed, oldest first, after a position"
)
NATS_FEED_ACCESS = PARTNERS.declare(
    "nats_feed_access",
    GetNatsFeedAccess,
    NatsFeedAccess,
    EVERYONE,
    "How the partner reads its feed over NATS (no secret)",
)
ISSUE_NATS_CREDENTIALS = PARTNERS.declare(
    "issue_nats_credentials",
    IssueNatsCredentials,
    NatsFeedCredentials,
    THE_PARTNER,
    "Issue NATS credentials that read this partner's feed and nothing else (the token is shown once)",
)

REGISTER_WEBHOOK = PARTNERS.declare(
    "register_webhook",
    RegisterWebhook,
    WebhookWithSecret,
    THE_PARTNER,
    "Register an endpoint for the event types the partner wants (the signing secret is shown once)",
)
UPDATE_WEBHOOK = PARTNERS.declare(
    "update_webhook",
    UpdateWebhook,
    WebhookView,
    THE_PARTNER,
    "Change the URL, event types or description, or pause it; If-Match",
)
DELETE_WEBHOOK = PARTNERS.declare(
    "delete_webhook", DeleteWebhook, type(None), THE_PARTNER, "Remove a webhook; its pending deliveries are dropped"
)
ROTATE_WEBHOOK_SECRET = PARTNERS.declare(
    "rotate_webhook_secret",
    RotateWebhookSecret,
    WebhookWithSecret,
    THE_PARTNER,
    "A new signing secret (shown once); the old one keeps signing beside it during the overlap",
)
GET_WEBHOOK = PARTNERS.declare("get_webhook", WebhookRef, WebhookView, THE_PARTNER, "One webhook")
LIST_WEBHOOKS = PARTNERS.declare(
    "list_webhooks", ListWebhooks, Page[WebhookView], THE_PARTNER, "The partner's webhooks"
)
LIST_DELIVERIES = PARTNERS.declare(
    "list_deliveries", ListDeliveries, Page[DeliveryView], THE_PARTNER, "The delivery log, newest first"
)
GET_DELIVERY = PARTNERS.declare(
    "get_delivery", DeliveryRef, DeliveryView, THE_PARTNER, "One delivery with every try (status, error)"
)
REPLAY_DELIVERY = PARTNERS.declare(
    "replay_delivery",
    DeliveryRef,
    DeliveryView,
    THE_PARTNER,
    "Deliver a failed (or delivered) event again, with a fresh set of tries",
)
REPLAY_FAILED_DELIVERIES = PARTNERS.declare(
    "replay_failed_deliveries", WebhookRef, ReplayResult, THE_PARTNER, "Replay every failed delivery of the webhook"
)

ISSUE_API_KEY = PARTNERS.declare(
    "issue_api_key",
    IssueApiKey,
    ApiKeyIssued,
    THE_PARTNER,
    "Issue an API key with scopes, e.g. `referrals:write`, `feed:read` (shown once)",
)
LIST_API_KEYS = PARTNERS.declare(
    "list_api_keys", ListApiKeys, Page[ApiKeyView], THE_PARTNER, "The partner's API keys (never the keys themselves)"
)
REVOKE_API_KEY = PARTNERS.declare(
    "revoke_api_key",
    RevokeApiKey,
    ApiKeyView,
    THE_PARTNER,
    "Revoke an API key (gateways drop it and end its live streams)",
)
AUTHENTICATE_API_KEY = PARTNERS.declare(
    "authenticate_api_key",
    AuthenticateApiKey,
    ApiKeyIdentity,
    OPERATORS,
    "Whose a presented API key is (the gateway, as the system actor)",
)
RESOLVE_ACTOR_SCOPE = PARTNERS.declare(
    "resolve_actor_scope",
    ResolveActorScope,
    ActorScope,
    OPERATORS,
    "Whether a token's municipality, library and partner are registered (the gateway, as the system actor)",
)

# --- notices by e-mail: a person's own choice (nobody reads another's), the mail outbox for operators
GET_NOTICE_PREFERENCES = PARTNERS.declare(
    "get_notice_preferences",
    GetNoticePreferences,
    NoticePreferences,
    EVERYONE,
    "Your notices by e-mail: your address, language and the kinds you get",
)
SET_NOTICE_PREFERENCES = PARTNERS.declare(
    "set_notice_preferences",
    SetNoticePreferences,
    NoticePreferences,
    EVERYONE,
    "Choose your notices by e-mail (the first time without `expected_version`, then with the one read)",
)
LIST_MAIL = PARTNERS.declare(
    "list_mail",
    ListMail,
    Page[MailView],
    OPERATORS,
    "The mail outbox, newest first, a page at a time, and how sending went (operators)",
)
