"""A platform of a fault test's own, and the ledger every fault test reports.

The session's servers are shared by every test, so a test that stops NATS or PostgreSQL, kills a
service or runs replicas brings its own: an embedded NATS (and, where it restarts the database, an
embedded PostgreSQL), a database, the services it needs in-process (or as processes), and the gateway.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import json
import os
import subprocess
import sys
import time
import uuid
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import msgspec
import nats
import nats.js.errors
from nats.js.api import AckPolicy, ConsumerConfig, DeliverPolicy
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from shared.messaging import event_stream_name
from shared.operations import rpc_subject
from shared.rpc import RpcRequest
from shared.service import ServiceRuntime
from shared.settings import Settings
from shared.tenancy import SYSTEM, Actor, Role
from shared.tokens import TokenIssuer
from tests.conftest import (
    BUILDERS,
    TLS_CONTEXT,
    another_gateway,
    eventually,
    make_settings,
    referral_body,
    telemetry_for,
)

REPO = Path(__file__).resolve().parents[2]
REFERRALS_STREAM = event_stream_name("referrals")
SUBMITTED_SUBJECTS = "events.referrals.referral.submitted.v1.>"
PROBLEM = "application/problem+json"


def fault_settings(nats_url: str, database_url: str, data_dir: Path, **overrides: Any) -> Settings:
    """The tests' settings with a fault test's own changes; a field this version of Settings lacks is skipped."""
    settings = make_settings(nats_url, database_url, data_dir)
    known = {f.name for f in dataclasses.fields(settings)}
    # Fault tests send many requests from one token: the gateway's per-caller limit is not under test.
    overrides.setdefault("rate_limit_per_minute", 1_000_000)
    return dataclasses.replace(settings, **{k: v for k, v in overrides.items() if k in known})


def plain(database_url: str) -> str:
    return database_url.replace("postgresql+asyncpg://", "postgresql://", 1)


async def start_services(
    settings: Settings, names: Iterable[str], spans: InMemorySpanExporter | None = None
) -> dict[str, ServiceRuntime]:
    spans = spans or InMemorySpanExporter()
    services = {name: BUILDERS[name](settings, telemetry=telemetry_for(name, spans)) for name in names}
    for runtime in services.values():
        await runtime.start()
    return services


async def stop_services(services: Iterable[ServiceRuntime]) -> None:
    for runtime in services:
        with contextlib.suppress(Exception):
            await runtime.stop()


# The fault tests' gateway is the suite's: a real one with settings of the test's own.
gateway = another_gateway


@dataclass
class FaultTenant:
    base_url: str
    municipality: str
    library: str
    partner_id: str
    partner_token: str
    staff_token: str
    operator_token: str

    def client(self, token: str | None = None, timeout: float = 15) -> httpx.AsyncClient:
        headers = {"Authorization": f"Bearer {token or self.partner_token}"}
        return httpx.AsyncClient(base_url=self.base_url, headers=headers, timeout=timeout, verify=TLS_CONTEXT)

    def referral(self, **overrides: Any) -> dict[str, Any]:
        return referral_body(self.library, self.partner_id, **overrides)


async def register_tenant(base_url: str, settings: Settings) -> FaultTenant:
    """A municipality, library and referring partner through the API; returns once a referral is accepted."""
    issuer = TokenIssuer(settings.jwt_secret)
    suffix = uuid.uuid4().hex[:8]
    municipality, library = f"fault-{suffix}", f"fault-{suffix}-bieb"
    operator = issuer.issue(Actor(subject="fault-operator", role=Role.OPERATOR))
    headers = {"Authorization": f"Bearer {operator}"}
    async with httpx.AsyncClient(base_url=base_url, headers=headers, timeout=15, verify=TLS_CONTEXT) as api:
        (
            await api.post("/api/v1/municipalities", json={"slug": municipality, "name": "Storingsgem"})
        ).raise_for_status()
        body = {"slug": library, "municipality": municipality, "name": "Storingsbieb"}
        (await api.post("/api/v1/libraries", json=body)).raise_for_status()
        body = {"name": "Sociaal Team", "kind": "referrer", "municipality": municipality}
        partner = await api.post("/api/v1/partners", json=body)
        partner.raise_for_status()
    partner_id = partner.json()["id"]
    tenant = FaultTenant(
        base_url=base_url,
        municipality=municipality,
        library=library,
        partner_id=partner_id,
        partner_token=issuer.issue(
            Actor(subject=f"partner-{suffix}", role=Role.PARTNER, municipality=municipality, partner=partner_id)
        ),
        staff_token=issuer.issue(
            Actor(subject=f"staff-{suffix}", role=Role.STAFF, municipality=municipality, library=library)
        ),
        operator_token=operator,
    )

    operator_header = {"Authorization": f"Bearer {operator}"}

    async def accepted() -> bool:
        async with tenant.client() as api:
            # Referrals need the municipality's agreement (or a partnership), recorded once the partner is known.
            agreement = {"partner_id": partner_id}
            recorded = await api.post("/api/v1/referrals/agreements", json=agreement, headers=operator_header)
            if recorded.status_code not in (201, 409):
                return False
            return (await api.post("/api/v1/referrals", json=tenant.referral())).status_code == 201

    await eventually(accepted, timeout=30, what="the referrals service to learn the tenant")
    return tenant


async def rpc(nats_url: str, service: str, operation: str, body: dict[str, Any], actor: Actor = SYSTEM) -> Any:
    """Call a service without the gateway (for harnesses that run no gateway)."""
    nc = await nats.connect(nats_url)
    try:
        payload = msgspec.json.encode(RpcRequest(actor=actor, body=msgspec.Raw(msgspec.json.encode(body))))
        reply = msgspec.json.decode((await nc.request(rpc_subject(service, operation), payload, timeout=10)).data)
    finally:
        await nc.close()
    if reply.get("error"):
        raise RuntimeError(f"{service}.{operation}: {reply['error']}")
    return reply["result"]


# --- counting: what was sent, accepted, delivered, duplicated, lost ---------------------------------


@dataclass
class Ledger:
    """The counts a fault test prints and asserts. `stored` counts referrals in the database, which may
    exceed `accepted` when a request timed out at the gateway after the service had committed it."""

    name: str
    sent: int = 0
    accepted: int = 0
    refused: int = 0
    stored: int = 0
    delivered: int = 0
    duplicates: int = 0
    lost: int = 0
    statuses: Counter[str] = field(default_factory=Counter)
    notes: dict[str, Any] = field(default_factory=dict)

    def report(self) -> str:
        line = (
            f"[fault] {self.name}: sent={self.sent} accepted={self.accepted} refused={self.refused} "
            f"stored={self.stored} delivered={self.delivered} duplicates={self.duplicates} lost={self.lost}"
        )
        if self.statuses:
            line += f" statuses={dict(sorted(self.statuses.items()))}"
        if self.notes:
            line += " " + " ".join(f"{k}={v}" for k, v in self.notes.items())
        print(line)
        return line


async def submitted_events(database_url: str) -> dict[str, str]:
    """referral id -> event id of its referral.submitted event, from the referrals service's outbox."""
    conn = await asyncpg.connect(plain(database_url))
    try:
        rows = await conn.fetch(
            "SELECT event_id, payload FROM referrals.outbox WHERE event_type LIKE '%referral.submitted%'"
        )
    finally:
        await conn.close()
    return {json.loads(bytes(row["payload"]))["data"]["referral_id"]: str(row["event_id"]) for row in rows}


