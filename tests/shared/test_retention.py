"""Retention of the plumbing, on real PostgreSQL: what is past its window goes, what is newer or still needed stays.

Each test migrates a schema of its own (the kernel tables, or the partners service's), so no relay or worker of
the session's platform touches the rows it writes.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import msgspec
import pytest
import sqlalchemy as sa
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from sqlalchemy.ext.asyncio import AsyncEngine

from services.partners.commands.retention import prune_delivered
from shared.clock import FixedClock
from shared.consumer import EventConsumer, inbox
from shared.contracts import Envelope
from shared.contracts.partners.events import LibraryRegistered
from shared.db import create_engine, migrate, session_factory
from shared.retention import (
    PRUNE_INBOX,
    PRUNE_OUTBOX,
    Windows,
    dead_letter_age,
    longest_stream_age,
    prune_plumbing,
    windows,
)
from shared.settings import Settings
from shared.unit_of_work import Transaction, UnitOfWork
from tests.fixtures.platform import telemetry_for
from tests.waiting import PATIENCE_SECONDS

NOW = datetime(2031, 6, 1, 12, tzinfo=UTC)
WINDOWS = Windows(outbox=timedelta(days=30), inbox=timedelta(days=90))


async def schema_with(database_url: str, migrations: Path) -> tuple[AsyncEngine, str]:
    schema = f"retention_{uuid.uuid4().hex[:8]}"
    engine = create_engine(database_url, schema=schema, pool_size=2)
    await migrate(engine, schema, migrations)
    return engine, schema


@pytest.fixture
async def kernel(database_url: str, tmp_path: Path) -> AsyncIterator[AsyncEngine]:
    engine, schema = await schema_with(database_url, tmp_path)  # an empty directory: the kernel tables only
    yield engine
    async with engine.begin() as conn:
        await conn.execute(sa.text(f'DROP SCHEMA "{schema}" CASCADE'))
    await engine.dispose()


@pytest.fixture
async def partners_schema(database_url: str) -> AsyncIterator[AsyncEngine]:
    migrations = Path(__file__).parents[2] / "services" / "partners" / "migrations"
    engine, schema = await schema_with(database_url, migrations)
    yield engine
    async with engine.begin() as conn:
        await conn.execute(sa.text(f'DROP SCHEMA "{schema}" CASCADE'))
    await engine.dispose()


def work(engine: AsyncEngine, at: datetime = NOW) -> UnitOfWork:
    return UnitOfWork(session_factory(engine), FixedClock(at))


async def outbox_row(engine: AsyncEngine, *, created: datetime, sent: datetime | None) -> uuid.UUID:
    event_id = uuid.uuid4()
    async with engine.begin() as conn:
        await conn.execute(
            sa.text(
                "INSERT INTO outbox (event_id, subject, event_type, payload, created_at, sent_at)"
                " VALUES (:id, 'events.x', 'x', '\\x7b7d', :created, :sent)"
            ),
            {"id": event_id, "created": created, "sent": sent},
        )
    return event_id


async def inbox_row(engine: AsyncEngine, consumer: str, processed: datetime) -> uuid.UUID:
    event_id = uuid.uuid4()
    async with engine.begin() as conn:
        await conn.execute(inbox.insert().values(consumer=consumer, event_id=event_id, processed_at=processed))
    return event_id


async def ids(engine: AsyncEngine, table: str) -> set[uuid.UUID]:
    async with engine.connect() as conn:
        return set((await conn.execute(sa.text(f"SELECT event_id FROM {table}"))).scalars())


async def test_sent_outbox_rows_past_the_window_go_and_newer_or_unsent_ones_stay(kernel: AsyncEngine) -> None:
    old_sent = await outbox_row(kernel, created=NOW - timedelta(days=40), sent=NOW - timedelta(days=40))
    sent_just_inside = await outbox_row(kernel, created=NOW - timedelta(days=31), sent=NOW - timedelta(days=29))
    old_unsent = await outbox_row(kernel, created=NOW - timedelta(days=60), sent=None)  # the relay still owes it

    pruned = await prune_plumbing(work(kernel), WINDOWS)

    assert pruned == {"outbox": 1, "inbox": 0, "idempotency_keys": 0}
    assert await ids(kernel, "outbox") == {sent_just_inside, old_unsent}
    assert old_sent not in await ids(kernel, "outbox")


async def test_inbox_rows_go_after_their_own_longer_window(kernel: AsyncEngine) -> None:
    gone = await inbox_row(kernel, "referrals-enrolments", NOW - timedelta(days=91))
    kept = await inbox_row(kernel, "referrals-enrolments", NOW - timedelta(days=89))
    # An event handled as long ago as the outbox's window (and more) is still de-duplicated.
    kept_past_outbox_window = await inbox_row(kernel, "partners-feed-referrals", NOW - timedelta(days=45))

    pruned = await prune_plumbing(work(kernel), WINDOWS)

    assert pruned == {"outbox": 0, "inbox": 1, "idempotency_keys": 0}
    assert await ids(kernel, "inbox") == {kept, kept_past_outbox_window}
    assert gone not in await ids(kernel, "inbox")


async def test_a_backlog_goes_in_small_batches_until_none_is_left(kernel: AsyncEngine) -> None:
    async with kernel.begin() as conn:
        await conn.execute(
            sa.text(
                "INSERT INTO outbox (event_id, subject, event_type, payload, created_at, sent_at)"
                " SELECT gen_random_uuid(), 'events.x', 'x', '\\x7b7d', :at, :at FROM generate_series(1, 25)"
            ),
            {"at": NOW - timedelta(days=100)},
        )
    kept = await outbox_row(kernel, created=NOW, sent=NOW)

    pruned = await prune_plumbing(work(kernel), WINDOWS, batch=4)

    assert pruned["outbox"] == 25
    assert await ids(kernel, "outbox") == {kept}


async def test_idempotency_keys_go_after_their_window_in_batches(kernel: AsyncEngine) -> None:
    async with kernel.begin() as conn:
        await conn.execute(
            sa.text(
                "INSERT INTO idempotency_keys (name, actor, operation, fingerprint, reply, created_at)"
                " SELECT 'old-' || n, 'a', 'rpc.x.y', 'f', '\\x00', :at FROM generate_series(1, 9) n"
            ),
            {"at": NOW - timedelta(hours=25)},
        )
        await conn.execute(
            sa.text(
                "INSERT INTO idempotency_keys (name, actor, operation, fingerprint, reply, created_at)"
                " VALUES ('kept', 'a', 'rpc.x.y', 'f', '\\x00', :at)"
            ),
            {"at": NOW - timedelta(hours=23)},
        )

    pruned = await prune_plumbing(work(kernel), WINDOWS, batch=4)

    assert pruned["idempotency_keys"] == 9
    async with kernel.connect() as conn:
        left = (await conn.execute(sa.text("SELECT name FROM idempotency_keys"))).scalars().all()
    assert left == ["kept"]


def test_the_idempotency_window_is_a_setting(tmp_path: Path) -> None:
    assert windows(Settings(idempotency_retention_hours=48)).idempotency == timedelta(hours=48)
    with pytest.raises(ValueError, match="IDEMPOTENCY"):
        windows(Settings(idempotency_retention_hours=0))
    env = {"PARTNERNET_IDEMPOTENCY_RETENTION_HOURS": "6", "PARTNERNET_DATA_DIR": str(tmp_path)}
    assert Settings.from_env(env).idempotency_retention_hours == 6


async def test_an_event_handled_within_the_inbox_window_is_still_handled_only_once(
    kernel: AsyncEngine, spans: InMemorySpanExporter
) -> None:
    """The exactly-once guarantee across pruning: a redelivery (a republish, a consumer read again from the
    stream's start) within the inbox's window changes nothing; only past it is the row gone."""
    handled: list[uuid.UUID] = []

    async def handler(tx: Transaction, envelope: Envelope, data: LibraryRegistered) -> None:
        handled.append(envelope.id)

    event = LibraryRegistered(library="l", municipality="m", name="L")
    envelope = Envelope(
        id=uuid.uuid4(),
        source="/partnernet/partners",
        type=event.qualified_type(),
        time=datetime.now(UTC),
        subject="m/l",
        data=msgspec.to_builtins(event),
    )
    consumer = EventConsumer(
        service="retention",
        name="libraries",
        event=LibraryRegistered,
        handler=handler,
        work=work(kernel),
        telemetry=telemetry_for("retention", spans),
    )
    await consumer.handle_once(envelope, event)
    await prune_plumbing(work(kernel, datetime.now(UTC) + WINDOWS.inbox - timedelta(days=1)), WINDOWS)

    await consumer.handle_once(envelope, event)  # delivered again a day before the window ends

    assert handled == [envelope.id]
    pruned = await prune_plumbing(work(kernel, datetime.now(UTC) + WINDOWS.inbox + timedelta(days=1)), WINDOWS)
    assert pruned["inbox"] == 1


async def test_the_prune_does_not_wait_for_a_row_a_writer_holds(kernel: AsyncEngine) -> None:
    held = await outbox_row(kernel, created=NOW - timedelta(days=50), sent=NOW - timedelta(days=50))
    other = await outbox_row(kernel, created=NOW - timedelta(days=50), sent=NOW - timedelta(days=50))
    async with kernel.connect() as writer:
        await writer.execute(sa.text("SELECT 1 FROM outbox WHERE event_id = :id FOR UPDATE"), {"id": held})

        pruned = await prune_plumbing(work(kernel), WINDOWS)  # would hang here if it waited for the lock

        assert pruned["outbox"] == 1
        await writer.rollback()
    assert await ids(kernel, "outbox") == {held}
    assert other not in await ids(kernel, "outbox")


async def test_writers_are_not_blocked_while_a_prune_holds_its_batch(kernel: AsyncEngine) -> None:
    """The sweep's batch stays locked until it commits; the relay's and the consumers' inserts go on meanwhile."""
    for _ in range(3):
        await outbox_row(kernel, created=NOW - timedelta(days=50), sent=NOW - timedelta(days=50))
        await inbox_row(kernel, "referrals-enrolments", NOW - timedelta(days=100))
    async with kernel.connect() as sweep:
        before = {"batch": 10}
        assert (await sweep.execute(PRUNE_OUTBOX, {**before, "before": NOW - WINDOWS.outbox})).rowcount == 3
        assert (await sweep.execute(PRUNE_INBOX, {**before, "before": NOW - WINDOWS.inbox})).rowcount == 3

        # New rows in both tables, each in its own transaction, while the deletes are not committed.
        written = await asyncio.wait_for(
            asyncio.gather(
                outbox_row(kernel, created=NOW, sent=None),
                outbox_row(kernel, created=NOW, sent=NOW),
                inbox_row(kernel, "referrals-enrolments", NOW),
            ),
            timeout=PATIENCE_SECONDS,
        )
        await sweep.commit()
    assert await ids(kernel, "outbox") == set(written[:2])
    assert await ids(kernel, "inbox") == {written[2]}


def test_windows_that_would_break_the_inbox_guarantee_are_refused() -> None:
    settings = Settings()
    assert windows(settings).inbox >= windows(settings).outbox + longest_stream_age()
    assert windows(settings).inbox >= dead_letter_age()  # a dead letter replayed late is still recognised
    with pytest.raises(ValueError, match="dead letters"):
        windows(replace(settings, outbox_retention_days=1, inbox_retention_days=60))
    with pytest.raises(ValueError, match="INBOX_RETENTION"):
        windows(replace(settings, outbox_retention_days=30, inbox_retention_days=45))
    with pytest.raises(ValueError, match="de-duplication window"):
        windows(replace(settings, outbox_retention_days=0.001))


async def delivery(engine: AsyncEngine, *, status: str, delivered: datetime | None, tries: int) -> uuid.UUID:
    """A webhook delivery of a fresh feed entry, with its tries logged."""
    delivery_id = uuid.uuid4()
    async with engine.begin() as conn:
        position = (
            await conn.execute(
                sa.text(
                    "INSERT INTO feed_entries (partner_id, event_id, event_type, time, data)"
                    " VALUES (:partner, gen_random_uuid(), 'referral.accepted', :at, '{}') RETURNING position"
                ),
                {"partner": PARTNER, "at": NOW - timedelta(days=200)},
            )
        ).scalar_one()
        await conn.execute(
            sa.text(
                "INSERT INTO deliveries (id, webhook_id, partner_id, feed_position, event_id, event_type, status,"
                " attempts, next_attempt_at, created_at, delivered_at)"
                " VALUES (:id, :webhook, :partner, :position, gen_random_uuid(), 'referral.accepted', :status,"
                " :tries, :next, :created, :delivered)"
            ),
            {
                "id": delivery_id,
                "webhook": WEBHOOK,
                "partner": PARTNER,
                "position": position,
                "status": status,
                "tries": tries,
                "next": NOW + timedelta(days=1) if status == "pending" else None,
                "created": NOW - timedelta(days=200),
                "delivered": delivered,
            },
        )
        for attempt in range(1, tries + 1):
            await conn.execute(
                sa.text(
                    "INSERT INTO delivery_attempts (delivery_id, attempt, at, status_code, duration_ms)"
                    " VALUES (:id, :attempt, :at, 500, 3)"
                ),
                {"id": delivery_id, "attempt": attempt, "at": NOW - timedelta(days=200)},
            )
    return delivery_id


PARTNER = uuid.uuid4()
WEBHOOK = uuid.uuid4()


async def test_delivered_webhook_deliveries_go_with_their_tries_and_the_feed_stays(
    partners_schema: AsyncEngine,
) -> None:
    async with partners_schema.begin() as conn:
        await conn.execute(sa.text("INSERT INTO municipalities VALUES ('m', 'M', now())"))
        await conn.execute(
            sa.text(
                "INSERT INTO partners (id, municipality, name, kind, registered_at, updated_at, feed_key)"
                " VALUES (:id, 'm', 'P', 'employer', now(), now(), '\\x00')"
            ),
            {"id": PARTNER},
        )
        await conn.execute(
            sa.text(
                "INSERT INTO webhooks (id, partner_id, url, event_types, status, secret, version, created_at,"
                " updated_at) VALUES (:id, :partner, 'https://p.example/hook', '[]', 'active', 's', 1, now(), now())"
            ),
            {"id": WEBHOOK, "partner": PARTNER},
        )
    old_delivered = await delivery(partners_schema, status="delivered", delivered=NOW - timedelta(days=31), tries=3)
    new_delivered = await delivery(partners_schema, status="delivered", delivered=NOW - timedelta(days=29), tries=1)
    old_failed = await delivery(partners_schema, status="failed", delivered=None, tries=4)  # waits for a replay
    pending = await delivery(partners_schema, status="pending", delivered=None, tries=2)

    pruned = await prune_delivered(work(partners_schema), timedelta(days=30))

    assert pruned == 1
    async with partners_schema.connect() as conn:
        left = set((await conn.execute(sa.text("SELECT id FROM deliveries"))).scalars())
        tries = set((await conn.execute(sa.text("SELECT DISTINCT delivery_id FROM delivery_attempts"))).scalars())
        feed = (await conn.execute(sa.text("SELECT count(*) FROM feed_entries"))).scalar_one()
    assert left == {new_delivered, old_failed, pending}
    assert old_delivered not in tries and tries == {new_delivered, old_failed, pending}
    assert feed == 4  # the partner's feed keeps every entry: a cursor never skips one
