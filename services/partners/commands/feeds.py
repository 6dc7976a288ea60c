"""Partners' feeds: events become feed entries, and each entry goes out on NATS and to the webhooks.

An entry, and a delivery per matching webhook, are written in the transaction that handles the event
(with the consumer's inbox row), so nothing is lost between them; the NATS publisher and the webhook
worker send from the database afterwards, so nothing is lost on a restart either.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping, Sequence
from typing import Any
from uuid import UUID

import asyncpg
import msgspec
from opentelemetry import propagate, trace
from opentelemetry.trace import Span

from services.partners.channels import NatsFeeds
from services.partners.domain import feeds
from services.partners.store import feed as feed_store
from shared.clock import Clock
from shared.contracts import Envelope
from shared.contracts.courses.events import CoursePublished
from shared.contracts.partners.api.feeds import DeliveryStatus, FeedEntryView
from shared.contracts.partners.api.organisations import PartnerStatus
from shared.ids import new_id
from shared.relay import OrderedPublisher, Publication, Relay, acknowledged_prefix, woken_channels
from shared.settings import Settings
from shared.telemetry import Telemetry
from shared.unit_of_work import Transaction, UnitOfWork

log = logging.getLogger(__name__)

FEED_CHANNEL = "partnernet_feeds_partners"  # the NOTIFY trigger on feed_entries (migrations 004, 014)
WEBHOOK_CHANNEL = "partnernet_webhooks_partners"  # the NOTIFY trigger on deliveries (migrations 004, 014)
HELD_BACK_SECONDS = 0.002
MAX_HELD_BACK_SECONDS = 0.25


async def project_referral_event(tx: Transaction, envelope: Envelope) -> None:
    """Any referral event (or a referred participant's buddy, or a request for tailored education, named alike),
    into the feeds of the partners it names, and of the partner whose course it is."""
    await project_referral_events(tx, [(envelope, trace.get_current_span())])


async def project_referral_events(tx: Transaction, events: Sequence[tuple[Envelope, Span]]) -> None:
    """`project_referral_event` for a batch at once (the consumer's new events, in stream order): the courses'
    providers in one statement, then into the feeds (`into_feeds`)."""
    courses = _courses_named(events)
    providers = await feed_store.course_providers(tx.session, courses) if courses else {}
    await into_feeds(tx, _partners_named(events, providers))


async def write_referral_events(work: UnitOfWork, consumer: str, events: Sequence[tuple[Envelope, Span]]) -> None:
    """`project_referral_events` for the referral events' feed consumer, as a statement handler (shared/consumer.py
    StatementHandler): the courses' providers and the partners' targets read, then the batch's inbox rows, entries
    and deliveries in one statement, on a direct connection in autocommit: one round trip for the writes where the
    consumer's transaction took six (BEGIN, inbox, the relays' setting, entries, deliveries, COMMIT) through
    SQLAlchemy's session, while the events behind the batch waited (issue 17). The same entries in the same order,
    and an event handled before writes nothing again."""
    async with work.direct_statements() as connection:
        courses = _courses_named(events)
        providers = await feed_store.course_providers_of(connection, courses) if courses else {}
        written = _written(_partners_named(events, providers))
        targets = await feed_store.feed_targets_of(connection, _partner_ids(written))
        entries = _entries(written, targets)
        deliveries = _delivery_rows(written, targets)
        woken = work.may_wake_relays(connection)
        # The webhook worker only where a delivery may be written: a wake-up for nothing was a claim statement for
        # every batch of a platform whose partners have no webhooks (issue 17's ninth round).
        channels = [FEED_CHANNEL, WEBHOOK_CHANNEL] if deliveries else [FEED_CHANNEL]
        new = await feed_store.write_feed_batch(
            connection,
            consumer,
            [envelope.id for envelope, _ in events],
            entries,
            deliveries,
            now=work.clock.now(),
            relays_woken=woken_channels(channels if woken else []),
        )
        if woken and new:
            await work.relays_written(channels, connection)


def _courses_named(events: Sequence[tuple[Envelope, Span]]) -> list[UUID]:
    return sorted({course for envelope, _ in events if (course := feeds.course_of(envelope.data)) is not None})


def _partners_named(
    events: Sequence[tuple[Envelope, Span]], providers: dict[UUID, UUID]
) -> list[tuple[Envelope, Span, set[UUID]]]:
    """Each event with the partners it names, and the partner whose course it is."""
    named: list[tuple[Envelope, Span, set[UUID]]] = []
    for envelope, span in events:
        partner_ids = feeds.partners_named(envelope.data)
        course = feeds.course_of(envelope.data)
        if course is not None and (provider := providers.get(course)) is not None:
            partner_ids.add(provider)
        named.append((envelope, span, partner_ids))
    return named


async def project_vacancy(tx: Transaction, envelope: Envelope) -> None:
    """A library's vacancy, into the feeds of the volunteer organisations it actively partners with as such."""
    library = envelope.data.get("library") or envelope.library
    suppliers = await feed_store.volunteer_suppliers_of(tx.session, library)
    await into_feeds(tx, [(envelope, trace.get_current_span(), suppliers)])


