"""The transactional outbox: events are written with the change that causes them, then relayed to JetStream.

A relay (shared/relay.py) sweeps every unsent row (not only those of its own transactions), so a row left
behind by a crash is sent when any replica's relay runs. One relay per service is active at a time (a
PostgreSQL advisory lock); the others wait as standbys. A trigger on the table sends NOTIFY, delivered at
commit (and not at all on rollback), which wakes the relay; otherwise it polls.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Sequence
from datetime import UTC, datetime

import asyncpg
import msgspec
import sqlalchemy as sa
from faststream.nats import NatsBroker
from opentelemetry import propagate, trace
from sqlalchemy.dialects.postgresql import JSONB, UUID
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from shared.clock import Clock
from shared.contracts import Envelope, EventData, nats_subject
from shared.db import Prepared, kernel_metadata
from shared.ids import new_id
from shared.messaging import event_stream_name
from shared.relay import OrderedPublisher, Publication, Relay, acknowledged_prefix
from shared.telemetry import Telemetry, event_attributes, searchable_fields, tag_span, zero_start_counter

log = logging.getLogger(__name__)

outbox = sa.Table(
    "outbox",
    kernel_metadata,
    sa.Column("position", sa.BigInteger, primary_key=True, autoincrement=True),
    sa.Column("event_id", UUID(as_uuid=True), nullable=False, unique=True),
    sa.Column("subject", sa.Text, nullable=False),
    sa.Column("event_type", sa.Text, nullable=False),
    sa.Column("payload", sa.LargeBinary, nullable=False),
    sa.Column("trace_context", JSONB, nullable=False, server_default=sa.text("'{}'::jsonb")),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.clock_timestamp()),
    sa.Column("sent_at", sa.DateTime(timezone=True)),
    sa.Column("committed_at", sa.DateTime(timezone=True)),  # set with sent_at: MARK_SENT (kernel migration 008)
    sa.Column("attempts", sa.Integer, nullable=False, server_default=sa.text("0")),
    sa.Column("last_error", sa.Text),
    sa.Index("outbox_sent", "sent_at", postgresql_where=sa.text("sent_at IS NOT NULL")),  # retention
)


def notify_channel(service: str) -> str:
    return f"partnernet_outbox_{service}"


# A relay's NOTIFY in a transaction of its own, for a writer whose process does not run the active relay
# (shared/unit_of_work.py `relays_written`).
NOTIFY_RELAY = Prepared("NOTIFY relay", sa.select(sa.func.pg_notify(sa.bindparam("channel", type_=sa.Text), "")))


def outbox_entry(
    data: EventData, *, clock: Clock, municipality: str | None, library: str | None
) -> tuple[Envelope, dict[str, object]]:
    """The event's envelope and its outbox row (the values of `outbox.insert()`), for a caller that writes the row
    in a statement of its own making (a submission writes it with the referral, in one statement)."""
    envelope = Envelope(
        id=new_id(),
        source=f"/partnernet/{data.service}",
        type=data.qualified_type(),
        time=clock.now(),
        subject=f"{municipality or '-'}/{library or '-'}",
        data=msgspec.to_builtins(data),
        municipality=municipality,
        library=library,
    )
    carrier: dict[str, str] = {}
    propagate.inject(carrier)  # the trace of the transaction that wrote the event continues at publish
    row = {
        "event_id": envelope.id,
        "subject": nats_subject(data.service, envelope.type, municipality, library),
        "event_type": envelope.type,
        "payload": msgspec.json.encode(envelope),
        "trace_context": carrier,
    }
    return envelope, row


def note_outbox_write(envelope: Envelope) -> None:
    """The outbox write, on the span of the use case that wrote it, findable by the event's parties."""
    span = trace.get_current_span()
    if not span.is_recording():  # nothing to build: a submission's span is not recorded without a collector
        return
    span.add_event("outbox write", {"partnernet.event_type": envelope.type, "messaging.message.id": str(envelope.id)})
    tag_span(searchable_fields(envelope.data), span)


async def stage_event(
    session: AsyncSession,
    data: EventData,
    *,
    clock: Clock,
    municipality: str | None,
    library: str | None,
) -> Envelope:
    """Write the event in the caller's transaction; it is published only if that transaction commits."""
    envelope, row = outbox_entry(data, clock=clock, municipality=municipality, library=library)
    await session.execute(outbox.insert(), row)  # the values apart: the statement is compiled once and cached
    note_outbox_write(envelope)
    return envelope