async def stored_referrals(database_url: str) -> set[str]:
    conn = await asyncpg.connect(plain(database_url))
    try:
        return {str(row["id"]) for row in await conn.fetch("SELECT id FROM referrals.referrals")}
    finally:
        await conn.close()


async def feed_copies(database_url: str) -> Counter[str]:
    """event id -> how many feed entries it made (the partners' feed is what a partner sees)."""
    conn = await asyncpg.connect(plain(database_url))
    try:
        rows = await conn.fetch("SELECT event_id, count(*) AS n FROM partners.feed_entries GROUP BY event_id")
    finally:
        await conn.close()
    return Counter({str(row["event_id"]): row["n"] for row in rows})


async def stream_copies(nats_url: str, stream: str = REFERRALS_STREAM) -> tuple[Counter[str], list[str]]:
    """event id -> copies in the stream, and the event ids in stream order."""
    nc = await nats.connect(nats_url)
    try:
        js = nc.jetstream()
        info = await js.stream_info(stream)
        if not info.state.messages:
            return Counter(), []
        sub = await js.pull_subscribe(
            ">",
            stream=stream,
            config=ConsumerConfig(ack_policy=AckPolicy.NONE, deliver_policy=DeliverPolicy.ALL, inactive_threshold=30),
        )
        order: list[str] = []
        # Just after a fault the cluster may still be moving the stream's or the consumer's leader: a fetch then
        # answers 503 (no responders), and is asked again for a while (a full run failed its count on one).
        settling = time.monotonic() + 30
        while len(order) < info.state.messages:
            try:
                batch = await sub.fetch(500, timeout=2)
            except TimeoutError:
                break
            except nats.js.errors.ServiceUnavailableError:
                if time.monotonic() > settling:
                    raise
                await asyncio.sleep(0.5)
                continue
            order += [json.loads(msg.data).get("id", "") for msg in batch]
        consumer = (await sub.consumer_info()).name
        await sub.unsubscribe()
        await js.delete_consumer(stream, consumer)
        return Counter(order), order
    finally:
        await nc.close()


