"""Metrics every service exports: their names, the instruments, and the poll that feeds the gauges.

Names are OpenTelemetry's (dots). Prometheus shows them with underscores, a unit suffix and `_total`
on counters (`partnernet.events.published` → `partnernet_events_published_total`,
`partnernet.outbox.oldest_age` in s → `partnernet_outbox_oldest_age_seconds`). The dashboards and
alert rules in deploy/observability use those names; tests/deploy checks them against a real export.
"""

from __future__ import annotations

import asyncio
import enum
import logging
import time
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any, TypeVar
from uuid import UUID

from opentelemetry import trace
from opentelemetry.metrics import CallbackOptions, Meter, Observation
from opentelemetry.trace import Status, StatusCode

from shared.errors import PartnernetError
from shared.messaging import DEAD_LETTER_STREAM, broker_answers
from shared.probes import nats_ready, serve_probes
from shared.telemetry import Telemetry, housekeeping, searchable_fields, tag_span, zero_start_counter
from shared.tenancy import Actor

if TYPE_CHECKING:  # the gateway (BrokerWatch, observe_instance) loads neither SQLAlchemy nor the outbox's FastStream
    from sqlalchemy.ext.asyncio import AsyncEngine

    from shared.service import ServiceRuntime

log = logging.getLogger(__name__)

B = TypeVar("B")

# Counters and histograms (recorded where the thing happens).
EVENTS_PUBLISHED = "partnernet.events.published"  # outbox relay: service, event_type, library, partner
EVENTS_CONSUMED = "partnernet.events.consumed"  # consumers: consumer, event_type
EVENTS_DEAD_LETTERED = "partnernet.events.dead_lettered"  # consumers: consumer
OPERATION_DURATION = "partnernet.operation.duration"  # s; NATS operations: service, operation, outcome
WEBHOOK_DELIVERIES = "partnernet.webhook.deliveries"  # partners service: partner, result
# Gauges (observed from the last poll, or read live).
CONSUMER_PENDING = "partnernet.consumer.pending"  # consumer, stream
CONSUMER_ACK_PENDING = "partnernet.consumer.ack_pending"  # consumer, stream
DEAD_LETTERS = "partnernet.deadletters.messages"  # consumer
OUTBOX_BACKLOG = "partnernet.outbox.backlog"  # service
OUTBOX_OLDEST_AGE = "partnernet.outbox.oldest_age"  # s; service
OUTBOX_RELAY_ACTIVE = "partnernet.outbox.relay_active"  # service; 1 on the replica that holds the lock
DB_POOL_CHECKED_OUT = "partnernet.db.pool.checked_out"  # service
DB_POOL_SIZE = "partnernet.db.pool.size"  # service
DB_POOL_LIMIT = "partnernet.db.pool.limit"  # service; size plus overflow: the most it will open
SERVICE_UP = "partnernet.service.up"  # service; 1 per running replica (count them for "replicas")
# service, dependency (`database`, `nats`); 1 when the last poll reached it within POLL_TIMEOUT_SECONDS, else 0
DEPENDENCY_UP = "partnernet.dependency.up"
QUEUE_BACKLOG = "partnernet.queue.backlog"  # service, queue (`feed`, `webhooks`); work waiting for a relay
QUEUE_OLDEST_AGE = "partnernet.queue.oldest_age"  # s; service, queue; how long the oldest waiting item has waited

# Often enough for one-minute alert windows; a poll is a handful of small requests.
POLL_SECONDS = 10.0
# A dependency that has not answered a poll's small request within this is counted as down: a paused
# database or broker hangs rather than refuses, and a gauge must not keep its last value meanwhile.
POLL_TIMEOUT_SECONDS = 3.0
OPERATION_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1.0, 2.5, 5.0, 7.5, 10.0)


class WebhookResult(enum.StrEnum):
    DELIVERED = "delivered"  # the partner answered 2xx
    FAILED = "failed"  # this try failed (error, timeout, non-2xx); it will be tried again
    GAVE_UP = "gave_up"  # the last try failed; the delivery waits for a replay


