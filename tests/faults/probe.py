"""A consumer of a test's own on a service of its own (`faultprobe`): the consumer mechanism (shared/consumer.py)
on its own, with a test-only event type, an embedded NATS and a database of its own.

    async with probe_service(tmp_path, postgres_url) as probe:
        probe.runtime.consume("probe", ProbeHappened, apply)
        await probe.runtime.start()
        await probe.publish(probe_event(1))
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, ClassVar

import asyncpg
import msgspec
import nats
from nats.js.api import PubAck, StorageType, StreamConfig
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from launcher.embedded import EmbeddedNats
from shared.contracts import Envelope, EventData
from shared.ids import new_id
from shared.messaging import event_stream_name
from shared.service import ServiceRuntime
from tests.faults.stack import fault_settings, plain
from tests.fixtures.platform import telemetry_for
from tests.servers import create_database, drop_database


class ProbeHappened(EventData, frozen=True, kw_only=True):
    """A test-only event type (not in the catalogue): `number` orders them, `poison` marks the bad one."""

    service: ClassVar[str] = "faultprobe"
    type: ClassVar[str] = "probe.happened"
    number: int
    poison: bool = False


PROBE_STREAM = event_stream_name(ProbeHappened.service)
PROBE_SUBJECT = "events.faultprobe.probe.happened.v1._._"
EFFECTS = """CREATE TABLE applied (event_id uuid NOT NULL, number integer NOT NULL,
    at timestamptz NOT NULL DEFAULT clock_timestamp())"""


def probe_event(number: int, *, poison: bool = False) -> Envelope:
    data = ProbeHappened(number=number, poison=poison)
    return Envelope(
        id=new_id(),
        source="/partnernet/faultprobe",
        type=data.qualified_type(),
        time=datetime.now(UTC),
        subject="probe/-",
        data=msgspec.to_builtins(data),
    )


@dataclass
class ProbeService:
    broker: EmbeddedNats
    nc: nats.NATS
    database_url: str
    runtime: ServiceRuntime
    spans: InMemorySpanExporter  # what the service's tracer recorded

    async def publish(self, envelope: Envelope, subject: str = PROBE_SUBJECT) -> PubAck:
        """Publish an event, its id as the message id (as the outbox relay does)."""
        encoded = msgspec.json.encode(envelope)
        return await self.nc.jetstream().publish(subject, encoded, headers={"Nats-Msg-Id": str(envelope.id)})

    async def numbers_in_order(self, count: int) -> list[int] | None:
        """The applied events' numbers in the order they were applied, once all `count` are."""
        conn = await asyncpg.connect(plain(self.database_url))
        try:
            rows = await conn.fetch("SELECT number FROM faultprobe.applied ORDER BY at")
        finally:
            await conn.close()
        return [row["number"] for row in rows] if len(rows) == count else None


@asynccontextmanager
async def probe_service(
    tmp_path: Path, postgres_url: str, effects: str = EFFECTS, **settings: Any
) -> AsyncIterator[ProbeService]:
    """The faultprobe service with the probe stream, `effects` its one migration and `settings` its own; stopped,
    its NATS stopped and its database dropped at the end."""
    broker = EmbeddedNats(tmp_path / "nats")
    broker.start()
    nc = await nats.connect(broker.url)
    database_url = await create_database(postgres_url)
    migrations = tmp_path / "migrations"
    migrations.mkdir()
    (migrations / "001_applied.sql").write_text(effects)
    spans = InMemorySpanExporter()
    runtime = ServiceRuntime.create(
        "faultprobe",
        fault_settings(broker.url, database_url, tmp_path / "data", **settings),
        migrations,
        telemetry=telemetry_for("faultprobe", spans),
    )
    try:
        await nc.jetstream().add_stream(
            StreamConfig(name=PROBE_STREAM, subjects=["events.faultprobe.>"], storage=StorageType.FILE)
        )
        yield ProbeService(broker, nc, database_url, runtime, spans)
    finally:
        await runtime.stop()
        await nc.close()
        broker.stop()
        await drop_database(postgres_url, database_url)
