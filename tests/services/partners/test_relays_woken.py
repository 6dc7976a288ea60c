"""A consumer's batch that writes feed entries and deliveries wakes the feed publisher and the webhook worker itself
after its commit, instead of the triggers' NOTIFY in that commit (partners' migration 014, shared/relay.py
RELAYS_WOKEN): a writing transaction that notifies holds PostgreSQL's one notification lock across its commit's WAL
flush, so every notifying commit of the server waited for the one before it (issue 17's sixth round).

On a partners schema of the test's own (tests/services/partners/test_feed_batch.py's), whose triggers notify on
channels named after it. What a commit notified is read on a LISTEN connection up to a marker notified after it:
PostgreSQL delivers notifications in commit order, so whatever the batch's commit sent arrives before the marker."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

import asyncpg
import pytest
import sqlalchemy as sa
from opentelemetry import trace
from opentelemetry.trace import Span
from sqlalchemy.ext.asyncio import AsyncEngine

from services.partners.commands import feeds, notices
from services.partners.store import feed as feed_store
from shared.clock import FixedClock
from shared.contracts import Envelope
from shared.db import session_factory
from shared.relay import Relay, plain_dsn
from shared.unit_of_work import UnitOfWork, ambient_transaction
from tests.services.partners.test_feed_batch import NOW, A, B, direct_work, engine, event, write
from tests.waiting import PATIENCE_SECONDS

__all__ = ["engine"]  # the fixture: a partners schema with partners A and B, B's webhook wanting referral.accepted
MARKER = "marker"


@pytest.fixture
async def schema(engine: AsyncEngine) -> str:
    async with engine.connect() as conn:
        return str(await conn.scalar(sa.text("SELECT current_schema()")))


def relay(database_url: str, schema: str, channel: str, *, active: bool) -> Relay[Any, Any]:
    """A relay object that is not running: active as the process's relay that holds the lock, or a standby's."""
    never_sends: Any = None  # it does not run
    woken: Relay[Any, Any] = Relay(
        name=channel, outlet=never_sends, database_url=database_url, schema=schema, channel=channel, exclusive=True
    )
    woken.active = active
    return woken


async def notified_by(database_url: str, names: tuple[str, ...], action: Callable[[], Awaitable[object]]) -> list[str]:
    """The channels notified by what `action` committed, among `names`."""
    dsn = plain_dsn(database_url)
    listener, marker = await asyncpg.connect(dsn), await asyncpg.connect(dsn)
    heard: list[str] = []
    marked = asyncio.Event()

    def on(_connection: object, _pid: int, channel: str, payload: str) -> None:
        if payload == MARKER:
            marked.set()
        elif not marked.is_set():
            heard.append(channel)

    try:
        for name in names:
            await listener.add_listener(name, on)
        await action()
        await marker.execute("SELECT pg_notify($1, $2)", names[0], MARKER)
        await asyncio.wait_for(marked.wait(), timeout=PATIENCE_SECONDS)  # a hang check
    finally:
        await listener.close()
        await marker.close()
    return heard


async def pending_positions(database_url: str, schema: str) -> list[int]:
    """What the feed publisher's next sweep (its periodic poll, when no wake-up came) finds to publish."""
    db = await asyncpg.connect(plain_dsn(database_url), server_settings={"search_path": schema})
    try:
        return [row["position"] for row in await db.fetch(feed_store.FEED_PENDING, 10) if row["position"]]
    finally:
        await db.close()