class WebhookDeliveries:
    """`partnernet.webhook.deliveries{partner, result}`: one count per delivery attempt."""

    def __init__(self, meter: Meter) -> None:
        self._counter = zero_start_counter(meter, WEBHOOK_DELIVERIES, description="webhook delivery attempts by result")

    def record(self, *, partner: str | UUID, result: WebhookResult) -> None:
        for each in WebhookResult:  # a partner's first give-up must show as an increase: every result from 0
            self._counter.start({"partner": str(partner), "result": each.value})
        self._counter.add(1, {"partner": str(partner), "result": result.value})


def webhook_deliveries(meter: Meter) -> WebhookDeliveries:
    return WebhookDeliveries(meter)


def observe_instance(meter: Meter, service: str) -> None:
    """One `partnernet.service.up` per running process: the alert on missing replicas counts these."""

    def up(_: CallbackOptions) -> Iterable[Observation]:
        yield Observation(1, {"service": service})

    meter.create_observable_gauge(SERVICE_UP, [up], description="1 for every running replica")


def observe_operation(
    telemetry: Telemetry, service: str, operation: str, use_case: Callable[[Actor, B], Awaitable[Any]]
) -> Callable[[Actor, B], Awaitable[Any]]:
    """Wrap a NATS operation: tag its span with what an operator searches by, and time it by outcome."""
    duration = telemetry.meter("partnernet.rpc").create_histogram(
        OPERATION_DURATION,
        unit="s",
        description="time a service takes to answer an operation",
        explicit_bucket_boundaries_advisory=OPERATION_BUCKETS,
    )

    ok = {"service": service, "operation": operation, "outcome": "ok"}

    async def observed(actor: Actor, body: B) -> Any:
        span = trace.get_current_span()
        # Looking for the searchable keys costs more than the empty use case itself: only for a span that is kept.
        recording = span.is_recording()
        if recording:
            tag_span(searchable_fields(actor) | searchable_fields(body), span)
        started = time.perf_counter()
        try:
            result = await use_case(actor, body)
        except PartnernetError as exc:
            span.set_attribute("partnernet.error", exc.code)
            duration.record(time.perf_counter() - started, {**ok, "outcome": exc.code})
            raise
        except Exception as exc:
            span.record_exception(exc)
            span.set_status(Status(StatusCode.ERROR, type(exc).__name__))
            duration.record(time.perf_counter() - started, {**ok, "outcome": "failed"})
            raise
        duration.record(time.perf_counter() - started, ok)
        if recording:
            tag_span(searchable_fields(result), span)
        return result

    return observed


def observe_pool(meter: Meter, service: str, engine: AsyncEngine) -> None:
    """The connection pool, read when metrics are collected (plain counters on the pool: no I/O)."""
    pool: Any = engine.sync_engine.pool  # a QueuePool: size(), checkedout(), overflow limit
    attributes = {"service": service}

    def gauge(read: Callable[[], int]) -> Callable[[CallbackOptions], Iterable[Observation]]:
        def observe(_: CallbackOptions) -> Iterable[Observation]:
            yield Observation(read(), attributes)

        return observe

    meter.create_observable_gauge(
        DB_POOL_CHECKED_OUT, [gauge(pool.checkedout)], description="database connections in use"
    )
    meter.create_observable_gauge(DB_POOL_SIZE, [gauge(pool.size)], description="connections the pool keeps")
    meter.create_observable_gauge(
        DB_POOL_LIMIT,
        [gauge(lambda: pool.size() + max(getattr(pool, "_max_overflow", 0), 0))],
        description="the most connections the pool opens",
    )


@dataclass(frozen=True)
class ConsumerLag:
    stream: str
    pending: int  # in the stream, not yet delivered to the consumer
    ack_pending: int  # delivered, not yet acknowledged


# How a service reads one of its queues for the gauges: (items waiting, when the oldest began to wait).
BacklogReader = Callable[[], Awaitable[tuple[int, datetime | None]]]


def age_of(oldest: datetime | None, now: datetime) -> float:
    return max((now - oldest).total_seconds(), 0.0) if oldest else 0.0


