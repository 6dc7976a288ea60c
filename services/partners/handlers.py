"""NATS operations, event subscribers and periodic jobs of the partners service: wiring only."""

from __future__ import annotations

from datetime import timedelta
from functools import partial

from faststream.nats.annotations import NatsMessage

from services.partners.channels import NatsFeeds, WebhookTargets
from services.partners.commands import credentials, feeds, notices, partners, partnerships, retention, tenants, webhooks
from services.partners.queries import api_keys as api_key_queries
from services.partners.queries import backlogs, history
from services.partners.queries import feeds as feed_queries
from services.partners.queries import notices as notice_queries
from services.partners.queries import partners as partner_queries
from services.partners.queries import partnerships as partnership_queries
from services.partners.queries import tenants as tenant_queries
from services.partners.queries import webhooks as webhook_queries
from shared.contracts.courses.events import CoursePublished
from shared.contracts.partners.api.api_keys import AuthenticateApiKey, IssueApiKey, ListApiKeys, RevokeApiKey
from shared.contracts.partners.api.feeds import (
    DeliveryRef,
    GetFeed,
    GetNatsFeedAccess,
    IssueNatsCredentials,
    ListDeliveries,
    ListWebhooks,
    RegisterWebhook,
    RotateWebhookSecret,
    UpdateWebhook,
    WebhookRef,
)
from shared.contracts.partners.api.notices import GetNoticePreferences, ListMail, SetNoticePreferences
from shared.contracts.partners.api.organisations import (
    ChangePartnerStatus,
    GetPartner,
    ListPartners,
    RegisterLibrary,
    RegisterMunicipality,
    RegisterPartner,
    ResolveActorScope,
    UpdatePartner,
)
from shared.contracts.partners.api.partnerships import (
    ChangePartnershipStatus,
    CreatePartnership,
    GetPartnerHistory,
    GetPartnerMap,
    GetPartnership,
    GetPartnershipHistory,
    ListPartnerships,
    UpdatePartnership,
)
from shared.contracts.partners.api.statistics import GetPartnersStatistics
from shared.contracts.partners.events import PartnershipReviewRequested
from shared.nats_callout import CALLOUT_SUBJECT
from shared.retention import RETENTION_SWEEP_SECONDS
from shared.service import ServiceRuntime

# Partnerships whose end date passed end, and reviews that came due remind, within this time (dates are Dutch days).
LAPSED_PARTNERSHIPS_SECONDS = 3600.0
# A partner's durable feed consumer lost with NATS (a restore onto fresh servers) is back within this time.
FEED_CONSUMERS_SECONDS = 60.0


