"""Traces an operator can rely on: our own trace per request whatever the caller sends, stable span names,
and failed event handling as ERROR spans that carry the tenant and the event."""

from __future__ import annotations

import re
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import ClassVar

import msgspec
import nats
import pytest
from nats.js.api import StorageType, StreamConfig
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import StatusCode

from launcher.embedded import EmbeddedNats
from shared.contracts import Envelope, EventData
from shared.ids import new_id
from shared.messaging import event_stream_name
from shared.service import ServiceRuntime
from shared.telemetry import stable_subject
from shared.unit_of_work import Transaction
from tests.faults.stack import fault_settings
from tests.fixtures.platform import RunningPlatform, telemetry_for
from tests.fixtures.tenants import Tenant
from tests.referral_bodies import referral_body
from tests.servers import create_database, drop_database
from tests.waiting import eventually

# What makes a span name unstable: an id, a reply inbox, a tenant slug, a participant's code.
# The partners service's consumer of the submission (its span named by the stable subject, shared/consumer.py).
CONSUMED = "events.referrals.referral.submitted.v1 process"
UNSTABLE = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}|_INBOX|gem-|bieb-|/p/[A-Z0-9]{4}-[A-Z0-9]{4}")


def spans_of_trace(spans: InMemorySpanExporter, trace_id: str) -> list[ReadableSpan]:
    return [s for s in spans.get_finished_spans() if format(s.context.trace_id, "032x") == trace_id]


@pytest.mark.parametrize("flags", ["00", "01"])
async def test_a_callers_traceparent_starts_a_trace_of_our_own_linked_to_theirs(
    platform: RunningPlatform, tenant: Tenant, spans: InMemorySpanExporter, flags: str
) -> None:
    caller_trace, caller_span = uuid.uuid4().hex, uuid.uuid4().hex[:16]
    async with platform.client(tenant.partner_a_token) as api:
        response = await api.post(
            "/api/v1/referrals",
            json=referral_body(tenant.library_a, tenant.partner_a),
            headers={"traceparent": f"00-{caller_trace}-{caller_span}-{flags}"},
        )
    assert response.status_code == 201, response.text
    request_id = response.headers["x-request-id"]
    assert request_id != caller_trace, "the caller does not choose our trace id"

    async def recorded() -> list[ReadableSpan]:
        found = spans_of_trace(spans, request_id)
        return found if {"partnernet-gateway", "partnernet-referrals"} <= services_of(found) else []

    # The sampled flag 00 switches nothing off: the request id names a trace that exists, down to the service.
    trace = await eventually(recorded, what="the request's trace, recorded")
    (http,) = [s for s in trace if s.name == "POST /api/v1/referrals"]
    assert http.parent is None, "a root of our own"
    assert [(format(link.context.trace_id, "032x"), format(link.context.span_id, "016x")) for link in http.links] == [
        (caller_trace, caller_span)
    ]
    assert not spans_of_trace(spans, caller_trace), "nothing of ours is grafted into the caller's trace"


def services_of(spans: list[ReadableSpan]) -> set[str]:
    return {str(s.resource.attributes.get("service.name")) for s in spans}


async def test_span_names_are_route_templates_and_stable_names(
    platform: RunningPlatform, tenant: Tenant, spans: InMemorySpanExporter
) -> None:
    async with platform.client(tenant.partner_a_token) as api:
        created = await api.post("/api/v1/referrals", json=referral_body(tenant.library_a, tenant.partner_a))
        created.raise_for_status()
        referral = created.json()["id"]
        read = await api.get(f"/api/v1/referrals/{referral}?note=Fatima")
        feed = await api.get(f"/api/v1/partners/{tenant.partner_a}/feed")
        missing = await api.get(f"/api/v1/no-such-thing/{referral}")
        code = await api.get("/p/ABCD-EFGH-1234")
    assert read.status_code == 200 and feed.status_code == 200 and missing.status_code == 404 and code.status_code < 500
    trace_ids = {r.headers["x-request-id"] for r in (created, read, feed, missing, code)}

    async def traced() -> list[ReadableSpan]:
        found = [s for s in spans.get_finished_spans() if format(s.context.trace_id, "032x") in trace_ids]
        # The consumer's span, not any of the partners service's: the feed's read has some of its own at once.
        consumed = any(s.name == CONSUMED for s in found if "partnernet-partners" in services_of([s]))
        return found if consumed else []

    ours = await eventually(traced, what="the requests' traces down to the partners service's consumer")
    names = {span.name for span in ours}
    assert "GET /api/v1/referrals/{referral_id}" in names
    assert "rpc.referrals.get process" in names
    assert "rpc.referrals.get request" in names, names  # the gateway's side of the call, named by its subject
    # The partner's read runs on a direct connection (shared/db.py), not through SQLAlchemy: the referral, its
    # history and the partner's standing in one statement (and the access log's row where the person is shown).
    read_trace = [s for s in ours if format(s.context.trace_id, "032x") == read.headers["x-request-id"]]
    (process,) = [s for s in read_trace if s.name == "rpc.referrals.get process"]
    (select,) = [s for s in read_trace if s.name == "SELECT referral as partner"]
    assert select.parent is not None and select.parent.span_id == process.context.span_id
    statements = [s.name for s in read_trace if (s.attributes or {}).get("db.system") == "postgresql"]
    assert set(statements) <= {"SELECT referral as partner", "INSERT personal_data_reads"}, statements
    # So does the partner's feed: how far every position is settled, then the partner and the page in one statement
    # (a snapshot taken after the first: partners' migration 017).
    feed_trace = [s for s in ours if format(s.context.trace_id, "032x") == feed.headers["x-request-id"]]
    feed_statements = [s.name for s in feed_trace if (s.attributes or {}).get("db.system") == "postgresql"]
    assert feed_statements == ["SELECT feed_settled_through", "SELECT feed_entries"], feed_statements
    assert CONSUMED in names, names
    assert [name for name in names if UNSTABLE.search(name)] == []
    http = [s for s in ours if (s.attributes or {}).get("http.method")]
    for span in http:
        attributes = span.attributes or {}
        assert referral not in str(attributes.get("http.target")) and "Fatima" not in str(attributes.get("http.url"))
        assert "ABCD-EFGH" not in " ".join(str(v) for v in attributes.values())
    # Every span name ever exported by the session's platform: none carries an id, an inbox or a tenant.
    everything = {span.name for span in spans.get_finished_spans()}
    assert [name for name in everything if UNSTABLE.search(name)] == []


