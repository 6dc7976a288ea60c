"""A real export: the four services and the gateway, built as in production, send OTLP to a local receiver.

One scenario, run once per test session and kept as data: register a tenant and a webhook of its partner,
submit a referral over HTTP, let the partners service consume it and deliver it to the webhook, poison one
consumer, then flush and stop everything. The
OTLP tests (tests/telemetry) and the check that dashboards and alerts only use exported metrics
(tests/deploy) both read what arrived.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import nats
import uvicorn

from gateway.app import create_app
from launcher.embedded import EmbeddedNats, free_port
from shared.messaging import DEAD_LETTER_STREAM, event_stream_name
from shared.service import ServiceRuntime
from shared.telemetry import Telemetry, setup_telemetry
from shared.tokens import TokenIssuer
from tests.fixtures.platform import BUILDERS, RunningPlatform, make_settings
from tests.fixtures.tenants import Tenant, register_tenant
from tests.fixtures.webhooks import accepting_endpoint
from tests.referral_bodies import referral_body
from tests.servers import create_database, drop_database
from tests.serving import serving
from tests.telemetry.receiver import OtlpReceiver, ReceivedMetric, ReceivedSpan, otlp_receiver
from tests.waiting import eventually

PROBED_SERVICE = "referrals"
# What the scenario sends that is personal data: none of it may appear in any exported attribute.
PERSONAL_DATA = ("Fatima", "El Amrani", "0612345678", "1984-03-02", "Jan de Consulent", "jan@werkplein.example")


@dataclass(frozen=True)
class Export:
    spans: list[ReceivedSpan]
    metrics: list[ReceivedMetric]
    requests: list[tuple[str, str]]
    tenant: Tenant
    referral: dict[str, Any]
    trace_id: str
    probes: dict[str, int]  # "<component> <path>" -> HTTP status

    def trace(self) -> list[ReceivedSpan]:
        return [span for span in self.spans if span.trace_id == self.trace_id]

    def metric_names(self) -> set[str]:
        return {metric.name for metric in self.metrics}

    def points(self, name: str) -> list[dict[str, Any]]:
        return [point for metric in self.metrics if metric.name == name for point in metric.points]


_collected: Export | None = None


async def collected_export(postgres_url: str, workdir: Path) -> Export:
    """The scenario's export, collected on first use."""
    global _collected
    if _collected is None:
        _collected = await _collect(postgres_url, workdir)
    return _collected


