"""The relay (shared/relay.py) on a real PostgreSQL and a real JetStream: a batch goes out in order, and a
publish that fails in the middle of a batch lets nothing after it overtake it."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import uuid
import weakref
from collections.abc import AsyncIterator, Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlsplit

import asyncpg
import msgspec
import nats
import pytest
from nats.js.api import StreamConfig, StreamInfo, StreamState
from opentelemetry import trace
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from shared.contracts import Envelope
from shared.db import create_engine, migrate
from shared.outbox import MARK_SENT_AND_NEXT, UNSENT, outbox_relay
from shared.relay import OrderedPublisher, Publication, PutOut, Relay, _outcome, acknowledged_prefix, plain_dsn
from tests.fixtures.platform import telemetry_for
from tests.waiting import PATIENCE_SECONDS


class FakeBroker:
    """What the outbox relay takes of a FastStream broker: its nats-py connection."""

    def __init__(self, connection: nats.NATS) -> None:
        self.connection = connection


def the_schema_s_outbox_relay(
    database_url: str, schema: str, nc: nats.NATS
) -> Relay[asyncpg.Record, BaseException | None]:
    """The schema's outbox relay, as a service makes it (shared/outbox.py `outbox_relay`), on the test's connection."""
    return outbox_relay(
        service=schema,
        database_url=database_url,
        broker=FakeBroker(nc),  # type: ignore[arg-type]
        telemetry=telemetry_for(schema, InMemorySpanExporter()),
    )


@pytest.fixture
async def relay_schema(database_url: str, tmp_path: Path) -> AsyncIterator[str]:
    """A service schema of its own (the kernel's outbox, with its NOTIFY trigger) for one test."""
    schema = f"relaytest_{uuid.uuid4().hex[:8]}"
    engine = create_engine(database_url, schema=schema)
    await migrate(engine, schema, tmp_path / "no-migrations-of-its-own")
    await engine.dispose()
    yield schema
    conn = await asyncpg.connect(plain_dsn(database_url))
    try:
        await conn.execute(f'DROP SCHEMA "{schema}" CASCADE')
    finally:
        await conn.close()


@pytest.fixture
async def stream(nats_url: str, relay_schema: str) -> AsyncIterator[tuple[nats.NATS, str]]:
    """The schema's event stream, as `shared.messaging.event_stream_name` names it, on subjects `events.<schema>.>`."""
    nc = await nats.connect(nats_url)
    name = f"EVENTS_{relay_schema.upper()}"
    await nc.jetstream().add_stream(StreamConfig(name=name, subjects=[f"events.{relay_schema}.>"]))
    yield nc, name
    await nc.jetstream().delete_stream(name)
    await nc.close()


async def write_events(database_url: str, schema: str, subjects: list[str]) -> list[str]:
    """Outbox rows as `stage_event` writes them; returns their event ids in outbox order."""
    conn = await asyncpg.connect(plain_dsn(database_url), server_settings={"search_path": schema})
    try:
        return [await write_event(conn, schema, subject, n) for n, subject in enumerate(subjects)]
    finally:
        await conn.close()


async def write_event(conn: asyncpg.Connection, schema: str, subject: str, n: int) -> str:
    """One outbox row on `conn` (in its transaction, if one is open); returns its event id."""
    event_id = uuid.uuid4()
    envelope = Envelope(
        id=event_id,
        source=f"/partnernet/{schema}",
        type="nl.partnernet.test.happened.v1",
        time=datetime(2026, 12, 1, 10, tzinfo=UTC),
        subject="gem/bieb",
        data={"n": n},
        municipality="gem",
        library="bieb",
    )
    await conn.execute(
        "INSERT INTO outbox (event_id, subject, event_type, payload) VALUES ($1, $2, $3, $4)",
        event_id,
        subject,
        envelope.type,
        msgspec.json.encode(envelope),
    )
    return str(event_id)


async def stored_ids(nc: nats.NATS, stream: str) -> list[str]:
    """The event ids on the stream, in stream order."""
    js = nc.jetstream()
    info = await js.stream_info(stream)
    ids = []
    for sequence in range(info.state.first_seq, info.state.last_seq + 1):
        if info.state.messages == 0:
            break
        message = await js.get_msg(stream, sequence)
        ids.append(message.headers["Nats-Msg-Id"] if message.headers else "")
    return ids


async def unsent(database_url: str, schema: str) -> list[str]:
    conn = await asyncpg.connect(plain_dsn(database_url), server_settings={"search_path": schema})
    try:
        rows = await conn.fetch("SELECT event_id FROM outbox WHERE sent_at IS NULL ORDER BY position")
    finally:
        await conn.close()
    return [str(row["event_id"]) for row in rows]


def test_only_the_acknowledged_prefix_of_a_batch_counts() -> None:
    failed = RuntimeError("no ack")
    assert acknowledged_prefix([None, None, None]) == 3
    assert acknowledged_prefix([None, failed, None]) == 1
    assert acknowledged_prefix([failed, None]) == 0
    assert acknowledged_prefix([]) == 0


async def test_a_batch_waits_for_every_ack_even_when_the_last_comes_first_and_gives_up_at_its_timeout() -> None:
    publisher = OrderedPublisher(lambda: None, "UNUSED", trace.get_tracer(__name__), timeout=0.2)  # type: ignore[arg-type,return-value]
    loop = asyncio.get_running_loop()
    early, late, last = loop.create_future(), loop.create_future(), loop.create_future()
    last.set_exception(RuntimeError("no stream for the subject"))  # the server's own answer, before the others
    early.set_result("ack")
    loop.call_later(0.02, late.set_result, "ack")
    assert await publisher._acks([early, late, last]) is False
    assert [_outcome(ack, 0.2, False) for ack in (early, late)] == [None, None]

    answered, never = loop.create_future(), loop.create_future()
    answered.set_result("ack")
    started = loop.time()
    assert await publisher._acks([answered, never]) is True
    assert 0.2 <= loop.time() - started < 1.0
    assert _outcome(answered, 0.2, True) is None
    assert isinstance(_outcome(never, 0.2, True), TimeoutError), "the ack awaited when the time ran out"


async def test_a_batch_put_out_is_answered_once_every_ack_is_in_even_when_the_last_comes_first_or_at_its_timeout() -> (
    None
):
    """`when_answered`, as `_acks` above: an earlier ack still missing after the last is waited for; one that never
    comes is given up at the timeout, and the batch answered then."""
    publisher = OrderedPublisher(lambda: None, "UNUSED", trace.get_tracer(__name__), timeout=0.2)  # type: ignore[arg-type,return-value]
    tracer = trace.get_tracer(__name__)
    loop = asyncio.get_running_loop()
    answered: asyncio.Future[list[BaseException | None]] = loop.create_future()
    early, late, last = loop.create_future(), loop.create_future(), loop.create_future()
    refused = RuntimeError("no stream for the subject")
    publisher.when_answered(
        PutOut([(ack, tracer.start_span("p")) for ack in (early, late, last)], None, 3), answered.set_result
    )
    last.set_exception(refused)  # the server's own answer, before the others
    early.set_result("ack")
    await asyncio.sleep(0.02)
    assert not answered.done(), "one ack is still missing"
    late.set_result("ack")
    assert await asyncio.wait_for(answered, PATIENCE_SECONDS) == [None, None, refused]

    answered = loop.create_future()
    came, never = loop.create_future(), loop.create_future()
    started = loop.time()
    publisher.when_answered(
        PutOut([(ack, tracer.start_span("p")) for ack in (came, never)], None, 2), answered.set_result
    )
    came.set_result("ack")
    outcomes = await asyncio.wait_for(answered, PATIENCE_SECONDS)
    assert 0.2 <= loop.time() - started < 1.0
    assert outcomes[0] is None and isinstance(outcomes[1], TimeoutError)


async def test_a_batch_answered_leaves_no_reference_cycle_behind() -> None:
    """Its acks (and the spans and rows they carry) are freed once it is answered, not kept for the cycle collector:
    a watcher that named itself was a cycle, and the outbox relay left ~12 objects a referral to the collector."""
    publisher = OrderedPublisher(lambda: None, "UNUSED", trace.get_tracer(__name__), timeout=5.0)  # type: ignore[arg-type,return-value]
    tracer = trace.get_tracer(__name__)
    loop = asyncio.get_running_loop()
    answered: asyncio.Future[list[BaseException | None]] = loop.create_future()
    acks: list[asyncio.Future[str]] = [loop.create_future() for _ in range(3)]
    watched = weakref.ref(acks[1])
    gc.collect()
    gc.disable()
    try:
        publisher.when_answered(PutOut([(ack, tracer.start_span("p")) for ack in acks], None, 3), answered.set_result)
        acks[2].set_result("ack")  # the last first: the batch then waits for the one still missing
        acks[0].set_result("ack")
        await asyncio.sleep(0)
        acks[1].set_result("ack")
        assert await asyncio.wait_for(answered, PATIENCE_SECONDS) == [None, None, None]
        del acks
        for _ in range(3):  # callbacks the acks scheduled have run
            await asyncio.sleep(0)
        assert watched() is None, "the batch's acks outlived it in a reference cycle"
    finally:
        gc.enable()


class _CapturingJetStream:
    """Stands for the connection and its JetStream context: every publish acknowledged at once, its headers kept."""

    def __init__(self) -> None:
        self.headers: list[dict[str, str]] = []

    def jetstream(self, timeout: float) -> _CapturingJetStream:
        return self

    async def stream_info(self, name: str) -> StreamInfo:
        return StreamInfo(config=StreamConfig(name=name, num_replicas=1), state=StreamState(0, 0, 0, 0, 0))

    async def publish_async(self, subject: str, payload: bytes, headers: dict[str, str], stream: str) -> object:
        self.headers.append(headers)
        acked: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        acked.set_result(None)
        return acked


async def test_a_publish_gets_a_span_of_its_own_only_where_the_writer_s_trace_is_sampled() -> None:
    """Unsampled, no span is made (it would not be recorded): the writer's context goes on in the headers as it
    came. Sampled, the publish is a span of the writer's trace, and its context goes on."""
    spans = InMemorySpanExporter()
    jetstream = _CapturingJetStream()
    publisher = OrderedPublisher(lambda: jetstream, "S", telemetry_for("relay-spans", spans).tracer("t"))  # type: ignore[arg-type,return-value]
    writer = {flag: f"00-{0xABC:032x}-{0xDEF:016x}-{flag}" for flag in ("00", "01")}
    publications = [
        Publication(f"s.{flag}", b"{}", flag, {}, {"traceparent": writer[flag]}, "publish", {}) for flag in ("00", "01")
    ]

    assert await publisher.publish(publications) == [None, None]

    unsampled, sampled = (headers["traceparent"] for headers in jetstream.headers)
    (span,) = spans.get_finished_spans()
    assert unsampled == writer["00"]
    assert span.parent is not None and span.parent.span_id == 0xDEF and span.context.trace_id == 0xABC
    assert sampled == f"00-{0xABC:032x}-{span.context.span_id:016x}-01"


async def test_a_failed_publish_in_the_middle_of_a_batch_lets_no_later_event_overtake_it(
    database_url: str, relay_schema: str, stream: tuple[nats.NATS, str]
) -> None:
    nc, stream_name = stream
    good = f"events.{relay_schema}.test.happened.v1.gem.bieb"
    # The fifth event's subject is in no stream: JetStream refuses it, as it would a message it cannot store.
    subjects = [good] * 4 + [f"nowhere.{relay_schema}"] + [good] * 5
    ids = await write_events(database_url, relay_schema, subjects)
    relay = the_schema_s_outbox_relay(database_url, relay_schema, nc)
    relay.outlet.publisher.timeout = 2.0  # type: ignore[attr-defined]
    db = await relay.connect()
    try:
        done = await relay.sweep(db)

        # The four before the failure are on the stream and marked sent; none after it is either.
        assert done == 4
        assert await stored_ids(nc, stream_name) == ids[:4]
        assert await unsent(database_url, relay_schema) == ids[4:]

        # The cause goes away (here: the subject is put right); the next sweep sends the rest, in order.
        conn = await asyncpg.connect(plain_dsn(database_url), server_settings={"search_path": relay_schema})
        await conn.execute("UPDATE outbox SET subject = $1 WHERE event_id = $2", good, uuid.UUID(ids[4]))
        failures = await conn.fetchval("SELECT attempts FROM outbox WHERE event_id = $1", uuid.UUID(ids[4]))
        await conn.close()
        assert failures == 1, "the failed publish is counted on its row"
        assert await relay.sweep(db) == 6
    finally:
        await db.close()
    assert await stored_ids(nc, stream_name) == ids, "every event once, in the order it was written"
    assert await unsent(database_url, relay_schema) == []
    # Each row marked sent at its first attempt has its transaction's commit time (the test's server keeps them,
    # as the embedded one does): after its insert, before its ack. A row updated before its mark (the failed
    # attempt's count, the subject put right) no longer carries its writer's transaction, so it has none.
    conn = await asyncpg.connect(plain_dsn(database_url), server_settings={"search_path": relay_schema})
    try:
        rows = await conn.fetch("SELECT created_at, committed_at, sent_at FROM outbox ORDER BY position")
    finally:
        await conn.close()
    assert [row["committed_at"] is None for row in rows] == [False] * 4 + [True] + [False] * 5
    for row in rows[:4] + rows[5:]:
        assert row["created_at"] <= row["committed_at"] <= row["sent_at"]


async def test_a_batch_sent_again_after_lost_acks_is_stored_once(
    database_url: str, relay_schema: str, stream: tuple[nats.NATS, str]
) -> None:
    """The relay died after JetStream stored a batch but before it was marked: the same rows go again, and the
    order check (each names the one before) does not refuse copies JetStream already has."""
    nc, stream_name = stream
    good = f"events.{relay_schema}.test.happened.v1.gem.bieb"
    ids = await write_events(database_url, relay_schema, [good] * 6)
    relay = the_schema_s_outbox_relay(database_url, relay_schema, nc)
    db = await relay.connect()
    try:
        rows = await relay.outlet.pending(db, 3)
        assert await relay.outlet.send(rows) == [None, None, None]  # published, never marked: the crash
        assert await relay.sweep(db) == 6
    finally:
        await db.close()
    assert await stored_ids(nc, stream_name) == ids


async def test_the_outbox_relay_marks_without_waiting_for_the_flush_and_a_durable_relay_waits(
    database_url: str, relay_schema: str, stream: tuple[nats.NATS, str]
) -> None:
    """JetStream drops a copy sent again after a mark lost in a crash (the test above), so the outbox relay's marks
    need not wait for their WAL flush; a relay whose receiver does not de-duplicate (webhooks, mail) keeps the
    default and waits for it."""
    nc, _ = stream
    relay = the_schema_s_outbox_relay(database_url, relay_schema, nc)
    durable = Relay(
        name="durable",
        outlet=relay.outlet,
        database_url=database_url,
        schema=relay_schema,
        channel="unused",
        exclusive=False,
    )
    for each, expected in ((relay, "off"), (durable, "on")):
        db = await each.connect()
        try:
            assert await db.fetchval("SHOW synchronous_commit") == expected
        finally:
            await db.close()


async def test_the_relay_s_reads_and_marks_go_by_their_indexes_though_planned_on_an_empty_outbox(
    database_url: str, relay_schema: str, stream: tuple[nats.NATS, str]
) -> None:
    """The relay prepares its statements once a connection and PostgreSQL keeps a generic plan made from the
    statistics of the moment: planned beside an empty outbox, a plain connection's read and mark scan the whole table
    once it has grown; the relay's connection (shared/relay.py RELAY_PLANS) keeps them on their indexes."""
    nc, _ = stream
    relay = the_schema_s_outbox_relay(database_url, relay_schema, nc)
    statements = {
        "unsent": (UNSENT, "256, '{}'"),
        "mark": (MARK_SENT_AND_NEXT, "'{5,6}', ARRAY[now(), now()], 256, '{}'"),
    }
    owner = await asyncpg.connect(plain_dsn(database_url), server_settings={"search_path": relay_schema})
    connections = {
        "plain": await asyncpg.connect(plain_dsn(database_url), server_settings={"search_path": relay_schema}),
        "relay": await relay.connect(),
    }
    try:
        await owner.execute("ANALYZE outbox")  # the statistics of an empty table
        # The relay keeps its generic plans (no planning a statement again each time it runs).
        assert await connections["relay"].fetchval("SHOW plan_cache_mode") == "force_generic_plan"
        for db in connections.values():
            await db.execute("SET plan_cache_mode = force_generic_plan")  # the plain one's, as five runs may settle
            for name, (sql, arguments) in statements.items():
                await db.execute(f"PREPARE {name} AS {sql}")
                await db.fetch(f"EXPLAIN EXECUTE {name}({arguments})")  # planned now, while the outbox is empty
        await owner.execute(
            "INSERT INTO outbox (event_id, subject, event_type, payload, sent_at)"
            " SELECT gen_random_uuid(), 'events.x', 'x', repeat('x', 900)::bytea, now() FROM generate_series(1, 3000)"
        )
        plans = {
            (kind, name): "\n".join(row[0] for row in await db.fetch(f"EXPLAIN EXECUTE {name}({arguments})"))
            for kind, db in connections.items()
            for name, (_, arguments) in statements.items()
        }
    finally:
        for db in (owner, *connections.values()):
            await db.close()
    # The hazard is real where the settings are not: the plain connection's cached plans scan the whole outbox.
    assert "Seq Scan on outbox" in plans["plain", "unsent"], plans["plain", "unsent"]
    assert "Seq Scan on outbox" in plans["plain", "mark"], plans["plain", "mark"]
    for name in statements:
        plan = plans["relay", name]
        assert "Seq Scan" not in plan and "Hash Join" not in plan, plan
        assert "Index" in plan, plan


async def test_a_batch_acknowledged_whole_is_marked_and_the_next_batch_read_in_one_statement(
    database_url: str, relay_schema: str, stream: tuple[nats.NATS, str]
) -> None:
    """Rows that commit while a batch is out are read by that batch's mark (one round trip, not a mark and then a
    read), a row with a lower position whose transaction commits after a higher one was sent among them."""
    nc, stream_name = stream
    good = f"events.{relay_schema}.test.happened.v1.gem.bieb"
    relay = the_schema_s_outbox_relay(database_url, relay_schema, nc)
    outlet = relay.outlet
    writer = await asyncpg.connect(plain_dsn(database_url), server_settings={"search_path": relay_schema})
    db = await relay.connect()
    statements: list[str] = []
    # The relay's own statements (not the driver's look-ups of types the first time it meets them).
    db.add_query_logger(lambda logged: statements.append(logged.query) if " outbox" in logged.query else None)
    try:
        # A writer's transaction takes a position and stays open while a later one's row commits.
        slow = writer.transaction()
        await slow.start()
        late = await write_event(writer, relay_schema, good, 0)
        first = await write_events(database_url, relay_schema, [good] * 2)

        rows = await outlet.pending(db, 10)
        assert [str(row["event_id"]) for row in rows] == first
        outcomes = await outlet.send(rows)
        await slow.commit()  # commits while the batch is out, as do two more rows
        more = await write_events(database_url, relay_schema, [good] * 2)
        assert await outlet.settle(db, rows, outcomes) == 2
        await asyncio.sleep(0)  # the driver hands the query log over with call_soon
        assert len(statements) == 2, "one read, then the mark that also read the next batch"

        assert outlet.wait_seconds(1.0) == 0, "the next batch is in hand: no waiting for a wake-up"
        rows = await outlet.pending(db, 10)
        await asyncio.sleep(0)
        assert len(statements) == 2, "the next batch came with the mark"
        assert [str(row["event_id"]) for row in rows] == [late, *more], "the lower position is not skipped"
        assert await outlet.settle(db, rows, await outlet.send(rows)) == 3
        assert outlet.wait_seconds(1.0) == 1.0, "nothing left: the relay waits for a wake-up or its poll"
    finally:
        await db.close()
        await writer.close()
    assert await stored_ids(nc, stream_name) == [*first, late, *more], "each once, in the order the relay read them"
    assert await unsent(database_url, relay_schema) == []


class DelayingProxy:
    """A TCP proxy to PostgreSQL that holds what the client sends for `delay` seconds (0: passes it on at once)."""

    def __init__(self, host: str, port: int) -> None:
        self.target = (host, port)
        self.delay = 0.0
        self.port = 0
        self._server: asyncio.Server | None = None
        self._pumps: set[asyncio.Task[None]] = set()

    async def __aenter__(self) -> DelayingProxy:
        self._server = await asyncio.start_server(self._accepted, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    async def __aexit__(self, *_: object) -> None:
        assert self._server is not None
        self._server.close()
        for pump in self._pumps:
            pump.cancel()
        await asyncio.gather(*self._pumps, return_exceptions=True)

    async def _accepted(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        server_reader, server_writer = await asyncio.open_connection(*self.target)
        for pump in (self._pump(reader, server_writer, held=True), self._pump(server_reader, writer, held=False)):
            task = asyncio.create_task(pump)
            self._pumps.add(task)

    async def _pump(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, *, held: bool) -> None:
        try:
            while data := await reader.read(65536):
                if held and self.delay:
                    await asyncio.sleep(self.delay)
                writer.write(data)
                await writer.drain()
        finally:
            writer.close()


async def test_a_mark_that_reaches_the_server_late_records_when_the_acks_came(
    database_url: str, relay_schema: str, stream: tuple[nats.NATS, str]
) -> None:
    """sent_at is when the relay had the acks, not when PostgreSQL began the mark: the mark's trip to the server
    (here held 0.3 s by a proxy; on a busy machine, the wake-up of its backend) is not the relay's delay."""
    nc, _ = stream
    good = f"events.{relay_schema}.test.happened.v1.gem.bieb"
    await write_events(database_url, relay_schema, [good] * 2)
    relay = the_schema_s_outbox_relay(database_url, relay_schema, nc)
    server = urlsplit(relay.dsn)
    assert server.hostname is not None and server.port is not None
    async with DelayingProxy(server.hostname, server.port) as proxy:
        relay.dsn = server._replace(netloc=f"{server.username}@127.0.0.1:{proxy.port}").geturl()
        db = await relay.connect()
        try:
            rows = await relay.outlet.pending(db, 10)
            outcomes = await relay.outlet.send(rows)
            acked = datetime.now(UTC)
            proxy.delay = 0.3
            assert await relay.outlet.settle(db, rows, outcomes) == 2
        finally:
            proxy.delay = 0.0
            await db.close()
    conn = await asyncpg.connect(plain_dsn(database_url), server_settings={"search_path": relay_schema})
    try:
        marked = await conn.fetch("SELECT committed_at, sent_at FROM outbox ORDER BY position")
    finally:
        await conn.close()
    for row in marked:
        assert row["committed_at"] <= row["sent_at"] <= acked, "sent_at is the acks' time, not the mark's arrival"


class Endpoints:
    """An outlet whose rows each go to an endpoint of their own: `held` ones answer only once released."""

    def __init__(self, rows: list[str], held: set[str]) -> None:
        self.due = rows
        self.held = held
        self.release = asyncio.Event()
        self.asked: list[int] = []  # the limit of each `pending`
        self.settled: list[list[str]] = []  # each settle's rows

    async def pending(self, db: asyncpg.Connection, limit: int) -> list[str]:
        self.asked.append(limit)
        rows, self.due = self.due[:limit], self.due[limit:]
        return rows

    async def send(self, rows: Sequence[str]) -> list[str]:
        if self.held.intersection(rows):
            await self.release.wait()
        return [f"{row} answered" for row in rows]

    async def settle(self, db: asyncpg.Connection, rows: Sequence[str], outcomes: Sequence[str]) -> int:
        assert list(outcomes) == [f"{row} answered" for row in rows]
        self.settled.append(list(rows))
        return len(rows)

    def wait_seconds(self, poll_seconds: float) -> float:
        return poll_seconds


@contextlib.asynccontextmanager
async def running_overlapped(outlet: HeldAnswers, database_url: str, schema: str) -> AsyncIterator[Relay[str, str]]:
    """A relay with up to two batches out, running on `outlet` until the block ends; it moves only on wake-ups and
    answers (no poll within a test)."""
    outlet.relay = Relay(
        name="overlapping",
        outlet=outlet,
        database_url=database_url,
        schema=schema,
        channel="unused",
        exclusive=True,
        poll_seconds=30.0,
        overlap=2,
    )
    running = asyncio.create_task(outlet.relay.run())
    try:
        yield outlet.relay
    finally:
        running.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await running


async def test_rows_sent_each_on_its_own_are_settled_as_they_answer_and_at_most_in_flight_at_once(
    database_url: str, relay_schema: str
) -> None:
    """With `in_flight`, a row whose receiver answers is settled, and the next row sent, while a slow one is still
    out; the slow one is settled once it answers, and never more rows are out than `in_flight`."""
    outlet = Endpoints(["slow", "fast", "next", "last"], held={"slow"})
    relay = Relay(
        name="each",
        outlet=outlet,
        database_url=database_url,
        schema=relay_schema,
        channel="unused",
        exclusive=False,
        in_flight=2,
    )
    db = await relay.connect()
    try:
        assert await relay.sweep(db) == 0 and outlet.asked == [2]  # slow and fast out
        await asyncio.wait_for(relay._wake.wait(), PATIENCE_SECONDS)  # woken by fast's answer
        relay._wake.clear()
        assert await relay.sweep(db) == 1 and outlet.settled == [["fast"]] and outlet.asked == [2, 1]
        await asyncio.wait_for(relay._wake.wait(), PATIENCE_SECONDS)  # "next" answered, slow still out
        relay._wake.clear()
        assert await relay.sweep(db) == 1 and outlet.settled[-1] == ["next"] and outlet.asked[-1] == 1
        assert list(relay._sending.values()) == ["slow", "last"]
        outlet.release.set()
        while sum(len(rows) for rows in outlet.settled) < 4:
            await asyncio.wait_for(relay._wake.wait(), PATIENCE_SECONDS)
            relay._wake.clear()
            await relay.sweep(db)
        assert sorted(row for rows in outlet.settled for row in rows) == ["fast", "last", "next", "slow"]
        assert not relay._sending
    finally:
        await db.close()
    with pytest.raises(ValueError, match="exclusive"):
        Relay(
            name="x",
            outlet=outlet,
            database_url=database_url,
            schema=relay_schema,
            channel="x",
            exclusive=True,
            in_flight=2,
        )


async def test_a_batch_put_out_behind_one_that_fails_is_refused_and_nothing_overtakes(
    database_url: str, relay_schema: str, stream: tuple[nats.NATS, str]
) -> None:
    """With batches out at once (the outbox relay's `overlap`), a batch put out while the one before it waits for
    its acks names that one's last event: when the first fails in its middle, JetStream refuses the whole second
    batch, nothing of it is marked sent, and the next sweeps send everything once, in order."""
    nc, stream_name = stream
    good = f"events.{relay_schema}.test.happened.v1.gem.bieb"
    first = await write_events(database_url, relay_schema, [good, f"nowhere.{relay_schema}", good])
    relay = the_schema_s_outbox_relay(database_url, relay_schema, nc)
    outlet = relay.outlet
    relay.outlet.publisher.timeout = 2.0  # type: ignore[attr-defined]
    db = await relay.connect()
    try:
        rows = await outlet.pending(db, 10)
        first_out = await outlet.put_out(rows, lambda: None)  # type: ignore[attr-defined]
        second = await write_events(database_url, relay_schema, [good] * 2)
        later = await outlet.pending(db, 10)
        assert [str(row["event_id"]) for row in later] == second, "the rows still out are not read again"
        second_out = await outlet.put_out(later, lambda: None)  # type: ignore[attr-defined]
        outcomes = [*await first_out, *await second_out]
        assert [outcome is None for outcome in outcomes] == [True, False, False, False, False]
        assert await outlet.settle(db, [*rows, *later], outcomes) == 1
        assert await stored_ids(nc, stream_name) == first[:1], "the second batch did not overtake the failure"
        assert await unsent(database_url, relay_schema) == [*first[1:], *second]

        outlet.forget_out()  # type: ignore[attr-defined]
        conn = await asyncpg.connect(plain_dsn(database_url), server_settings={"search_path": relay_schema})
        await conn.execute("UPDATE outbox SET subject = $1 WHERE event_id = $2", good, uuid.UUID(first[1]))
        await conn.close()
        assert await relay.sweep(db) == 4
    finally:
        await db.close()
    assert await stored_ids(nc, stream_name) == [*first, *second], "every event once, in the order it was written"
    assert await unsent(database_url, relay_schema) == []


class HeldAnswers:
    """An outlet whose batches are put out at once and answered when the test says (`answer`), in any order."""

    def __init__(self) -> None:
        self.due: list[str] = []
        self.out: list[list[str]] = []  # each batch put out
        self.answers: dict[str, tuple[asyncio.Future[list[str]], Callable[[], None]]] = {}  # by the first row
        self.settled: list[list[str]] = []
        self.put_out_event = asyncio.Event()
        self.settled_event = asyncio.Event()
        self.relay: Relay[str, str] | None = None  # the relay it is the outlet of (`running_overlapped`)

    async def next_put_out(self) -> None:
        """Wait for the relay to put a batch out."""
        await asyncio.wait_for(self.put_out_event.wait(), PATIENCE_SECONDS)
        self.put_out_event.clear()

    async def pending(self, db: asyncpg.Connection, limit: int) -> list[str]:
        rows, self.due = self.due[:limit], self.due[limit:]
        return rows

    async def send(self, rows: Sequence[str]) -> Sequence[str]:
        raise AssertionError("an overlapping relay puts batches out")

    async def put_out(self, rows: Sequence[str], answered: Callable[[], None]) -> asyncio.Future[list[str]]:
        self.out.append(list(rows))
        self.answers[rows[0]] = (asyncio.get_running_loop().create_future(), answered)
        self.put_out_event.set()
        return self.answers[rows[0]][0]

    def answer(self, first: str) -> None:
        batch = next(batch for batch in self.out if batch[0] == first)
        answers, answered = self.answers[first]
        answers.set_result([f"{row} answered" for row in batch])
        answered()

    def forget_out(self) -> None:
        pass

    async def settle(self, db: asyncpg.Connection, rows: Sequence[str], outcomes: Sequence[str]) -> int:
        assert list(outcomes) == [f"{row} answered" for row in rows]
        self.settled.append(list(rows))
        self.settled_event.set()
        return len(rows)

    def wait_seconds(self, poll_seconds: float) -> float:
        return poll_seconds


async def test_rows_woken_for_while_a_batch_waits_for_its_answers_go_out_at_once_and_settle_after_it(
    database_url: str, relay_schema: str
) -> None:
    """With `overlap`, a row that commits while a batch waits for its answers is put out when the relay is woken,
    not after those answers and their settle; a later batch answered first waits to be settled until every batch
    before it has its answers, and batches whose answers are all in are settled together."""
    outlet = HeldAnswers()
    async with running_overlapped(outlet, database_url, relay_schema) as relay:
        outlet.due = ["a1", "a2"]
        await outlet.next_put_out()
        assert outlet.out == [["a1", "a2"]]
        outlet.due = ["b1"]
        assert relay.wake()
        await outlet.next_put_out()
        assert outlet.out == [["a1", "a2"], ["b1"]], "put out while the first batch waits for its answers"
        outlet.due = ["c1"]
        assert relay.wake()
        await asyncio.sleep(0.05)
        assert outlet.out == [["a1", "a2"], ["b1"]], "no more than `overlap` batches out"

        outlet.answer("b1")
        await asyncio.sleep(0.05)
        assert outlet.settled == [], "b1 has its answer, a1 and a2 not yet: nothing is settled"
        outlet.answer("a1")
        await asyncio.wait_for(outlet.settled_event.wait(), PATIENCE_SECONDS)
        await outlet.next_put_out()
        assert outlet.settled == [["a1", "a2", "b1"]], "both batches answered: settled together, in order"
        assert outlet.out[-1] == ["c1"], "a place freed up: the row woken for goes out"


class ReadAheadAnswers(HeldAnswers):
    """`HeldAnswers` whose settle reads the next rows too, as the outbox's mark does (MARK_SENT_AND_NEXT), and
    during which `committing` commits, after the settle's snapshot, with its wake-up."""

    def __init__(self) -> None:
        super().__init__()
        self.ahead: list[str] = []
        self.committing: list[str] = []

    async def pending(self, db: asyncpg.Connection, limit: int) -> list[str]:
        if self.ahead:
            rows, self.ahead = self.ahead, []
            return rows
        return await super().pending(db, limit)

    async def settle(self, db: asyncpg.Connection, rows: Sequence[str], outcomes: Sequence[str]) -> int:
        settled = await super().settle(db, rows, outcomes)
        self.ahead, self.due = self.due, []  # the snapshot of the settle's read
        if self.committing:
            self.due, self.committing = self.committing, []
            assert self.relay is not None and self.relay.wake()
        return settled

    def wait_seconds(self, poll_seconds: float) -> float:
        return 0.0 if self.ahead else poll_seconds


async def test_a_row_woken_for_during_a_settle_that_read_ahead_goes_out_without_waiting_for_more_answers(
    database_url: str, relay_schema: str
) -> None:
    """A row that commits after the snapshot of a settle that read the next rows (and wakes the relay meanwhile) is
    read once those rows are out, not left for the next batch's answers (or the poll) to find."""
    outlet = ReadAheadAnswers()
    async with running_overlapped(outlet, database_url, relay_schema):
        outlet.due = ["a1"]
        await outlet.next_put_out()
        outlet.due = ["b1"]  # committed before the settle: read by it
        outlet.committing = ["c1"]  # committed during the settle, after its snapshot
        outlet.answer("a1")
        await outlet.next_put_out()
        await asyncio.sleep(0.05)
        assert outlet.out == [["a1"], ["b1"], ["c1"]], (
            "the rows read with the settle go out, and the row woken for during it right after them, b1 unanswered"
        )
        assert outlet.settled == [["a1"]]


async def test_a_batch_put_out_is_on_its_way_to_the_server_before_the_publisher_returns(
    stream: tuple[nats.NATS, str], relay_schema: str
) -> None:
    """The publishes of a batch are written to the socket by `put_out` itself, not left in nats-py's buffer for its
    flusher task to write on the loop's next iteration (behind whatever else a busy service's loop has ready)."""
    nc, stream_name = stream
    publisher = OrderedPublisher(lambda: nc, stream_name, trace.get_tracer("test"))
    subject = f"events.{relay_schema}.test.happened.v1.gem.bieb"
    publications = [
        Publication(
            subject=subject,
            payload=b"{}",
            msg_id=str(uuid.uuid4()),
            headers={},
            trace_context={},
            span_name="publish",
            span_attributes={},
        )
        for _ in range(3)
    ]
    put = await publisher.put_out(publications)
    assert nc.pending_data_size == 0, "nothing of the batch waits in the client's buffer"
    assert await publisher.outcomes(*put) == [None, None, None]
    assert await stored_ids(nc, stream_name) == [publication.msg_id for publication in publications]