def subject_matches(pattern: str, subject: str) -> bool:
    want, have = pattern.split("."), subject.split(".")
    for i, token in enumerate(want):
        if token == ">":
            return len(have) > i
        if i >= len(have) or (token != "*" and token != have[i]):
            return False
    return len(want) == len(have)


async def consumers_of(nats_url: str, subject: str, stream: str = REFERRALS_STREAM) -> list[str]:
    """Durable consumers on `stream` that receive `subject` (`<service>-<handler>`): every consumer of the event."""
    nc = await nats.connect(nats_url)
    try:
        found = []
        for info in await nc.jetstream().consumers_info(stream):
            config = info.config
            filters = list(config.filter_subjects or []) or [config.filter_subject or ">"]
            if config.durable_name and any(subject_matches(f, subject) for f in filters):
                found.append(config.durable_name)
        return sorted(found)
    finally:
        await nc.close()


async def inbox_copies(database_url: str, consumer: str) -> Counter[str]:
    """event id -> inbox rows of one consumer (its schema is the service before the dash)."""
    schema = consumer.split("-", 1)[0]
    conn = await asyncpg.connect(plain(database_url))
    try:
        rows = await conn.fetch(f'SELECT event_id FROM "{schema}".inbox WHERE consumer = $1', consumer)
    finally:
        await conn.close()
    return Counter(str(row["event_id"]) for row in rows)


async def shorten_ack_wait(nats_url: str, seconds: float = 2.0, stream: str = REFERRALS_STREAM) -> list[str]:
    """Let the stream's durable consumers redeliver an unacknowledged message after `seconds` instead of 30:
    a handler's commit whose ack was lost (broker gone, process killed) then comes back within the test."""
    nc = await nats.connect(nats_url)
    try:
        js = nc.jetstream()
        changed = []
        for info in await js.consumers_info(stream):
            if info.config.durable_name:
                await js.add_consumer(stream, config=dataclasses.replace(info.config, ack_wait=seconds))
                changed.append(info.config.durable_name)
        return changed
    finally:
        await nc.close()