async def _collect(postgres_url: str, workdir: Path) -> Export:
    generator = otlp_receiver()
    receiver = next(generator)
    broker_server = EmbeddedNats(workdir / "nats-otlp")  # our own: the session's platform answers on its NATS
    services: dict[str, ServiceRuntime] = {}
    gateway_server = contextlib.AsyncExitStack()  # once it serves
    database_url: str | None = None
    endpoint = accepting_endpoint()
    webhook_url = await endpoint.__aenter__()
    try:
        # Inside the try: a failure while setting up must still stop the broker (no stray nats-server).
        broker_server.start()
        database_url = await create_database(postgres_url)
        settings = dataclasses.replace(
            # An SMTP server named, so the mail relay runs and exports its counters (nobody here chose notices:
            # no message is written, and nobody needs to listen on the port).
            make_settings(broker_server.url, database_url, workdir / "data-otlp", smtp_port=free_port()),
            otel_endpoint=receiver.url,
        )
        service_probe, gateway_probe = free_port(), free_port()
        for name, build in BUILDERS.items():
            own = dataclasses.replace(settings, probe_port=service_probe if name == PROBED_SERVICE else None)
            services[name] = build(own)  # no telemetry given: the production path, OTLP to the receiver
        for runtime in services.values():
            await runtime.start()
        gateway_telemetry = setup_telemetry("gateway", otlp_endpoint=receiver.url)
        port = free_port()
        app = create_app(dataclasses.replace(settings, probe_port=gateway_probe), telemetry=gateway_telemetry)
        config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="on")
        await gateway_server.enter_async_context(serving(config))
        platform = RunningPlatform(f"http://127.0.0.1:{port}", settings, services, TokenIssuer(settings.jwt_secret))
        tenant = await register_tenant(platform)
        async with platform.client(tenant.partner_a_token) as api:
            hook = await api.post(
                f"/api/v1/partners/{tenant.partner_a}/webhooks", json={"url": webhook_url, "event_types": ["*"]}
            )
            hook.raise_for_status()
            response = await api.post("/api/v1/referrals", json=referral_body(tenant.library_a, tenant.partner_a))
        response.raise_for_status()
        trace_id = response.headers["x-request-id"]
        telemetries = [runtime.telemetry for runtime in services.values()] + [gateway_telemetry]
        await _until_trace_reaches(receiver, telemetries, trace_id, {"partnernet-gateway", "partnernet-partners"})
        await _until_span_in_trace(receiver, telemetries, trace_id, "webhook delivery ")
        await _poison_a_consumer(broker_server.url)
        probes = await _probe({"service": service_probe, "gateway": gateway_probe})
        for runtime in services.values():
            assert runtime.monitor is not None
            await runtime.monitor.poll()
        await _flush(telemetries)
        outcome = (tenant, response.json(), trace_id, probes)
    finally:
        await gateway_server.aclose()  # the gateway stops first
        for runtime in services.values():
            await runtime.stop()  # shuts its providers down: what is left is exported now
        broker_server.stop()
        await endpoint.__aexit__(None, None, None)
        if database_url is not None:
            await drop_database(postgres_url, database_url)
        spans, metrics, requests = receiver.spans(), receiver.received_metrics(), list(receiver.requests)
        generator.close()
    tenant, referral, trace_id, probes = outcome
    return Export(spans, metrics, requests, tenant, referral, trace_id, probes)


async def _flush(telemetries: list[Telemetry]) -> None:
    for telemetry in telemetries:
        await asyncio.to_thread(telemetry.tracer_provider.force_flush)
        await asyncio.to_thread(telemetry.meter_provider.force_flush)  # type: ignore[attr-defined]  # the SDK's here


async def _flush_spans(telemetries: list[Telemetry]) -> None:
    for telemetry in telemetries:
        await asyncio.to_thread(telemetry.tracer_provider.force_flush)


async def _until_trace_reaches(
    receiver: OtlpReceiver, telemetries: list[Telemetry], trace_id: str, services: set[str]
) -> None:
    async def reached() -> bool:
        await _flush_spans(telemetries)
        return services <= {span.service for span in receiver.spans() if span.trace_id == trace_id}

    await eventually(reached, timeout=20, what=f"the trace {trace_id} to reach {services} over OTLP")


async def _until_span_in_trace(
    receiver: OtlpReceiver, telemetries: list[Telemetry], trace_id: str, prefix: str
) -> None:
    async def arrived() -> bool:
        await _flush_spans(telemetries)
        return any(span.trace_id == trace_id and span.name.startswith(prefix) for span in receiver.spans())

    await eventually(arrived, timeout=20, what=f"a span {prefix!r}… in the trace {trace_id} over OTLP")


async def _poison_a_consumer(nats_url: str) -> None:
    """An undecodable library.registered event: a consumer of it sets it aside at once."""
    nc = await nats.connect(nats_url)
    try:
        js = nc.jetstream()
        await js.publish(
            "events.partners.library.registered.v1.poison.poison", b"not json", stream=event_stream_name("partners")
        )

        async def dead_lettered() -> bool:
            return (await js.stream_info(DEAD_LETTER_STREAM)).state.messages > 0

        await eventually(dead_lettered, what="the poison message in the dead letters")
    finally:
        await nc.close()


async def _probe(ports: dict[str, int]) -> dict[str, int]:
    statuses: dict[str, int] = {}
    async with httpx.AsyncClient(timeout=5) as client:
        for component, port in ports.items():
            for path in ("/livez", "/readyz", "/elsewhere"):
                statuses[f"{component} {path}"] = (await client.get(f"http://127.0.0.1:{port}{path}")).status_code
    return statuses
