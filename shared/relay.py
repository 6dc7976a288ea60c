"""Rows a service wrote for sending, sent: take the unsent rows, send them, mark them sent.

The one mechanism behind the outbox (events to JetStream), the partners' feeds (entries on each partner's
NATS subject) and the webhook deliveries (to partners' endpoints). What each of them sends, and how it
marks a row, is an `Outlet`; the `Relay` around it is the same for all:

- it works on a PostgreSQL connection of its own (not the service's pool, so requests never wait for it
  and it never waits for them), in autocommit, and traces none of its own SQL: a sweep is housekeeping,
  and the spans that matter (each send) continue the trace of the transaction that wrote the row;
- it is woken by NOTIFY on its channel (sent by a trigger on the table, delivered at commit: exactly
  when there is something to send), or from within its process by a writer that named its channel in
  `RELAYS_WOKEN` (`Relay.wake`), and otherwise looks every `poll_seconds`;
- it never holds a transaction open while it sends: it reads a batch, sends it, then settles it;
- when `exclusive`, it runs on one replica at a time (a session advisory lock), so order holds;
- with `in_flight` (rows whose order does not matter, each sent to a receiver of its own: the webhooks), it
  sends each row on its own, up to `in_flight` at once, and settles a row as soon as its send is done: one
  slow receiver holds up none of the others (a batch waits for its slowest row).
- with `overlap` (rows in order onto JetStream: the outbox), up to that many batches are out at once: rows that
  commit while a batch waits for its acks go out behind it at once, and batches are settled in order.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections import deque
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Generic, NamedTuple, Protocol, TypeVar, cast

import asyncpg
from nats.aio.client import Client as NATS
from nats.aio.transport import TcpTransport
from nats.js.client import JetStreamContext
from opentelemetry import propagate, trace
from opentelemetry.trace import Span, SpanKind, Status, StatusCode, Tracer

from shared.rpc.envelope import caller_context
from shared.telemetry import skips_unsampled_children

log = logging.getLogger(__name__)

# A writer that wakes relays itself once its transaction has committed (shared/unit_of_work.py `relays_written`)
# names their channels in this setting for its transaction (`woken_channels`), and the triggers of their tables
# leave their NOTIFY out (kernel migration 006, partners' 014). A transaction that notifies takes PostgreSQL's one
# notification lock before its commit record and holds it until the commit's WAL flush is done, so every notifying
# commit of the server waited for the one before it, flush and all (issue 17's sixth round). A trigger whose
# channel is not named notifies as before: naming one relay's channel never silences another's.
RELAYS_WOKEN = "partnernet.relays_woken"


def woken_channels(channels: Iterable[str]) -> str:
    """The value of `RELAYS_WOKEN` that names `channels` (each between spaces, as the triggers look for it)."""
    return "".join(f" {channel} " for channel in sorted(set(channels)))


# The relay's statements each touch the rows of one batch by key (its reads, its marks), and each is prepared once
# for the connection's life: after five runs PostgreSQL keeps a generic plan, made from the table's statistics of
# that moment. A relay that starts beside an empty or small table (a new platform, an outbox that retention has just
# emptied) kept a plan that reads the whole table, and kept it while the table grew: at the pipeline's half rate on a
# new platform the outbox relay's mark was a hash join over a sequential scan of every row sent so far (2 ms at 5,000
# rows, and growing with them), its backend 21% of a core. Without sequential scans, hash and merge joins the same
# statements go by their indexes whatever the statistics said when they were planned (a statement with no other way
# still scans). And the generic plan always: a mark's custom plan (its array's length known) looked cheaper than the
# generic one, so PostgreSQL planned every mark again (0.16 ms of planning a mark, as long as its execution).
RELAY_PLANS = {
    "enable_seqscan": "off",
    "enable_hashjoin": "off",
    "enable_mergejoin": "off",
    "plan_cache_mode": "force_generic_plan",
}


R = TypeVar("R")
O = TypeVar("O")  # noqa: E741 - the outcome of sending one row


class Outlet(Protocol[R, O]):
    """What one relay sends. `pending` and `settle` get the relay's connection; `send` gets no connection."""

    async def pending(self, db: asyncpg.Connection, limit: int) -> Sequence[R]:
        """The next rows to send, in the order they must go out."""
        ...

    async def send(self, rows: Sequence[R]) -> Sequence[O]:
        """Send the rows; one outcome per row, in the same order. Raises nothing a row's outcome can say."""
        ...

    async def settle(self, db: asyncpg.Connection, rows: Sequence[R], outcomes: Sequence[O]) -> int:
        """Record what happened; returns how many rows are done (sent, or finished with for good)."""
        ...

    def wait_seconds(self, poll_seconds: float) -> float:
        """How long to sleep when no NOTIFY comes: the poll, or less when rows are known to be due sooner (0: the
        next rows are in hand already, e.g. read by the last settle's statement)."""
        ...


