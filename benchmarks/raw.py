"""The limits beneath the platform: NATS request/reply, JetStream publish and consume with acks, PostgreSQL inserts."""

from __future__ import annotations

import asyncio
import contextlib
import json
import sys
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import asyncpg
import nats
import nats.js.errors
from nats.js.api import AckPolicy, ConsumerConfig, StorageType, StreamConfig

from benchmarks.idle import cpu_seconds
from benchmarks.loadgen import percentile

BENCH_STREAM = "PARTNERNET_BENCH"
BENCH_SUBJECT = "partnernet-bench.js"
RR_SUBJECT = "partnernet-bench.rr"
# About the size of a referral's CloudEvents envelope.
EVENT_PAYLOAD = json.dumps({"id": str(uuid.uuid4()), "data": {"x": "y" * 400}}).encode()


@dataclass
class Rate:
    count: int
    seconds: float
    p50_ms: float = 0.0
    p99_ms: float = 0.0
    # CPU per call (ms) of the caller's process and of the responder's: holds when other work loads the machine.
    caller_cpu_ms: float | None = None
    responder_cpu_ms: float | None = None

    @property
    def per_second(self) -> float:
        return self.count / self.seconds if self.seconds else 0.0


async def nats_request_reply(nats_url: str, *, duration: float, concurrency: int = 50) -> Rate:
    """Round trips to a trivial nats-py responder in another process, `concurrency` requests in flight."""

    def loop(nc: nats.NATS) -> Callable[[], Awaitable[object]]:
        return lambda: nc.request(RR_SUBJECT, b"x", timeout=5)

    return await _against(["responder", nats_url, RR_SUBJECT], nats_url, loop, duration, concurrency)


async def platform_rpc(nats_url: str, *, duration: float, concurrency: int = 50) -> Rate:
    """The same round trips through the platform's RPC layer on both sides (the gateway's `RpcClient`, a
    service's `RpcServer`, telemetry and metrics included) with a use case that does nothing: what the
    messaging stack costs a request before the service touches its database."""
    from benchmarks.targets import ECHO, Echo
    from shared.rpc import RpcClient
    from shared.telemetry import setup_telemetry
    from shared.tenancy import SYSTEM

    tracer = setup_telemetry("bench-client", otlp_endpoint=None).tracer("partnernet.rpc")
    body = Echo(referral_id="x")

    def loop(nc: nats.NATS) -> Callable[[], Awaitable[object]]:
        client = RpcClient(nc, timeout=5, tracer=tracer)
        return lambda: client.call(ECHO, SYSTEM, body)

    # As in the gateway, the calls happen inside a request's span (unsampled, as nothing exports here).
    with tracer.start_as_current_span("GET /bench"):
        return await _against(["rpc", nats_url], nats_url, loop, duration, concurrency)


async def _against(
    target: list[str],
    nats_url: str,
    requester: Callable[[nats.NATS], Callable[[], Awaitable[object]]],
    duration: float,
    concurrency: int,
) -> Rate:
    responder = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "benchmarks.targets", *target, stdout=asyncio.subprocess.PIPE
    )
    try:
        assert responder.stdout is not None
        await responder.stdout.readline()  # "ready"
        nc = await nats.connect(nats_url)
        try:
            request = requester(nc)
            for _ in range(200):  # warm up the responder and the reply subscription
                await request()
            caller, responder_before = time.process_time(), cpu_seconds(responder.pid) or 0.0
            rate = await _request_loop(request, duration, concurrency)
            rate.caller_cpu_ms = 1000 * (time.process_time() - caller) / max(rate.count, 1)
            responder_after = cpu_seconds(responder.pid) or responder_before
            rate.responder_cpu_ms = 1000 * (responder_after - responder_before) / max(rate.count, 1)
            return rate
        finally:
            await nc.close()
    finally:
        responder.terminate()
        await responder.wait()


async def _request_loop(request: Callable[[], Awaitable[object]], duration: float, concurrency: int) -> Rate:
    latencies: list[float] = []
    started = time.monotonic()
    stop_at = started + duration

    async def worker() -> None:
        while (begin := time.monotonic()) < stop_at:
            await request()
            latencies.append(time.monotonic() - begin)

    await asyncio.gather(*(worker() for _ in range(concurrency)))
    latencies.sort()
    return Rate(
        len(latencies), time.monotonic() - started, percentile(latencies, 0.5) * 1e3, percentile(latencies, 0.99) * 1e3
    )