# The relay's SQL: on its own connection, in autocommit (one statement each, so nothing stays open). $2 of UNSENT:
# the rows still out (put out, not yet settled: `Relay(overlap=...)`), which are not read again.
UNSENT_COLUMNS = "position, event_id, subject, event_type, payload, trace_context"
UNSENT = (
    f"SELECT {UNSENT_COLUMNS} FROM outbox WHERE sent_at IS NULL AND position <> ALL($2::bigint[])"
    " ORDER BY position LIMIT $1"
)
# sent_at is when each row's acks came, on the relay's clock ($2, one a row), not when this statement runs. (It was
# the server's now() less the seconds since the acks, measured before the statement left: now() is when the server
# starts it, so the mark's trip and the wake-up of its backend counted as the relay's, 0.6 ms at the median and
# 15 ms at p99 on a busy 2-core machine. The relay's clock is the server's where both run on one host (the embedded
# server, Compose's containers); a server elsewhere adds the two clocks' skew.)
# committed_at is when the row's own transaction committed: the commit timestamp of its xmin (the UPDATE reads the
# row as it was, so xmin is still the writer's), where the server keeps them (track_commit_timestamp; without it
# pg_xact_commit_timestamp raises) and the row was not updated before (a failed attempt's mark is a later xmin).
MARK_SENT = (
    "UPDATE outbox SET sent_at = acked.at, attempts = outbox.attempts + 1,"
    " committed_at = CASE WHEN outbox.attempts = 0 AND current_setting('track_commit_timestamp')::boolean"
    " THEN pg_xact_commit_timestamp(outbox.xmin) END"
    " FROM unnest($1::bigint[], $2::timestamptz[]) AS acked (position, at) WHERE outbox.position = acked.position"
)
# A batch acknowledged whole: its mark and the read of the next batch in one statement, one round trip. Rows that
# committed while the batch was out are found without waiting for the mark's round trip and then for the read's.
# Both parts see one snapshot, from before the mark: the rows being marked still look unsent there, so they are
# left out by position (not "after the last one": a row with a lower position may commit later, and is found), as
# are the rows still out ($4).
MARK_SENT_AND_NEXT = (
    f"WITH marked AS ({MARK_SENT})"
    f" SELECT {UNSENT_COLUMNS} FROM outbox WHERE sent_at IS NULL AND position <> ALL($1::bigint[])"
    " AND position <> ALL($4::bigint[]) ORDER BY position LIMIT $3"
)
MARK_FAILED = "UPDATE outbox SET attempts = attempts + 1, last_error = $2 WHERE position = $1"


class OutboxOutlet:
    """The outbox's unsent rows, onto the service's stream in the order they were written."""

    def __init__(self, *, service: str, publisher: OrderedPublisher, telemetry: Telemetry) -> None:
        self.service = service
        self.publisher = publisher
        meter = telemetry.meter("partnernet.outbox")
        # Zero-start (shared/metrics.py): a library's first referral must count in the funnel's increase().
        self._published = zero_start_counter(
            meter, "partnernet.events.published", description="events relayed, by type"
        )
        self._failures = zero_start_counter(meter, "partnernet.outbox.publish_failures")
        self._failures.start({"service": service})
        self._acked_at: dict[int, datetime] = {}  # by position: when the row's batch had its acks (its sent_at)
        # The rows put out and not yet settled (`put_out`), and the event id of the last of them: the next batch
        # put out names it (OrderedPublisher.put_out), so JetStream refuses it if that one was not stored.
        self._out: set[int] = set()
        self._last_out: str | None = None
        # The next batch, read by the last batch's mark (MARK_SENT_AND_NEXT), with the connection that read it: a
        # relay that reconnects (and may have lost its lock meanwhile) reads again.
        self._ahead: tuple[asyncpg.Connection, list[asyncpg.Record]] | None = None
        self._limit = 0
        # The labels of each row sent and not yet settled, by position, worked out with its publication: the payload
        # decoded and its searchable fields found once a row, not again when the batch is settled.
        self._labels: dict[int, dict[str, str]] = {}

    async def pending(self, db: asyncpg.Connection, limit: int) -> Sequence[asyncpg.Record]:
        ahead, self._ahead = self._ahead, None
        if ahead is not None and ahead[0] is db and limit == self._limit:
            return ahead[1]
        self._limit = limit
        return list(await db.fetch(UNSENT, limit, list(self._out)))

    async def send(self, rows: Sequence[asyncpg.Record]) -> Sequence[BaseException | None]:
        outcomes = await self.publisher.publish(self._publications(rows))
        self._note_acks(rows)
        return outcomes

    async def put_out(
        self, rows: Sequence[asyncpg.Record], answered: Callable[[], None]
    ) -> asyncio.Future[Sequence[BaseException | None]]:
        publications = self._publications(rows)
        put = await self.publisher.put_out(publications, after=self._last_out)
        self._out.update(row["position"] for row in rows)
        self._last_out = publications[-1].msg_id
        answers: asyncio.Future[Sequence[BaseException | None]] = asyncio.get_running_loop().create_future()

        def acked(outcomes: list[BaseException | None]) -> None:
            self._note_acks(rows)
            if not answers.done():  # cancelled when the relay stopped
                answers.set_result(outcomes)
            answered()

        self.publisher.when_answered(put, acked)
        return answers

    def _publications(self, rows: Sequence[asyncpg.Record]) -> list[Publication]:
        publications = []
        for row in rows:
            published, self._labels[row["position"]] = publication_and_labels(self.service, row)
            publications.append(published)
        return publications

    def _note_acks(self, rows: Sequence[asyncpg.Record]) -> None:
        acked_at = datetime.now(UTC)
        for row in rows:
            self._acked_at[row["position"]] = acked_at

    def forget_out(self) -> None:
        self._out.clear()
        self._last_out = None
        self._acked_at.clear()
        self._labels.clear()
        self._ahead = None

    async def settle(
        self, db: asyncpg.Connection, rows: Sequence[asyncpg.Record], outcomes: Sequence[BaseException | None]
    ) -> int:
        sent = acknowledged_prefix(outcomes)
        positions = [row["position"] for row in rows]
        acked_at = [self._acked_at.pop(position) for position in positions]
        self._out.difference_update(positions)
        if not self._out:
            self._last_out = None  # nothing out: the next batch's first names no predecessor
        if sent == len(rows) and self._limit:
            ahead = list(await db.fetch(MARK_SENT_AND_NEXT, positions, acked_at, self._limit, list(self._out)))
            self._ahead = (db, ahead) if ahead else None
        elif sent:
            await db.execute(MARK_SENT, positions[:sent], acked_at[:sent])
        if sent < len(rows):
            # The first row without an ack stops the batch: what follows is sent again after it, never before.
            await db.execute(MARK_FAILED, rows[sent]["position"], repr(outcomes[sent])[:500])
            self._failures.add(1, {"service": self.service})
            log.warning(
                "outbox publish failed at event %s; it and the %d after it are sent again",
                rows[sent]["event_id"],
                len(rows) - sent - 1,
            )
        labels = [self._labels.pop(position, None) for position in positions]
        for row, row_labels in zip(rows[:sent], labels, strict=False):
            if row_labels is None:  # not sent by this outlet (never so in the relay)
                row_labels = published_attributes(self.service, row["event_type"], row["payload"])
            self._published.add(1, row_labels)
        return sent

    def wait_seconds(self, poll_seconds: float) -> float:
        return 0.0 if self._ahead else poll_seconds  # the next batch in hand: no waiting for a wake-up