class OverlappingOutlet(Outlet[R, O], Protocol[R, O]):
    """An outlet whose batches can be out at once (`Relay(overlap=...)`): each put out after the ones before it,
    and refused by the receiver if one before it was not taken (JetStream's order check)."""

    async def put_out(self, rows: Sequence[R], answered: Callable[[], None]) -> asyncio.Future[Sequence[O]]:
        """Send the rows after those still out, without waiting for their answers. The future has their outcomes
        (`send`'s) once they are all in (or given up), and `answered` is called then. `pending` leaves out the rows
        still out."""
        ...

    def forget_out(self) -> None:
        """After a batch failed: the rows still out are settled by no one (sent again after the failed one), and
        the next `pending` reads from the first unsent row."""
        ...


class Relay(Generic[R, O]):
    def __init__(
        self,
        *,
        name: str,
        outlet: Outlet[R, O],
        database_url: str,
        schema: str,
        channel: str,
        exclusive: bool,
        poll_seconds: float = 1.0,
        batch_size: int = 256,
        retry_seconds: float = 1.0,
        settles_durably: bool = True,
        in_flight: int = 0,
        overlap: int = 0,
    ) -> None:
        if exclusive and in_flight:
            raise ValueError(f"relay {name}: rows sent each on its own pass each other; exclusive keeps order")
        if overlap and not hasattr(outlet, "put_out"):
            raise ValueError(f"relay {name}: its outlet cannot put a batch out before the last one's answers")
        self.name = name
        self.outlet = outlet
        self.dsn = plain_dsn(database_url)
        self.schema = schema
        self.channel = channel
        self.exclusive = exclusive
        self.poll_seconds = poll_seconds
        self.batch_size = batch_size
        self.retry_seconds = retry_seconds
        # False for an outlet whose sends the receiver de-duplicates (JetStream's Nats-Msg-Id within its duplicate
        # window): its marks then commit without waiting for their WAL flush (synchronous_commit off). A mark lost
        # in a PostgreSQL crash (the last fraction of a second) only sends the rows again, and the server drops the
        # copies; a sweep no longer waits a flush of the shared disk before it looks for the rows committed meanwhile.
        self.settles_durably = settles_durably
        # 0: a batch at a time (read, send, settle). More: rows sent each on its own, this many at most
        # (`sweep_each`); the outlet's `pending` must keep a row it has handed out from the next reads until it is
        # settled (the webhooks' lease), and must not hand a failed row out again at once (their backoff).
        self.in_flight = in_flight
        # 0: a batch at a time. More: up to this many batches out at once (`relay_overlapped`): rows that commit
        # while a batch waits for its answers go out at once, not after that batch's answers and its settle.
        self.overlap = overlap
        self.active = False
        self._wake = asyncio.Event()
        self._due = False  # woken (or the poll came round) since the last read: rows may be waiting
        self._sending: dict[asyncio.Task[Sequence[O]], R] = {}  # each row in flight, by its send

    async def connect(self) -> asyncpg.Connection:
        db = await asyncpg.connect(
            self.dsn,
            server_settings={
                "search_path": self.schema,
                "application_name": f"partnernet-{self.schema}-{self.name}",
                **RELAY_PLANS,
                **({} if self.settles_durably else {"synchronous_commit": "off"}),
            },
        )
        await db.set_type_codec("jsonb", encoder=json.dumps, decoder=json.loads, schema="pg_catalog")
        return db

    async def run(self) -> None:
        """Run until cancelled: connect (and take the lock), then relay; survive database and broker outages.
        Rows in flight stay in flight across a reconnect (settled on the next connection); cancelled with the relay,
        they are settled by no one and sent again once the outlet's claim on them runs out."""
        try:
            while True:
                try:
                    await self._run_connected()
                except asyncio.CancelledError:
                    raise
                except Exception:
                    log.exception("relay %s interrupted; retrying", self.name)
                    self.active = False
                    await asyncio.sleep(self.retry_seconds)
        finally:
            if self._sending:
                for task in self._sending:
                    task.cancel()
                await asyncio.gather(*self._sending, return_exceptions=True)
                self._sending.clear()

    async def _run_connected(self) -> None:
        db = await self.connect()
        try:
            if self.exclusive:
                lock_key = f"relay:{self.schema}:{self.name}"
                while not await db.fetchval("SELECT pg_try_advisory_lock(hashtext($1))", lock_key):
                    await asyncio.sleep(self.poll_seconds)
            await db.add_listener(self.channel, self._notified)
            self.active = True
            if self.overlap:
                await self.relay_overlapped(db)  # returns only by raising
            while True:
                self._wake.clear()
                done = await self.sweep(db)
                if done == self.batch_size:
                    continue  # more may be waiting: no sleep between full batches
                wait = self.outlet.wait_seconds(self.poll_seconds)
                if wait > 0:
                    # The wake-up awaited in this task: it runs the loop's next iteration after set(), where
                    # wait_for (a task of its own for the wait, a waiter, their callbacks) took three.
                    with contextlib.suppress(TimeoutError):
                        async with asyncio.timeout(wait):
                            await self._wake.wait()
                if db.is_closed():
                    raise ConnectionError(f"relay {self.name} lost its database connection (and any lock)")
        finally:
            self.active = False
            with contextlib.suppress(Exception):
                await db.close(timeout=2)

    def _notified(self, *_: Any) -> None:
        self._due = True
        self._wake.set()

    def wake(self) -> bool:
        """Wake this relay from within its process, as its NOTIFY would: whether it is the active one (a standby
        would not send what it is woken for, so the writer then notifies the one that is)."""
        if self.active:
            self._due = True
            self._wake.set()
        return self.active

    async def relay_overlapped(self, db: asyncpg.Connection) -> None:
        """Relay until the connection fails, up to `overlap` batches out at once. Rows that commit while a batch
        waits for its answers are read and put out after it at once (one batch at a time, they waited for its
        answers and its settle first). Batches are settled in order, all whose answers are in together, so no row
        is marked before every row before it has its answer; when one fails, the batches put out after it (which
        the receiver refuses: `OverlappingOutlet`) are awaited and settled by no one, and sent again after it."""
        outlet = cast(OverlappingOutlet[R, O], self.outlet)
        out: deque[tuple[Sequence[R], asyncio.Future[Sequence[O]]]] = deque()
        self._due = True
        try:
            while True:
                self._wake.clear()
                if out and out[0][1].done():
                    rows: list[R] = []
                    outcomes: list[O] = []
                    while out and out[0][1].done():
                        batch, answers = out.popleft()
                        rows += batch
                        outcomes += answers.result()
                    # A wake-up from before the settle is answered by it where the settle also read the next rows
                    # (they committed before its snapshot); one that comes during it may be for a row committed after.
                    woken_before, self._due = self._due, False
                    settled = await self.settle(db, rows, outcomes)
                    if outlet.wait_seconds(self.poll_seconds) != 0:  # no rows read with the settle: read as before
                        self._due = self._due or woken_before
                    if settled < len(rows):
                        await asyncio.gather(*(answers for _, answers in out), return_exceptions=True)
                        out.clear()
                        outlet.forget_out()
                        self._due = True
                        await asyncio.sleep(min(self.poll_seconds, self.retry_seconds))  # do not spin on it
                        continue
                in_hand = outlet.wait_seconds(self.poll_seconds) == 0
                if len(out) < self.overlap and (self._due or in_hand):
                    if not in_hand:
                        self._due = False  # else a wake-up since the settle's read stays due: read on after these
                    rows = list(await outlet.pending(db, self.batch_size))
                    if rows:
                        out.append((rows, await outlet.put_out(rows, self._wake.set)))
                        if len(rows) == self.batch_size:
                            self._due = True  # more may be waiting: read on at once
                        continue
                if out and out[0][1].done():
                    continue
                if db.is_closed():
                    raise ConnectionError(f"relay {self.name} lost its database connection (and any lock)")
                # Something out: its answers come within the outlet's own timeout, and wake this loop.
                wait = None if out else outlet.wait_seconds(self.poll_seconds)
                try:
                    async with asyncio.timeout(wait):
                        await self._wake.wait()
                except TimeoutError:
                    self._due = True
        finally:
            for _, answers in out:
                answers.cancel()
            outlet.forget_out()

    async def sweep(self, db: asyncpg.Connection) -> int:
        """One batch: read (no transaction stays open), send, settle. Returns how many rows are done."""
        if self.in_flight:
            return await self.sweep_each(db)
        rows = await self.outlet.pending(db, self.batch_size)
        if not rows:
            return 0
        outcomes = await self.outlet.send(rows)
        done = await self.settle(db, rows, outcomes)
        if done < len(rows):
            await asyncio.sleep(min(self.poll_seconds, self.retry_seconds))  # a failed send: do not spin on it
        return done

    async def settle(self, db: asyncpg.Connection, rows: Sequence[R], outcomes: Sequence[O]) -> int:
        return await self.outlet.settle(db, rows, outcomes)

    async def sweep_each(self, db: asyncpg.Connection) -> int:
        """Settle the rows whose sends are done (together: one settle for what finished since the last sweep),
        then send the next rows into the places that freed up, each in a task of its own whose end wakes the
        relay. Returns how many rows are done."""
        answered = []
        for task in [task for task in self._sending if task.done()]:
            if not task.cancelled() and task.exception() is None:
                answered.append(task)
            else:  # a send that raised (a defect): its row is tried again once the outlet's claim runs out
                log.error("relay %s: a send failed", self.name, exc_info=None if task.cancelled() else task.exception())
                del self._sending[task]
        done = 0
        if answered:
            rows = [self._sending[task] for task in answered]
            done = await self.settle(db, rows, [task.result()[0] for task in answered])
            for task in answered:  # only once settled: a lost connection settles them on the next one
                del self._sending[task]
        places = min(self.in_flight - len(self._sending), self.batch_size)
        if places > 0:
            for row in await self.outlet.pending(db, places):
                task = asyncio.create_task(self.outlet.send([row]), name=f"relay-{self.name}-send")
                task.add_done_callback(self._sent)
                self._sending[task] = row
        return done

    def _sent(self, _: asyncio.Task[Sequence[O]]) -> None:
        self._wake.set()


