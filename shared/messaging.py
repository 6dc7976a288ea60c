"""Messaging: the JetStream streams (one per service, and the dead letters), a plain NATS connection, waiting for
JetStream to settle. The services' FastStream broker is made in `shared.broker`: the gateway, which only calls
and watches, does not load FastStream (about 35 MB of a process's memory with pydantic and its other imports)."""

from __future__ import annotations

import asyncio
import functools
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeVar

import nats.errors
import nats.js.errors
from nats.aio.client import Client as Nats
from nats.js.api import StorageType, StreamConfig

from shared.nats_callout import cluster_servers

if TYPE_CHECKING:
    from faststream.nats import NatsBroker

log = logging.getLogger(__name__)
T = TypeVar("T")

SERVICES = ("partners", "referrals", "volunteers", "courses")
DEAD_LETTER_STREAM = "DEAD_LETTERS"
BROKER_PING_SUBJECT = "partnernet.broker-ping"  # nobody answers it: the server's "no responders" is the answer
# What a plain connection (`connect_nats`) buffers for the broker before a publish waits for the broker to take some:
# nats-py's `pending_size`, its default named here so callers can see it coming (`broker_backed_up`).
OUTBOUND_BUFFER_BYTES = 2 * 1024 * 1024
# Room for the protocol line around a payload (PUB, subject, reply inbox, sizes) and its headers.
PUBLISH_OVERHEAD_BYTES = 4096
# A node that hangs (paused, cut off) keeps its clients' connections open: they notice it only by pings it leaves
# unanswered. With nats-py's default (a ping every 120 s, stale at the third unanswered) a gateway on a hung node
# refused every call for 4-6 minutes, a service's replica took nothing; every 10 s they move to another node of the
# cluster within 20-30 s. A PONG is answered at once by a live server: two missed is a hang, not a busy one.
PING_INTERVAL_SECONDS = 10
MAX_OUTSTANDING_PINGS = 2
# Long enough that the relay's retry after a lost ack is always de-duplicated by the server.
DUPLICATE_WINDOW_SECONDS = 10 * 60.0


def event_stream_name(service: str) -> str:
    return f"EVENTS_{service.upper()}"


@dataclass(frozen=True)
class StreamSpec:
    name: str
    subjects: list[str]
    max_age_seconds: float

    def config(self, replicas: int) -> StreamConfig:
        return StreamConfig(
            name=self.name,
            subjects=self.subjects,
            storage=StorageType.FILE,
            num_replicas=replicas,
            duplicate_window=DUPLICATE_WINDOW_SECONDS,
            max_age=self.max_age_seconds,
        )


STREAMS: tuple[StreamSpec, ...] = (
    *(StreamSpec(event_stream_name(s), [f"events.{s}.>"], 30 * 24 * 3600.0) for s in SERVICES),
    StreamSpec(DEAD_LETTER_STREAM, ["deadletter.>"], 90 * 24 * 3600.0),
    StreamSpec("PARTNER_FEEDS", ["feeds.>"], 30 * 24 * 3600.0),  # each partner's own feed (services/partners)
)


async def connect_nats(
    connection: Nats, nats_url: str, *, name: str, ping_interval: int = PING_INTERVAL_SECONDS
) -> None:
    """Connect a plain nats-py client (the gateway's: request/reply, Key-Value, live feeds) as the brokers do."""

    async def error(exc: Exception) -> None:
        log.warning("NATS connection of %s: %s", name, exc)

    async def disconnected() -> None:
        log.warning("NATS connection of %s lost; reconnecting", name)

    async def reconnected() -> None:
        log.info("NATS connection of %s restored", name)

    servers, user, password = cluster_servers(nats_url)
    await connection.connect(
        servers,
        user=user,
        password=password,
        name=f"partnernet-{name}",
        pending_size=OUTBOUND_BUFFER_BYTES,
        ping_interval=ping_interval,
        max_outstanding_pings=MAX_OUTSTANDING_PINGS,
        max_reconnect_attempts=-1,  # a broker restart must never end the gateway
        reconnect_time_wait=1,
        error_cb=error,
        disconnected_cb=disconnected,
        reconnected_cb=reconnected,
    )


async def while_jetstream_settles(call: Callable[[], Awaitable[T]], what: str, *, within: float = 60.0) -> T:
    """A JetStream API call made at start, tried again while the answer is "not now": on a cluster that has just
    formed (or lost a node) every replica of every service declares its streams and consumers at once, and the
    meta leader answers some of them late (a timeout), or not yet (JetStream not available, no responders).
    Past `within` seconds the error stands and the process stops saying so; its supervisor starts it again."""
    deadline = time.monotonic() + within
    while True:
        try:
            return await call()
        except (nats.errors.TimeoutError, nats.errors.NoRespondersError, nats.js.errors.ServiceUnavailableError):
            if time.monotonic() > deadline:
                raise
            log.warning("JetStream did not answer %s yet; trying again", what)
            await asyncio.sleep(1.0)


async def declare_streams(broker: NatsBroker, *, replicas: int = 1) -> None:
    """Create or update every stream; any service may start first, so each declares them all."""
    js = broker.connection.jetstream()

    async def declare(config: StreamConfig) -> None:
        try:
            await js.add_stream(config=config)
        except nats.js.errors.BadRequestError:
            # Exists already: bring it to this configuration (replicas may be fewer on a dev server).
            await js.update_stream(config=config)

    for spec in STREAMS:
        await while_jetstream_settles(functools.partial(declare, spec.config(replicas)), f"declaring {spec.name}")


def broker_backed_up(connection: Any, size: int = 0) -> bool:
    """Whether the broker has stopped taking what this connection sends, so that publishing `size` bytes now would
    wait for it. A broker that hangs (paused, partitioned) keeps the connection open; once the socket is full, what
    is published waits in nats-py's buffer, and a publish that takes it past `OUTBOUND_BUFFER_BYTES` waits for the
    broker to read (a forced flush) with no deadline of its own: no caller's timeout reaches it, since the caller's
    wait for the answer starts only after the publish. Each request of the gateway held there had no answer until
    the broker read again (the paused-node fault test: none within the client's 30 s).
    """
    return bool(connection.pending_data_size + size + PUBLISH_OVERHEAD_BYTES > OUTBOUND_BUFFER_BYTES)


async def broker_answers(connection: Any, timeout: float) -> bool:
    """Whether the broker answers a round trip now: a request nobody subscribes to, answered by the server itself.

    A broker that hangs (paused, partitioned) keeps the connection open, so `is_connected` alone says nothing.
    Not `flush(timeout=…)`: in nats-py 2.16 a PONG that arrives after that timeout kills the connection's read
    loop (it sets a result on the future the timeout cancelled). Not asked at all where the broker has stopped
    taking what is sent (`broker_backed_up`): the request's publish would wait for it past `timeout`.
    """
    if not connection.is_connected or broker_backed_up(connection):
        return False
    try:
        await connection.request(BROKER_PING_SUBJECT, b"", timeout=timeout)
    except nats.errors.NoRespondersError:
        return True
    except Exception:
        return False
    return True
