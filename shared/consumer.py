"""Event consumers: durable JetStream pull consumers that are idempotent (the inbox) and dead-letter poison.

A handler's effect and the inbox row commit together, and the ack follows the commit, so a
redelivery after a crash finds the event id and changes nothing. A message that cannot be decoded
goes to the dead-letter stream at once; one whose handler keeps failing goes there after
`max_deliveries` tries. Either way the consumer moves on.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any, Generic, TypeVar

import msgspec
import sqlalchemy as sa
from faststream import AckPolicy
from faststream.nats import ConsumerConfig, JStream, NatsBroker, PullSub
from faststream.nats.annotations import NatsMessage
from sqlalchemy.dialects.postgresql import UUID, insert

from shared.contracts import EVENT_TYPE_PREFIX, Envelope, EventData, decode_data
from shared.db import kernel_metadata
from shared.messaging import DEAD_LETTER_STREAM, event_stream_name
from shared.telemetry import Telemetry, fail_span, tag_span_with_event, tag_span_with_subject, zero_start_counter
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

E = TypeVar("E", bound=EventData)
EventHandler = Callable[[Transaction, Envelope, E], Awaitable[None]]

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
    ) -> None:
        self.durable = f"{service}-{name}"
        self.event = event
        self.handler = handler
        self.work = work
        self.max_deliveries = max_deliveries
        short_type = event.qualified_type().removeprefix(EVENT_TYPE_PREFIX)
        self.subject = f"events.{event.service}.{short_type}.>"
        self.stream = event_stream_name(event.service)
        self._count_from_zero(telemetry, event.qualified_type())

    def _count_from_zero(self, telemetry: Telemetry, event_type: str | None) -> None:
        """The consumer's counters, at 0 from the start: the first dead letter must show as an increase."""
        meter = telemetry.meter("partnernet.consumer")
        self._consumed = zero_start_counter(meter, "partnernet.events.consumed", description="events handled by type")
        self._dead = zero_start_counter(meter, "partnernet.events.dead_lettered")
        self._dead.start({"consumer": self.durable})
        if event_type is not None:
            self._consumed.start({"consumer": self.durable, "event_type": event_type})

    def subscribe(self, broker: NatsBroker) -> None:
        self._broker = broker
        broker.subscriber(
            self.subject,
            stream=JStream(self.stream, declare=False),
            durable=self.durable,
            # One message a fetch: FastStream runs the messages of a larger batch side by side, and then a
            # projection could see `referral.accepted` before `referral.submitted`. In stream order within a
            # replica; across replicas handlers that keep state compare versions or times.
            pull_sub=PullSub(batch_size=1, timeout=1.0),
            ack_policy=AckPolicy.MANUAL,
            # The server's own limit is a backstop for a message that crashes the process before we can count.
            config=ConsumerConfig(max_deliver=self.max_deliveries + 2, ack_wait=30.0),
            title=self.durable,
        )(self.consume)

    async def consume(self, msg: NatsMessage) -> None:
        replay_for = (msg.raw_message.headers or {}).get(REPLAY_FOR)
        if replay_for is not None and replay_for != self.durable:
            await msg.ack()  # a dead letter replayed for another consumer of this subject: not ours to handle
            return
        delivered = msg.raw_message.metadata.num_delivered or 1
        try:
            envelope = msgspec.json.decode(msg.body, type=Envelope)
            data = decode_data(envelope, self.event)
        except (msgspec.DecodeError, msgspec.ValidationError) as exc:
            tag_span_with_subject(msg.raw_message.subject)
            fail_span(exc, f"undecodable, dead-lettered by {self.durable}")
            await self.dead_letter(msg, f"undecodable: {exc}", delivered)
            return
        tag_span_with_event(envelope)
        try:
            await self.handle_once(envelope, data)
        except Exception as exc:
            # An ERROR span with the exception, the tenant and the event: what the failure panels search for.
            if delivered >= self.max_deliveries:
                fail_span(exc, f"failed {delivered} times, dead-lettered by {self.durable}")
                log.exception("consumer %s gives up on event %s", self.durable, envelope.id)
                await self.dead_letter(msg, f"failed {delivered} times: {exc!r}"[:1000], delivered)
                return
            fail_span(exc, f"failed in {self.durable} (try {delivered}); retried")
            log.warning("consumer %s failed on event %s (try %d): %r", self.durable, envelope.id, delivered, exc)
            await msg.nack(delay=min(2.0**delivered, 30.0))
            return
        await msg.ack()
        self._consumed.add(1, {"consumer": self.durable, "event_type": envelope.type})

    async def handle_once(self, envelope: Envelope, data: E) -> None:
        async with self.work.transaction() as tx:
            first_time = (
                await tx.session.execute(
                    insert(inbox)
                    .values(consumer=self.durable, event_id=envelope.id)
                    .on_conflict_do_nothing()
                    .returning(inbox.c.event_id)
                )
            ).first()
            if first_time is None:
                log.info("consumer %s already handled event %s", self.durable, envelope.id)
                return
            await self.handler(tx, envelope, data)

    async def dead_letter(self, msg: NatsMessage, reason: str, delivered: int) -> None:
        meta = msg.raw_message.metadata
        headers = {
            REASON: reason.replace("\n", " ")[:1000],
            ORIGINAL_SUBJECT: msg.raw_message.subject,
            ORIGINAL_STREAM: meta.stream,
            ORIGINAL_SEQUENCE: str(meta.sequence.stream),
            CONSUMER: self.durable,
            DELIVERIES: str(delivered),
        }
        await self._broker.publish(msg.body, f"deadletter.{self.durable}", headers=headers, stream=DEAD_LETTER_STREAM)
        # Only after the dead letter is stored: the original is then done for this consumer.
        await msg.ack()
        self._dead.add(1, {"consumer": self.durable})
        log.error("dead-lettered a message on %s: %s", self.durable, headers[REASON])


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
        handler: EnvelopeHandler,
        work: UnitOfWork,
        telemetry: Telemetry,
        max_deliveries: int = 5,
    ) -> None:
        self.durable = f"{service}-{name}"
        self.event = dict  # decode_data() then leaves the data as it came
        self.handler = self._hand_over
        self.envelope_handler = handler
        self.work = work
        self.max_deliveries = max_deliveries
        self.subject = subject
        self.stream = stream
        self._count_from_zero(telemetry, None)  # the event types come as they come

    async def _hand_over(self, tx: Transaction, envelope: Envelope, data: Any) -> None:
        await self.envelope_handler(tx, envelope)
