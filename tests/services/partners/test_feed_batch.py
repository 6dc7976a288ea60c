"""A batch of referral events into the partners' feeds in one go (services/partners/commands/feeds.py
`project_referral_events`, and `write_referral_events`, the feed consumer's one statement with its inbox rows): the
same entries, in the same order, as one event at a time would write, a course's provider included, an ended partner
left out, a second copy a no-op, and a delivery per webhook that wants the type; on real PostgreSQL, on a partners
schema of the test's own."""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import AsyncIterator, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from opentelemetry import trace
from sqlalchemy.ext.asyncio import AsyncEngine

from services.partners.commands.feeds import project_referral_events, write_referral_events
from services.partners.domain.feeds import feed_pseudonym
from shared.clock import FixedClock
from shared.contracts import Envelope
from shared.db import DirectReads, create_engine, migrate, session_factory
from shared.ids import new_id
from shared.relay import Relay
from shared.unit_of_work import UnitOfWork

NOW = datetime(2031, 6, 1, 12, tzinfo=UTC)
MIGRATIONS = Path(__file__).parents[3] / "services" / "partners" / "migrations"
A, B, PROVIDER, ENDED = (uuid.uuid4() for _ in range(4))
KEYS = {A: b"a" * 32, B: b"b" * 32, PROVIDER: b"p" * 32, ENDED: b"e" * 32}
COURSE = uuid.uuid4()
HOOK = uuid.uuid4()
CONSUMER = "partners-feed-referrals"


@pytest.fixture
async def engine(database_url: str) -> AsyncIterator[AsyncEngine]:
    schema = f"feed_batch_{uuid.uuid4().hex[:8]}"
    engine = create_engine(database_url, schema=schema, pool_size=2)
    await migrate(engine, schema, MIGRATIONS)
    async with engine.begin() as conn:
        await conn.execute(sa.text("INSERT INTO municipalities VALUES ('m', 'M', now())"))
        for partner, key in KEYS.items():
            await conn.execute(
                sa.text(
                    "INSERT INTO partners (id, municipality, name, kind, registered_at, updated_at, feed_key, status)"
                    " VALUES (:id, 'm', 'P', 'employer', now(), now(), :key, :status)"
                ),
                {"id": partner, "key": key, "status": "ended" if partner == ENDED else "active"},
            )
        await conn.execute(sa.text("INSERT INTO known_courses VALUES (:c, :p)"), {"c": COURSE, "p": PROVIDER})
        await conn.execute(
            sa.text(
                "INSERT INTO webhooks (id, partner_id, url, event_types, status, secret, version, created_at,"
                " updated_at) VALUES (:id, :partner, 'https://b.example/hook', '[\"referral.accepted\"]', 'active',"
                " 's', 1, now(), now())"
            ),
            {"id": HOOK, "partner": B},
        )
    yield engine
    async with engine.begin() as conn:
        await conn.execute(sa.text(f'DROP SCHEMA "{schema}" CASCADE'))
    await engine.dispose()


def event(kind: str, *, referrer: uuid.UUID | None, receiver: uuid.UUID | None = None, **data: Any) -> Envelope:
    return Envelope(
        id=new_id(),
        source="/partnernet/referrals",
        type=f"nl.partnernet.referral.{kind}.v1",
        time=NOW,
        subject="m/lib",
        data={
            "referral_id": str(uuid.uuid4()),
            "participant_pseudonym": "P-ONE",
            "participant": {"name": "Fatima"},  # never in a feed
            "referring_partner_id": str(referrer) if referrer else None,
            "receiving_partner_id": str(receiver) if receiver else None,
            **data,
        },
        library="lib",
    )


async def project(engine: AsyncEngine, events: list[Envelope]) -> None:
    work = UnitOfWork(session_factory(engine), FixedClock(NOW))
    async with work.transaction() as tx:
        await project_referral_events(tx, [(envelope, trace.INVALID_SPAN) for envelope in events])


@contextlib.asynccontextmanager
async def direct_work(engine: AsyncEngine, relays: Sequence[Relay[Any, Any]] = ()) -> AsyncIterator[UnitOfWork]:
    """A unit of work as a service has it, direct reads on the engine's schema included, for a statement handler."""
    async with engine.connect() as conn:
        schema = str(await conn.scalar(sa.text("SELECT current_schema()")))
    reads = DirectReads(
        engine.url.render_as_string(hide_password=False), schema, size=1, tracer=trace.get_tracer(__name__)
    )
    await reads.start()
    try:
        yield UnitOfWork(session_factory(engine), FixedClock(NOW), reads, relays)
    finally:
        await reads.close()