def register(
    runtime: ServiceRuntime,
    nats: NatsFeeds,
    worker: webhooks.DeliveryWorker,
    targets: WebhookTargets,
    notice_settings: notices.Notices,
    mail: notices.MailWorker | None,
) -> None:
    work = runtime.unit_of_work
    answer = runtime.answer

    answer("register_municipality", RegisterMunicipality, partial(tenants.register_municipality, work))
    answer("register_library", RegisterLibrary, partial(tenants.register_library, work))

    answer("register_partner", RegisterPartner, partial(partners.register_partner, work))
    answer("update_partner", UpdatePartner, partial(partners.update_partner, work))
    answer("change_partner_status", ChangePartnerStatus, partial(partners.change_partner_status, work))
    answer("get_partner", GetPartner, partial(partner_queries.get_partner, work))
    answer("list_partners", ListPartners, partial(partner_queries.list_partners, work))
    answer("partner_map", GetPartnerMap, partial(partner_queries.partner_map, work))
    answer("statistics", GetPartnersStatistics, partial(partner_queries.statistics, work))

    answer("create_partnership", CreatePartnership, partial(partnerships.create_partnership, work))
    answer("update_partnership", UpdatePartnership, partial(partnerships.update_partnership, work))
    answer("change_partnership_status", ChangePartnershipStatus, partial(partnerships.change_partnership_status, work))
    answer("get_partnership", GetPartnership, partial(partnership_queries.get_partnership, work))
    answer("list_partnerships", ListPartnerships, partial(partnership_queries.list_partnerships, work))
    answer("partnership_history", GetPartnershipHistory, partial(history.partnership_history, work))
    answer("partner_history", GetPartnerHistory, partial(history.partner_history, work))

    answer("get_feed", GetFeed, partial(feed_queries.get_feed, work))
    answer("nats_feed_access", GetNatsFeedAccess, partial(feed_queries.nats_feed_access, work, nats))
    answer("issue_nats_credentials", IssueNatsCredentials, partial(credentials.issue_nats_credentials, work, nats))

    answer("register_webhook", RegisterWebhook, partial(webhooks.register_webhook, work, targets))
    answer("update_webhook", UpdateWebhook, partial(webhooks.update_webhook, work, targets))
    answer("delete_webhook", WebhookRef, partial(webhooks.delete_webhook, work))
    answer("rotate_webhook_secret", RotateWebhookSecret, partial(webhooks.rotate_secret, work))
    answer("get_webhook", WebhookRef, partial(webhook_queries.get_webhook, work))
    answer("list_webhooks", ListWebhooks, partial(webhook_queries.list_webhooks, work))
    answer("list_deliveries", ListDeliveries, partial(webhook_queries.list_deliveries, work))
    answer("get_delivery", DeliveryRef, partial(webhook_queries.get_delivery, work))
    answer("replay_delivery", DeliveryRef, partial(webhooks.replay_delivery, work))
    answer("replay_failed_deliveries", WebhookRef, partial(webhooks.replay_failed, work))

    answer("issue_api_key", IssueApiKey, partial(credentials.issue_api_key, work))
    answer("list_api_keys", ListApiKeys, partial(api_key_queries.list_api_keys, work))
    answer("revoke_api_key", RevokeApiKey, partial(credentials.revoke_api_key, work))
    answer("authenticate_api_key", AuthenticateApiKey, partial(credentials.authenticate_api_key, work))
    answer("resolve_actor_scope", ResolveActorScope, partial(tenant_queries.resolve_actor_scope, work))

    # Every referral event (types added later too), every published vacancy, and a referred participant's language
    # buddy (named like a referral event's parties), into the partners' feeds.
    runtime.consume_envelopes(
        "feed-referrals", "events.referrals.referral.>", "referrals", feeds.project_referral_event
    )
    runtime.consume_envelopes(
        "feed-vacancies", "events.volunteers.vacancy.published.>", "volunteers", feeds.project_vacancy
    )
    runtime.consume_envelopes("feed-buddies", "events.volunteers.buddy.>", "volunteers", feeds.project_referral_event)
    runtime.consume("known-courses", CoursePublished, feeds.remember_course)

    # Feed entries onto NATS and deliveries to webhooks: relays woken as they are written (shared/relay.py).
    runtime.add_relay(feeds.feed_relay(runtime.settings, nats, runtime.telemetry, runtime.clock))
    runtime.add_relay(webhooks.delivery_relay(runtime.settings, worker))
    runtime.every(FEED_CONSUMERS_SECONDS, "feed-consumers", partial(credentials.ensure_feed_consumers, work, nats))
    runtime.backlog("feed", partial(backlogs.feed_backlog, work))
    runtime.backlog("webhooks", partial(backlogs.webhook_backlog, work))
    delivery_window = timedelta(days=runtime.settings.delivery_retention_days)
    runtime.every(
        RETENTION_SWEEP_SECONDS, "delivery-retention", partial(retention.prune_delivered, work, delivery_window)
    )
    runtime.every(RETENTION_SWEEP_SECONDS, "mail-retention", partial(retention.prune_mail, work, delivery_window))
    runtime.every(LAPSED_PARTNERSHIPS_SECONDS, "partnership-reviews", partial(partnerships.remind_reviews, work))
    runtime.every(
        LAPSED_PARTNERSHIPS_SECONDS, "lapsed-partnerships", partial(partnerships.end_lapsed_partnerships, work)
    )

    # Notices by e-mail (issue 20): from the events that tell someone something, into the mail outbox; sent by SMTP.
    answer("get_notice_preferences", GetNoticePreferences, partial(notices.get_preferences, work, notice_settings))
    answer("set_notice_preferences", SetNoticePreferences, partial(notices.set_preferences, work, notice_settings))
    answer("list_mail", ListMail, partial(notice_queries.list_mail, work))
    runtime.consume_envelopes(
        "notices-referrals",
        "events.referrals.referral.>",
        "referrals",
        partial(notices.on_referral_event, notice_settings),
    )
    runtime.consume(
        "notices-reviews", PartnershipReviewRequested, partial(notices.on_review_requested, notice_settings)
    )
    runtime.backlog("mail", partial(notice_queries.mail_backlog, work))
    if mail is not None:
        runtime.add_relay(notices.mail_relay(runtime.settings, mail))

    if nats.issuer is not None:

        async def authorise(msg: NatsMessage) -> bytes:
            return (await credentials.authorise_nats_connection(work, nats, msg.body.decode())).encode()

        # A queue group: with several replicas, one answers each connection.
        runtime.broker.subscriber(CALLOUT_SUBJECT, queue="partners-nats-callout", title="partners.nats-callout")(
            authorise
        )
