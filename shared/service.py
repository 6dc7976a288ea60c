"""The runtime every service shares: engine, broker, outbox relay, consumers, health, and the lifecycle.

A service's own `app.py` builds one of these and registers its operations and consumers on it;
nothing here connects until `start()`.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any, TypeVar

from faststream.nats import NatsBroker
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from shared.broker import create_broker
from shared.clock import Clock, SystemClock
from shared.consumer import (
    BatchHandler,
    EnvelopeConsumer,
    EnvelopeHandler,
    EventConsumer,
    EventHandler,
    StatementHandler,
)
from shared.contracts import EventData
from shared.db import DirectReads, create_engine, migrate, session_factory
from shared.heap import freeze_after_start
from shared.idempotency import ReplyStore
from shared.logs import setup_logging
from shared.messaging import declare_streams, event_stream_name
from shared.metrics import BacklogReader, ServiceMonitor, observe_operation
from shared.operations import Health, HealthCheck, Operation, Operations, health_of
from shared.outbox import outbox_backlog, outbox_relay
from shared.relay import Relay
from shared.retention import RETENTION_SWEEP_SECONDS, prune_plumbing
from shared.retention import windows as retention_windows
from shared.rpc.server import RpcServer
from shared.servers import ServerUnreachable, check_database, check_nats
from shared.settings import Settings
from shared.telemetry import Telemetry, housekeeping, instrument_engine, setup_telemetry
from shared.tenancy import Actor
from shared.unit_of_work import UnitOfWork

log = logging.getLogger(__name__)

# Plain asyncpg connections for the hottest reads (shared/db.py DirectReads), opened as needed: each is held for a
# statement or two. The staff's read of a referral holds its connection for two round trips and the commit of its
# access-log row, which waits for PostgreSQL's WAL flush (1-4 ms on this project's VM disk, pg_test_fsync): 32
# callers of just those two statements, on a loaded machine, ran 880-1,940 pairs a second on 8 connections and
# 1,820-2,340 on 16, around the rates the staff's read reaches through the whole platform (README, issue 16).
DIRECT_READ_CONNECTIONS = 16

B = TypeVar("B")
Q = TypeVar("Q")
A = TypeVar("A")
E = TypeVar("E", bound=EventData)


@dataclass
class ServiceRuntime:
    name: str
    settings: Settings
    migrations: Path
    telemetry: Telemetry
    engine: AsyncEngine
    sessions: async_sessionmaker[AsyncSession]
    broker: NatsBroker
    relay: Relay[Any, Any]  # the outbox's
    clock: Clock
    rpc: RpcServer
    reads: DirectReads
    consumers: list[EventConsumer[Any]] = field(default_factory=list)
    relays: list[Relay[Any, Any]] = field(default_factory=list)  # all of the service's: the outbox's, then its own
    periodic: list[tuple[str, float, Callable[[], Awaitable[Any]], bool]] = field(default_factory=list)
    backlogs: dict[str, BacklogReader] = field(default_factory=dict)  # queue -> its reader, for the gauges
    monitor: ServiceMonitor | None = None  # gauges (lag, outbox, dead letters, pool) and probes, from start()
    _tasks: list[asyncio.Task[None]] = field(default_factory=list)

    @classmethod
    def create(
        cls,
        name: str,
        settings: Settings,
        migrations: Path,
        *,
        telemetry: Telemetry | None = None,
        clock: Clock | None = None,
    ) -> ServiceRuntime:
        telemetry = telemetry or setup_telemetry(name, otlp_endpoint=settings.otel_endpoint)
        engine = create_engine(settings.database_url, schema=name, socket=settings.database_socket)
        instrument_engine(telemetry, engine)
        broker = create_broker(settings.nats_url, name=name, telemetry=telemetry)
        sessions = session_factory(engine)
        clock = clock or SystemClock()
        runtime = cls(
            name=name,
            settings=settings,
            migrations=migrations,
            telemetry=telemetry,
            engine=engine,
            sessions=sessions,
            broker=broker,
            relay=outbox_relay(
                service=name,
                database_url=settings.database_url,
                broker=broker,
                telemetry=telemetry,
                poll_seconds=settings.relay_poll_seconds,
            ),
            clock=clock,
            rpc=RpcServer(
                name,
                telemetry.tracer("partnernet.rpc"),
                concurrency=settings.rpc_concurrency,
                replies=ReplyStore(sessions, clock),
            ),
            reads=DirectReads(
                settings.database_url,
                name,
                size=DIRECT_READ_CONNECTIONS,
                tracer=telemetry.tracer("partnernet.db"),
                socket=settings.database_socket,
            ),
        )
        runtime.relays.append(runtime.relay)
        runtime.bind(health_of(name), runtime.health)
        # Sent outbox rows and inbox rows do not stay for ever; settings that would break a guarantee stop the start.
        runtime.every(
            RETENTION_SWEEP_SECONDS,
            "plumbing-retention",
            partial(prune_plumbing, runtime.unit_of_work, retention_windows(settings)),
        )
        return runtime

    def bind(self, operation: Operation[Q, A], use_case: Callable[[Actor, Q], Awaitable[A]]) -> None:
        """Answer a declared operation (shared/contracts/<service>/api/operations.py) with its use case."""
        self.rpc.bind(operation, observe_operation(self.telemetry, self.name, operation.name, use_case))

    def require_bound(self, operations: Operations) -> None:
        """Every operation the service's contracts declare has a use case: a forgotten one fails at start."""
        missing = [op.name for op in operations if op.name not in self.rpc.responders]
        if missing:
            raise RuntimeError(f"the {self.name} service declares operations it does not answer: {missing}")

    def consume(self, name: str, event: type[E], handler: EventHandler[E], *, linger_seconds: float = 0.0) -> None:
        """`linger_seconds` for a consumer nobody waits on (shared/consumer.py PROJECTION_LINGER_SECONDS)."""
        consumer = EventConsumer(
            service=self.name,
            name=name,
            event=event,
            handler=handler,
            work=self.unit_of_work,
            telemetry=self.telemetry,
            max_deliveries=self.settings.consumer_max_deliveries,
            linger_seconds=linger_seconds,
        )
        self.consumers.append(consumer)

    def consume_envelopes(
        self,
        name: str,
        subject: str,
        service: str,
        handler: EnvelopeHandler | None = None,
        *,
        batch_handler: BatchHandler | None = None,
        statement_handler: StatementHandler | None = None,
        linger_seconds: float = 0.0,
    ) -> None:
        """Every event of `service` on a subject filter, handed over as its envelope, one by one (`handler`), a
        batch at once (`batch_handler`), or a batch in one statement with its inbox rows (`statement_handler`)
        (shared/consumer.py)."""
        consumer = EnvelopeConsumer(
            service=self.name,
            name=name,
            subject=subject,
            stream=event_stream_name(service),
            handler=handler,
            batch_handler=batch_handler,
            statement_handler=statement_handler,
            work=self.unit_of_work,
            telemetry=self.telemetry,
            max_deliveries=self.settings.consumer_max_deliveries,
            linger_seconds=linger_seconds,
        )
        self.consumers.append(consumer)

    @property
    def unit_of_work(self) -> UnitOfWork:
        return UnitOfWork(self.sessions, self.clock, self.reads, self.relays)

    def every(self, seconds: float, name: str, job: Callable[[], Awaitable[Any]], *, at_start: bool = False) -> None:
        """Run `job` every `seconds` while the service runs (overdue referrals, expiring qualifications …);
        `at_start`: once as the service starts too, for a repair that should not wait a whole period on a fresh start.

        Every replica runs it, so a job must be safe to run twice at once: conditional updates, events
        staged in the same transaction. Tests call the use case directly with a clock they control.
        """
        self.periodic.append((name, seconds, job, at_start))

    def backlog(self, queue: str, read: BacklogReader) -> None:
        """Report a queue of this service beside its outbox (`partnernet.queue.backlog` / `.oldest_age`).

        `read` answers (items waiting, when the oldest began to wait) with one small query; the monitor polls
        it with a deadline, like the outbox.
        """
        self.backlogs[queue] = read

    def add_relay(self, relay: Relay[Any, Any]) -> None:
        """Run another relay of this service's (feeds, webhooks) while the service runs, as the outbox's runs."""
        self.relays.append(relay)

    async def _relay(self, relay: Relay[Any, Any]) -> None:
        with housekeeping():
            await relay.run()

    async def health(self, actor: Actor, _: HealthCheck) -> Health:
        try:
            backlog, _oldest = await outbox_backlog(self.engine)
            database = True
        except Exception:
            backlog, database = -1, False
        return Health(service=self.name, database=database, relay_active=self.relay.active, outbox_backlog=backlog)

    async def start(self) -> None:
        await migrate(self.engine, self.name, self.migrations)
        await self.reads.start()  # opens no connection until a read needs one
        await self.broker.connect()
        await declare_streams(self.broker, replicas=self.settings.stream_replicas)
        await self.broker.start()
        await self.rpc.start(self.broker.connection)
        for consumer in self.consumers:
            self._tasks.append(await consumer.start(self.broker.connection))
        for relay in self.relays:
            self._tasks.append(asyncio.create_task(self._relay(relay), name=f"{self.name}-{relay.name}-relay"))
        self.monitor = ServiceMonitor(self)
        self._tasks.append(await self.monitor.start())
        for name, seconds, job, at_start in self.periodic:
            repeat = run_periodically(name, seconds, job, at_start=at_start)
            self._tasks.append(asyncio.create_task(repeat, name=f"{self.name}-{name}"))
        log.info("service started", extra={"subject": self.name})

    async def stop(self) -> None:
        # Consumers first: the batch in hand commits and is acknowledged, what was pulled beyond it goes back.
        await asyncio.gather(*(consumer.stop() for consumer in self.consumers), return_exceptions=True)
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._tasks.clear()
        await self.rpc.stop()
        try:
            await self.broker.stop()
        except Exception:  # a broker that is away cannot be drained; stopping must still finish
            log.warning("broker did not stop cleanly", exc_info=True)
        await self.reads.close()
        await self.engine.dispose()
        self.telemetry.shutdown()

    async def run_until_signalled(self, *, freeze_heap: bool = False) -> None:
        """`freeze_heap`: a process of its own, whose start-up objects are frozen out of later full collections
        (shared/heap.py); not where several runtimes come and go in one process, as in tests."""
        await self.start()
        if freeze_heap:
            freeze_after_start()
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        try:
            await stop.wait()
        finally:
            await self.stop()


