"""The write path's event pipeline: when each submitted referral shows in the partner's feed (and passes on
JetStream), the outbox's commit-to-ack delay and backlog, and one write phase measured end to end."""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
import uuid
from dataclasses import dataclass, field

import asyncpg
import httpx
import nats
from nats.aio.msg import Msg

from benchmarks.driving import BenchTenant, Target, run_loadgen, write_spec
from benchmarks.idle import cpu_snapshot
from benchmarks.loadgen import percentile

# Entries commit out of position order only between transactions running at once (a consumer's batch is at most
# 64): a window this far behind the highest position seen finds every one of them.
FEED_LOOKBACK = 1024


class FeedWatcher:
    """Notes when each referral's event first shows in the partner's feed (the entry is what counts), and when it
    first passes on the JetStream subject (so the delay splits into outbox and consumer).

    With the database at hand it looks when an entry of the partner's arrives on `feeds.<partner>` (and every
    `poll_seconds` besides), rather than polling every few milliseconds: on a 2-core machine such polling was a
    load of its own on PostgreSQL and on the benchmark, counted in the pipeline's CPU and slowing what it measured.
    (It looked when the feed trigger's NOTIFY said entries were committed; the consumer's commit sends none now, it
    wakes the publisher in its process: issue 17's sixth round. An entry is on NATS after its commit, so the time
    an entry is noted is at most its publish, a little after the commit: an upper bound.)
    """

    def __init__(self, target: Target, tenant: BenchTenant, poll_seconds: float = 0.1) -> None:
        self.target = target
        self.tenant = tenant
        self.poll_seconds = poll_seconds
        self.in_feed: dict[str, float] = {}
        # Entries a reader paging by position (`?after=`) would never see: they committed after an entry with a
        # higher position had been read (the consumer handles a batch concurrently, positions come at insert).
        self.skipped_by_cursor: set[str] = set()
        self.in_stream: dict[str, float] = {}
        self.on_nats_feed: dict[str, float] = {}  # first seen on the partner's NATS subject `feeds.<partner>`
        self._tasks: list[asyncio.Task[None]] = []
        self._db: asyncpg.Connection | None = None
        self._start_after = 0
        self._nc: nats.NATS | None = None
        self._published = asyncio.Event()  # an entry of the partner's came on NATS: entries have committed
        self._arrived: set[str] = set()  # referrals whose entry came on NATS since the last read, not yet seen in it

    async def start(self) -> None:
        if self.target.database_dsn:
            # Its read after each NATS arrival keeps one plan: PostgreSQL planned it again at every run (custom plans
            # looked cheaper), 0.12 ms of the platform's PostgreSQL a read, ten times its execution.
            self._db = await asyncpg.connect(
                self.target.database_dsn, server_settings={"plan_cache_mode": "force_generic_plan"}
            )
            # The watcher waits only for this phase's referrals: it reads on from the partner's newest entry, as a
            # partner that kept up would. From position 0 its first poll read the partner's whole feed (a million
            # rows at --volume 500000: seconds in PostgreSQL and in this process's event loop, which also stamps
            # the JetStream arrivals), and every entry of the phase's first seconds counted that as its delay.
            newest = await self._db.fetchval(
                "SELECT max(position) FROM partners.feed_entries WHERE partner_id = $1",
                uuid.UUID(self.tenant.partner_id),
            )
            self._start_after = int(newest or 0)
        self._tasks.append(asyncio.create_task(self._poll_feed()))
        if self.target.nats_url:
            self._nc = await nats.connect(self.target.nats_url)

            async def seen(msg: Msg) -> None:
                referral_id = json.loads(msg.data)["data"]["referral_id"]
                self.in_stream.setdefault(referral_id, time.monotonic())

            await self._nc.subscribe(f"events.referrals.referral.submitted.v1.{self.tenant.municipality}.>", cb=seen)

            async def on_feed(msg: Msg) -> None:
                referral_id = json.loads(msg.data)["data"].get("referral_id")
                if referral_id:
                    self.on_nats_feed.setdefault(referral_id, time.monotonic())
                    if referral_id not in self.in_feed:
                        self._arrived.add(referral_id)
                self._published.set()

            await self._nc.subscribe(f"feeds.{self.tenant.partner_id}", cb=on_feed)
            await self._nc.flush()

    async def _poll_feed(self) -> None:
        if self.target.database_dsn:
            await self._poll_database()
        else:
            await self._poll_gateway()

    async def _poll_database(self) -> None:
        """Read the partner's entries past the cursor each time entries came on NATS. An entry that came on NATS
        before a read (so it had committed) and was not found past the cursor committed below it (out of position
        order): the next read looks for it by its referral, a window behind the cursor. When nothing came for
        `poll_seconds` (or there is no NATS), a read looks back over that window whole. (Every read looked back over
        the whole window before: ~1,000 rows a read, 100 reads a second at half the pipeline's maximum, 13% of a core
        in PostgreSQL and more in this process, taken from the platform on the same 2 cores while it was measured.)"""
        assert self._db is not None
        conn = self._db
        partner = uuid.UUID(self.tenant.partner_id)
        cursor = self._start_after  # the highest position seen, as a partner's `after` would be
        read = (
            "SELECT position, data->>'referral_id' FROM partners.feed_entries WHERE partner_id = $1 AND position > $2"
        )
        read_with_late = (
            f"{read} UNION ALL SELECT position, data->>'referral_id' FROM partners.feed_entries WHERE partner_id = $1"
            " AND position > $3 AND position <= $2 AND data->>'referral_id' = ANY($4::text[])"
        )
        overdue: set[str] = set()  # came on NATS before the last read, and that read did not find them
        look_back = True
        committed = self._published
        try:
            while True:
                committed.clear()
                arrived, self._arrived = self._arrived, set()
                window = max(self._start_after, cursor - FEED_LOOKBACK)  # nothing from before the phase
                if look_back:
                    rows = await conn.fetch(read, partner, window)
                elif overdue:
                    rows = await conn.fetch(read_with_late, partner, cursor, window, list(overdue))
                else:
                    rows = await conn.fetch(read, partner, cursor)
                now = time.monotonic()
                highest = cursor
                for position, referral_id in rows:
                    if referral_id not in self.in_feed:
                        self.in_feed[referral_id] = now
                        if position <= cursor:
                            self.skipped_by_cursor.add(referral_id)
                    highest = max(highest, position)
                cursor = highest
                overdue = {referral_id for referral_id in arrived | overdue if referral_id not in self.in_feed}
                look_back = False
                # asyncio.timeout, not wait_for: Python 3.11's wait_for swallows a cancel that comes as the event is
                # set, and this loop then ran on for ever under `stop` (the cluster's two phases: 2 runs in 3 hung).
                try:
                    async with asyncio.timeout(self.poll_seconds):
                        await committed.wait()
                except TimeoutError:
                    look_back = True
        finally:
            await conn.close()

    async def _poll_gateway(self) -> None:
        headers = {"Authorization": f"Bearer {self.tenant.submit_token}"}
        after = 0
        async with httpx.AsyncClient(base_url=self.target.base_url, headers=headers, timeout=30) as api:
            while True:
                page = (
                    await api.get(
                        f"/api/v1/partners/{self.tenant.partner_id}/feed", params={"after": after, "limit": 200}
                    )
                ).json()
                now = time.monotonic()
                for item in page["items"]:
                    self.in_feed.setdefault(item["data"]["referral_id"], now)
                after = page["next_after"]
                await asyncio.sleep(self.poll_seconds / 10)

    async def wait_for(self, referral_ids: list[str], timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if all(r in self.in_feed for r in referral_ids):
                return True
            await asyncio.sleep(0.05)
        return False

    async def wait_for_nats(self, referral_ids: list[str], timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while self._nc is not None and time.monotonic() < deadline:
            if all(r in self.on_nats_feed for r in referral_ids):
                return
            await asyncio.sleep(0.05)

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        if self._nc is not None:
            await self._nc.close()


@dataclass
class PipelineResult:
    submitted_per_second: float
    post_p50_ms: float
    post_p99_ms: float
    statuses: dict[str, int]
    referrals: int
    delivered: int
    pipeline_per_second: float
    feed_p50_ms: float
    feed_p99_ms: float
    stream_p50_ms: float | None
    stream_p99_ms: float | None
    outbox: OutboxStats | None
    generator_cpu: float
    schedule_lag_p99_ms: float
    skipped_by_position_cursor: int
    nats_feed: NatsFeedStats | None = None
    cpu_ms_per_referral: dict[str, float] = field(default_factory=dict)


@dataclass
class NatsFeedStats:
    """POST answered → the entry published on the partner's NATS subject `feeds.<partner>`."""

    seen: int
    p50_ms: float
    p99_ms: float


@dataclass
class OutboxStats:
    rows: int
    # From the row's insert (created_at): inside the submit's statement, before the rest of it, its commit's
    # triggers and WAL flush.
    insert_to_ack_p50_ms: float
    insert_to_ack_p99_ms: float
    # From the row's commit (committed_at, PostgreSQL's commit timestamp: kernel migration 008): what the aim
    # names. None where the server keeps no commit times (track_commit_timestamp off, e.g. an external database).
    commit_to_ack_p50_ms: float | None
    commit_to_ack_p99_ms: float | None
    committed_rows: int  # of `rows`, those with a commit time
    peak_backlog: int
    drained_after_s: float | None


class OutboxProbe:
    """The referrals service's outbox: rows have created_at (when the row was inserted, clock_timestamp(): kernel
    migration 007), committed_at (when its transaction committed, which the relay records as it marks the row sent,
    where PostgreSQL keeps commit times: kernel migration 008) and sent_at (when the JetStream acks arrived:
    shared/outbox.py MARK_SENT), and the backlog is the count of unsent rows."""

    def __init__(self, dsn: str) -> None:
        self.dsn = dsn
        self.peak_backlog = 0
        self.drained_at: float | None = None
        self._task: asyncio.Task[None] | None = None
        self._conn: asyncpg.Connection | None = None

    async def start(self) -> None:
        self._conn = await asyncpg.connect(self.dsn)
        self.first_position = await self._conn.fetchval("SELECT coalesce(max(position), 0) FROM referrals.outbox")
        self._task = asyncio.create_task(self._sample())

    async def _sample(self) -> None:
        assert self._conn is not None
        while True:
            backlog = await self._conn.fetchval("SELECT count(*) FROM referrals.outbox WHERE sent_at IS NULL")
            self.peak_backlog = max(self.peak_backlog, backlog)
            self.drained_at = None if backlog else (self.drained_at or time.monotonic())
            await asyncio.sleep(0.05)

    async def stop(self) -> OutboxStats:
        assert self._conn is not None
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        row = await self._conn.fetchrow(
            "SELECT count(*) AS rows, count(committed_at) AS committed_rows,"
            " percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM sent_at - created_at)) AS insert_p50,"
            " percentile_cont(0.99) WITHIN GROUP (ORDER BY extract(epoch FROM sent_at - created_at)) AS insert_p99,"
            " percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM sent_at - committed_at)) AS commit_p50,"
            " percentile_cont(0.99) WITHIN GROUP (ORDER BY extract(epoch FROM sent_at - committed_at)) AS commit_p99"
            " FROM referrals.outbox WHERE position > $1 AND sent_at IS NOT NULL",
            self.first_position,
        )
        await self._conn.close()
        committed = row["committed_rows"] > 0
        return OutboxStats(
            rows=row["rows"],
            insert_to_ack_p50_ms=float(row["insert_p50"] or 0) * 1e3,
            insert_to_ack_p99_ms=float(row["insert_p99"] or 0) * 1e3,
            commit_to_ack_p50_ms=float(row["commit_p50"]) * 1e3 if committed else None,
            commit_to_ack_p99_ms=float(row["commit_p99"]) * 1e3 if committed else None,
            committed_rows=row["committed_rows"],
            peak_backlog=self.peak_backlog,
            drained_after_s=None,
        )


# Before the closed-loop maximum is measured, its connections run this long unmeasured: the services open their
# pooled connections (each a connect, the driver's type introspection, statements prepared) as a platform that
# has been serving would have them open already. What the warm-up submits is left out of every figure.
WARMUP_SECONDS = 1.0


async def write_phase(
    target: Target, tenant: BenchTenant, *, connections: int, duration: float, rate: float | None = None
) -> PipelineResult:
    watcher = FeedWatcher(target, tenant)
    await watcher.start()
    probe = OutboxProbe(target.database_dsn) if target.database_dsn else None
    if probe is not None:
        await probe.start()
    cpu_before = cpu_snapshot(target.processes)
    try:
        warmup = WARMUP_SECONDS if rate is None else 0.0
        spec = write_spec(target, tenant, connections=connections, duration=duration, rate=rate, warmup=warmup)
        result = await run_loadgen(spec)
        generated_until = time.monotonic()
        # Referrals submitted in the warm-up are waited for (they are in the way of the rest) but not counted.
        everything = {referral_id: done for referral_id, done in result["captured"]}
        captured = {r: done for r, done in everything.items() if done >= result["measure_from"]}
        await watcher.wait_for(list(everything), timeout=max(30.0, 6 * duration))
        await watcher.wait_for_nats(list(captured), timeout=10.0)
        cpu_used = cpu_per_referral(cpu_before, cpu_snapshot(target.processes), len(everything))
    finally:
        await watcher.stop()
        outbox = await probe.stop() if probe is not None else None
    if outbox is not None and probe is not None and probe.drained_at is not None:
        outbox.drained_after_s = max(0.0, probe.drained_at - generated_until)
    delivered = [r for r in captured if r in watcher.in_feed]
    feed_delays = sorted(watcher.in_feed[r] - captured[r] for r in delivered)
    stream_delays = sorted(watcher.in_stream[r] - captured[r] for r in captured if r in watcher.in_stream)
    last = max((watcher.in_feed[r] for r in delivered), default=result["measure_from"])
    return PipelineResult(
        submitted_per_second=result["rps"],
        post_p50_ms=result["p50_ms"],
        post_p99_ms=result["p99_ms"],
        statuses=result["statuses"],
        referrals=len(captured),
        delivered=len(delivered),
        pipeline_per_second=len(delivered) / max(last - result["measure_from"], 1e-9),
        feed_p50_ms=percentile(feed_delays, 0.5) * 1e3,
        feed_p99_ms=percentile(feed_delays, 0.99) * 1e3,
        stream_p50_ms=percentile(stream_delays, 0.5) * 1e3 if stream_delays else None,
        stream_p99_ms=percentile(stream_delays, 0.99) * 1e3 if stream_delays else None,
        outbox=outbox,
        generator_cpu=result["generator_cpu"],
        schedule_lag_p99_ms=result["schedule_lag_p99_ms"],
        skipped_by_position_cursor=len(watcher.skipped_by_cursor & set(captured)),
        nats_feed=nats_feed_stats(watcher, captured),
        cpu_ms_per_referral=cpu_used,
    )


def nats_feed_stats(watcher: FeedWatcher, captured: dict[str, float]) -> NatsFeedStats | None:
    delays = sorted(watcher.on_nats_feed[r] - captured[r] for r in captured if r in watcher.on_nats_feed)
    if not delays:
        return None
    return NatsFeedStats(len(delays), percentile(delays, 0.5) * 1e3, percentile(delays, 0.99) * 1e3)


def cpu_per_referral(before: dict[str, float], after: dict[str, float], referrals: int) -> dict[str, float]:
    """Milliseconds of CPU each component spent per referral of the phase (all its work in that time, idle too)."""
    if not referrals:
        return {}
    return {name: 1e3 * (after[name] - before.get(name, 0.0)) / referrals for name in after}