async def jetstream_publish_and_consume(
    nats_url: str, *, duration: float, in_flight: int = 256, replicas: int = 1
) -> tuple[Rate, Rate]:
    """Acked publishes with `in_flight` outstanding (as the outbox relay batches), then a pull consumer acking each;
    on a stream of `replicas` copies (3: the cluster shape's, each flushed to disk before the ack)."""
    nc = await nats.connect(nats_url)
    js = nc.jetstream()
    with contextlib.suppress(nats.js.errors.NotFoundError):
        await js.delete_stream(BENCH_STREAM)
    await js.add_stream(
        StreamConfig(
            name=BENCH_STREAM,
            subjects=[f"{BENCH_SUBJECT}.>"],
            storage=StorageType.FILE,
            duplicate_window=120,
            num_replicas=replicas,
        )
    )
    try:
        published = 0
        started = time.monotonic()
        stop_at = started + duration

        async def publisher(worker: int) -> None:
            nonlocal published
            n = 0
            while time.monotonic() < stop_at:
                n += 1
                await js.publish(f"{BENCH_SUBJECT}.e", EVENT_PAYLOAD, headers={"Nats-Msg-Id": f"{worker}-{n}"})
                published += 1

        await asyncio.gather(*(publisher(w) for w in range(in_flight)))
        publish = Rate(published, time.monotonic() - started)

        sub = await js.pull_subscribe(
            f"{BENCH_SUBJECT}.>",
            durable="bench",
            stream=BENCH_STREAM,
            config=ConsumerConfig(ack_policy=AckPolicy.EXPLICIT, max_ack_pending=10_000),
        )
        consumed = 0
        started = time.monotonic()
        stop_at = started + duration
        while consumed < published and time.monotonic() < stop_at:
            try:
                batch = await sub.fetch(256, timeout=1.0)
            except TimeoutError:
                break
            for msg in batch:
                await msg.ack()
            consumed += len(batch)
        await nc.flush()
        consume = Rate(consumed, time.monotonic() - started)
        return publish, consume
    finally:
        with contextlib.suppress(Exception):
            await js.delete_stream(BENCH_STREAM)
        await nc.close()


async def postgres_inserts(dsn: str, *, duration: float, connections: int = 16) -> Rate:
    """Single-row INSERT transactions (autocommit, so one commit each) from `connections` connections."""
    setup = await asyncpg.connect(dsn)
    await setup.execute(
        "CREATE SCHEMA IF NOT EXISTS partnernet_bench;"
        "DROP TABLE IF EXISTS partnernet_bench.inserts;"
        "CREATE TABLE partnernet_bench.inserts (id uuid PRIMARY KEY, library text NOT NULL,"
        " data jsonb NOT NULL, created_at timestamptz NOT NULL DEFAULT now())"
    )
    data = json.dumps({"needs": [{"area": "language", "level": "A2"}], "reason": "x" * 200})
    pool = [await asyncpg.connect(dsn) for _ in range(connections)]
    latencies: list[float] = []
    try:
        started = time.monotonic()
        stop_at = started + duration

        async def worker(conn: asyncpg.Connection) -> None:
            while (begin := time.monotonic()) < stop_at:
                await conn.execute(
                    "INSERT INTO partnernet_bench.inserts (id, library, data) VALUES ($1, $2, $3::jsonb)",
                    uuid.uuid4(),
                    "bibliotheek-zuidstad-centrum",
                    data,
                )
                latencies.append(time.monotonic() - begin)

        await asyncio.gather(*(worker(conn) for conn in pool))
        latencies.sort()
        return Rate(
            len(latencies),
            time.monotonic() - started,
            percentile(latencies, 0.5) * 1e3,
            percentile(latencies, 0.99) * 1e3,
        )
    finally:
        for conn in pool:
            await conn.close()
        await setup.execute("DROP SCHEMA partnernet_bench CASCADE")
        await setup.close()