async def project_supplied_volunteer_event(tx: Transaction, envelope: Envelope) -> None:
    """A volunteer's event that asks something of the partner that supplied them (a qualification to renew), into
    that partner's feed; the volunteer appears by their random id only."""
    if (partner_id := feeds.supplier_of(envelope.data)) is not None:
        await into_feeds(tx, [(envelope, trace.get_current_span(), {partner_id})])


async def remember_course(tx: Transaction, envelope: Envelope, event: CoursePublished) -> None:
    """Which partner offers a course, so referrals to it reach that partner's feed."""
    if event.offered_by_partner_id is None:
        return
    await feed_store.remember_course(tx.session, event.course_id, event.offered_by_partner_id)


async def into_feeds(tx: Transaction, named: Sequence[tuple[Envelope, Span, Iterable[UUID]]]) -> None:
    """Each event (with the span it is handled in) into the feeds of the partners named with it, and a pending
    delivery to each of their active webhooks that wants its type: the partners and their webhooks in one
    statement, every entry in one, the deliveries in one. Entries are written event by event, each event's partners
    sorted; a partner that ended gets none, and an entry a partner has already is not written again (nor its
    deliveries)."""
    written = _written(named)
    targets = await feed_store.feed_targets(tx.session, _partner_ids(written))
    entries = _entries(written, targets)
    if not entries:
        return
    # The feed publisher and the webhook worker are woken after the commit, not by a NOTIFY in it (the triggers'
    # NOTIFY held PostgreSQL's notification lock across the batch's commit flush: shared/relay.py RELAYS_WOKEN);
    # the webhook worker only where a delivery may be written.
    rows = _delivery_rows(written, targets)
    await tx.wakes_relays(*([FEED_CHANNEL, WEBHOOK_CHANNEL] if rows else [FEED_CHANNEL]))
    positions = await feed_store.append_entries(tx.session, entries)
    now = tx.clock.now()
    deliveries = [
        {
            **row,
            "feed_position": position,
            "status": DeliveryStatus.PENDING.value,
            "attempts": 0,
            "next_attempt_at": now,
            "trace_context": msgspec.json.decode(row["trace_context"]),
            "created_at": now,
        }
        for row in rows
        if (position := positions.get((row["partner_id"], row["event_id"]))) is not None
    ]
    if deliveries:
        await feed_store.add_deliveries(tx.session, deliveries)


Written = list[tuple[Envelope, dict[str, str], list[UUID]]]  # each event, its trace context, its partners sorted


def _written(named: Sequence[tuple[Envelope, Span, Iterable[UUID]]]) -> Written:
    return [(envelope, _carrier(span), sorted(set(partner_ids))) for envelope, span, partner_ids in named]


def _partner_ids(written: Written) -> list[UUID]:
    return sorted({partner_id for _, _, partner_ids in written for partner_id in partner_ids})


def _entries(written: Written, targets: Mapping[UUID, Any]) -> list[dict[str, Any]]:
    """An entry (store/feed.py ENTRY_COLUMNS, JSON as text) for each event and partner named that has not ended."""
    return [
        {
            "partner_id": partner_id,
            "event_id": envelope.id,
            "event_type": envelope.type,
            "time": envelope.time,
            "library": envelope.library,
            "data": msgspec.json.encode(feeds.entry_data(envelope.data, target.feed_key)).decode(),
            "source": envelope.source,
            "subject": envelope.subject,
            "trace_context": msgspec.json.encode(carrier).decode(),
        }
        for envelope, carrier, partner_ids in written
        for partner_id in partner_ids
        if (target := targets.get(partner_id)) is not None and target.status != PartnerStatus.ENDED.value
    ]


def _delivery_rows(written: Written, targets: Mapping[UUID, Any]) -> list[dict[str, Any]]:
    """A delivery (store/feed.py DELIVERY_COLUMNS) to each active webhook that wants its type, for each event and
    partner named that has not ended: written only where the entry is new."""
    return [
        {
            "id": new_id(),
            "webhook_id": UUID(hook["id"]),
            "partner_id": partner_id,
            "event_id": envelope.id,
            "event_type": envelope.type,
            "trace_context": msgspec.json.encode(carrier).decode(),
        }
        for envelope, carrier, partner_ids in written
        for partner_id in partner_ids
        if (target := targets.get(partner_id)) is not None
        and target.status != PartnerStatus.ENDED.value
        and target.webhooks is not None
        for hook in msgspec.json.decode(target.webhooks)
        if feeds.type_matches(hook["event_types"], envelope.type)
    ]


def _carrier(span: Span) -> dict[str, str]:
    """The trace context of the span an event is handled in: the entry's publish and its deliveries continue it."""
    carrier: dict[str, str] = {}
    propagate.inject(carrier, context=trace.set_span_in_context(span))
    return carrier


