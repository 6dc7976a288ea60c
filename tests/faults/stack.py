"""A platform of a fault test's own (the ledger it reports is tests/faults/ledger.py).

The session's servers are shared by every test, so a test that stops NATS or PostgreSQL, kills a
service or runs replicas brings its own: an embedded NATS (and, where it restarts the database, an
embedded PostgreSQL), a database, the services it needs in-process (or as processes), and the gateway.
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
import subprocess
import sys
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import msgspec
import nats
import nats.js.errors
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from shared.messaging import event_stream_name
from shared.operations import rpc_subject
from shared.rpc import RpcRequest
from shared.service import ServiceRuntime
from shared.settings import Settings
from shared.tenancy import SYSTEM, Actor, Role
from shared.tokens import TokenIssuer
from tests.fixtures.platform import BUILDERS, TLS_CONTEXT, another_gateway, make_settings, telemetry_for
from tests.referral_bodies import referral_body
from tests.waiting import eventually

REPO = Path(__file__).resolve().parents[2]
REFERRALS_STREAM = event_stream_name("referrals")
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