def run_service(name: str, build: Callable[[Settings], ServiceRuntime], settings: Settings | None = None) -> None:
    """Run one service in this process until SIGINT or SIGTERM: `python -m services.<name>` and
    `partnernet service <name>` both come here, each passing the service's own `build`."""
    settings = settings or Settings.from_env()
    setup_logging(name, settings.log_level)
    try:
        asyncio.run(servers_answer(settings))
    except ServerUnreachable as exc:
        # A clear line and an exit instead of minutes of retries: `up` and container runtimes start it again.
        log.error("cannot start: %s", exc, extra={"subject": name})
        raise SystemExit(f"partnernet-{name} cannot start: {exc}") from None
    run_event_loop(build(settings).run_until_signalled(freeze_heap=True))


async def servers_answer(settings: Settings) -> None:
    await check_database(settings.database_url)
    await check_nats(settings.nats_url)


def run_event_loop(main: Coroutine[Any, Any, None]) -> None:
    """uvloop where it is installed (it comes with uvicorn's standard extras, as the gateway uses it too):
    NATS and asyncpg spend much of a request in the event loop, which uvloop runs in C."""
    try:
        import uvloop
    except ImportError:  # pragma: no cover - every platform we deploy on has it
        asyncio.run(main)
    else:
        uvloop.run(main)


async def run_periodically(
    name: str, seconds: float, job: Callable[[], Awaitable[Any]], *, at_start: bool = False
) -> None:
    """A periodic job (ServiceRuntime.every) until cancelled: every `seconds`, first at once where `at_start`; a
    failure is logged and the job runs again at its next turn."""
    with housekeeping():  # a job that finds nothing to do is no trace; one that does work is logged
        while True:
            if not at_start:
                await asyncio.sleep(seconds)
            at_start = False
            try:
                await job()
            except Exception:
                log.exception("periodic job %s failed; it runs again in %ss", name, seconds)
