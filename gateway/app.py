"""The gateway's one wiring point: settings, broker, token issuer, routes, problem details, telemetry."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from litestar import Litestar
from litestar.datastructures import State
from litestar.di import Provide
from litestar.openapi import OpenAPIConfig
from litestar.plugins.opentelemetry import OpenTelemetryConfig, OpenTelemetryPlugin
from litestar.types import Message, Scope
from opentelemetry import trace

from gateway.dependencies import provide_actor, provide_rpc
from gateway.health import health
from gateway.partners import PartnerController, TenantController
from gateway.problems import EXCEPTION_HANDLERS
from gateway.referrals import ReferralController
from shared.messaging import create_broker
from shared.rpc import RpcClient
from shared.settings import Settings
from shared.telemetry import Telemetry, setup_telemetry
from shared.tokens import TokenIssuer


async def add_request_id(message: Message, scope: Scope) -> None:
    """The request id an operator is told is the trace id, so it finds the whole trace in one search."""
    if message["type"] == "http.response.start":
        span_context = trace.get_current_span().get_span_context()
        if span_context.is_valid:
            headers = list(message.get("headers", []))
            headers.append((b"x-request-id", format(span_context.trace_id, "032x").encode()))
            message["headers"] = headers


def create_app(settings: Settings, *, telemetry: Telemetry | None = None) -> Litestar:
    telemetry = telemetry or setup_telemetry("gateway", otlp_endpoint=settings.otel_endpoint)
    broker = create_broker(settings.nats_url, name="gateway", telemetry=telemetry)

    @asynccontextmanager
    async def connect_broker(app: Litestar) -> AsyncIterator[None]:
        await broker.connect()
        try:
            yield
        finally:
            await broker.stop()
            telemetry.shutdown()

    state: dict[str, Any] = {
        "rpc": RpcClient(broker, timeout=settings.rpc_timeout_seconds),
        "issuer": TokenIssuer(settings.jwt_secret),
        "telemetry": telemetry,
    }
    return Litestar(
        route_handlers=[health, ReferralController, PartnerController, TenantController],
        dependencies={
            "actor": Provide(provide_actor, sync_to_thread=False),
            "rpc": Provide(provide_rpc, sync_to_thread=False),
        },
        exception_handlers=EXCEPTION_HANDLERS,
        lifespan=[connect_broker],
        state=State(state),
        before_send=[add_request_id],
        plugins=[
            OpenTelemetryPlugin(
                OpenTelemetryConfig(tracer_provider=telemetry.tracer_provider, meter_provider=telemetry.meter_provider)
            )
        ],
        openapi_config=OpenAPIConfig(
            title="partnernet", version="1.0.0", description="One API over partners, referrals, volunteers and courses"
        ),
        request_max_body_size=1024 * 1024,
    )
