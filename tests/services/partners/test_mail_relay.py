"""The mail relay on a database of its own and real SMTP servers (aiosmtpd): a refused try is tried again and the
message arrives once; a recipient refused for good is failed at once and said so; a server away is waited for;
two replicas share the work without sending a message twice."""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta
from email import message_from_bytes
from email.message import Message
from pathlib import Path
from typing import Any
from uuid import UUID

import asyncpg
import pytest
from aiosmtpd.controller import Controller
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from launcher.embedded import free_port
from services.partners.app import build
from services.partners.commands.notices import Mail, MailWorker, mail_relay
from services.partners.commands.retention import prune_mail
from shared.clock import SystemClock
from shared.db import create_engine, migrate, session_factory
from shared.ids import new_id
from shared.mail import SmtpSender, SmtpServer
from shared.relay import Relay, plain_dsn
from shared.retry import RetryPolicy
from shared.settings import Settings
from shared.unit_of_work import UnitOfWork
from tests.fixtures.platform import make_settings, telemetry_for
from tests.servers import create_database, drop_database
from tests.waiting import eventually

REFUSED = "nobody@bieb.example"


class FlakyServer:
    """Says 451 (try later) to the first `refusals` messages, 550 to RCPT TO:<nobody@…>, and keeps the rest."""

    def __init__(self, refusals: int = 0) -> None:
        self.refusals = refusals
        self.received: list[Message] = []
        self.tries = 0

    async def handle_RCPT(self, server: Any, session: Any, envelope: Any, address: str, options: Any) -> str:
        if address == REFUSED:
            return "550 5.1.1 no such mailbox"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.tries += 1
        if self.tries <= self.refusals:
            return "451 4.3.0 try again later"
        self.received.append(message_from_bytes(envelope.content))
        return "250 Message accepted"


@contextlib.contextmanager
def smtp_server(handler: FlakyServer, port: int | None = None) -> Iterator[int]:
    port = port or free_port()
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield port
    finally:
        controller.stop()


@pytest.fixture
async def mail_database(postgres_url: str, tmp_path: Path) -> AsyncIterator[str]:
    """The partners schema in a database of its own: the session platform's relay must not take these rows."""
    url = await create_database(postgres_url)
    engine = create_engine(url, schema="partners")
    await migrate(engine, "partners", Path(build.__code__.co_filename).parent / "migrations")
    await engine.dispose()
    try:
        yield url
    finally:
        await drop_database(postgres_url, url)


def relay_for(database_url: str, port: int, tmp_path: Path, *, max_attempts: int = 4) -> Relay[Mail, Any]:
    settings: Settings = make_settings("nats://unused:4222", database_url, tmp_path, smtp_port=port)
    worker = MailWorker(
        clock=SystemClock(),
        sender=SmtpSender(SmtpServer.from_settings(settings)),  # type: ignore[arg-type]
        policy=RetryPolicy(max_attempts=max_attempts, base_seconds=0.2, max_seconds=0.5),
        sender_address="partnernet <noreply@partnernet.example>",
        tracer=telemetry_for("partners", InMemorySpanExporter()).tracer("test"),
        telemetry=telemetry_for("partners", InMemorySpanExporter()),
    )
    return mail_relay(settings, worker)


async def write_mail(database_url: str, *recipients: str) -> list[UUID]:
    db = await asyncpg.connect(plain_dsn(database_url), server_settings={"search_path": "partners"})
    ids = [new_id() for _ in recipients]
    try:
        now = datetime.now(UTC)
        await db.executemany(
            "INSERT INTO mail_outbox (id, kind, cause, recipient, subject, body, language, trace_context, created_at,"
            " attempts, next_attempt_at) VALUES ($1, 'referral_submitted', $2, $3, 'Nieuwe doorverwijzing', 'Zie de"
            " console.', 'nl', $4::text::jsonb, $5, 0, $5)",
            [
                (mail_id, f"test:{mail_id}", to, json.dumps({}), now)
                for mail_id, to in zip(ids, recipients, strict=True)
            ],
        )
    finally:
        await db.close()
    return ids


async def rows(database_url: str, ids: list[UUID]) -> dict[UUID, asyncpg.Record]:
    db = await asyncpg.connect(plain_dsn(database_url), server_settings={"search_path": "partners"})
    try:
        found = await db.fetch("SELECT * FROM mail_outbox WHERE id = ANY($1::uuid[])", ids)
    finally:
        await db.close()
    return {row["id"]: row for row in found}


class Sweeps:
    """Counts each relay's sweeps, so a test can wait for the relay to have looked again (not for a time)."""

    def __init__(self, *relays: Relay[Mail, Any]) -> None:
        self.done = [0] * len(relays)
        for index, relay in enumerate(relays):
            relay.sweep = self._counting(index, relay.sweep)  # type: ignore[method-assign]

    def _counting(self, index: int, sweep: Any) -> Any:
        async def counted(db: asyncpg.Connection) -> int:
            try:
                return int(await sweep(db))
            finally:
                self.done[index] += 1

        return counted

    async def more(self, count: int, *, what: str) -> None:
        """Until every relay has swept `count` more times than now."""
        targets = [done + count for done in self.done]

        async def swept() -> bool:
            return all(done >= target for done, target in zip(self.done, targets, strict=True))

        await eventually(swept, what=what)