async def write(
    engine: AsyncEngine, events: list[Envelope], consumer: str = CONSUMER, relays: Sequence[Relay[Any, Any]] = ()
) -> None:
    """As the feed consumer's statement handler writes a batch: its reads, then one statement with the inbox rows."""
    async with direct_work(engine, relays) as work:
        await write_referral_events(work, consumer, [(envelope, trace.INVALID_SPAN) for envelope in events])


async def feed(engine: AsyncEngine) -> list[tuple[uuid.UUID, uuid.UUID, dict[str, Any]]]:
    async with engine.connect() as conn:
        rows = await conn.execute(sa.text("SELECT partner_id, event_id, data FROM feed_entries ORDER BY position"))
        return [(row.partner_id, row.event_id, row.data) for row in rows]


async def test_a_batch_writes_what_one_event_at_a_time_would_in_stream_order(engine: AsyncEngine) -> None:
    first = event("submitted", referrer=A)
    both = event("accepted", referrer=A, receiver=B, course_id=str(COURSE))
    ended = event("submitted", referrer=ENDED, receiver=B)
    await project(engine, [first, both, ended])

    written = await feed(engine)
    # Event by event, each event's partners sorted by id (as one at a time wrote them); the ended partner gets none.
    expected = [(A, first.id), *((p, both.id) for p in sorted([A, B, PROVIDER])), (B, ended.id)]
    assert [(partner, event_id) for partner, event_id, _ in written] == expected
    for partner, _, data in written:
        assert data["participant_pseudonym"] == feed_pseudonym(KEYS[partner], "P-ONE")
        assert "participant" not in data

    # B's webhook wants referral.accepted: one delivery, of B's entry of that event, with the event's type.
    async with engine.connect() as conn:
        deliveries = (
            await conn.execute(
                sa.text(
                    "SELECT d.webhook_id, d.event_id, d.event_type, e.partner_id FROM deliveries d"
                    " JOIN feed_entries e ON e.position = d.feed_position"
                )
            )
        ).all()
    assert [tuple(row) for row in deliveries] == [(HOOK, both.id, both.type, B)]

    # A second copy of the batch, with a new event after it: only the new one is written, after the rest.
    later = event("declined", referrer=A)
    await project(engine, [first, both, ended, later])
    assert [(partner, event_id) for partner, event_id, _ in await feed(engine)] == [*expected, (A, later.id)]


async def test_the_feed_consumer_s_one_statement_writes_what_a_batch_in_a_transaction_would(
    engine: AsyncEngine,
) -> None:
    first = event("submitted", referrer=A)
    both = event("accepted", referrer=A, receiver=B, course_id=str(COURSE))
    ended = event("submitted", referrer=ENDED, receiver=B)
    await write(engine, [first, both, ended])

    written = await feed(engine)
    expected = [(A, first.id), *((p, both.id) for p in sorted([A, B, PROVIDER])), (B, ended.id)]
    assert [(partner, event_id) for partner, event_id, _ in written] == expected
    for partner, _, data in written:
        assert data["participant_pseudonym"] == feed_pseudonym(KEYS[partner], "P-ONE")
        assert "participant" not in data
    async with engine.connect() as conn:
        deliveries = (
            await conn.execute(
                sa.text(
                    "SELECT d.webhook_id, d.event_id, d.event_type, e.partner_id, d.status, d.attempts, d.created_at"
                    " FROM deliveries d JOIN feed_entries e ON e.position = d.feed_position"
                )
            )
        ).all()
        handled = set(
            (await conn.execute(sa.text("SELECT event_id FROM inbox WHERE consumer = :c"), {"c": CONSUMER})).scalars()
        )
    assert [tuple(row) for row in deliveries] == [(HOOK, both.id, both.type, B, "pending", 0, NOW)]
    assert handled == {first.id, both.id, ended.id}  # in the inbox with their entries

    # A redelivery of the batch with a new event after it: only the new one is written, after the rest.
    later = event("declined", referrer=A)
    await write(engine, [first, both, ended, later])
    assert [(partner, event_id) for partner, event_id, _ in await feed(engine)] == [*expected, (A, later.id)]


async def test_an_event_the_feed_consumer_has_handled_before_writes_no_entry_and_another_consumer_s_does(
    engine: AsyncEngine,
) -> None:
    handled, new = event("submitted", referrer=A), event("submitted", referrer=B)
    async with engine.begin() as conn:  # handled before, its entry since pruned from the feed: the inbox says so
        await conn.execute(
            sa.text("INSERT INTO inbox (consumer, event_id) VALUES (:c, :e)"), {"c": CONSUMER, "e": handled.id}
        )

    await write(engine, [handled, new])
    assert [(partner, event_id) for partner, event_id, _ in await feed(engine)] == [(B, new.id)]

    await write(engine, [handled], consumer="partners-another-feed")  # the inbox is per consumer
    assert [(partner, event_id) for partner, event_id, _ in await feed(engine)] == [(B, new.id), (A, handled.id)]
