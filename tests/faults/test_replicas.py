"""Two replicas of the referrals service on one database and one NATS: both answer requests (queue group), one
outbox relay publishes (advisory lock) and every event is in the stream once, in the order it was written; when
the active replica stops, the other's relay takes over."""

from __future__ import annotations

import asyncio
import json
from collections import Counter, defaultdict
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import asyncpg
import httpx
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from launcher.embedded import EmbeddedNats
from shared.service import ServiceRuntime
from tests.faults.ledger import Ledger, settle_deliveries, stored_referrals, stream_copies
from tests.faults.stack import (
    FaultTenant,
    fault_settings,
    gateway,
    plain,
    register_tenant,
    start_services,
    stop_services,
)
from tests.fixtures.platform import BUILDERS, telemetry_for
from tests.servers import create_database, drop_database
from tests.waiting import PATIENCE_SECONDS, eventually


def count_publishes(runtime: ServiceRuntime) -> Counter[str]:
    """Acknowledged publishes by event id, of this replica's outbox relay."""
    published: Counter[str] = Counter()
    outlet = runtime.relay.outlet
    put_out = outlet.put_out  # type: ignore[attr-defined]

    def count(rows: Sequence[Any], outcomes: Sequence[BaseException | None]) -> None:
        published.update(str(row["event_id"]) for row, outcome in zip(rows, outcomes, strict=True) if outcome is None)

    async def counted(rows: Sequence[Any], answered: Callable[[], None]) -> asyncio.Future[Any]:
        # The outbox relay puts batches out (shared/relay.py `overlap`): each counted once its acks are in.
        answers = await put_out(rows, answered)
        answers.add_done_callback(lambda done: None if done.cancelled() else count(rows, done.result()))
        return answers

    outlet.put_out = counted  # type: ignore[attr-defined]
    return published


def answered(spans: InMemorySpanExporter) -> int:
    return sum(1 for span in spans.get_finished_spans() if "rpc.referrals.submit" in span.name)


async def can_accept(tenant: FaultTenant) -> bool:
    """Whether this version of the API has the lifecycle's first step (so a referral has more than one event)."""
    async with tenant.client() as api:
        paths = (await api.get("/schema/openapi.json")).json().get("paths", {})
    return "/api/v1/referrals/{referral_id}/accept" in paths


async def submit_and_accept(tenant: FaultTenant, count: int, accept: bool) -> list[str]:
    """Each referral submitted by the partner, then accepted by the library: two events whose transactions may
    run on different replicas, and whose order must hold."""

    async def one(api: httpx.AsyncClient, staff: httpx.AsyncClient) -> str:
        response = await api.post("/api/v1/referrals", json=tenant.referral())
        assert response.status_code == 201, response.text
        referral_id: str = response.json()["id"]
        if accept:
            accepted = await staff.post(f"/api/v1/referrals/{referral_id}/accept", json={})
            assert accepted.status_code == 200, accepted.text
        return referral_id

    async with tenant.client() as api, tenant.client(tenant.staff_token) as staff:
        return list(await asyncio.gather(*(one(api, staff) for _ in range(count))))


async def outbox_order(database_url: str) -> list[tuple[str, str]]:
    """(event id, referral id) of every referral event in the order the outbox wrote them."""
    conn = await asyncpg.connect(plain(database_url))
    try:
        rows = await conn.fetch("SELECT event_id, payload FROM referrals.outbox ORDER BY position")
    finally:
        await conn.close()
    events = [(str(r["event_id"]), json.loads(bytes(r["payload"]))["data"].get("referral_id")) for r in rows]
    return [(event_id, referral_id) for event_id, referral_id in events if referral_id]


def per_referral(events: list[str], referral_of: dict[str, str]) -> dict[str, list[str]]:
    grouped: dict[str, list[str]] = defaultdict(list)
    for event_id in events:
        if event_id in referral_of:
            grouped[referral_of[event_id]].append(event_id)
    return dict(grouped)