class DependencyGauge:
    """`partnernet.dependency.up{service, dependency}`: 1 or 0 from the last poll, never a value kept from before."""

    def __init__(self, meter: Meter, service: str, dependencies: Iterable[str]) -> None:
        self.service = service
        self.up = dict.fromkeys(dependencies, False)
        meter.create_observable_gauge(
            DEPENDENCY_UP,
            [self._observe],
            description="1 when the last poll reached the dependency (database, nats) in time, else 0",
        )

    def _observe(self, _: CallbackOptions) -> Iterable[Observation]:
        return [
            Observation(1 if up else 0, {"service": self.service, "dependency": name}) for name, up in self.up.items()
        ]


class BrokerWatch:
    """The gateway's view of NATS for `partnernet.dependency.up{service="gateway", dependency="nats"}`."""

    def __init__(self, meter: Meter, connection: Any, *, poll_seconds: float = POLL_SECONDS) -> None:
        self.connection = connection  # the gateway's nats-py client
        self.poll_seconds = poll_seconds
        self.gauge = DependencyGauge(meter, "gateway", ["nats"])

    async def poll(self) -> None:
        self.gauge.up["nats"] = await broker_answers(self.connection, POLL_TIMEOUT_SECONDS)

    async def run(self) -> None:
        while True:
            try:
                await self.poll()
            except Exception:
                self.gauge.up["nats"] = False
                log.exception("broker poll failed")
            await asyncio.sleep(self.poll_seconds)


