"""Event consumers: durable JetStream pull consumers that are idempotent (the inbox) and dead-letter poison.

What one pull brought is applied in one transaction, in stream order, with the inbox rows of all its events,
and the acks follow the commit: a redelivery after a crash finds the event ids and changes nothing. Should a
handler fail, the batch is rolled back and its events are applied again one by one, each in a transaction of
its own, so only the failing one is retried. A message that cannot be decoded goes to the dead-letter stream at
once; one whose handler keeps failing goes there after `max_deliveries` tries. Either way the consumer moves on.

The pulling is our own, on nats-py (`Puller`, shared/puller.py): one pull request stays open at the server, so a
message is handled as soon as it arrives, and everything that arrived meanwhile is the next batch. (FastStream's batch
mode waits for a full batch or its timeout, nats-py's `fetch` for a full batch or its deadline: a second of
latency on a quiet platform.)
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar
from uuid import UUID as UUID_

import msgspec
import nats.js.errors
import sqlalchemy as sa
from nats.aio.client import Client as NATS
from nats.aio.msg import Msg
from nats.js.api import AckPolicy, ConsumerConfig, DeliverPolicy
from opentelemetry import context as otel_context
from opentelemetry import propagate, trace
from opentelemetry.trace import Span, SpanKind, Tracer
from sqlalchemy.dialects.postgresql import UUID

from shared.contracts import EVENT_TYPE_PREFIX, Envelope, EventData, decode_data
from shared.db import DirectConnection, driver_sql, kernel_metadata
from shared.messaging import DEAD_LETTER_STREAM, event_stream_name, while_jetstream_settles
from shared.puller import Puller
from shared.rpc.envelope import caller_context
from shared.telemetry import (
    Telemetry,
    fail_span,
    skips_unsampled_children,
    stable_subject,
    tag_span_with_event,
    tag_span_with_subject,
    zero_start_counter,
)
from shared.unit_of_work import Transaction, UnitOfWork

log = logging.getLogger(__name__)

inbox = sa.Table(
    "inbox",
    kernel_metadata,
    sa.Column("consumer", sa.Text, primary_key=True),
    sa.Column("event_id", UUID(as_uuid=True), primary_key=True),
    sa.Column("processed_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
    sa.Index("inbox_by_age", "processed_at"),  # retention (shared/retention.py)
)

# The batch's events that this consumer has not handled before, recorded as handled, in one round trip.
# A second copy of an event in the same batch conflicts with the first and is left out, like an older one.
# In asyncpg's SQL, nothing compiled (shared/db.py driver_sql).
FIRST_TIME = (
    "INSERT INTO inbox (consumer, event_id) SELECT $1, unnest($2::uuid[]) ON CONFLICT DO NOTHING RETURNING event_id"
)

# The same, as a CTE of a statement handler's own statement (`StatementHandler`): `first_time` holds the ids of the
# batch's events this consumer has not handled before, now recorded; parameters `:consumer` and `:event_ids`.
FIRST_TIME_CTE = (
    "first_time AS (INSERT INTO inbox (consumer, event_id) SELECT :consumer, unnest(CAST(:event_ids AS uuid[]))"
    " ON CONFLICT DO NOTHING RETURNING event_id)"
)

E = TypeVar("E", bound=EventData)
EventHandler = Callable[[Transaction, Envelope, E], Awaitable[None]]
# A batch's new events at once, in stream order, each with the span its handling is recorded in (a handler that
# writes them all in one statement: courses' and volunteers' projections).
BatchHandler = Callable[[Transaction, Sequence[tuple[Envelope, Span]]], Awaitable[None]]
# A batch's events (a second copy in the batch left out), in stream order, each with its span, applied with their
# inbox rows (`FIRST_TIME_CTE`, for the consumer named) in one statement of the handler's own in autocommit
# (`UnitOfWork.direct_statements`): PostgreSQL applies it whole or not at all, so it needs no transaction around
# it, and a batch is its reads and that statement, with no BEGIN, inbox or COMMIT round trips (the partners' feed,
# where someone waits for the entry).
StatementHandler = Callable[[UnitOfWork, str, Sequence[tuple[Envelope, Span]]], Awaitable[None]]

_ENVELOPE = msgspec.json.Decoder(Envelope)

# Headers a dead letter carries, so an operator can see why and replay it where it came from.
REASON = "Partnernet-Dead-Letter-Reason"
ORIGINAL_SUBJECT = "Partnernet-Original-Subject"
ORIGINAL_STREAM = "Partnernet-Original-Stream"
ORIGINAL_SEQUENCE = "Partnernet-Original-Sequence"
CONSUMER = "Partnernet-Consumer"
DELIVERIES = "Partnernet-Deliveries"
# On a replayed dead letter: the one durable consumer it is for. Every other consumer of the subject skips it,
# so a replay neither reaches consumers that handled the event (or set it aside) already nor multiplies copies.
REPLAY_FOR = "Partnernet-Replay-For"

BATCH_SIZE = 64  # at most this many events a transaction (and messages asked for in one pull request)
ACK_WAIT_SECONDS = 30.0
RETRY_SECONDS = 1.0
STOP_SECONDS = 10.0  # how long a stopping service lets the batch in hand finish
# A consumer nobody waits on (a projection of another service's events, notices by mail) gathers what arrives in
# this time after a first event into the same batch: at a few hundred events a second that is one statement (or
# transaction) and a wake-up for ten or more events instead of each. At the write path's maximum, 50 ms against 20
# ms took CPU per referral from 0.11-0.16 to 0.09-0.12 ms in each of courses and volunteers, and partners' (its
# notices) 0.43-0.58 to 0.38-0.52 (issue 17's ninth round); what they keep is that much later, still well within
# a second. A consumer on a path someone waits for (an event into a partner's feed) takes what is there at once.
PROJECTION_LINGER_SECONDS = 0.05


@dataclass
class Delivery:
    """One message of a batch, decoded, with the span its handling is recorded in."""

    msg: Msg
    envelope: Envelope
    data: Any
    span: Span


class EventConsumer(Generic[E]):
    def __init__(
        self,
        *,
        service: str,
        name: str,
        event: type[E],
        handler: EventHandler[E],
        work: UnitOfWork,
        telemetry: Telemetry,
        max_deliveries: int = 5,
        batch_size: int = BATCH_SIZE,
        linger_seconds: float = 0.0,
    ) -> None:
        self.durable = f"{service}-{name}"
        self.event = event
        self.linger_seconds = linger_seconds
        self.handler = handler
        self.work = work
        self.max_deliveries = max_deliveries
        self.batch_size = batch_size
        short_type = event.qualified_type().removeprefix(EVENT_TYPE_PREFIX)
        self.subject = f"events.{event.service}.{short_type}.>"
        self.stream = event_stream_name(event.service)
        self._setup(telemetry, event.qualified_type())

    def _setup(self, telemetry: Telemetry, event_type: str | None) -> None:
        """The consumer's tracer and counters, at 0 from the start: the first dead letter must show as an increase."""
        self.tracer: Tracer = telemetry.tracer("partnernet.consumer")
        self._skip_unsampled = skips_unsampled_children(self.tracer)
        meter = telemetry.meter("partnernet.consumer")
        self._consumed = zero_start_counter(meter, "partnernet.events.consumed", description="events handled by type")
        self._dead = zero_start_counter(meter, "partnernet.events.dead_lettered")
        self._dead.start({"consumer": self.durable})
        if event_type is not None:
            self._consumed.start({"consumer": self.durable, "event_type": event_type})
        self._puller: Puller | None = None

    def config(self) -> ConsumerConfig:
        return ConsumerConfig(
            durable_name=self.durable,
            name=self.durable,
            filter_subject=self.subject,
            deliver_policy=DeliverPolicy.ALL,
            ack_policy=AckPolicy.EXPLICIT,
            # The server's own limit is a backstop for a message that crashes the process before we can count.
            max_deliver=self.max_deliveries + 2,
            ack_wait=ACK_WAIT_SECONDS,
        )

    async def start(self, connection: NATS) -> asyncio.Task[None]:
        """Declare the durable consumer (if it is new) and start pulling; returns the task that does."""
        self._nc = connection
        self._js = connection.jetstream()
        self._puller = Puller(connection, self.stream, self.durable, self.batch_size, self.linger_seconds)
        await self._declare()
        await self._puller.subscribe()
        return asyncio.create_task(self.run(), name=f"consumer-{self.durable}")

    async def _declare(self) -> None:
        async def declare() -> None:
            try:
                # An existing consumer keeps its configuration: an operator may have changed it (ack wait, limits).
                await self._js.consumer_info(self.stream, self.durable)
            except nats.js.errors.NotFoundError:
                await self._js.add_consumer(self.stream, config=self.config())

        await while_jetstream_settles(declare, f"declaring the consumer {self.durable}")

    async def stop(self) -> None:
        """Let the batch in hand finish (within STOP_SECONDS), then give back what was pulled and not handled."""
        if self._puller is not None:
            await self._puller.stop(STOP_SECONDS)

    async def run(self) -> None:
        assert self._puller is not None
        while not self._puller.stopping:
            try:
                try:
                    batch = await self._puller.next_batch()
                    if batch:
                        await self.handle(batch)
                finally:
                    # Said at once: a stop waiting for the batch in hand goes on now, not after STOP_SECONDS (the
                    # loop ends here when stopping, without asking for another batch).
                    self._puller.put_down()
            except asyncio.CancelledError:
                raise
            except Exception:
                if self._puller.stopping:
                    break
                log.warning("consumer %s interrupted; pulling again in %ss", self.durable, RETRY_SECONDS, exc_info=True)
                await asyncio.sleep(RETRY_SECONDS)
                with contextlib.suppress(Exception):
                    await self._declare()  # the consumer may be gone with the server's data

    async def handle(self, msgs: Sequence[Msg]) -> None:
        """One pull's messages: those for this consumer, decoded, applied together; the rest set aside."""
        deliveries: list[Delivery] = []
        for msg in msgs:
            if (delivery := await self._decoded(msg)) is not None:
                deliveries.append(delivery)
        if not deliveries:
            return
        try:
            await self._apply_together(deliveries)
        except Exception as exc:
            # Rolled back as a whole: each again in a transaction of its own, so only the failing one is retried.
            for delivery in deliveries:
                delivery.span.add_event("batch rolled back", {"exception.type": type(exc).__name__})
            for delivery in deliveries:
                await self._apply_alone(delivery)
        else:
            for delivery in deliveries:
                await delivery.msg.ack()
                self._consumed.add(1, {"consumer": self.durable, "event_type": delivery.envelope.type})
                delivery.span.end()

    async def _decoded(self, msg: Msg) -> Delivery | None:
        headers = msg.headers or {}
        replay_for = headers.get(REPLAY_FOR)
        if replay_for is not None and replay_for != self.durable:
            await msg.ack()  # a dead letter replayed for another consumer of this subject: not ours to handle
            return None
        span = self._span(msg.subject, headers)
        try:
            envelope = _ENVELOPE.decode(msg.data)
            # An envelope consumer's handlers take the envelope: its data is not copied into a second dict.
            data = envelope.data if self.event is dict else decode_data(envelope, self.event)
        except (msgspec.DecodeError, msgspec.ValidationError) as exc:
            tag_span_with_subject(msg.subject, span)
            fail_span(exc, f"undecodable, dead-lettered by {self.durable}", span)
            try:
                await self.dead_letter(msg, f"undecodable: {exc}", _delivered(msg))
            finally:
                span.end()
            return None
        if span.is_recording():
            tag_span_with_event(envelope, span)
            span.set_attribute("messaging.message.id", str(envelope.id))
        return Delivery(msg, envelope, data, span)

    def _span(self, subject: str, headers: dict[str, str]) -> Span:
        """The span a message is handled in. One that would not be recorded (its producer's trace is not sampled,
        and the sampler follows the parent) is not made: the producer's is carried on, so the logs and what the
        handler writes (a feed entry's trace context) keep the trace id. Making it (the propagators' extract, the
        sampler, ids, attributes) cost ~35 µs a message, for each of the four consumers of every referral event."""
        if self._skip_unsampled:
            parent, sampled = caller_context(headers.get("traceparent"))
            if parent is not None and not sampled:
                return trace.get_current_span(parent)
        return self.tracer.start_span(
            f"{stable_subject(subject)} process",
            context=propagate.extract(headers),
            kind=SpanKind.CONSUMER,
            attributes={
                "messaging.system": "nats",
                "messaging.operation.type": "process",
                "messaging.destination.name": subject,
                "messaging.consumer.group.name": self.durable,
            },
        )

    async def _apply_together(self, deliveries: Sequence[Delivery]) -> None:
        first = deliveries[0]
        # The batch's own statements (the inbox, the commit) in the first event's trace; each handler in its own.
        with _current(first.span):
            async with self.work.transaction() as tx:
                new = await self._first_time(tx, [d.envelope.id for d in deliveries])
                fresh: list[tuple[Envelope, Any, Span]] = []
                for delivery in deliveries:
                    if delivery.envelope.id not in new:
                        log.info("consumer %s already handled event %s", self.durable, delivery.envelope.id)
                        continue
                    new.discard(delivery.envelope.id)  # a second copy in the same batch is skipped too
                    fresh.append((delivery.envelope, delivery.data, delivery.span))
                await self._apply(tx, fresh)

    async def _first_time(self, tx: Transaction, ids: list[UUID_]) -> set[UUID_]:
        return await first_time(tx, self.durable, ids)

    async def _apply(self, tx: Transaction, events: Sequence[tuple[Envelope, Any, Span]]) -> None:
        """The batch's new events (envelope, data, span), in stream order, each handled in its own span."""
        for envelope, data, span in events:
            with _current(span):
                await self.handler(tx, envelope, data)

    async def _apply_alone(self, delivery: Delivery) -> None:
        msg, envelope, span = delivery.msg, delivery.envelope, delivery.span
        delivered = _delivered(msg)
        try:
            with _current(span):
                await self.handle_once(envelope, delivery.data)
        except Exception as exc:
            # An ERROR span with the exception, the tenant and the event: what the failure panels search for.
            try:
                if delivered >= self.max_deliveries:
                    fail_span(exc, f"failed {delivered} times, dead-lettered by {self.durable}", span)
                    log.exception("consumer %s gives up on event %s", self.durable, envelope.id)
                    await self.dead_letter(msg, f"failed {delivered} times: {exc!r}"[:1000], delivered)
                    return
                fail_span(exc, f"failed in {self.durable} (try {delivered}); retried", span)
                log.warning("consumer %s failed on event %s (try %d): %r", self.durable, envelope.id, delivered, exc)
                await msg.nak(delay=min(2.0**delivered, 30.0))
                return
            finally:
                span.end()
        await msg.ack()
        self._consumed.add(1, {"consumer": self.durable, "event_type": envelope.type})
        span.end()

    async def handle_once(self, envelope: Envelope, data: E) -> None:
        async with self.work.transaction() as tx:
            if not await self._first_time(tx, [envelope.id]):
                log.info("consumer %s already handled event %s", self.durable, envelope.id)
                return
            await self._apply(tx, [(envelope, data, trace.get_current_span())])

    async def dead_letter(self, msg: Msg, reason: str, delivered: int) -> None:
        meta = msg.metadata
        headers = {
            REASON: reason.replace("\n", " ")[:1000],
            ORIGINAL_SUBJECT: msg.subject,
            ORIGINAL_STREAM: meta.stream,
            ORIGINAL_SEQUENCE: str(meta.sequence.stream),
            CONSUMER: self.durable,
            DELIVERIES: str(delivered),
        }
        await self._js.publish(f"deadletter.{self.durable}", msg.data, headers=headers, stream=DEAD_LETTER_STREAM)
        # Only after the dead letter is stored: the original is then done for this consumer.
        await msg.ack()
        self._dead.add(1, {"consumer": self.durable})
        log.error("dead-lettered a message on %s: %s", self.durable, headers[REASON])


