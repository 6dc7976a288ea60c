"""A partner's feed keeps its entries for its window and no longer, and a cursor never skips one: on real PostgreSQL.

Pruning and reading run on a partners schema of the test's own (no relay or worker of the session's platform
touches its rows); the 410 through the gateway on the session's platform.
"""

from __future__ import annotations

import asyncio
import random
import uuid
from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
from opentelemetry import trace
from sqlalchemy.ext.asyncio import AsyncEngine

from services.partners.commands.retention import feed_window, prune_feed
from services.partners.queries.feeds import get_feed
from services.partners.store.feed import PRUNE_FEED
from shared.clock import FixedClock
from shared.contracts.partners.api.feeds import GetFeed
from shared.db import DirectReads, create_engine, migrate, session_factory
from shared.errors import Gone
from shared.settings import Settings
from shared.tenancy import Actor, Role
from shared.unit_of_work import UnitOfWork
from tests.fixtures.platform import RunningPlatform
from tests.fixtures.tenants import Tenant
from tests.waiting import PATIENCE_SECONDS

NOW = datetime(2031, 6, 1, 12, tzinfo=UTC)
WINDOW = timedelta(days=90)
PARTNER = uuid.uuid4()
OTHER = uuid.uuid4()
WEBHOOK = uuid.uuid4()
MIGRATIONS = Path(__file__).parents[3] / "services" / "partners" / "migrations"


class Feed:
    def __init__(self, engine: AsyncEngine, reads: DirectReads) -> None:
        self.engine = engine
        self.reads = reads

    def work(self, at: datetime = NOW) -> UnitOfWork:
        return UnitOfWork(session_factory(self.engine), FixedClock(at), self.reads)

    async def entry(self, at: datetime, *, partner: uuid.UUID = PARTNER, published: bool = True) -> int:
        async with self.engine.begin() as conn:
            position: int = (
                await conn.execute(
                    sa.text(
                        "INSERT INTO feed_entries (partner_id, event_id, event_type, time, data, published_at)"
                        " VALUES (:partner, gen_random_uuid(), 'referral.accepted', :at, '{}', :published)"
                        " RETURNING position"
                    ),
                    {"partner": partner, "at": at, "published": at if published else None},
                )
            ).scalar_one()
        return position

    async def positions(self, partner: uuid.UUID = PARTNER) -> list[int]:
        async with self.engine.connect() as conn:
            rows = await conn.execute(
                sa.text("SELECT position FROM feed_entries WHERE partner_id = :p ORDER BY position"), {"p": partner}
            )
            return list(rows.scalars())

    async def horizon(self, partner: uuid.UUID = PARTNER) -> int | None:
        async with self.engine.connect() as conn:
            return (
                await conn.execute(
                    sa.text("SELECT pruned_through FROM feed_horizons WHERE partner_id = :p"), {"p": partner}
                )
            ).scalar_one_or_none()

    async def read(self, after: int, limit: int = 50, at: datetime = NOW) -> list[int]:
        actor = Actor(subject="p", role=Role.PARTNER, partner=str(PARTNER))
        page = await get_feed(self.work(at), actor, GetFeed(partner_id=PARTNER, after=after, limit=limit))
        return [item.position for item in page.items]


@pytest.fixture
async def feed(database_url: str) -> AsyncIterator[Feed]:
    schema = f"feed_retention_{uuid.uuid4().hex[:8]}"
    engine = create_engine(database_url, schema=schema, pool_size=3)
    await migrate(engine, schema, MIGRATIONS)
    async with engine.begin() as conn:
        await conn.execute(sa.text("INSERT INTO municipalities VALUES ('m', 'M', now())"))
        for partner in (PARTNER, OTHER):
            await conn.execute(
                sa.text(
                    "INSERT INTO partners (id, municipality, name, kind, registered_at, updated_at, feed_key)"
                    " VALUES (:id, 'm', 'P', 'employer', now(), now(), '\\x00')"
                ),
                {"id": partner},
            )
        await conn.execute(
            sa.text(
                "INSERT INTO webhooks (id, partner_id, url, event_types, status, secret, version, created_at,"
                " updated_at) VALUES (:id, :partner, 'https://p.example/hook', '[]', 'active', 's', 1, now(), now())"
            ),
            {"id": WEBHOOK, "partner": PARTNER},
        )
    reads = DirectReads(database_url, schema, size=2, tracer=trace.get_tracer("test"))
    await reads.start()
    yield Feed(engine, reads)
    await reads.close()
    async with engine.begin() as conn:
        await conn.execute(sa.text(f'DROP SCHEMA "{schema}" CASCADE'))
    await engine.dispose()


async def failed_delivery_of(feed: Feed, position: int) -> None:
    async with feed.engine.begin() as conn:
        await conn.execute(
            sa.text(
                "INSERT INTO deliveries (id, webhook_id, partner_id, feed_position, event_id, event_type, status,"
                " attempts, created_at, failed_at) VALUES (gen_random_uuid(), :webhook, :partner, :position,"
                " gen_random_uuid(), 'referral.accepted', 'failed', 8, :at, :at)"
            ),
            {"webhook": WEBHOOK, "partner": PARTNER, "position": position, "at": NOW - timedelta(days=100)},
        )