def plain_dsn(database_url: str) -> str:
    """asyncpg takes `postgresql://`; the settings name SQLAlchemy's `postgresql+asyncpg://`."""
    return database_url.replace("postgresql+asyncpg://", "postgresql://", 1)


# --- sending to JetStream in order ------------------------------------------------------------------

EXPECTED_LAST_MSG_ID = "Nats-Expected-Last-Msg-Id"
EXPECTED_LAST_SEQUENCE = "Nats-Expected-Last-Sequence"


@dataclass(frozen=True)
class Publication:
    """One row as it goes onto a JetStream stream."""

    subject: str
    payload: bytes
    msg_id: str  # Nats-Msg-Id: JetStream drops a second copy within its duplicate window
    headers: dict[str, str]
    trace_context: dict[str, str]  # of the transaction that wrote the row: the publish continues its trace
    span_name: str
    span_attributes: dict[str, str]


class PutOut(NamedTuple):
    """A batch as `OrderedPublisher.put_out` left it: each publish's ack with its span, why the rest was not
    published (the connection refused it), how many publications the batch had (size), and the chain it was put out on
    (`OrderedPublisher`: a failure ends a chain; a later batch starts a new one)."""

    in_flight: list[tuple[asyncio.Future[Any], Span]]
    refused: BaseException | None
    size: int
    chain: int = 0


