"""Partners' feeds: events become feed entries, and each entry goes out on NATS and to the webhooks.

An entry, and a delivery per matching webhook, are written in the transaction that handles the event
(with the consumer's inbox row), so nothing is lost between them; the NATS publisher and the webhook
worker send from the database afterwards, so nothing is lost on a restart either.
"""

from __future__ import annotations

import asyncio
import logging
from uuid import UUID

import msgspec
import sqlalchemy as sa
from opentelemetry import propagate
from sqlalchemy.dialects.postgresql import insert

from services.partners import store
from services.partners.channels import NatsFeeds
from services.partners.domain import feeds
from services.partners.queries.views import feed_entry_view
from shared.contracts import Envelope
from shared.contracts.courses.events import CoursePublished
from shared.contracts.partners.api.feeds import DeliveryStatus, WebhookStatus
from shared.contracts.partners.api.organisations import PartnerStatus
from shared.contracts.partners.api.partnerships import PartnershipRole, PartnershipStatus
from shared.ids import new_id
from shared.unit_of_work import Transaction, UnitOfWork

log = logging.getLogger(__name__)

PUBLISH_BATCH = 256


async def project_referral_event(tx: Transaction, envelope: Envelope) -> None:
    """Any referral event, into the feeds of the partners it names, and of the partner whose course it is."""
    partner_ids = feeds.partners_named(envelope.data)
    if (course_id := feeds.course_of(envelope.data)) is not None:
        provider = (
            await tx.session.execute(
                sa.select(store.known_courses.c.partner_id).where(store.known_courses.c.course_id == course_id)
            )
        ).scalar_one_or_none()
        if provider is not None:
            partner_ids.add(provider)
    for partner_id in sorted(partner_ids):
        await add_to_feed(tx, envelope, partner_id)


async def project_vacancy(tx: Transaction, envelope: Envelope) -> None:
    """A library's vacancy, into the feeds of the volunteer organisations it actively partners with as such."""
    library = envelope.data.get("library") or envelope.library
    S = store.partnerships
    partner_ids = (
        await tx.session.execute(
            sa.select(S.c.partner_id)
            .where(
                S.c.library == library,
                S.c.status == PartnershipStatus.ACTIVE.value,
                S.c.roles.contains([PartnershipRole.VOLUNTEER_SUPPLIER.value]),
            )
            .distinct()
        )
    ).scalars()
    for partner_id in sorted(partner_ids):
        await add_to_feed(tx, envelope, partner_id)


async def remember_course(tx: Transaction, envelope: Envelope, event: CoursePublished) -> None:
    """Which partner offers a course, so referrals to it reach that partner's feed."""
    if event.offered_by_partner_id is None:
        return
    await tx.session.execute(
        insert(store.known_courses)
        .values(course_id=event.course_id, partner_id=event.offered_by_partner_id)
        .on_conflict_do_update(index_elements=["course_id"], set_={"partner_id": event.offered_by_partner_id})
    )


async def add_to_feed(tx: Transaction, envelope: Envelope, partner_id: UUID) -> None:
    partner = await store.find_partner(tx.session, partner_id)
    if partner is None or partner.status == PartnerStatus.ENDED:
        return
    position = await store.append_to_feed(
        tx.session,
        partner_id=partner_id,
        event_id=envelope.id,
        event_type=envelope.type,
        time=envelope.time,
        library=envelope.library,
        data=feeds.entry_data(envelope.data, partner.feed_key),
        source=envelope.source,
        subject=envelope.subject,
    )
    if position is None:
        return  # the partner has this event already
    W = store.webhooks
    hooks = (
        await tx.session.execute(
            sa.select(W.c.id, W.c.event_types).where(
                W.c.partner_id == partner_id, W.c.status == WebhookStatus.ACTIVE.value, W.c.deleted_at.is_(None)
            )
        )
    ).all()
    wanted = [hook.id for hook in hooks if feeds.type_matches(hook.event_types, envelope.type)]
    if not wanted:
        return
    carrier: dict[str, str] = {}
    propagate.inject(carrier)  # the delivery continues the trace of the event that caused it
    now = tx.clock.now()
    await tx.session.execute(
        insert(store.deliveries)
        .values(
            [
                {
                    "id": new_id(),
                    "webhook_id": webhook_id,
                    "partner_id": partner_id,
                    "feed_position": position,
                    "event_id": envelope.id,
                    "event_type": envelope.type,
                    "status": DeliveryStatus.PENDING.value,
                    "attempts": 0,
                    "next_attempt_at": now,
                    "trace_context": carrier,
                    "created_at": now,
                }
                for webhook_id in wanted
            ]
        )
        .on_conflict_do_nothing()
    )


async def publish_pending(work: UnitOfWork, nats: NatsFeeds) -> int:
    """Send unsent feed entries to their partners' NATS subjects, in order; one publisher at a time."""
    F = store.feed_entries
    async with work.transaction() as tx:
        mine = (
            await tx.session.execute(sa.select(sa.func.pg_try_advisory_xact_lock(sa.func.hashtext("partners:feeds"))))
        ).scalar_one()
        if not mine:
            return 0
        rows = (
            await tx.session.execute(
                sa.select(F).where(F.c.published_at.is_(None)).order_by(F.c.position).limit(PUBLISH_BATCH)
            )
        ).all()
        if not rows:
            return 0
        results = await asyncio.gather(*(_publish(nats, row) for row in rows), return_exceptions=True)
        sent = [row.position for row, result in zip(rows, results, strict=True) if result is None]
        if sent:
            await tx.session.execute(F.update().where(F.c.position.in_(sent)).values(published_at=tx.clock.now()))
    if len(sent) < len(rows):
        log.warning("%d feed entries could not be published to NATS; they are tried again", len(rows) - len(sent))
    return len(sent)


async def _publish(nats: NatsFeeds, row: sa.Row) -> None:
    await nats.publish(
        row.partner_id,
        # Per partner and event: a publish repeated after a lost ack is dropped by the server.
        f"{row.partner_id}:{row.event_id}",
        msgspec.json.encode(feed_entry_view(row)),
        {
            "content-type": "application/json",
            "Partnernet-Feed-Position": str(row.position),
            "Partnernet-Event-Type": row.event_type,
        },
    )
