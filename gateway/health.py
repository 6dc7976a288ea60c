"""Health: 200 only when every service answers and reaches its database."""

from __future__ import annotations

import asyncio
from typing import Any

import msgspec
from litestar import Response, get
from litestar.di import NamedDependency
from litestar.openapi.datastructures import ResponseSpec

from shared.errors import PartnernetError
from shared.messaging import SERVICES
from shared.operations import HealthCheck, health_of
from shared.rpc import RpcClient
from shared.tenancy import SYSTEM

HEALTH_TIMEOUT_SECONDS = 2.0


class ServiceHealth(msgspec.Struct, kw_only=True):
    status: str  # "up", "degraded" (no database) or "down"
    detail: str | None = None
    service: str | None = None
    database: bool | None = None
    relay_active: bool | None = None
    outbox_backlog: int | None = None


class PlatformHealth(msgspec.Struct, kw_only=True):
    status: str
    services: dict[str, ServiceHealth]


@get(
    "/health",
    summary="Whether every service answers",
    exclude_from_auth=True,
    tags=["operations"],
    responses={
        200: ResponseSpec(data_container=PlatformHealth, description="Every service answers and reaches its database"),
        503: ResponseSpec(data_container=PlatformHealth, description="A service is down or cannot reach its database"),
    },
)
async def health(rpc: NamedDependency[RpcClient]) -> Response[dict[str, Any]]:
    async def check(service: str) -> dict[str, Any]:
        try:
            answer = await rpc.call(health_of(service), SYSTEM, HealthCheck(), timeout=HEALTH_TIMEOUT_SECONDS)
        except PartnernetError as exc:
            return {"status": "down", "detail": exc.detail}
        status = "up" if answer.database else "degraded"
        return {"status": status, **msgspec.to_builtins(answer)}

    results = await asyncio.gather(*(check(service) for service in SERVICES))
    services = dict(zip(SERVICES, results, strict=True))
    healthy = all(result["status"] == "up" for result in results)
    return Response({"status": "up" if healthy else "down", "services": services}, status_code=200 if healthy else 503)
