"""The gateway's one wiring point: settings, broker, token issuer, routes, problem details, telemetry.

Every request makes one pass through `RequestMiddleware` (gateway/middleware.py): its span and request id,
the caller (a token or API key), the rate limit per caller, `Idempotency-Key` where one is sent, the access
log line and the HTTP metrics; then the API key scope guard and the route. `add_etag` marks versioned answers.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from litestar import Litestar
from litestar.datastructures import State
from litestar.di import Provide
from litestar.logging.config import LoggingConfig
from nats.aio.client import Client as Nats

from gateway.api_keys import api_key_routes
from gateway.asyncapi import asyncapi_json, asyncapi_page
from gateway.auth import ApiKeyCache, Authenticator, require_api_key_scope
from gateway.calendar import CALENDAR_CONTROLLERS
from gateway.calendar.views import SIGN_UPS_STATE_KEY
from gateway.console import console_router
from gateway.courses import COURSE_CONTROLLERS
from gateway.dependencies import add_etag, app_expected_version, provide_actor, provide_caller, provide_rpc
from gateway.docs import complete_openapi, docs_router, openapi_config
from gateway.fast_reads import FastReads
from gateway.fast_writes import FastWrites
from gateway.health import health
from gateway.hsds import OPEN_DATA_CONTROLLERS
from gateway.idempotency import IdempotencyBucket, IdempotencyMiddleware
from gateway.index import api_index, root
from gateway.live import LiveController
from gateway.middleware import RateLimiter, RequestMiddleware
from gateway.notices import notice_routes
from gateway.overview import OverviewController
from gateway.participant import PARTICIPANT_CONTROLLERS, CodeAttempts
from gateway.partners import partner_routes, tenant_routes
from gateway.partnerships import partnership_routes
from gateway.problems import EXCEPTION_HANDLERS
from gateway.purchases import PURCHASING_CONTROLLERS
from gateway.referrals import referral_routes
from gateway.reports import AnnualReportController
from gateway.stream_guard import REVOCATIONS, LiveStreams, revocation_handler
from gateway.subscriptions import webhook_routes
from gateway.templates import TEMPLATE_CONFIG
from gateway.volunteers import VOLUNTEER_CONTROLLERS
from shared.messaging import connect_nats, while_jetstream_settles
from shared.metrics import BrokerWatch, observe_instance
from shared.probes import nats_ready, probe_lifespan
from shared.rpc import RpcClient
from shared.settings import Settings
from shared.telemetry import Telemetry, setup_telemetry
from shared.tokens import ClaimNames, OidcVerifier, TokenIssuer


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
        await while_jetstream_settles(
            lambda: idempotency.open(nats.jetstream(), replicas=settings.stream_replicas),
            "opening the idempotency bucket",
        )
        await nats.subscribe(REVOCATIONS, cb=revocation_handler(live_streams))
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
    idempotency = IdempotencyBucket(connection=nats)
    live_streams = LiveStreams(authenticator, settings.stream_recheck_seconds)
    state: dict[str, Any] = {
        "live_streams": live_streams,
        "rpc": rpc,
        "issuer": issuer,
        "telemetry": telemetry,
        "nats": nats,
        "authenticator": authenticator,
        "broker_watch": broker_watch,
        "demo_people_file": settings.demo_people_file,
        "mail_catcher_dir": settings.mail_catcher_dir,  # `up`'s mail catcher: the console shows what it caught
        SIGN_UPS_STATE_KEY: CodeAttempts(per_minute=settings.calendar_sign_ups_per_minute),  # the public calendar
    }
    app = Litestar(
        route_handlers=[
            health,
            root,
            api_index,
            referral_routes,
            *VOLUNTEER_CONTROLLERS,
            *COURSE_CONTROLLERS,
            *PURCHASING_CONTROLLERS,
            partner_routes,
            tenant_routes,
            partnership_routes,
            webhook_routes,
            api_key_routes,
            notice_routes,
            OverviewController,
            AnnualReportController,
            LiveController,
            *PARTICIPANT_CONTROLLERS,
            *CALENDAR_CONTROLLERS,
            *OPEN_DATA_CONTROLLERS,
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
        guards=[require_api_key_scope],
        after_request=add_etag,
        on_startup=[complete_openapi],
        exception_handlers=EXCEPTION_HANDLERS,
        lifespan=[connect_broker, probe_lifespan(settings.probe_port, nats_ready(lambda: nats))],
        state=State(state),
        openapi_config=openapi_config(),
        template_config=TEMPLATE_CONFIG,  # the console's, the calendar's and the participant's pages
        request_max_body_size=settings.max_body_bytes,
        # The root logger stays ours (JSON lines); Litestar's own logger propagates to it.
        logging_config=LoggingConfig(
            configure_root_logger=False, loggers={"litestar": {"level": "INFO", "propagate": True}}
        ),
    )
    # Around the exception handler, so that every request (an unknown route's too) gets its span and request id.
    app.asgi_handler = RequestMiddleware(
        app.asgi_handler,
        authenticator=authenticator,
        limiter=RateLimiter(settings.rate_limit_per_minute),
        idempotency=IdempotencyMiddleware(
            idempotency,
            secret=settings.jwt_secret,
            max_body_bytes=settings.max_body_bytes,
            wait_seconds=settings.rpc_timeout_seconds + 1,
        ),
        telemetry=telemetry,
        fast_reads=FastReads.from_app(app),
        fast_writes=FastWrites.from_app(app, max_body_bytes=settings.max_body_bytes),
        rpc=rpc,
    )
    return app