def publication_and_labels(service: str, row: asyncpg.Record) -> tuple[Publication, dict[str, str]]:
    """The row as it goes onto the stream, and the labels it counts under in `partnernet.events.published`
    (`published_attributes`): one decode of the payload and one look for its searchable fields serve both."""
    envelope = msgspec.json.decode(row["payload"], type=Envelope)
    fields = searchable_fields(envelope.data)
    event_id = str(row["event_id"])
    published = Publication(
        subject=row["subject"],
        payload=row["payload"],
        msg_id=event_id,
        headers={"content-type": "application/cloudevents+json"},
        trace_context=row["trace_context"] or {},
        span_name=f"outbox relay {row['event_type']}",
        span_attributes={"messaging.message.id": event_id} | event_attributes(envelope, fields),
    )
    return published, _labels(service, row["event_type"], envelope, fields)


# Batches out at once: rows that commit while one waits for its acks go out at once, not after its acks and its
# mark (relay alone at 190 rows/s, the writer's loop 19% busy, overlap toggled every 0.5 s on one machine at load
# 8-13: commit → ack p50 32.7 → 27.2, 37.6 → 34.6 ms and p90 97 → 80, 102 → 88 ms with 2 out against 1; 4 and 8
# out gave no more at p50). More than two adds a read and a publish per wake-up for little.
OUTBOX_BATCHES_OUT = 2


def outbox_relay(
    *, service: str, database_url: str, broker: NatsBroker, telemetry: Telemetry, poll_seconds: float = 1.0
) -> Relay[asyncpg.Record, BaseException | None]:
    """The service's outbox relay: one active per service (the lock), woken by the outbox's NOTIFY trigger."""
    publisher = OrderedPublisher(
        lambda: broker.connection, event_stream_name(service), telemetry.tracer("partnernet.outbox")
    )
    return Relay(
        name="outbox",
        outlet=OutboxOutlet(service=service, publisher=publisher, telemetry=telemetry),
        database_url=database_url,
        schema=service,
        channel=notify_channel(service),
        exclusive=True,
        poll_seconds=poll_seconds,
        settles_durably=False,  # a row sent again is dropped by JetStream (Nats-Msg-Id: the event's id)
        overlap=OUTBOX_BATCHES_OUT,
    )


def published_attributes(service: str, event_type: str, payload: bytes) -> dict[str, str]:
    """Labels of `partnernet.events.published`: type, library and partner make the referral funnel."""
    envelope = msgspec.json.decode(payload, type=Envelope)
    return _labels(service, event_type, envelope, searchable_fields(envelope.data))


def _labels(service: str, event_type: str, envelope: Envelope, fields: dict[str, str]) -> dict[str, str]:
    attributes = {"service": service, "event_type": event_type}
    if envelope.library:
        attributes["library"] = envelope.library
    if partner := fields.get("partner"):
        attributes["partner"] = partner
    return attributes


async def outbox_backlog(engine: AsyncEngine) -> tuple[int, datetime | None]:
    """How many events wait to be sent, and since when: for health checks and metrics."""
    async with engine.connect() as conn:
        row = (
            await conn.execute(
                sa.select(sa.func.count(), sa.func.min(outbox.c.created_at)).where(outbox.c.sent_at.is_(None))
            )
        ).one()
    return int(row[0]), row[1]
