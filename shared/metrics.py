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
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, TypeVar
from uuid import UUID

from opentelemetry import trace
from opentelemetry.metrics import CallbackOptions, Meter, Observation
from opentelemetry.trace import Status, StatusCode
from sqlalchemy.ext.asyncio import AsyncEngine

from shared.errors import PartnernetError
from shared.messaging import DEAD_LETTER_STREAM
from shared.outbox import outbox_backlog
from shared.probes import nats_ready, serve_probes
from shared.telemetry import Telemetry, searchable_fields, tag_span
from shared.tenancy import Actor

if TYPE_CHECKING:
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

# Often enough for one-minute alert windows; a poll is a handful of small requests.
POLL_SECONDS = 10.0
OPERATION_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1.0, 2.5, 5.0, 7.5, 10.0)


class WebhookResult(enum.StrEnum):
    DELIVERED = "delivered"  # the partner answered 2xx
    FAILED = "failed"  # this try failed (error, timeout, non-2xx); it will be tried again
    GAVE_UP = "gave_up"  # the last try failed; the delivery waits for a replay


class WebhookDeliveries:
    """`partnernet.webhook.deliveries{partner, result}`: one count per delivery attempt."""

    def __init__(self, meter: Meter) -> None:
        self._counter = meter.create_counter(WEBHOOK_DELIVERIES, description="webhook delivery attempts by result")

    def record(self, *, partner: str | UUID, result: WebhookResult) -> None:
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

    async def observed(actor: Actor, body: B) -> Any:
        span = trace.get_current_span()
        tag_span(searchable_fields(actor) | searchable_fields(body), span)
        started = time.perf_counter()
        outcome = "ok"
        try:
            result = await use_case(actor, body)
        except PartnernetError as exc:
            outcome = exc.code
            span.set_attribute("partnernet.error", exc.code)
            raise
        except Exception as exc:
            outcome = "failed"
            span.record_exception(exc)
            span.set_status(Status(StatusCode.ERROR, type(exc).__name__))
            raise
        finally:
            attributes = {"service": service, "operation": operation, "outcome": outcome}
            duration.record(time.perf_counter() - started, attributes)
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


class ServiceMonitor:
    """Feeds a service's gauges from a periodic poll, and answers the container's probes.

    Observable-gauge callbacks run in the exporter's thread and cannot await, so the poll (JetStream
    consumer info, the outbox, the dead letters) stores what it read and the callbacks report it. A
    value that could not be read is left out rather than reported stale.
    """

    def __init__(self, runtime: ServiceRuntime, *, poll_seconds: float = POLL_SECONDS) -> None:
        self.runtime = runtime
        self.poll_seconds = poll_seconds
        self.consumer_lag: dict[str, ConsumerLag] = {}  # by durable consumer
        self.dead_letters: dict[str, int] = {}  # durable -> messages in DEAD_LETTERS
        self.outbox: tuple[int, float] | None = None  # (backlog, age of the oldest unsent event in s)
        self.database_ok = False
        self.broker_connected = nats_ready(runtime.broker)
        meter = runtime.telemetry.meter("partnernet.service")
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

    def _lag(self, field: str) -> Callable[[CallbackOptions], Iterable[Observation]]:
        def observe(_: CallbackOptions) -> Iterable[Observation]:
            return [
                Observation(getattr(lag, field), {"consumer": durable, "stream": lag.stream})
                for durable, lag in self.consumer_lag.items()
            ]

        return observe

    def ready(self) -> bool:
        return self.broker_connected() and self.database_ok

    async def start(self) -> asyncio.Task[None]:
        """Listen for probes (a taken port fails the start, loudly), then poll until cancelled."""
        server = None
        if self.runtime.settings.probe_port is not None:
            server = await serve_probes(self.runtime.settings.probe_port, self.ready)
        return asyncio.create_task(self._run(server), name=f"{self.runtime.name}-monitor")

    async def _run(self, server: asyncio.Server | None) -> None:
        try:
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
        await asyncio.gather(self._poll_outbox(), self._poll_jetstream())

    async def _poll_outbox(self) -> None:
        try:
            backlog, oldest = await outbox_backlog(self.runtime.engine)
        except Exception as exc:
            self.outbox, self.database_ok = None, False
            log.warning("metrics poll could not read the outbox: %r", exc)
            return
        age = max((datetime.now(UTC) - oldest).total_seconds(), 0.0) if oldest else 0.0
        self.outbox, self.database_ok = (backlog, age), True

    async def _poll_jetstream(self) -> None:
        consumers = self.runtime.consumers
        if not self.broker_connected():
            self.consumer_lag, self.dead_letters = {}, {}
            return
        js = self.runtime.broker.connection.jetstream(timeout=2.0)
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
