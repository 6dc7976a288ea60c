"""The outbox relay runs in a thread of its own (shared/relay_thread.py): a service whose event loop is busy with
requests does not hold back what it committed."""

from __future__ import annotations

import time
from datetime import timedelta
from pathlib import Path

import asyncpg
import nats
from nats.js.api import StorageType, StreamConfig
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from launcher.embedded import EmbeddedNats
from shared.service import ServiceRuntime
from tests.conftest import eventually, telemetry_for
from tests.faults.stack import fault_settings, plain
from tests.faults.test_consumers import EFFECTS, PROBE_STREAM, ProbeHappened
from tests.servers import create_database, drop_database

_SECOND = timedelta(seconds=1)


async def test_the_outbox_relay_publishes_while_the_services_event_loop_is_busy(
    tmp_path: Path, postgres_url: str
) -> None:
    broker = EmbeddedNats(tmp_path / "nats")
    broker.start()
    nc = await nats.connect(broker.url)
    js = nc.jetstream()
    await js.add_stream(StreamConfig(name=PROBE_STREAM, subjects=["events.faultprobe.>"], storage=StorageType.FILE))
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
    db = await asyncpg.connect(plain(database_url), server_settings={"search_path": "faultprobe"})
    try:
        await runtime.start()
        await eventually(lambda: _true(runtime.relay.active), what="the relay to hold its lock")
        async with runtime.unit_of_work.transaction() as tx:
            for number in range(5):
                await tx.stage(ProbeHappened(number=number), municipality=None, library=None)
        committed = await db.fetchval("SELECT now()")
        # A request that keeps the service's event loop for three seconds (sleeping lets the GIL go, as Python
        # code does every switch interval): on that loop, the relay could not run before it ended.
        time.sleep(3.0)  # noqa: ASYNC251 - blocking the loop is what this test does
        sent = await db.fetch("SELECT sent_at FROM outbox ORDER BY position")
        assert len(sent) == 5 and all(row["sent_at"] is not None for row in sent), "every event sent meanwhile"
        assert max(row["sent_at"] for row in sent) - committed < (3.0 - 1.0) * _SECOND, "not after the loop was free"
        assert (await js.stream_info(PROBE_STREAM)).state.messages == 5
    finally:
        await runtime.stop()
        await db.close()
        await nc.close()
        broker.stop()
        await drop_database(postgres_url, database_url)


async def _true(value: bool) -> bool | None:
    return value or None