async def consumers_idle(nats_url: str, stream: str = REFERRALS_STREAM) -> bool:
    nc = await nats.connect(nats_url)
    try:
        return all(
            info.num_pending == 0 and info.num_ack_pending == 0
            for info in await nc.jetstream().consumers_info(stream)
            if info.config.durable_name
        )
    finally:
        await nc.close()


async def settle_deliveries(
    ledger: Ledger, database_url: str, nats_url: str, referral_ids: set[str], *, timeout: float = 30
) -> None:
    """Wait until every referral's event is in the feed, then count copies everywhere: stream, feed, inboxes."""

    async def all_in_feed() -> bool:
        events = await submitted_events(database_url)
        if not referral_ids <= set(events):
            return False
        copies = await feed_copies(database_url)
        return all(copies[events[r]] for r in referral_ids) and await consumers_idle(nats_url)

    with contextlib.suppress(AssertionError):
        await eventually(all_in_feed, timeout=timeout, what="every referral's event in the partner's feed")
    events = await submitted_events(database_url)
    feed = await feed_copies(database_url)
    stream, _ = await stream_copies(nats_url)
    ours = [events[r] for r in referral_ids if r in events]
    ledger.delivered = sum(1 for e in ours if feed[e] >= 1)
    ledger.lost = len(referral_ids) - ledger.delivered
    ledger.duplicates = sum(max(0, feed[e] - 1) for e in ours) + sum(max(0, stream[e] - 1) for e in ours)
    inboxes = {}
    subject = "events.referrals.referral.submitted.v1.municipality.library"
    for consumer in await consumers_of(nats_url, subject):
        rows = await inbox_copies(database_url, consumer)
        inboxes[consumer] = sum(1 for e in ours if rows[e] == 1)
        ledger.duplicates += sum(max(0, rows[e] - 1) for e in ours)
    ledger.notes["inbox"] = inboxes
    ledger.notes["stream_copies"] = sum(stream[e] for e in ours)


# --- a service as a process of its own --------------------------------------------------------------


def service_environment(settings: Settings, log_level: str = "INFO") -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("NATS_", "DATABASE_", "PARTNERNET_", "OTEL_"))}
    env.update(
        {
            "NATS_URL": settings.nats_url,
            "DATABASE_URL": settings.database_url,
            "PARTNERNET_DATA_DIR": str(settings.data_dir),
            "PARTNERNET_JWT_SECRET": settings.jwt_secret,
            "PARTNERNET_ENCRYPTION_KEY": settings.encryption_key,
            "PARTNERNET_PSEUDONYM_KEY": settings.pseudonym_key,
            "PARTNERNET_RELAY_POLL": str(settings.relay_poll_seconds),
            "PARTNERNET_MAX_DELIVERIES": str(settings.consumer_max_deliveries),
            "PARTNERNET_LOG_LEVEL": log_level,
            "PARTNERNET_WEBHOOK_ALLOWED_TARGETS": "127.0.0.1,localhost",
        }
    )
    return env


def start_service_process(name: str, settings: Settings, log_path: Path) -> subprocess.Popen[bytes]:
    log_path.parent.mkdir(parents=True, exist_ok=True)
    with open(log_path, "ab") as log:
        return subprocess.Popen(
            [sys.executable, "-m", f"services.{name}"],
            cwd=REPO,
            env=service_environment(settings),
            stdout=log,
            stderr=subprocess.STDOUT,
        )


async def wait_until_answering(nats_url: str, service: str, process: subprocess.Popen[bytes]) -> None:
    async def answers() -> bool:
        if process.poll() is not None:
            raise AssertionError(f"the {service} process exited with {process.returncode}")
        with contextlib.suppress(Exception):
            await rpc(nats_url, service, "health", {})
            return True
        return False

    # A new Python process imports the whole stack and migrates before it answers: seconds on a quiet machine,
    # more than 30 s measured while other test runs load the 2-core machine (load average 20).
    await eventually(answers, timeout=90, what=f"the {service} process to answer")