async def test_a_batch_wakes_the_feed_publisher_and_the_webhook_worker_and_its_commit_sends_no_notify(
    engine: AsyncEngine, schema: str, database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    feed_channel, webhook_channel = f"partnernet_feeds_{schema}", f"partnernet_webhooks_{schema}"
    monkeypatch.setattr(feeds, "FEED_CHANNEL", feed_channel)  # the constants name the platform's schema
    monkeypatch.setattr(feeds, "WEBHOOK_CHANNEL", webhook_channel)
    publisher = relay(database_url, schema, feed_channel, active=True)
    worker = relay(database_url, schema, webhook_channel, active=True)
    work = UnitOfWork(session_factory(engine), FixedClock(NOW), relays=[publisher, worker])
    accepted = event("accepted", referrer=A, receiver=B)  # B's webhook wants it: a delivery too

    async def batch() -> None:
        async with work.transaction() as tx:
            await feeds.project_referral_events(tx, [(accepted, trace.INVALID_SPAN)])
            assert not publisher._wake.is_set()  # woken before the commit, it would find nothing and sleep on

    heard = await notified_by(database_url, (feed_channel, webhook_channel), batch)

    assert heard == []
    assert publisher._wake.is_set() and worker._wake.is_set()  # what the triggers' NOTIFY did: a sweep at once
    # Were the wake-up lost (the process killed between the commit and it), the poll still finds both entries.
    assert len(await pending_positions(database_url, schema)) == 2


async def test_the_feed_consumer_s_one_statement_wakes_the_publisher_and_the_worker_and_sends_no_notify(
    engine: AsyncEngine, schema: str, database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    feed_channel, webhook_channel = f"partnernet_feeds_{schema}", f"partnernet_webhooks_{schema}"
    monkeypatch.setattr(feeds, "FEED_CHANNEL", feed_channel)
    monkeypatch.setattr(feeds, "WEBHOOK_CHANNEL", webhook_channel)
    publisher = relay(database_url, schema, feed_channel, active=True)
    worker = relay(database_url, schema, webhook_channel, active=True)
    accepted = event("accepted", referrer=A, receiver=B)  # B's webhook wants it: a delivery too

    heard = await notified_by(
        database_url, (feed_channel, webhook_channel), lambda: write(engine, [accepted], relays=[publisher, worker])
    )

    assert heard == []
    assert publisher._wake.is_set() and worker._wake.is_set()
    assert len(await pending_positions(database_url, schema)) == 2


@pytest.mark.parametrize("path", ["statement", "transaction"])
async def test_a_batch_without_deliveries_wakes_the_feed_publisher_and_not_the_webhook_worker(
    engine: AsyncEngine, schema: str, database_url: str, monkeypatch: pytest.MonkeyPatch, path: str
) -> None:
    """A submission to A (no webhook wants it): the feed publisher is woken, the webhook worker is not (it would
    run its claim statement for nothing), and no NOTIFY is sent for either."""
    feed_channel, webhook_channel = f"partnernet_feeds_{schema}", f"partnernet_webhooks_{schema}"
    monkeypatch.setattr(feeds, "FEED_CHANNEL", feed_channel)
    monkeypatch.setattr(feeds, "WEBHOOK_CHANNEL", webhook_channel)
    publisher = relay(database_url, schema, feed_channel, active=True)
    worker = relay(database_url, schema, webhook_channel, active=True)
    submitted = event("submitted", referrer=A)

    async def in_a_transaction() -> None:
        work = UnitOfWork(session_factory(engine), FixedClock(NOW), relays=[publisher, worker])
        async with work.transaction() as tx:
            await feeds.project_referral_events(tx, [(submitted, trace.INVALID_SPAN)])

    batch = (
        in_a_transaction if path == "transaction" else lambda: write(engine, [submitted], relays=[publisher, worker])
    )
    heard = await notified_by(database_url, (feed_channel, webhook_channel), batch)

    assert heard == []
    assert publisher._wake.is_set() and not worker._wake.is_set()
    assert len(await pending_positions(database_url, schema)) == 1


async def test_the_feed_consumer_s_one_statement_notifies_when_its_relays_run_elsewhere(
    engine: AsyncEngine, schema: str, database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    feed_channel = f"partnernet_feeds_{schema}"
    monkeypatch.setattr(feeds, "FEED_CHANNEL", feed_channel)
    standby = relay(database_url, schema, feed_channel, active=False)  # another replica's publisher is the active one

    heard = await notified_by(
        database_url, (feed_channel,), lambda: write(engine, [event("submitted", referrer=A)], relays=[standby])
    )

    assert heard == [feed_channel]  # one NOTIFY, in a transaction of its own after the statement
    assert not standby._wake.is_set()


async def test_a_batch_rolled_back_wakes_nothing(
    engine: AsyncEngine, schema: str, database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    feed_channel = f"partnernet_feeds_{schema}"
    monkeypatch.setattr(feeds, "FEED_CHANNEL", feed_channel)
    publisher = relay(database_url, schema, feed_channel, active=True)
    work = UnitOfWork(session_factory(engine), FixedClock(NOW), relays=[publisher])

    with pytest.raises(RuntimeError):
        async with work.transaction() as tx:
            await feeds.project_referral_events(tx, [(event("submitted", referrer=A), trace.INVALID_SPAN)])
            raise RuntimeError("the batch fails")

    assert not publisher._wake.is_set()
    assert await pending_positions(database_url, schema) == []


async def test_a_batch_in_another_transaction_notifies_with_that_transaction_s_commit(
    engine: AsyncEngine, schema: str, database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    feed_channel = f"partnernet_feeds_{schema}"
    monkeypatch.setattr(feeds, "FEED_CHANNEL", feed_channel)
    publisher = relay(database_url, schema, feed_channel, active=True)
    sessions = session_factory(engine)
    work = UnitOfWork(sessions, FixedClock(NOW), relays=[publisher])

    async def in_a_transaction() -> None:
        async with sessions.begin() as session:
            with ambient_transaction(session):
                async with work.transaction() as tx:
                    await feeds.project_referral_events(tx, [(event("submitted", referrer=A), trace.INVALID_SPAN)])

    heard = await notified_by(database_url, (feed_channel,), in_a_transaction)

    assert heard == [feed_channel]  # the trigger's, at that transaction's commit
    assert not publisher._wake.is_set()


async def write_notices(
    engine: AsyncEngine,
    batch: Sequence[tuple[Envelope, Span]],
    relays: Sequence[Relay[Any, Any]],
    consumer: str = "partners-notices-referrals",
) -> None:
    """As the notices consumer's statement handler writes a batch: its reads, then one statement with the inbox rows."""
    async with direct_work(engine, relays) as work:
        await notices.write_referral_notices(NOTICES, work, consumer, batch)


NOTICES = notices.Notices(enabled=True, base_url="https://partnernet.example")


@pytest.mark.parametrize("library_email", [None, "balie@lib.example"])
async def test_a_notice_wakes_the_mail_relay_only_when_it_writes_a_message(
    engine: AsyncEngine, schema: str, database_url: str, monkeypatch: pytest.MonkeyPatch, library_email: str | None
) -> None:
    """A submitted referral tells the receiving library; one without an address (or anyone who chose the notice)
    gets no message, and then the mail relay is not woken for nothing; with one, it is woken in the process and its
    trigger sends no NOTIFY."""
    mail_channel = f"partnernet_mail_{schema}"
    monkeypatch.setattr(notices, "MAIL_CHANNEL", mail_channel)
    async with engine.begin() as conn:
        await conn.execute(
            sa.text(
                "INSERT INTO libraries (slug, municipality, name, registered_at, email)"
                " VALUES ('lib', 'm', 'L', now(), :e)"
            ),
            {"e": library_email},
        )
    mail_relay = relay(database_url, schema, mail_channel, active=True)
    submitted = event("submitted", referrer=A, library="lib", municipality="m")

    heard = await notified_by(
        database_url, (mail_channel,), lambda: write_notices(engine, [(submitted, trace.INVALID_SPAN)], [mail_relay])
    )

    assert heard == []  # with a message, the relay is woken in the process; without one there is nothing to say
    async with engine.connect() as conn:
        staged = await conn.scalar(sa.text("SELECT count(*) FROM mail_outbox"))
        inbox = await conn.scalar(sa.text("SELECT count(*) FROM inbox WHERE event_id = :e"), {"e": submitted.id})
    assert inbox == 1
    if library_email is None:
        assert staged == 0 and not mail_relay._wake.is_set()
    else:
        assert staged == 1 and mail_relay._wake.is_set()


async def test_a_batch_of_notices_reads_its_recipients_once_and_each_message_continues_its_events_trace(
    engine: AsyncEngine, schema: str, database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The notices consumer's batch: who gets a kind for an audience is read once, not once an event; every
    submission gets its message, which carries its own event's trace context (not the batch's first); the batch
    handled again (a redelivery) writes nothing twice."""
    mail_channel = f"partnernet_mail_{schema}"
    monkeypatch.setattr(notices, "MAIL_CHANNEL", mail_channel)
    async with engine.begin() as conn:
        await conn.execute(
            sa.text(
                "INSERT INTO libraries (slug, municipality, name, registered_at, email)"
                " VALUES ('lib', 'm', 'L', now(), 'balie@lib.example')"
            )
        )
    mail_relay = relay(database_url, schema, mail_channel, active=True)
    traces = [0x1000 + n for n in range(3)]
    batch: list[tuple[Envelope, Span]] = [
        (
            event("submitted", referrer=A, library="lib", municipality="m"),
            trace.NonRecordingSpan(trace.SpanContext(trace_id, 0x99, is_remote=False)),
        )
        for trace_id in traces
    ]
    lookups: list[str] = []
    real_recipients = notices._recipients_of

    async def counted(connection: Any, notice: Any) -> Any:
        lookups.append(notice.cause)
        return await real_recipients(connection, notice)

    monkeypatch.setattr(notices, "_recipients_of", counted)
    await write_notices(engine, batch, [mail_relay])
    assert len(lookups) == 1
    await write_notices(engine, batch, [mail_relay])

    async with engine.connect() as conn:
        staged = (await conn.execute(sa.text("SELECT cause, trace_context FROM mail_outbox"))).all()
    assert {cause: context["traceparent"].split("-")[1] for cause, context in staged} == {
        str(envelope.id): f"{trace_id:032x}" for (envelope, _), trace_id in zip(batch, traces, strict=True)
    }
    assert len(staged) == 3