class ServiceMonitor:
    """Feeds a service's gauges from a periodic poll, and answers the container's probes.

    Observable-gauge callbacks run in the exporter's thread and cannot await, so the poll (JetStream
    consumer info, the outbox, the queues, the dead letters) stores what it read and the callbacks report
    it. Every read has a deadline (POLL_TIMEOUT_SECONDS): a database or broker that hangs is reported as
    down (`partnernet.dependency.up` 0), and what could not be read is left out rather than reported stale.
    """

    def __init__(self, runtime: ServiceRuntime, *, poll_seconds: float = POLL_SECONDS) -> None:
        self.runtime = runtime
        self.poll_seconds = poll_seconds
        self.consumer_lag: dict[str, ConsumerLag] = {}  # by durable consumer
        self.dead_letters: dict[str, int] = {}  # durable -> messages in DEAD_LETTERS
        self.outbox: tuple[int, float] | None = None  # (backlog, age of the oldest unsent event in s)
        self.queues: dict[str, tuple[int, float]] = {}  # queue -> (backlog, age of the oldest in s)
        meter = runtime.telemetry.meter("partnernet.service")
        self.dependencies = DependencyGauge(meter, runtime.name, ["database", "nats"])
        service = {"service": runtime.name}
        observe_instance(meter, runtime.name)
        observe_pool(meter, runtime.name, runtime.engine)
        meter.create_observable_gauge(
            CONSUMER_PENDING,
            [self._lag("pending")],
            description="messages in the stream not yet delivered to the durable consumer",
        )
        meter.create_observable_gauge(
            CONSUMER_ACK_PENDING,
            [self._lag("ack_pending")],
            description="messages delivered to the durable consumer and not yet acknowledged",
        )
        meter.create_observable_gauge(
            DEAD_LETTERS,
            [lambda _: [Observation(count, {"consumer": durable}) for durable, count in self.dead_letters.items()]],
            description="messages of this consumer waiting in the dead letters",
        )
        meter.create_observable_gauge(
            OUTBOX_BACKLOG,
            [lambda _: [Observation(self.outbox[0], service)] if self.outbox else []],
            description="events written to the outbox and not yet published",
        )
        meter.create_observable_gauge(
            OUTBOX_OLDEST_AGE,
            [lambda _: [Observation(self.outbox[1], service)] if self.outbox else []],
            unit="s",
            description="age of the oldest unsent event (0 when none waits)",
        )
        meter.create_observable_gauge(
            OUTBOX_RELAY_ACTIVE,
            [lambda _: [Observation(1 if runtime.relay.active else 0, service)]],
            description="1 on the replica whose relay holds the outbox lock",
        )
        meter.create_observable_gauge(
            QUEUE_BACKLOG,
            [self._queue(0)],
            description="items waiting in one of the service's queues (feed entries to publish, webhooks due)",
        )
        meter.create_observable_gauge(
            QUEUE_OLDEST_AGE,
            [self._queue(1)],
            unit="s",
            description="how long the oldest waiting item of the queue has waited (0 when none waits)",
        )

    def _queue(self, field: int) -> Callable[[CallbackOptions], Iterable[Observation]]:
        def observe(_: CallbackOptions) -> Iterable[Observation]:
            return [
                Observation(values[field], {"service": self.runtime.name, "queue": queue})
                for queue, values in self.queues.items()
            ]

        return observe

    @property
    def database_ok(self) -> bool:
        return self.dependencies.up["database"]

    def _lag(self, field: str) -> Callable[[CallbackOptions], Iterable[Observation]]:
        def observe(_: CallbackOptions) -> Iterable[Observation]:
            return [
                Observation(getattr(lag, field), {"consumer": durable, "stream": lag.stream})
                for durable, lag in self.consumer_lag.items()
            ]

        return observe

    def ready(self) -> bool:
        return nats_ready(lambda: self.runtime.broker.connection)() and self.database_ok

    async def start(self) -> asyncio.Task[None]:
        """Listen for probes (a taken port fails the start, loudly), then poll until cancelled."""
        server = None
        if self.runtime.settings.probe_port is not None:
            server = await serve_probes(self.runtime.settings.probe_port, self.ready)
        return asyncio.create_task(self._run(server), name=f"{self.runtime.name}-monitor")

    async def _run(self, server: asyncio.Server | None) -> None:
        try:
            with housekeeping():  # the poll's SQL is not a trace of its own
                while True:
                    try:
                        await self.poll()
                    except Exception:  # one broken poll must not end the next ones
                        log.exception("metrics poll failed")
                    await asyncio.sleep(self.poll_seconds)
        finally:
            if server is not None:
                server.close()

    async def poll(self) -> None:
        await asyncio.gather(self._poll_database(), self._poll_broker())

    async def _poll_database(self) -> None:
        from shared.outbox import outbox_backlog  # here, not at the top: see TYPE_CHECKING above

        try:
            async with asyncio.timeout(POLL_TIMEOUT_SECONDS):
                backlog, oldest = await outbox_backlog(self.runtime.engine)
                queues = {name: await read() for name, read in self.runtime.backlogs.items()}
        except Exception as exc:  # a timeout too: a database that hangs is down for as long as it hangs
            self.outbox, self.queues = None, {}
            self.dependencies.up["database"] = False
            log.warning("metrics poll could not read the database: %r", exc)
            return
        now = self.runtime.clock.now()  # the service's clock: ages move as its time does (tests move it)
        self.outbox = (backlog, age_of(oldest, now))
        self.queues = {name: (count, age_of(since, now)) for name, (count, since) in queues.items()}
        self.dependencies.up["database"] = True

    async def _poll_broker(self) -> None:
        answers = await broker_answers(self.runtime.broker.connection, POLL_TIMEOUT_SECONDS)
        self.dependencies.up["nats"] = answers
        if not answers:
            self.consumer_lag, self.dead_letters = {}, {}
            return
        try:
            async with asyncio.timeout(POLL_TIMEOUT_SECONDS):
                await self._poll_jetstream()
        except TimeoutError:
            self.consumer_lag, self.dead_letters = {}, {}
            self.dependencies.up["nats"] = False
            log.warning("metrics poll: JetStream did not answer within %ss", POLL_TIMEOUT_SECONDS)

    async def _poll_jetstream(self) -> None:
        consumers = self.runtime.consumers
        js = self.runtime.broker.connection.jetstream(timeout=POLL_TIMEOUT_SECONDS)
        lag: dict[str, ConsumerLag] = {}
        for consumer in consumers:
            try:
                info = await js.consumer_info(consumer.stream, consumer.durable)
            except Exception as exc:
                log.debug("no consumer info for %s: %r", consumer.durable, exc)
                continue
            lag[consumer.durable] = ConsumerLag(consumer.stream, info.num_pending or 0, info.num_ack_pending or 0)
        self.consumer_lag = lag
        try:
            info = await js.stream_info(DEAD_LETTER_STREAM, subjects_filter="deadletter.>")
        except Exception as exc:
            self.dead_letters = {}
            log.debug("no dead-letter stream info: %r", exc)
            return
        by_subject = info.state.subjects or {}
        self.dead_letters = {c.durable: by_subject.get(f"deadletter.{c.durable}", 0) for c in consumers}
