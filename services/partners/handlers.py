"""NATS operations, event subscribers and periodic jobs of the partners service: wiring only."""

from __future__ import annotations

from datetime import timedelta
from functools import partial

from faststream.nats.annotations import NatsMessage

from services.partners.channels import NatsFeeds, WebhookTargets
from services.partners.commands import credentials, feeds, notices, partners, partnerships, retention, tenants, webhooks
from services.partners.queries import api_keys as api_key_queries
from services.partners.queries import backlogs, history, open_data
from services.partners.queries import feeds as feed_queries
from services.partners.queries import notices as notice_queries
from services.partners.queries import partners as partner_queries
from services.partners.queries import partnerships as partnership_queries
from services.partners.queries import tenants as tenant_queries
from services.partners.queries import webhooks as webhook_queries
from shared.consumer import PROJECTION_LINGER_SECONDS
from shared.contracts.courses.events import CoursePublished
from shared.contracts.partners.api import operations as ops
from shared.contracts.partners.events import PartnershipEnded, PartnershipReviewRequested
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
    bind = runtime.bind

    bind(ops.REGISTER_MUNICIPALITY, partial(tenants.register_municipality, work))
    bind(ops.REGISTER_LIBRARY, partial(tenants.register_library, work))
    bind(ops.UPDATE_LIBRARY, partial(tenants.update_library, work))
    bind(ops.GET_LIBRARY, partial(partner_queries.get_library, work))

    bind(ops.REGISTER_PARTNER, partial(partners.register_partner, work))
    bind(ops.UPDATE_PARTNER, partial(partners.update_partner, work))
    bind(ops.CHANGE_PARTNER_STATUS, partial(partners.change_partner_status, work))
    bind(ops.GET_PARTNER, partial(partner_queries.get_partner, work))
    bind(ops.LIST_PARTNERS, partial(partner_queries.list_partners, work))
    bind(ops.PARTNER_MAP, partial(partner_queries.partner_map, work))
    bind(ops.PARTNERS_STATISTICS, partial(partner_queries.statistics, work))
    bind(ops.OPEN_DATA, partial(open_data.open_data, work))

    bind(ops.CREATE_PARTNERSHIP, partial(partnerships.create_partnership, work))
    bind(ops.UPDATE_PARTNERSHIP, partial(partnerships.update_partnership, work))
    bind(ops.CHANGE_PARTNERSHIP_STATUS, partial(partnerships.change_partnership_status, work))
    bind(ops.GET_PARTNERSHIP, partial(partnership_queries.get_partnership, work))
    bind(ops.LIST_PARTNERSHIPS, partial(partnership_queries.list_partnerships, work))
    bind(ops.PARTNERSHIP_HISTORY, partial(history.partnership_history, work))
    bind(ops.PARTNER_HISTORY, partial(history.partner_history, work))

    bind(ops.GET_FEED, partial(feed_queries.get_feed, work))
    bind(ops.NATS_FEED_ACCESS, partial(feed_queries.nats_feed_access, work, nats))
    bind(ops.ISSUE_NATS_CREDENTIALS, partial(credentials.issue_nats_credentials, work, nats))

    bind(ops.REGISTER_WEBHOOK, partial(webhooks.register_webhook, work, targets))
    bind(ops.UPDATE_WEBHOOK, partial(webhooks.update_webhook, work, targets))
    bind(ops.DELETE_WEBHOOK, partial(webhooks.delete_webhook, work))
    bind(ops.ROTATE_WEBHOOK_SECRET, partial(webhooks.rotate_secret, work))
    bind(ops.GET_WEBHOOK, partial(webhook_queries.get_webhook, work))
    bind(ops.LIST_WEBHOOKS, partial(webhook_queries.list_webhooks, work))
    bind(ops.LIST_DELIVERIES, partial(webhook_queries.list_deliveries, work))
    bind(ops.GET_DELIVERY, partial(webhook_queries.get_delivery, work))
    bind(ops.REPLAY_DELIVERY, partial(webhooks.replay_delivery, work))
    bind(ops.REPLAY_FAILED_DELIVERIES, partial(webhooks.replay_failed, work))

    bind(ops.ISSUE_API_KEY, partial(credentials.issue_api_key, work))
    bind(ops.LIST_API_KEYS, partial(api_key_queries.list_api_keys, work))
    bind(ops.REVOKE_API_KEY, partial(credentials.revoke_api_key, work))
    bind(ops.AUTHENTICATE_API_KEY, partial(credentials.authenticate_api_key, work))
    bind(ops.RESOLVE_ACTOR_SCOPE, partial(tenant_queries.resolve_actor_scope, work))

    # Every referral event (types added later too), every published vacancy, and a referred participant's language
    # buddy (named like a referral event's parties), into the partners' feeds.
    runtime.consume_envelopes(
        "feed-referrals", "events.referrals.referral.>", "referrals", statement_handler=feeds.write_referral_events
    )
    runtime.consume_envelopes(
        "feed-vacancies", "events.volunteers.vacancy.published.>", "volunteers", feeds.project_vacancy
    )
    runtime.consume_envelopes("feed-buddies", "events.volunteers.buddy.>", "volunteers", feeds.project_referral_event)
    # A qualification of someone a partner supplied that is about to run out (or ran out): the partner sees to it.
    runtime.consume_envelopes(
        "feed-qualifications",
        "events.volunteers.qualification.>",
        "volunteers",
        feeds.project_supplied_volunteer_event,
    )
    # An intern's registration, confirmed period, end and the library's assessment: into their school's feed.
    # A referrer's request for tailored education, as the library answers it (named like a referral's parties).
    runtime.consume_envelopes(
        "feed-education-requests",
        "events.courses.education_request.>",
        "courses",
        feeds.project_referral_event,
    )
    runtime.consume_envelopes(
        "feed-interns", "events.volunteers.intern.>", "volunteers", feeds.project_supplied_volunteer_event
    )
    runtime.consume("known-courses", CoursePublished, feeds.remember_course)

    # Feed entries onto NATS and deliveries to webhooks: relays woken as they are written (shared/relay.py).
    runtime.add_relay(feeds.feed_relay(runtime.settings, nats, runtime.telemetry, runtime.clock))
    runtime.add_relay(webhooks.delivery_relay(runtime.settings, worker))
    # At start too: on fresh NATS servers (a restore, a new cluster) a partner's feed works at once, not a minute on.
    runtime.every(
        FEED_CONSUMERS_SECONDS,
        "feed-consumers",
        partial(credentials.ensure_feed_consumers, work, nats),
        at_start=True,
    )
    runtime.backlog("feed", partial(backlogs.feed_backlog, work))
    runtime.backlog("webhooks", partial(backlogs.webhook_backlog, work))
    delivery_window = timedelta(days=runtime.settings.delivery_retention_days)
    runtime.every(
        RETENTION_SWEEP_SECONDS, "delivery-retention", partial(retention.prune_delivered, work, delivery_window)
    )
    runtime.every(RETENTION_SWEEP_SECONDS, "mail-retention", partial(retention.prune_mail, work, delivery_window))
    feed_window = retention.feed_window(runtime.settings)
    runtime.every(RETENTION_SWEEP_SECONDS, "feed-retention", partial(retention.prune_feed, work, feed_window))
    runtime.every(LAPSED_PARTNERSHIPS_SECONDS, "partnership-reviews", partial(partnerships.remind_reviews, work))
    runtime.every(
        LAPSED_PARTNERSHIPS_SECONDS, "lapsed-partnerships", partial(partnerships.end_lapsed_partnerships, work)
    )

    # Notices by e-mail (issue 20): from the events that tell someone something, into the mail outbox; sent by SMTP.
    bind(ops.GET_NOTICE_PREFERENCES, partial(notices.get_preferences, work, notice_settings))
    bind(ops.SET_NOTICE_PREFERENCES, partial(notices.set_preferences, work, notice_settings))
    bind(ops.LIST_MAIL, partial(notice_queries.list_mail, work))
    runtime.require_bound(ops.PARTNERS)
    runtime.consume_envelopes(
        "notices-referrals",
        "events.referrals.referral.>",
        "referrals",
        statement_handler=partial(notices.write_referral_notices, notice_settings),
        linger_seconds=PROJECTION_LINGER_SECONDS,  # mail: events close together in one transaction
    )
    runtime.consume(
        "notices-reviews", PartnershipReviewRequested, partial(notices.on_review_requested, notice_settings)
    )
    runtime.consume(
        "notices-partnerships-ended", PartnershipEnded, partial(notices.on_partnership_ended, notice_settings)
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