async def test_entries_past_the_window_go_and_newer_or_still_needed_ones_stay(feed: Feed) -> None:
    old = [await feed.entry(NOW - timedelta(days=d)) for d in (120, 100, 91)]
    other_partners_old = await feed.entry(NOW - timedelta(days=95), partner=OTHER)
    unpublished = await feed.entry(NOW - timedelta(days=100), published=False)  # the relay still owes it to NATS
    waiting_for_replay = await feed.entry(NOW - timedelta(days=100))
    await failed_delivery_of(feed, waiting_for_replay)
    newer = [await feed.entry(NOW - timedelta(days=d)) for d in (89, 1)]

    pruned = await prune_feed(feed.work(), WINDOW, batch=2)  # in batches of 2 until one comes up short

    assert pruned == 4
    assert await feed.positions() == sorted([unpublished, waiting_for_replay, *newer])
    assert await feed.positions(OTHER) == []
    assert await feed.horizon() == max(old)
    assert await feed.horizon(OTHER) == other_partners_old
    assert await prune_feed(feed.work(), WINDOW) == 0  # nothing more: one index probe


async def test_a_cursor_before_the_horizon_is_gone_and_told_where_to_start_again(feed: Feed) -> None:
    first = await feed.entry(NOW - timedelta(days=100))
    second = await feed.entry(NOW - timedelta(days=95))
    kept = await feed.entry(NOW - timedelta(days=10))
    await prune_feed(feed.work(), WINDOW)

    for cursor in (0, first):
        with pytest.raises(Gone) as refused:
            await feed.read(after=cursor)
        assert refused.value.extra == {"restart_after": second}
        assert f"after={second}" in refused.value.detail
    assert await feed.read(after=second) == [kept]  # the horizon itself is a cursor that skips nothing
    assert await feed.read(after=kept) == []


async def test_a_cursor_at_or_after_the_horizon_never_skips_an_entry(feed: Feed) -> None:
    """A random history of entries (event times not in position order, as a republished event's is), read a page
    at a time while the window moves on and sweeps run between pages: every page holds every entry after its cursor
    up to its last, or the read is refused; never a page that silently leaves one out."""
    rng = random.Random(25)
    start = NOW - timedelta(days=200)
    # Entries in about the order of their events, a few days out of it, and now and then a much older event.
    times = [start + timedelta(days=i * 200 / 120 + rng.uniform(-3, 3)) for i in range(120)]
    times = [t - timedelta(days=20) if rng.random() < 0.1 else t for t in times]
    written = [await feed.entry(t) for t in times]
    cursor, refused, read = 0, 0, 0
    clock = NOW - timedelta(days=60)
    while True:
        clock += timedelta(days=rng.uniform(0, 6))
        await prune_feed(feed.work(clock), WINDOW, batch=rng.choice([3, 7, 50]))
        try:
            page = await feed.read(after=cursor, limit=rng.choice([1, 5, 13]), at=clock)
        except Gone as gone:
            restart = gone.extra["restart_after"]
            left = set(await feed.positions())
            # Refused only for a reason: an entry after the cursor up to the horizon went.
            assert [p for p in written if cursor < p <= restart and p not in left], (cursor, restart)
            cursor, refused = restart, refused + 1
            continue
        if not page:
            break
        assert page == [p for p in written if cursor < p <= page[-1]], f"skipped after {cursor}"
        cursor, read = page[-1], read + len(page)
    assert refused > 0 and read > 0  # the history took both paths


async def test_a_writer_is_not_blocked_while_a_prune_holds_its_batch(feed: Feed) -> None:
    """The sweep's batch is locked until it commits; the feed's writers append meanwhile, they do not wait."""
    old = [await feed.entry(NOW - timedelta(days=days)) for days in (100, 99, 98)]
    async with feed.engine.connect() as sweep:
        deleting = await sweep.execute(PRUNE_FEED, {"before": NOW - WINDOW, "batch": 10})
        assert deleting.scalar_one() == 3  # deleted, and the horizon raised, but not committed yet

        # Appends for the same partner and another, and a reader, in their own transactions, during the prune.
        appended = await asyncio.wait_for(
            asyncio.gather(feed.entry(NOW), feed.entry(NOW, partner=OTHER), feed.read(after=0)),
            timeout=PATIENCE_SECONDS,
        )
        # The reader still sees what the prune has not committed; the same partner's append may have committed
        # before the read began (the three run side by side), and then it is read too.
        assert appended[2] in (old, [*old, appended[0]])
        await sweep.commit()
    assert await feed.positions() == [appended[0]]


def test_a_feed_window_shorter_than_what_deliveries_or_nats_still_show_is_refused() -> None:
    settings = Settings()
    assert feed_window(settings) == timedelta(days=90)
    with pytest.raises(ValueError, match="FEED_RETENTION"):
        feed_window(replace(settings, feed_retention_days=20))  # NATS keeps a partner's feed 30 days
    with pytest.raises(ValueError, match="FEED_RETENTION"):
        feed_window(replace(settings, feed_retention_days=40, delivery_retention_days=60))


async def test_through_the_gateway_a_cursor_before_the_horizon_is_410_with_problem_details(
    platform: RunningPlatform, tenant: Tenant
) -> None:
    partner = uuid.UUID(tenant.partner_a)
    engine = platform.services["partners"].engine
    async with engine.begin() as conn:
        await conn.execute(
            sa.text("INSERT INTO feed_horizons (partner_id, pruned_through) VALUES (:p, 41)"), {"p": partner}
        )
    try:
        async with platform.client(tenant.partner_a_token) as api:
            gone = await api.get(f"/api/v1/partners/{partner}/feed", params={"after": 40})
            kept = await api.get(f"/api/v1/partners/{partner}/feed", params={"after": 41})
    finally:
        async with engine.begin() as conn:
            await conn.execute(sa.text("DELETE FROM feed_horizons WHERE partner_id = :p"), {"p": partner})

    assert gone.status_code == 410, gone.text
    assert gone.headers["content-type"].startswith("application/problem+json")
    problem = gone.json()
    assert problem["type"] == "urn:partnernet:problem:gone"
    assert problem["restart_after"] == 41
    assert "after=41" in problem["detail"]
    assert kept.status_code == 200, kept.text
