"""The gateway's one wiring point: settings, broker, token issuer, routes, problem details, telemetry.

Every request passes, in order: authentication (the caller from a token or API key), the rate limit per
caller, `Idempotency-Key` for POSTs, the API key scope guard, then the route; `add_etag` marks versioned
answers, and `add_request_id` / `log_request` give every response the trace id and a log line with it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from litestar import Litestar
from litestar.datastructures import State
from litestar.di import Provide
from litestar.logging.config import LoggingConfig
from litestar.plugins.opentelemetry import OpenTelemetryConfig, OpenTelemetryPlugin
from litestar.types import Message, Scope
from nats.aio.client import Client as Nats
from opentelemetry import trace

from gateway.api_keys import ApiKeyController
from gateway.asyncapi import asyncapi_json, asyncapi_page
from gateway.auth import ApiKeyCache, AuthenticationMiddleware, Authenticator, require_api_key_scope
from gateway.console import console_router
from gateway.courses import COURSE_CONTROLLERS
from gateway.dependencies import add_etag, app_expected_version, provide_actor, provide_caller, provide_rpc
from gateway.docs import complete_openapi, docs_router, openapi_config
from gateway.health import health
from gateway.idempotency import IdempotencyBucket, IdempotencyMiddleware
from gateway.live import LiveController
from gateway.overview import OverviewController
from gateway.participant import PARTICIPANT_CONTROLLERS
from gateway.partners import PartnerController, TenantController
from gateway.partnerships import PartnershipController
from gateway.problems import EXCEPTION_HANDLERS
from gateway.purchases import PURCHASING_CONTROLLERS
from gateway.ratelimit import rate_limit
from gateway.referrals import ReferralStepController, referral_routes
from gateway.subscriptions import WebhookController
from gateway.volunteers import VOLUNTEER_CONTROLLERS
from shared.messaging import connect_nats
from shared.metrics import BrokerWatch, observe_instance
from shared.probes import nats_ready, probe_lifespan
from shared.rpc import RpcClient
from shared.settings import Settings
from shared.telemetry import EdgeTracer, Telemetry, http_span_details, record_route, setup_telemetry
from shared.tokens import ClaimNames, OidcVerifier, TokenIssuer

access_log = logging.getLogger("gateway.access")


async def add_request_id(message: Message, scope: Scope) -> None:
    """The request id an operator is told is the trace id, so it finds the whole trace in one search."""
    if message["type"] == "http.response.start":
        span_context = trace.get_current_span().get_span_context()
        if span_context.is_valid:
            headers = list(message.get("headers", []))
            headers.append((b"x-request-id", format(span_context.trace_id, "032x").encode()))
            message["headers"] = headers


# Where a request started (time.perf_counter()), put in its scope when its HTTP span starts.
STARTED = "partnernet.started"


def mark_start(span: Any, scope: Any) -> None:
    """The HTTP span's request hook: remember when the request began, for the access log's duration."""
    scope[STARTED] = time.perf_counter()


def access_log_level(status: int) -> int:
    """5xx is an operator's business: a fault of ours is an error; a dependency that did not answer a warning."""
    if status in (502, 503, 504):
        return logging.WARNING
    return logging.ERROR if status >= 500 else logging.INFO


async def log_request(message: Message, scope: Scope) -> None:
    """One line per answered request, written while its span is current: the log carries the request id.

    The route template, not the path: a path holds ids and a participant's personal code (`/p/<code>`).
    """
    if message["type"] == "http.response.start":
        status = message["status"]
        method, route = scope.get("method", "-"), scope.get("path_template") or "-"
        started = scope.get(STARTED)
        fields: dict[str, Any] = {"method": method, "route": route, "status": status}
        if isinstance(started, float):
            fields["duration_ms"] = round((time.perf_counter() - started) * 1000, 1)
        access_log.log(access_log_level(status), "%s %s %s", method, route, status, extra=fields)


def oidc_verifier(settings: Settings) -> OidcVerifier | None:
    if not settings.oidc_issuer:
        return None
    return OidcVerifier(
        issuer=settings.oidc_issuer,
        audience=settings.oidc_audience or "",
        jwks_url=settings.oidc_jwks_url,
        claims=ClaimNames(
            role=settings.oidc_role_claim,
            municipality=settings.oidc_municipality_claim,
            library=settings.oidc_library_claim,
            partner=settings.oidc_partner_claim,
        ),
    )