async def test_two_replicas_share_requests_relay_once_and_keep_order(tmp_path: Path, postgres_url: str) -> None:
    broker = EmbeddedNats(tmp_path / "nats")
    broker.start()
    database_url = await create_database(postgres_url)
    # The services run in this test's event loop beside its 40 concurrent clients: at a load of 12-14 (a full run
    # beside others' benchmarks) an accept waited more than the product's 5 s and failed the test by 504. The deadline
    # is not under test here; the session platform's (half the tests' own bound on a request) is used.
    settings = fault_settings(broker.url, database_url, tmp_path / "data", rpc_timeout_seconds=PATIENCE_SECONDS / 2)
    services = await start_services(settings, ["partners"])
    spans = {name: InMemorySpanExporter() for name in ("a", "b")}
    replicas = {
        name: BUILDERS["referrals"](settings, telemetry=telemetry_for("referrals", spans[name])) for name in spans
    }
    publishes = {name: count_publishes(runtime) for name, runtime in replicas.items()}
    for runtime in replicas.values():
        await runtime.start()
    ledger = Ledger("two referrals replicas, then the active one stopped")
    try:
        async with gateway(settings) as base_url:
            tenant = await register_tenant(base_url, settings)
            await eventually(lambda: _one_active(replicas), what="one relay to hold the lock and the other to stand by")
            active = next(name for name, runtime in replicas.items() if runtime.relay.active)
            standby = next(name for name in replicas if name != active)
            accept = await can_accept(tenant)
            for exporter in spans.values():
                exporter.clear()
            before = await stored_referrals(database_url)
            first = await submit_and_accept(tenant, 40, accept)
            ledger.notes["answered"] = {name: answered(exporter) for name, exporter in spans.items()}
            await settle_deliveries(Ledger("first half"), database_url, broker.url, set(first))
            written_first = len(await outbox_order(database_url))
            published_first = {name: sum(counter.values()) for name, counter in publishes.items()}

            await replicas[active].stop()
            await eventually(lambda: _active(replicas[standby]), what="the standby relay to take over")
            second = await submit_and_accept(tenant, 20, accept)
            ours = set(first) | set(second)
            ledger.sent = ledger.accepted = len(ours)
            ledger.stored = len(await stored_referrals(database_url) - before)
            await settle_deliveries(ledger, database_url, broker.url, ours)
            written = await outbox_order(database_url)
            copies, in_stream = await stream_copies(broker.url)
            ledger.notes["events_per_referral"] = 2 if accept else 1
            ledger.notes["published"] = {
                "first half": published_first,
                "after the stop": {standby: sum(publishes[standby].values())},
            }
    finally:
        ledger.report()
        for runtime in replicas.values():
            await stop_services([runtime])
        await stop_services(services.values())
        broker.stop()
        await drop_database(postgres_url, database_url)

    assert all(n > 0 for n in ledger.notes["answered"].values()), f"both replicas answer: {ledger.notes['answered']}"
    assert sum(ledger.notes["answered"].values()) == 40
    assert published_first[standby] == 0, "only the relay holding the lock publishes"
    assert published_first[active] >= written_first
    after_stop = [event_id for event_id, _ in written[written_first:]]
    assert len(after_stop) == len(second) * ledger.notes["events_per_referral"]
    assert all(publishes[standby][e] >= 1 for e in after_stop), "the standby's relay took over"
    assert all(n == 1 for n in copies.values()), "every event once in the stream"
    referral_of = dict(written)
    assert sorted(e for e in in_stream if e in referral_of) == sorted(referral_of)
    # Across transactions of different referrals positions may commit out of order; per referral they cannot.
    assert per_referral(in_stream, referral_of) == per_referral([e for e, _ in written], referral_of)
    assert ledger.delivered == ledger.stored == 60 and ledger.lost == 0 and ledger.duplicates == 0


async def _one_active(replicas: dict[str, ServiceRuntime]) -> bool:
    return sum(runtime.relay.active for runtime in replicas.values()) == 1


async def _active(runtime: ServiceRuntime) -> bool:
    return runtime.relay.active