class OrderedPublisher:
    """Publishes a batch to one stream in order, all in flight at once, and waits for the acks together.

    Order holds even when one publish in the middle fails: each message says what must come before it, so
    JetStream refuses a message whose predecessor it did not store, and the refusals run on to the end of the
    batch. Only the acknowledged prefix of a batch is marked sent (`acknowledged_prefix`); the rest is sent again.
    A batch can be put out while the one before it still waits for its acks (`put_out`, then `outcomes`): the
    check spans both batches.

    What a message says depends on the stream, asked once a chain (`stream_info`):
    - replicated (deploy/'s three nodes): the stream's sequence its predecessor has (`Nats-Expected-Last-Sequence`).
      The publisher is its stream's one writer (its relay is exclusive), so it knows the sequences ahead: the last
      one when the chain started, plus one for each message put out since. The stream's leader checks it before
      the message goes to the replicas. Not `Nats-Expected-Last-Msg-Id` here: nats-server (2.14 on) checks that
      one where each replica applies the message, and a mismatch there (the predecessor lost in a leader change)
      stops the stream on every node for good, no leader until they restart (tests/faults/test_nats_cluster.py).
      A copy the stream already has is acknowledged as a duplicate before the check.
    - one copy (the embedded server): the id of its predecessor (`Nats-Expected-Last-Msg-Id`), checked as the
      message is stored, one refusal for one mismatch. (Its sequence check comes before the duplicate check
      there: a batch sent again after lost acks would be refused at its second copy, and again at each next.)
    A failed publish, or a copy the stream had already (the sequences after it were counted one too many), ends
    the chain: the next batch starts a new one from the stream's last sequence, and counts no sequence for its
    publications up to the stream's last message (sent before and not marked: copies). A message whose expected
    sequence is ahead of the stream's goes unanswered on a replicated stream (nats-server 2.15; a single publish
    behind it is refused at once): it fails at the timeout, and the chain ends there.
    """

    def __init__(self, connection: Callable[[], NATS], stream: str, tracer: Tracer, timeout: float = 5.0) -> None:
        self.connection = connection
        self.stream = stream
        self.tracer = tracer
        self.timeout = timeout
        self._skip_unsampled = skips_unsampled_children(tracer)
        self._js: tuple[NATS, JetStreamContext] | None = None
        # The chain: its number, whether the stream is replicated, and the stream's last sequence once everything
        # put out on it is stored (None: no chain; the next batch asks the stream and starts one).
        self._chain = 0
        self._replicated = False
        self._tail: int | None = None

    def _jetstream(self) -> JetStreamContext:
        nc = self.connection()
        if self._js is None or self._js[0] is not nc:
            self._js = (nc, nc.jetstream(timeout=self.timeout))
        return self._js[1]

    async def publish(self, publications: Sequence[Publication]) -> list[BaseException | None]:
        """One outcome per publication, in order: None when JetStream acknowledged it (or had it already)."""
        return await self.outcomes(*await self.put_out(publications))

    async def put_out(self, publications: Sequence[Publication], after: str | None = None) -> PutOut:
        """Publish in order without waiting for the acks (`outcomes` waits for them). `after`: the id of the last
        publication of a batch put out before and not yet acknowledged (a stream of one copy: the first of these
        names it as the others name theirs, so if JetStream did not store it, it refuses these too)."""
        js = self._jetstream()
        stored_through: str | None = None
        if self._tail is None:
            try:
                info = await js.stream_info(self.stream)
            except Exception as exc:  # no answer (no leader, no connection): nothing goes out, the batch waits
                return PutOut([], exc, len(publications), self._chain)
            self._chain += 1
            self._replicated = (info.config.num_replicas or 1) > 1
            self._tail = info.state.last_seq
            if self._replicated and info.state.messages:
                # The first batch of a chain may begin with copies the stream has (sent before, not marked): the
                # stream's last one says how far; those take no sequence (they are acknowledged as duplicates).
                with contextlib.suppress(Exception):  # without it, a mismatch ends this chain and starts another
                    last = await js.get_msg(self.stream, info.state.last_seq)
                    stored_through = (last.headers or {}).get("Nats-Msg-Id")
        chain, tail = self._chain, self._tail
        copies = 0  # publications the stream has already (a chain's first batch only)
        if stored_through is not None:
            copies = next((i + 1 for i, p in enumerate(publications) if p.msg_id == stored_through), 0)
        in_flight: list[tuple[asyncio.Future[Any], Span]] = []
        refused: BaseException | None = None
        previous = after
        for index, publication in enumerate(publications):
            span = self._span(publication)
            headers = {**publication.headers, "Nats-Msg-Id": publication.msg_id}
            if self._replicated:
                headers[EXPECTED_LAST_SEQUENCE] = str(tail)
            elif previous is not None:
                headers[EXPECTED_LAST_MSG_ID] = previous
            propagate.inject(headers, context=trace.set_span_in_context(span))
            try:
                ack = await js.publish_async(
                    publication.subject, publication.payload, headers=headers, stream=self.stream
                )
            except Exception as exc:  # the connection takes no more: this one and the rest stay unsent
                _failed(span, exc)
                refused = exc
                break
            in_flight.append((ack, span))
            previous = publication.msg_id
            if index >= copies:
                tail += 1
        if self._chain == chain and self._tail is not None:  # (ended meanwhile by an earlier batch: these fail too)
            self._tail = tail
        _write_now(self._js[0] if self._js is not None else None)
        return PutOut(in_flight, refused, len(publications), chain)

    async def outcomes(
        self,
        in_flight: list[tuple[asyncio.Future[Any], Span]],
        refused: BaseException | None,
        count: int,
        chain: int = 0,
    ) -> list[BaseException | None]:
        """The outcomes of a batch `put_out` (its acks, or the timeout), in order."""
        timed_out = await self._acks([ack for ack, _ in in_flight]) if in_flight else False
        return self._answered(PutOut(in_flight, refused, count, chain), timed_out)

    def when_answered(self, put: PutOut, answered: Callable[[list[BaseException | None]], None]) -> None:
        """Call `answered` with a batch's outcomes once every ack is in, or the timeout ran out: from the last ack's
        own callback, so a relay woken there runs on the loop's next iteration after the ack (a task awaiting the
        acks, then woken by its end, took two more: under a busy service's requests, each an iteration behind
        them). As in `_acks`, the last ack is watched first, and any earlier one still missing after it."""
        in_flight = put.in_flight
        loop = asyncio.get_running_loop()
        acks = [ack for ack, _ in in_flight]
        finished = False
        # `one_in` reaches itself through this list, emptied once finished: a function that named itself would be
        # a reference cycle, and its batch (acks, spans, rows) garbage for the collector, not freed when done.
        watching: list[Callable[[object], None]] = []

        def finish(timed_out: bool) -> None:
            nonlocal finished
            if not finished:
                finished = True
                timer.cancel()
                watching.clear()
                answered(self._answered(put, timed_out))

        def one_in(_: object = None) -> None:
            missing = next((ack for ack in acks if not ack.done()), None)
            if missing is None:
                finish(False)
            elif not finished:
                missing.add_done_callback(watching[0])

        watching.append(one_in)

        timer = loop.call_later(self.timeout, finish, True)
        if acks:
            acks[-1].add_done_callback(one_in)
        else:
            loop.call_soon(finish, False)

    def _answered(self, put: PutOut, timed_out: bool) -> list[BaseException | None]:
        outcomes: list[BaseException | None] = []
        chain_ends = False
        for ack, span in put.in_flight:
            error = _outcome(ack, self.timeout, timed_out)
            if error is None:
                span.end()
                chain_ends = chain_ends or bool(getattr(ack.result(), "duplicate", False))
            else:
                _failed(span, error)
                chain_ends = True
            outcomes.append(error)
        if put.refused is not None:
            outcomes += [put.refused] * (put.size - len(outcomes))
            chain_ends = True
        if chain_ends and put.chain == self._chain:  # (a batch of an earlier chain ends nothing: it ended already)
            self._tail = None
        return outcomes

    async def _acks(self, acks: list[asyncio.Future[Any]]) -> bool:
        """Wait for every ack of a batch, or the timeout (then True). JetStream answers the publishes of one
        connection to one stream in order, so the last ack is awaited directly, one wake-up of this task for the
        batch, on the loop's next iteration after it came (asyncio.wait's callback and waiter took two). Any
        earlier one still missing then (an answer of the server's own, such as no stream for a subject, can come
        first) is waited for after it. (Awaiting them one by one with wait_for cost an event-loop iteration per ack
        even when it had come already: behind a busy service's requests, seconds for a batch of a few hundred.)"""
        try:
            async with asyncio.timeout(self.timeout):
                with contextlib.suppress(Exception):  # the ack's outcome is read with the others'
                    await acks[-1]  # on the timeout, cancelled: _outcome counts it as timed out
                missing = [ack for ack in acks if not ack.done()]
                if missing:
                    await asyncio.wait(missing)
        except TimeoutError:
            return True
        return False

    def _span(self, publication: Publication) -> Span:
        if self._skip_unsampled:
            # A span that would not be recorded (the writer's trace unsampled) is not made: the writer's is carried
            # on in the headers, as the consumers do (shared/consumer.py `_span`).
            parent, sampled = caller_context(publication.trace_context.get("traceparent"))
            if parent is not None and not sampled:
                return trace.get_current_span(parent)
        return self.tracer.start_span(
            publication.span_name,
            context=propagate.extract(publication.trace_context),
            kind=SpanKind.PRODUCER,
            attributes={"messaging.system": "nats", "messaging.destination.name": publication.subject}
            | publication.span_attributes,
        )