class FeedPublisher:
    """The feed entries not yet on NATS, onto each partner's subject in position order (a relay's outlet)."""

    def __init__(self, publisher: OrderedPublisher, clock: Clock) -> None:
        self.publisher = publisher
        self.clock = clock
        self._held_back: float | None = None  # how long to wait before looking again at a held-back entry
        # The next batch, read by the last batch's mark (FEED_MARK_PUBLISHED_AND_NEXT), with the connection that read
        # it: a relay that reconnects (and may have lost its lock meanwhile) reads again. As the outbox's outlet.
        self._ahead: tuple[asyncpg.Connection, list[asyncpg.Record]] | None = None
        self._limit = 0

    async def pending(self, db: asyncpg.Connection, limit: int) -> Sequence[asyncpg.Record]:
        ahead, self._ahead = self._ahead, None
        if ahead is not None and ahead[0] is db and limit == self._limit:
            return ahead[1]
        self._limit = limit
        return self._sendable(await db.fetch(feed_store.FEED_PENDING, limit))

    def _sendable(self, found: Sequence[asyncpg.Record]) -> list[asyncpg.Record]:
        """The entries a read found that may go; how soon to look again at those it held back."""
        first_unsettled = found[0]["first_unsettled"]
        rows = [row for row in found if row["position"] is not None]
        if first_unsettled is None:
            self._held_back = None
        elif rows or not self._held_back:
            # Entries held back behind the ones sent now (their writer still runs): look again soon, not at the next
            # batch's wake-up or the poll.
            self._held_back = HELD_BACK_SECONDS
        else:  # only entries held back: look again soon, then less and less often while they stay held back
            self._held_back = min(2 * self._held_back, MAX_HELD_BACK_SECONDS)
        return rows

    async def send(self, rows: Sequence[asyncpg.Record]) -> Sequence[BaseException | None]:
        return await self.publisher.publish([feed_publication(row) for row in rows])

    async def settle(
        self, db: asyncpg.Connection, rows: Sequence[asyncpg.Record], outcomes: Sequence[BaseException | None]
    ) -> int:
        sent = acknowledged_prefix(outcomes)
        positions = [row["position"] for row in rows[:sent]]
        if sent == len(rows) and self._limit:
            found = await db.fetch(feed_store.FEED_MARK_PUBLISHED_AND_NEXT, positions, self.clock.now(), self._limit)
            ahead = self._sendable(found)
            self._ahead = (db, ahead) if ahead else None
        elif sent:
            await db.execute(feed_store.FEED_MARK_PUBLISHED, positions, self.clock.now())
        if sent < len(rows):
            log.warning(
                "feed entry %s could not be published to NATS (%r); it and the %d after it are tried again",
                rows[sent]["position"],
                outcomes[sent],
                len(rows) - sent - 1,
            )
        return sent

    def wait_seconds(self, poll_seconds: float) -> float:
        if self._ahead:
            return 0.0  # the next batch in hand: no waiting for a wake-up
        # An entry held back behind a writer that still runs waits for it, and the end of a writer that does not wake
        # the publisher itself sends no NOTIFY: look again soon (backing off while it lasts), not after a whole poll.
        return min(self._held_back, poll_seconds) if self._held_back else poll_seconds


def feed_publication(row: asyncpg.Record) -> Publication:
    partner_id, event_id = row["partner_id"], row["event_id"]
    entry = FeedEntryView(
        position=row["position"],
        event_id=event_id,
        type=row["event_type"],
        time=row["time"],
        library=row["library"],
        data=row["data"],
    )
    return Publication(
        subject=feeds.feed_subject(partner_id),
        payload=msgspec.json.encode(entry),
        # Per partner and event: a publish repeated after a lost ack is dropped by the server.
        msg_id=f"{partner_id}:{event_id}",
        headers={
            "content-type": "application/json",
            "Partnernet-Feed-Position": str(row["position"]),
            "Partnernet-Event-Type": row["event_type"],
        },
        trace_context=row["trace_context"] or {},
        span_name=f"feed publish {row['event_type']}",
        span_attributes={
            "messaging.message.id": str(event_id),
            "partnernet.event_type": row["event_type"],
            "partnernet.partner": str(partner_id),
        }
        | ({"partnernet.library": row["library"]} if row["library"] else {}),
    )


def feed_relay(
    settings: Settings, nats: NatsFeeds, telemetry: Telemetry, clock: Clock
) -> Relay[asyncpg.Record, BaseException | None]:
    """One publisher at a time (the lock keeps each partner's order), woken when entries are written."""
    publisher = OrderedPublisher(
        lambda: nats.broker.connection, feeds.FEED_STREAM, telemetry.tracer("partnernet.feeds")
    )
    return Relay(
        name="feeds",
        outlet=FeedPublisher(publisher, clock),
        database_url=settings.database_url,
        schema="partners",
        channel=FEED_CHANNEL,
        exclusive=True,
        poll_seconds=settings.partner_delivery_poll_seconds,
        settles_durably=False,  # an entry published again is dropped by JetStream (Nats-Msg-Id: partner and event)
    )