def create_app(settings: Settings, *, telemetry: Telemetry | None = None) -> Litestar:
    telemetry = telemetry or setup_telemetry("gateway", otlp_endpoint=settings.otel_endpoint)
    observe_instance(telemetry.meter("partnernet.gateway"), "gateway")
    nats = Nats()

    broker_watch = BrokerWatch(telemetry.meter("partnernet.gateway"), nats)

    @asynccontextmanager
    async def connect_broker(app: Litestar) -> AsyncIterator[None]:
        await connect_nats(nats, settings.nats_url, name="gateway")
        await idempotency.open(nats.jetstream(), replicas=settings.stream_replicas)
        watching = asyncio.create_task(broker_watch.run(), name="gateway-broker-watch")
        try:
            yield
        finally:
            watching.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await watching
            await nats.close()  # uvicorn has answered every request by now
            telemetry.shutdown()

    rpc = RpcClient(nats, timeout=settings.rpc_timeout_seconds, tracer=telemetry.tracer("partnernet.rpc"))
    issuer = TokenIssuer(settings.jwt_secret)
    authenticator = Authenticator(
        issuer=issuer,
        oidc=oidc_verifier(settings),
        rpc=rpc,
        api_keys=ApiKeyCache(settings.api_key_cache_seconds),
    )
    idempotency = IdempotencyBucket()
    state: dict[str, Any] = {
        "rpc": rpc,
        "issuer": issuer,
        "telemetry": telemetry,
        "nats": nats,
        "authenticator": authenticator,
        "broker_watch": broker_watch,
    }
    return Litestar(
        route_handlers=[
            health,
            referral_routes,
            ReferralStepController,
            *VOLUNTEER_CONTROLLERS,
            *COURSE_CONTROLLERS,
            *PURCHASING_CONTROLLERS,
            PartnerController,
            TenantController,
            PartnershipController,
            WebhookController,
            ApiKeyController,
            OverviewController,
            LiveController,
            *PARTICIPANT_CONTROLLERS,
            asyncapi_json,
            asyncapi_page,
            docs_router(),
            console_router(),
        ],
        dependencies={
            "actor": Provide(provide_actor, sync_to_thread=False),
            "rpc": Provide(provide_rpc, sync_to_thread=False),
            "caller": Provide(provide_caller, sync_to_thread=False),
            "if_match_version": Provide(app_expected_version, sync_to_thread=False),
        },
        middleware=[
            AuthenticationMiddleware(authenticator),
            rate_limit(settings.rate_limit_per_minute).middleware,
            IdempotencyMiddleware(
                idempotency,
                secret=settings.jwt_secret,
                max_body_bytes=settings.max_body_bytes,
                wait_seconds=settings.rpc_timeout_seconds + 1,
            ),
        ],
        guards=[require_api_key_scope],
        after_request=add_etag,
        on_startup=[complete_openapi],
        exception_handlers=EXCEPTION_HANDLERS,
        lifespan=[connect_broker, probe_lifespan(settings.probe_port, nats_ready(lambda: nats))],
        state=State(state),
        before_send=[add_request_id, record_route, log_request],
        plugins=[
            OpenTelemetryPlugin(
                OpenTelemetryConfig(
                    tracer=EdgeTracer(telemetry.tracer("opentelemetry.instrumentation.asgi")),
                    meter_provider=telemetry.meter_provider,
                    scope_span_details_extractor=http_span_details,
                    server_request_hook_handler=mark_start,
                    # A span per ASGI message named after the raw path is cost and noise; the HTTP span has it all.
                    exclude_spans=["receive", "send"],
                )
            )
        ],
        openapi_config=openapi_config(),
        request_max_body_size=settings.max_body_bytes,
        # The root logger stays ours (JSON lines); Litestar's own logger propagates to it.
        logging_config=LoggingConfig(
            configure_root_logger=False, loggers={"litestar": {"level": "INFO", "propagate": True}}
        ),
    )
