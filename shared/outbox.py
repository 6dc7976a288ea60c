"""The transactional outbox: events are written with the change that causes them, then relayed to JetStream.

A relay sweeps every unsent row (not only those of its own transactions), so a row left behind by a
crash is sent when any replica's relay runs. One relay per service is active at a time (a PostgreSQL
advisory lock); the others wait as standbys. The relay wakes on NOTIFY and otherwise polls.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from datetime import datetime

import asyncpg
import msgspec
import sqlalchemy as sa
from faststream.nats import NatsBroker
from opentelemetry import context as otel_context
from opentelemetry import propagate, trace
from sqlalchemy.dialects.postgresql import JSONB, UUID
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from shared.clock import Clock
from shared.contracts import Envelope, EventData, nats_subject
from shared.db import kernel_metadata
from shared.ids import new_id
from shared.messaging import event_stream_name
from shared.telemetry import Telemetry, searchable_fields, tag_span, tag_span_with_event, zero_start_counter

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
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
    sa.Column("sent_at", sa.DateTime(timezone=True)),
    sa.Column("attempts", sa.Integer, nullable=False, server_default=sa.text("0")),
    sa.Column("last_error", sa.Text),
)


def notify_channel(service: str) -> str:
    return f"partnernet_outbox_{service}"


async def stage_event(
    session: AsyncSession,
    data: EventData,
    *,
    clock: Clock,
    municipality: str | None,
    library: str | None,
) -> Envelope:
    """Write the event in the caller's transaction; it is published only if that transaction commits."""
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
    await session.execute(
        outbox.insert().values(
            event_id=envelope.id,
            subject=nats_subject(data.service, envelope.type, municipality, library),
            event_type=envelope.type,
            payload=msgspec.json.encode(envelope),
            trace_context=carrier,
        )
    )
    # NOTIFY is delivered at commit, and not at all on rollback: exactly when the relay should look.
    await session.execute(sa.select(sa.func.pg_notify(notify_channel(data.service), "")))
    # The outbox write, on the span of the use case that wrote it, findable by the event's parties.
    span = trace.get_current_span()
    span.add_event("outbox write", {"partnernet.event_type": envelope.type, "messaging.message.id": str(envelope.id)})
    tag_span(searchable_fields(envelope.data), span)
    return envelope


def plain_dsn(engine: AsyncEngine) -> str:
    return engine.url.set(drivername="postgresql").render_as_string(hide_password=False)


class OutboxRelay:
    def __init__(
        self,
        *,
        service: str,
        engine: AsyncEngine,
        broker: NatsBroker,
        telemetry: Telemetry,
        poll_seconds: float = 1.0,
        batch_size: int = 256,
        publish_timeout: float = 5.0,
    ) -> None:
        self.service = service
        self.engine = engine
        self.broker = broker
        self.poll_seconds = poll_seconds
        self.batch_size = batch_size
        self.publish_timeout = publish_timeout
        self.stream = event_stream_name(service)
        self._wake = asyncio.Event()
        self._tracer = telemetry.tracer("partnernet.outbox")
        meter = telemetry.meter("partnernet.outbox")
        # Zero-start (shared/metrics.py): a library's first referral must count in the funnel's increase().
        self._published = zero_start_counter(
            meter, "partnernet.events.published", description="events relayed, by type"
        )
        self._failures = zero_start_counter(meter, "partnernet.outbox.publish_failures")
        self._failures.start({"service": service})
        self.active = False

    async def run(self) -> None:
        """Run until cancelled: take the lock (or wait for it), then relay; survive database and broker outages."""
        while True:
            try:
                await self._run_while_holding_lock()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("outbox relay interrupted; retrying")
                self.active = False
                await asyncio.sleep(self.poll_seconds)

    async def _run_while_holding_lock(self) -> None:
        conn: asyncpg.Connection = await asyncpg.connect(plain_dsn(self.engine))
        try:
            lock_key = f"outbox:{self.service}"
            while not await conn.fetchval("SELECT pg_try_advisory_lock(hashtext($1))", lock_key):
                await asyncio.sleep(self.poll_seconds)
            self.active = True
            await conn.add_listener(notify_channel(self.service), lambda *_: self._wake.set())
            while True:
                self._wake.clear()
                sent = await self.relay_pending()
                if sent == self.batch_size:
                    continue  # more may be waiting: do not sleep between full batches
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wake.wait(), timeout=self.poll_seconds)
                if conn.is_closed():
                    raise ConnectionError("relay lost its database connection (and its lock)")
        finally:
            self.active = False
            with contextlib.suppress(Exception):
                await conn.close(timeout=2)

    async def relay_pending(self) -> int:
        """Publish one batch of unsent rows in order; returns how many were acknowledged."""
        async with self.engine.connect() as conn:
            rows = (
                await conn.execute(
                    sa.select(
                        outbox.c.position,
                        outbox.c.event_id,
                        outbox.c.subject,
                        outbox.c.event_type,
                        outbox.c.payload,
                        outbox.c.trace_context,
                    )
                    .where(outbox.c.sent_at.is_(None))
                    .order_by(outbox.c.position)
                    .limit(self.batch_size)
                )
            ).all()
        if not rows:
            return 0
        # Started in order on one connection, so JetStream stores them in order; acks are awaited together.
        results = await asyncio.gather(*(self._publish(row) for row in rows), return_exceptions=True)
        acked = [row.position for row, result in zip(rows, results, strict=True) if result is None]
        failed = [(row.position, result) for row, result in zip(rows, results, strict=True) if result is not None]
        async with self.engine.begin() as conn:
            if acked:
                await conn.execute(
                    outbox.update()
                    .where(outbox.c.position.in_(acked))
                    .values(sent_at=sa.func.now(), attempts=outbox.c.attempts + 1)
                )
            for position, error in failed:
                await conn.execute(
                    outbox.update()
                    .where(outbox.c.position == position)
                    .values(attempts=outbox.c.attempts + 1, last_error=repr(error)[:500])
                )
        if failed:
            self._failures.add(len(failed), {"service": self.service})
            log.warning("outbox publish failed for %d events; will retry", len(failed))
            await asyncio.sleep(min(self.poll_seconds, 1.0))
        for row, result in zip(rows, results, strict=True):
            if result is None:
                self._published.add(1, published_attributes(self.service, row.event_type, row.payload))
        return len(acked)

    async def _publish(self, row: sa.Row) -> None:
        token = otel_context.attach(propagate.extract(row.trace_context or {}))
        try:
            with self._tracer.start_as_current_span(
                f"outbox relay {row.event_type}",
                attributes={"messaging.message.id": str(row.event_id), "partnernet.event_type": row.event_type},
            ) as span:
                tag_span_with_event(msgspec.json.decode(row.payload, type=Envelope), span)
                await self.broker.publish(
                    row.payload,
                    row.subject,
                    headers={"Nats-Msg-Id": str(row.event_id), "content-type": "application/cloudevents+json"},
                    stream=self.stream,
                    timeout=self.publish_timeout,
                )
        finally:
            otel_context.detach(token)


def published_attributes(service: str, event_type: str, payload: bytes) -> dict[str, str]:
    """Labels of `partnernet.events.published`: type, library and partner make the referral funnel."""
    envelope = msgspec.json.decode(payload, type=Envelope)
    attributes = {"service": service, "event_type": event_type}
    if envelope.library:
        attributes["library"] = envelope.library
    if partner := searchable_fields(envelope.data).get("partner"):
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