async def first_time(tx: Transaction, consumer: str, ids: Sequence[UUID_]) -> set[UUID_]:
    """Which of `ids` the consumer has not handled before, now recorded in the transaction's inbox."""
    return {row[0] for row in await driver_sql(tx.session, FIRST_TIME, consumer, list(ids))}


async def apply_referral_rows(
    work: UnitOfWork,
    consumer: str,
    event_ids: list[UUID_],
    rows: list[dict[str, Any]],
    *,
    once: Callable[[DirectConnection, str, list[UUID_], list[dict[str, Any]]], Awaitable[None]],
    in_rounds: Callable[[Any, list[dict[str, Any]]], Awaitable[None]],
) -> None:
    """A batch of a projection's rows (each with its referral's `id` and its event's `event_id`): when the batch names
    each referral once, `once` writes it with its inbox rows in one statement, in autocommit (no BEGIN, inbox and
    COMMIT round trips, no session: issue 17's ninth round); when it names a referral twice, `in_rounds` applies the
    new events' rows in a transaction with their inbox rows, as one statement per event would have left them."""
    if len({row["id"] for row in rows}) == len(rows):
        async with work.direct_statements() as connection:
            await once(connection, consumer, event_ids, rows)
        return
    async with work.transaction() as tx:
        new = await first_time(tx, consumer, event_ids)
        await in_rounds(tx.session, [row for row in rows if row["event_id"] in new])