@pytest.mark.parametrize(
    ("subject", "stable"),
    [
        ("_INBOX.Xb3c9.7", "(temporary)"),
        ("events.referrals.referral.submitted.v1.gem-a.bieb-a", "events.referrals.referral.submitted.v1"),
        ("events.partners.library.registered.v1._._", "events.partners.library.registered.v1"),
        ("feeds.0193e2f4-0000-7000-8000-000000000000", "feeds"),
        ("rpc.referrals.get", "rpc.referrals.get"),
        ("deadletter.partners-feed", "deadletter.partners-feed"),
    ],
)
def test_a_subject_becomes_a_stable_name(subject: str, stable: str) -> None:
    assert stable_subject(subject) == stable


class TraceProbe(EventData, frozen=True, kw_only=True):
    """A test-only event (not in the catalogue) whose handler fails when `poison` is set."""

    service: ClassVar[str] = "traceprobe"
    type: ClassVar[str] = "probe.traced"
    poison: bool = False


async def test_a_failed_handling_is_an_error_span_with_the_tenant_and_the_event(
    tmp_path: Path, postgres_url: str
) -> None:
    broker = EmbeddedNats(tmp_path / "nats")
    broker.start()
    database_url = await create_database(postgres_url)
    migrations = tmp_path / "migrations"
    migrations.mkdir()
    (migrations / "001_nothing.sql").write_text("CREATE TABLE nothing (id int)")
    exporter = InMemorySpanExporter()
    settings = fault_settings(broker.url, database_url, tmp_path / "data", consumer_max_deliveries=2)
    runtime = ServiceRuntime.create("traceprobe", settings, migrations, telemetry=telemetry_for("traceprobe", exporter))

    async def apply(tx: Transaction, envelope: Envelope, event: TraceProbe) -> None:
        if event.poison:
            raise RuntimeError("cannot apply this one")

    runtime.consume("probe", TraceProbe, apply)
    nc = await nats.connect(broker.url)
    try:
        stream = event_stream_name("traceprobe")
        await nc.jetstream().add_stream(
            StreamConfig(name=stream, subjects=["events.traceprobe.>"], storage=StorageType.FILE)
        )
        await runtime.start()
        data = TraceProbe(poison=True)
        envelope = Envelope(
            id=new_id(),
            source="/partnernet/traceprobe",
            type=data.qualified_type(),
            time=datetime.now(UTC),
            subject="gem-x/bieb-x",
            data=msgspec.to_builtins(data),
            municipality="gem-x",
            library="bieb-x",
        )
        await nc.jetstream().publish(
            "events.traceprobe.probe.traced.v1.gem-x.bieb-x", msgspec.json.encode(envelope), stream=stream
        )
        await nc.jetstream().publish("events.traceprobe.probe.traced.v1.gem-y.bieb-y", b"not json", stream=stream)

        def failed() -> list[ReadableSpan]:
            return [s for s in exporter.get_finished_spans() if s.status.status_code is StatusCode.ERROR]

        async def both_dead_lettered() -> list[ReadableSpan]:
            found = failed()
            dead = [s for s in found if "dead-lettered" in (s.status.description or "")]
            return found if len(dead) == 2 else []

        errors = await eventually(both_dead_lettered, timeout=30, what="ERROR spans up to both dead letters")
    finally:
        await runtime.stop()
        await nc.close()
        broker.stop()
        await drop_database(postgres_url, database_url)

    tried = [s for s in errors if (s.attributes or {}).get("partnernet.event_type") == TraceProbe.qualified_type()]
    assert len(tried) == 2, "the try that is retried and the one that is given up: both ERROR"
    for span in tried:
        attributes = span.attributes or {}
        assert attributes["partnernet.library"] == "bieb-x" and attributes["partnernet.municipality"] == "gem-x"
        assert [event.name for event in span.events].count("exception") == 1
        assert span.name == "events.traceprobe.probe.traced.v1 process"
    (undecodable,) = [s for s in errors if (s.attributes or {}).get("partnernet.library") == "bieb-y"]
    assert "undecodable" in (undecodable.status.description or "")