@contextlib.asynccontextmanager
async def running(*relays: Relay[Mail, Any]) -> AsyncIterator[None]:
    tasks = [asyncio.create_task(relay.run()) for relay in relays]
    try:
        yield
    finally:
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task


async def test_a_refused_try_is_tried_again_and_the_message_arrives_once(mail_database: str, tmp_path: Path) -> None:
    server = FlakyServer(refusals=2)
    with smtp_server(server) as port:
        (mail_id,) = await write_mail(mail_database, "staff@bieb.example")
        relay = relay_for(mail_database, port, tmp_path)
        sweeps = Sweeps(relay)
        async with running(relay):

            async def sent() -> asyncpg.Record | None:
                row = (await rows(mail_database, [mail_id]))[mail_id]
                return row if row["sent_at"] is not None else None

            row = await eventually(sent, what="the message sent after two refusals")
            await sweeps.more(2, what="the relay to look twice more")  # and send nothing a second time
    assert server.tries == 3
    assert [message["Message-ID"] for message in server.received] == [f"<{mail_id}@partnernet>"]
    assert (row["attempts"], row["failed_at"]) == (3, None)
    assert "451" in row["last_error"]  # the last refusal stays readable beside the success


async def test_a_recipient_refused_for_good_fails_at_once_and_says_why(mail_database: str, tmp_path: Path) -> None:
    server = FlakyServer()
    with smtp_server(server) as port:
        refused, accepted = await write_mail(mail_database, REFUSED, "partner@bieb.example")
        async with running(relay_for(mail_database, port, tmp_path, max_attempts=8)):

            async def settled() -> dict[UUID, asyncpg.Record] | None:
                found = await rows(mail_database, [refused, accepted])
                done = found[refused]["failed_at"] and found[accepted]["sent_at"]
                return found if done else None

            found = await eventually(settled, what="one message failed for good, the other sent")
    assert found[refused]["attempts"] == 1  # a 5xx is not tried again
    assert "550" in found[refused]["last_error"]
    assert [message["To"] for message in server.received] == ["partner@bieb.example"]


async def test_a_server_that_is_away_is_waited_for_and_the_messages_go_when_it_is_back(
    mail_database: str, tmp_path: Path
) -> None:
    port = free_port()
    ids = await write_mail(mail_database, "a@bieb.example", "b@bieb.example")
    async with running(relay_for(mail_database, port, tmp_path, max_attempts=50)):

        async def tried() -> bool:
            return all(row["attempts"] >= 1 for row in (await rows(mail_database, ids)).values())

        await eventually(tried, what="a try while nobody listens")
        pending = await rows(mail_database, ids)
        server = FlakyServer()
        with smtp_server(server, port):

            async def sent() -> bool:
                return all(row["sent_at"] for row in (await rows(mail_database, ids)).values())

            await eventually(sent, what="the messages sent once the server is back")
    assert all(row["sent_at"] is None and row["failed_at"] is None for row in pending.values())
    assert "ConnectionRefusedError" in next(iter(pending.values()))["last_error"]
    assert sorted(message["To"] for message in server.received) == ["a@bieb.example", "b@bieb.example"]


async def test_two_replicas_share_the_messages_and_send_each_once(mail_database: str, tmp_path: Path) -> None:
    server = FlakyServer()
    with smtp_server(server) as port:
        ids = await write_mail(mail_database, *(f"staff{n}@bieb.example" for n in range(60)))
        started = time.monotonic()
        relays = relay_for(mail_database, port, tmp_path), relay_for(mail_database, port, tmp_path)
        sweeps = Sweeps(*relays)
        async with running(*relays):

            async def all_sent() -> bool:
                return all(row["sent_at"] for row in (await rows(mail_database, ids)).values())

            await eventually(all_sent, timeout=30, what="sixty messages sent by two relays")
            await sweeps.more(2, what="both relays to look twice more")  # and send nothing a second time
        elapsed = time.monotonic() - started
    message_ids = [message["Message-ID"] for message in server.received]
    assert len(message_ids) == 60 and len(set(message_ids)) == 60, elapsed


async def test_sent_and_failed_notices_go_after_the_window_and_pending_ones_stay(mail_database: str) -> None:
    old, sent_new, pending_old, failed_old = await write_mail(
        mail_database, "old@bieb.example", "new@bieb.example", "waiting@bieb.example", "refused@bieb.example"
    )
    now = datetime.now(UTC)
    db = await asyncpg.connect(plain_dsn(mail_database), server_settings={"search_path": "partners"})
    try:
        for mail_id, age, done in (
            (old, 40, "sent_at"),
            (sent_new, 2, "sent_at"),
            (failed_old, 40, "failed_at"),
            (pending_old, 40, None),
        ):
            created = now - timedelta(days=age)
            settled = f", {done} = $2" if done else ""
            await db.execute(f"UPDATE mail_outbox SET created_at = $2{settled} WHERE id = $1", mail_id, created)
    finally:
        await db.close()
    engine = create_engine(mail_database, schema="partners")
    try:
        work = UnitOfWork(session_factory(engine), SystemClock())
        assert await prune_mail(work, timedelta(days=30), batch=1) == 2  # in batches of one, until none is left
    finally:
        await engine.dispose()
    assert set(await rows(mail_database, [old, sent_new, pending_old, failed_old])) == {sent_new, pending_old}