def _delivered(msg: Msg) -> int:
    return msg.metadata.num_delivered or 1


@contextlib.contextmanager
def _current(span: Span) -> Any:
    token = otel_context.attach(trace.set_span_in_context(span))
    try:
        yield
    finally:
        otel_context.detach(token)


EnvelopeHandler = Callable[[Transaction, Envelope], Awaitable[None]]


class EnvelopeConsumer(EventConsumer[Any]):
    """Every event on a subject filter, handed over as its envelope (`data` stays a dict), with the same
    inbox, retries and dead letters as EventConsumer.

    For projections that route events by fields they share (e.g. every `referral.*` event names its
    parties the same way), so event types added later flow through without a code change here.
    """

    def __init__(
        self,
        *,
        service: str,
        name: str,
        subject: str,
        stream: str,
        handler: EnvelopeHandler | None = None,
        batch_handler: BatchHandler | None = None,
        statement_handler: StatementHandler | None = None,
        work: UnitOfWork,
        telemetry: Telemetry,
        max_deliveries: int = 5,
        batch_size: int = BATCH_SIZE,
        linger_seconds: float = 0.0,
    ) -> None:
        """`handler` takes the events one by one, `batch_handler` a batch's new events at once in the consumer's
        transaction, `statement_handler` a batch's events to apply with their inbox rows in one statement of its
        own: one of the three."""
        if sum(h is not None for h in (handler, batch_handler, statement_handler)) != 1:
            raise ValueError("an envelope consumer takes a handler, a batch handler or a statement handler")
        self.durable = f"{service}-{name}"
        self.event = dict  # decode_data() then leaves the data as it came
        self.linger_seconds = linger_seconds
        self.handler = self._hand_over
        self.envelope_handler = handler
        self.batch_handler = batch_handler
        self.statement_handler = statement_handler
        self.work = work
        self.max_deliveries = max_deliveries
        self.batch_size = batch_size
        self.subject = subject
        self.stream = stream
        self._setup(telemetry, None)  # the event types come as they come

    async def _hand_over(self, tx: Transaction, envelope: Envelope, data: Any) -> None:
        assert self.envelope_handler is not None
        await self.envelope_handler(tx, envelope)

    async def _apply(self, tx: Transaction, events: Sequence[tuple[Envelope, Any, Span]]) -> None:
        if self.batch_handler is None:
            await super()._apply(tx, events)
        elif events:
            await self.batch_handler(tx, [(envelope, span) for envelope, _, span in events])

    async def _apply_together(self, deliveries: Sequence[Delivery]) -> None:
        if self.statement_handler is None:
            await super()._apply_together(deliveries)
            return
        once: dict[UUID_, Delivery] = {}
        for delivery in deliveries:
            once.setdefault(delivery.envelope.id, delivery)  # a second copy in the same batch is skipped
        # The batch's statements in the first event's trace; each event's own span goes with it to the handler.
        with _current(deliveries[0].span):
            await self.statement_handler(self.work, self.durable, [(d.envelope, d.span) for d in once.values()])

    async def handle_once(self, envelope: Envelope, data: Any) -> None:
        if self.statement_handler is None:
            await super().handle_once(envelope, data)
            return
        await self.statement_handler(self.work, self.durable, [(envelope, trace.get_current_span())])