def _write_now(nc: NATS | None) -> None:
    """Hand the publishes nats-py holds in its pending buffer to the socket now. nats-py leaves them to its flusher
    task, woken by the first publish: on the loop's next iteration, behind every callback and request then ready (on
    a busy service's loop, milliseconds before the batch even leaves). Written here, in order after all that was
    pending (the flusher takes the buffer as a whole, as this does, and finds it empty after): as nats-py writes
    inline itself when its flusher is gone. Only on a plain TCP connection that is up (a reconnecting client keeps
    its buffer for the new connection; a websocket's writes are sent by its drain, left to the flusher)."""
    if not isinstance(nc, NATS) or not nc.is_connected or not nc._pending:
        return
    transport = nc._transport
    if not isinstance(transport, TcpTransport) or nc._flusher_task is None or nc._flusher_task.done():
        return
    transport.writelines(nc._pending)
    nc._pending = []
    nc._pending_data_size = 0


def _outcome(ack: asyncio.Future[Any], timeout: float, timed_out: bool) -> BaseException | None:
    """None when JetStream acknowledged the publish; else why not (an ack still missing is given up)."""
    if not ack.done():
        ack.cancel()  # nats-py then forgets it and frees its place among the publishes in flight
        return TimeoutError(f"no ack from JetStream within {timeout}s")
    if ack.cancelled():
        if timed_out:  # the ack awaited directly when the time ran out
            return TimeoutError(f"no ack from JetStream within {timeout}s")
        return asyncio.CancelledError("the publish was cancelled")
    return ack.exception()


def _failed(span: Span, error: BaseException) -> None:
    span.record_exception(error)
    span.set_status(Status(StatusCode.ERROR, type(error).__name__))
    span.end()


def acknowledged_prefix(outcomes: Sequence[BaseException | None]) -> int:
    """How many rows from the start of a batch were acknowledged without a gap: only those may be marked sent."""
    for index, outcome in enumerate(outcomes):
        if outcome is not None:
            return index
    return len(outcomes)
