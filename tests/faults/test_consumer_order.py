"""A replica handles a consumer's events in stream order, even though FastStream fetches them in batches."""

from __future__ import annotations

import asyncio
import random
from pathlib import Path

import asyncpg
import msgspec
import nats
import sqlalchemy as sa
from nats.js.api import StorageType, StreamConfig
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from launcher.embedded import EmbeddedNats
from shared.contracts import Envelope
from shared.service import ServiceRuntime
from shared.unit_of_work import Transaction
from tests.conftest import eventually, telemetry_for
from tests.faults.stack import fault_settings, plain
from tests.faults.test_consumers import EFFECTS, PROBE_STREAM, ProbeHappened, probe
from tests.servers import create_database, drop_database


async def test_events_of_a_batch_are_applied_in_stream_order(tmp_path: Path, postgres_url: str) -> None:
    broker = EmbeddedNats(tmp_path / "nats")
    broker.start()
    nc = await nats.connect(broker.url)
    await nc.jetstream().add_stream(
        StreamConfig(name=PROBE_STREAM, subjects=["events.faultprobe.>"], storage=StorageType.FILE)
    )
    database_url = await create_database(postgres_url)
    migrations = tmp_path / "migrations"
    migrations.mkdir()
    (migrations / "001_applied.sql").write_text(EFFECTS)
    runtime = ServiceRuntime.create(
        "faultprobe",
        fault_settings(broker.url, database_url, tmp_path / "data"),
        migrations,
        telemetry=telemetry_for("faultprobe", InMemorySpanExporter()),
    )

    async def apply(tx: Transaction, envelope: Envelope, event: ProbeHappened) -> None:
        # Uneven handling times: handled side by side, later events would overtake earlier ones.
        await asyncio.sleep(random.uniform(0, 0.01))
        await tx.session.execute(
            sa.text("INSERT INTO applied (event_id, number) VALUES (:id, :n)"), {"id": envelope.id, "n": event.number}
        )

    runtime.consume("probe", ProbeHappened, apply)
    count = 60
    try:
        # Published before the consumer starts, so its first fetches are full batches.
        for number in range(count):
            envelope = probe(number)
            await nc.jetstream().publish(
                "events.faultprobe.probe.happened.v1._._",
                msgspec.json.encode(envelope),
                headers={"Nats-Msg-Id": str(envelope.id)},
            )
        await runtime.start()

        async def order_applied() -> list[int] | None:
            conn = await asyncpg.connect(plain(database_url))
            try:
                rows = await conn.fetch("SELECT number FROM faultprobe.applied ORDER BY at")
            finally:
                await conn.close()
            return [row["number"] for row in rows] if len(rows) == count else None

        assert await eventually(order_applied, what="every event applied") == list(range(count))
    finally:
        await runtime.stop()
        await nc.close()
        broker.stop()
        await drop_database(postgres_url, database_url)


async def test_a_lingering_consumer_applies_events_arriving_close_together_in_one_transaction_in_order(
    tmp_path: Path, postgres_url: str
) -> None:
    """A projection nobody waits on gathers what arrives shortly after a first event into one batch (one
    transaction, its round trips once), still in stream order."""
    broker = EmbeddedNats(tmp_path / "nats")
    broker.start()
    nc = await nats.connect(broker.url)
    await nc.jetstream().add_stream(
        StreamConfig(name=PROBE_STREAM, subjects=["events.faultprobe.>"], storage=StorageType.FILE)
    )
    database_url = await create_database(postgres_url)
    migrations = tmp_path / "migrations"
    migrations.mkdir()
    (migrations / "001_applied.sql").write_text(EFFECTS)
    runtime = ServiceRuntime.create(
        "faultprobe",
        fault_settings(broker.url, database_url, tmp_path / "data"),
        migrations,
        telemetry=telemetry_for("faultprobe", InMemorySpanExporter()),
    )
    transactions: list[int] = []

    async def apply(tx: Transaction, envelope: Envelope, event: ProbeHappened) -> None:
        transactions.append((await tx.session.execute(sa.text("SELECT txid_current()"))).scalar_one())
        await tx.session.execute(
            sa.text("INSERT INTO applied (event_id, number) VALUES (:id, :n)"), {"id": envelope.id, "n": event.number}
        )

    # A linger far longer than the publishing takes, even on a loaded machine: the first event waits for the rest.
    runtime.consume("probe", ProbeHappened, apply, linger_seconds=2.0)
    count = 8
    try:
        await runtime.start()  # before the events: each arrives on its own, a little after the one before
        for number in range(count):
            envelope = probe(number)
            await nc.jetstream().publish(
                "events.faultprobe.probe.happened.v1._._",
                msgspec.json.encode(envelope),
                headers={"Nats-Msg-Id": str(envelope.id)},
            )
            await asyncio.sleep(0.01)

        async def order_applied() -> list[int] | None:
            conn = await asyncpg.connect(plain(database_url))
            try:
                rows = await conn.fetch("SELECT number FROM faultprobe.applied ORDER BY at")
            finally:
                await conn.close()
            return [row["number"] for row in rows] if len(rows) == count else None

        assert await eventually(order_applied, what="every event applied") == list(range(count))
        assert len(transactions) == count and len(set(transactions)) == 1
    finally:
        await runtime.stop()
        await nc.close()
        broker.stop()
        await drop_database(postgres_url, database_url)
