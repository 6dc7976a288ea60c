"""Outages an operator must hear about turn the alert rules' expressions true on the metrics the platform exports.

PostgreSQL and NATS are paused (SIGSTOP: connections stay open and nothing answers, as in a partition), not
stopped. The services and the gateway export OTLP, as in production, to a local receiver; the samples are
turned into Prometheus series the way Prometheus's OTLP receiver does, and each rule of
deploy/observability/alerts is evaluated on them (tests/deploy/promql.py). Before the outages no
availability or backlog alert holds; during each, the ones that name it do; afterwards they clear.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from uuid import UUID

import httpx
import msgspec
import uvicorn
import yaml

from gateway.app import create_app
from launcher.embedded import EmbeddedNats, EmbeddedPostgres, free_port
from services.partners.commands import feeds
from shared.contracts import Envelope
from shared.contracts.referrals.events import Need, ReferralSubmitted
from shared.contracts.vocabulary import SkillArea
from shared.ids import new_id
from shared.outbox import stage_event
from shared.service import ServiceRuntime
from shared.telemetry import Telemetry, setup_telemetry
from tests.deploy.promql import Evaluator, store_from_otlp
from tests.faults.stack import FaultTenant, fault_settings, register_tenant, stop_services
from tests.fixtures.platform import BUILDERS
from tests.servers import paused
from tests.serving import serving
from tests.telemetry.receiver import OtlpReceiver, otlp_receiver
from tests.waiting import eventually

RULES = Path(__file__).resolve().parents[2] / "deploy" / "observability" / "alerts" / "partnernet.rules.yml"
# The alerts about outages and backlogs: none may hold on a healthy platform.
WATCHED = {
    "PartnernetGatewayErrors",
    "PartnernetGatewayTimeouts",
    "PartnernetDependencyDown",
    "PartnernetOutboxBehind",
    "PartnernetFeedBehind",
    "PartnernetWebhooksPilingUp",
    "PartnernetDeadLettersArriving",
}  # not PartnernetServiceWithoutReplicas: only two of the four services run here, and it says so


class MovingClock:
    """The real time, plus however far the test has moved it on (to age a backlog without waiting minutes)."""

    def __init__(self) -> None:
        self.ahead = timedelta()

    def now(self) -> datetime:
        return datetime.now(UTC) + self.ahead


def rules() -> dict[str, str]:
    loaded = yaml.safe_load(RULES.read_text())
    return {rule["alert"]: rule["expr"] for group in loaded["groups"] for rule in group["rules"]}


def holding(receiver: OtlpReceiver) -> dict[str, list[dict[str, str]]]:
    """Each watched rule whose expression holds now, with the labels of every element of its result."""
    evaluator = Evaluator(store_from_otlp(list(receiver.metrics)))
    now = time.time()
    found = {}
    for name, expr in rules().items():
        if name in WATCHED and (result := evaluator.query(expr, at=now)):
            found[name] = [dict(labels) for labels in result]
    return found


@dataclasses.dataclass
class Exporting:
    receiver: OtlpReceiver
    services: dict[str, ServiceRuntime]
    gateway: Telemetry
    app: Any

    async def export(self) -> None:
        """What the periodic poll and export do every 10 and 15 s, now: read the gauges, send everything."""
        await asyncio.gather(
            *(runtime.monitor.poll() for runtime in self.services.values() if runtime.monitor),
            self.app.state.broker_watch.poll(),
        )
        for telemetry in [*(r.telemetry for r in self.services.values()), self.gateway]:
            await asyncio.to_thread(telemetry.meter_provider.force_flush)  # type: ignore[attr-defined]  # the SDK's here


def referral_event(tenant: FaultTenant) -> tuple[ReferralSubmitted, Envelope]:
    data = ReferralSubmitted(
        referral_id=new_id(),
        participant_pseudonym="P-ALERT",
        referring_partner_id=UUID(tenant.partner_id),
        library=tenant.library,
        municipality=tenant.municipality,
        needs=[Need(area=SkillArea.LANGUAGE)],
        submitted_at=datetime.now(UTC),
    )
    envelope = Envelope(
        id=new_id(),
        source="/partnernet/referrals",
        type=data.qualified_type(),
        time=datetime.now(UTC),
        subject=f"{tenant.municipality}/{tenant.library}",
        data=msgspec.to_builtins(data),
        municipality=tenant.municipality,
        library=tenant.library,
    )
    return data, envelope


async def answers(api: httpx.AsyncClient, path: str, times: int = 3) -> list[int]:
    return [(await api.get(path)).status_code for _ in range(times)]


async def test_pausing_postgres_and_nats_turns_the_alerts_that_name_them_true(tmp_path: Path) -> None:
    database, broker = EmbeddedPostgres(tmp_path / "postgres", durable=False), EmbeddedNats(tmp_path / "nats")
    await asyncio.to_thread(database.start)
    broker.start()
    receiving = otlp_receiver()
    receiver = next(receiving)
    clock = MovingClock()
    services: dict[str, ServiceRuntime] = {}
    gateway_server = contextlib.AsyncExitStack()  # once it serves
    try:
        database_url = await asyncio.to_thread(database.ensure_database, "partnernet")
        settings = fault_settings(
            broker.url, database_url, tmp_path / "data", otel_endpoint=receiver.url, rpc_timeout_seconds=1.0
        )
        # As in production: each builds its own telemetry, exporting OTLP to the receiver.
        services = {name: BUILDERS[name](settings, clock=clock) for name in ("partners", "referrals")}
        for runtime in services.values():
            await runtime.start()
        gateway_telemetry = setup_telemetry("gateway", otlp_endpoint=receiver.url)
        app = create_app(settings, telemetry=gateway_telemetry)
        port = free_port()
        await gateway_server.enter_async_context(
            serving(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
        )
        platform = Exporting(receiver, services, gateway_telemetry, app)
        tenant = await register_tenant(f"http://127.0.0.1:{port}", settings)
        async with tenant.client(timeout=15) as api:
            created = await api.post("/api/v1/referrals", json=tenant.referral())
            referral = f"/api/v1/referrals/{created.json()['id']}"
            await platform.export()
            assert await answers(api, referral) == [200, 200, 200]
            await platform.export()
            healthy = holding(receiver)

            with paused(database):
                # Two exports with failures before each, as a sustained outage gives (rate() needs two samples
                # of the 504 series, which the HTTP instrumentation first exports at its first count).
                during_database = await answers(api, referral)
                await platform.export()
                during_database += await answers(api, referral)
                await platform.export()
                database_down = holding(receiver)

            async def readable_again() -> bool:
                return (await api.get(referral)).status_code == 200

            await eventually(readable_again, timeout=30, what="reads once PostgreSQL runs again")
            await platform.export()

            with paused(broker):
                during_nats = await api.get(referral)
                await platform.export()
                await answers(api, referral, times=2)
                # Just before NATS hung, a use case wrote an event and a consumer a feed entry: both wait for it.
                _, envelope = referral_event(tenant)
                async with services["referrals"].unit_of_work.transaction() as tx:
                    await stage_event(
                        tx.session,
                        envelope_data(envelope),
                        clock=clock,
                        municipality=tenant.municipality,
                        library=tenant.library,
                    )
                async with services["partners"].unit_of_work.transaction() as tx:
                    await feeds.project_referral_event(tx, envelope)
                clock.ahead = timedelta(minutes=3)  # they wait: three minutes on the services' clocks
                await platform.export()
                nats_down = holding(receiver)
                clock.ahead = timedelta()

            async def caught_up() -> bool:
                await platform.export()
                return not holding(receiver).keys() & {"PartnernetDependencyDown", "PartnernetOutboxBehind"}

            await eventually(caught_up, timeout=45, what="the dependency and backlog alerts to clear")
            recovered = holding(receiver)
    finally:
        await gateway_server.aclose()  # the gateway stops first
        await stop_services(services.values())
        broker.stop()
        await asyncio.to_thread(database.stop)
        receiving.close()

    assert healthy == {}, f"a healthy platform raises no alert: {healthy}"

    assert set(during_database) == {504}
    assert sorted((a["service"], a["dependency"]) for a in database_down["PartnernetDependencyDown"]) == [
        ("partners", "database"),
        ("referrals", "database"),
    ]
    assert {"PartnernetGatewayErrors", "PartnernetGatewayTimeouts"} <= database_down.keys()

    assert during_nats.status_code == 504 and during_nats.json()["service"] == "nats"
    assert sorted((a["service"], a["dependency"]) for a in nats_down["PartnernetDependencyDown"]) == [
        ("gateway", "nats"),
        ("partners", "nats"),
        ("referrals", "nats"),
    ]
    assert [a["service"] for a in nats_down["PartnernetOutboxBehind"]] == ["referrals"]
    assert [(a["service"], a["queue"]) for a in nats_down["PartnernetFeedBehind"]] == [("partners", "feed")]
    assert {"PartnernetGatewayErrors", "PartnernetGatewayTimeouts"} <= nats_down.keys()

    assert "PartnernetDependencyDown" not in recovered and "PartnernetFeedBehind" not in recovered


def envelope_data(envelope: Envelope) -> ReferralSubmitted:
    return msgspec.convert(envelope.data, ReferralSubmitted)
